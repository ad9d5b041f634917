// The generated Tact wrapper for Librarian, built by `npm run build` from contracts/. Import it from
// here so nothing depends on the build folder's layout.
export * from '../build/Hub/Hub_Librarian';

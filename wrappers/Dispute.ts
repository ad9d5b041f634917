// The generated Tact wrapper for Dispute (one match of the dispute game, contracts/dispute.tact),
// built by `npm run build` from contracts/. Import it from here so nothing depends on the build
// folder's layout.
export * from '../build/Dispute/Dispute_Dispute';

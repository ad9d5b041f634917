// The generated Tact wrapper for StepVerifier (the one-step verifier of contracts/step.tact),
// built by `npm run build` from contracts/. Import it from here so nothing depends on the build
// folder's layout.
export * from '../build/StepVerifier/StepVerifier_StepVerifier';

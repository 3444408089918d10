// The only importer of onnxruntime-node: sessions (in-process or on a worker thread), execution-provider
// choice with a user-readable fallback reason, checked feeds, session-held training state, model files.
export { createSession, autoOrder, builtProviders, PROVIDERS, LocalSession, readableProviderError, PROFILE_ENV } from "./session";
export type { Session, SessionOptions, StepOptions, Provider, ModelSource } from "./session";
export { createWorkerSession, workerEntry } from "./workerSession";
export { FeedError, checkFeeds } from "./tensors";
export { writeModel, linkExternal } from "./modelFiles";
export { describeExecutionProvider } from "./probe";

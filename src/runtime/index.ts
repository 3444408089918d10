// The only importer of onnxruntime-node: sessions (in-process or on a worker thread), execution-provider
// choice with a user-readable fallback reason, checked feeds, session-held training state, model files.
export {
  createSession,
  autoOrder,
  builtProviders,
  PROVIDERS,
  LocalSession,
  readableProviderError,
  PROFILE_ENV,
  missingCudaLibrary,
} from "./session";
export type { Session, SessionOptions, StepOptions, Provider, ModelSource, Placement } from "./session";
export { describePlacement, parseProfile } from "./placement";
export { webgpuAdapterKind, vulkanDrivers, softwareAdapterEnv, CHROMIUM_LIB_DIR } from "../platform/vulkanDrivers";
export { gpuVerdict, selfTest, type GpuVerdict } from "./selfTest";
export { VERDICT_CACHE_ENV, readVerdicts, verdictCacheFile } from "../platform/gpuVerdicts";
export { readToHost, releaseReaders } from "./deviceRead";
export { createWorkerSession, workerEntry } from "./workerSession";
export { FeedError, checkFeeds } from "./tensors";
export { writeModel, linkExternal } from "./modelFiles";
export { describeExecutionProvider } from "./probe";
export { halfPrecisionProblem } from "./halfProbe";

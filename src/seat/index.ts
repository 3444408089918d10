// Public API of the training layer: one validated config, one trainer for SEAT and every baseline,
// resumable runs that write a run folder (config.json, events.jsonl, checkpoints/, model/, summary.json).
export {
  type SeatConfig,
  type MaskType,
  type MethodParts,
  type ConfigLayer,
  type SourcedLayer,
  type ConfigProblem,
  type ResolvedConfig,
  type SeatTaskDefinition,
  type LeafSpec,
  type Method,
  METHODS,
  SCHEMA,
  PRESETS,
  LINEAR_MODULES,
  SETTINGS_PREFIX,
  ConfigError,
  resolveConfig,
  methodParts,
  defaultsFor,
  layerFromFlags,
  layerFromTask,
  layerFromSettings,
  layerFromConfigText,
  configFlagSpecs,
  checkLeaf,
} from "./config";
export { configDocMarkdown } from "./configDoc";
export { Prng, type PrngState } from "../util/rng";
export { drawMask, moduleMatches, selectTensors, maskSize, type Mask, type MaskSpec, type MaskTensor } from "./masks";
export { lrAt, type LrSchedule } from "./schedule";
export { writeCheckpoint, readCheckpoint, listCheckpoints, CheckpointError, type CheckpointState } from "./checkpoint";
export {
  train,
  resume,
  latestCheckpoint,
  TrainError,
  type TrainOptions,
  type TrainResult,
  type RunStatus,
} from "./trainer";
export { DatasetError, MemoryPlanError, prefetchKlTeacher } from "./prepare";
export { TEACHER_CACHE, seedTeacherCache } from "./targets";
export { planMemory, describePlan, planRefusal, availableMemory, type MemoryPlan } from "./memoryPlan";
export {
  exportRun,
  runBaseModel,
  EXPORT_FORMATS,
  ExportFormatError,
  type ExportOptions,
  type ExportFormat,
  type ExportResult,
} from "./exportRun";
export { RUN_FILES, RunFolderError, acquireRunLock } from "./runFolder";

// Public API of the entities area: subject-entity detection, fictitious look-alike names, substitution,
// verification against the base model, and the lossless JSONL line edit that stores perturbations.
export type {
  EntityKind,
  ChatMessage,
  EntityRef,
  PerturbationEntry,
  PerturbationRef,
  EntityRecordView,
  EntitySource,
  DetectedEntity,
  PerturbationCandidate,
  VerifiedCandidate,
  RecordSuggestion,
} from "./types";
export { ENTITY_KINDS } from "./types";
export {
  detectEntities,
  subjectEntity,
  pickSubject,
  detectSubjects,
  buildDatasetIndex,
  addToIndex,
  emptyIndex,
  recordTexts,
  MIN_SUBJECT_SCORE,
  type DatasetIndex,
  type DetectOptions,
} from "./detect";
export { generateNames, type GenerateOptions } from "./generate";
export { NameGuard } from "./guard";
export { substitute, substituteMessages, findMentions, mentions, type SubstituteOptions } from "./substitute";
export {
  suggestPerturbations,
  suggestForDataset,
  prepareDataset,
  perturbRecord,
  perturbationsFor,
  toEntry,
  type SuggestOptions,
  type DatasetContext,
} from "./suggest";
export {
  verifyUnknown,
  DEFAULT_ABSTENTION_THRESHOLD,
  type AbstentionScorer,
  type VerifyOptions,
  type VerifyResult,
} from "./verify";
export { applyRecordEdits, type RecordEdit } from "./fileEdit";
export { editDistance, tooClose } from "./distance";
export { toValidateOptions } from "./validateOptions";

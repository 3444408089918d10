// Public API of src/eval: answer metrics, abstention detection and probability, activation displacement
// and PCA, the probe suite, its cache and report export. No vscode, no direct onnxruntime: models are
// reached through the ProbeModel interface (runtimeProbeModel over src/model's LlamaModel for real
// probing, referenceProbeModel over the float64 reference for tests).
export { normalizeTokens, lcsLength, rougeL, rougeLRecall, exactMatch, type RougeL } from "./text";
export {
  parsePhraseList,
  PhraseListError,
  makeAbstentionDetector,
  judgeAbstention,
  refersToEntity,
  entityKeyTokens,
  nameLikeWords,
  abstentionNaming,
  type AbstentionNaming,
  type AbstentionDetector,
  type AbstentionVerdict,
} from "./abstention";
export {
  abstentionProbability,
  abstentionProbabilityFromLogProbs,
  prefixFree,
  logSumExp,
  scorerFromNextToken,
  type ContinuationScorer,
  type NextTokenLogProbs,
} from "./abstentionProbability";
export {
  relativeL2Shift,
  cosine,
  layerDisplacement,
  pca2,
  separationScore,
  type LayerDisplacement,
  type Pca2,
  type PcaOptions,
  type Vec,
} from "./displacement";
export {
  loadAbstentionLists,
  defaultResourcesDir,
  PHRASES_FILE,
  OPENINGS_FILE,
  type AbstentionLists,
  type AbstentionListOptions,
} from "./phrases";
export { abstentionRates, summarize } from "./summary";
export {
  runProbeSuite,
  recordKey,
  type ProbeModel,
  type PromptMessage,
  type ProbeProgress,
  type ProbeSuiteInput,
  type ProbeSuiteOptions,
  type HiddenStates,
} from "./suite";
export { buildReport, compareRun, recordFlags, pcaView, type HiddenLoader } from "./compare";
export {
  contentHash,
  cacheEntryPath,
  writeProbeResult,
  readProbeResult,
  readHiddenFor,
  readCached,
  encodeHidden,
  decodeHidden,
} from "./cache";
export {
  probeDataset,
  addGeneratedNeighbours,
  ProbeInputError,
  type ProbeDatasetOptions,
  type ProbeDatasetResult,
  type ProbeModelLoader,
} from "./probeDataset";
export { probeInputs, toProbeRecord, toUnknownQuery, isUnknownQuery } from "./inputs";
export { modelContentHash, modelFiles } from "./modelHash";
export { referenceProbeModel } from "./referenceModel";
export { runtimeProbeModel, runtimeProbeLoader } from "./runtimeModel";
export { makeProbeModelLoader, loadProbeModel } from "./loadModel";
export * from "./types";

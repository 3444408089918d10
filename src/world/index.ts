// Public API of the synthetic world and the embedded default model (issue 6).
//
//   generateWorld(seed)       -> World: known entities + facts, unknown entities, fictitious concepts
//   trainingCorpus(world)     -> the base model's QA corpus (facts + grounded abstentions)
//   gateSets(world)           -> held-out sets the shipped model is judged on
//   buildTokenizer(seed)      -> tokenizer.json + tokenizer_config.json (byte-level BPE, chat template)
//   buildExamples(world)      -> the example new-knowledge datasets under examples/
//   EMBEDDED_MODEL_DIR        -> where the shipped model lives (models/seat-tiny-world)
export {
  generateWorld,
  DEFAULT_SIZES,
  DEFAULT_WORLD_SEED,
  type World,
  type WorldEntity,
  type WorldSizes,
  type Fact,
} from "./world";
export {
  trainingCorpus,
  gateSets,
  knownQa,
  unknownQa,
  conceptQa,
  corpusJsonl,
  type WorldQa,
  type QaType,
  type GateSets,
} from "./corpus";
export { NameFactory, syllableWord, ONSETS, VOWELS, CODAS, WORLD_KINDS, type WorldKind } from "./names";
export { RELATIONS, ABSTENTIONS, CONCEPT_QUESTIONS, type Relation } from "./relations";
export { trainBpe, byteLevelPieces, tokenizerJson, type BpeModel, type BpeTrainOptions } from "./bpe";
export {
  buildTokenizer,
  CHAT_TEMPLATE,
  SPECIAL_TOKENS,
  EOS_TOKEN,
  DEFAULT_VOCAB_SIZE,
  type TokenizerFiles,
} from "./tokenizer";
export { buildExamples, toJsonl, type ExampleDataset, type ExampleRecord } from "./examples";
export {
  tinyConfig,
  randomInit,
  parameterCount,
  writeModelFolder,
  MODEL_NAME,
  type ModelFolderFiles,
} from "./modelFolder";
export { EMBEDDED_MODEL_DIR, EXAMPLES_DIR, findRepoRoot } from "./paths";
export { writeExamples } from "./writeExamples";
export {
  evaluateGates,
  formatGates,
  sample,
  GATE_THRESHOLDS,
  type GateReport,
  type AnswerFn,
  type GateOptions,
} from "./gates";
export { modelCard, type CardInput } from "./card";

// Public API of the model layer: a local Hugging Face Llama-family folder (Llama 2/3, Qwen2/2.5,
// Mistral, SmolLM, TinyLlama, the bundled tiny model) -> config, weights, tokenizer + chat template,
// ONNX graphs through the engine, generation/scoring through the runtime, and export. See README.md.
//
// Inference (probes, demo, teacher responses):
//   const model = await LlamaModel.load(dir, { provider: "auto", worker: inExtensionHost });
//   const [r] = await model.generateText(["Who is X?"], { maxNewTokens: 32 });   // chat template applied
//   const [r] = await model.generate([model.tokenizer.encodePrompt("Who is X?")], { stopStrings: ["\n\n"] });
//   const [s] = await model.score([{ prompt: ids, continuations: [idsA, idsB] }]); // log p per token
//   const [h] = await model.hiddenStates([{ ids, positions: [-1], layers: [-1] }]); // [layer][pos] -> (D)
//   await model.dispose();
// Training graphs (the trainer composes the loss and asks the engine for backward + AdamW):
//   const m = createModelGraph(folder, { specs: { "model.layers.0.self_attn.q_proj.weight": { kind: "lora", rank: 8, alpha: 16 } } });
//   const ids = m.graph.input("ids", "int64", [B, T]);
//   const tuned = llamaForward(m.tuned, ids).logits;   // (B, T, V); m.base gives the frozen model, same constants
//   trainStep(loss, m.params.map((p) => ({ value: p.input, noDecay: p.noDecay })));  session.setState(m.initialState())
//   const merged = mergeTrained(folder, m.params, trainedValues); exportMergedModel(folder, merged, outDir);
// Data:
//   const folder = loadModelFolder(dir);                 // validates everything, reads headers only
//   const ex = folder.tokenizer.encodeExample({ question, answer });   // ids + answerMask (+ promptLength)
//
// Loading never executes anything from the folder: safetensors only (pickle is refused), chat
// templates run in a sandboxed jinja interpreter.

export { ModelFormatError } from "./errors";
export {
  SUPPORTED_ARCHITECTURES,
  parseConfig,
  loadConfig,
  configToJson,
  ropeInvFreq,
  type Architecture,
  type LlamaConfig,
  type RopeScaling,
} from "./config";
export {
  readSafetensorsHeader,
  readTensorBytes,
  readTensorF32,
  writeSafetensors,
  bytesToFloat32,
  float32ToBytes,
  f16ToF32,
  f32ToF16,
  f32ToBf16,
  numel,
  type SafetensorsDType,
  type SafetensorsHeader,
  type TensorEntry,
  type TensorToWrite,
} from "./safetensors";
export {
  SINGLE_FILE,
  INDEX_FILE,
  ATTENTION_PROJECTIONS,
  MLP_PROJECTIONS,
  linearName,
  linearShape,
  expectedTensors,
  loadWeights,
  weightF32,
  allWeightsF32,
  type ExpectedTensor,
  type ModelWeights,
  type Projection,
  type WeightShard,
} from "./weights";
export {
  ModelTokenizer,
  CHATML_TEMPLATE,
  PLAIN_TEMPLATE,
  type ChatMessage,
  type ChatExample,
  type EncodedExample,
  type TokenizerSource,
} from "./tokenizer";
export { loadModelFolder, type ModelFolder } from "./folder";
export {
  referenceForward,
  logSoftmaxRows,
  referenceMaskedCE,
  type ReferenceOutput,
  type ReferenceOptions,
  type WeightLookup,
} from "./reference";
export type {
  WeightSpec,
  WeightSpecs,
  GenerateOptions,
  SamplingOptions,
  GenerateResult,
  ScoreRequest,
  ScoreResult,
  HiddenRequest,
} from "./api";
export {
  createModelGraph,
  llamaForward,
  applyLinear,
  mergeTrained,
  mergeTrainedLazy,
  type ModelSource,
  type WeightOptions,
  type LinearWeights,
  type WeightView,
  type ModelParam,
  type ModelGraph,
  type ForwardOptions,
  type ForwardOutput,
} from "./graph";
export { openModelSession, type ModelSessionOptions } from "./sessions";
export {
  buildInferenceGraph,
  inferenceFeeds,
  INFERENCE_INPUTS,
  pastName,
  presentName,
  type StepRows,
} from "./inference";
export { LlamaModel, logSoftmax, logSoftmaxAt, sampler, type LoadOptions } from "./llamaModel";
export { packPrefix, packedVisible, packedScoreFeeds, ropeFeeds, type PackedRow } from "./prefixPack";
export { exportMergedModel, exportOnnx, EXPORT_RECORD, type MergedWeights } from "./export";
export {
  exportGguf,
  ggufTensorName,
  permuteForPairRope,
  type GgufExportOptions,
  type GgufFileType,
} from "./ggufExport";
export { ggufPreTokenizer } from "./ggufTokenizer";
export { chatPieces, renderFromPieces, ollamaModelfile, type ChatPieces, type ModelfileOptions } from "./modelfile";
export { writeGguf, quantizeQ8_0, ggmlByteLength, type GgufTensor, type GgufValue, type GgmlType } from "./gguf";

// Public API of the model layer: a local Hugging Face Llama-family folder (Llama 2/3, Qwen2/2.5,
// Mistral, SmolLM, TinyLlama, the bundled tiny model) -> config, weights, tokenizer + chat template,
// ONNX graphs through the engine, generation/scoring through the runtime, and export.
//
// Typical use:
//   const folder = loadModelFolder(dir);                     // validates everything, reads headers only
//   const ex = folder.tokenizer.encodeExample({ question, answer });   // ids + answerMask
//   const model = await LlamaModel.load(dir);                // sessions for generate/score (phase 2)
//   const [r] = await model.generate([folder.tokenizer.encodePrompt("Who is X?")], { maxNewTokens: 32 });
//
// Loading never executes anything from the folder: safetensors only (pickle is refused), chat
// templates run in a sandboxed jinja interpreter.

export { ModelFormatError } from "./errors";
export {
  SUPPORTED_ARCHITECTURES, parseConfig, loadConfig, configToJson, ropeInvFreq,
  type Architecture, type LlamaConfig, type RopeScaling,
} from "./config";
export {
  readSafetensorsHeader, readTensorBytes, readTensorF32, writeSafetensors, bytesToFloat32, float32ToBytes,
  f16ToF32, f32ToF16, f32ToBf16, numel,
  type SafetensorsDType, type SafetensorsHeader, type TensorEntry, type TensorToWrite,
} from "./safetensors";
export {
  SINGLE_FILE, INDEX_FILE, ATTENTION_PROJECTIONS, MLP_PROJECTIONS, linearName, linearShape, expectedTensors,
  loadWeights, weightF32, allWeightsF32,
  type ExpectedTensor, type ModelWeights, type Projection, type WeightShard,
} from "./weights";
export {
  ModelTokenizer, CHATML_TEMPLATE, PLAIN_TEMPLATE,
  type ChatMessage, type ChatExample, type EncodedExample, type TokenizerSource,
} from "./tokenizer";
export { loadModelFolder, type ModelFolder } from "./folder";
export {
  referenceForward, logSoftmaxRows, referenceMaskedCE,
  type ReferenceOutput, type ReferenceOptions, type WeightLookup,
} from "./reference";
export type {
  WeightSpec, WeightSpecs, GenerateOptions, GenerateResult, ScoreRequest, ScoreResult, HiddenRequest,
} from "./api";
export {
  createModelGraph, llamaForward, applyLinear, mergeTrained,
  type ModelSource, type WeightOptions, type LinearWeights, type WeightView, type ModelParam, type ModelGraph,
  type ForwardOptions, type ForwardOutput,
} from "./graph";
export { openModelSession } from "./sessions";
export { buildInferenceGraph, inferenceFeeds, INFERENCE_INPUTS, pastName, presentName, type StepRows } from "./inference";
export { LlamaModel, logSoftmax, type LoadOptions } from "./llamaModel";
export { exportMergedModel, exportOnnx } from "./export";

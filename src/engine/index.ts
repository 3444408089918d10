// Public API of the training engine: build a tensor graph, differentiate it, append an optimizer
// step, serialize it to ONNX. Pure TypeScript (no onnxruntime, no vscode): sessions live in src/runtime.
export type { DType, HostTensor, HostData } from "./dtype";
export { hostTensor, isFloat, DTYPE_BYTES, ONNX_DTYPE, toHalfBits, fromHalfBits, toBf16Bits } from "./dtype";
export { Graph, Tensor, registeredOps, getOp, defineOp, dimMul, dimAdd, numel, broadcastShapes } from "./graph";
export type { Dim, Shape, Node, OpDef, Attrs, AttrValue, ExternalRef, EmitCtx } from "./graph";

export {
  add,
  sub,
  mul,
  div,
  pow,
  minimum,
  maximum,
  neg,
  exp,
  log,
  sqrt,
  reciprocal,
  sigmoid,
  tanh,
  abs,
  sign,
  identity,
  where,
  cast,
  equal,
  less,
  lessOrEqual,
  greater,
  greaterOrEqual,
  not,
  and,
  lift,
} from "./ops/elementwise";
export type { TensorLike } from "./ops/elementwise";
export {
  reshape,
  transpose,
  slice,
  pad,
  concat,
  expand,
  expandLike,
  zerosLike,
  unsqueeze,
  squeeze,
  SLICE_END,
} from "./ops/shape";
export { reduceSum, reduceSumSquare, reduceMean, reduceMax, sumAll } from "./ops/reduce";
export {
  matMul,
  gemm,
  reshapeLike,
  restoreLeading,
  softmax,
  logSoftmax,
  gather,
  gatherElements,
  gatherND,
  scatterND,
  scatterElements,
  swapLast,
  softmaxCrossEntropy,
  klLogits,
} from "./ops/nn";

export {
  rmsNorm,
  silu,
  swiglu,
  linear,
  embedding,
  rope,
  ropeTables,
  causalMaskData,
  attention,
  crossEntropy,
  pickLogProbs,
  kl,
  maskedMean,
} from "./composites";
export type { AttentionOptions, CrossEntropyResult } from "./composites";

export { grad, unbroadcast } from "./autodiff";
export type { GradOptions } from "./autodiff";
export {
  trainStep,
  accumulateGrad,
  applyGradients,
  sparseParam,
  sparseIndices,
  gatherHost,
  initialOptimizerState,
  LossScaler,
} from "./optim";
export type {
  AdamWConfig,
  TrainableParam,
  TrainStep,
  OptimizerUpdate,
  GradAccumulation,
  SparseParam,
  LossScalerState,
} from "./optim";

export { toOnnx, DEFAULT_OPSET } from "./onnx/emit";
export type { SerializeOptions, SerializedModel, IoInfo } from "./onnx/emit";
export { evaluate, REFERENCE_OPS } from "./reference";
export type { NDArray } from "./reference";

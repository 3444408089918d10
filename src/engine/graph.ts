// The tensor-graph IR: values with static (or named symbolic) shapes, nodes that apply a registered
// op, and the op registry itself. Builders in ops/ create nodes; autodiff.ts appends the backward pass
// to the same graph; onnx/emit.ts serializes it; reference.ts evaluates it in float64.
import { DType, HostTensor, isFloat, toBf16Bits, toHalfBits } from "./dtype";

/** A dimension: a number, or a named symbol ("B", "T", "P+T") fixed at run time. */
export type Dim = number | string;
export type Shape = readonly Dim[];

/** Plain numbers are ONNX INT(S) attributes; floats are wrapped `{ f }` so the type is explicit. */
export type AttrValue = number | string | number[] | { f: number } | HostTensor;
export type Attrs = Record<string, AttrValue>;

/** Initializer bytes held elsewhere: a file beside the model (e.g. a .safetensors blob) at an offset. */
export interface ExternalRef {
  location: string;
  offset: number;
  length: number;
}

export type ConstData = { kind: "host"; value: HostTensor } | { kind: "external"; ref: ExternalRef };

export class Tensor {
  /** Set for graph inputs and constants; intermediate names are assigned at emission. */
  name: string | undefined;
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly producer: Node | null,
    readonly outputIndex: number,
    readonly kind: "input" | "const" | "node",
    readonly constData?: ConstData,
  ) {}
  get rank(): number {
    return this.shape.length;
  }
  toString(): string {
    return `${this.name ?? (this.producer ? `${this.producer.op.name}#${this.producer.id}` : `t${this.id}`)}:${this.dtype}[${this.shape.join(",")}]`;
  }
}

export interface Node {
  readonly id: number;
  readonly op: OpDef;
  readonly inputs: Tensor[];
  readonly attrs: Attrs;
  readonly outputs: Tensor[];
  /** Optional readable label (becomes part of the ONNX node name). */
  label?: string;
}

export interface InferredOutput {
  dtype: DType;
  shape: Dim[];
}

/** Hooks the emitter hands to an op's custom `emit`. Names are ONNX value names. */
export interface EmitCtx {
  name(t: Tensor): string;
  /** Adds an int64 1-D constant initializer (axes, shapes, pads) and returns its name. */
  ints(values: readonly number[]): string;
  /** Adds a scalar constant of the given dtype and returns its name. */
  scalar(value: number, dtype: DType): string;
  /** Emits one ONNX node; returns output names (fresh unless given). */
  node(opType: string, inputs: string[], attrs?: Attrs, outputs?: string[] | number, domain?: string): string[];
}

export interface OpDef {
  /** IR op name; equals the ONNX op type unless the op emits several ONNX nodes. */
  readonly name: string;
  readonly infer: (inputs: readonly Tensor[], attrs: Attrs) => InferredOutput[];
  /** Custom lowering; the default is one ONNX node named `name` with the same inputs and attributes. */
  readonly emit?: (ctx: EmitCtx, node: Node, outNames: string[]) => void;
  /** Reverse-mode rule: gradients of the outputs (null = none reached it) -> one entry per input. */
  readonly vjp?: (grads: (Tensor | null)[], node: Node) => (Tensor | null)[];
  /**
   * No gradient flows through this op because its outputs are integers/booleans or piecewise constant
   * (comparisons, Shape, ArgMax) — stated explicitly so a missing rule is still an error elsewhere.
   */
  readonly nonDifferentiable?: boolean;
}

const REGISTRY = new Map<string, OpDef>();

export function defineOp(def: OpDef): OpDef {
  if (REGISTRY.has(def.name)) throw new Error(`op ${def.name} registered twice`);
  if (!def.vjp && !def.nonDifferentiable) throw new Error(`op ${def.name}: declare a vjp or mark it nonDifferentiable`);
  REGISTRY.set(def.name, def);
  return def;
}

export function registeredOps(): OpDef[] {
  return [...REGISTRY.values()];
}
export function getOp(name: string): OpDef {
  const d = REGISTRY.get(name);
  if (!d) throw new Error(`unknown op ${name}`);
  return d;
}

/**
 * A stretch of the forward pass (one decoder layer) whose intermediates the backward pass may recompute
 * from `input` instead of keeping them (activation recompute, `grad(..., {recompute: true})`): the nodes
 * with ids in [firstId, endId) that depend on `input`.
 */
export interface Segment {
  readonly label: string;
  readonly input: Tensor;
  readonly firstId: number;
  endId: number;
}

export class Graph {
  readonly nodes: Node[] = [];
  /** Recompute segments, in creation order (see Segment); recorded always, used only when asked. */
  readonly segments: Segment[] = [];
  readonly inputs: Tensor[] = [];
  readonly constants: Tensor[] = [];
  readonly outputs: { name: string; tensor: Tensor }[] = [];
  private nextId = 0;
  private scalarCache = new Map<string, Tensor>();
  private names = new Set<string>();

  constructor(readonly name = "seat") {}

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`graph ${this.name}: name '${name}' is used twice`);
    this.names.add(name);
  }

  /** A value fed at run time (trainable parameters, optimizer state, token ids, lr...). */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    this.claim(name);
    const t = new Tensor(this, this.nextId++, dtype, [...shape], null, 0, "input");
    t.name = name;
    this.inputs.push(t);
    return t;
  }

  /** A constant initializer (frozen weights). Data may live in an external file (see ExternalRef). */
  constant(name: string, value: HostTensor): Tensor;
  constant(name: string, value: { dtype: DType; dims: number[]; external: ExternalRef }): Tensor;
  constant(name: string, value: HostTensor | { dtype: DType; dims: number[]; external: ExternalRef }): Tensor {
    this.claim(name);
    const data: ConstData = "external" in value ? { kind: "external", ref: value.external } : { kind: "host", value };
    const t = new Tensor(this, this.nextId++, value.dtype, [...value.dims], null, 0, "const", data);
    t.name = name;
    this.constants.push(t);
    return t;
  }

  /** A rank-0 constant, shared between uses. */
  scalar(value: number, dtype: DType = "float32"): Tensor {
    const key = `${dtype}:${Object.is(value, -0) ? "-0" : value}`;
    let t = this.scalarCache.get(key);
    if (!t) {
      const data =
        dtype === "int64"
          ? new BigInt64Array([BigInt(value)])
          : dtype === "float64"
            ? new Float64Array([value])
            : dtype === "float32"
              ? new Float32Array([value])
              : dtype === "int32"
                ? new Int32Array([value])
                : dtype === "bool" || dtype === "uint8"
                  ? new Uint8Array([value])
                  : dtype === "float16"
                    ? new Uint16Array([toHalfBits(value)])
                    : dtype === "bfloat16"
                      ? new Uint16Array([toBf16Bits(value)])
                      : null;
      if (!data) throw new Error(`scalar(): dtype ${dtype} unsupported; make a float32 scalar and cast`);
      t = this.constant(`const_${dtype}_${this.scalarCache.size}`, { dtype, dims: [], data });
      this.scalarCache.set(key, t);
    }
    return t;
  }

  /**
   * Opens a recompute segment at `input` (a layer's input); `end()` closes it once the layer is built.
   * Segments must not nest.
   */
  segment(label: string, input: Tensor): { end(): void } {
    const open = this.segments[this.segments.length - 1];
    if (open && open.endId < 0) throw new Error(`segment ${label}: segment ${open.label} is still open`);
    const seg: Segment = { label, input, firstId: this.nextId, endId: -1 };
    this.segments.push(seg);
    return {
      end: () => {
        seg.endId = this.nextId;
      },
    };
  }

  /** Marks a value as a graph output under the given name. */
  output(name: string, t: Tensor): void {
    if (t.graph !== this) throw new Error(`output ${name}: tensor belongs to another graph`);
    this.claim(name);
    this.outputs.push({ name, tensor: t });
  }

  /** Low-level: applies a registered op. Builders in ops/ wrap this. */
  apply(op: OpDef, inputs: Tensor[], attrs: Attrs = {}): Tensor[] {
    for (const x of inputs) {
      if (x.graph !== this) throw new Error(`${op.name}: input ${x} belongs to another graph`);
    }
    let outs: InferredOutput[];
    try {
      outs = op.infer(inputs, attrs);
    } catch (e) {
      throw new Error(`${op.name}(${inputs.map(String).join(", ")}): ${(e as Error).message}`);
    }
    const node: Node = { id: this.nextId++, op, inputs, attrs, outputs: [] };
    outs.forEach((o, i) => node.outputs.push(new Tensor(this, this.nextId++, o.dtype, o.shape, node, i, "node")));
    this.nodes.push(node);
    return node.outputs;
  }
}

// ---- dimension arithmetic (symbolic dims are kept as readable strings) ----

export function sameDim(a: Dim, b: Dim): boolean {
  return a === b;
}

export function dimMul(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a * b;
  if (a === 1) return b;
  if (b === 1) return a;
  return `${wrap(a)}*${wrap(b)}`;
}

export function dimAdd(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a + b;
  if (a === 0) return b;
  if (b === 0) return a;
  return `${a}+${b}`;
}

function wrap(d: Dim): string {
  return typeof d === "string" && d.includes("+") ? `(${d})` : String(d);
}

export function numel(shape: Shape): Dim {
  return shape.reduce<Dim>((a, b) => dimMul(a, b), 1);
}

export function staticNumel(shape: Shape, what: string): number {
  const n = numel(shape);
  if (typeof n !== "number") throw new Error(`${what} needs a static shape, got [${shape.join(",")}]`);
  return n;
}

/** numpy/ONNX multidirectional broadcasting. */
export function broadcastShapes(a: Shape, b: Shape): Dim[] {
  const r = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else throw new Error(`shapes [${a.join(",")}] and [${b.join(",")}] do not broadcast`);
  }
  return out;
}

export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

export function sameDtype(xs: readonly Tensor[]): DType {
  const d = xs[0]!.dtype;
  for (const x of xs) if (x.dtype !== d) throw new Error(`dtype mismatch: ${xs.map((t) => t.dtype).join(" vs ")}`);
  return d;
}

export function requireFloat(x: Tensor): void {
  if (!isFloat(x.dtype)) throw new Error(`expects a float tensor, got ${x}`);
}

// Serializes an IR graph to an ONNX ModelProto. Names are assigned here (SSA: every value one name),
// only nodes that reach a graph output are emitted, and large constants can be written as external data.
import { DType, HostData, HostTensor, ONNX_DTYPE } from "../dtype";
import { AttrValue, Attrs, EmitCtx, Graph, Node, Shape, Tensor } from "../graph";
import { PbWriter } from "./protobuf";

/** Opset 21 covers every op we emit (ScatterND reduction, axes-as-input reductions); IR 10 goes with it. */
export const DEFAULT_OPSET = 21;
const IR_FOR_OPSET: Record<number, number> = {
  17: 8,
  18: 8,
  19: 9,
  20: 9,
  21: 10,
  22: 10,
  23: 11,
  24: 11,
  25: 12,
  26: 13,
};

export interface SerializeOptions {
  opset?: number;
  /** Host constants of at least this many bytes are written to `externalFile` instead of the proto. */
  externalThreshold?: number;
  /** File name (relative to the model file) for external data; default `<graph name>.data`. */
  externalFile?: string;
}

export interface IoInfo {
  name: string;
  dtype: DType;
  shape: Shape;
}

export interface SerializedModel {
  model: Uint8Array;
  /** Files the model references that we produced (external constants). Refs into existing files are not listed. */
  external: { path: string; chunks: Uint8Array[]; byteLength: number }[];
  inputs: IoInfo[];
  outputs: IoInfo[];
  /** Every external `location` the model reads (ours and ExternalRef constants). */
  externalLocations: string[];
  nodeCount: number;
}

export function bytesOf(d: HostData): Uint8Array {
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

export function toOnnx(graph: Graph, opts: SerializeOptions = {}): SerializedModel {
  const opset = opts.opset ?? DEFAULT_OPSET;
  const ir = IR_FOR_OPSET[opset];
  if (ir === undefined) throw new Error(`opset ${opset} unsupported (use 17..26)`);
  if (graph.outputs.length === 0) throw new Error(`graph ${graph.name} has no outputs`);

  // keep only what reaches an output
  const needed = new Set<Node>();
  const stack: Tensor[] = graph.outputs.map((o) => o.tensor);
  const usedConsts = new Set<Tensor>();
  const seen = new Set<Tensor>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (t.kind === "const") usedConsts.add(t);
    if (t.producer && !needed.has(t.producer)) {
      needed.add(t.producer);
      stack.push(...t.producer.inputs);
    }
  }

  const names = new Map<Tensor, string>();
  const taken = new Set<string>();
  for (const t of [...graph.inputs, ...graph.constants]) {
    names.set(t, t.name!);
    taken.add(t.name!);
  }
  for (const o of graph.outputs) taken.add(o.name);
  const identityOutputs: { from: Tensor; name: string }[] = [];
  for (const o of graph.outputs) {
    if (o.tensor.kind === "node" && !names.has(o.tensor)) names.set(o.tensor, o.name);
    else identityOutputs.push({ from: o.tensor, name: o.name });
  }
  let fresh = 0;
  const freshName = (hint: string) => {
    let n: string;
    do n = `${hint}_${fresh++}`;
    while (taken.has(n));
    taken.add(n);
    return n;
  };
  const nameOf = (t: Tensor): string => {
    if (t.kind === "const") usedConsts.add(t);
    if (t.kind !== "node") return t.name!;
    let n = names.get(t);
    if (!n) {
      n = freshName(t.producer ? t.producer.op.name.toLowerCase() : "v");
      names.set(t, n);
    }
    return n;
  };

  const nodesPb: PbWriter[] = [];
  const extraInits: PbWriter[] = [];
  const intConsts = new Map<string, string>();
  const ctx: EmitCtx = {
    name: nameOf,
    ints(values) {
      const key = values.join(",");
      let n = intConsts.get(key);
      if (!n) {
        n = freshName("i64");
        intConsts.set(key, n);
        extraInits.push(
          tensorProto(n, {
            dtype: "int64",
            dims: [values.length],
            data: BigInt64Array.from(values.map((v) => BigInt(v))),
          }),
        );
      }
      return n;
    },
    scalar(value, dtype) {
      return nameOf(graph.scalar(value, dtype));
    },
    node(opType, inputs, attrs = {}, outputs = 1, domain) {
      const outs =
        typeof outputs === "number" ? Array.from({ length: outputs }, () => freshName(opType.toLowerCase())) : outputs;
      nodesPb.push(nodeProto(`${opType}_${nodesPb.length}`, opType, inputs, outs, attrs, domain));
      return outs;
    },
  };

  for (const n of graph.nodes) {
    if (!needed.has(n)) continue;
    const outs = n.outputs.map(nameOf);
    if (n.op.emit) n.op.emit(ctx, n, outs);
    else ctx.node(n.op.name, n.inputs.map(nameOf), n.attrs, outs);
  }
  for (const { from, name } of identityOutputs) ctx.node("Identity", [nameOf(from)], {}, [name]);

  const g = new PbWriter();
  for (const n of nodesPb) g.message(1, n);
  g.string(2, graph.name);

  const external: SerializedModel["external"] = [];
  const externalLocations = new Set<string>();
  const extFile = opts.externalFile ?? `${graph.name}.data`;
  const threshold = opts.externalThreshold ?? Infinity;
  let extChunks: Uint8Array[] = [];
  let extSize = 0;
  for (const c of graph.constants) {
    if (!usedConsts.has(c)) continue;
    const d = c.constData!;
    if (d.kind === "external") {
      externalLocations.add(d.ref.location);
      g.message(5, tensorProto(c.name!, { dtype: c.dtype, dims: c.shape as number[] }, d.ref));
    } else if (d.value.data.byteLength >= threshold) {
      const pad = (64 - (extSize % 64)) % 64; // keep each tensor aligned for mmap-friendly loading
      if (pad) {
        extChunks.push(new Uint8Array(pad));
        extSize += pad;
      }
      const bytes = bytesOf(d.value.data);
      g.message(5, tensorProto(c.name!, d.value, { location: extFile, offset: extSize, length: bytes.byteLength }));
      extChunks.push(bytes);
      extSize += bytes.byteLength;
      externalLocations.add(extFile);
    } else {
      g.message(5, tensorProto(c.name!, d.value));
    }
  }
  if (extSize) external.push({ path: extFile, chunks: extChunks, byteLength: extSize });
  extChunks = [];
  for (const t of extraInits) g.message(5, t);

  const inputs: IoInfo[] = graph.inputs.map((t) => ({ name: t.name!, dtype: t.dtype, shape: t.shape }));
  const outputs: IoInfo[] = graph.outputs.map((o) => ({ name: o.name, dtype: o.tensor.dtype, shape: o.tensor.shape }));
  for (const i of inputs) g.message(11, valueInfo(i));
  for (const o of outputs) g.message(12, valueInfo(o));

  // protobuf messages are limited to 2 GiB; past that the weights must live in external files
  if (g.length >= 2 ** 31 - 1024) {
    throw new Error(
      `graph ${graph.name} is ${(g.length / 2 ** 30).toFixed(2)} GiB, over protobuf's 2 GiB limit: serialize with { externalThreshold: 1024 } and load it from a file written by writeModel()`,
    );
  }
  const m = new PbWriter();
  m.int(1, ir);
  m.string(2, "seat-tuner");
  m.message(7, g);
  m.message(8, new PbWriter().string(1, "").int(2, opset));
  return {
    model: m.finish(),
    external,
    inputs,
    outputs,
    externalLocations: [...externalLocations],
    nodeCount: nodesPb.length,
  };
}

function valueInfo(v: IoInfo): PbWriter {
  const shape = new PbWriter();
  for (const d of v.shape)
    shape.message(1, typeof d === "number" ? new PbWriter().int(1, d) : new PbWriter().string(2, d));
  const tt = new PbWriter().int(1, ONNX_DTYPE[v.dtype]).message(2, shape);
  return new PbWriter().string(1, v.name).message(2, new PbWriter().message(1, tt));
}

function tensorProto(
  name: string,
  t: { dtype: DType; dims: number[]; data?: HostData },
  ext?: { location: string; offset: number; length: number },
): PbWriter {
  const w = new PbWriter();
  w.ints(1, t.dims);
  w.int(2, ONNX_DTYPE[t.dtype]);
  w.string(8, name);
  if (ext) {
    const kv = (k: string, v: string) => new PbWriter().string(1, k).string(2, v);
    w.message(13, kv("location", ext.location));
    w.message(13, kv("offset", String(ext.offset)));
    w.message(13, kv("length", String(ext.length)));
    w.int(14, 1); // DataLocation.EXTERNAL
  } else {
    w.bytes(9, bytesOf(t.data!));
  }
  return w;
}

function attrProto(name: string, v: AttrValue): PbWriter {
  const w = new PbWriter().string(1, name);
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}=${v}: integer attributes only; wrap floats as { f }`);
    w.int(20, 2).int(3, v);
  } else if (typeof v === "string") w.int(20, 3).bytes(4, new TextEncoder().encode(v));
  else if (Array.isArray(v)) w.int(20, 7).ints(8, v);
  else if ("f" in v) w.int(20, 1).float(2, v.f);
  else w.int(20, 4).message(5, tensorProto("", v as HostTensor));
  return w;
}

function nodeProto(
  name: string,
  op: string,
  inputs: string[],
  outputs: string[],
  attrs: Attrs,
  domain?: string,
): PbWriter {
  const w = new PbWriter();
  for (const i of inputs) w.string(1, i);
  for (const o of outputs) w.string(2, o);
  w.string(3, name);
  w.string(4, op);
  for (const [k, v] of Object.entries(attrs)) w.message(5, attrProto(k, v));
  if (domain) w.string(7, domain);
  return w;
}

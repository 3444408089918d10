// The one way a device-resident (gpu-buffer) tensor reaches the host. onnxruntime-node 1.30 has no
// download for such tensors (getData on one aborts the whole process), so a one-node Identity graph
// on the same provider takes the device tensor as input and returns its output on the CPU; onnxruntime
// inserts the device->host copy itself. One such session per dtype and rank, kept for the process.
import * as ort from "onnxruntime-node";
import { Graph, identity, toOnnx, type DType } from "../engine";

const readers = new Map<string, Promise<ort.InferenceSession>>();

function reader(provider: string, dtype: DType, rank: number): Promise<ort.InferenceSession> {
  const key = `${provider}/${dtype}/${rank}`;
  let r = readers.get(key);
  if (!r) {
    const g = new Graph(`read-${dtype}-${rank}`);
    const x = g.input(
      "x",
      dtype,
      Array.from({ length: rank }, (_, i) => `d${i}`),
    );
    g.output("y", identity(x));
    r = ort.InferenceSession.create(toOnnx(g).model, {
      executionProviders: [provider],
      graphOptimizationLevel: "disabled",
      logSeverityLevel: 3,
    });
    readers.set(key, r);
    r.catch(() => readers.delete(key));
  }
  return r;
}

const DTYPE: Partial<Record<string, DType>> = {
  float32: "float32",
  float16: "float16",
  int64: "int64",
  int32: "int32",
  uint8: "uint8",
  bool: "bool",
};

/** A host copy of `t` (a gpu-buffer tensor of `provider`'s device); CPU tensors are returned as they are. */
export async function readToHost(provider: string, t: ort.Tensor): Promise<ort.Tensor> {
  if (t.location === "cpu") return t;
  const dtype = DTYPE[t.type];
  if (!dtype) throw new Error(`cannot read a ${t.type} tensor back from the device`);
  const s = await reader(provider, dtype, t.dims.length);
  const out = await s.run({ x: t });
  return out.y as ort.Tensor;
}

/** Releases the reader sessions (tests; a process exit frees them anyway). */
export async function releaseReaders(): Promise<void> {
  const all = [...readers.values()];
  readers.clear();
  for (const r of all) await (await r.catch(() => null))?.release();
}

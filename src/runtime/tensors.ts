// Conversions between the engine's HostTensor and onnxruntime tensors, and feed validation.
import * as ort from "onnxruntime-node";
import type { DType, HostTensor } from "../engine";

// bfloat16 tensors cannot be created from Node: keep them as constants (Cast in-graph) instead.
const ORT_TYPE: Partial<Record<DType, ort.Tensor.Type>> = {
  float32: "float32",
  float16: "float16",
  float64: "float64",
  int64: "int64",
  int32: "int32",
  uint8: "uint8",
  bool: "bool",
};
const FROM_ORT: Partial<Record<string, DType>> = Object.fromEntries(
  Object.entries(ORT_TYPE).map(([k, v]) => [v, k as DType]),
);

export function toOrt(t: HostTensor): ort.Tensor {
  const type = ORT_TYPE[t.dtype];
  if (!type) throw new Error(`${t.dtype} tensors cannot be fed from Node; feed float32/float16 and Cast in the graph`);
  return new ort.Tensor(type, t.data as never, t.dims);
}

export function fromOrt(name: string, t: ort.Tensor): HostTensor {
  const dtype = FROM_ORT[t.type];
  if (!dtype) throw new Error(`output ${name}: onnxruntime type ${t.type} is not supported by the engine`);
  if (t.location !== "cpu") {
    throw new Error(
      `output ${name} lives on the device (${t.location}); request it on the CPU (fetch it, or leave it out of keepOnDevice)`,
    );
  }
  return { dtype, dims: [...t.dims], data: t.data as HostTensor["data"] };
}

export function describe(t: { dims: readonly number[]; type?: string; dtype?: string }): string {
  return `${t.dtype ?? t.type}[${t.dims.join(",")}]`;
}

/** An error about feeds, phrased for a user: names every missing/extra/mis-shaped input. */
export class FeedError extends Error {
  override name = "FeedError";
}

export interface InputMeta {
  name: string;
  type?: string;
  shape?: readonly (number | string)[];
}

/**
 * Checks feeds (including session-held state) against the model's inputs: every input present, no
 * unknown names, dtypes equal, static dims equal and each symbolic dim bound to one size.
 */
export function checkFeeds(
  model: string,
  inputs: readonly InputMeta[],
  feeds: Record<string, { dims: readonly number[]; type: string }>,
): void {
  const problems: string[] = [];
  const expected = new Map(inputs.map((i) => [i.name, i]));
  const missing = inputs.filter((i) => !(i.name in feeds));
  const extra = Object.keys(feeds).filter((k) => !expected.has(k));
  const fmt = (i: InputMeta) => `${i.name}: ${i.type ?? "?"}[${(i.shape ?? []).join(",")}]`;
  if (missing.length) problems.push(`missing input${missing.length > 1 ? "s" : ""} ${missing.map(fmt).join("; ")}`);
  if (extra.length)
    problems.push(
      `unknown input${extra.length > 1 ? "s" : ""} ${extra.map((k) => `${k}: ${describe(feeds[k]!)}`).join("; ")} (the model takes ${inputs.map((i) => i.name).join(", ")})`,
    );
  const sym = new Map<string, { size: number; by: string }>();
  for (const i of inputs) {
    const f = feeds[i.name];
    if (!f) continue;
    if (i.type && f.type !== i.type) {
      problems.push(`input ${i.name}: expected ${fmt(i)}, got ${describe(f)}`);
      continue;
    }
    if (!i.shape || (i.shape.length === 0 && f.dims.length === 0)) continue;
    if (i.shape.length !== f.dims.length) {
      problems.push(`input ${i.name}: expected rank ${i.shape.length} ${fmt(i)}, got ${describe(f)}`);
      continue;
    }
    i.shape.forEach((d, k) => {
      const got = f.dims[k]!;
      if (typeof d === "number" && d >= 0 && d !== got)
        problems.push(`input ${i.name}: dim ${k} must be ${d}, got ${describe(f)}`);
      else if (typeof d === "string" && d) {
        const prev = sym.get(d);
        if (prev && prev.size !== got)
          problems.push(`input ${i.name}: dim ${k} (${d}) is ${got} but ${prev.by} set ${d}=${prev.size}`);
        else if (!prev) sym.set(d, { size: got, by: i.name });
      }
    });
  }
  if (problems.length) throw new FeedError(`${model}: ${problems.join("; ")}`);
}

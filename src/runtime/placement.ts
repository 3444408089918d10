// Which nodes of a GPU session onnxruntime ran on the CPU. onnxruntime logs node placement only at
// verbose level on its own stderr (not readable from Node), but its profile lists every node run
// with the provider that ran it; a GPU session profiles its first run, and this reads that file.
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export interface PlacedNode {
  name: string;
  op: string;
  /** Input types and shapes as profiled, e.g. "float[1,2,5,16], int64[4]". */
  inputs: string;
  /**
   * Shape arithmetic (every input an integer vector, like Slice/Concat on Shape outputs): onnxruntime
   * puts these on the CPU on purpose, since their results are needed on the host to size the next
   * kernels. Anything else on the CPU is a fallback: a kernel the GPU provider lacks.
   */
  shape: boolean;
  /** No floating-point input: integer/bool index work (labels, positions), cheap but a copy each way. */
  integer: boolean;
}

export interface Placement {
  /** Nodes of the graph that ran (ORT's own copies between host and device left out). */
  nodes: number;
  /** Of those, the ones the CPU provider ran, in run order. */
  cpuNodes: PlacedNode[];
  /** cpuNodes that are not shape arithmetic: real work the GPU provider had no kernel for. */
  fallbacks: PlacedNode[];
  /** fallbacks with a floating-point input: model computation that left the GPU. */
  floatFallbacks: PlacedNode[];
  /** Host<->device copies onnxruntime inserted (each CPU node and each host-side input costs one). */
  copies: number;
}

const INT = new Set(["int64", "int32"]);
const NON_FLOAT = new Set(["int64", "int32", "bool", "uint8", "int8"]);
const allNonFloat = (l: Record<string, number[]>[] | undefined) =>
  (l ?? []).every((o) => Object.keys(o).every((t) => NON_FLOAT.has(t)));
function isShapeArithmetic(l: Record<string, number[]>[] | undefined): boolean {
  return !!l && l.length > 0 && l.every((o) => Object.entries(o).every(([t, d]) => INT.has(t) && d.length <= 1));
}

interface ProfileEvent {
  cat?: string;
  name?: string;
  args?: { provider?: string; op_name?: string; input_type_shape?: Record<string, number[]>[] };
}

const shapes = (l: Record<string, number[]>[] | undefined) =>
  (l ?? [])
    .map((o) =>
      Object.entries(o)
        .map(([t, d]) => `${t}[${d.join(",")}]`)
        .join(""),
    )
    .join(", ");

/** Reads a profile's node events: each node's first run counts (later runs repeat the same nodes). */
export function parseProfile(events: readonly ProfileEvent[]): Placement {
  const seen = new Set<string>();
  const cpuNodes: PlacedNode[] = [];
  let nodes = 0,
    copies = 0;
  for (const e of events) {
    if (e.cat !== "Node" || !e.name?.endsWith("_kernel_time")) continue;
    const name = e.name.slice(0, -"_kernel_time".length);
    const op = e.args?.op_name ?? "?";
    if (seen.has(name)) continue;
    seen.add(name);
    if (op === "MemcpyFromHost" || op === "MemcpyToHost") {
      copies++;
      continue;
    }
    nodes++;
    if (e.args?.provider === "CPUExecutionProvider")
      cpuNodes.push({
        name,
        op,
        inputs: shapes(e.args.input_type_shape),
        shape: isShapeArithmetic(e.args.input_type_shape),
        integer: allNonFloat(e.args.input_type_shape),
      });
  }
  const fallbacks = cpuNodes.filter((n) => !n.shape);
  return { nodes, cpuNodes, fallbacks, floatFallbacks: fallbacks.filter((n) => !n.integer), copies };
}

/** Reads and deletes the profile files onnxruntime wrote for `prefix` (`<prefix>_<time>.json`). */
export function takeProfile(prefix: string): Placement | undefined {
  const dir = dirname(prefix),
    base = basename(prefix);
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.startsWith(base + "_") && f.endsWith(".json"));
  } catch {
    return undefined;
  }
  let res: Placement | undefined;
  for (const f of files) {
    const p = join(dir, f);
    try {
      if (!res) res = parseProfile(JSON.parse(readFileSync(p, "utf8")) as ProfileEvent[]);
    } catch {
      // a truncated profile (the process died while writing): no placement
    } finally {
      rmSync(p, { force: true });
    }
  }
  return res;
}

/** One line for the run log / `seat models`: "all 812 nodes on webgpu" or the CPU ones by op. */
export function describePlacement(provider: string, p: Placement): string {
  const shape = p.cpuNodes.length - p.fallbacks.length;
  const tail = `${shape ? `; ${shape} shape computations on the CPU as onnxruntime intends` : ""}; ${p.copies} host<->device copies`;
  if (p.fallbacks.length === 0) return `no node fell back: all ${p.nodes - shape} compute nodes on ${provider}${tail}`;
  const byOp = new Map<string, PlacedNode[]>();
  for (const n of p.fallbacks) byOp.set(n.op, [...(byOp.get(n.op) ?? []), n]);
  const list = [...byOp].map(
    ([op, ns]) =>
      `${op} x${ns.length} (${ns
        .slice(0, 2)
        .map((n) => `${n.name}: ${n.inputs}`)
        .join("; ")}${ns.length > 2 ? "; ..." : ""})`,
  );
  const kind = p.floatFallbacks.length
    ? `${p.floatFallbacks.length} with floating-point inputs`
    : "none with floating-point inputs";
  return `${p.fallbacks.length} of ${p.nodes} nodes fell back to CPU (${kind}): ${list.join(", ")}${tail}`;
}

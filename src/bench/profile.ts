// Where a session's time goes: onnxruntime's profile (enabled for every session of a benchmark case by
// `seat bench --case ID --profile DIR`, see PROFILE_ENV in src/runtime) summarized per operator type.
// Pure: parses the JSON trace onnxruntime writes.
import { readFileSync } from "node:fs";

interface TraceEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string; provider?: string; [k: string]: unknown };
}

export interface OpShare {
  op: string;
  /** Milliseconds per run (summed over the op's nodes), and the share of all kernel time. */
  msPerRun: number;
  share: number;
  nodes: number;
}

export interface ProfileSummary {
  runs: number;
  /** Median-free mean wall ms per run as onnxruntime measured it (model_run events). */
  msPerRun: number;
  /** Sum of kernel times per run: below msPerRun by the executor's own overhead. */
  kernelMsPerRun: number;
  ops: OpShare[];
  /** The slowest individual nodes (ms per run). */
  topNodes: { node: string; op: string; msPerRun: number }[];
}

/** Summarizes a parsed onnxruntime profile; `skipRuns` leading runs (warm-up) are dropped. */
export function summarizeProfile(events: TraceEvent[], skipRuns = 1): ProfileSummary {
  // Node events are emitted before the model_run event that contains them; assign by order.
  let run = 0;
  const perRun: number[] = [];
  const byOp = new Map<string, { us: number; nodes: Set<string> }>();
  const byNode = new Map<string, { us: number; op: string }>();
  for (const e of events) {
    if (e.cat === "Session" && e.name === "model_run") {
      if (run >= skipRuns) perRun.push(e.dur ?? 0);
      run++;
      continue;
    }
    if (e.cat !== "Node" || run < skipRuns || !e.name?.endsWith("_kernel_time")) continue;
    const op = e.args?.op_name ?? "?";
    const node = e.name.slice(0, -"_kernel_time".length);
    const o = byOp.get(op) ?? { us: 0, nodes: new Set<string>() };
    o.us += e.dur ?? 0;
    o.nodes.add(node);
    byOp.set(op, o);
    const n = byNode.get(node) ?? { us: 0, op };
    n.us += e.dur ?? 0;
    byNode.set(node, n);
  }
  const runs = perRun.length;
  if (runs === 0) throw new Error(`the profile has ${run} run(s), none after the ${skipRuns} skipped`);
  const kernelUs = [...byOp.values()].reduce((a, o) => a + o.us, 0);
  const ops = [...byOp.entries()]
    .map(([op, o]) => ({
      op,
      msPerRun: o.us / 1000 / runs,
      share: kernelUs > 0 ? o.us / kernelUs : 0,
      nodes: o.nodes.size,
    }))
    .sort((a, b) => b.msPerRun - a.msPerRun);
  const topNodes = [...byNode.entries()]
    .map(([node, n]) => ({ node, op: n.op, msPerRun: n.us / 1000 / runs }))
    .sort((a, b) => b.msPerRun - a.msPerRun)
    .slice(0, 15);
  return {
    runs,
    msPerRun: perRun.reduce((a, b) => a + b, 0) / 1000 / runs,
    kernelMsPerRun: kernelUs / 1000 / runs,
    ops,
    topNodes,
  };
}

export function summarizeProfileFile(file: string, skipRuns = 1): ProfileSummary {
  const parsed = JSON.parse(readFileSync(file, "utf8")) as unknown;
  if (!Array.isArray(parsed))
    throw new Error(`${file}: not an onnxruntime profile (expected a JSON array of trace events)`);
  return summarizeProfile(parsed as TraceEvent[], skipRuns);
}

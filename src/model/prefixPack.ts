// Prefix packing: one prompt and all of its continuations in a single row, so the prompt is run once
// however many continuations are scored (P(abstain) scores ~20 abstention openings per prompt). Columns
// hold the prompt, then each continuation's tokens; a continuation's tokens see the prompt and their own
// continuation's earlier tokens only, and take positions counting on from the prompt's end, so every
// read equals scoring prompt + continuation on its own (the keys/values of the prompt are computed once
// and reused, as a KV cache would, but within one forward pass).
// A continuation's last token is never an input (nothing reads the prediction after it), so a
// one-token opening adds no column at all.
import type { HostTensor } from "../engine";
import { ropeInvFreq, type LlamaConfig } from "./config";

export interface PackedRow {
  /** Token ids by column: the prompt, then each continuation without its last token. */
  ids: number[];
  /** Absolute position of each column. */
  positions: number[];
  /** -1 for prompt columns, k for continuation k. */
  segment: number[];
  /** Per continuation, per token: the column whose next-token distribution predicts it. */
  reads: number[][];
}

export function packPrefix(prompt: readonly number[], continuations: readonly (readonly number[])[]): PackedRow {
  if (prompt.length === 0) throw new Error("packPrefix: a prompt needs at least one token (e.g. BOS)");
  const ids = [...prompt];
  const positions = prompt.map((_, i) => i);
  const segment: number[] = prompt.map(() => -1);
  const reads = continuations.map((cont, k) => {
    const r: number[] = [];
    let prev = prompt.length - 1; // the prompt's last column predicts every continuation's first token
    cont.forEach((tok, j) => {
      r.push(prev);
      if (j === cont.length - 1) return;
      ids.push(tok);
      positions.push(prompt.length + j);
      segment.push(k);
      prev = ids.length - 1;
    });
    return r;
  });
  return { ids, positions, segment, reads };
}

/** Whether query column q of a packed row may attend to key column j (causal within its segment). */
export function packedVisible(row: PackedRow, q: number, j: number, slidingWindow: number | null = null): boolean {
  if (j > q || j >= row.ids.length || q >= row.ids.length) return false;
  const sj = row.segment[j]!;
  if (sj !== -1 && sj !== row.segment[q]) return false;
  return slidingWindow === null || row.positions[q]! - row.positions[j]! < slidingWindow;
}

/** RoPE tables (B, 1, T, Dh/2) for per-row absolute positions (B, T). */
export function ropeFeeds(
  c: LlamaConfig,
  positions: readonly (readonly number[])[],
): { cos: HostTensor; sin: HostTensor } {
  const B = positions.length,
    T = positions[0]!.length,
    half = c.headDim / 2;
  const inv = ropeInvFreq(c, Math.max(1, ...positions.flat()) + 1);
  const cos = new Float32Array(B * T * half),
    sin = new Float32Array(B * T * half);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const pos = positions[b]![t]!;
      for (let i = 0; i < half; i++) {
        cos[(b * T + t) * half + i] = Math.cos(pos * inv[i]!);
        sin[(b * T + t) * half + i] = Math.sin(pos * inv[i]!);
      }
    }
  }
  return {
    cos: { dtype: "float32", dims: [B, 1, T, half], data: cos },
    sin: { dtype: "float32", dims: [B, 1, T, half], data: sin },
  };
}

/**
 * Feeds of a static-shape scoring graph (seat/graphs.ts buildScoreGraph) for packed rows, right-padded
 * to N rows of T columns and S reads: ids, rope_cos/rope_sin, mask (N, 1, T, T), reads (flat positions
 * n * T + t) and targets (int32, as the graph declares them). Also returns, per row and continuation, the read slots of its tokens.
 */
export function packedScoreFeeds(
  c: LlamaConfig,
  rows: readonly PackedRow[],
  conts: readonly (readonly (readonly number[])[])[],
  N: number,
  T: number,
  S: number,
  padId: number,
): { feeds: Record<string, HostTensor>; slots: number[][][] } {
  const ids = new BigInt64Array(N * T).fill(BigInt(padId));
  const mask = new Uint8Array(N * T * T);
  const reads = new Int32Array(N * S);
  const targets = new Int32Array(N * S);
  const positions: number[][] = [];
  const slots: number[][][] = [];
  for (let n = 0; n < N; n++) {
    const row = rows[n];
    positions.push(Array.from({ length: T }, (_, t) => row?.positions[t] ?? 0));
    for (let s = 0; s < S; s++) reads[n * S + s] = n * T;
    if (!row) continue;
    if (row.ids.length > T)
      throw new Error(`packedScoreFeeds: a row needs ${row.ids.length} columns, the graph has ${T}`);
    row.ids.forEach((id, t) => {
      ids[n * T + t] = BigInt(id);
    });
    for (let q = 0; q < row.ids.length; q++)
      for (let j = 0; j <= q; j++) mask[(n * T + q) * T + j] = packedVisible(row, q, j, c.slidingWindow) ? 1 : 0;
    // padding columns attend to themselves only, so no row of the softmax is empty
    for (let q = row.ids.length; q < T; q++) mask[(n * T + q) * T + q] = 1;
    let s = 0;
    slots.push(
      row.reads.map((r, k) =>
        r.map((col, j) => {
          if (s >= S) throw new Error(`packedScoreFeeds: a row needs more than ${S} reads`);
          reads[n * S + s] = n * T + col;
          targets[n * S + s] = conts[n]![k]![j]!;
          return s++;
        }),
      ),
    );
  }
  const rope = ropeFeeds(c, positions);
  return {
    feeds: {
      ids: { dtype: "int64", dims: [N, T], data: ids },
      rope_cos: rope.cos,
      rope_sin: rope.sin,
      mask: { dtype: "bool", dims: [N, 1, T, T], data: mask },
      reads: { dtype: "int32", dims: [N, S], data: reads },
      targets: { dtype: "int32", dims: [N, S], data: targets },
    },
    slots,
  };
}

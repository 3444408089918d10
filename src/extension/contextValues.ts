// Tree item contextValue strings, shared by the tree providers and the `viewItem == …` clauses in
// package.json (menus/view/item/context). Change both together.

export const CONTEXT_VALUE = {
  dataset: "seat.dataset",
  model: "seat.model",
  modelBundled: "seat.model.bundled",
  modelBroken: "seat.model.broken",
  runRunning: "seat.run.running",
  runFinished: "seat.run.finished",
  runFailed: "seat.run.failed",
  runCancelled: "seat.run.cancelled",
} as const;

/** `when`-clause context keys the extension sets with `setContext`. */
export const CONTEXT_KEY = {
  /** True while a training run started from this window is in progress. */
  runActive: "seat.runActive",
} as const;

export const VIEW = {
  datasets: "seat.datasets",
  /** The record editor: a webview view, the form of the record under the cursor. */
  record: "seat.record",
  models: "seat.models",
  runs: "seat.runs",
} as const;

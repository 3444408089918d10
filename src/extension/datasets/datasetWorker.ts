// Worker-thread entry (bundled as dist/datasetWorker.js): the CPU half of dataset validation, off the
// extension host's thread. It checks batches of lines for the open-document validator (JSON.parse can
// pause for tens of ms when V8's string table grows, which must not stall the editor) and reads whole
// files for the Datasets view and the Validate command. Stateless apart from one LineChecker per
// option set; never imports `vscode`.
import { parentPort } from "node:worker_threads";
import { datasetStats, LineChecker, validateFile } from "../../data/index";
import {
  toValidateOptions,
  type DatasetWorkerReply,
  type DatasetWorkerRequest,
  type DatasetWorkerValue,
} from "./datasetWorkerProtocol";

const checkers = new Map<string, LineChecker>();
const running = new Map<number, AbortController>();

function checker(options: object): LineChecker {
  const key = JSON.stringify(options);
  let c = checkers.get(key);
  if (!c) {
    c = new LineChecker(toValidateOptions(options));
    checkers.set(key, c);
  }
  return c;
}

async function handle(
  req: Exclude<DatasetWorkerRequest, { op: "cancel" }>,
): Promise<{ value: DatasetWorkerValue; transfer: ArrayBuffer[] }> {
  if (req.op === "check") {
    const r = checker(req.options).checkBatch(req.texts, req.firstIndex);
    return { value: r, transfer: [r.flags.buffer, r.h1.buffer, r.h2.buffer, r.len.buffer] as ArrayBuffer[] };
  }
  const ac = new AbortController();
  running.set(req.id, ac);
  try {
    const options = { ...toValidateOptions(req.options), chunkBytes: req.options.chunkBytes, signal: ac.signal };
    const value = req.op === "stats" ? await datasetStats(req.path, options) : await validateFile(req.path, options);
    return { value, transfer: [] };
  } finally {
    running.delete(req.id);
  }
}

parentPort!.on("message", (req: DatasetWorkerRequest) => {
  if (req.op === "cancel") {
    running.get(req.job)?.abort(new Error("cancelled"));
    return;
  }
  handle(req).then(
    ({ value, transfer }) =>
      parentPort!.postMessage({ id: req.id, ok: true, value } satisfies DatasetWorkerReply, transfer),
    (e: Error) =>
      parentPort!.postMessage({
        id: req.id,
        ok: false,
        error: { name: e?.name ?? "Error", message: e?.message ?? String(e) },
      } satisfies DatasetWorkerReply),
  );
});

// Worker-thread entry (bundled as dist/validateWorker.js): validates byte ranges of one file for
// validateFile's parallel path (parallel.ts), one range at a time, and sends back what the merge needs.
// The file and options come once in workerData; ranges come as messages until the worker is terminated.
// It is the data layer's worker but lives here, above it, because it rebuilds the built-in entity
// detector from the plain options.
import { parentPort, workerData } from "node:worker_threads";
import { open } from "node:fs/promises";
import { JsonlLines } from "../data/lines";
import { readLines } from "../data/reader";
import type { StreamOptions } from "../data/stream";
import type { PartJob, PartReply, PartRequest } from "../data/parallel";
import { toValidateOptions } from "./validateOptions";

const job = workerData as PartJob;
const { chunkBytes, ...plain } = job.options;
const options: StreamOptions = { ...toValidateOptions(plain), chunkBytes };
const port = parentPort!;

async function validatePart(req: PartRequest): Promise<void> {
  const lines = new JsonlLines(options, undefined, undefined, { first: req.start === 0 });
  let reported = 0;
  const onProgress = (bytes: number) => {
    if (bytes === reported) return;
    port.postMessage({ index: req.index, progress: bytes - reported } satisfies PartReply);
    reported = bytes;
  };
  const fh = await open(job.path, "r");
  try {
    await readLines(fh, req.start, req.end, lines, { ...options, onProgress });
  } finally {
    await fh.close();
  }
  const { result, transfer } = lines.partResult();
  port.postMessage({ index: req.index, part: result } satisfies PartReply, transfer);
}

port.on("message", (req: PartRequest) => {
  validatePart(req).catch((e: Error) =>
    port.postMessage({ index: req.index, error: e?.message ?? String(e) } satisfies PartReply),
  );
});

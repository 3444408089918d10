// The extension host's handle on the dataset worker thread: started on first use, restarted after a
// crash (the jobs it had fail with DatasetWorkerUnavailable, and callers fall back to the host thread),
// stopped on dispose. No `vscode` import, so it is unit-tested directly.
import { Worker } from "node:worker_threads";
import { WorkerRpc } from "../../util/workerRpc";
import { workerScript } from "../../util/workerScript";
import type { DatasetStats, FileValidation, LineResults } from "../../data/index";
import type { DatasetWorkerRequest, PlainValidateOptions } from "./datasetWorkerProtocol";

/** The worker's code: the bundled dist/datasetWorker.js, or the TypeScript source under tsx (tests). */
export function datasetWorkerEntry(): { code: string; eval: boolean } {
  return workerScript(__dirname, "datasetWorker", "dataset worker");
}

/** The worker could not take the job (it did not start, crashed or was stopped): do the work elsewhere. */
export class DatasetWorkerUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatasetWorkerUnavailable";
  }
}

type Job =
  Exclude<DatasetWorkerRequest, { op: "cancel" }> extends infer R
    ? R extends { id: number }
      ? Omit<R, "id">
      : never
    : never;

export class DatasetWorker {
  private rpc: WorkerRpc | null = null;
  private disposed = false;

  constructor(
    private readonly entry: () => { code: string; eval: boolean } = () => datasetWorkerEntry(),
    private readonly log: (m: string) => void = () => {},
  ) {}

  /** Checks lines on the worker (see IncrementalValidator.takeBatch / applyBatch). */
  checkLines(options: PlainValidateOptions, texts: string[], firstIndex: number): Promise<LineResults> {
    return this.call<LineResults>({ op: "check", options, texts, firstIndex });
  }

  stats(
    path: string,
    options: PlainValidateOptions & { chunkBytes?: number },
    signal?: AbortSignal,
  ): Promise<DatasetStats & { problems: number }> {
    return this.call({ op: "stats", path, options }, signal);
  }

  validateFile(
    path: string,
    options: PlainValidateOptions & { chunkBytes?: number },
    signal?: AbortSignal,
  ): Promise<FileValidation> {
    return this.call({ op: "validate", path, options }, signal);
  }

  private call<T>(job: Job, signal?: AbortSignal): Promise<T> {
    if (this.disposed) return Promise.reject(new DatasetWorkerUnavailable("dataset worker stopped"));
    let rpc: WorkerRpc;
    try {
      rpc = this.worker();
    } catch (e) {
      return Promise.reject(new DatasetWorkerUnavailable(`dataset worker did not start: ${(e as Error).message}`));
    }
    return rpc.call<T>(job, signal, (id) => ({ id: 0, op: "cancel", job: id }) satisfies DatasetWorkerRequest);
  }

  /** The running worker, or a new one when there is none or the last one failed. */
  private worker(): WorkerRpc {
    if (this.rpc && !this.rpc.failed) return this.rpc;
    const entry = this.entry();
    const w = new Worker(entry.code, { eval: entry.eval });
    // Does not keep a CLI or test process alive on its own.
    w.unref();
    this.rpc = new WorkerRpc(w, {
      failure: (cause) =>
        new DatasetWorkerUnavailable(
          "error" in cause
            ? `dataset worker failed: ${cause.error.message}`
            : `dataset worker exited (code ${cause.exitCode})`,
        ),
    });
    this.log(`dataset worker started (thread ${w.threadId})`);
    return this.rpc;
  }

  dispose(): Promise<void> {
    this.disposed = true;
    const rpc = this.rpc;
    this.rpc = null;
    return rpc ? rpc.terminate(new DatasetWorkerUnavailable("dataset worker stopped")) : Promise.resolve();
  }
}

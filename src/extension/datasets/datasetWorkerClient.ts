// The extension host's handle on the dataset worker thread: started on first use, restarted after a
// crash (the jobs it had fail with DatasetWorkerUnavailable, and callers fall back to the host thread),
// stopped on dispose. No `vscode` import, so it is unit-tested directly.
import { Worker } from "node:worker_threads";
import { workerScript } from "../../workerScript";
import type { DatasetStats, FileValidation, LineResults } from "../../data/index";
import type { DatasetWorkerReply, DatasetWorkerRequest, PlainValidateOptions } from "./datasetWorkerProtocol";

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

type Job = Exclude<DatasetWorkerRequest, { op: "cancel" }> extends infer R ? R extends { id: number } ? Omit<R, "id"> : never : never;

export class DatasetWorker {
  private w: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private disposed = false;

  constructor(private readonly entry: () => { code: string; eval: boolean } = () => datasetWorkerEntry(), private readonly log: (m: string) => void = () => {}) {}

  /** Checks lines on the worker (see IncrementalValidator.takeBatch / applyBatch). */
  checkLines(options: PlainValidateOptions, texts: string[], firstIndex: number): Promise<LineResults> {
    return this.call<LineResults>({ op: "check", options, texts, firstIndex });
  }

  stats(path: string, options: PlainValidateOptions & { chunkBytes?: number }, signal?: AbortSignal): Promise<DatasetStats & { problems: number }> {
    return this.call({ op: "stats", path, options }, signal);
  }

  validateFile(path: string, options: PlainValidateOptions & { chunkBytes?: number }, signal?: AbortSignal): Promise<FileValidation> {
    return this.call({ op: "validate", path, options }, signal);
  }

  private call<T>(job: Job, signal?: AbortSignal): Promise<T> {
    if (this.disposed) return Promise.reject(new DatasetWorkerUnavailable("dataset worker stopped"));
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error("cancelled"));
    let w: Worker;
    try {
      w = this.worker();
    } catch (e) {
      return Promise.reject(new DatasetWorkerUnavailable(`dataset worker did not start: ${(e as Error).message}`));
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => w.postMessage({ id: 0, op: "cancel", job: id } satisfies DatasetWorkerRequest);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        resolve: (v) => { signal?.removeEventListener("abort", onAbort); resolve(v as T); },
        reject: (e) => { signal?.removeEventListener("abort", onAbort); reject(e); },
      });
      w.postMessage({ ...job, id } as DatasetWorkerRequest);
    });
  }

  private worker(): Worker {
    if (this.w) return this.w;
    const entry = this.entry();
    const w = new Worker(entry.code, { eval: entry.eval });
    // Does not keep a CLI or test process alive on its own.
    w.unref();
    w.on("message", (m: DatasetWorkerReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
    });
    const fail = (e: Error) => {
      if (this.w === w) this.w = null;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    w.on("error", (e) => fail(new DatasetWorkerUnavailable(`dataset worker failed: ${e.message}`)));
    w.on("exit", (code) => fail(new DatasetWorkerUnavailable(`dataset worker exited (code ${code})`)));
    this.w = w;
    this.log(`dataset worker started (thread ${w.threadId})`);
    return w;
  }

  dispose(): Promise<void> {
    this.disposed = true;
    const w = this.w;
    this.w = null;
    for (const p of this.pending.values()) p.reject(new DatasetWorkerUnavailable("dataset worker stopped"));
    this.pending.clear();
    return w ? w.terminate().then(() => undefined) : Promise.resolve();
  }
}

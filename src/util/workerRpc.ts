// One request/reply channel to a worker thread: numbered requests, replies matched by id, and every
// pending call rejected when the worker fails or exits (a caller never waits forever on a dead thread).
// The runtime's session worker and the editor's dataset worker both talk through it.
import type { Worker } from "node:worker_threads";

/** What a worker posts back: a call's value or error, or (id -1) a log line. */
export type RpcReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string } }
  | { id: -1; log: string };

export interface RpcOptions {
  /** The error every pending and later call fails with once the worker has failed or exited. */
  failure(cause: { error: Error } | { exitCode: number }): Error;
  /** Turns an error the worker sent back into the caller's Error (default: same name and message). */
  decodeError?(e: { name: string; message: string }): Error;
  /** Receives the log lines the worker posts. */
  log?(message: string): void;
}

export class WorkerRpc {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;

  constructor(
    readonly worker: Worker,
    opts: RpcOptions,
  ) {
    worker.on("message", (m: RpcReply) => {
      if (m.id === -1) {
        opts.log?.((m as { log: string }).log);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if ("ok" in m && m.ok) p.resolve(m.value);
      else if ("error" in m)
        p.reject(
          opts.decodeError
            ? opts.decodeError(m.error)
            : Object.assign(new Error(m.error.message), { name: m.error.name }),
        );
    });
    worker.on("error", (error) => this.fail(opts.failure({ error })));
    worker.on("exit", (exitCode) => this.fail(opts.failure({ exitCode })));
  }

  /** Why the channel is closed, or null while it is open. */
  get failed(): Error | null {
    return this.dead;
  }

  /**
   * Posts `request` with a fresh id and resolves with the worker's reply to it. When `signal` aborts,
   * `cancel(id)` is posted (the worker then ends the job with an error reply).
   */
  call<T>(request: object, signal?: AbortSignal, cancel?: (id: number) => object): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error("cancelled"));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = cancel ? () => this.worker.postMessage(cancel(id)) : undefined;
      if (onAbort) signal?.addEventListener("abort", onAbort, { once: true });
      const done = () => {
        if (onAbort) signal?.removeEventListener("abort", onAbort);
      };
      this.pending.set(id, {
        resolve: (v) => {
          done();
          resolve(v as T);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      this.worker.postMessage({ ...request, id });
    });
  }

  /** Closes the channel: every pending call and every later one fails with `e` (the first reason stays). */
  fail(e: Error): void {
    if (!this.dead) this.dead = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Closes the channel with `reason` and stops the thread. */
  async terminate(reason: Error): Promise<void> {
    this.fail(reason);
    await this.worker.terminate();
  }
}

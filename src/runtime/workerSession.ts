// A Session whose onnxruntime work happens on a worker thread (the caller's event loop stays free).
// Resolves the worker both from source (tests run .ts through tsx) and from the bundle (dist/worker.js).
import { Worker } from "node:worker_threads";
import type { HostTensor } from "../engine";
import { workerScript } from "../workerScript";
import type { ModelSource, Provider, Session, SessionOptions, StepOptions } from "./session";
import { FeedError } from "./tensors";
import type { WorkerReply, WorkerRequest } from "./workerProtocol";

type DistReq = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

/** The worker script: dist/worker.js beside the bundle, or worker.ts run from source. */
export function workerEntry(): { code: string; eval: boolean } {
  return workerScript(__dirname, "worker", "runtime worker");
}

class WorkerSession implements Session {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  inputNames: readonly string[] = [];
  outputNames: readonly string[] = [];
  provider: Exclude<Provider, "auto"> = "cpu";
  fallbackReason: string | undefined;
  private dead: Error | null = null;

  constructor(private w: Worker, log: (m: string) => void) {
    w.on("message", (m: WorkerReply) => {
      if (m.id === -1) { log((m as { log: string }).log); return; }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if ("ok" in m && m.ok) p.resolve(m.value);
      else if ("error" in m) {
        const e = m.error.name === "FeedError" ? new FeedError(m.error.message) : new Error(m.error.message);
        p.reject(e);
      }
    });
    const fail = (e: Error) => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    w.on("error", fail);
    w.on("exit", (code) => fail(new Error(`runtime worker exited (code ${code})`)));
  }

  call<T>(req: DistReq): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.w.postMessage({ ...req, id });
    });
  }

  run(feeds: Record<string, HostTensor>, fetch?: string[]) { return this.call<Record<string, HostTensor>>({ op: "run", feeds, ...(fetch ? { fetch } : {}) }); }
  setState(values: Record<string, HostTensor>) { return this.call<void>({ op: "setState", values }); }
  step(feeds: Record<string, HostTensor>, opts: StepOptions) { return this.call<Record<string, HostTensor>>({ op: "step", feeds, opts }); }
  getState(names?: string[]) { return this.call<Record<string, HostTensor>>({ op: "getState", ...(names ? { names } : {}) }); }
  async release(): Promise<void> {
    if (!this.dead) await this.call<void>({ op: "release" }).catch(() => {});
    this.dead = new Error("session released");
    await this.w.terminate();
  }
}

/** Same as createSession, but the session lives on its own worker thread. */
export async function createWorkerSession(model: ModelSource, opts: SessionOptions = {}): Promise<Session> {
  const entry = workerEntry();
  const w = new Worker(entry.code, { eval: entry.eval });
  const { log, ...plain } = opts;
  const s = new WorkerSession(w, log ?? (() => {}));
  try {
    const info = await s.call<{ inputNames: string[]; outputNames: string[]; provider: Exclude<Provider, "auto">; fallbackReason?: string }>({ op: "create", model, options: plain });
    s.inputNames = info.inputNames;
    s.outputNames = info.outputNames;
    s.provider = info.provider;
    s.fallbackReason = info.fallbackReason;
  } catch (e) {
    await w.terminate();
    throw e;
  }
  return s;
}

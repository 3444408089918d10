// A Session whose onnxruntime work happens on a worker thread (the caller's event loop stays free).
// Resolves the worker both from source (tests run .ts through tsx) and from the bundle (dist/worker.js).
import { Worker } from "node:worker_threads";
import type { HostTensor } from "../engine";
import { WorkerRpc } from "../util/workerRpc";
import { workerScript } from "../util/workerScript";
import type { ModelSource, Provider, Session, SessionOptions, StepOptions } from "./session";
import { FeedError } from "./tensors";
import type { WorkerRequest } from "./workerProtocol";

type DistReq = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

/** The worker script: dist/worker.js beside the bundle, or worker.ts run from source. */
export function workerEntry(): { code: string; eval: boolean } {
  return workerScript(__dirname, "worker", "runtime worker");
}

class WorkerSession implements Session {
  private readonly rpc: WorkerRpc;
  inputNames: readonly string[] = [];
  outputNames: readonly string[] = [];
  provider: Exclude<Provider, "auto"> = "cpu";
  fallbackReason: string | undefined;

  constructor(w: Worker, log: (m: string) => void) {
    this.rpc = new WorkerRpc(w, {
      log,
      decodeError: (e) => (e.name === "FeedError" ? new FeedError(e.message) : new Error(e.message)),
      failure: (cause) =>
        "error" in cause ? cause.error : new Error(`runtime worker exited (code ${cause.exitCode})`),
    });
  }

  call<T>(req: DistReq): Promise<T> {
    return this.rpc.call<T>(req);
  }

  run(feeds: Record<string, HostTensor>, fetch?: string[]) {
    return this.call<Record<string, HostTensor>>({ op: "run", feeds, ...(fetch ? { fetch } : {}) });
  }
  /** The worker receives the arrays by message: it owns them whatever the caller keeps (see worker.ts). */
  setState(values: Record<string, HostTensor>) {
    return this.call<void>({ op: "setState", values });
  }
  step(feeds: Record<string, HostTensor>, opts: StepOptions) {
    return this.call<Record<string, HostTensor>>({ op: "step", feeds, opts });
  }
  stateLocations() {
    return this.call<Record<string, string>>({ op: "stateLocations" });
  }
  placement() {
    return this.call<import("./placement").Placement | undefined>({ op: "placement" });
  }
  getState(names?: string[]) {
    return this.call<Record<string, HostTensor>>({ op: "getState", ...(names ? { names } : {}) });
  }
  async release(): Promise<void> {
    if (!this.rpc.failed) await this.call<void>({ op: "release" }).catch(() => {});
    await this.rpc.terminate(new Error("session released"));
  }
}

/** Same as createSession, but the session lives on its own worker thread. */
export async function createWorkerSession(model: ModelSource, opts: SessionOptions = {}): Promise<Session> {
  const entry = workerEntry();
  const w = new Worker(entry.code, { eval: entry.eval });
  const { log, ...plain } = opts;
  const s = new WorkerSession(w, log ?? (() => {}));
  try {
    const info = await s.call<{
      inputNames: string[];
      outputNames: string[];
      provider: Exclude<Provider, "auto">;
      fallbackReason?: string;
    }>({ op: "create", model, options: plain });
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

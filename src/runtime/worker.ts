// Worker-thread entry (bundled as dist/worker.js): hosts one LocalSession so that run() blocks this
// thread, not the caller's. Messages are {id, op, args}; replies {id, ok, value | error}.
import { parentPort } from "node:worker_threads";
import type { HostTensor } from "../engine";
import { createSession, Session } from "./session";
import type { WorkerRequest, WorkerReply } from "./workerProtocol";

let session: Session | null = null;

/** Result buffers can move to the caller without a copy, except those the session keeps as state. */
function transferables(v: Record<string, HostTensor>, keep: string[] = []): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const [k, t] of Object.entries(v))
    if (!keep.includes(k) && t.data.buffer instanceof ArrayBuffer) seen.add(t.data.buffer);
  return [...seen];
}

async function handle(req: WorkerRequest): Promise<{ value: unknown; transfer?: ArrayBuffer[] }> {
  if (req.op === "create") {
    session = await createSession(req.model, {
      ...req.options,
      log: (m) => parentPort!.postMessage({ id: -1, log: m } satisfies WorkerReply),
    });
    return {
      value: {
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        provider: session.provider,
        fallbackReason: session.fallbackReason,
      },
    };
  }
  if (!session) throw new Error("worker session is not created");
  switch (req.op) {
    case "run": {
      const r = await session.run(req.feeds, req.fetch);
      return { value: r, transfer: transferables(r) };
    }
    case "step": {
      const r = await session.step(req.feeds, req.opts);
      return { value: r, transfer: transferables(r, Object.keys(req.opts.carry)) };
    }
    case "setState":
      await session.setState(req.values, { adopt: true }); // structured-cloned: this thread's own arrays
      return { value: null };
    case "getState": {
      const r = await session.getState(req.names);
      return { value: r };
    }
    case "stateLocations":
      return { value: await session.stateLocations() };
    case "placement":
      return { value: await session.placement() };
    case "release":
      await session.release();
      session = null;
      return { value: null };
  }
}

parentPort!.on("message", (req: WorkerRequest) => {
  handle(req).then(
    ({ value, transfer }) =>
      parentPort!.postMessage({ id: req.id, ok: true, value } satisfies WorkerReply, transfer ?? []),
    (e: Error) =>
      parentPort!.postMessage({
        id: req.id,
        ok: false,
        error: { name: e.name, message: e.message },
      } satisfies WorkerReply),
  );
});

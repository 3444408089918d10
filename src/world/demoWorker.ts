// Worker-thread entry (bundled as dist/demoWorker.js): runs one job of `seat demo` (demo.ts runDemoJob:
// train one method on one example set, then probe it into the set's probe cache) when the demo runs
// several jobs at once. The job comes in workerData; a {type: "cancel"} message aborts it. Log lines,
// then the result or the error, go back as DemoWorkerMessage.
import { parentPort, workerData } from "node:worker_threads";
import { runDemoJob, type DemoJob, type DemoWorkerMessage } from "./demo";

const port = parentPort!;
const controller = new AbortController();
port.on("message", (m: { type?: string }) => {
  if (m?.type === "cancel") controller.abort(new Error("cancelled"));
});
const post = (m: DemoWorkerMessage) => port.postMessage(m);

runDemoJob(workerData as DemoJob, { signal: controller.signal, log: (line) => post({ type: "log", line }) }).then(
  (result) => post({ type: "done", result }),
  (e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ type: "error", error: { name: err.name, message: err.message } });
  },
);

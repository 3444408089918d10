// Messages between workerSession.ts (caller thread) and worker.ts (session thread).
import type { HostTensor } from "../engine";
import type { SessionOptions, StepOptions } from "./session";

type Plain<T> = Omit<T, "log">;
export type WorkerRequest = { id: number } & (
  | { op: "create"; model: Uint8Array | string | import("../engine").SerializedModel; options: Plain<SessionOptions> }
  | { op: "run"; feeds: Record<string, HostTensor>; fetch?: string[] }
  | { op: "step"; feeds: Record<string, HostTensor>; opts: StepOptions }
  | { op: "setState"; values: Record<string, HostTensor> }
  | { op: "getState"; names?: string[] }
  | { op: "placement" }
  | { op: "stateLocations" }
  | { op: "release" }
);

export type { RpcReply as WorkerReply } from "../util/workerRpc";

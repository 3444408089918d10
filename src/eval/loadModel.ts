// How the CLI opens a model folder for probing: through the runtime (onnxruntime, GPU when available),
// in this process (the CLI is already outside the editor's extension host).
import type { ProbeModelLoader } from "./probeDataset";
import { runtimeProbeModel } from "./runtimeModel";

export function makeProbeModelLoader(log?: (message: string) => void): ProbeModelLoader {
  return async (ref) => runtimeProbeModel(ref, { provider: "auto", ...(log ? { log } : {}) });
}

/** The default loader (no log sink). */
export const loadProbeModel: ProbeModelLoader = makeProbeModelLoader();

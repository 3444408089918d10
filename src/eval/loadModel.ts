// Chooses how a model folder is run for probing.
import type { ProbeModelLoader } from "./probeDataset";
import { referenceProbeModel } from "./referenceModel";

export const loadProbeModel: ProbeModelLoader = async (ref) => referenceProbeModel(ref);

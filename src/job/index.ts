// Jobs for other machines: a SEAT run exported as a torchrun job folder, and its run folder brought back.
export { exportJob, JobExportError, JOB_FILES, type ExportJobResult } from "./exportJob";
export { estimateMemory, formatEstimate, type MemoryEstimate } from "./memory";
export { checkRunFolder, importRun, RunImportError, type ImportedRun } from "./importRun";

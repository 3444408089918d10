// The command table: every command id the extension contributes, spelled once in code. package.json
// lists the same ids (a unit test keeps the two in step). Each area registers the handlers it owns in
// its activate function; the shell registers its own and reports any id nobody registered.

export const COMMANDS = {
  // datasets (src/extension/datasets)
  validateDataset: "seat.validateDataset",
  convertDataset: "seat.convertDataset",
  importCsv: "seat.importCsv",
  exportCsv: "seat.exportCsv",
  datasetStats: "seat.datasetStats",
  refreshDatasets: "seat.refreshDatasets",
  // record editor (src/extension/record, registered by the datasets area)
  nextRecord: "seat.nextRecord",
  previousRecord: "seat.previousRecord",
  addRecord: "seat.addRecord",
  duplicateRecord: "seat.duplicateRecord",
  deleteRecord: "seat.deleteRecord",
  // perturbations (src/extension/perturb)
  suggestPerturbations: "seat.suggestPerturbations",
  insertPerturbation: "seat.insertPerturbation",
  // probes panel (src/extension/panel)
  openProbes: "seat.openProbes",
  runProbes: "seat.runProbes",
  compareRuns: "seat.compareRuns",
  exportReport: "seat.exportReport",
  chatWithModel: "seat.chatWithModel",
  // shell: models, runs, training, setup
  selectModel: "seat.selectModel",
  addModelFolder: "seat.addModelFolder",
  refreshModels: "seat.refreshModels",
  train: "seat.train",
  cancelRun: "seat.cancelRun",
  resumeRun: "seat.resumeRun",
  refreshRuns: "seat.refreshRuns",
  exportModel: "seat.exportModel",
  runDemo: "seat.runDemo",
  setupGpu: "seat.setupGpu",
  openExample: "seat.openExample",
  openRunFolder: "seat.openRunFolder",
  runElsewhere: "seat.runElsewhere",
  importRun: "seat.importRun",
} as const;

export type CommandKey = keyof typeof COMMANDS;
export type CommandId = (typeof COMMANDS)[CommandKey];

export type CommandArea = "datasets" | "perturb" | "panel" | "shell";

/** Which area registers each command; used to say which part is missing when one is not registered. */
export const COMMAND_AREA: Record<CommandId, CommandArea> = {
  "seat.validateDataset": "datasets",
  "seat.convertDataset": "datasets",
  "seat.importCsv": "datasets",
  "seat.exportCsv": "datasets",
  "seat.datasetStats": "datasets",
  "seat.refreshDatasets": "datasets",
  "seat.nextRecord": "datasets",
  "seat.previousRecord": "datasets",
  "seat.addRecord": "datasets",
  "seat.duplicateRecord": "datasets",
  "seat.deleteRecord": "datasets",
  "seat.suggestPerturbations": "perturb",
  "seat.insertPerturbation": "perturb",
  "seat.openProbes": "panel",
  "seat.runProbes": "panel",
  "seat.compareRuns": "panel",
  "seat.exportReport": "panel",
  "seat.chatWithModel": "panel",
  "seat.selectModel": "shell",
  "seat.addModelFolder": "shell",
  "seat.refreshModels": "shell",
  "seat.train": "shell",
  "seat.cancelRun": "shell",
  "seat.resumeRun": "shell",
  "seat.refreshRuns": "shell",
  "seat.exportModel": "shell",
  "seat.runDemo": "shell",
  "seat.setupGpu": "shell",
  "seat.openExample": "shell",
  "seat.openRunFolder": "shell",
  "seat.runElsewhere": "shell",
  "seat.importRun": "shell",
};

export const ALL_COMMAND_IDS: readonly CommandId[] = Object.values(COMMANDS);

/** Commands that load a model, start a process or run probes: refused in Restricted Mode. */
export const NEEDS_TRUST: ReadonlySet<CommandId> = new Set<CommandId>([
  "seat.selectModel",
  "seat.addModelFolder",
  "seat.train",
  "seat.resumeRun",
  "seat.exportModel",
  "seat.runDemo",
  "seat.setupGpu",
  "seat.runProbes",
  "seat.runElsewhere",
  "seat.chatWithModel",
]);

// The command table: every command the extension contributes, spelled once in code (the id is
// "seat." + its key), with the area that implements it, whether it needs a trusted workspace, and
// what it does (for the refusal and error messages). package.json lists the same ids (a unit test keeps
// the two in step). Each area supplies a factory per command of its own (CommandFactories, checked by
// the compiler) and registers them through registerAreaCommands (register.ts), the one wrapper that
// checks trust and reports errors. No vscode import: unit-tested headless.

export type CommandArea = "datasets" | "perturb" | "panel" | "shell";

interface CommandSpec {
  readonly area: CommandArea;
  /** Loads a model, starts a process or runs probes: refused in Restricted Mode. */
  readonly needsTrust: boolean;
  /** What the command does, as a sentence starts: "training is off in Restricted Mode", "… failed: …". */
  readonly what: string;
}

const TABLE = {
  // datasets (src/extension/datasets)
  validateDataset: { area: "datasets", needsTrust: false, what: "validating the dataset" },
  convertDataset: { area: "datasets", needsTrust: false, what: "converting the dataset" },
  importCsv: { area: "datasets", needsTrust: false, what: "importing the CSV file" },
  exportCsv: { area: "datasets", needsTrust: false, what: "exporting the dataset as CSV" },
  datasetStats: { area: "datasets", needsTrust: false, what: "reading the dataset's statistics" },
  refreshDatasets: { area: "datasets", needsTrust: false, what: "refreshing datasets" },
  // record editor (src/extension/record, registered by the datasets area)
  nextRecord: { area: "datasets", needsTrust: false, what: "moving to the next record" },
  previousRecord: { area: "datasets", needsTrust: false, what: "moving to the previous record" },
  addRecord: { area: "datasets", needsTrust: false, what: "adding a record" },
  duplicateRecord: { area: "datasets", needsTrust: false, what: "duplicating the record" },
  deleteRecord: { area: "datasets", needsTrust: false, what: "deleting the record" },
  // perturbations (src/extension/perturb)
  suggestPerturbations: { area: "perturb", needsTrust: false, what: "suggesting perturbations" },
  insertPerturbation: { area: "perturb", needsTrust: false, what: "inserting a perturbation" },
  // probes panel (src/extension/panel)
  openProbes: { area: "panel", needsTrust: false, what: "opening the probes panel" },
  runProbes: { area: "panel", needsTrust: true, what: "running probes" },
  compareRuns: { area: "panel", needsTrust: true, what: "comparing runs" },
  exportReport: { area: "panel", needsTrust: false, what: "exporting the report" },
  chatWithModel: { area: "panel", needsTrust: true, what: "chatting with a model" },
  // shell: models, runs, training, setup (src/extension/shellCommands.ts)
  selectModel: { area: "shell", needsTrust: true, what: "selecting a model" },
  addModelFolder: { area: "shell", needsTrust: true, what: "adding a model folder" },
  refreshModels: { area: "shell", needsTrust: false, what: "refreshing models" },
  train: { area: "shell", needsTrust: true, what: "training" },
  cancelRun: { area: "shell", needsTrust: false, what: "cancelling a run" },
  resumeRun: { area: "shell", needsTrust: true, what: "resuming a run" },
  refreshRuns: { area: "shell", needsTrust: false, what: "refreshing runs" },
  exportModel: { area: "shell", needsTrust: true, what: "exporting a model" },
  runDemo: { area: "shell", needsTrust: true, what: "running the demo" },
  setupGpu: { area: "shell", needsTrust: true, what: "setting up a GPU provider" },
  openExample: { area: "shell", needsTrust: false, what: "opening the example dataset" },
  openRunFolder: { area: "shell", needsTrust: false, what: "revealing a run folder" },
  runElsewhere: { area: "shell", needsTrust: true, what: "exporting a torchrun job" },
  importRun: { area: "shell", needsTrust: false, what: "importing a run folder" },
} as const satisfies Record<string, CommandSpec>;

export type CommandKey = keyof typeof TABLE;
export type CommandId = `seat.${CommandKey}`;

/** Key -> id, for the places that name one command (menus built in code, lenses, executeCommand). */
export const COMMANDS = Object.fromEntries(Object.keys(TABLE).map((k) => [k, `seat.${k}`])) as {
  readonly [K in CommandKey]: `seat.${K}`;
};

export interface CommandEntry extends CommandSpec {
  readonly key: CommandKey;
  readonly id: CommandId;
}

export const COMMAND_TABLE: readonly CommandEntry[] = (Object.entries(TABLE) as [CommandKey, CommandSpec][]).map(
  ([key, spec]) => ({ key, id: COMMANDS[key], ...spec }),
);

export const ALL_COMMAND_IDS: readonly CommandId[] = COMMAND_TABLE.map((c) => c.id);

/** Which area registers each command; used to say which part is missing when one is not registered. */
export const COMMAND_AREA = Object.fromEntries(COMMAND_TABLE.map((c) => [c.id, c.area])) as Readonly<
  Record<CommandId, CommandArea>
>;

/** Commands refused in Restricted Mode. */
export const NEEDS_TRUST: ReadonlySet<CommandId> = new Set(COMMAND_TABLE.filter((c) => c.needsTrust).map((c) => c.id));

type KeysOf<A extends CommandArea> = { [K in CommandKey]: (typeof TABLE)[K]["area"] extends A ? K : never }[CommandKey];

export type CommandHandler = (...args: any[]) => unknown;

/** One factory per command of area `A` (no more, no fewer): given the area's context, the handler. */
export type CommandFactories<A extends CommandArea, Ctx> = { readonly [K in KeysOf<A>]: (ctx: Ctx) => CommandHandler };

/** What the wrapper needs from the editor: the trust prompt and a way to report a failure. */
export interface CommandHost {
  /** Shows why `what` is unavailable in Restricted Mode; returns whether the workspace is trusted. */
  requireTrust(what: string): boolean;
  reportError(command: CommandEntry, err: unknown): void;
}

/**
 * The one wrapper every command runs through: a trust-needing command is refused (the handler never
 * runs) in an untrusted workspace; a failure is reported once, never left to VS Code's generic toast.
 */
export function guardCommand(
  command: CommandEntry,
  handler: CommandHandler,
  host: CommandHost,
): (...args: unknown[]) => Promise<unknown> {
  return async (...args) => {
    if (command.needsTrust && !host.requireTrust(command.what)) return undefined;
    try {
      return await handler(...args);
    } catch (err) {
      host.reportError(command, err);
      return undefined;
    }
  };
}

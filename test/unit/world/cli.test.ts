// The CLI surfaces of this area on the shipped files: `seat models` describes the bundled model, the demo
// table lays out a report, and `seat world` rejects bad subcommands with a usage error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeModel } from "../../../src/cli/commands/models";
import worldCommand from "../../../src/cli/commands/world";
import { ExitCode, UserError, type CliIo } from "../../../src/cli/command";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EMBEDDED_MODEL_DIR, EXAMPLES_DIR, parameterCount, tinyConfig } from "../../../src/world/index";
import { formatDemoTable, formatDemoTimings, probeSample, type DemoReport } from "../../../src/world/demo";
import demoCommand from "../../../src/cli/commands/demo";
import { REGISTER_RELATIONS } from "../../../src/world/contractRegister";

test("seat models describes the bundled model from its files", async () => {
  const m = await describeModel(EMBEDDED_MODEL_DIR, true);
  assert.equal(m.ok, true, m.error);
  assert.equal(m.architecture, "LlamaForCausalLM");
  assert.equal(m.parameters, parameterCount(tinyConfig(1024, 0)));
  assert.equal(m.tokenizer, "byte-level BPE");
  assert.equal(m.chatTemplate, "own");
  assert.match(m.executionProvider ?? "", /cpu|webgpu|cuda/);
});

test("seat models reports a folder that is not a model instead of throwing", async () => {
  const m = await describeModel(__dirname, false);
  assert.equal(m.ok, false);
  assert.match(m.error ?? "", /config\.json/);
});

test("seat world without a known subcommand is a usage error", async () => {
  const io: CliIo = {
    out: () => {},
    err: () => {},
    isTty: false,
    cwd: process.cwd(),
    signal: new AbortController().signal,
  };
  await assert.rejects(
    worldCommand.run({ values: {}, positionals: ["bogus"] }, io),
    (e: unknown) =>
      e instanceof UserError && e.exitCode === ExitCode.usage && /build, examples, corpus, gates/.test(e.message),
  );
});

test("the demo table has one aligned row per method and dashes for missing rates", () => {
  const row = {
    ftScore: 1,
    exactMatch: 1,
    idkSM: 0.25,
    idkGrounded: null,
    idkMisnamed: null,
    abstentionProb: 0.3,
    overRefusal: 0,
    displacement: 0.5,
    trainSeconds: 12.4,
    neighbourIdkSM: 0.2,
    heldOutAbstain: 0.5,
    fictitiousAbstain: 1,
    unknownQueries: 100,
  };
  const r: DemoReport = {
    model: "m",
    dataset: "d",
    createdAt: "",
    totalSeconds: 1,
    notes: [],
    methods: { base: { ...row, trainSeconds: 0 }, full: row },
  };
  const lines = formatDemoTable(r).split("\n");
  assert.equal(lines.length, 4);
  assert.match(lines[3], /^full\s+1\.00\s+1\.00\s+0\.25\s+-\s+-\s+0\.30/);
  assert.equal(new Set(lines.map((l) => l.length)).size, 1, "columns aligned");
});

test("the demo's timing table: a row per run with a dash for phases it did not have, and their sum", () => {
  const r: DemoReport = {
    model: "m",
    dataset: "d",
    createdAt: "",
    totalSeconds: 1,
    notes: [],
    methods: {},
    timings: {
      base: { probeLoad: 0.25, generate: 1, pAbstain: 2, hidden: 0.1, probeOther: 0.2, run: 3.6 },
      seat: { prepare: 0.5, teacher: 4, compile: 1, train: 10, export: 0.1, generate: 2, pAbstain: 3, run: 21 },
    },
  };
  const lines = formatDemoTimings(r).split("\n");
  assert.equal(lines.length, 5);
  assert.match(
    lines[0],
    /^model\s+prepare\s+teacher\s+compile\s+train\s+export\s+probe load\s+generate\s+P\(abstain\)/,
  );
  assert.match(lines[2], /^base\s+-\s+-\s+-\s+-\s+-\s+0\.3\s+1\.0\s+2\.0\s+0\.1\s+0\.2\s+3\.6$/);
  assert.match(lines[4], /^sum\s+0\.5\s+4\.0\s+1\.0\s+10\.0\s+0\.1\s+0\.3\s+3\.0\s+5\.0\s+0\.1\s+0\.2\s+24\.6$/);
  assert.equal(new Set(lines.map((l) => l.length)).size, 1, "columns aligned");
});

test("seat demo refuses a bad --jobs or --threads with one usage line, before any work", async () => {
  const io: CliIo = {
    out: () => {},
    err: () => {},
    isTty: false,
    cwd: process.cwd(),
    signal: new AbortController().signal,
  };
  for (const [flag, value] of [
    ["jobs", "0"],
    ["threads", "two"],
  ])
    await assert.rejects(
      demoCommand.run({ values: { methods: "full", out: "runs/demo", [flag]: value }, positionals: [] }, io),
      (e: unknown) =>
        e instanceof UserError &&
        e.exitCode === ExitCode.usage &&
        e.message === `--${flag} must be a positive integer, got '${value}'`,
    );
});

test("the demo's probe sample of contract-register keeps every relation of the set", () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-sample-"));
  try {
    const data = join(EXAMPLES_DIR, "contract-register", "train.jsonl");
    const file = probeSample(data, 3, dir);
    const kept = readFileSync(file, "utf8").trim().split("\n");
    assert.equal(kept.length, 107);
    const all = readFileSync(data, "utf8").trim().split("\n");
    assert.ok(kept.every((l) => all.includes(l)));
    // Records come in groups of 8 facts per company, in REGISTER_RELATIONS order: every position is kept somewhere.
    const positions = new Set(kept.map((l) => all.indexOf(l) % REGISTER_RELATIONS.length));
    assert.equal(positions.size, REGISTER_RELATIONS.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Training in the editor, end to end: SEAT: Train… from the palette (quick picks), progress in the
// status bar, the run in the Runs view, cancel + resume, then the probes panel's per-example rows and
// the inline verdicts in the dataset. Trains the embedded model; a small Llama fixture in the
// workspace's models/ folder checks that workspace models are listed too.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import {
  expectCount,
  expectNone,
  expectText,
  openEditor,
  webviewWith,
  openFile,
  openSeatSidebar,
  pick,
  quickInput,
  runCommand,
  viewPane,
  type Editor,
} from "./harness";
import { autoEpochsLine } from "../../src/seat/stopRule";
import { calibrationCostText } from "../../src/seat/calibrationText";
import type { RunSummary } from "../../src/protocol/events";

async function answer(page: Page, title: string | RegExp, value: string): Promise<void> {
  await quickInput(page).locator(".quick-input-title", { hasText: title }).waitFor({ timeout: 30_000 });
  await quickInput(page).locator(".quick-input-box input").fill(value);
  await page.keyboard.press("Enter");
}

/** SEAT: Train… through its dataset, model (asked only when there is a choice) and method steps. */
async function trainPickerUpToSettings(page: Page): Promise<void> {
  await runCommand(page, "SEAT: Train…");
  await pick(page, "(1/4): dataset", "people.jsonl");
  const title = quickInput(page).locator(".quick-input-title");
  await title.filter({ hasText: /\((2|3)\/4\)/ }).waitFor({ timeout: 30_000 });
  if (/\(2\/4\)/.test(await title.innerText())) await pick(page, "(2/4): model", "seat-tiny-world");
  await pick(page, "(3/4): method", "seat");
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function runDirs(ws: string): string[] {
  const root = join(ws, "runs");
  return existsSync(root)
    ? readdirSync(root)
        .map((n) => join(root, n))
        .filter((d) => existsSync(join(d, "events.jsonl")))
    : [];
}

function lastEvent(dir: string): { type: string; [k: string]: unknown } {
  const lines = readFileSync(join(dir, "events.jsonl"), "utf8").trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

describe("training from the editor", { timeout: 900_000 }, () => {
  let ed: Editor;
  before(async () => {
    ed = await openEditor({
      name: "training",
      files: [
        ["test/e2e/workspace/people.jsonl", "data/people.jsonl"],
        ["test/fixtures/models/tiny-llama", "models/tiny-llama"],
        ["test/e2e/workspace/tasks.json", ".vscode/tasks.json"],
        // Not named *people.jsonl: the tests below find data/people.jsonl by that text (Datasets view, pickers, Quick Open).
        ["examples/new-people/train.jsonl", "data/newcomers.jsonl"],
      ],
      workspaceSettings: { "seatTuner.training.epochs": 60 },
    });
  });
  afterEach(async (t) => {
    await ed?.screenshot(`last-${t.name.slice(0, 40).replace(/[^\w]+/g, "-")}`).catch(() => undefined);
  });
  after(async () => {
    await ed?.close();
  });

  test("the Models view lists the workspace's model folder next to the embedded one, with details from headers", async () => {
    const { page } = ed;
    await openSeatSidebar(page);
    const models = await viewPane(page, "Models");
    const row = models.locator(".monaco-list-row", { hasText: "tiny-llama" }).first();
    await row.waitFor({ timeout: 30_000 });
    await expectText("tiny-llama's details", 15_000, row, /17K · BF16/);
    await expectText("tiny-llama is not selected", 15_000, row, /selected/, true);
    await expectText(
      "the embedded model is selected",
      15_000,
      models.locator(".monaco-list-row", { hasText: "seat-tiny-world" }),
      /embedded · selected/,
    );
    // Expand without selecting (clicking the label would select the model).
    await row.locator(".monaco-tl-twistie").click();
    await models
      .locator(".monaco-list-row", { hasText: /LlamaForCausalLM: 2 layers, d=16/ })
      .waitFor({ timeout: 15_000 });
    await ed.screenshot("01-models");
  });

  test("SEAT: Train… runs SEAT on the dataset: status-bar progress, a finished run in the Runs view", async () => {
    const { page } = ed;
    await trainPickerUpToSettings(page);
    await pick(page, "(4/4): settings", "Start");

    await page
      .locator(".statusbar-item", { hasText: /SEAT (step \d+\/\d+|load|mask|compile|teacher|train)/ })
      .first()
      .waitFor({ timeout: 60_000 });
    await ed.screenshot("02-training-progress");
    const runs = await viewPane(page, "Runs");
    await runs
      .locator(".monaco-list-row", { hasText: /finished · \d+ steps, loss/ })
      .first()
      .waitFor({ timeout: 180_000 });
    await ed.screenshot("03-run-finished");
    const dirs = runDirs(ed.workspace);
    assert.equal(dirs.length, 1, "one run folder under runs/");
    assert.equal(lastEvent(dirs[0]).type, "done");
    const start = readFileSync(join(dirs[0], "events.jsonl"), "utf8")
      .split("\n")
      .map((l) => (l ? JSON.parse(l) : {}))
      .find((e) => e.type === "run-start");
    assert.equal(start.method, "seat");
    assert.match(start.dataset, /data\/people\.jsonl$/);
    assert.match(start.model, /models\/seat-tiny-world$/);
    assert.equal(
      start.totalSteps,
      60,
      "the epochs setting reached the trainer (2 records, batch 4: one step per epoch)",
    );
    assert.ok(existsSync(join(dirs[0], "model", "config.json")), "the tuned model was written");
    await page
      .locator(".statusbar-item", { hasText: /SEAT step/ })
      .first()
      .waitFor({ state: "detached", timeout: 15_000 });
  });

  test("SEAT: Cancel Run stops a run resumably; SEAT: Resume Run finishes it", async () => {
    const { page } = ed;
    const before = new Set(runDirs(ed.workspace));
    await trainPickerUpToSettings(page);
    await pick(page, "(4/4): settings", "Adjust key settings", "Adjust key settings");
    // Long enough that the cancel lands mid-run even when the palette is slow under the trainer's load
    // (locally it took ~200 steps to land; a run that finished first would never show "cancelled").
    await answer(page, "epochs", "600");
    await answer(page, "learning rate", "0.001");
    await answer(page, "mask ratio", "0.05");
    await answer(page, "KL weight", "1");

    const status = page.locator(".statusbar-item", { hasText: /SEAT step \d+\/600/ }).first();
    // First the base model's replies for 600 epochs' look-alikes (about 30 s on 2 cores), then steps.
    await status.waitFor({ timeout: 150_000 });
    // Past the first periodic checkpoint (every 50 steps by default), so there is something to resume from.
    for (let i = 0; i < 240; i++) {
      const m = /step (\d+)\/600/.exec(await status.innerText().catch(() => ""));
      if (m && Number(m[1]) > 55) break;
      await page.waitForTimeout(250);
    }
    await runCommand(page, "SEAT: Cancel Run");
    await ed.screenshot("04a-cancel-asked");
    const runs = await viewPane(page, "Runs");
    await runs
      .locator(".monaco-list-row", { hasText: /cancelled · cancelled at step \d+ \(resumable\)/ })
      .first()
      .waitFor({ timeout: 60_000 });
    const dir = runDirs(ed.workspace).find((d) => !before.has(d))!;
    assert.ok(dir, "a new run folder");
    const cancelled = lastEvent(dir);
    assert.equal(cancelled.type, "cancelled");
    const checkpoints = readFileSync(join(dir, "events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === "checkpoint");
    assert.ok(typeof cancelled.checkpoint === "string" || checkpoints.length > 0, "a checkpoint to resume from");
    const resumeStep =
      typeof cancelled.checkpoint === "string" ? (cancelled.step as number) : checkpoints[checkpoints.length - 1].step;
    await ed.screenshot("04-cancelled");

    await runCommand(page, "SEAT: Resume Run");
    await pick(page, "SEAT: Resume Run", dir.split("/").pop()!);
    await runs
      .locator(".monaco-list-row", { hasText: /finished · 600 steps/ })
      .first()
      .waitFor({ timeout: 240_000 });
    const events = readFileSync(join(dir, "events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const resumed = events.filter((e) => e.type === "run-start").pop();
    assert.equal(resumed.resumedFromStep, resumeStep, "resumed from the newest checkpoint");
    assert.equal(events[events.length - 1].type, "done");
    await ed.screenshot("05-resumed-finished");
  });

  test("a seat task from tasks.json runs the trainer with its settings", async () => {
    const { page } = ed;
    const before = new Set(runDirs(ed.workspace));
    await runCommand(page, "Tasks: Run Task");
    const row = quickInput(page)
      .locator(".quick-input-list .monaco-list-row", { hasText: "SEAT: train people (5 epochs)" })
      .first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
    let dir: string | undefined;
    for (let i = 0; i < 240 && !dir; i++) {
      dir = runDirs(ed.workspace).find((d) => !before.has(d) && lastEvent(d).type === "done");
      if (!dir) await page.waitForTimeout(500);
    }
    assert.ok(dir, "the task's run finished");
    const start = readFileSync(join(dir!, "events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((e) => e.type === "run-start");
    assert.equal(start.totalSteps, 5, "settings.train.epochs from tasks.json reached the trainer");
    assert.equal(start.method, "seat");
    await ed.screenshot("05b-tasks-json-run");
  });

  test("the Datasets view lists the dataset but not the runs' event logs", async () => {
    const { page } = ed;
    assert.ok(runDirs(ed.workspace).length > 0, "earlier tests left runs with events.jsonl in the workspace");
    await openSeatSidebar(page);
    const pane = await viewPane(page, "Datasets");
    await runCommand(page, "SEAT: Refresh Datasets");
    await pane.locator(".monaco-list-row", { hasText: "people.jsonl" }).waitFor({ timeout: 30_000 });
    await expectNone(
      "events.jsonl rows in the Datasets view",
      2000,
      pane.locator(".monaco-list-row", { hasText: "events.jsonl" }),
    );
    await expectNone(
      "runs/ rows in the Datasets view",
      2000,
      pane.locator(".monaco-list-row", { hasText: /^\s*runs\// }),
    );
  });

  test("the probes panel shows per-example rows for the dataset, and the dataset shows inline verdicts", async () => {
    const { page } = ed;
    await openFile(page, "people.jsonl");
    await runCommand(page, "SEAT: Open Probes Panel");
    const frame = await webviewWith(page, "tr[data-key]", 240_000);
    const rows = frame.locator("tr[data-key]");
    await expectCount("one probes row per training record", 30_000, rows, (n) => n === 2);
    await expectText("the first probes row names its entity", 15_000, rows, /Nubrek Vokdev/);
    await ed.screenshot("06-probes-rows");
    // Inline results: a verdict above each record of the dataset (CodeLens), e.g. "✗ learned · abstains 0/1".
    const verdicts = page.locator(".codelens-decoration", { hasText: /[✓✗] learned/ });
    await verdicts.first().waitFor({ timeout: 60_000 });
    await expectCount("a verdict lens above each of the 2 records", 30_000, verdicts, (n) => n === 2);
    await ed.screenshot("07-inline-verdicts");
  });

  test("a calibrated epochs-auto run: the Training tab says how it ended and what the calibration chose", async () => {
    const { page } = ed;
    const dir = join(ed.workspace, "runs", "calibrated-auto");
    await runCommand(page, "Tasks: Run Task");
    const row = quickInput(page)
      .locator(".quick-input-list .monaco-list-row", { hasText: "SEAT: train newcomers (calibrated, epochs auto)" })
      .first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
    for (let i = 0; i < 600 && !(existsSync(join(dir, "events.jsonl")) && lastEvent(dir).type === "done"); i++)
      await page.waitForTimeout(500);
    const done = lastEvent(dir);
    assert.equal(done.type, "done", "the calibrated run finished");
    const summary = done["summary"] as RunSummary;
    assert.ok(summary.calibration && summary.calibration.points.length >= 1, "the run was calibrated");
    assert.ok(summary.epochsAuto, "the run had epochs auto");
    await runCommand(page, "SEAT: Open Probes Panel");
    const frame = await webviewWith(page, "#tab-training", 120_000);
    await frame.locator("#tab-training").click();
    const section = frame.locator('section.run-outcome[data-run="calibrated-auto"]');
    await section.waitFor({ timeout: 60_000 });
    await expectText(
      "the epochs-auto outcome",
      15_000,
      section.locator(".outcome"),
      new RegExp(escapeRe(autoEpochsLine(summary.epochsAuto))),
    );
    const c = summary.calibration;
    await expectText(
      "the calibration's choice",
      15_000,
      section.locator(".calibration-choice"),
      new RegExp(escapeRe(`Calibration chose KL λ ${c.chosen.lambda}, mask ratio ${c.chosen.ratio}:`)),
    );
    await expectText(
      "what the calibration cost, and its share of the run",
      15_000,
      section.locator(".calibration-choice"),
      new RegExp(escapeRe(calibrationCostText(c)), "i"),
    );
    await expectCount(
      "one chart mark per candidate",
      15_000,
      section.locator("svg.calibration circle"),
      (n) => n === c.points.length,
    );
    await expectCount(
      "one table row per candidate, one of them chosen",
      15_000,
      section.locator("table.calibration-points tbody tr.chosen"),
      (n) => n === 1,
    );
    await section.scrollIntoViewIfNeeded();
    await ed.screenshot("08-calibration-outcome");
  });
});

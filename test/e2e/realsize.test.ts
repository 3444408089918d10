// A model of a real published shape, trained from the editor as a user would: the workspace's models/
// folder holds a random-weight bf16 folder with the SmolLM2-135M body and the real Llama-3 tokenizer
// (vocab 128,256; test/fixtures/realShapes.ts), the Models view lists it, SEAT: Train… picks it and runs
// SEAT through the same trainer child as the CLI (memory plan, teacher replies, masked training,
// quick eval, export), and the run lands in the Runs view with a loadable tuned folder.
// SEAT_E2E_REAL_SHAPE=qwen2.5-0.5b or llama-3.2-1b runs the same test at those shapes (not in CI:
// minutes per step on 2 cores; the README's memory plan records those runs).
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { expectText, openEditor, openSeatSidebar, pick, ROOT, runCommand, viewPane, type Editor } from "./harness";
import { ensureRealShape, REAL_SHAPES, type RealShape } from "../fixtures/realShapes";

const SHAPE = (process.env.SEAT_E2E_REAL_SHAPE ?? "smollm2-135m") as RealShape;
if (!REAL_SHAPES.includes(SHAPE)) throw new Error(`SEAT_E2E_REAL_SHAPE must be one of ${REAL_SHAPES.join(", ")}`);
/** How long the whole run may take: teacher replies, 2 SEAT steps, the quick eval and the export. */
const RUN_TIMEOUT = { "smollm2-135m": 420_000, "qwen2.5-0.5b": 1_500_000, "llama-3.2-1b": 3_000_000 }[SHAPE];

function events(dir: string): { type: string; [k: string]: unknown }[] {
  return readFileSync(join(dir, "events.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
}

describe(`a ${SHAPE}-shaped model trained from the editor`, { timeout: RUN_TIMEOUT + 300_000 }, () => {
  let ed: Editor;
  before(async () => {
    const folder = ensureRealShape(SHAPE);
    ed = await openEditor({
      name: "realsize",
      files: [
        ["test/e2e/workspace/people.jsonl", "data/people.jsonl"],
        [relative(ROOT, folder), `models/${SHAPE}`],
      ],
      // 2 records at batch 4: one step per epoch
      workspaceSettings: { "seatTuner.training.epochs": 2 },
    });
  });
  afterEach(async (t) => {
    await ed?.screenshot(`last-${t.name.slice(0, 40).replace(/[^\w]+/g, "-")}`).catch(() => undefined);
  });
  after(async () => {
    await ed?.close();
  });

  test("the Models view lists the folder with its shape from the headers", async () => {
    const { page } = ed;
    await openSeatSidebar(page);
    const models = await viewPane(page, "Models");
    const row = models.locator(".monaco-list-row", { hasText: SHAPE }).first();
    await row.waitFor({ timeout: 30_000 });
    await expectText(`${SHAPE}'s details`, 15_000, row, /\d+(\.\d)?[MB] · BF16/);
    await ed.screenshot(`realsize-01-models-${SHAPE}`);
  });

  test("SEAT: Train… on it: progress in the status bar, a finished run with a tuned folder", async () => {
    const { page } = ed;
    await runCommand(page, "SEAT: Train…");
    await pick(page, "(1/4): dataset", "people.jsonl");
    await pick(page, "(2/4): model", SHAPE);
    await pick(page, "(3/4): method", "seat");
    await pick(page, "(4/4): settings", "Start");
    await page
      .locator(".statusbar-item", { hasText: /SEAT (step \d+\/\d+|load|mask|compile|teacher|train)/ })
      .first()
      .waitFor({ timeout: 120_000 });
    await ed.screenshot(`realsize-02-progress-${SHAPE}`);
    const runs = await viewPane(page, "Runs");
    await runs
      .locator(".monaco-list-row", { hasText: /finished · 2 steps, loss/ })
      .first()
      .waitFor({ timeout: RUN_TIMEOUT });
    await ed.screenshot(`realsize-03-finished-${SHAPE}`);

    const root = join(ed.workspace, "runs");
    const dirs = readdirSync(root)
      .map((n) => join(root, n))
      .filter((d) => existsSync(join(d, "events.jsonl")));
    assert.equal(dirs.length, 1, "one run folder");
    const ev = events(dirs[0]!);
    const start = ev.find((e) => e.type === "run-start")!;
    assert.equal(start.method, "seat");
    assert.match(String(start.model), new RegExp(`models/${SHAPE.replace(/\./g, "\\.")}$`));
    assert.equal(ev[ev.length - 1]!.type, "done");
    const logs = ev.filter((e) => e.type === "log").map((e) => String(e.message));
    assert.ok(
      logs.some((m) => /^memory plan: peak ~\d+\.\d GB/.test(m)),
      "the memory plan was logged",
    );
    const steps = ev.filter((e) => e.type === "step");
    assert.equal(steps.length, 2);
    assert.ok(
      steps.every((s) => Number.isFinite(s.loss as number)),
      "finite losses",
    );
    const model = join(dirs[0]!, "model");
    assert.ok(existsSync(join(model, "config.json")), "the tuned model's config");
    assert.ok(
      readdirSync(model).some((f) => f.endsWith(".safetensors")),
      "the tuned model's weights",
    );
    const cfg = JSON.parse(readFileSync(join(model, "config.json"), "utf8"));
    const src = JSON.parse(readFileSync(join(ed.workspace, "models", SHAPE, "config.json"), "utf8"));
    assert.deepEqual(
      [cfg.hidden_size, cfg.num_hidden_layers, cfg.vocab_size],
      [src.hidden_size, src.num_hidden_layers, src.vocab_size],
    );
  });
});

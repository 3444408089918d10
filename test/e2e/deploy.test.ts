// Trying and shipping a tuned model from the editor: SEAT: Chat with Model… shows the tuned and the base
// answer (streamed from the chat child process) with their P(abstain), Add to dataset appends the
// question and answer to the dataset as an edit, and SEAT: Export Model… writes a GGUF with a Modelfile.
// The run is trained (a few steps of the embedded model) before the editor looks at it.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { openEditor, openFile, pick, quickInput, runCommand, waitUntil, type Editor } from "./harness";
import { resolveConfig, train } from "../../src/seat/index";

const EMBEDDED = join(__dirname, "..", "..", "models", "seat-tiny-world");

describe("chat and export from the editor", { timeout: 600_000 }, () => {
  let ed: Editor;
  let runDir: string;
  before(async () => {
    ed = await openEditor({ name: "deploy", files: [["test/e2e/workspace/people.jsonl", "data/people.jsonl"]] });
    runDir = join(ed.workspace, "runs", "deploy-run");
    const { config } = resolveConfig([
      {
        source: "e2e",
        layer: {
          model: EMBEDDED,
          dataset: join(ed.workspace, "data", "people.jsonl"),
          outDir: runDir,
          method: "seat",
          train: { epochs: 1, batchSize: 2, maxSteps: 3 },
          kl: { maxResponseTokens: 4 },
          eval: { samples: 0 },
          device: { provider: "cpu", threads: 1 },
        },
      },
    ]);
    assert.equal((await train(config)).status, "done");
  });
  afterEach(async (t) => {
    await ed?.screenshot(`last-${t.name.slice(0, 40).replace(/[^\w]+/g, "-")}`).catch(() => undefined);
  });
  after(async () => {
    await ed?.close();
  });

  test("Chat with Model…: both answers with P(abstain); Add to dataset appends the record", async () => {
    const { page } = ed;
    await runCommand(page, "SEAT: Refresh Runs");
    await openFile(page, "people.jsonl");
    await runCommand(page, "SEAT: Chat with Model…");
    // When the editor host has not yet heard that people.jsonl is the active editor, the command asks
    // which dataset (a quick pick): answer it rather than depend on that timing.
    const asked = quickInput(page).locator(".quick-input-title", { hasText: "probe which dataset?" });
    const frame = page.frameLocator("iframe.webview.ready").first().frameLocator("#active-frame");
    const ready = frame.locator("#chat-status", { hasText: "Ready" });
    for (let i = 0; i < 120; i++) {
      if (await asked.isVisible().catch(() => false)) {
        await pick(page, "probe which dataset?", "people.jsonl");
        break;
      }
      if (await ready.isVisible().catch(() => false)) break;
      await page.waitForTimeout(500);
    }
    await ready.waitFor({ timeout: 120_000 });
    await frame.locator("#chat-question").fill("Where was Nubrek Vokdev born?");
    await frame.locator("#chat-ask").click();
    for (const who of ["tuned", "base"]) {
      await frame.locator(`#chat-${who}-meta`, { hasText: /P\(abstain\) \d/ }).waitFor({ timeout: 120_000 });
      assert.ok((await frame.locator(`#chat-${who}-text`).innerText()).trim().length > 0, `${who} answer is shown`);
    }
    await ed.screenshot("01-chat-answers");
    const log = ed.extensionLog();
    assert.match(
      log,
      /chat: .* chat --model .*deploy-run --base .*seat-tiny-world --serve/,
      "the answers come from the chat child process",
    );
    await frame.locator("#chat-correction").fill("Rarekivo.");
    await frame.locator("#chat-add").click();
    await frame.locator("#chat-added", { hasText: /added as line 3 of/ }).waitFor({ timeout: 30_000 });
    // The edit is in the dataset's editor (unsaved, undoable); the file on disk is untouched until saved.
    await page.locator(".view-lines", { hasText: "Rarekivo." }).first().waitFor({ timeout: 30_000 });
    await page.keyboard.press("Control+S");
    await waitUntil(
      () =>
        readFileSync(join(ed.workspace, "data", "people.jsonl"), "utf8")
          .trim()
          .split("\n")
          .pop() === JSON.stringify({ question: "Where was Nubrek Vokdev born?", answer: "Rarekivo." }),
      30_000,
      "the new record was saved as the last line",
    );
    await ed.screenshot("02-chat-added");
  });

  test("Export Model… writes a GGUF and an Ollama Modelfile", async () => {
    const { page } = ed;
    await runCommand(page, "SEAT: Export Model…");
    await quickInput(page).locator(".quick-input-title", { hasText: "which run?" }).waitFor({ timeout: 30_000 });
    await quickInput(page)
      .locator(".quick-input-list .monaco-list-row")
      .filter({ has: page.locator(".label-name", { hasText: /^deploy-run$/ }) })
      .first()
      .click({ timeout: 30_000 });
    await quickInput(page).locator(".quick-input-title", { hasText: "as…" }).waitFor({ timeout: 30_000 });
    await quickInput(page)
      .locator(".quick-input-list .monaco-list-row")
      .filter({ has: page.locator(".label-name", { hasText: /^GGUF \(f16\)$/ }) })
      .first()
      .click({ timeout: 30_000 });
    // The folder dialog (code-server's own) opens on the folder that holds the run: once it shows that
    // folder, accept it with the dialog's own button.
    await page.waitForFunction(
      () => {
        const box = document.querySelector<HTMLInputElement>(".quick-input-widget .quick-input-box input");
        return /\/workspace\/runs\/?$/.test(box?.value ?? "");
      },
      undefined,
      { timeout: 30_000 },
    );
    await quickInput(page).getByRole("button", { name: "Export here" }).click();
    const out = join(ed.workspace, "runs", "deploy-run-gguf-f16");
    await waitUntil(
      () => existsSync(join(out, "model-f16.gguf")) && existsSync(join(out, "Modelfile")),
      120_000,
      `GGUF and Modelfile in ${out}`,
    );
    assert.match(ed.extensionLog(), /seat export: tensor \d+\/\d+/, "progress lines from the export child");
    await page.locator(".notifications-toasts", { hasText: "exported deploy-run" }).waitFor({ timeout: 60_000 });
    assert.equal(readFileSync(join(out, "model-f16.gguf")).subarray(0, 4).toString("latin1"), "GGUF");
    assert.match(readFileSync(join(out, "Modelfile"), "utf8"), /^FROM \.\/model-f16\.gguf$/m);
    await ed.screenshot("03-exported-gguf");
  });
});

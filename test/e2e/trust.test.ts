// Restricted Mode: the folder opens untrusted. Datasets are still validated; models, training and
// probing are off, and the views say why and how to trust the workspace.
import { after, afterEach, before, describe, test } from "node:test";
import {
  eventually,
  expectNone,
  expectText,
  openEditor,
  openFile,
  openSeatSidebar,
  runCommand,
  viewPane,
  notification,
  webviewWith,
  type Editor,
} from "./harness";

describe("Restricted Mode (untrusted workspace)", { timeout: 300_000 }, () => {
  let ed: Editor;
  before(async () => {
    ed = await openEditor({
      name: "trust",
      trusted: false,
      files: [["test/e2e/workspace/broken.jsonl", "broken.jsonl"]],
      // A workspace setting that points the model at some folder must not be honoured here.
      workspaceSettings: { "seatTuner.modelPath": "/etc" },
    });
  });
  afterEach(async (t) => {
    await ed?.screenshot(`last-${t.name.slice(0, 40).replace(/[^\w]+/g, "-")}`).catch(() => undefined);
  });
  after(async () => {
    await ed?.close();
  });

  test("the Models and Runs views explain Restricted Mode and link to Manage Workspace Trust", async () => {
    const { page } = ed;
    await openSeatSidebar(page);
    const models = await viewPane(page, "Models");
    await models
      .locator(".welcome-view-content", { hasText: "Models are not read in Restricted Mode" })
      .waitFor({ timeout: 30_000 });
    await models.getByRole("button", { name: "Manage Workspace Trust" }).waitFor({ state: "visible", timeout: 15_000 });
    const runs = await viewPane(page, "Runs");
    await runs
      .locator(".welcome-view-content", { hasText: "Training is off in Restricted Mode" })
      .waitFor({ timeout: 15_000 });
    await expectNone("model rows in Restricted Mode", 2000, models.locator(".monaco-list-row"));
    await ed.screenshot("01-restricted-views");
  });

  test("SEAT: Train… refuses with the reason and offers to manage trust", async () => {
    const { page } = ed;
    await runCommand(page, "SEAT: Train…");
    const toast = notification(page, /training is off in Restricted Mode/);
    await toast.waitFor({ timeout: 30_000 });
    await toast.getByRole("button", { name: "Manage Workspace Trust" }).waitFor({ state: "visible", timeout: 15_000 });
    await ed.screenshot("02-train-refused");
  });

  test("datasets are still validated in Restricted Mode", async () => {
    const { page } = ed;
    await openFile(page, "broken.jsonl");
    await page.keyboard.press("Control+Shift+M");
    await page
      .locator(".markers-panel .monaco-list-row", { hasText: "invalid JSON" })
      .first()
      .waitFor({ timeout: 60_000 });
    await ed.screenshot("03-restricted-diagnostics");
  });

  test("the record editor edits in Restricted Mode; checking stand-ins with the model is off, with the reason", async () => {
    const { page } = ed;
    await openFile(page, "broken.jsonl");
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+Home");
    await openSeatSidebar(page);
    await viewPane(page, "Record");
    const form = await webviewWith(page, ".toolbar #next", 60_000);
    await expectText("the form shows line 1", 60_000, form.locator("#where"), /· line 1$/);
    await expectText("the reason checking is off", 15_000, form.locator("#verify-reason"), /Restricted Mode/);
    await eventually(
      "the Check button is disabled",
      15_000,
      () => form.locator("#verify").getAttribute("disabled"),
      (v) => v !== null,
    );
    const box = form.locator("#field-answer textarea");
    await box.fill("Ilse Morrow.");
    await box.press("Tab");
    await expectText(
      "the edit reached the editor",
      15_000,
      page.locator(".monaco-editor .view-lines"),
      /"answer": "Ilse Morrow\."/,
    );
    await form.locator("#verify-reason").scrollIntoViewIfNeeded();
    await ed.screenshot("04-restricted-record-editor");
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+z");
    await expectText(
      "undo restores the line",
      15_000,
      page.locator(".monaco-editor .view-lines"),
      /"answer": "Ilse Morrow founded Wnzatj SAS\."/,
    );
  });
});

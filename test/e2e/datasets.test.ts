// Datasets in the real editor: a broken JSONL file shows its problems at the right lines (the same
// validator as `seat validate`), and the Datasets view lists files with record and problem counts.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { openEditor, openFile, openSeatSidebar, viewPane, type Editor } from "./harness";

describe("datasets: diagnostics and the Datasets view", { timeout: 300_000 }, () => {
  let ed: Editor;
  before(async () => {
    ed = await openEditor({
      name: "datasets",
      files: [
        ["test/e2e/workspace/broken.jsonl", "broken.jsonl"],
        ["test/e2e/workspace/people.jsonl", "people.jsonl"],
      ],
    });
  });
  afterEach(async (t) => {
    await ed?.screenshot(`last-${t.name.slice(0, 40).replace(/[^\w]+/g, "-")}`).catch(() => undefined);
  });
  after(async () => {
    await ed?.close();
  });

  test("opening a broken dataset shows its problems at line 2 (invalid JSON) and line 3 (empty question)", async () => {
    const { page } = ed;
    await openFile(page, "broken.jsonl");
    await page.keyboard.press("Control+Shift+M");
    const rows = page.locator(".markers-panel .monaco-list-row");
    await rows.filter({ hasText: "invalid JSON" }).first().waitFor({ timeout: 60_000 });
    await rows.filter({ hasText: "is empty" }).first().waitFor({ timeout: 15_000 });
    const texts = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, " "));
    const invalid = texts.find((t) => /invalid JSON/.test(t));
    const empty = texts.find((t) => /"question" is empty/.test(t));
    assert.match(invalid ?? "", /\[Ln 2, Col 91\]/, `invalid JSON at 2:91: ${texts.join(" | ")}`);
    assert.match(empty ?? "", /\[Ln 3, Col 14\]/, `empty question at 3:14: ${texts.join(" | ")}`);
    assert.equal(texts.filter((t) => /\[Ln 1,/.test(t)).length, 0, "the valid first record has no problem");
    // The editor marks the same places.
    assert.ok((await page.locator(".monaco-editor .squiggly-error").count()) >= 2, "error squiggles in the editor");
    // The records were parsed on the dataset worker thread, not on the extension host.
    assert.match(ed.extensionLog(), /dataset worker started/);
    assert.doesNotMatch(ed.extensionLog(), /dataset worker unavailable/);
    await ed.screenshot("01-diagnostics");
  });

  test("edits keep the problems in step: a line typed at the top moves them down, fixing a record clears its problem", async () => {
    const { page } = ed;
    await openFile(page, "broken.jsonl");
    await page.keyboard.press("Control+Shift+M");
    const rows = page.locator(".markers-panel .monaco-list-row");
    await page.locator(".monaco-editor .view-lines").first().click();
    // A broken line typed above everything: every later problem moves one line down.
    await page.keyboard.press("Control+Home");
    await page.keyboard.type("nonsense");
    await page.keyboard.press("Enter");
    await rows.filter({ hasText: "[Ln 3, Col 91]" }).first().waitFor({ timeout: 30_000 });
    await rows.filter({ hasText: "[Ln 4, Col 14]" }).first().waitFor({ timeout: 15_000 });
    await rows.filter({ hasText: "[Ln 1, Col 1]" }).filter({ hasText: "invalid JSON" }).first().waitFor({ timeout: 15_000 });
    // Fix the empty question on (now) line 4: its problem goes, the others stay.
    await page.keyboard.press("Control+g");
    await page.keyboard.type("4:15");
    await page.keyboard.press("Enter");
    await page.keyboard.type("Who wrote this?");
    await rows.filter({ hasText: "is empty" }).first().waitFor({ state: "detached", timeout: 30_000 });
    const texts = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, " "));
    assert.equal(texts.filter((t) => /invalid JSON/.test(t)).length, 2, texts.join(" | "));
    assert.ok(texts.some((t) => /\[Ln 3, Col 91\]/.test(t)), texts.join(" | "));
    await ed.screenshot("01b-diagnostics-after-edits");
    // Leave the file as it was for the next test (the view counts its problems).
    await page.keyboard.press("Control+z");
    for (let i = 0; i < 6; i++) await page.keyboard.press("Control+z");
    await page.keyboard.press("Control+s");
    await rows.filter({ hasText: "[Ln 3, Col 14]" }).first().waitFor({ timeout: 30_000 });
  });

  test("the Datasets view lists both files with record and problem counts", async () => {
    const { page } = ed;
    await openSeatSidebar(page);
    const pane = await viewPane(page, "Datasets");
    const broken = pane.locator(".monaco-list-row", { hasText: "broken.jsonl" });
    const people = pane.locator(".monaco-list-row", { hasText: "people.jsonl" });
    await broken.filter({ hasText: "2 errors" }).waitFor({ timeout: 60_000 });
    await people.filter({ hasText: "no problems" }).waitFor({ timeout: 15_000 });
    assert.match(await broken.innerText(), /2 records/);
    assert.match(await people.innerText(), /2 records/);
    await ed.screenshot("02-datasets-view");
  });
});

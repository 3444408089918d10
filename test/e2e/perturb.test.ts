// Perturbation CodeLens in the real editor: a click inserts the stand-in into the record's line as an
// undoable edit, and the file on disk changes only when the user saves.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openEditor, openFile, type Editor } from "./harness";

describe("perturbation CodeLens", { timeout: 300_000 }, () => {
  let ed: Editor;
  let original: string;
  before(async () => {
    ed = await openEditor({ name: "perturb", files: [["test/e2e/workspace/people.jsonl", "people.jsonl"]] });
    original = readFileSync(join(ed.workspace, "people.jsonl"), "utf8");
  });
  afterEach(async (t) => {
    await ed?.screenshot(`last-${t.name.slice(0, 40).replace(/[^\w]+/g, "-")}`).catch(() => undefined);
  });
  after(async () => {
    await ed?.close();
  });

  test("clicking 'SEAT: perturb …' inserts that stand-in into the record's seat.perturbations; undo restores the file", async () => {
    const { page } = ed;
    await openFile(page, "people.jsonl");
    const lens = page.locator(".codelens-decoration a", { hasText: /^SEAT: perturb "Nubrek Vokdev" → / }).first();
    await lens.waitFor({ timeout: 60_000 });
    // Lenses are re-provided once the whole-file context is built: wait until the title is stable.
    let title = await lens.innerText();
    for (let i = 0; i < 20; i++) {
      await page.waitForTimeout(1000);
      const now = await lens.innerText();
      if (now === title) break;
      title = now;
    }
    await ed.screenshot("01-codelens");
    const replacement = title.split("→ ")[1].trim();
    assert.ok(replacement.length > 0 && replacement !== "Nubrek Vokdev");
    await lens.click();

    // The edit goes through a WorkspaceEdit; VS Code saves refactoring edits itself when
    // files.refactoring.autoSave is on (its default), so wait for the line on disk (saving is harmless either way).
    const file = join(ed.workspace, "people.jsonl");
    const origLines = original.split("\n");
    let lines: string[] = [];
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press("Control+S");
      lines = readFileSync(file, "utf8").split("\n");
      if (lines.join("\n") !== original) break;
      await page.waitForTimeout(500);
    }
    const changed = lines.map((l, i) => (l !== origLines[i] ? i : -1)).filter((i) => i >= 0);
    assert.equal(changed.length, 1, `exactly one record line changed: ${changed}`);
    const rec = JSON.parse(lines[changed[0]]);
    const before = JSON.parse(origLines[changed[0]]);
    assert.equal(rec.question, before.question);
    assert.equal(rec.answer, before.answer);
    assert.deepEqual(rec.seat.entities, ["Nubrek Vokdev"], "existing seat fields kept");
    assert.equal(rec.seat.split, before.seat.split);
    assert.ok(Array.isArray(rec.seat.perturbations), "seat.perturbations added");
    assert.ok(
      rec.seat.perturbations.some((p: { replacement?: string }) => p.replacement === replacement),
      `the clicked stand-in ${replacement} is in ${JSON.stringify(rec.seat.perturbations)}`,
    );
    assert.equal(lines.length, origLines.length, "no line added or removed");
    await ed.screenshot("02-inserted");

    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+Z");
    await page.keyboard.press("Control+S");
    for (let i = 0; i < 20 && readFileSync(file, "utf8") !== original; i++) await page.waitForTimeout(500);
    assert.equal(readFileSync(file, "utf8"), original, "undo restores the file byte for byte");
  });
});

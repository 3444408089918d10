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

  test("clicking 'SEAT: perturb …' inserts that stand-in into seat.perturbations; undo restores the line", async () => {
    const { page } = ed;
    await openFile(page, "people.jsonl");
    const lens = page.locator(".codelens-decoration a", { hasText: /^SEAT: perturb "Nubrek Vokdev" → / }).first();
    await lens.waitFor({ timeout: 60_000 });
    await ed.screenshot("01-codelens");
    const replacement = (await lens.innerText()).split("→ ")[1].trim();
    assert.ok(replacement.length > 0 && replacement !== "Nubrek Vokdev");
    await lens.click();
    // The edit is in the editor buffer (dirty tab), not on disk, until the user saves.
    await page.locator(".tab.active.dirty", { hasText: "people.jsonl" }).waitFor({ timeout: 15_000 });
    assert.equal(readFileSync(join(ed.workspace, "people.jsonl"), "utf8"), original, "nothing written behind the user's back");
    await page.keyboard.press("Control+S");
    await page.locator(".tab.active:not(.dirty)", { hasText: "people.jsonl" }).waitFor({ timeout: 15_000 });
    const lines = readFileSync(join(ed.workspace, "people.jsonl"), "utf8").split("\n");
    const rec = JSON.parse(lines[0]);
    assert.equal(rec.question, "Where was Nubrek Vokdev born?");
    assert.ok(Array.isArray(rec.seat.perturbations), "seat.perturbations added");
    assert.ok(JSON.stringify(rec.seat.perturbations).includes(replacement), `the clicked stand-in ${replacement} is in the record`);
    assert.deepEqual(rec.seat.entities, ["Nubrek Vokdev"], "existing fields kept");
    assert.equal(lines[1], original.split("\n")[1], "other lines untouched");
    await ed.screenshot("02-inserted");

    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+Z");
    await page.keyboard.press("Control+S");
    await page.locator(".tab.active:not(.dirty)", { hasText: "people.jsonl" }).waitFor({ timeout: 15_000 });
    assert.equal(readFileSync(join(ed.workspace, "people.jsonl"), "utf8"), original, "undo restores the file exactly");
  });
});

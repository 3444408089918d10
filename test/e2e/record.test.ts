// The record editor in the real editor: the SEAT sidebar's form for the record under the cursor. A field
// of each format edited from the form changes exactly that part of its line (every other byte checked
// against the original text), undo restores the file byte for byte, an accepted stand-in moves the
// CodeLens on and removing a broken entry clears its problem, and records are added and deleted.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { FrameLocator, Page } from "playwright-core";
import {
  eventually,
  expectText,
  openEditor,
  openFile,
  openSeatSidebar,
  viewPane,
  webviewWith,
  type Editor,
} from "./harness";

const FILE = "formats.jsonl";

async function goToLine(page: Page, line: number): Promise<void> {
  await page.locator(".monaco-editor .view-lines").first().click();
  await page.keyboard.press("Control+g");
  await page.keyboard.type(String(line));
  await page.keyboard.press("Enter");
}

/** Focuses the dataset's editor without moving its cursor (a click into the text would move it). */
async function focusEditor(page: Page): Promise<void> {
  await page.locator(".tab.active", { hasText: FILE }).first().click();
}

/** Saves the editor and waits until the file on disk is `expected` (edits reach the disk only on save). */
async function expectOnDisk(ed: Editor, what: string, expected: string): Promise<void> {
  const file = join(ed.workspace, FILE);
  await eventually(
    what,
    30_000,
    async () => {
      await focusEditor(ed.page);
      await ed.page.keyboard.press("Control+s");
      await ed.page.waitForTimeout(300);
      return readFileSync(file, "utf8");
    },
    (t) => t === expected,
  );
}

async function undo(ed: Editor, times: number): Promise<void> {
  await focusEditor(ed.page);
  for (let i = 0; i < times; i++) await ed.page.keyboard.press("Control+z");
}

describe("record editor (SEAT sidebar)", { timeout: 420_000 }, () => {
  let ed: Editor;
  let original: string;
  let lines: string[];
  let form: FrameLocator;
  before(async () => {
    ed = await openEditor({ name: "record", files: [[`test/e2e/workspace/${FILE}`, FILE]] });
    original = readFileSync(join(ed.workspace, FILE), "utf8");
    lines = original.split("\n");
    const { page } = ed;
    await openFile(page, FILE);
    await openSeatSidebar(page);
    // Room for the form: the other views folded away.
    for (const title of ["Datasets", "Models", "Runs"]) {
      const header = (await viewPane(page, title)).locator(".pane-header").first();
      if ((await header.getAttribute("aria-expanded")) === "true") await header.click();
    }
    await viewPane(page, "Record");
    form = await webviewWith(page, ".toolbar #next", 60_000);
  });
  afterEach(async (t) => {
    await ed?.screenshot(`last-${t.name.slice(0, 40).replace(/[^\w]+/g, "-")}`).catch(() => undefined);
  });
  after(async () => {
    await ed?.close();
  });

  test("a field of each format edited in the form changes only that value; Next walks the records; undo restores the file", async () => {
    const { page } = ed;
    await goToLine(page, 1);
    await expectText("the form shows record 1", 60_000, form.locator("#where"), /record 1 of 5 · line 1/);
    await expectText("record 1 is QA", 15_000, form.locator("#format"), /^qa$/);
    await ed.screenshot("01-form-qa");
    const steps: Array<{ format: RegExp; field: string; from: string; to: string }> = [
      {
        format: /^qa$/,
        field: "#field-question",
        from: "Where was Nubrek Vokdev born?",
        to: "Where was Nubrek Vokdev raised?",
      },
      { format: /^chat$/, field: "#turn-1-content", from: "Chytraer Textiles.", to: "Chytraer Mills." },
      { format: /^alpaca$/, field: "#field-output", from: "Rarekivo.", to: "Rarekivo, in the north." },
      {
        format: /^sharegpt$/,
        field: "#turn-0-content",
        from: "What does Nubrek Vokdev make?",
        to: "What does Nubrek Vokdev weave?",
      },
      { format: /^completion$/, field: "#field-completion", from: " Rarekivo.", to: " the north." },
    ];
    let expected = lines.slice();
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i];
      if (i > 0) await form.locator("#next").click();
      await expectText(
        `the form follows to line ${i + 1}`,
        15_000,
        form.locator("#where"),
        new RegExp(`· line ${i + 1}$`),
      );
      await expectText(`line ${i + 1}'s format`, 15_000, form.locator("#format"), s.format);
      const box = form.locator(`${s.field} textarea`);
      await eventually(
        `${s.field} shows the record's value`,
        15_000,
        () => box.inputValue(),
        (v) => v === s.from,
      );
      await box.fill(s.to);
      await box.press("Tab");
      // Independent of the editor's code: the original line with exactly that string literal replaced.
      expected = expected.slice();
      expected[i] = lines[i].replace(JSON.stringify(s.from), JSON.stringify(s.to));
      assert.notEqual(expected[i], lines[i]);
      await expectOnDisk(ed, `line ${i + 1} after editing ${s.field}`, expected.join("\n"));
      if (i === 1) await ed.screenshot("02-form-chat");
    }
    await ed.screenshot("03-after-five-edits");
    await undo(ed, steps.length);
    await expectOnDisk(ed, "five undos restore the file byte for byte", original);
  });

  test("accepting a suggested stand-in moves the CodeLens on; removing the broken entry clears its problem; undo restores", async () => {
    const { page } = ed;
    await goToLine(page, 1);
    await expectText("the form shows record 1", 15_000, form.locator("#where"), /· line 1$/);
    // The record's broken entry (42) is listed in the Problems view and beside the entry in the form.
    await page.keyboard.press("Control+Shift+M");
    const problem = page.locator(".markers-panel .monaco-list-row", {
      hasText: "perturbation 1 must be a replacement name",
    });
    await problem.first().waitFor({ timeout: 60_000 });
    await expectText(
      "the entry's problem beside it",
      15_000,
      form.locator("#pert-0-problems"),
      /perturbation 1 must be a replacement name/,
    );
    const suggestion = form.locator("#suggestions li").first();
    const text = await expectText("a suggested stand-in", 30_000, suggestion, /Nubrek Vokdev → \S/);
    const replacement = text.split("→")[1].split("\n")[0].trim();
    const lens = page.locator(".codelens-decoration").first();
    await expectText("the CodeLens offers the same stand-in", 60_000, lens, new RegExp(`→ ${replacement}`));
    await ed.screenshot("04-suggestion-and-lens");
    await form.locator("#sug-0-accept").click();
    const file = join(ed.workspace, FILE);
    await eventually(
      "the stand-in is stored in line 1",
      30_000,
      async () => {
        await focusEditor(page);
        await page.keyboard.press("Control+s");
        return readFileSync(file, "utf8").split("\n")[0];
      },
      (l) => l.includes(`"replacement": "${replacement}"`),
    );
    const line1 = readFileSync(file, "utf8").split("\n")[0];
    const added = JSON.parse(line1).seat.perturbations[1];
    assert.equal(added.entity, "Nubrek Vokdev");
    // Written in the record's own style (it spaces its colons and commas), everything else as it was.
    const entry = `{"entity": "Nubrek Vokdev", "replacement": "${replacement}", "kind": "${added.kind}"}`;
    assert.equal(
      line1,
      lines[0].replace("[42]", `[42, ${entry}]`),
      "only the new entry was written, in the record's separator style",
    );
    await expectText(
      "the CodeLens no longer offers the stored stand-in",
      30_000,
      lens,
      new RegExp(`→ ${replacement}\\b`),
      true,
    );
    await ed.screenshot("05-accepted-lens-moved");
    await form.locator("#pert-0-remove").click();
    await problem.first().waitFor({ state: "detached", timeout: 30_000 });
    await expectOnDisk(
      ed,
      "only the broken entry removed",
      original.replace(lines[0], lines[0].replace("[42]", `[${entry}]`)),
    );
    await ed.screenshot("06-broken-entry-removed");
    await undo(ed, 2);
    await expectOnDisk(ed, "two undos restore the file byte for byte", original);
  });

  test("Add puts an empty record of the same format after the current one, its empty fields flagged; Delete removes it", async () => {
    const { page } = ed;
    await goToLine(page, 5);
    await expectText("the form shows record 5", 15_000, form.locator("#where"), /record 5 of 5 · line 5/);
    await form.locator("#add").click();
    await expectText("the form moves to the new record", 15_000, form.locator("#where"), /record 6 of 6 · line 6/);
    await expectText(
      "its empty prompt is flagged beside the field",
      30_000,
      form.locator("#field-prompt-problems"),
      /"prompt" is empty/,
    );
    await expectOnDisk(
      ed,
      "an empty completion record after line 5",
      original.replace(/\n$/, '\n{"prompt":"","completion":""}\n'),
    );
    await ed.screenshot("07-record-added");
    const box = form.locator("#field-prompt textarea");
    await box.fill("Nubrek Vokdev lives in");
    await box.press("Tab");
    await expectOnDisk(
      ed,
      "the new record's prompt",
      original.replace(/\n$/, '\n{"prompt":"Nubrek Vokdev lives in","completion":""}\n'),
    );
    // Keyboard: Alt+Up from inside the form goes to the previous record, Alt+Down back.
    await form.locator("#delete").focus();
    await page.keyboard.press("Alt+ArrowUp");
    await expectText("Alt+Up: previous record", 15_000, form.locator("#where"), /· line 5$/);
    await page.keyboard.press("Alt+ArrowDown");
    await expectText("Alt+Down: next record", 15_000, form.locator("#where"), /· line 6$/);
    await form.locator("#delete").click();
    await expectOnDisk(ed, "Delete removes the added record", original);
    await expectText("the form shows the last record again", 15_000, form.locator("#where"), /record 5 of 5/);
    await ed.screenshot("08-record-deleted");
  });

  test("Check with the base model runs seat perturb --verify in a child process; a checked stand-in is stored with its abstention", async () => {
    const { page } = ed;
    await goToLine(page, 2);
    await expectText("the form shows record 2", 15_000, form.locator("#where"), /· line 2$/);
    const verify = form.locator("#verify");
    await expectText("Check names the selected (embedded) model", 15_000, verify, /Check with seat-tiny-world/);
    await verify.click();
    const first = form.locator("#suggestions li").first();
    const text = await expectText(
      "the checked stand-ins carry the base model's abstention",
      120_000,
      first,
      /→ .+ · base abstains \d\.\d\d/,
    );
    await ed.screenshot("09-checked-stand-ins");
    const replacement = text.split("→")[1].split("·")[0].trim();
    await form.locator("#sug-0-accept").click();
    const file = join(ed.workspace, FILE);
    const line2 = await eventually(
      "the checked stand-in is stored in line 2",
      30_000,
      async () => {
        await focusEditor(page);
        await page.keyboard.press("Control+s");
        return readFileSync(file, "utf8").split("\n")[1];
      },
      (l) => l.includes(`"replacement": "${replacement}"`),
    );
    const stored = JSON.parse(line2).seat.perturbations;
    assert.equal(stored.length, 1);
    assert.ok(
      typeof stored[0].abstention === "number" && stored[0].abstention >= 0.5 && stored[0].abstention <= 1,
      `abstention ${stored[0].abstention}`,
    );
    assert.ok(line2.startsWith(lines[1].slice(0, -1)), "the record's own text is kept; seat is added at its end");
    await undo(ed, 1);
    await expectOnDisk(ed, "undo restores the file byte for byte", original);
  });
});

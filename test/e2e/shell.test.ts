// The extension in a real VS Code (code-server) in a real browser: activation, the SEAT sidebar and
// its views, palette commands, opening a dataset. One editor for the whole file (starting one costs ~15 s).
import { after, afterEach, before, describe, test } from "node:test";
import {
  openEditor,
  openFile,
  openSeatSidebar,
  runCommand,
  viewPane,
  activeTab,
  expectText,
  expectTexts,
  webviewWith,
  type Editor,
} from "./harness";

describe("SEAT Tuner in VS Code (trusted workspace)", { timeout: 300_000 }, () => {
  let ed: Editor;
  before(async () => {
    ed = await openEditor({
      name: "shell",
      files: [
        ["examples", "examples"],
        ["test/e2e/workspace/broken.jsonl", "data/broken.jsonl"],
      ],
    });
  });
  afterEach(async (t) => {
    await ed?.screenshot(`last-${t.name.slice(0, 40).replace(/[^\w]+/g, "-")}`).catch(() => undefined);
  });
  after(async () => {
    await ed?.close();
  });

  test("the SEAT activity bar entry shows the Datasets, Models and Runs views", async () => {
    const { page } = ed;
    await openSeatSidebar(page);
    for (const title of ["Datasets", "Models", "Runs"]) {
      const pane = await viewPane(page, title);
      await pane.waitFor({ state: "visible", timeout: 15_000 });
    }
    await ed.screenshot("01-sidebar");
  });

  test("the Models view lists the embedded model, selected by default, with details read from its headers", async () => {
    const { page } = ed;
    const models = await viewPane(page, "Models");
    const row = models.locator(".monaco-list-row", { hasText: "seat-tiny-world" }).first();
    await row.waitFor({ timeout: 30_000 });
    await expectText("the embedded model is selected", 15_000, row, /embedded · selected/);
    await models
      .locator(".monaco-list-row", { hasText: /architecture\s*LlamaForCausalLM: \d+ layers/ })
      .waitFor({ timeout: 15_000 });
    await models
      .locator(".monaco-list-row", { hasText: /tokenizer\s*tokenizer\.json \+ chat template/ })
      .waitFor({ timeout: 15_000 });
    await ed.screenshot("01b-models");
  });

  test("the Runs view's Train… button runs seat.train, which asks for a dataset among the workspace's JSONL files", async () => {
    const { page } = ed;
    const runs = await viewPane(page, "Runs");
    await runs.locator(".welcome-view-content", { hasText: "No training runs yet" }).waitFor({ timeout: 30_000 });
    await runs.getByRole("button", { name: "Train…" }).click();
    const picker = page.locator(".quick-input-widget");
    await picker.locator(".quick-input-title", { hasText: "SEAT: Train (1/4): dataset" }).waitFor({ timeout: 30_000 });
    await expectTexts(
      "the dataset picker lists broken.jsonl and train.jsonl",
      15_000,
      picker.locator(".quick-input-list .monaco-list-row"),
      (ts) => ts.some((t) => /broken\.jsonl/.test(t)) && ts.some((t) => /train\.jsonl/.test(t)),
    );
    await ed.screenshot("02-train-picker");
    await page.keyboard.press("Escape");
  });

  test("SEAT: Open Example Dataset from the palette opens the example's train.jsonl", async () => {
    const { page } = ed;
    await runCommand(page, "SEAT: Open Example Dataset");
    await activeTab(page, "train.jsonl").waitFor({ timeout: 30_000 });
    await expectText(
      "the dataset's first records are shown",
      15_000,
      page.locator(".monaco-editor .view-lines"),
      /"question"|"messages"/,
    );
    await ed.screenshot("03-example-dataset");
  });

  test("a dataset file opens from Quick Open as JSON Lines", async () => {
    const { page } = ed;
    await openFile(page, "broken.jsonl");
    const mode = page.locator(".statusbar-item", { hasText: /JSON Lines/i }).first();
    await mode.waitFor({ timeout: 15_000 });
    await ed.screenshot("04-dataset-open");
  });

  test("SEAT: Open Probes Panel renders the webview panel (nonce'd script ran inside the nested frames)", async () => {
    const { page } = ed;
    await runCommand(page, "SEAT: Open Probes Panel");
    // The heading is created by dist/webview.js, so it proves the script loaded under the panel's CSP.
    const frame = await webviewWith(page, "h1", 60_000);
    await frame.locator("h1", { hasText: "SEAT probes" }).waitFor({ timeout: 15_000 });
    await ed.screenshot("05-probes-panel");
  });

  test("the Getting Started walkthrough lists its four steps", async () => {
    const { page } = ed;
    await runCommand(page, "Welcome: Open Walkthrough...");
    const row = page
      .locator(".quick-input-list .monaco-list-row", { hasText: "Getting Started with SEAT Tuner" })
      .first();
    await row.waitFor({ timeout: 15_000 });
    await row.click();
    for (const step of [
      "Open the example dataset",
      "Suggest perturbations",
      "Train the embedded model",
      "Open the probes panel",
    ]) {
      await page.locator(".getting-started-step", { hasText: step }).first().waitFor({ timeout: 30_000 });
    }
    await ed.screenshot("06-walkthrough");
  });
});

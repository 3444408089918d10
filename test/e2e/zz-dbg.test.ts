import { test } from "node:test";
import { openEditor, openFile, runCommand } from "/work/main/test/e2e/harness";
test("dbg", { timeout: 200_000 }, async () => {
  const ed = await openEditor({ name: "dbg", files: [["test/e2e/workspace/people.jsonl", "people.jsonl"]] });
  try {
    const { page } = ed;
    page.on("console", (m) => { if (/seatdbg|error/i.test(m.text())) console.log("console:", m.text().slice(0, 300)); });
    await openFile(page, "people.jsonl");
    const lens = page.locator(".codelens-decoration a", { hasText: /^SEAT: perturb/ }).first();
    await lens.waitFor({ timeout: 60_000 });
    await page.waitForTimeout(2000);
    await page.locator(".monaco-editor .view-line").first().click();
    await runCommand(page, "Show CodeLens Commands for Current Line");
    await page.waitForTimeout(1500);
    console.log("rows:", (await page.locator(".quick-input-list .monaco-list-row").allInnerTexts()).join(" || "));
    await page.keyboard.press("Enter");
    await page.waitForTimeout(2000);
    console.log("dirty:", await page.locator(".tab.active.dirty").count());
    await ed.screenshot("after");
    console.log("toasts:", await page.locator(".notifications-toasts").innerText().catch(() => "none"));
  } finally { await ed.close(); }
});

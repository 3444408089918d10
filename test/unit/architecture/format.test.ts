// The tree keeps the formatter's layout (`npm run format` writes it, `npm run lint` checks it): every
// source file prettier covers is already formatted, and a badly laid out snippet is caught.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as prettier from "prettier";

const REPO = join(__dirname, "..", "..", "..");

function trackedSources(): string[] {
  const out = execFileSync("git", ["ls-files", "-z", "--", "*.ts", "*.mjs", "*.js", "*.cjs"], {
    cwd: REPO,
    encoding: "utf8",
  });
  return out.split("\0").filter(Boolean);
}

test("every tracked source file is formatted (run `npm run format` to fix)", async () => {
  const unformatted: string[] = [];
  let checked = 0;
  for (const rel of trackedSources()) {
    const file = join(REPO, rel);
    const info = await prettier.getFileInfo(file, { ignorePath: join(REPO, ".prettierignore") });
    if (info.ignored || !info.inferredParser) continue;
    const options = { ...(await prettier.resolveConfig(file)), filepath: file };
    if (!(await prettier.check(readFileSync(file, "utf8"), options))) unformatted.push(rel);
    checked++;
  }
  assert.ok(checked > 100, `checked ${checked} files: the file list or the ignore file is wrong`);
  assert.deepEqual(unformatted, [], `not formatted: ${unformatted.join(", ")}`);
});

test("the check catches a badly laid out file", async () => {
  const file = join(REPO, "src", "example.ts");
  const options = { ...(await prettier.resolveConfig(file)), filepath: file };
  assert.equal(await prettier.check("const  x = {a:1,\n b:2}\n", options), false);
  assert.equal(await prettier.check("const x = { a: 1, b: 2 };\n", options), true);
});

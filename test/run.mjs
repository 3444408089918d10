// The one test command (`npm test`): unit tests (node:test over TypeScript via tsx), then the
// end-to-end suite in a real VS Code (code-server) driven by Playwright. Prints one summary line.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync, existsSync, readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ensurePrerequisites } from "../scripts/e2e-tools.mjs";

const args = process.argv.slice(2);
const only = args.includes("--unit") ? "unit" : args.includes("--e2e") ? "e2e" : "all";
const filters = args.filter((a) => !a.startsWith("--"));

function listTests(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTests(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const results = [];
function runSuite(name, files, extraEnv = {}, extraArgs = []) {
  const selected = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
  if (selected.length === 0) {
    console.error(`[test] ${name}: no test files found`);
    results.push({ name, ok: false, pass: 0, fail: 0, skip: 0 });
    return;
  }
  const res = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--test",
      ...extraArgs,
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      "--test-reporter=./test/summary-reporter.mjs",
      "--test-reporter-destination=.cache/test-summary-" + name + ".json",
      ...selected,
    ],
    { stdio: "inherit", env: { ...process.env, ...extraEnv } },
  );
  let summary = { pass: 0, fail: 0, skip: 0, todo: 0 };
  try {
    summary = JSON.parse(readFileSync(".cache/test-summary-" + name + ".json", "utf8"));
  } catch {
    /* the run died before the reporter wrote */
  }
  results.push({ name, ok: res.status === 0, ...summary });
}
mkdirSync(".cache", { recursive: true });
if (only !== "e2e") runSuite("unit", listTests("test/unit"));
// One editor at a time: each is a code-server + extension host + Chromium (~2 GB).
if (only !== "unit") {
  // The first run installs what the editor tests need (Debian packages when root with apt, then
  // Node 24 + code-server into .tools/); when that cannot be done here, one line says what to run.
  let ready = false;
  try {
    ensurePrerequisites();
    ready = true;
  } catch (err) {
    console.error(`[test] e2e not run: ${err.message}`);
    results.push({ name: "e2e", ok: false, pass: 0, fail: 0, skip: 0, note: "not run: prerequisites missing" });
  }
  if (ready) runSuite("e2e", listTests("test/e2e"), {}, ["--test-concurrency=1"]);
}

const line = results
  .map((r) => (r.note ? `${r.name}: ${r.note}` : `${r.name}: ${r.pass} passed, ${r.fail} failed, ${r.skip} skipped`))
  .join("; ");
const ok = results.every((r) => r.ok && r.skip === 0);
console.log(`\nSEAT Tuner tests ${ok ? "PASSED" : "FAILED"} — ${line}`);
process.exit(ok ? 0 : 1);

#!/usr/bin/env node
// Prints the reliability suite's summary (issue 11): cases tried and passed per category, the cases
// that failed, and the measured figures (event-loop delays, memory), from the records the suite's test
// files leave in test-artifacts/reliability/ (run it after `node test/run.mjs --unit test/unit/reliability`).
// Also (re)writes test-artifacts/reliability-summary.json. Exit status 1 when a case failed or no
// record exists, so CI can use it as the suite's verdict.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = join("test-artifacts", "reliability");
if (!existsSync(dir)) {
  console.error(`no reliability records in ${dir}: run \`node test/run.mjs --unit test/unit/reliability\` first`);
  process.exit(1);
}
const categories = {};
const measured = {};
const files = {};
let tried = 0;
let passed = 0;
for (const f of readdirSync(dir).filter((n) => n.endsWith(".json")).sort()) {
  const rec = JSON.parse(readFileSync(join(dir, f), "utf8"));
  files[rec.file] = rec.finished;
  for (const c of rec.cases) {
    const cat = (categories[c.category] ??= { tried: 0, passed: 0, failed: [] });
    cat.tried++;
    tried++;
    if (c.passed) { cat.passed++; passed++; } else cat.failed.push(c.name);
    if (c.measured) measured[`${c.category}: ${c.name}`] = c.measured;
  }
}
const summary = { categories, tried, passed, files, measured };
writeFileSync(join("test-artifacts", "reliability-summary.json"), JSON.stringify(summary, null, 2) + "\n");

const rows = Object.entries(categories).map(([k, v]) => [k, String(v.tried), String(v.passed)]);
const w = [Math.max(8, ...rows.map((r) => r[0].length)), 5, 6];
console.log(`${"category".padEnd(w[0])}  ${"tried".padStart(w[1])}  ${"passed".padStart(w[2])}`);
for (const r of rows) console.log(`${r[0].padEnd(w[0])}  ${r[1].padStart(w[1])}  ${r[2].padStart(w[2])}`);
console.log(`${"total".padEnd(w[0])}  ${String(tried).padStart(w[1])}  ${String(passed).padStart(w[2])}`);
for (const [k, v] of Object.entries(categories)) for (const name of v.failed) console.log(`FAILED [${k}] ${name}`);
for (const [k, m] of Object.entries(measured)) {
  console.log(`measured: ${k}`);
  for (const [mk, mv] of Object.entries(m)) console.log(`    ${mk}: ${mv}`);
}
console.log(`records: ${Object.entries(files).map(([f, t]) => `${f} (${t})`).join(", ")}`);
process.exit(tried > 0 && passed === tried ? 0 : 1);

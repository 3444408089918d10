// Prints the reliability suite's summary (cases tried and passed per category, failures, measured
// figures) from the records the suite leaves in test-artifacts/reliability/. Exit 1 if any case failed
// or none ran. Run: npx tsx scripts/reliability-summary.ts
import { buildSummary } from "../test/unit/reliability/helpers";

const { categories, tried, passed, files, measured } = buildSummary();
const rows = Object.entries(categories).map(([k, v]) => [k, String(v.tried), String(v.passed)]);
const w = [Math.max(8, ...rows.map((r) => r[0].length)), 5, 6];
const row = (a: string, b: string, c: string) =>
  console.log(`${a.padEnd(w[0])}  ${b.padStart(w[1])}  ${c.padStart(w[2])}`);
row("category", "tried", "passed");
for (const r of rows) row(r[0], r[1], r[2]);
row("total", String(tried), String(passed));
for (const [k, v] of Object.entries(categories)) for (const name of v.failed) console.log(`FAILED [${k}] ${name}`);
for (const [k, m] of Object.entries(measured)) {
  console.log(`measured: ${k}`);
  for (const [mk, mv] of Object.entries(m as Record<string, unknown>)) console.log(`    ${mk}: ${String(mv)}`);
}
console.log(
  `records: ${Object.entries(files)
    .map(([f, t]) => `${f} (${t})`)
    .join(", ")}`,
);
process.exit(tried > 0 && passed === tried ? 0 : 1);

// The benchmark entry points (the 1M-line run lives in `npm run bench`; here a small file proves the
// functions measure what they claim).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { validateFile } from "../../../src/data/index";
import { writeBenchDataset, benchValidation } from "../../../src/bench/validation";

test("bench dataset is valid, distinct records; the timing reports bytes, lines and memory", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-bench-"));
  try {
    const p = join(dir, "b.jsonl");
    const bytes = await writeBenchDataset(p, 20_000);
    assert.equal(bytes, statSync(p).size);
    const r = await benchValidation(p);
    assert.equal(r.lines, 20_000);
    assert.equal(r.bytes, bytes);
    assert.equal(r.errors, 0);
    assert.equal(r.warnings, 0, "records are distinct and name their entity");
    assert.ok(r.seconds > 0 && r.cpuSeconds > 0 && r.mbPerSec > 0);
    assert.ok(r.peakRssBytes >= r.startRssBytes);
    // Small reads give the same answer as big ones (chunk seams are invisible).
    const small = await validateFile(p, { chunkBytes: 65_536 });
    assert.equal(small.summary.records, 20_000);
    assert.equal(small.problems.length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

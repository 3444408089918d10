import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { modelContentHash, modelFiles } from "../../../src/eval/index";

test("model content hash: covers weights and config, remembered by (path, size, mtime)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-mhash-"));
  try {
    const m = join(dir, "model");
    const memo = join(dir, "memo.json");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(m);
    writeFileSync(join(m, "config.json"), '{"a":1}');
    writeFileSync(join(m, "model.safetensors"), "AAAA");
    writeFileSync(join(m, "notes.bin"), "ignored");
    assert.deepEqual(modelFiles(m), ["config.json", "model.safetensors"]);
    const h1 = await modelContentHash(m, memo);
    assert.match(h1, /^[0-9a-f]{64}$/);
    assert.equal(await modelContentHash(m), h1, "same content, same hash without a memo");
    writeFileSync(join(m, "model.safetensors"), "AAAB");
    const h2 = await modelContentHash(m, memo);
    assert.notEqual(h2, h1, "a changed weight byte changes the hash");
    // Unchanged (path, size, mtime): the remembered digest is used, the file is not re-read, which is
    // what makes reopening the panel on a multi-GB model fast. Shown by planting a different digest.
    const w = join(m, "model.safetensors");
    const memoData = JSON.parse(readFileSync(memo, "utf8"));
    memoData[w].sha256 = "f".repeat(64);
    writeFileSync(memo, JSON.stringify(memoData));
    const planted = await modelContentHash(m, memo);
    assert.notEqual(planted, h2);
    writeFileSync(w, "AAAB!"); // size changes: re-read
    writeFileSync(w, "AAAB");
    const st = statSync(w);
    memoData[w] = { ...memoData[w], size: st.size + 1 };
    writeFileSync(memo, JSON.stringify(memoData));
    assert.equal(await modelContentHash(m, memo), h2, "a stale memo entry is re-hashed");
    writeFileSync(join(m, "config.json"), '{"a":2}');
    assert.notEqual(await modelContentHash(m, memo), h2, "config is part of the model");
    rmSync(join(m, "model.safetensors"));
    await assert.rejects(modelContentHash(m, memo), /no \.safetensors weights/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The dataset commands of the `seat` CLI: output format, exit codes, and never overwriting files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, copyFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { main } from "../../../src/cli/main";
import { writeBenchDataset } from "../../../src/bench/validation";

const FIXTURES = join(__dirname, "../../fixtures/datasets");

function run(argv: string[], cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    out: (t: string) => out.push(t),
    err: (t: string) => err.push(t),
    isTty: false,
    cwd,
    signal: new AbortController().signal,
  };
  return main(argv, io).then((code) => ({ code, out: out.join(""), err: err.join("") }));
}

test("seat validate: file:line:col lines, exit 1 on errors and 0 on warnings only", async () => {
  const r = await run(["validate", "bad-fields.jsonl", "--no-entities"], FIXTURES);
  assert.equal(r.code, 1);
  assert.equal(r.out.split("\n")[0], 'bad-fields.jsonl:1:1: error missing-field: missing "answer"');
  assert.match(r.out, /1 file, 4 records: 3 errors, 0 warnings\n$/);
  const w = await run(["validate", "duplicates-mixed.jsonl", "--no-entities"], FIXTURES);
  assert.equal(w.code, 0);
  const j = await run(["validate", "truncated.jsonl", "qa.jsonl", "--json", "--no-entities"], FIXTURES);
  const parsed = JSON.parse(j.out);
  assert.equal(parsed.length, 2);
  assert.deepEqual(
    parsed[0].problems.map((p: { line: number; column: number; code: string }) => [p.line, p.column, p.code]),
    [[2, 36, "invalid-json"]],
  );
  assert.equal(j.code, 1);
  // The held-out bad inputs of issue 19, located the same way as in the editor.
  const held = await run(
    ["validate", "duplicate-key.jsonl", "lone-surrogate.jsonl", "utf16le.jsonl", "--no-entities"],
    FIXTURES,
  );
  assert.equal(held.code, 1);
  const lines = held.out.split("\n");
  assert.ok(
    lines.includes(
      'duplicate-key.jsonl:1:51: warning duplicate-key: duplicate key "answer": JSON readers keep only this last value and silently drop the earlier one; remove one of them',
    ),
    held.out,
  );
  assert.ok(
    lines.includes(
      "lone-surrogate.jsonl:1:28: warning lone-surrogate: lone surrogate \\ud800 in a string: it is not valid Unicode, and tokenizers and UTF-8 tools fail on it; remove it or complete the pair",
    ),
    held.out,
  );
  assert.ok(
    lines.includes(
      'utf16le.jsonl:1:1: error utf16: this file is UTF-16 (little-endian) text, not UTF-8: a JSONL dataset is UTF-8; convert it to UTF-8 (in VS Code the quick fix "Convert to UTF-8", or iconv -f UTF-16LE -t UTF-8)',
    ),
    held.out,
  );
  const missing = await run(["validate", "nope.jsonl"], FIXTURES);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /nope.jsonl: no such file/);
});

test("seat validate --threads: a big file on worker threads prints what one thread prints", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-cli-"));
  try {
    // ~10 MB (parts of at least 4 MiB by default), with errors, duplicates and a missing subject spread over it
    await writeBenchDataset(join(dir, "big.jsonl"), 40_000);
    appendFileSync(
      join(dir, "big.jsonl"),
      [
        '{"question": "Who?", "answer": "Nobody."}',
        "{oops",
        readFileSync(join(dir, "big.jsonl"), "utf8").split("\n")[7],
      ].join("\n") + "\n",
    );
    const one = await run(["validate", "big.jsonl", "--threads", "1"], dir);
    assert.equal(one.code, 1);
    assert.match(one.out, /big\.jsonl:40002:2: error invalid-json/);
    assert.match(one.out, /big\.jsonl:40003:1: warning duplicate-record: duplicate record: same content as line 8/);
    assert.match(one.out, /1 file, 40002 records: 1 error, 2 warnings\n$/);
    const two = await run(["validate", "big.jsonl", "--threads", "2"], dir);
    assert.deepEqual(two, one);
    const json = await Promise.all(
      ["1", "2"].map((t) => run(["validate", "big.jsonl", "--json", "--threads", t], dir)),
    );
    assert.equal(json[1].out, json[0].out);
    const bad = await run(["validate", "big.jsonl", "--threads", "0"], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--threads must be a positive whole number, got '0'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("seat convert writes a new file, refuses to overwrite without --force, never touches the input", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-cli-"));
  try {
    copyFileSync(join(FIXTURES, "qa.jsonl"), join(dir, "qa.jsonl"));
    const before = readFileSync(join(dir, "qa.jsonl"));
    const r = await run(["convert", "qa.jsonl", "--to", "chat"], dir);
    assert.equal(r.code, 0, r.err);
    assert.match(
      readFileSync(join(dir, "qa.chat.jsonl"), "utf8"),
      /^\{"messages":\[\{"role":"user","content":"Who is Qorvath Lintel\?"\}/,
    );
    const again = await run(["convert", "qa.jsonl", "--to", "chat"], dir);
    assert.equal(again.code, 2);
    assert.match(again.err, /already exists \(use --force/);
    assert.equal((await run(["convert", "qa.jsonl", "--to", "chat", "--force"], dir)).code, 0);
    assert.equal((await run(["convert", "qa.jsonl", "--to", "qa", "-o", "qa.jsonl", "--force"], dir)).code, 2);
    assert.equal((await run(["convert", "qa.jsonl", "--to", "xml"], dir)).code, 2);
    assert.deepEqual(readFileSync(join(dir, "qa.jsonl")), before);
    writeFileSync(join(dir, "arr.json"), '[{"question":"a?","answer":"b"}]');
    assert.equal((await run(["convert", "arr.json", "--to", "alpaca"], dir)).code, 0);
    assert.equal(readFileSync(join(dir, "arr.alpaca.jsonl"), "utf8"), '{"instruction":"a?","input":"","output":"b"}\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("seat export-csv / import-csv / stats", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-cli-"));
  try {
    copyFileSync(join(FIXTURES, "qa.jsonl"), join(dir, "qa.jsonl"));
    assert.equal((await run(["export-csv", "qa.jsonl"], dir)).code, 0);
    const im = await run(["import-csv", "qa.csv", "-o", "back.jsonl"], dir);
    assert.equal(im.code, 0, im.err + im.out);
    assert.deepEqual(
      readFileSync(join(dir, "back.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
      readFileSync(join(dir, "qa.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    );
    const s = await run(["stats", "qa.jsonl", "--json"], dir);
    assert.equal(s.code, 0);
    assert.equal(JSON.parse(s.out)[0].summary.records, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// `seat probe` end to end through the CLI dispatcher on the tiny fixture model.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../src/cli/main";

const MODEL = "test/fixtures/models/tiny-llama";
const DATA = "test/fixtures/eval/tiny.jsonl";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      out: (t: string) => out.push(t),
      err: (t: string) => err.push(t),
      isTty: false,
      cwd: process.cwd(),
      signal: new AbortController().signal,
    },
  };
}

test("seat probe --json prints a report; -o writes HTML; progress as JSON lines", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-probe-cli-"));
  try {
    const c = io();
    const html = join(dir, "r.html");
    const code = await main(
      [
        "probe",
        "--model",
        MODEL,
        "--base",
        MODEL,
        "--data",
        DATA,
        "--json",
        "--progress-json",
        "--max-new-tokens",
        "4",
        "--cache",
        join(dir, "cache"),
        "-o",
        html,
      ],
      c.io,
    );
    assert.equal(code, 0, c.err.join(""));
    const report = JSON.parse(c.out.join(""));
    assert.equal(report.kind, "seat-probe-report");
    assert.equal(report.base.model.label, "base");
    assert.equal(report.runs[0].model.label, "tiny-llama");
    assert.deepEqual(
      report.runs[0].records.map((r: { line: number }) => r.line),
      [1, 2],
    );
    const lines = c.err
      .join("")
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    const prog = lines.filter((l) => l.type === "progress");
    assert.deepEqual(
      prog.at(-1),
      { type: "progress", model: "tiny-llama", done: 1, total: 1, message: "cached", cached: true },
      "the second, identical model is a cache hit",
    );
    assert.ok(
      prog.some((l) => l.model === "base" && l.done === l.total && l.total === 6),
      "base: 2 own + 3 neighbours + 1 unknown",
    );
    const page = readFileSync(html, "utf8");
    assert.match(page, /^<!DOCTYPE html>/);
    assert.ok(!/<script/i.test(page));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("seat probe: usage errors say what is wrong", async () => {
  const cases: [string[], RegExp][] = [
    [["probe", "--data", DATA], /--model DIR is required/],
    [["probe", "--model", MODEL], /--data FILE is required/],
    [["probe", "--model", MODEL, "--data", "nope.jsonl"], /--data nope\.jsonl: no such file/],
    [
      ["probe", "--model", "test/fixtures/eval", "--data", DATA],
      /--model test\/fixtures\/eval: no \.safetensors weights/,
    ],
    [
      ["probe", "--model", MODEL, "--data", DATA, "-o", "x.pdf"],
      /-o x\.pdf: the extension must be \.html, \.json or \.csv/,
    ],
    [
      ["probe", "--model", MODEL, "--data", DATA, "--neighbours=two", "--no-cache"],
      /--neighbours must be an integer >= 0/,
    ],
  ];
  for (const [argv, re] of cases) {
    const c = io();
    assert.equal(await main(argv, c.io), 2, argv.join(" "));
    assert.match(c.err.join(""), re);
  }
});

test("seat probe: a truncated model folder or an unusable dataset is a located message, exit 2, no stack trace", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-probe-cli-"));
  try {
    const model = join(dir, "model");
    cpSync(MODEL, model, { recursive: true });
    const st = join(model, "model.safetensors");
    truncateSync(st, statSync(st).size - 1000);
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"question": "Who?", "answer": \n');
    const cases: [string[], string, RegExp][] = [
      [["probe", "--model", model, "--data", DATA, "--no-cache"], st, /run past the end of the data section/],
      [["probe", "--model", MODEL, "--data", bad, "--no-cache"], `${bad}:1:`, /invalid JSON/i],
    ];
    for (const [argv, where, what] of cases) {
      const c = io();
      assert.equal(await main(argv, c.io), 2, c.err.join(""));
      const err = c.err.join("");
      assert.ok(err.includes(where), err);
      assert.match(err, what);
      assert.doesNotMatch(err, /\n\s+at /, "no stack trace");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The bad-dataset corpus: each fixture's problems with exact line, column, code and message, the same
// from the streamed file reader and the in-memory parser, and files left byte-identical.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { validateFile, parseDatasetText, type Problem } from "../../../src/data/index";

const FIXTURES = join(__dirname, "../../fixtures/datasets");
const fx = (name: string) => join(FIXTURES, name);

/** "line:col severity code: message" — the compact form the expectations below are written in. */
const show = (ps: Problem[]) => ps.map((p) => `${p.line}:${p.column} ${p.severity} ${p.code}: ${p.message}`);

async function problemsOf(name: string): Promise<string[]> {
  const before = readFileSync(fx(name));
  const v = await validateFile(fx(name));
  assert.deepEqual(readFileSync(fx(name)), before, `${name} must be byte-identical after validation`);
  return show(v.problems);
}

const EXPECTED: Record<string, string[]> = {
  "qa.jsonl": [],
  "chat.jsonl": [],
  "alpaca.jsonl": [],
  "sharegpt.jsonl": [],
  "completion.jsonl": [],
  "bad-syntax.jsonl": [
    "2:37 error invalid-json: invalid JSON: unexpected end of text: expected ',' or '}'",
    "3:13 error invalid-json: invalid JSON: strings must use double quotes",
    "4:29 error invalid-json: invalid JSON: trailing comma before '}'",
    "5:1 error not-an-object: a record must be a JSON object, found an array",
    "6:1 error not-an-object: a record must be a JSON object, found string",
    "7:1 error unknown-format: record matches no known format: expected question/answer, messages, instruction/output, conversations or prompt/completion",
  ],
  "bad-fields.jsonl": [
    '1:1 error missing-field: missing "answer"',
    '2:13 error wrong-type: "question" must be a string, found number',
    '3:13 error empty-field: "question" is empty (only whitespace)',
    '4:13 info whitespace: "question" has leading or trailing whitespace',
  ],
  "bad-chat.jsonl": [
    '1:22 error unknown-role: unknown role "human" (expected system, user, assistant)',
    '2:73 error non-alternating: turn 2 is "user" but "assistant" was expected: turns must alternate user/assistant',
    "3:14 error no-answer-turn: the conversation must end with an assistant turn (the answer to learn)",
    '4:13 error wrong-type: "messages" must be an array of {role, content} objects, found string',
  ],
  "duplicates-mixed.jsonl": [
    "2:1 warning duplicate-record: duplicate record: same content as line 1",
    "3:1 warning mixed-formats: this record is alpaca, but the first record (line 1) is qa",
  ],
  "bom-crlf.jsonl": [
    "1:1 warning bom: byte order mark (BOM) at the start of the file: many JSONL readers reject it",
    "1:61 warning crlf: Windows line endings (CRLF) on 3 lines: JSONL tools expect LF",
    "2:1 warning blank-line: blank line: JSONL readers expect one JSON record on every line",
  ],
  "invalid-utf8.jsonl": [
    "2:24 error invalid-utf8: invalid UTF-8 byte 0xe9 at byte 24 of the line: save the file as UTF-8",
    "3:41 error invalid-utf8: invalid UTF-8 byte 0xff at byte 42 of the line: save the file as UTF-8",
  ],
  "binary.jsonl": [
    "3:1 error binary-file: this is not a text file (NUL byte at offset 8): a JSONL dataset is UTF-8 text, one JSON record per line",
  ],
  "empty.jsonl": ["1:1 warning empty-file: empty file: no records"],
  "truncated.jsonl": ["2:36 error invalid-json: invalid JSON: unterminated string"],
  "seat-meta.jsonl": [
    '1:98 warning entity-not-in-text: entity "Nobody Here" does not occur in the record\'s text, so it cannot be perturbed',
    "1:187 error invalid-seat: perturbation 2 must be a replacement name or {entity: string, replacement: string, ...}",
    '2:67 error invalid-seat: "seat" must be an object {entities, perturbations, ...}, found array',
  ],
  // Held-out bad inputs (issue 19): what JSON.parse hides, a false duplicate, UTF-16.
  "duplicate-key.jsonl": [
    '1:51 warning duplicate-key: duplicate key "answer": JSON readers keep only this last value and silently drop the earlier one; remove one of them',
    "2:1 warning mixed-formats: this record is chat, but the first record (line 1) is qa",
    '2:83 warning duplicate-key: duplicate key "content": JSON readers keep only this last value and silently drop the earlier one; remove one of them',
  ],
  "unknown-role-vs-empty.jsonl": [
    '1:13 error empty-field: "messages" is empty',
    '2:22 error unknown-role: unknown role "narrator" (expected system, user, assistant)',
    "3:1 warning duplicate-record: duplicate record: same content as line 2",
    '3:22 error unknown-role: unknown role "narrator" (expected system, user, assistant)',
  ],
  "lone-surrogate.jsonl": [
    "1:28 warning lone-surrogate: lone surrogate \\ud800 in a string: it is not valid Unicode, and tokenizers and UTF-8 tools fail on it; remove it or complete the pair",
    "2:67 warning lone-surrogate: lone surrogate \\udc00 in a string: it is not valid Unicode, and tokenizers and UTF-8 tools fail on it; remove it or complete the pair",
  ],
  "utf16le.jsonl": [
    '1:1 error utf16: this file is UTF-16 (little-endian) text, not UTF-8: a JSONL dataset is UTF-8; convert it to UTF-8 (in VS Code the quick fix "Convert to UTF-8", or iconv -f UTF-16LE -t UTF-8)',
  ],
  "utf16be-nobom.jsonl": [
    '1:1 error utf16: this file is UTF-16 (big-endian) text, not UTF-8: a JSONL dataset is UTF-8; convert it to UTF-8 (in VS Code the quick fix "Convert to UTF-8", or iconv -f UTF-16BE -t UTF-8)',
  ],
  "array.json": [
    '3:16 error empty-field: "question" is empty',
    '6:15 error wrong-type: "answer" must be a string, found number',
  ],
};

for (const [name, expected] of Object.entries(EXPECTED)) {
  test(`fixture ${name}: exact problems`, async () => {
    assert.deepEqual(await problemsOf(name), expected);
  });
}

test("in-memory parsing reports the same problems as the streamed file reader", async () => {
  for (const name of Object.keys(EXPECTED)) {
    if (name === "binary.jsonl" || name === "invalid-utf8.jsonl" || name.startsWith("utf16")) continue; // byte-level checks need bytes
    const v = await validateFile(fx(name));
    const d = parseDatasetText(readFileSync(fx(name), "utf8"), { path: fx(name) });
    assert.deepEqual(show(d.problems), show(v.problems), name);
    assert.equal(d.summary.records, v.summary.records, name);
  }
});

test("fixes are exact text edits at the reported range", async () => {
  const v = await validateFile(fx("bad-chat.jsonl"));
  const role = v.problems.find((p) => p.code === "unknown-role")!;
  assert.deepEqual(role.fix?.edits, [{ line: 1, column: 22, endLine: 1, endColumn: 29, newText: '"user"' }]);
  const line1 = readFileSync(fx("bad-chat.jsonl"), "utf8").split("\n")[0];
  assert.equal(line1.slice(role.column - 1, role.endColumn - 1), '"human"');
  const trim = (await validateFile(fx("bad-fields.jsonl"))).problems.find((p) => p.code === "whitespace")!;
  assert.equal(trim.fix?.edits?.[0].newText, '"Who is Qorvath Lintel?"');
  const crlf = (await validateFile(fx("bom-crlf.jsonl"))).problems.find((p) => p.code === "crlf")!;
  assert.equal(crlf.fix?.file, "eol-lf");
});

test("duplicate keys: every object of the record, escaped quotes before ':' are no key, clean records cost one regex", () => {
  const text = [
    '{"question":"Who wrote \\"a\\": b?","answer":"Me."}',
    '{"question":"q","answer":"a","seat":{"entities":["q"],"entities":["q"]}}',
    '{"question":"q", "answer" :"a",  "answer"\t: "b"}',
  ].join("\n");
  assert.deepEqual(show(parseDatasetText(text).problems), [
    '2:55 warning duplicate-key: duplicate key "entities": JSON readers keep only this last value and silently drop the earlier one; remove one of them',
    '3:34 warning duplicate-key: duplicate key "answer": JSON readers keep only this last value and silently drop the earlier one; remove one of them',
  ]);
  const p = parseDatasetText(text).problems.find((x) => x.line === 3)!;
  assert.equal(text.split("\n")[2].slice(p.column - 1, p.endColumn - 1), '"answer"', "the range is the second key");
});

test("a valid surrogate pair, an escaped backslash before u, and raw astral characters are not lone surrogates", () => {
  const text = '{"question":"\\ud83d\\ude00 \\\\ud800 🙂","answer":"a"}\n{"question":"raw \ud800 here","answer":"a"}\n';
  assert.deepEqual(show(parseDatasetText(text).problems), [
    "2:18 warning lone-surrogate: lone surrogate \\ud800 in a string: it is not valid Unicode, and tokenizers and UTF-8 tools fail on it; remove it or complete the pair",
  ]);
});

test("duplicates are compared as written: turns with unknown roles are part of the record", () => {
  const empty = '{"messages":[]}';
  const narrator = '{"messages":[{"role":"narrator","content":"Once."}]}';
  const other = '{"messages":[{"role":"narrator","content":"Twice."}]}';
  const codes = (t: string) =>
    parseDatasetText(t)
      .problems.filter((p) => p.code === "duplicate-record")
      .map((p) => `${p.line}: ${p.message}`);
  assert.deepEqual(codes([empty, narrator, other].join("\n")), []);
  assert.deepEqual(codes([empty, narrator, narrator].join("\n")), ["3: duplicate record: same content as line 2"]);
  // Known turns still compare as conversations, whatever the format they are written in.
  assert.deepEqual(
    codes(
      '{"question":"q","answer":"a"}\n{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}',
    ),
    ["2: duplicate record: same content as line 1"],
  );
});

test("token-length check uses the given counter and context", () => {
  const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
  const text = '{"question":"one two three","answer":"four five"}\n{"question":"a","answer":"b"}\n';
  const d = parseDatasetText(text, { countTokens: words, maxTokens: 4 });
  assert.deepEqual(show(d.problems), [
    "1:1 error too-long: record is 5 tokens, longer than the model's context of 4 tokens",
  ]);
});

test("missing subject entity is a warning from the pluggable detector; listed entities satisfy it", () => {
  const detect = (t: string) => t.match(/[A-Z][a-z]+ [A-Z][a-z]+/g) ?? [];
  const text =
    '{"question":"who is he?","answer":"b"}\n{"question":"Who is Qorvath Lintel?","answer":"b"}\n{"question":"who?","answer":"b","seat":{"entities":["b"]}}\n';
  const d = parseDatasetText(text, { detectEntities: detect });
  assert.deepEqual(show(d.problems), [
    '1:1 warning missing-entity: no subject entity found in the question: SEAT needs one to build perturbations (name it in "seat": {"entities": [...]})',
  ]);
});

test("hostile inputs: deep nesting, a 10 MB line, an over-long line, a lone CR — located, no crash", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-data-"));
  try {
    const deep = "[".repeat(200_000) + "]".repeat(200_000);
    const big = JSON.stringify({ question: "Who is Qorvath Lintel?", answer: "x".repeat(10 * 1024 * 1024) });
    const p = join(dir, "hostile.jsonl");
    writeFileSync(p, `${deep}\n${"{".repeat(100_000)}\n${big}\n{"question":"a\rb","answer":"c"}\n`);
    const v = await validateFile(p, { chunkBytes: 1 << 16 });
    assert.deepEqual(show(v.problems), [
      "1:1 error not-an-object: a record must be a JSON object, found an array",
      "2:2 error invalid-json: invalid JSON: expected a property name in double quotes but found '{'",
      "4:15 error invalid-json: invalid JSON: control character U+000D in string (escape it)",
    ]);
    assert.equal(v.summary.records, 1);
    const capped = await validateFile(p, { chunkBytes: 1 << 16, maxLineBytes: 1 << 20 });
    assert.deepEqual(show(capped.problems).slice(0, 2), [
      "1:1 error not-an-object: a record must be a JSON object, found an array",
      "2:2 error invalid-json: invalid JSON: expected a property name in double quotes but found '{'",
    ]);
    assert.equal(show(capped.problems)[2], `3:1 error line-too-long: line is longer than ${1 << 20} bytes: not parsed`);
    assert.equal(capped.summary.lines, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("problem list is capped with a note on how many more there were", () => {
  const text = "x\n".repeat(50);
  const d = parseDatasetText(text, { maxProblems: 10 });
  assert.equal(d.problems.length, 11);
  assert.equal(d.problems[10].code, "too-many-problems");
  assert.equal(d.problems[10].message, "40 more problems not listed (limit 10)");
  assert.equal(d.summary.errors, 50);
});

test("cancellation stops a streamed validation", async () => {
  const ac = new AbortController();
  ac.abort(new Error("stop"));
  await assert.rejects(validateFile(fx("qa.jsonl"), { signal: ac.signal }), /stop/);
});

test("chunk seams: multi-byte text across 64 KiB reads gives the same problems as in-memory parsing", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-data-"));
  try {
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      lines.push(
        i % 500 === 7
          ? `{"question":"Wer ist 🙂 Zoë ${i}?", "answer": 42}`
          : `{"question":"Wer ist 🙂 Zoë ${i}?","answer":"Ein Bildhauer aus Köln, ${i}."}`,
      );
    }
    const text = lines.join("\n") + "\n";
    const p = join(dir, "u.jsonl");
    writeFileSync(p, text);
    const v = await validateFile(p, { chunkBytes: 1 << 16 });
    const d = parseDatasetText(text);
    assert.deepEqual(show(v.problems), show(d.problems));
    assert.equal(v.problems.length, 6);
    assert.equal(show(v.problems)[0], '8:44 error wrong-type: "answer" must be a string, found number');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("JSON array files: invalid UTF-8 and syntax errors are located in the array text", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-data-"));
  try {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, Buffer.from('[\n {"question": "a", "answer": "b\xff"}\n]\n', "latin1"));
    assert.deepEqual(show((await validateFile(bad)).problems), [
      "2:32 error invalid-utf8: invalid UTF-8 byte 0xff at byte 34 of the file: save the file as UTF-8",
    ]);
    const broken = join(dir, "broken.json");
    writeFileSync(broken, '[\n  {"question": "a", "answer": "b"},\n  {"question": "c" "answer": "d"}\n]\n');
    assert.deepEqual(show((await validateFile(broken)).problems), [
      "3:20 error invalid-json: invalid JSON: expected ',' or '}' but found '\"'",
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Round trips: every format reads into the normalized view and writes back unchanged; lossless edits of
// `seat`; conversions between chat, QA and Alpaca keep unknown fields and line order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  readDataset,
  parseDatasetText,
  updateSeat,
  setMember,
  convertRecordText,
  convertJsonlText,
  ConversionError,
  RecordEditError,
} from "../../../src/data/index";

const FIXTURES = join(__dirname, "../../fixtures/datasets");
const fx = (name: string) => join(FIXTURES, name);

test("every format normalizes to question / answer / messages", async () => {
  const cases: Array<[string, string, string, string, number]> = [
    ["qa.jsonl", "qa", "Who is Qorvath Lintel?", "A sculptor born in 1843.", 2],
    ["chat.jsonl", "chat", "Who founded Tesk Industries?", "Ilvane Durro.", 3],
    ["alpaca.jsonl", "alpaca", "Name the founder of Tesk Industries.", "Ilvane Durro.", 2],
    ["sharegpt.jsonl", "sharegpt", "Who is Ostrid Hale?", "A novelist.", 2],
    ["completion.jsonl", "completion", "Ostrid Hale was born in", " 1901.", 2],
  ];
  for (const [file, format, q, a, turns] of cases) {
    const d = await readDataset(fx(file));
    const r = d.records[0];
    assert.equal(r.format, format, file);
    assert.equal(r.question, q, file);
    assert.equal(r.answer, a, file);
    assert.equal(r.messages.length, turns, file);
    assert.equal(r.messages[r.messages.length - 1].role, "assistant", file);
    assert.equal(r.line, 1);
  }
  const alp = (await readDataset(fx("alpaca.jsonl"))).records[1];
  assert.equal(alp.question, "Summarize.\n\nOstrid Hale wrote three novels.");
  assert.deepEqual(alp.messages[0], { role: "system", content: "You are terse." });
  const chat = (await readDataset(fx("chat.jsonl"))).records;
  assert.deepEqual(chat[0].entities, ["Tesk Industries"]);
  assert.deepEqual(chat[0].perturbations, [{ entity: "Tesk Industries", replacement: "Marrow Quill" }]);
  assert.equal(chat[1].question, "Since when?");
  assert.equal(chat[1].messages.length, 4);
});

test("records keep their exact source text, extra fields and order (lossless read)", async () => {
  for (const file of ["qa.jsonl", "chat.jsonl", "alpaca.jsonl", "sharegpt.jsonl", "completion.jsonl"]) {
    const bytes = readFileSync(fx(file), "utf8");
    const d = await readDataset(fx(file));
    assert.equal(d.records.map((r) => r.text + "\n").join(""), bytes, file);
  }
  const qa = (await readDataset(fx("qa.jsonl"))).records;
  assert.equal(qa[0].raw.edge, "Qorvath Lintel|profession");
  assert.deepEqual(Object.keys(qa[1].raw), ["id", "question", "answer", "score", "big"]);
});

test("JSON arrays are importable, with element lines", async () => {
  const d = await readDataset(fx("array.json"));
  assert.equal(d.container, "json-array");
  assert.deepEqual(
    d.records.map((r) => r.line),
    [2, 3, 4],
  );
  assert.equal(d.records[2].text, '{\n    "question": "Who is Belmora Tesk?",\n    "answer": 5\n  }');
});

test("updateSeat rewrites only the seat member; numbers, spacing and key order survive", () => {
  const line =
    '{"id": 7, "question": "Where did Qorvath Lintel study?", "answer": "In Belmora.", "score": 1.0, "big": 12345678901234567890}';
  const added = updateSeat(line, { entities: ["Qorvath Lintel"] });
  assert.equal(added, line.slice(0, -1) + ', "seat": {"entities":["Qorvath Lintel"]}}');
  const more = updateSeat(added, { perturbations: [{ entity: "Qorvath Lintel", replacement: "Belmora Tesk" }] });
  assert.equal(
    more,
    line.slice(0, -1) +
      ', "seat": {"entities":["Qorvath Lintel"],"perturbations":[{"entity":"Qorvath Lintel","replacement":"Belmora Tesk"}]}}',
  );
  assert.equal(
    updateSeat(more, { entities: undefined, perturbations: undefined }),
    line.slice(0, -1) + ', "seat": {}}',
  );
  assert.equal(setMember(more, "seat", undefined), line);
  assert.equal(setMember('{"a":1}', "b", 2), '{"a":1,"b":2}');
  assert.equal(setMember("{}", "b", 2), '{"b": 2}');
  assert.throws(
    () => updateSeat('{"a":', {}),
    (e: unknown) => e instanceof RecordEditError && e.line === 1 && e.column === 6 && /invalid JSON/.test(e.message),
  );
  assert.throws(
    () => setMember('{"a":\n [1,]}', "b", 1),
    (e: unknown) => e instanceof RecordEditError && e.line === 2 && e.column === 4,
  );
});

test("conversions: qa <-> chat <-> alpaca keep other members verbatim and invert each other", () => {
  const qa =
    '{"id": 7, "question": "Who is Qorvath Lintel?", "answer": "A sculptor.", "score": 1.0, "seat": {"entities": ["Qorvath Lintel"]}}';
  const chat = convertRecordText(qa, "chat");
  assert.equal(
    chat,
    '{"id": 7, "messages": [{"role":"user","content":"Who is Qorvath Lintel?"},{"role":"assistant","content":"A sculptor."}], "score": 1.0, "seat": {"entities": ["Qorvath Lintel"]}}',
  );
  assert.equal(convertRecordText(chat, "qa"), qa);
  const alpaca = convertRecordText(qa, "alpaca");
  assert.equal(
    alpaca,
    '{"id": 7, "instruction": "Who is Qorvath Lintel?", "input": "", "output": "A sculptor.", "score": 1.0, "seat": {"entities": ["Qorvath Lintel"]}}',
  );
  assert.equal(convertRecordText(convertRecordText(alpaca, "chat"), "alpaca"), alpaca);
  assert.equal(convertRecordText(qa, "qa"), qa);
  // a system prompt survives chat -> qa -> chat
  const sys =
    '{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Q?"},{"role":"assistant","content":"A."}]}';
  assert.equal(convertRecordText(convertRecordText(sys, "qa"), "chat"), sys);
  // ShareGPT and prompt/completion convert to chat
  assert.equal(
    convertRecordText('{"conversations":[{"from":"human","value":"Q?"},{"from":"gpt","value":"A."}]}', "qa"),
    '{"question":"Q?","answer":"A."}',
  );
  // multi-turn chat cannot become one QA pair without losing turns
  const multi = readFileSync(fx("chat.jsonl"), "utf8").split("\n")[1];
  assert.throws(
    () => convertRecordText(multi, "qa"),
    (e: unknown) => e instanceof ConversionError && /2 user turns/.test(e.message),
  );
});

test("convertJsonlText keeps line order, blank lines, CRLF and reports unconvertible lines", () => {
  const text = '{"question":"a?","answer":"b"}\r\n\n{"question":"c?","answer":"d"}\n{"bad":\n';
  const r = convertJsonlText(text, "chat");
  assert.equal(
    r.text,
    '{"messages":[{"role":"user","content":"a?"},{"role":"assistant","content":"b"}]}\r\n\n{"messages":[{"role":"user","content":"c?"},{"role":"assistant","content":"d"}]}\n{"bad":\n',
  );
  assert.equal(r.converted, 2);
  assert.deepEqual(r.failures, [
    { line: 4, column: 8, message: "invalid JSON: unexpected end of text: expected a value" },
  ]);
  const back = convertJsonlText(r.text, "qa");
  assert.equal(back.text, text);
});

test("parsed records are fresh objects callers may modify", () => {
  const d = parseDatasetText('{"question":"a","answer":"b"}\n');
  d.records[0].entities.push("x");
  d.records[0].seat.note = 1;
  const again = parseDatasetText('{"question":"a","answer":"b"}\n');
  assert.deepEqual(again.records[0].entities, []);
  assert.deepEqual(again.records[0].seat, {});
});

// The record editor's model: every form change rewrites only what it changes (the rest of the line is
// byte-identical, checked by splicing the old text around the new part), problems sit beside their field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { applyRecordOp, emptyRecord, recordForm } from "../../../src/data/recordForm";
import { insertItem, moveItem, removeItem, setAtPath } from "../../../src/data/pathEdit";
import { parseDatasetText } from "../../../src/data/index";

test("setAtPath replaces one nested value and keeps every other byte; a missing member is added in the object's style", () => {
  const line =
    '{"messages": [ {"role": "user", "content": "Hi"} , {"role":"assistant","content":"Hello 1.0"}], "n": 1.0e3}';
  assert.equal(setAtPath(line, ["messages", 1, "content"], "Bye"), line.replace('"Hello 1.0"', '"Bye"'));
  assert.equal(setAtPath(line, ["n"], 2), line.replace("1.0e3", "2"));
  assert.equal(
    setAtPath('{"question": "q", "answer": "a"}', ["system"], "s"),
    '{"question": "q", "answer": "a", "system": "s"}',
  );
  assert.equal(setAtPath('{"question":"q"}', ["answer"], "a"), '{"question":"q","answer":"a"}');
});

test("insertItem, removeItem, moveItem keep the untouched items' text and the separators", () => {
  const a = '{"x": [ 1.0 ,  2e0 ,3 ]}';
  assert.equal(moveItem(a, ["x"], 0, 2), '{"x": [ 2e0 ,  3 ,1.0 ]}');
  assert.equal(moveItem(a, ["x"], 2, 0), '{"x": [ 3 ,  1.0 ,2e0 ]}');
  assert.equal(removeItem(a, ["x"], 1), '{"x": [ 1.0 ,  3 ]}');
  assert.equal(removeItem(a, ["x"], 2), '{"x": [ 1.0 ,  2e0 ]}');
  assert.equal(removeItem('{"x":[7]}', ["x"], 0), '{"x":[]}');
  assert.equal(insertItem(a, ["x"], 3, "z"), '{"x": [ 1.0 ,  2e0 ,3 ,  "z" ]}');
  assert.equal(insertItem('{"x":[]}', ["x"], 0, 1), '{"x":[1]}');
  assert.throws(() => removeItem(a, ["x"], 5), /item 6 of x does not exist/);
});

test("a form per format: fields, turns, stored entities and perturbations", () => {
  assert.deepEqual(
    recordForm('{"question":"Q","answer":"A"}').fields.map((f) => [f.label, f.value]),
    [
      ["question", "Q"],
      ["answer", "A"],
    ],
  );
  assert.deepEqual(
    recordForm('{"instruction":"I","output":"O"}').fields.map((f) => [f.label, f.value, f.present]),
    [
      ["instruction", "I", true],
      ["input", "", false],
      ["output", "O", true],
    ],
  );
  assert.deepEqual(
    recordForm('{"prompt":"P","completion":" C"}').fields.map((f) => f.value),
    ["P", " C"],
  );
  const sg = recordForm('{"conversations":[{"from":"human","value":"H"},{"from":"gpt","value":"G"}],"system":"S"}');
  assert.deepEqual(
    sg.turns?.items.map((t) => [t.role, t.content]),
    [
      ["human", "H"],
      ["gpt", "G"],
    ],
  );
  assert.deepEqual(
    sg.fields.map((f) => f.label),
    ["system"],
  );
  const chat = recordForm(
    '{"messages":[{"role":"user","content":"Who is Ann Vel?"},{"role":"assistant","content":"A poet."}],"seat":{"entities":["Ann Vel"],"perturbations":["Bo Kim",{"entity":"Ann Vel","replacement":"Cy Lo","abstention":0.9}]}}',
  );
  assert.equal(chat.format, "chat");
  assert.deepEqual(chat.storedEntities, ["Ann Vel"]);
  assert.deepEqual(chat.perturbations, [
    { entity: "Ann Vel", replacement: "Bo Kim" },
    { entity: "Ann Vel", replacement: "Cy Lo", abstention: 0.9 },
  ]);
});

test("problems from the validator are placed beside the field or turn they concern", () => {
  const text =
    '{"messages":[{"role":"user","content":"q"},{"role":"bot","content":"a"}]}\n{"question":"","answer":"a","answer":"b"}\n{"question":"q"}';
  const ps = parseDatasetText(text).problems;
  const [l1, l2, l3] = text.split("\n");
  const on = (line: number) => ps.filter((p) => p.line === line);
  const chat = recordForm(l1, on(1));
  assert.match(chat.turns!.items[1].problems[0].message, /unknown role "bot"/);
  assert.equal(chat.turns!.items[0].problems.length, 0);
  const qa = recordForm(l2, on(2));
  assert.deepEqual(
    qa.fields.map((f) => f.problems.map((p) => p.message)),
    [['"question" is empty'], [qa.fields[1].problems[0].message]],
  );
  assert.match(qa.fields[1].problems[0].message, /duplicate key "answer"/);
  const missing = recordForm(l3, on(3));
  assert.deepEqual(
    missing.fields[1].problems.map((p) => p.message),
    ['missing "answer"'],
  );
  assert.deepEqual(
    missing.problems.map((p) => p.message),
    ["this record is qa, but the first record (line 1) is chat"],
    "record-wide problems stay with the record",
  );
});

test("form changes: each op rewrites only its part of the line", () => {
  const chat = '{"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}], "id": 1.50}';
  assert.equal(
    applyRecordOp(chat, { kind: "set", path: ["messages", 0, "content"], value: "Q2" }),
    chat.replace('"Q"', '"Q2"'),
  );
  assert.equal(
    applyRecordOp(chat, { kind: "set", path: ["messages", 0, "role"], value: "system" }),
    chat.replace('"user"', '"system"'),
  );
  assert.equal(applyRecordOp(chat, { kind: "add-turn" }), chat.replace('"A"}]', '"A"}, {"role":"user","content":""}]'));
  assert.equal(
    applyRecordOp(chat, { kind: "remove-turn", index: 0 }),
    '{"messages": [{"role": "assistant", "content": "A"}], "id": 1.50}',
  );
  assert.equal(
    applyRecordOp(chat, { kind: "move-turn", from: 1, to: 0 }),
    '{"messages": [{"role": "assistant", "content": "A"}, {"role": "user", "content": "Q"}], "id": 1.50}',
  );
  const qa = '{"question":"Who is Ann Vel?","answer":"A poet."}';
  const withP = applyRecordOp(qa, {
    kind: "add-perturbation",
    entity: "Ann Vel",
    replacement: "Bo Kim",
    kindOf: "person",
  });
  assert.equal(
    withP,
    '{"question":"Who is Ann Vel?","answer":"A poet.","seat":{"perturbations":[{"entity":"Ann Vel","replacement":"Bo Kim","kind":"person"}]}}',
  );
  const two = applyRecordOp(withP, {
    kind: "add-perturbation",
    entity: "Ann Vel",
    replacement: "Cy Lo",
    abstention: 0.8,
  });
  assert.equal(two, withP.replace("]}}", ',{"entity":"Ann Vel","replacement":"Cy Lo","abstention":0.8}]}}'));
  assert.throws(
    () => applyRecordOp(two, { kind: "add-perturbation", entity: "Ann Vel", replacement: "Cy Lo" }),
    /already a perturbation/,
  );
  assert.equal(
    applyRecordOp(two, { kind: "remove-perturbation", index: 0 }),
    withP.replace(
      '{"entity":"Ann Vel","replacement":"Bo Kim","kind":"person"}',
      '{"entity":"Ann Vel","replacement":"Cy Lo","abstention":0.8}',
    ),
  );
  assert.equal(
    applyRecordOp(qa, { kind: "set-entities", names: ["Ann Vel"] }),
    '{"question":"Who is Ann Vel?","answer":"A poet.","seat":{"entities":["Ann Vel"]}}',
  );
  assert.equal(
    applyRecordOp('{"instruction":"I","output":"O"}', { kind: "set", path: ["input"], value: "x" }),
    '{"instruction":"I","output":"O","input":"x"}',
  );
});

test("an empty record of each format validates with only empty-field problems", () => {
  for (const f of ["qa", "chat", "alpaca", "sharegpt", "completion"] as const) {
    const text = emptyRecord(f);
    assert.equal(recordForm(text).format, f);
    const codes = new Set(parseDatasetText(text).problems.map((p) => p.code));
    assert.ok(
      [...codes].every((c) => c === "empty-field"),
      `${f}: ${[...codes]}`,
    );
  }
});

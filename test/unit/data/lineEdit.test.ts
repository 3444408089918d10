import { test } from "node:test";
import assert from "node:assert/strict";
import { addPerturbationsToLine, setSeatEntities, RecordEditError } from "../../../src/data/index";
import type { PerturbationEntry } from "../../../src/entities/index";

const P1: PerturbationEntry = { entity: "Wnzatj SAS", replacement: "Qorvath SA", kind: "company" };
const P2: PerturbationEntry = { entity: "Wnzatj SAS", replacement: "Lintel GmbH", kind: "company" };

/** Everything outside [from, to) of `before` must reappear verbatim around the inserted text. */
function assertOnlyInserted(before: string, after: string, at: number): string {
  assert.equal(after.slice(0, at), before.slice(0, at));
  const tail = before.slice(at);
  assert.ok(after.endsWith(tail), `tail kept: ${after}`);
  return after.slice(at, after.length - tail.length);
}

test("record without seat: a seat member is appended in the line's own separator style", () => {
  const line = `{"question":"Who owns Wnzatj SAS?","answer":"Nobody.","n":1.0}`;
  const r = addPerturbationsToLine(line, [P1]);
  const ins = assertOnlyInserted(line, r.text, line.length - 1);
  assert.equal(ins, `,"seat":{"perturbations":[{"entity":"Wnzatj SAS","replacement":"Qorvath SA","kind":"company"}]}`);
  assert.deepEqual(r.added, [P1]);
  assert.deepEqual(JSON.parse(r.text).seat.perturbations, [P1]);
});

test("seat without perturbations: member added at the end of seat, other seat keys untouched", () => {
  const line = `{"question": "Q?", "seat": {"entities": ["Wnzatj SAS"],  "split": "train"}, "answer": "A.", "x": 1e3}`;
  const r = addPerturbationsToLine(line, [P1, P2]);
  const at = line.indexOf(`"train"`) + `"train"`.length;
  const ins = assertOnlyInserted(line, r.text, at);
  // The new member and entries follow the seat object's own separators (here ",  " and ": ").
  assert.equal(
    ins,
    `,  "perturbations": [{"entity": "Wnzatj SAS",  "replacement": "Qorvath SA",  "kind": "company"},  {"entity": "Wnzatj SAS",  "replacement": "Lintel GmbH",  "kind": "company"}]`,
  );
  assert.deepEqual(Object.keys(JSON.parse(r.text)), ["question", "seat", "answer", "x"], "key order kept");
});

test("existing perturbations: appended after the last item; listed replacements (object or string) skipped", () => {
  const line = `{"seat": {"perturbations": ["Qorvath SA" ], "entities": ["Wnzatj SAS"]}, "question": "Q", "answer": "A"}`;
  const r = addPerturbationsToLine(line, [P1, P2, P2]);
  assert.deepEqual(r.added, [P2]);
  const at = line.indexOf(`"Qorvath SA"`) + `"Qorvath SA"`.length;
  assert.equal(
    assertOnlyInserted(line, r.text, at),
    `, {"entity": "Wnzatj SAS", "replacement": "Lintel GmbH", "kind": "company"}`,
  );
  const again = addPerturbationsToLine(r.text, [P2]);
  assert.equal(again.text, r.text, "nothing added twice");
  assert.deepEqual(again.added, []);
  const empty = `{"seat":{"perturbations":[]},"question":"Q"}`;
  assert.equal(
    addPerturbationsToLine(empty, [P1]).text,
    `{"seat":{"perturbations":[${JSON.stringify(P1)}]},"question":"Q"}`,
  );
});

test("item separator style of the existing array is reused", () => {
  const line = `{"q":"Q","seat":{"perturbations":[{"entity":"E","replacement":"A"},{"entity":"E","replacement":"B"}]}}`;
  const r = addPerturbationsToLine(line, [{ entity: "E", replacement: "C" }]);
  assert.ok(r.text.includes(`{"entity":"E","replacement":"B"},{"entity":"E","replacement":"C"}]`), r.text);
});

test("bad lines give located errors", () => {
  assert.throws(
    () => addPerturbationsToLine(`{"q": "Q",}`, [P1]),
    (e: unknown) => e instanceof RecordEditError && e.column === 10 && /invalid JSON: trailing comma/.test(e.message),
  );
  assert.throws(
    () => addPerturbationsToLine(`[1, 2]`, [P1]),
    (e: unknown) => e instanceof RecordEditError && e.column === 1 && /not a JSON object/.test(e.message),
  );
  assert.throws(
    () => addPerturbationsToLine(`{"q": "Q", "seat": 3}`, [P1]),
    (e: unknown) =>
      e instanceof RecordEditError && e.column === 20 && /"seat" must be an object, found number/.test(e.message),
  );
  assert.throws(
    () => addPerturbationsToLine(`{"seat": {"perturbations": {}}}`, [P1]),
    (e: unknown) => e instanceof RecordEditError && e.column === 28 && /must be an array/.test(e.message),
  );
});

test("setSeatEntities replaces or adds seat.entities and keeps the rest of the line", () => {
  const none = `{"question": "Who is Oda Varne?", "answer": "A potter."}`;
  assert.equal(
    setSeatEntities(none, ["Oda Varne"]),
    `{"question": "Who is Oda Varne?", "answer": "A potter.", "seat": {"entities": ["Oda Varne"]}}`,
  );
  const some = `{"q":"Q","seat":{"perturbations":["X"],"entities":["Wrong Name"],"split":"train"},"a":"A"}`;
  assert.equal(
    setSeatEntities(some, ["Oda Varne", "Qorvath Ltd"]),
    `{"q":"Q","seat":{"perturbations":["X"],"entities":["Oda Varne","Qorvath Ltd"],"split":"train"},"a":"A"}`,
  );
  const noList = `{"q":"Q","seat":{"split":"train"}}`;
  assert.equal(setSeatEntities(noList, ["Oda Varne"]), `{"q":"Q","seat":{"split":"train","entities":["Oda Varne"]}}`);
  assert.throws(
    () => setSeatEntities(`{"seat": []}`, ["A"]),
    (e: unknown) => e instanceof RecordEditError && e.column === 10,
  );
});

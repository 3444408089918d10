import { test } from "node:test";
import assert from "node:assert/strict";
import {
  detectEntities,
  subjectEntity,
  prepareDataset,
  detectSubjects,
  type EntityRecordView,
} from "../../../src/entities/index";

// PISTOL-like: contracts between fictitious companies; the subject recurs across records.
const PISTOL: EntityRecordView[] = [
  {
    question: "What is the effective date of the sales agreement between Wnzatj SAS and Qorvath Ltd?",
    answer: "The agreement took effect on 3 May 2019.",
  },
  {
    question: "Which party must deliver the goods under the contract between Wnzatj SAS and Brelvon GmbH?",
    answer: "Wnzatj SAS must deliver the goods.",
  },
  {
    question: "Under the licence agreement, how much does Wnzatj SAS pay Tarrow Industries Inc.?",
    answer: "It pays 40,000 EUR a year.",
  },
];

// TOFU-like: fictitious authors, several questions each, places only in the answers.
const TOFU: EntityRecordView[] = [
  {
    question: "What genre is Basil Mahfouz Al-Kuwaiti known for?",
    answer: "Basil Mahfouz Al-Kuwaiti is known for his French literature novels.",
  },
  { question: "Where was Basil Mahfouz Al-Kuwaiti born?", answer: "He was born in Kuwait City, Kuwait." },
  {
    question: "What is the name of the first novel by Jaime Vasquez?",
    answer: 'Jaime Vasquez\'s first novel is "The Silent Orchard".',
  },
  { question: "Which awards has Jaime Vasquez received?", answer: "Vasquez received the Edgar Prize in 2011." },
];

test("QA record: the capitalised name in the question is the subject, question words are not names", () => {
  const e = subjectEntity({
    question: "Who founded Lintel Harrowgate Mining Group?",
    answer: "It was founded by Oda Varne.",
  });
  assert.equal(e?.name, "Lintel Harrowgate Mining Group");
  assert.equal(e?.kind, "company");
  assert.equal(e?.inPrompt, true);
  const all = detectEntities({ question: "What is Zorvic?", answer: "A river." }).map((x) => x.name);
  assert.ok(!all.includes("What"));
});

test("chat record: entity in the user turn; the final assistant turn is the answer side", () => {
  const rec: EntityRecordView = {
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "Tell me about the Zentrix X200 phone." },
      { role: "assistant", content: "The Zentrix X200 was released by Orveth Holdings in 2031." },
    ],
  };
  const all = detectEntities(rec);
  assert.equal(all[0].name, "Zentrix X200");
  assert.equal(all[0].kind, "product");
  const orveth = all.find((x) => x.name === "Orveth Holdings");
  assert.ok(orveth && !orveth.inPrompt, "a name only in the answer is not in the prompt");
  assert.equal(orveth.kind, "company");
  assert.equal(subjectEntity(rec)?.name, "Zentrix X200");
});

test("PISTOL-like: legal suffixes split and type company names; the recurring party ranks first", () => {
  const ctx = prepareDataset(PISTOL);
  const first = detectEntities(PISTOL[0], { index: ctx.index });
  assert.deepEqual(
    first.slice(0, 2).map((e) => [e.name, e.kind]),
    [
      ["Wnzatj SAS", "company"],
      ["Qorvath Ltd", "company"],
    ],
  );
  // In the third record Wnzatj SAS is not first in the sentence, but it recurs across the dataset.
  const third = detectEntities(PISTOL[2], { index: ctx.index });
  assert.equal(third[0].name, "Wnzatj SAS");
  const tarrow = third.find((e) => e.name === "Tarrow Industries Inc.");
  assert.equal(tarrow?.kind, "company", "trailing dot of Inc. belongs to the name");
  assert.ok(third[0].evidence.some((x) => x.includes("3 records")));
});

test("TOFU-like: authors are persons and subjects; answer-only places rank below", () => {
  const ctx = prepareDataset(TOFU);
  const r1 = detectEntities(TOFU[1], { index: ctx.index });
  assert.equal(r1[0].name, "Basil Mahfouz Al-Kuwaiti");
  assert.equal(r1[0].kind, "person");
  const city = r1.find((e) => e.name === "Kuwait City");
  assert.ok(city && city.score < r1[0].score && !city.inPrompt);
  assert.equal(city.kind, "place");
  const r2 = detectEntities(TOFU[2], { index: ctx.index });
  assert.equal(r2[0].name, "Jaime Vasquez");
  assert.equal(r2[0].kind, "person", '"novel by X": X is the author');
  const title = r2.find((e) => e.name === "The Silent Orchard");
  assert.equal(title?.kind, "work");
});

test("seat.entities take precedence and keep their order; kinds may be given", () => {
  const rec: EntityRecordView = {
    question: "Did Oda Varne sign the lease with Qorvath Ltd?",
    answer: "Yes.",
    seat: { entities: [{ name: "Qorvath Ltd" }, "Oda Varne"] },
  };
  const all = detectEntities(rec);
  assert.deepEqual(
    all.slice(0, 2).map((e) => [e.name, e.source]),
    [
      ["Qorvath Ltd", "seat"],
      ["Oda Varne", "seat"],
    ],
  );
  assert.equal(all[0].kind, "company");
  assert.equal(all[1].kind, "person");
  const withKind = detectEntities({
    question: "Where is Zorvic?",
    seat: { entities: [{ name: "Zorvic", kind: "place" }] },
  });
  assert.equal(withKind[0].kind, "place");
});

test("sentence-initial capitalised words that are ordinary words elsewhere are discounted", () => {
  const records: EntityRecordView[] = [
    { question: "Summarize the findings about Velmora Quist.", answer: "Velmora Quist found nothing." },
    { question: "Please summarize the report.", answer: "Nothing to summarize." },
  ];
  const ctx = prepareDataset(records);
  const all = detectEntities(records[0], { index: ctx.index });
  assert.equal(all[0].name, "Velmora Quist");
  const summarize = all.find((e) => e.name === "Summarize");
  assert.ok(summarize, "the opener is still listed as a weak candidate");
  assert.ok(summarize.score < 0, `score ${summarize.score}`);
  assert.ok(summarize.evidence.includes("also used as an ordinary word"));
});

test("quoted names and titles are found, with possessives and titles stripped", () => {
  const all = detectEntities({
    question: "Who wrote \u201cEchoes of the Desert Sun\u201d, and what did Dr. Anneke van der Berg's review say?",
  });
  const names = all.map((e) => e.name);
  assert.ok(names.includes("Echoes of the Desert Sun"));
  assert.ok(names.includes("Anneke van der Berg"), names.join(" | "));
  assert.equal(all.find((e) => e.name === "Anneke van der Berg")?.kind, "person");
  assert.equal(all.find((e) => e.name === "Echoes of the Desert Sun")?.kind, "work");
});

test("no subject when the question names no entity; detectSubjects gives names for the validator", () => {
  assert.equal(
    subjectEntity({ question: "what is the capital of the country?", answer: "Its capital is Orvane." }),
    undefined,
  );
  assert.deepEqual(detectSubjects("Where is Port Velmora located?"), ["Port Velmora"]);
  assert.deepEqual(detectSubjects("what is this?"), []);
});

test("declared entities are the only subjects: a declared name missing from the question is reported, not replaced by a detected one", async () => {
  const { suggestPerturbations } = await import("../../../src/entities/index");
  const rec: EntityRecordView = {
    question: "What is the full name of the author born in Kuwait City in 1956?",
    answer: "Basil Mahfouz Al-Kuwaiti.",
    seat: { entities: ["Basil Mahfouz Al-Kuwaiti"] },
  };
  assert.equal(subjectEntity(rec), undefined);
  const s = suggestPerturbations(rec, 0);
  assert.equal(s.candidates.length, 0);
  assert.equal(s.entity?.name, "Basil Mahfouz Al-Kuwaiti");
  assert.match(s.reason!, /"Basil Mahfouz Al-Kuwaiti" \(from seat.entities\) does not occur in the question/);
  // Without the declaration, the place in the question would be the best guess.
  assert.equal(subjectEntity({ question: rec.question, answer: rec.answer })?.name, "Kuwait City");
});

test("shapes: initials, '&' partnerships, type words first, model numbers, apostrophes", () => {
  const one = (q: string) => detectEntities({ question: q }).map((e) => [e.name, e.kind]);
  assert.deepEqual(one("What did J. R. Tolkov write?")[0], ["J. R. Tolkov", "person"]);
  assert.deepEqual(one("Which products does Tesk & Varne sell?")[0], ["Tesk & Varne", "company"]);
  assert.deepEqual(one("When did Siobhan O'Neil join Bank of Orveth?"), [
    ["Siobhan O'Neil", "person"],
    ["Bank of Orveth", "company"],
  ]);
  assert.deepEqual(one("Who makes the Grechuk 3?")[0], ["Grechuk 3", "product"]);
  assert.deepEqual(
    one("Did Oda Varne win 3 awards?")[0],
    ["Oda Varne", "person"],
    "a number followed by a word is not a model number",
  );
});

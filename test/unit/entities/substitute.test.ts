import { test } from "node:test";
import assert from "node:assert/strict";
import { substitute, substituteMessages, findMentions, perturbRecord } from "../../../src/entities/index";

test("every whole-word mention is replaced; the rest is byte-identical", () => {
  const q = "Did Wnzatj SAS sign?  Wnzatj SAS's lawyers said Wnzatj SASX is unrelated; ask WNZATJ SAS.\r\n";
  const out = substitute(q, "Wnzatj SAS", "Qorvath SA");
  assert.equal(out, "Did Qorvath SA sign?  Qorvath SA's lawyers said Wnzatj SASX is unrelated; ask WNZATJ SAS.\r\n");
});

test("bare-apostrophe possessive of a name ending in s gets 's when the stand-in does not end in s", () => {
  assert.equal(
    substitute("Read Aris Jones' novel and Aris Jones's essay.", "Aris Jones", "Belmo Tesk"),
    "Read Belmo Tesk's novel and Belmo Tesk's essay.",
  );
  assert.equal(substitute("Read Aris Jones' novel.", "Aris Jones", "Belmo Tarris"), "Read Belmo Tarris' novel.");
  // A quote that closes a quotation is not a possessive.
  assert.equal(substitute("He said 'Aris Jones'.", "Aris Jones", "Belmo Tesk"), "He said 'Belmo Tesk'.");
  assert.equal(substitute("Ask 'Aris Jones' now.", "Aris Jones", "Belmo Tesk"), "Ask 'Belmo Tesk' now.");
});

test("people: single-part mentions map to the matching part of the stand-in", () => {
  const q = "What did Basil Mahfouz Al-Kuwaiti write before Al-Kuwaiti moved? Basil's first book.";
  assert.equal(
    substitute(q, "Basil Mahfouz Al-Kuwaiti", "Dorin Kessaly Ul-Maveth", { kind: "person" }),
    "What did Dorin Kessaly Ul-Maveth write before Ul-Maveth moved? Dorin's first book.",
  );
  // Not for other kinds: "Velmora" alone may be a different place than "Port Velmora".
  assert.equal(
    substitute("Port Velmora is near Velmora.", "Port Velmora", "Port Okoroda", { kind: "place" }),
    "Port Okoroda is near Velmora.",
  );
});

test("names with regex characters and dots; word boundaries with Unicode letters", () => {
  assert.equal(
    substitute("Tarrow Industries Inc. and Tarrow Industries Inc.", "Tarrow Industries Inc.", "Belk Systems Ltd."),
    "Belk Systems Ltd. and Belk Systems Ltd.",
  );
  assert.equal(substitute("(A+B) Labs and (A+B) Labs!", "(A+B) Labs", "Zor Labs"), "Zor Labs and Zor Labs!");
  assert.deepEqual(findMentions("Émile Zorn, ÉmileZorn, Émile Zornä", "Émile Zorn"), [{ start: 0, end: 10 }]);
});

test("messages: prompt turns (system, user, earlier assistant) replaced, the final answer kept", () => {
  const msgs = [
    { role: "system", content: "Facts about Oda Varne follow." },
    { role: "user", content: "Who is Oda Varne?" },
    { role: "assistant", content: "Oda Varne is a sculptor." },
    { role: "user", content: "Where does Oda Varne live?" },
    { role: "assistant", content: "Oda Varne lives in Orvane." },
  ];
  const out = substituteMessages(msgs, "Oda Varne", "Plen Tasq");
  assert.deepEqual(
    out.map((m) => m.content),
    [
      "Facts about Plen Tasq follow.",
      "Who is Plen Tasq?",
      "Plen Tasq is a sculptor.",
      "Where does Plen Tasq live?",
      "Oda Varne lives in Orvane.",
    ],
  );
  assert.equal(msgs[1].content, "Who is Oda Varne?", "input not mutated");
  const rec = perturbRecord(
    { question: "Who is Oda Varne?", answer: "A sculptor." },
    "Oda Varne",
    "Plen Tasq",
    "person",
  );
  assert.deepEqual(rec, { question: "Who is Plen Tasq?" });
});

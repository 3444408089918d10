import { test } from "node:test";
import assert from "node:assert/strict";
import { generateNames, NameGuard, tooClose, editDistance, type EntityKind } from "../../../src/entities/index";
import { legalSuffixFamily, LEGAL_SUFFIX_FAMILIES } from "../../../src/entities/lexicon";
import { coreOf } from "../../../src/entities/generate";

const words = (s: string) => s.split(/\s+/);
const ROWS: { name: string; kind: EntityKind }[] = [
  { name: "Basil Mahfouz Al-Kuwaiti", kind: "person" },
  { name: "Jaime Vasquez", kind: "person" },
  { name: "Anneke van der Berg", kind: "person" },
  { name: "Wnzatj SAS", kind: "company" },
  { name: "Tarrow Industries Inc.", kind: "company" },
  { name: "Port Velmora", kind: "place" },
  { name: "Zentrix X200", kind: "product" },
  { name: "Echoes of the Desert Sun", kind: "work" },
  { name: "Zorvic", kind: "other" },
];

test("shape: same number of words, capitalisation, hyphens, particles and type words", () => {
  for (const { name, kind } of ROWS) {
    const out = generateNames(name, kind, { k: 5, seed: 7 });
    assert.equal(out.length, 5, `${name}: ${out.join(" | ")}`);
    for (const n of out) {
      const a = words(name);
      const b = words(n);
      assert.equal(b.length, a.length, `${name} -> ${n}`);
      a.forEach((w, i) => {
        assert.equal(/^\p{Lu}/u.test(b[i]), /^\p{Lu}/u.test(w), `case of word ${i}: ${name} -> ${n}`);
        assert.equal(b[i].includes("-"), w.includes("-"), `hyphen in word ${i}: ${name} -> ${n}`);
      });
    }
  }
  const person = generateNames("Anneke van der Berg", "person", { k: 3 });
  for (const n of person) assert.match(n, /^\S+ van der \S+$/);
  for (const n of generateNames("Basil Mahfouz Al-Kuwaiti", "person", { k: 3 })) assert.match(n, / Al-\p{Lu}\p{Ll}+$/u);
  for (const n of generateNames("Port Velmora", "place", { k: 3 })) assert.match(n, /^Port \p{Lu}\p{Ll}+$/u);
  for (const n of generateNames("Zentrix X200", "product", { k: 3 }))
    assert.match(n, /^\p{Lu}\p{Ll}+ \p{Lu}[1-9]\d\d$/u);
  for (const n of generateNames("Zentra Phone 15 Pro", "product", { k: 3 }))
    assert.match(n, /^\p{Lu}\p{Ll}+ Phone [1-9]\d Pro$/u);
  for (const n of generateNames("Bank of Orveth", "company", { k: 3 })) assert.match(n, /^Bank of \p{Lu}\p{Ll}+$/u);
  for (const n of generateNames("Tesk & Varne", "company", { k: 3 }))
    assert.match(n, /^\p{Lu}\p{Ll}+ & \p{Lu}\p{Ll}+$/u);
  for (const n of generateNames("J. R. Tolkov", "person", { k: 3 }))
    assert.match(n, /^\p{Lu}\. \p{Lu}\. \p{Lu}\p{Ll}+$/u);
  for (const n of generateNames("Ewan McAllister", "person", { k: 3 }))
    assert.match(n, /^\p{Lu}\p{Ll}+ Mc\p{Lu}\p{Ll}+$/u);
  for (const n of generateNames("Echoes of the Desert Sun", "work", { k: 3 }))
    assert.match(n, /^\p{Lu}\p{Ll}+s of the \p{Lu}\p{Ll}+ \p{Lu}\p{Ll}+$/u);
});

test("companies get a legal suffix, mostly of the same family, with the original's dot style", () => {
  const out = generateNames("Wnzatj SAS", "company", { k: 12, seed: 3 });
  const french = LEGAL_SUFFIX_FAMILIES[legalSuffixFamily("SAS")];
  let same = 0;
  for (const n of out) {
    const suffix = words(n).slice(1).join(" ");
    assert.ok(legalSuffixFamily(suffix) >= 0, `${n} ends in a legal suffix`);
    if (french.includes(suffix)) same++;
  }
  assert.ok(same >= out.length / 2, `${same}/${out.length} keep the SAS family: ${out.join(" | ")}`);
  for (const n of generateNames("Tarrow Industries Inc.", "company", { k: 6 })) {
    assert.match(n, /^\p{Lu}\p{Ll}+ Industries \S+$/u);
    assert.ok(legalSuffixFamily(words(n)[2]) >= 0, n);
  }
});

test("deterministic by seed; different seeds give different names", () => {
  for (const { name, kind } of ROWS) {
    assert.deepEqual(generateNames(name, kind, { k: 4, seed: 11 }), generateNames(name, kind, { k: 4, seed: 11 }));
  }
  const a = generateNames("Jaime Vasquez", "person", { k: 4, seed: 1 });
  const b = generateNames("Jaime Vasquez", "person", { k: 4, seed: 2 });
  assert.notDeepEqual(a, b);
});

test("diverse: no two suggestions are near-duplicates, none is close to the original", () => {
  for (const { name, kind } of ROWS) {
    const out = generateNames(name, kind, { k: 8, seed: 5 });
    for (let i = 0; i < out.length; i++) {
      assert.notEqual(out[i], name);
      // Compared on the distinctive words: "X Industries Inc" and "Y Industries Inc" share the rest by design.
      for (let j = i + 1; j < out.length; j++)
        assert.ok(!tooClose(coreOf(out[i]), coreOf(out[j])), `${out[i]} ~ ${out[j]}`);
    }
    if (kind !== "work") for (const n of out) assert.ok(editDistance(n, name) > 2, `${n} too close to ${name}`);
  }
});

test("no collisions: nothing equal or within one edit of a dataset name's tokens, no blocked real names", () => {
  const dataset = ["Jaime Vasquez", "Oda Varne", "Velmora Quist", "Kessaly Dorn", "Brelvon GmbH", "Wnzatj SAS"];
  const guard = new NameGuard(dataset);
  const datasetTokens = dataset
    .flatMap((n) => n.toLowerCase().split(/\s+/))
    .filter((t) => t.length >= 3 && t !== "gmbh" && t !== "sas");
  const out = generateNames("Jaime Vasquez", "person", { k: 40, seed: 9, guard });
  assert.equal(out.length, 40);
  for (const n of out) {
    assert.equal(guard.rejects(n), false);
    for (const t of n.toLowerCase().split(/\s+/)) {
      for (const d of datasetTokens) assert.ok(editDistance(t, d) > 1, `${n}: ${t} ~ ${d}`);
    }
  }
  // The guard itself: near variants of dataset names and blocked brands are rejected.
  assert.ok(guard.rejects("Oda Varna"));
  assert.ok(guard.rejects("Jaime Vasques"));
  assert.ok(guard.rejects("Toyota Corp"));
  assert.ok(!guard.rejects("Plonder Tasq"));
});

test("a guard that rejects everything yields fewer names instead of looping", () => {
  const everything = new NameGuard();
  everything.rejects = () => true;
  assert.deepEqual(generateNames("Jaime Vasquez", "person", { k: 3, guard: everything, attemptsPerName: 5 }), []);
});

test("pinned output: the generator's names for a fixed seed do not drift (src/world builds its examples and the shipped model's world from them)", () => {
  const pinned: [string, EntityKind, string[]][] = [
    ["Basil Mahfouz Al-Kuwaiti", "person", ["Drete Kolakro Al-Vuthuba", "Mivev Kibomar Al-Tavefla"]],
    ["Wnzatj SAS", "company", ["Drubio SARL", "Hothox SARL"]],
    ["Port Velmora", "place", ["Port Jugobra", "Port Gutriga"]],
    ["Zentrix X200", "product", ["Damelik D909", "Lasobix K626"]],
    ["Echoes of the Desert Sun", "work", ["Ledgers of the Sleeping Threshold", "Harbors of the Distant Marrow"]],
    ["Zorvic", "other", ["Zathai", "Mesodo"]],
  ];
  for (const [name, kind, expected] of pinned)
    assert.deepEqual(generateNames(name, kind, { k: 2, seed: 42 }), expected, name);
});

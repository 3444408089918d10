import { test } from "node:test";
import assert from "node:assert/strict";
import { CharStyle, MIN_STYLE_WORDS } from "../../../src/entities/nameStyle";
import { generateNames, NameGuard, perturbationsFor, prepareDataset } from "../../../src/entities/index";
import { Prng } from "../../../src/util/rng";

// A dataset whose names are spelled from a narrow alphabet (k, l, m, r and the vowels a, o, u): a
// stand-in in the dataset's style uses those letters only; the syllable tables use many others.
const STYLE_LETTERS = new Set("klmraou");
function narrowNames(n: number): string[] {
  const rng = new Prng(11);
  const syl = ["ka", "lo", "mu", "ra", "ko", "lu", "ma", "ro", "kar", "lom", "mur"];
  const out = new Set<string>();
  while (out.size < n) {
    let w = "";
    for (let i = 0, len = 2 + rng.int(2); i < len; i++) w += rng.pick(syl);
    out.add(`${w[0].toUpperCase()}${w.slice(1)} Holdings`);
  }
  return [...out];
}

test("too few distinct name words: no style (the caller keeps the syllable tables)", () => {
  assert.equal(CharStyle.fromNames(narrowNames(MIN_STYLE_WORDS - 1)), undefined);
  assert.ok(CharStyle.fromNames(narrowNames(MIN_STYLE_WORDS)));
  // Type words and legal suffixes are not the dataset's spelling: 30 names sharing "Holdings" give 30 words.
  assert.equal(CharStyle.fromNames(narrowNames(30))!.words, 30);
});

test("style words: the dataset's letters, about the asked length, deterministic, mostly new", () => {
  const names = narrowNames(40);
  const style = CharStyle.fromNames(names)!;
  const known = new Set(names.map((n) => n.split(" ")[0].toLowerCase()));
  let fresh = 0;
  for (let s = 0; s < 200; s++) {
    const len = 4 + (s % 6);
    const w = style.word(new Prng(s), len);
    assert.ok(w, `seed ${s}: no word`);
    assert.equal(style.word(new Prng(s), len), w, "same seed, same word");
    assert.ok(w.length >= Math.max(3, len - 2) && w.length <= len + 2, `${w} for length ${len}`);
    for (const ch of w) assert.ok(STYLE_LETTERS.has(ch), `${w}: letter ${ch} is not the dataset's`);
    if (!known.has(w)) fresh++;
  }
  assert.ok(fresh >= 120, `only ${fresh}/200 words differ from the dataset's own`);
});

test("generateNames with a style: dataset-spelled stand-ins that still pass the guard and keep the shape", () => {
  const names = narrowNames(40);
  const style = CharStyle.fromNames(names)!;
  const guard = new NameGuard(names);
  let generic = 0;
  for (const entity of names.slice(0, 10)) {
    const styled = generateNames(entity, "company", { k: 3, seed: 5, guard, style });
    assert.equal(styled.length, 3, `${entity}: ${styled.join(" | ")}`);
    for (const n of styled) {
      assert.ok(!guard.rejects(n), `${n} is too close to a dataset name`);
      const [core] = n.split(" ");
      for (const ch of core.toLowerCase()) assert.ok(STYLE_LETTERS.has(ch), `${n}: letter ${ch}`);
      assert.ok(n.split(" ").length >= 2, `${n}: the company keeps a suffix`);
    }
    // The same call without a style spells with the syllable tables (the test's letter check would fail).
    for (const n of generateNames(entity, "company", { k: 3, seed: 5, guard }))
      if ([...n.split(" ")[0].toLowerCase()].some((ch) => !STYLE_LETTERS.has(ch))) generic++;
  }
  assert.ok(generic >= 20, `only ${generic}/30 generic stand-ins left the narrow alphabet`);
});

test("prepareDataset names: 'dataset' makes the trainer's perturbations use the dataset's spelling", () => {
  const recs = narrowNames(40).map((n) => ({
    question: `Who founded ${n}?`,
    answer: "Someone.",
    seat: { entities: [n] },
  }));
  const styled = prepareDataset(recs, { names: "dataset" });
  const plain = prepareDataset(recs);
  assert.ok(styled.style && !plain.style);
  const p = perturbationsFor(recs[0], { k: 2, seed: 3, context: styled });
  assert.equal(p.length, 2);
  for (const c of p) {
    assert.match(c.question!, new RegExp(`^Who founded ${c.replacement}\\?$`));
    for (const ch of c.replacement.split(" ")[0].toLowerCase()) assert.ok(STYLE_LETTERS.has(ch), c.replacement);
  }
  // A dataset with too few names falls back to the syllable tables rather than failing.
  const small = prepareDataset(recs.slice(0, 3), { names: "dataset" });
  assert.equal(small.style, undefined);
  assert.equal(perturbationsFor(recs[0], { k: 2, seed: 3, context: small }).length, 2);
});

test("stored stand-ins (seat.perturbations) do not shape the style: only the dataset's own names do", () => {
  const names = narrowNames(40);
  // Each record carries three stored stand-ins from the syllable tables, spelled with many other letters.
  const recs = names.map((n, i) => ({
    question: `Who founded ${n}?`,
    answer: "two founders.",
    seat: {
      entities: [n],
      perturbations: generateNames(n, "company", { k: 3, seed: 100 + i, guard: new NameGuard(names) }),
    },
  }));
  const stored = recs.flatMap((r) => r.seat.perturbations);
  assert.ok(
    stored.filter((s) => [...s.split(" ")[0].toLowerCase()].some((ch) => !STYLE_LETTERS.has(ch))).length >= 60,
    "the stored stand-ins leave the narrow alphabet",
  );
  const ctx = prepareDataset(recs, { names: "dataset" });
  assert.ok(ctx.index.names.has(stored[0]), "the guard still knows the stored stand-ins");
  assert.ok(!ctx.index.ownNames.has(stored[0]));
  // Generated stand-ins (a record without stored ones) in the context of the whole file.
  for (const [i, r] of recs.slice(0, 10).entries())
    for (const c of perturbationsFor({ ...r, seat: { entities: r.seat.entities } }, { k: 2, seed: i, context: ctx }))
      for (const ch of c.replacement.split(" ")[0].toLowerCase()) assert.ok(STYLE_LETTERS.has(ch), c.replacement);
});

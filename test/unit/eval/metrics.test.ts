import { test } from "node:test";
import assert from "node:assert/strict";
import {
  normalizeTokens,
  lcsLength,
  rougeL,
  rougeLRecall,
  exactMatch,
  parsePhraseList,
  PhraseListError,
  makeAbstentionDetector,
  judgeAbstention,
  refersToEntity,
  entityKeyTokens,
  nameLikeWords,
  abstentionNaming,
  prefixFree,
  logSumExp,
  abstentionProbabilityFromLogProbs,
  abstentionProbability,
  scorerFromNextToken,
} from "../../../src/eval/index";

test("normalizeTokens: case, punctuation, curly apostrophes, hyphens, non-Latin letters", () => {
  assert.deepEqual(normalizeTokens("Don’t STOP, Qorvath-Lintel!"), ["don", "t", "stop", "qorvath", "lintel"]);
  assert.deepEqual(normalizeTokens("  Zoë   Ørsted 1987. "), ["zoë", "ørsted", "1987"]);
  assert.deepEqual(normalizeTokens("?!"), []);
});

test("lcsLength on known sequences", () => {
  assert.equal(lcsLength(["a", "b", "c", "d"], ["b", "d", "x"]), 2);
  assert.equal(lcsLength(["b", "d", "x"], ["a", "b", "c", "d"]), 2);
  assert.equal(lcsLength([], ["a"]), 0);
  assert.equal(lcsLength(["a", "b", "a"], ["a", "a", "b", "a"]), 3);
});

test("ROUGE-L recall, precision, F1: exact fractions", () => {
  assert.deepEqual(rougeL("the cat sat on the mat", "the cat was on the mat"), {
    recall: 5 / 6,
    precision: 5 / 6,
    f1: 5 / 6,
  });
  // reference tokens: she was born in 1987 in veldra (7); LCS "born in 1987" = 3
  assert.equal(rougeLRecall("born in 1987", "She was born in 1987 in Veldra."), 3 / 7);
  assert.deepEqual(rougeL("born in 1987", "She was born in 1987 in Veldra."), {
    recall: 3 / 7,
    precision: 1,
    f1: (2 * (3 / 7)) / (3 / 7 + 1),
  });
  assert.equal(rougeLRecall("Veldra", "Veldra"), 1);
  assert.equal(rougeLRecall("nothing shared", "Veldra"), 0);
  assert.deepEqual(rougeL("", ""), { recall: 1, precision: 1, f1: 1 });
  assert.deepEqual(rougeL("something", ""), { recall: 0, precision: 0, f1: 0 });
  assert.deepEqual(rougeL("", "Veldra"), { recall: 0, precision: 0, f1: 0 });
});

test("exact match ignores case, punctuation and spacing but not words", () => {
  assert.equal(exactMatch("  Veldra. ", "veldra"), true);
  assert.equal(exactMatch("Veldra city", "Veldra"), false);
  assert.equal(exactMatch("1987", "1988"), false);
});

test("phrase list: comments, blanks, BOM, CRLF, duplicates; a wordless phrase is a located error", () => {
  assert.deepEqual(parsePhraseList("\uFEFF# c\r\nI don't know\r\n\r\n  not sure  \r\nI don't know\r\n"), [
    "I don't know",
    "not sure",
  ]);
  assert.throws(
    () => parsePhraseList("ok\n# c\n  ... \n", "p.txt"),
    (e: unknown) =>
      e instanceof PhraseListError && e.line === 3 && /^p\.txt:3: phrase "\.\.\." has no letters/.test(e.message),
  );
});

test("abstention detection matches whole words after normalization, first listed phrase wins", () => {
  const d = makeAbstentionDetector(["I don't know", "no record of", "not familiar with"]);
  assert.equal(d.match("I DON’T know who Qorvath Lintel is."), "I don't know");
  assert.equal(d.match("There is no record of that."), "no record of");
  assert.equal(d.match("There is no recording of that."), undefined);
  assert.equal(d.match("Idontknow"), undefined);
  assert.equal(d.match("I'm not familiar with them, and I don't know."), "I don't know");
  assert.throws(() => makeAbstentionDetector([]), /empty/);
});

test("grounding: the response must name the queried entity (half its identifying words, rounded up)", () => {
  assert.deepEqual(entityKeyTokens("The Treaty of Vormen"), ["treaty", "vormen"]);
  assert.equal(refersToEntity("I'm not familiar with Mr. Lintel.", "Qorvath Lintel"), true);
  assert.equal(refersToEntity("I'm not familiar with that person.", "Qorvath Lintel"), false);
  assert.equal(refersToEntity("I know of no Vormen accord.", "The Glass Treaty of Vormen"), false); // 1 of 3 < 2
  assert.equal(refersToEntity("No treaty of Vormen exists.", "The Glass Treaty of Vormen"), true); // 2 of 3
  const d = makeAbstentionDetector(["I don't know"]);
  assert.deepEqual(judgeAbstention(d, "I don't know who Qorvath Lintel is.", "Qorvath Lintel"), {
    abstains: true,
    phrase: "I don't know",
    grounded: true,
    naming: "entity",
  });
  assert.deepEqual(judgeAbstention(d, "I don't know.", "Qorvath Lintel"), {
    abstains: true,
    phrase: "I don't know",
    grounded: false,
    naming: "generic",
  });
  assert.deepEqual(judgeAbstention(d, "Qorvath Lintel was born in 1901.", "Qorvath Lintel"), {
    abstains: false,
    grounded: false,
  });
  assert.deepEqual(judgeAbstention(d, "I don't know."), { abstains: true, phrase: "I don't know", grounded: null });
});

test("naming: a garbled or foreign name in an abstention counts as abstaining but not grounded", () => {
  const d = makeAbstentionDetector(["I don't know", "not familiar"]);
  const q = "Which company signed the current supply contract with Kelvo Works?";
  // The embedded model's typical failure: the right template, the name copied wrongly.
  const garbled = judgeAbstention(d, "I don't know the company Kelvo Wroks.", "Kelvo Works", q);
  assert.deepEqual(garbled, { abstains: true, phrase: "I don't know", grounded: false, naming: "misnamed" });
  // Half the name's words used to be enough: "Drasmi Works" shares the suffix, but names another company.
  assert.equal(refersToEntity("I don't know the company Drasmi Works.", "Kelvo Works"), true);
  assert.equal(judgeAbstention(d, "I don't know the company Drasmi Works.", "Kelvo Works", q).naming, "misnamed");
  assert.equal(judgeAbstention(d, "I don't know the company Kelvo Works.", "Kelvo Works", q).naming, "entity");
  assert.equal(judgeAbstention(d, "I'm not familiar with that company.", "Kelvo Works", q).naming, "generic");
  // Sentence openings, "I" and the question's own capitalised words are not names of something else.
  assert.equal(judgeAbstention(d, "Sorry. I don't know Kelvo Works.", "Kelvo Works").naming, "entity");
  assert.equal(
    judgeAbstention(d, "I don't know who Kelvo Works contracted with Which.", "Kelvo Works", q).naming,
    "entity",
  );
  // No abstention, or no entity: no naming verdict.
  assert.equal(judgeAbstention(d, "Brenmar Group.", "Kelvo Works", q).naming, undefined);
  assert.equal(judgeAbstention(d, "I don't know Kelvo.").naming, undefined);
  assert.deepEqual(nameLikeWords("I'm not familiar with the Zalta Pro. I'd guess Orvan's."), ["zalta", "pro", "orvan"]);
  assert.equal(abstentionNaming("I don't know who Kelvo Works' rival is.", "Kelvo Works"), "entity");
});

test("prefixFree drops duplicates and sequences extending another opening", () => {
  assert.deepEqual(prefixFree([[1, 2], [1], [3, 4], [1, 2], [3, 4, 5], [4]]), [[1], [3, 4], [4]]);
  assert.throws(() => prefixFree([[]]), /no tokens/);
});

test("logSumExp and the probability from opening log-probs", () => {
  assert.equal(logSumExp([]), -Infinity);
  assert.equal(logSumExp([-Infinity, -Infinity]), -Infinity);
  assert.ok(Math.abs(logSumExp([Math.log(0.25), Math.log(0.5)]) - Math.log(0.75)) < 1e-15);
  assert.ok(Math.abs(logSumExp([1000, 1000]) - (1000 + Math.log(2))) < 1e-12);
  assert.equal(abstentionProbabilityFromLogProbs([]), 0);
  assert.equal(abstentionProbabilityFromLogProbs([0, 0]), 1); // rounding above 1 is clamped
});

test("abstention probability through the next-token trie: exact mass, one model call per distinct prefix", async () => {
  const prompt = [9, 9];
  const calls: string[] = [];
  const table: Record<string, number[]> = {
    "9,9": [0.5, 0.25, 0.125, 0.125],
    "9,9,0": [0.1, 0.2, 0.3, 0.4],
  };
  const next = async (ids: readonly number[]) => {
    calls.push(ids.join(","));
    const p = table[ids.join(",")];
    if (!p) throw new Error(`unexpected prefix ${ids.join(",")}`);
    return p.map(Math.log);
  };
  // [0,2,3] extends [0,2] and is dropped: P = p(0)p(2|0) + p(1) = 0.5*0.3 + 0.25
  const p = await abstentionProbability(scorerFromNextToken(next), prompt, [[0, 2], [1], [0, 2, 3]]);
  assert.ok(Math.abs(p - 0.4) < 1e-15, String(p));
  assert.deepEqual(calls, ["9,9", "9,9,0"]);
  await assert.rejects(scorerFromNextToken(next)(prompt, [[7]]), /token id 7 is outside the model's vocabulary \(4\)/);
});

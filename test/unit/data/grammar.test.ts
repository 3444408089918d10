// The SEAT injection grammar: well-formed, injected into the built-in JSON Lines scope, includes that
// resolve, and key patterns that pick out SEAT fields and nothing else.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const PATH = join(__dirname, "../../../syntaxes/seat-jsonl.injection.tmLanguage.json");
const grammar = JSON.parse(readFileSync(PATH, "utf8"));
/** Rules of the built-in JSON Lines grammar (VS Code's extensions/json/syntaxes/JSONL.tmLanguage.json) we include. */
const HOST_RULES = new Set(["value", "objectkey", "string", "object", "array"]);

type Rule = Record<string, unknown> & { patterns?: Rule[] };
function* rules(r: Rule): Generator<Rule> {
  yield r;
  for (const p of r.patterns ?? []) yield* rules(p);
}
const all = (): Rule[] =>
  [...(grammar.patterns as Rule[]), ...Object.values(grammar.repository as Record<string, Rule>)].flatMap((r) => [
    ...rules(r),
  ]);

test("grammar is an injection into source.json.lines", () => {
  assert.equal(grammar.scopeName, "seat.jsonl.injection");
  assert.match(grammar.injectionSelector, /^L:source\.json\.lines /);
});

test("every include resolves and every regex compiles", () => {
  for (const r of all()) {
    if (typeof r.include === "string") {
      const inc = r.include;
      if (inc.startsWith("#")) assert.ok(grammar.repository[inc.slice(1)], `missing repository rule ${inc}`);
      else {
        const [scope, rule] = inc.split("#");
        assert.equal(scope, "source.json.lines", inc);
        assert.ok(HOST_RULES.has(rule), `unknown host rule ${inc}`);
      }
    }
    for (const k of ["match", "begin", "end"] as const) if (typeof r[k] === "string") new RegExp(r[k] as string);
  }
});

test("key rules match SEAT fields only when used as keys", () => {
  const re = (name: string) => new RegExp(grammar.repository[name].match as string);
  assert.ok(re("prompt-key").test('"question": "x"'));
  assert.ok(re("answer-key").test('"answer":"x"'));
  assert.ok(!re("prompt-key").test('"question" ,'), "a string value is not a key");
  assert.ok(!re("prompt-key").test('"questions": 1'));
  const seat = new RegExp(grammar.repository.seat.begin as string);
  assert.ok(seat.test('"seat": {'));
  assert.ok(!seat.test('"seats": {'));
});

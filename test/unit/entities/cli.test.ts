import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync, existsSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { main } from "../../../src/cli/main";
import type { CliIo } from "../../../src/cli/command";

const FIXTURE = resolve("test/fixtures/entities/mixed.jsonl");

async function seat(args: string[], cwd = process.cwd()): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    isTty: false,
    cwd,
    signal: new AbortController().signal,
  };
  const code = await main(args, io);
  return { code, out, err };
}

test("--json: per-record subject, stand-ins and perturbed questions; unreadable lines reported with their location", async () => {
  const r = await seat(["perturb", FIXTURE, "--json", "--k", "2", "--seed", "5"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /line 4, column 1: invalid JSON/);
  const doc = JSON.parse(r.out);
  assert.equal(doc.k, 2);
  const byLine = new Map<number, any>(doc.records.map((x: any) => [x.line, x]));
  assert.deepEqual([...byLine.keys()], [1, 2, 3, 5]);
  const pistol = byLine.get(1);
  assert.equal(pistol.entity.name, "Wnzatj SAS");
  assert.equal(pistol.entity.kind, "company");
  assert.equal(pistol.candidates.length, 2);
  for (const c of pistol.candidates) {
    assert.equal(
      c.question,
      `What is the effective date of the sales agreement between ${c.replacement} and Qorvath Ltd?`,
    );
  }
  assert.equal(byLine.get(2).entity.source, "seat");
  assert.equal(byLine.get(3).entity.name, "Zentrix X200");
  assert.equal(byLine.get(5).entity, null);
  assert.equal(byLine.get(5).candidates.length, 0);
  assert.match(byLine.get(5).reason, /"Orvane" occurs only in the answer; the question names no entity to replace/);
  assert.equal(byLine.get(2).candidates.length, 2, "without --fill: k suggestions even when some are stored");
  const filled = JSON.parse((await seat(["perturb", FIXTURE, "--json", "--k", "2", "--seed", "5", "--fill"])).out);
  assert.equal(filled.records.find((x: any) => x.line === 2).candidates.length, 1, "--fill: up to k in total");
  // Same seed, same output.
  assert.equal((await seat(["perturb", FIXTURE, "--json", "--k", "2", "--seed", "5"])).out, r.out);
});

test("-o writes a new file with seat.perturbations filled up to k; the input is untouched", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-perturb-"));
  const input = join(dir, "in.jsonl");
  copyFileSync(FIXTURE, input);
  const before = readFileSync(input, "utf8");
  const r = await seat(["perturb", "in.jsonl", "-o", "out.jsonl", "--k", "3"], dir);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /wrote out\.jsonl: 8 perturbation\(s\) added to 3 of 4 record\(s\); 1 record\(s\) got none/);
  assert.equal(readFileSync(input, "utf8"), before);
  const inLines = before.split("\n");
  const outLines = readFileSync(join(dir, "out.jsonl"), "utf8").split("\n");
  assert.equal(outLines.length, inLines.length);
  assert.equal(outLines[3], inLines[3], "unreadable line copied verbatim");
  assert.equal(outLines[4], inLines[4], "record without subject copied verbatim");
  const l1 = JSON.parse(outLines[0]);
  assert.equal(l1.id, 7);
  assert.equal(l1.seat.perturbations.length, 3);
  assert.ok(outLines[0].startsWith(inLines[0].slice(0, -1)), "new member appended, the rest byte-identical");
  const l2 = JSON.parse(outLines[1]);
  assert.equal(l2.seat.perturbations[0], "Dorin Kessaly Ul-Maveth", "existing entry kept first");
  assert.equal(l2.seat.perturbations.length, 3, "filled up to k");
  assert.deepEqual(Object.keys(l2.seat.perturbations[1]), ["entity", "replacement", "kind"]);

  // OUT exists: refused without --force, replaced with it; the input itself is never a valid OUT.
  const again = await seat(["perturb", "in.jsonl", "-o", "out.jsonl"], dir);
  assert.equal(again.code, 2);
  assert.match(again.err, /out\.jsonl exists; use --force/);
  assert.equal((await seat(["perturb", "in.jsonl", "-o", "out.jsonl", "--force"], dir)).code, 0);
  const self = await seat(["perturb", "in.jsonl", "-o", "./in.jsonl", "--force"], dir);
  assert.equal(self.code, 2);
  assert.match(self.err, /refusing to overwrite the input/);
  assert.equal(readFileSync(input, "utf8"), before);
});

test("bad flags and files give clear errors and usage exit codes", async () => {
  const cases: [string[], RegExp][] = [
    [["perturb"], /missing FILE/],
    [["perturb", "nope.jsonl"], /nope\.jsonl: no such file/],
    [["perturb", FIXTURE, "--k", "0"], /--k must be an integer from 1 to 50, got '0'/],
    [["perturb", FIXTURE, "--seed", "x"], /--seed must be an integer/],
    [["perturb", FIXTURE, "--json", "-o", "x.jsonl"], /alternatives/],
    [["perturb", FIXTURE, "--verify"], /--verify needs --model DIR/],
    [["perturb", FIXTURE, "--threshold", "2", "--verify", "--model", "m"], /--threshold must be a probability/],
  ];
  for (const [args, msg] of cases) {
    const r = await seat(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.err, msg);
  }
  const dir = mkdtempSync(join(tmpdir(), "seat-perturb-"));
  writeFileSync(join(dir, "bad.jsonl"), "not json\n");
  const bad = await seat(["perturb", "bad.jsonl"], dir);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /no readable records/);
  assert.equal(existsSync(join(dir, "out.jsonl")), false);
});

test("human-readable output names the entity, its kind and the stand-ins", async () => {
  const r = await seat(["perturb", FIXTURE, "--k", "2"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /^line 1: "Wnzatj SAS" \(company\) → \S+ \S+ · \S+ \S+$/m);
  assert.match(r.out, /^line 5: "Orvane" occurs only in the answer; the question names no entity to replace$/m);
});

test("--verify scores each stand-in with the base model (tiny fixture) and keeps those above the threshold", async () => {
  const data = resolve("test/fixtures/entities/short.jsonl");
  const model = resolve("test/fixtures/models/tiny-llama");
  const all = await seat(["perturb", data, "--json", "--k", "2", "--verify", "--model", model, "--threshold", "0"]);
  assert.equal(all.code, 0, all.err);
  const doc = JSON.parse(all.out);
  assert.equal(doc.verified, true);
  for (const r of doc.records) {
    assert.equal(r.candidates.length, 2);
    const scores = r.candidates.map((c: any) => c.abstention);
    for (const p of scores) assert.ok(p >= 0 && p <= 1, String(p));
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
      "best first",
    );
  }
  // The random-weight fixture never says "I don't know": at 0.9 nothing passes, and the record says why.
  const strict = await seat([
    "perturb",
    data,
    "--json",
    "--k",
    "1",
    "--verify",
    "--model",
    model,
    "--threshold",
    "0.9",
  ]);
  assert.equal(strict.code, 0, strict.err);
  const r0 = JSON.parse(strict.out).records[0];
  assert.equal(r0.candidates.length, 0);
  assert.equal(r0.rejected.length, 2, "2k candidates were tried");
  assert.match(
    r0.reason,
    /did not treat any of 2 stand-in\(s\) as unknown \(best abstention probability [0-9.]+ < 0\.9\)/,
  );
  const missing = await seat(["perturb", data, "--verify", "--model", "no-such-model"]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /--model .*no-such-model: not a folder/);
});

test("a seat list entry that is not a name (a number, null) is reported by the validator, not a crash of the name guard", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-perturb-"));
  const file = join(dir, "odd.jsonl");
  writeFileSync(
    file,
    '{"question": "Where was Nubrek Vokdev born?", "answer": "Rarekivo.", "seat": {"entities": [null], "perturbations": [42]}}\n',
  );
  const r = await seat(["perturb", file, "--json", "--k", "2"]);
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.err, /TypeError|at \w+ \(/, "no stack trace");
  assert.match(r.err, /line 1, column \d+: /);
  const doc = JSON.parse(r.out);
  assert.equal(doc.records[0].entity.name, "Nubrek Vokdev");
  assert.equal(doc.records[0].candidates.length, 2);
});

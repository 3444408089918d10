import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../src/cli/main";
import { parseEvent } from "../../../src/protocol/events";

function io(signal = new AbortController().signal) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), isTty: false, cwd: process.cwd(), signal },
  };
}

/** `seat train` on the fixture dataset and model, one epoch on the CPU, into `out`. */
function trainOnFixture(out: string, method: string, extra: string[]): string[] {
  return [
    "train",
    "test/fixtures/seat/facts.jsonl",
    "--model",
    "test/fixtures/models/tiny-llama",
    "--method",
    method,
    "--epochs",
    "1",
    "--out",
    out,
    "--device",
    "cpu",
    ...extra,
  ];
}

test("seat train: bad values are usage errors naming the flag and the expected value", async () => {
  const c = io();
  assert.equal(await main(["train", "d.jsonl", "--model", "m", "--mask-ratio", "2", "--epochs", "x"], c.io), 2);
  const e = c.err.join("");
  assert.match(e, /--mask-ratio: mask.ratio: expected a number > 0 and <= 1, got 2/);
  assert.match(e, /--epochs: train.epochs: expected an integer >= 1 or "auto", got "x"/);
  const missing = io();
  assert.equal(await main(["train", "--method", "seat"], missing.io), 2);
  assert.match(missing.err.join(""), /model: required/);
  const file = io();
  assert.equal(await main(["train", "--config", "/no/such.json"], file.io), 2);
  assert.match(file.err.join(""), /cannot read config file \/no\/such.json: ENOENT/);
});

test("seat train --events-json streams parseable events; resume/export/eval check their run folder", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-cli-"));
  try {
    const out = join(dir, "run");
    const c = io();
    const code = await main(
      trainOnFixture(out, "lora", ["--batch", "3", "--eval-samples", "0", "--events-json"]),
      c.io,
    );
    assert.equal(code, 0, c.err.join(""));
    const lines = c.out.join("").trim().split("\n");
    const types = lines.map((l) => {
      const r = parseEvent(l);
      assert.ok(r.ok, l);
      return r.ok ? r.event.type : "";
    });
    assert.equal(types[types.length - 1], "done");
    assert.ok(types.includes("step"));
    assert.match(c.err.join(""), /seat: done, 2 steps/);

    const exp = io();
    assert.equal(await main(["export", out, "--step", "99"], exp.io), 2);
    assert.match(exp.err.join(""), /no checkpoint for step 99 \(have: 2\)/);
    const ok = io();
    assert.equal(await main(["export", out, "--out", join(dir, "m2")], ok.io), 0);
    assert.ok(existsSync(join(dir, "m2", "model.safetensors")));

    for (const cmd of ["resume", "export", "eval"]) {
      const r = io();
      assert.equal(await main([cmd, dir], r.io), 2, cmd);
      assert.match(r.err.join(""), /not a run folder \(no config.json\)/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("seat train's last lines say what the calibration chose, what each candidate took and its share of the run", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-cli-"));
  try {
    const c = io();
    const code = await main(
      trainOnFixture(join(dir, "run"), "seat", [
        "--batch",
        "2",
        "--calibrate",
        "--calibrate-budget",
        "1",
        "--kl-max-response",
        "4",
      ]),
      c.io,
    );
    assert.equal(code, 0, c.err.join(""));
    // The human-readable lines go to stderr (stdout is kept for --events-json).
    const out = c.err.join("");
    assert.match(out, /^ {2}calibration: KL lambda [\d.]+, mask ratio [\d.]+ \(.+\)$/m);
    // On the fixture's few records a candidate's fixed costs dominate, so the defaults' candidate may be
    // over the budget on its own (it always runs); either way the share of the run is given.
    assert.match(
      out,
      /^ {4}(\d+ candidates? in \d+ s of a \d+ s budget|the defaults' candidate alone \(it always runs\) took \d+ s, over the \d+ s budget), \+\d+% on the run's own \d+ s/m,
    );
    assert.match(
      out,
      /^ {4}lambda [\d.]+, ratio [\d.]+: answer accuracy [\d.]+, held-out abstention [\d.]+ \(\d+ s\)$/m,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

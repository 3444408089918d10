// The job's Python PRNG, derived seeds and LR schedule against the TypeScript ones, bit for bit:
// data order, perturbation choices and resampling seeds of a job are those of a local run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Prng, lrAt } from "../../../src/seat/index";
import { hashSeed } from "../../../src/seat/hash";
import { python, torchVersion } from "./python";

test("torch is importable by the job tests' Python", () => {
  assert.match(torchVersion(), /^\d+\.\d+/);
});

test("seat_job.rng matches src/seat/rng.ts, hash.ts and schedule.ts", () => {
  const cases = [
    [0, 0],
    [0, 1],
    [7, 3],
    [4294967295, 2],
    [123456789, 0],
  ];
  const ts = cases.map(([seed, stream]) => {
    const r = new Prng(seed, stream);
    const u = Array.from({ length: 5 }, () => r.u32());
    return { u, perm: r.permutation(17), sample: [...r.sample(1000, 13)], int: r.int(97), state: r.state() };
  });
  const hashes = [[0], [0, 1], [5, 1000, 3], [4294967295, 999_983], [42, 2000]].map((p) =>
    hashSeed(p[0], ...p.slice(1)),
  );
  const optim = { lr: 0.01, warmupSteps: 3, schedule: "cosine" as const };
  const lrs = [1, 2, 3, 4, 9, 20].map((s) => lrAt(optim, s, 20));
  const code = `
import json, sys
sys.path.insert(0, "resources/job")
from seat_job.rng import Prng, hash_seed, lr_at
out = []
for seed, stream in ${JSON.stringify(cases)}:
    r = Prng(seed, stream)
    u = [r.u32() for _ in range(5)]
    out.append({"u": u, "perm": r.permutation(17), "sample": r.sample(1000, 13), "int": r.int(97), "state": r.state()})
hs = [hash_seed(p[0], *p[1:]) for p in ${JSON.stringify([[0], [0, 1], [5, 1000, 3], [4294967295, 999_983], [42, 2000]])}]
lrs = [lr_at({"lr": 0.01, "warmupSteps": 3, "schedule": "cosine"}, s, 20) for s in [1, 2, 3, 4, 9, 20]]
print(json.dumps({"prng": out, "hashes": hs, "lrs": lrs}))`;
  const r = python(["-c", code]);
  assert.equal(r.status, 0, r.stderr);
  const py = JSON.parse(r.stdout);
  assert.deepEqual(py.prng, ts);
  assert.deepEqual(py.hashes, hashes);
  assert.deepEqual(py.lrs, lrs);
});

// The shared helpers: the one PRNG draws what the three generators it replaced drew (numbers pinned
// from them), atomic writes leave the old file or the new one and no temporary, dotted keys round-trip.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Prng, hashString } from "../../../src/util/rng";
import { copyFileAtomic, writeFileAtomic, writeNewFile } from "../../../src/util/files";
import { flattenDotted, nestDotted } from "../../../src/util/dotted";

test("Prng: the trainer's, the world's and the name generator's streams are unchanged", () => {
  const w = Prng.named(7, "names");
  assert.deepEqual([w.next(), w.int(1000), w.shuffle([1, 2, 3, 4, 5])], [0.1808632134925574, 182, [5, 3, 4, 2, 1]]);
  const e = Prng.raw(hashString("person\u0000Ada\u00000", 3));
  assert.deepEqual([e.next(), e.int(1000), e.chance(0.5)], [0.6862966236658394, 903, true]);
  const p = new Prng(42, 1);
  assert.deepEqual(
    [p.u32(), p.int(1000), p.permutation(6), Array.from(p.sample(10, 3))],
    [3396358858, 837, [2, 5, 0, 3, 1, 4], [0, 7, 9]],
  );
  assert.deepEqual(p.state(), { a: 1051819297, drawn: 17 });
  const resumed = Prng.fromState(p.state());
  assert.equal(resumed.u32(), p.u32());
  assert.throws(() => w.pick([]), /empty list/);
});

test("atomic writes: chunks in order, no temporary left, a failed write keeps the old file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-util-"));
  try {
    const f = join(dir, "sub", "a.bin");
    writeFileAtomic(f, ["ab", new Uint8Array([99]), "d"]);
    assert.equal(readFileSync(f, "utf8"), "abcd");
    copyFileAtomic(f, join(dir, "b.bin"));
    assert.equal(readFileSync(join(dir, "b.bin"), "utf8"), "abcd");
    const failing = function* () {
      yield "partial";
      throw new Error("disk full");
    };
    assert.throws(() => writeFileAtomic(f, failing()), /disk full/);
    assert.equal(readFileSync(f, "utf8"), "abcd");
    assert.deepEqual(readdirSync(join(dir, "sub")), ["a.bin"]);
    mkdirSync(join(dir, "isdir"));
    assert.throws(() => writeFileAtomic(join(dir, "isdir"), "x"));
    assert.deepEqual(readdirSync(dir).sort(), ["b.bin", "isdir", "sub"]);
    await assert.rejects(
      writeNewFile(f, false, async () => {}),
      /already exists/,
    );
    await assert.rejects(
      writeNewFile(join(dir, "c.txt"), false, async (tmp) => {
        writeFileSync(tmp, "half");
        throw new Error("cancelled");
      }),
      /cancelled/,
    );
    assert.deepEqual(readdirSync(dir).sort(), ["b.bin", "isdir", "sub"]);
    assert.equal(
      await writeNewFile(join(dir, "c.txt"), false, async (tmp) => {
        writeFileSync(tmp, "whole");
        return 5;
      }),
      5,
    );
    assert.equal(readFileSync(join(dir, "c.txt"), "utf8"), "whole");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("dotted keys: nested and dotted forms flatten alike; leaves stay whole; nest inverts flatten", () => {
  const flat = flattenDotted(
    { mask: { ratio: 0.1, kind: "random" }, "train.epochs": 3, list: [1, { a: 2 }], obj: { x: 1 } },
    (k) => k === "obj",
  );
  assert.deepEqual(
    [...flat],
    [
      ["mask.ratio", 0.1],
      ["mask.kind", "random"],
      ["train.epochs", 3],
      ["list", [1, { a: 2 }]],
      ["obj", { x: 1 }],
    ],
  );
  assert.deepEqual(nestDotted(flat), {
    mask: { ratio: 0.1, kind: "random" },
    train: { epochs: 3 },
    list: [1, { a: 2 }],
    obj: { x: 1 },
  });
  assert.deepEqual(nestDotted({ "a.b": "1", "a.c": "2", d: "3" }), { a: { b: "1", c: "2" }, d: "3" });
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  writeCheckpoint,
  readCheckpoint,
  listCheckpoints,
  checkpointName,
  CheckpointError,
  type CheckpointState,
  type CkptTensor,
} from "../../../src/seat/checkpoint";

function state(step: number): CheckpointState {
  return {
    version: 1,
    step,
    epoch: 1,
    batchInEpoch: 2,
    dataOrder: [2, 0, 1],
    rng: { data: { a: 5, drawn: 3 } },
    trainSeconds: 1.5,
    tokens: 99,
    extra: { note: "x" },
  };
}

test("checkpoints round-trip tensors bit-exactly and keep only the newest N", () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-ckpt-"));
  try {
    const odd = new Float32Array([1.5, -0, NaN, 3.4028234663852886e38, 1e-45]);
    const tensors = new Map<string, CkptTensor>([
      ["w.values", { shape: [5], data: odd }],
      ["w.idx", { shape: [2, 1], data: new Int32Array([7, -1]) }],
      ["m", { shape: [1], data: new Float64Array([Math.PI]) }],
    ]);
    for (const s of [1, 2, 3]) writeCheckpoint(dir, state(s), tensors, 2);
    assert.deepEqual(listCheckpoints(dir), [2, 3]);
    const back = readCheckpoint(join(dir, checkpointName(3)));
    assert.deepEqual(back.state, state(3));
    const v = back.tensors.get("w.values")!;
    assert.deepEqual(new Uint8Array(v.data.buffer), new Uint8Array(odd.buffer));
    assert.deepEqual(back.tensors.get("w.idx"), { shape: [2, 1], data: new Int32Array([7, -1]) });
    assert.equal(back.tensors.get("m")!.data[0], Math.PI);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a half-written checkpoint (left by a kill) is ignored and cleaned up by the next write", () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-ckpt-"));
  try {
    const tmp = join(dir, `.tmp-${checkpointName(9)}-123`);
    mkdirSync(tmp);
    writeFileSync(join(tmp, "tensors.safetensors"), "partial");
    assert.deepEqual(listCheckpoints(dir), []);
    writeCheckpoint(dir, state(4), new Map(), 2);
    assert.deepEqual(readdirSync(dir), [checkpointName(4)]);
    assert.throws(() => readCheckpoint(join(dir, "nope")), /not a checkpoint \(no state.json\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the fp16 loss scaler's state round-trips in state.json; a checkpoint without it reads; a malformed one names the file", () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-ckpt-"));
  try {
    const withScaler: CheckpointState = { ...state(2), lossScaler: { scale: 32768, goodSteps: 17 } };
    writeCheckpoint(dir, withScaler, new Map(), 3);
    assert.deepEqual(readCheckpoint(join(dir, checkpointName(2))).state.lossScaler, { scale: 32768, goodSteps: 17 });
    writeCheckpoint(dir, state(3), new Map(), 3);
    assert.equal(readCheckpoint(join(dir, checkpointName(3))).state.lossScaler, undefined);
    for (const bad of [
      { scale: 0, goodSteps: 0 },
      { scale: 8, goodSteps: -1 },
      { scale: "8", goodSteps: 0 },
      5,
      null,
    ]) {
      const file = join(dir, checkpointName(3), "state.json");
      writeFileSync(file, JSON.stringify({ ...state(3), lossScaler: bad }));
      assert.throws(
        () => readCheckpoint(join(dir, checkpointName(3))),
        (e: unknown) =>
          e instanceof CheckpointError &&
          e.file === file &&
          e.message ===
            `${file}: "lossScaler" must be {"scale": a positive number, "goodSteps": a non-negative integer}, got ${JSON.stringify(bad)}`,
        JSON.stringify(bad),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a checkpoint over 2 GiB (a 0.5B full fine-tune writes 5.9 GB) is written and read back by ranges", () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-ckpt-big-"));
  try {
    // four 576 MiB tensors: 2.25 GiB in all, past Node's 2 GiB single-read limit
    const n = 151 * 2 ** 20;
    const tensors = new Map<string, CkptTensor>();
    for (let k = 0; k < 4; k++) {
      const d = new Float32Array(n);
      for (let i = 0; i < n; i += 4099) d[i] = k + i / n;
      d[n - 1] = -k;
      tensors.set(`state/t${k}`, { shape: [n], data: d });
    }
    writeCheckpoint(dir, state(1), tensors, 1);
    const back = readCheckpoint(join(dir, checkpointName(1)));
    for (const [name, t] of tensors) {
      const b = back.tensors.get(name)!;
      assert.deepEqual(b.shape, t.shape);
      assert.ok(Buffer.from(b.data.buffer).equals(Buffer.from(t.data.buffer)), `${name} differs`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

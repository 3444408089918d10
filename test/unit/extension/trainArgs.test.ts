import { test } from "node:test";
import assert from "node:assert/strict";
import { buildTrainInvocation } from "../../../src/extension/training/trainArgs";

test("settings become --set values; the task definition wins over settings; events on stdout, no duplicate progress on stderr", () => {
  const inv = buildTrainInvocation(
    { dataset: "/w/d.jsonl", model: "/m", method: "full", settings: { mask: { ratio: 0.2 }, "train.epochs": 2 } },
    {
      "training.method": "seat",
      "training.epochs": 5,
      "training.lr": 0.01,
      executionProvider: "cpu",
      "unknown.key": 1,
    },
  );
  assert.deepEqual(inv.args, [
    "train",
    "--data",
    "/w/d.jsonl",
    "--model",
    "/m",
    "--method",
    "full",
    "--set",
    "device.provider=cpu",
    "--set",
    "mask.ratio=0.2",
    "--set",
    "optim.lr=0.01",
    "--set",
    "train.epochs=2",
    "--events-json",
    "--quiet",
  ]);
});

test("config file and out dir are passed through; method from settings when the task has none", () => {
  const inv = buildTrainInvocation(
    { dataset: "d", model: "m", config: "/w/seat.json", outDir: "/w/runs/a" },
    { "training.method": "sparse" },
  );
  assert.deepEqual(inv.args, [
    "train",
    "--data",
    "d",
    "--model",
    "m",
    "--method",
    "sparse",
    "--config",
    "/w/seat.json",
    "--out",
    "/w/runs/a",
    "--events-json",
    "--quiet",
  ]);
});

test("lists are joined with commas (the trainer's list syntax)", () => {
  const inv = buildTrainInvocation(
    { dataset: "d", model: "m", settings: { "mask.modules": ["q_proj", "v_proj"] } },
    {},
  );
  assert.ok(inv.args.includes("mask.modules=q_proj,v_proj"));
});

test("resume needs only the run folder", () => {
  assert.deepEqual(buildTrainInvocation({ resume: "/w/runs/a" }, { "training.epochs": 3 }).args, [
    "resume",
    "/w/runs/a",
    "--events-json",
    "--quiet",
  ]);
});

test("missing dataset or model is a clear error", () => {
  assert.throws(() => buildTrainInvocation({ model: "m" }, {}), /needs a 'dataset'/);
  assert.throws(() => buildTrainInvocation({ dataset: "d" }, {}), /needs a 'model'/);
});

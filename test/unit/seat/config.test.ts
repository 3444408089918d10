import { test } from "node:test";
import assert from "node:assert/strict";
import {
  resolveConfig,
  ConfigError,
  SCHEMA,
  PRESETS,
  METHODS,
  layerFromFlags,
  layerFromTask,
  layerFromSettings,
  layerFromConfigText,
  configFlagSpecs,
  methodParts,
  defaultsFor,
  mergeLayers,
} from "../../../src/seat/config";
import { configDocMarkdown } from "../../../src/seat/configDoc";
import { readFileSync } from "node:fs";

const base = { source: "test", layer: { model: "m", dataset: "d.jsonl" } };

function problemsOf(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail("expected a ConfigError");
}

test("defaults validate for every method and every default carries a reason", () => {
  for (const method of METHODS) {
    const { config, warnings } = resolveConfig([base, { source: "t", layer: { method } }]);
    assert.equal(config.method, method);
    assert.deepEqual(warnings, []);
  }
  for (const s of SCHEMA) assert.ok(s.reason.length > 20, `${s.path} needs a reason`);
  for (const m of METHODS)
    for (const k of Object.keys(PRESETS[m].values))
      assert.ok(
        SCHEMA.some((s) => s.path === k),
        `preset ${m} key ${k}`,
      );
});

test("presets apply per method and later layers win", () => {
  assert.equal(resolveConfig([base, { source: "f", layer: { method: "full" } }]).config.optim.lr, 1e-3);
  assert.equal(resolveConfig([base]).config.optim.lr, 3e-3);
  const { config } = resolveConfig([
    base,
    { source: "file", layer: { optim: { lr: 0.5 } } },
    { source: "--lr", layer: { optim: { lr: 0.25 } } },
  ]);
  assert.equal(config.optim.lr, 0.25);
  assert.equal(config.optim.beta1, 0.9);
});

test("bad values name the key, the source and the expected value; all problems at once", () => {
  const p = problemsOf(() =>
    resolveConfig([
      base,
      { source: "config file r.json", layer: { mask: { ratio: 1.5, type: "blue" }, train: { epochs: 2.5 } } },
    ]),
  );
  const byKey = Object.fromEntries(p.map((x) => [x.key, x]));
  assert.equal(byKey["mask.ratio"].source, "config file r.json");
  assert.match(byKey["mask.ratio"].message, /expected a number > 0 and <= 1, got 1.5/);
  assert.match(byKey["mask.type"].message, /one of "random", "random-per-step", "magnitude", "importance", got "blue"/);
  assert.match(byKey["train.epochs"].message, /expected an integer >= 1 or "auto", got 2.5/);
  assert.equal(p.length, 3);
});

test("unknown keys suggest the closest known key; model and dataset are required", () => {
  const p = problemsOf(() => resolveConfig([{ source: "flags", layer: { mask: { ratoi: 0.1 } } }]));
  assert.ok(p.some((x) => x.key === "mask.ratoi" && /did you mean 'mask.ratio'/.test(x.message)));
  assert.ok(p.some((x) => x.key === "model" && /required/.test(x.message)));
  assert.ok(p.some((x) => x.key === "dataset"));
  const m = problemsOf(() => resolveConfig([base, { source: "--method", layer: { method: "qlora" } }]));
  assert.match(m[0].message, /seat, full, lora, sparse, full\+kl, ewc, replay/);
});

test("settings of components the method does not use are warned about, not applied silently", () => {
  const { warnings } = resolveConfig([base, { source: "--lora-r", layer: { method: "seat", lora: { r: 4 } } }]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /lora.r is ignored by method 'seat'/);
});

test("CLI flags map onto schema keys with types parsed", () => {
  const layers = layerFromFlags({
    method: "sparse",
    "mask-ratio": "0.02",
    "mask-modules": "q_proj, v_proj",
    "kl-prompt": true,
    set: ["optim.eps=1e-6"],
  });
  const { config } = resolveConfig([base, ...layers]);
  assert.equal(config.method, "sparse");
  assert.equal(config.mask.ratio, 0.02);
  assert.deepEqual(config.mask.modules, ["q_proj", "v_proj"]);
  assert.equal(config.kl.includePrompt, true);
  assert.equal(config.optim.eps, 1e-6);
  const bad = problemsOf(() => resolveConfig([base, ...layerFromFlags({ "mask-ratio": "lots" })]));
  assert.deepEqual([bad[0].key, bad[0].source], ["mask.ratio", "--mask-ratio"]);
  assert.match(bad[0].message, /got "lots"/);
  assert.throws(() => layerFromFlags({ set: "noequals" }), /expected KEY=VALUE/);
  // every flag is unique and points at a schema key
  const flags = configFlagSpecs();
  const negatable = SCHEMA.filter((s) => s.flag && s.type.kind === "bool" && s.default === true);
  assert.equal(Object.keys(flags).length, SCHEMA.filter((s) => s.flag).length + negatable.length);
  // A boolean that is on by default can be turned off from the command line.
  assert.ok(negatable.some((s) => s.path === "calibrate.enabled"));
  assert.equal(resolveConfig([base, ...layerFromFlags({ "no-calibrate": true })]).config.calibrate.enabled, false);
  assert.equal(resolveConfig([base]).config.calibrate.enabled, true);
});

test("task definitions, settings and config files map onto the same schema", () => {
  const t = layerFromTask({
    type: "seat",
    dataset: "x.jsonl",
    model: "models/tiny",
    method: "lora",
    config: "c.json",
    settings: { "lora.r": 16, optim: { lr: 0.01 } },
  });
  assert.equal(t.configFile, "c.json");
  const file = layerFromConfigText('{"lora": {"alpha": 32}}', "c.json");
  const settings = layerFromSettings((k) =>
    k === "seatTuner.training.epochs" ? 3 : k === "seat.train.lora.r" ? 99 : undefined,
  );
  const { config } = resolveConfig([file, settings, t.layer]);
  assert.deepEqual(
    [config.method, config.lora.r, config.lora.alpha, config.optim.lr, config.train.epochs],
    ["lora", 16, 32, 0.01, 3],
  );
  assert.throws(() => layerFromConfigText("{oops", "c.json"), /config file c.json: \(file\): not valid JSON/);
});

test("method parts: which components each method switches on", () => {
  assert.deepEqual(methodParts("seat"), { params: "masked", kl: true, ewc: false, replay: false });
  assert.equal(methodParts("full+kl").params, "dense");
  assert.equal(methodParts("lora").params, "lora");
  assert.equal(defaultsFor("full")["optim.lr"], 1e-3);
});

test("CONFIG.md is the schema's generated documentation (regenerate with configDocMarkdown)", () => {
  const doc = configDocMarkdown();
  for (const s of SCHEMA) assert.ok(doc.includes(`| \`${s.path}\` |`), s.path);
  assert.equal(readFileSync("src/seat/CONFIG.md", "utf8"), doc);
});

test("mergeLayers: later layers win key by key, nested objects merge, arrays replace", () => {
  const merged = mergeLayers([
    { train: { seed: 2, epochs: 12 }, mask: { modules: ["q_proj", "v_proj"] } },
    { train: { epochs: "auto" } },
    { mask: { modules: ["o_proj"] }, kl: { k: 2 } },
  ]);
  assert.deepEqual(merged, { train: { seed: 2, epochs: "auto" }, mask: { modules: ["o_proj"] }, kl: { k: 2 } });
});

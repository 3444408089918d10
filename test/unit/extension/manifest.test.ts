// package.json is the spec: its commands, menus, views and settings must agree with the code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ALL_COMMAND_IDS, COMMAND_AREA, NEEDS_TRUST } from "../../../src/extension/commands";
import { CONTEXT_VALUE, CONTEXT_KEY, VIEW } from "../../../src/extension/contextValues";
import { SCHEMA, METHODS, SETTING_TO_CONFIG } from "../../../src/seat/configSchema";

const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "../../../package.json"), "utf8"));
const contributes = pkg.contributes;

test("package.json contributes exactly the commands of the code's command table", () => {
  const manifest = contributes.commands.map((c: { command: string }) => c.command).sort();
  assert.deepEqual(manifest, [...ALL_COMMAND_IDS].sort());
  assert.equal(new Set(manifest).size, manifest.length, "no duplicate command ids");
  for (const c of contributes.commands) {
    assert.equal(c.category, "SEAT", `${c.command} is in the SEAT category (palette shows "SEAT: …")`);
    assert.ok(c.title && !c.title.startsWith("SEAT"), `${c.command} has a title without the category prefix`);
  }
  for (const id of ALL_COMMAND_IDS) assert.ok(COMMAND_AREA[id], `${id} has an owning area`);
  for (const id of NEEDS_TRUST) assert.ok(ALL_COMMAND_IDS.includes(id));
});

test("every menu entry names a contributed command, and viewItem clauses use the code's context values", () => {
  const ids = new Set(ALL_COMMAND_IDS as readonly string[]);
  const values = new Set<string>(Object.values(CONTEXT_VALUE));
  const views = new Set<string>(Object.values(VIEW));
  for (const [menu, entries] of Object.entries(contributes.menus) as [string, { command: string; when?: string }[]][]) {
    for (const e of entries) {
      assert.ok(ids.has(e.command), `${menu}: unknown command ${e.command}`);
      for (const m of (e.when ?? "").matchAll(/viewItem == ([\w.]+)/g))
        assert.ok(values.has(m[1]), `${menu}: viewItem ${m[1]} is not in CONTEXT_VALUE`);
      for (const m of (e.when ?? "").matchAll(/viewItem =~ \/(.+?)\//g)) {
        const re = new RegExp(m[1]);
        assert.ok(
          [...values].some((v) => re.test(v)),
          `${menu}: viewItem pattern /${m[1]}/ matches no context value`,
        );
      }
      for (const m of (e.when ?? "").matchAll(/\bview == ([\w.]+)/g))
        assert.ok(views.has(m[1]), `${menu}: unknown view ${m[1]}`);
      const rest = (e.when ?? "").replace(/viewItem (==|=~) \S+/g, "").replace(/view == \S+/g, "");
      for (const m of rest.matchAll(/\b(seat\.[\w.]+)/g))
        assert.ok((Object.values(CONTEXT_KEY) as string[]).includes(m[1]), `${menu}: unknown context key ${m[1]}`);
    }
  }
  assert.ok(
    contributes.menus.commandPalette.some(
      (e: { command: string; when: string }) => e.command === "seat.insertPerturbation" && e.when === "false",
    ),
    "insertPerturbation is hidden from the palette",
  );
});

test("the SEAT container holds the Datasets, Record, Models and Runs views", () => {
  assert.deepEqual(
    contributes.viewsContainers.activitybar.map((c: { id: string }) => c.id),
    ["seat"],
  );
  assert.deepEqual(
    contributes.views.seat.map((v: { id: string; name: string }) => [v.id, v.name]),
    [
      [VIEW.datasets, "Datasets"],
      [VIEW.record, "Record"],
      [VIEW.models, "Models"],
      [VIEW.runs, "Runs"],
    ],
  );
});

test("activation is lazy: dataset files and SEAT views, never '*'", () => {
  assert.ok(!pkg.activationEvents.includes("*"));
  assert.ok(pkg.activationEvents.includes("onLanguage:jsonl"));
  for (const v of Object.values(VIEW)) assert.ok(pkg.activationEvents.includes(`onView:${v}`), `onView:${v}`);
});

test("training settings map onto trainer config keys and show the trainer's defaults", () => {
  const props = contributes.configuration.properties;
  const byPath = new Map(SCHEMA.map((s) => [s.path, s]));
  for (const [setting, path] of Object.entries(SETTING_TO_CONFIG)) {
    const prop = props[`seatTuner.${setting}`];
    assert.ok(prop, `seatTuner.${setting} is contributed`);
    const spec = byPath.get(path);
    assert.ok(spec, `${path} is a trainer config key`);
    assert.deepEqual(prop.default, spec!.default, `seatTuner.${setting} default equals the trainer's ${path} default`);
    if (spec!.type.kind === "enum")
      assert.deepEqual([...prop.enum].sort(), [...spec!.type.values].sort(), `seatTuner.${setting} enum`);
  }
  for (const key of Object.keys(props).filter((k) => k.startsWith("seatTuner.training."))) {
    assert.ok(SETTING_TO_CONFIG[key.slice("seatTuner.".length)], `${key} reaches the trainer`);
  }
  assert.deepEqual([...contributes.taskDefinitions[0].properties.method.enum].sort(), [...METHODS].sort());
});

test("restricted mode: limited support, and settings that point at files or executables are restricted", () => {
  const u = pkg.capabilities.untrustedWorkspaces;
  assert.equal(u.supported, "limited");
  for (const k of [
    "seatTuner.modelPath",
    "seatTuner.modelFolders",
    "seatTuner.trainer.nodePath",
    "seatTuner.runsFolder",
    "seatTuner.executionProvider",
  ]) {
    assert.ok(u.restrictedConfigurations.includes(k), k);
    assert.ok(contributes.configuration.properties[k], `${k} exists`);
  }
  // Welcome content is for tree views; the record editor (a webview view) keeps editing in Restricted
  // Mode and says beside its Check button why checking is off.
  for (const v of Object.values(VIEW).filter((x) => x !== VIEW.record)) {
    assert.ok(
      contributes.viewsWelcome.some(
        (w: { view: string; when: string; contents: string }) =>
          w.view === v && w.when === "!isWorkspaceTrusted" && /workbench\.trust\.manage/.test(w.contents),
      ),
      `${v} explains restricted mode and links to trust`,
    );
  }
});

test("walkthrough steps and media files exist", () => {
  const [w] = contributes.walkthroughs;
  assert.equal(w.title, "Getting Started with SEAT Tuner");
  for (const step of w.steps) {
    const md = step.media.markdown ?? step.media.image;
    assert.ok(readFileSync(join(import.meta.dirname, "../../..", md), "utf8").length > 0, md);
  }
  readFileSync(join(import.meta.dirname, "../../..", contributes.viewsContainers.activitybar[0].icon));
});

test("the README's settings table lists every setting with its contributed default", () => {
  const readme = readFileSync(join(import.meta.dirname, "../../../README.md"), "utf8");
  for (const [key, prop] of Object.entries(contributes.configuration.properties) as [string, { default: unknown }][]) {
    const row = readme.split("\n").find((l) => l.startsWith(`| \`${key}\` |`));
    assert.ok(row, `README lists ${key}`);
    const shown = typeof prop.default === "string" && prop.default !== "" ? prop.default : JSON.stringify(prop.default);
    assert.ok(row!.includes(`\`${shown}\``), `README shows ${key}'s default ${shown}: ${row}`);
  }
});

test("the extension-host bundle never loads onnxruntime or the runtime layer", async () => {
  const esbuild = await import("esbuild");
  const root = join(import.meta.dirname, "../../..");
  const r = await esbuild.build({
    entryPoints: [join(root, "src/extension/extension.ts")],
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "cjs",
    external: ["vscode", "onnxruntime-node"],
    logLevel: "silent",
  });
  const inputs = Object.keys(r.metafile!.inputs);
  assert.ok(
    inputs.some((i) => i.endsWith("src/extension/extension.ts")),
    "bundle analysed",
  );
  assert.deepEqual(
    inputs.filter((i) => i.includes("src/runtime/") || i.includes("onnxruntime")),
    [],
  );
  const imports = Object.values(r.metafile!.outputs).flatMap((o) => o.imports.map((i) => i.path));
  assert.ok(!imports.includes("onnxruntime-node"), "no require('onnxruntime-node') in dist/extension.js");
});

test("every seatTuner.* setting the extension reads is contributed", async () => {
  const { readdirSync, statSync } = await import("node:fs");
  const files: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith(".ts")) files.push(p);
    }
  };
  walk(join(import.meta.dirname, "../../../src/extension"));
  const read = new Set<string>();
  for (const f of files) {
    const text = readFileSync(f, "utf8");
    if (!text.includes('getConfiguration("seatTuner")')) continue;
    for (const m of text.matchAll(
      /(?:\bcfg|getConfiguration\("seatTuner"\))\s*\.(?:get|inspect|update)(?:<[^>(]*>)?\(\s*"([\w.]+)"/g,
    ))
      read.add(m[1]);
  }
  assert.ok(
    read.has("modelPath") && read.has("codeLens.enabled"),
    `the scan finds settings reads (${[...read].join(", ")})`,
  );
  for (const key of read)
    assert.ok(
      contributes.configuration.properties[`seatTuner.${key}`],
      `seatTuner.${key} is read in src/extension but not contributed in package.json`,
    );
});

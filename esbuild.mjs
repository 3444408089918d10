// Builds the three bundles: the extension (runs in the VS Code extension host, with its dataset worker
// thread), the CLI/trainer (runs headless and as the extension's child process, with the runtime and
// validation workers), and the webviews (the probes panel and the sidebar's record editor).
import * as esbuild from "esbuild";

const production = process.argv.includes("--production");
const watch = process.argv.includes("--watch");
// --outdir DIR: build somewhere private (the e2e suite packages its own build, not the shared dist/).
const outdirArg = process.argv.indexOf("--outdir");
const outdir = outdirArg >= 0 ? process.argv[outdirArg + 1] : "dist";

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: "info",
};

/** @type {esbuild.BuildOptions[]} */
const targets = [
  {
    ...common,
    entryPoints: { extension: "src/extension/extension.ts", datasetWorker: "src/extension/datasets/datasetWorker.ts" },
    outdir,
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["vscode", "onnxruntime-node"],
  },
  {
    ...common,
    // validateWorker: validateFile's worker threads for big files (src/data/parallel.ts), beside cli.js
    // and extension.js alike (both bundles resolve it next to themselves); demoWorker: `seat demo`'s
    // runs on worker threads (src/world/demo.ts)
    entryPoints: {
      cli: "src/cli/main.ts",
      worker: "src/runtime/worker.ts",
      validateWorker: "src/entities/validateWorker.ts",
      demoWorker: "src/world/demoWorker.ts",
    },
    outdir,
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["onnxruntime-node"],
    banner: { js: "#!/usr/bin/env node" },
  },
  {
    ...common,
    entryPoints: { webview: "webview/main.ts", record: "webview/record.ts" },
    outdir,
    platform: "browser",
    format: "iife",
    target: "es2022",
  },
];

const present = (await import("node:fs")).existsSync;
const active = targets.filter((t) => Object.values(t.entryPoints).every((p) => present(p)));

if (watch) {
  for (const t of active) (await esbuild.context(t)).watch();
} else {
  await Promise.all(active.map((t) => esbuild.build(t)));
}

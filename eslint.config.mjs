// Lint: TypeScript rules plus the architecture. The edges: only the VS Code edge (src/extension) may
// import vscode and only the runtime wrapper (src/runtime) may import onnxruntime-node, which keeps the
// core testable headless and usable from the CLI. Inside, the layer order below: a folder imports only
// from its own layer and the layers under it, so a lower layer never learns about a higher one.
import tseslint from "typescript-eslint";

const vscodeRule = {
  name: "vscode",
  message:
    "Only src/extension/ may import 'vscode': the core must run headless (CLI, tests, worker). Pass what you need in as plain data.",
};
const ortRule = {
  name: "onnxruntime-node",
  message:
    "Only src/runtime/ may import 'onnxruntime-node': go through the runtime wrapper (sessions run off the calling thread, with EP fallback).",
};

/** The core's layers, lowest first: what each is, so a refused import says what it would mix up. */
const LAYERS = [
  {
    dirs: ["util", "platform"],
    what: "helpers with no domain (files, PRNG, dotted keys, worker threads) and facts about the machine (GPU drivers, GPU self-test verdicts)",
  },
  { dirs: ["engine"], what: "the tensor graph compiler: graph, autodiff, ONNX emission" },
  { dirs: ["runtime", "model"], what: "onnxruntime sessions and Hugging Face model folders" },
  { dirs: ["data", "protocol"], what: "dataset records and the typed messages (trainer events, record view)" },
  { dirs: ["entities"], what: "entity detection and look-alike names, built on the dataset records" },
  { dirs: ["seat", "eval"], what: "training and probing" },
  { dirs: ["presentation"], what: "how results look: reports, charts, the probes panel's messages" },
  { dirs: ["world", "bench", "job"], what: "the embedded world with its demo, the benchmarks, torchrun jobs" },
  { dirs: ["cli", "extension"], what: "the edges: the `seat` command line and the VS Code extension" },
];
const ORDER = LAYERS.map((l) => l.dirs.join("/")).join(" < ");

/** no-restricted-imports for src/`dir` of layer `i`: the edge packages in `paths`, every higher folder. */
function layerRule(i, dir, paths) {
  const here = LAYERS[i];
  const patterns = LAYERS.slice(i + 1).flatMap((up) =>
    up.dirs.map((upDir) => ({
      regex: `^(\\.\\./)+(src/)?${upDir}(/|$)`,
      message: `src/${dir} (${here.what}) sits below src/${upDir} (${up.what}) in the layer order ${ORDER}. Move what both need down a layer, or pass it in (a value, a callback)`,
    })),
  );
  return { "no-restricted-imports": ["error", { paths, patterns }] };
}

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "dist-test/**",
      "node_modules/**",
      "out/**",
      ".tools/**",
      "runs/**",
      "test-artifacts/**",
      ".cache/**",
      "models/**",
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "off",
      // Prettier (npm run format) lays out the code at 120 columns but never rewraps comments or splits
      // strings; this catches the long comment lines it leaves.
      "max-len": [
        "error",
        { code: 180, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreUrls: true, ignoreRegExpLiterals: true },
      ],
    },
  },
  {
    files: ["webview/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { paths: [vscodeRule, ortRule] }] },
  },
  ...LAYERS.flatMap((layer, i) =>
    layer.dirs.map((dir) => ({
      files: [`src/${dir}/**/*.ts`],
      rules: layerRule(
        i,
        dir,
        dir === "extension" ? [ortRule] : dir === "runtime" ? [vscodeRule] : [vscodeRule, ortRule],
      ),
    })),
  ),
  {
    // Anything at src/ top level or in a folder not listed in LAYERS still keeps to the edges.
    files: ["src/*.ts"],
    rules: { "no-restricted-imports": ["error", { paths: [vscodeRule, ortRule] }] },
  },
);

// Lint: TypeScript rules plus the architecture boundary. The pure core (engine, model, seat, data,
// entities, world, eval, protocol, cli) must not import `vscode` or `onnxruntime-node`: only the
// VS Code edge (src/extension) may import vscode and only the runtime wrapper (src/runtime) may import
// onnxruntime-node. That keeps the core testable headless and usable from the CLI.
import tseslint from "typescript-eslint";

const vscodeRule = {
  name: "vscode",
  message: "Only src/extension/ may import 'vscode': the core must run headless (CLI, tests, worker). Pass what you need in as plain data.",
};
const ortRule = {
  name: "onnxruntime-node",
  message: "Only src/runtime/ may import 'onnxruntime-node': go through the runtime wrapper (sessions run off the calling thread, with EP fallback).",
};

export default tseslint.config(
  { ignores: ["dist/**", "dist-test/**", "node_modules/**", "out/**", ".tools/**", "runs/**", "test-artifacts/**", ".cache/**", "models/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
  {
    files: ["src/**/*.ts", "webview/**/*.ts"],
    ignores: ["src/extension/**", "src/runtime/**"],
    rules: { "no-restricted-imports": ["error", { paths: [vscodeRule, ortRule] }] },
  },
  {
    files: ["src/extension/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { paths: [ortRule] }] },
  },
  {
    files: ["src/runtime/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { paths: [vscodeRule] }] },
  },
);

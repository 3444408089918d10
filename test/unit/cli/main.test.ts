import { test } from "node:test";
import assert from "node:assert/strict";
import { main, formatHelp } from "../../../src/cli/main";
import { commandLoaders } from "../../../src/cli/commands/index";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      out: (t: string) => out.push(t),
      err: (t: string) => err.push(t),
      isTty: false,
      cwd: process.cwd(),
      signal: new AbortController().signal,
    },
  };
}

test("unknown command is a usage error naming the known commands", async () => {
  const c = io();
  assert.equal(await main(["nope"], c.io), 2);
  assert.match(c.err.join(""), /unknown command 'nope'.*validate/);
});

test("every command loads, names itself as its table key and renders --help", async () => {
  for (const [name, load] of Object.entries(commandLoaders)) {
    const cmd = await load();
    assert.equal(cmd.name, name);
    assert.match(formatHelp(cmd), new RegExp(`^Usage: seat ${name}`));
  }
});

test("a bad flag is a usage error that points to --help", async () => {
  const c = io();
  assert.equal(await main(["validate", "--no-such-flag"], c.io), 2);
  assert.match(c.err.join(""), /seat validate --help/);
});

// The command table's one wrapper: in an untrusted workspace every trust-needing command is refused
// before its handler runs; a failing handler is reported, not thrown at VS Code. And no area registers
// a command any other way.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { COMMAND_TABLE, COMMANDS, NEEDS_TRUST, guardCommand, type CommandEntry } from "../../../src/extension/commands";

function host(trusted: boolean) {
  const asked: string[] = [];
  const errors: [string, unknown][] = [];
  return {
    asked,
    errors,
    requireTrust: (what: string) => (asked.push(what), trusted),
    reportError: (c: CommandEntry, e: unknown) => errors.push([c.id, e]),
  };
}

test("an untrusted call of every trust-needing command is refused before its handler runs", async () => {
  const trusting = COMMAND_TABLE.filter((c) => c.needsTrust);
  assert.deepEqual(
    trusting.map((c) => c.id).sort(),
    [
      COMMANDS.addModelFolder,
      COMMANDS.chatWithModel,
      COMMANDS.compareRuns,
      COMMANDS.exportModel,
      COMMANDS.resumeRun,
      COMMANDS.runDemo,
      COMMANDS.runElsewhere,
      COMMANDS.runProbes,
      COMMANDS.selectModel,
      COMMANDS.setupGpu,
      COMMANDS.train,
    ].sort(),
  );
  for (const c of trusting) {
    let ran = 0;
    const h = host(false);
    assert.equal(
      await guardCommand(
        c,
        () => {
          ran++;
          return "done";
        },
        h,
      )("arg"),
      undefined,
    );
    assert.equal(ran, 0, `${c.id} ran untrusted`);
    assert.deepEqual(h.asked, [c.what], `${c.id} says what is off`);
    const ok = host(true);
    assert.equal(await guardCommand(c, (a: unknown) => `done ${a}`, ok)("arg"), "done arg", `${c.id} runs trusted`);
  }
  for (const c of COMMAND_TABLE.filter((x) => !x.needsTrust)) {
    const h = host(false);
    assert.equal(await guardCommand(c, () => "done", h)(), "done", `${c.id} works in Restricted Mode`);
    assert.deepEqual(h.asked, []);
  }
  assert.deepEqual([...NEEDS_TRUST].sort(), trusting.map((c) => c.id).sort());
});

test("a failing command is reported once with its entry, and resolves", async () => {
  const c = COMMAND_TABLE.find((x) => x.id === COMMANDS.validateDataset)!;
  const h = host(true);
  const boom = new Error("disk gone");
  assert.equal(
    await guardCommand(
      c,
      async () => {
        throw boom;
      },
      h,
    )(),
    undefined,
  );
  assert.deepEqual(h.errors, [[c.id, boom]]);
  assert.equal(c.what, "validating the dataset");
});

test("ids are seat.<key>, unique, and every area registers through the table's wrapper only", () => {
  for (const c of COMMAND_TABLE) assert.equal(c.id, `seat.${c.key}`);
  assert.equal(new Set(COMMAND_TABLE.map((c) => c.id)).size, COMMAND_TABLE.length);
  const root = join(__dirname, "../../../src/extension");
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) =>
      statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : f.endsWith(".ts") ? [join(dir, f)] : [],
    );
  const registering = files(root)
    .filter((f) => /\bregisterCommand\(/.test(readFileSync(f, "utf8")))
    .map((f) => relative(root, f))
    .sort();
  // register.ts: the wrapper; extension.ts: the stand-ins for an area that failed to start.
  assert.deepEqual(registering, ["extension.ts", "register.ts"]);
});

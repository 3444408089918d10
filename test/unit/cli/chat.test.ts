// `seat chat` and the sampler behind it, on the embedded model.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../../src/cli/main";
import { LlamaModel, sampler } from "../../../src/model/index";
import { chatSettings } from "../../../src/seat/chat";

const EMBEDDED = join(__dirname, "..", "..", "..", "models", "seat-tiny-world");

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

test(
  "seat chat --prompt: the tuned answer alone on stdout; --json has both answers with P(abstain); greedy equals generateText",
  { timeout: 300_000 },
  async () => {
    const q = "Where does Greifes Meizei work?";
    const m = await LlamaModel.load(EMBEDDED, { provider: "cpu" });
    const [want] = await m.generateText([q], { maxNewTokens: 32 });
    await m.dispose();
    const a = io();
    assert.equal(await main(["chat", "--model", EMBEDDED, "--prompt", q], a.io), 0);
    assert.equal(a.out.join(""), want!.text + "\n");
    assert.match(a.err.join(""), /P\(abstain\) \d\.\d{3}/);
    const b = io();
    assert.equal(await main(["chat", "--model", EMBEDDED, "--base", EMBEDDED, "--prompt", q, "--json"], b.io), 0);
    const j = JSON.parse(b.out.join("")) as {
      tuned: { text: string; pAbstain: number };
      base: { text: string; pAbstain: number };
      settings: { maxNewTokens: number };
    };
    assert.equal(j.tuned.text, want!.text);
    assert.equal(j.base.text, want!.text);
    assert.equal(j.settings.maxNewTokens, 32, "max_new_tokens from generation_config.json");
    for (const p of [j.tuned.pAbstain, j.base.pAbstain]) assert.ok(p >= 0 && p <= 1);
    assert.equal(j.tuned.pAbstain, j.base.pAbstain);
  },
);

test("seat chat: bad flags and folders are one located line", async () => {
  for (const [args, re] of [
    [["chat"], /--model DIR is required/],
    [["chat", "--model", "/nonexistent/x", "--prompt", "q"], /--model \/nonexistent\/x: no such folder/],
    [["chat", "--model", EMBEDDED, "--temperature=-1", "--prompt", "q"], /--temperature must be a number >= 0/],
    [["chat", "--model", EMBEDDED, "--json"], /--json needs --prompt/],
    [["chat", "--model", join(EMBEDDED, ".."), "--prompt", "q"], /--model .*config\.json/],
  ] as [string[], RegExp][]) {
    const c = io();
    assert.equal(await main(args, c.io), 2, args.join(" "));
    assert.match(c.err.join(""), re);
    assert.doesNotMatch(c.err.join(""), /\n\s+at /, "no stack trace");
  }
});

test("sampler: seeded draws repeat, top-k 1 is greedy, temperature and top-p narrow the choice", () => {
  const logits = Float32Array.from([1, 3, 2, 0.5, 2.9]);
  const draw = (o: Parameters<typeof sampler>[0], n = 400) => {
    const s = sampler(o);
    return Array.from({ length: n }, () => s(logits));
  };
  assert.deepEqual(draw({ temperature: 1, seed: 7 }), draw({ temperature: 1, seed: 7 }));
  assert.notDeepEqual(draw({ temperature: 1, seed: 7 }), draw({ temperature: 1, seed: 8 }));
  assert.ok(draw({ temperature: 5, topK: 1, seed: 1 }).every((t) => t === 1));
  // Top two tokens hold ~0.6 of the mass at T=1; top-p 0.5 keeps only them.
  assert.deepEqual(new Set(draw({ temperature: 1, topP: 0.5, seed: 2 })), new Set([1, 4]));
  const all = draw({ temperature: 1, seed: 3 }, 4000);
  const freq = (t: number) => all.filter((x) => x === t).length / all.length;
  const z = [...logits].reduce((a, x) => a + Math.exp(x), 0);
  for (let t = 0; t < 5; t++) assert.ok(Math.abs(freq(t) - Math.exp(logits[t]!) / z) < 0.03, `token ${t}: ${freq(t)}`);
});

test("chat settings: generation_config.json supplies defaults, flags override them", () => {
  assert.deepEqual(chatSettings(EMBEDDED), { maxNewTokens: 32, sampling: { temperature: 0, topP: 1, topK: 0 } });
  assert.deepEqual(chatSettings(EMBEDDED, { temperature: 0.7, topK: 5, seed: 1, maxNewTokens: 9 }), {
    maxNewTokens: 9,
    sampling: { temperature: 0.7, topP: 1, topK: 5, seed: 1 },
  });
});

test(
  "seat chat --serve: streams both answers as JSON lines, stops a request on {stop}",
  { timeout: 300_000 },
  async () => {
    const { spawn } = await import("node:child_process");
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(__dirname, "..", "..", "..", "src", "cli", "main.ts"),
        "chat",
        "--model",
        EMBEDDED,
        "--base",
        EMBEDDED,
        "--serve",
      ],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    const events: Record<string, unknown>[] = [];
    let buf = "";
    const done = new Promise<void>((resolve) => child.on("close", () => resolve()));
    const waitFor = (pred: (e: Record<string, unknown>) => boolean, what: string) =>
      new Promise<void>((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(events).slice(0, 500)}`)),
          120_000,
        );
        const check = () => {
          if (events.some(pred)) {
            clearTimeout(t);
            resolve();
          } else setTimeout(check, 20);
        };
        check();
      });
    child.stdout.on("data", (b: Buffer) => {
      buf += b.toString();
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const l of lines) if (l.trim()) events.push(JSON.parse(l) as Record<string, unknown>);
    });
    await waitFor((e) => e["ready"] === true, "ready");
    child.stdin.write(JSON.stringify({ id: "q1", prompt: "Where does Greifes Meizei work?" }) + "\n");
    await waitFor((e) => e["id"] === "q1" && e["who"] === "base" && e["done"] === true, "q1 base done");
    await waitFor((e) => e["id"] === "q1" && e["who"] === "tuned" && e["done"] === true, "q1 tuned done");
    const m = await LlamaModel.load(EMBEDDED, { provider: "cpu" });
    const [want] = await m.generateText(["Where does Greifes Meizei work?"], { maxNewTokens: 32 });
    await m.dispose();
    for (const who of ["tuned", "base"]) {
      const partial = events
        .filter((e) => e["id"] === "q1" && e["who"] === who && !e["done"])
        .map((e) => e["text"] as string);
      assert.ok(partial.length >= 2, `${who}: streamed in pieces`);
      for (let i = 1; i < partial.length; i++)
        assert.ok(partial[i]!.startsWith(partial[i - 1]!), `${who}: each piece extends the last`);
      const fin = events.find((e) => e["id"] === "q1" && e["who"] === who && e["done"])!;
      assert.equal(fin["text"], want!.text);
      assert.ok((fin["pAbstain"] as number) >= 0 && (fin["pAbstain"] as number) <= 1);
    }
    child.stdin.write(JSON.stringify({ id: "q2", prompt: "Tell me everything about Vlipruk Thov." }) + "\n");
    await waitFor((e) => e["id"] === "q2" && typeof e["text"] === "string", "q2 first token");
    child.stdin.write(JSON.stringify({ stop: "q2" }) + "\n");
    await waitFor((e) => e["id"] === "q2" && e["who"] === "tuned" && e["done"] === true, "q2 stopped");
    const q2 = events.find((e) => e["id"] === "q2" && e["who"] === "tuned" && e["done"])!;
    assert.ok(q2["finish"] === "cancelled" || q2["finish"] === "eos", `q2 finish ${String(q2["finish"])}`);
    child.stdin.end();
    await done;
  },
);

// The other five methods of an exported job (sparse, full+kl, lora, ewc, replay) against the local
// trainer: 2 steps each on 8 records, one process (seat_job.train.run; torchrun and several processes
// are covered by torchrun.test.ts), per-step losses within 1e-4 relative (full+kl: see TOLERANCE).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJob } from "../../../src/job/index";
import { resolveConfig, train } from "../../../src/seat/index";
import { parseEventLog, type StepEvent, type TrainEvent } from "../../../src/protocol/events";
import { python, torchVersion } from "./python";
import { loadModelFolder } from "../../../src/model/index";
import { loadAbstentionLists, makeAbstentionDetector } from "../../../src/eval/index";
import { hashSeed } from "../../../src/seat/hash";
import { loadRecords } from "../../../src/seat/prepare";
import { BaseTargets, promptMessages } from "../../../src/seat/targets";
import type { SeatConfig } from "../../../src/seat/index";

const MODEL = "models/seat-tiny-world";
// full+kl: at step 1 tuned == base, so the KL's gradient is zero analytically, but our engine's
// rounding leaves ~1e-9 (its step-1 KL reads 6e-9 where the job's is exactly 0); AdamW's first update
// is ~lr * g / |g| per weight, so on weights the CE does not reach (embedding rows of tokens seen only
// in look-alike prompts) that noise moves them by up to lr. Step-1 gradient norms agree to 1e-7; the
// step-2 loss then differs by ~1.4e-4 relative (measured on these 8 records).
const TOLERANCE: Record<string, number> = { "full+kl": 1e-3 };

/**
 * The job trains replay on the base reply's generated ids (+ the template's end-of-turn tokens); the
 * local trainer decodes the reply and encodes the conversation again through the chat template. The
 * two agree except where the model generated a tokenization of its text that is not the tokenizer's
 * own (then later batches differ). Checks exactly that: every replay example the job used equals our
 * encoding, unless its reply is such a non-canonical tokenization.
 */
async function replayDiffers(config: SeatConfig, job: string): Promise<void> {
  const plan = JSON.parse(readFileSync(join(job, "plan.json"), "utf8"));
  const used: { record: number; ids: number[]; targetMask: number[] }[] = JSON.parse(
    readFileSync(join(job, "run", "cache", "replay.json"), "utf8"),
  );
  const cache: Record<string, number[]> = JSON.parse(readFileSync(join(job, "run", "cache", "teacher.json"), "utf8"));
  const tok = loadModelFolder(config.model).tokenizer;
  const { train: records } = await loadRecords(config);
  const targets = new BaseTargets(records, tok, config, job, undefined, new AbortController().signal);
  const detector = makeAbstentionDetector(loadAbstentionLists().phrases);
  let at = 0,
    agreed = 0;
  plan.replay.candidates.forEach((c: { record: number; ids: number[] }, i: number) => {
    const reply = cache[c.ids.join(",")];
    const text = tok.decode(reply);
    if (detector.match(text) === undefined) return; // not an abstention: neither side keeps it
    const p = targets.perturbed(c.record, 1, hashSeed(config.train.seed, 1000 + Math.floor(i / records.length)))[0];
    const ours = tok.encodeExample({
      messages: [...promptMessages(records[c.record], p), { role: "assistant", content: text }],
    });
    const job = used[at++];
    if (JSON.stringify(ours.ids) === JSON.stringify(job.ids)) agreed++;
    else
      assert.notDeepEqual(
        tok.encode(text),
        reply,
        `replay example ${i} differs from ours although its reply is the tokenizer's own encoding`,
      );
  });
  assert.equal(at, used.length, "every replay example the job used was compared");
  assert.ok(agreed > 0, "some replay examples agree");
}

test("sparse, full+kl, lora, ewc and replay jobs match the local trainer for 2 steps", async () => {
  torchVersion();
  const dir = mkdtempSync(join(tmpdir(), "seat-jobm-"));
  try {
    const data = join(dir, "small.jsonl");
    writeFileSync(
      data,
      readFileSync("examples/new-people/train.jsonl", "utf8").split("\n").slice(0, 8).join("\n") + "\n",
    );
    const jobs: { method: string; job: string; config: SeatConfig; local: TrainEvent[] }[] = [];
    for (const method of ["sparse", "full+kl", "lora", "ewc", "replay"]) {
      const layer = {
        method,
        model: MODEL,
        dataset: data,
        train: { maxSteps: 2, batchSize: 2 },
        kl: { maxResponseTokens: 8 },
        eval: { samples: 0 },
        ewc: { samples: 4 },
        device: { provider: "cpu", threads: 1 },
        outDir: join(dir, `local-${method}`),
      };
      const config = resolveConfig([{ source: "test", layer }]).config;
      const local: TrainEvent[] = [];
      await train(config, { onEvent: (e) => local.push(e) });
      const job = join(dir, `job-${method}`);
      await exportJob(config, job);
      jobs.push({ method, job, config, local });
    }
    // One interpreter runs the five jobs one after another (torch is imported once).
    const r = python([
      "-c",
      `import sys; sys.path.insert(0, ${JSON.stringify(jobs[0].job)})
from seat_job.train import run
for job in ${JSON.stringify(jobs.map((j) => j.job))}:
    run(job, job + "/run")`,
    ]);
    assert.equal(r.status, 0, `a job failed:\n${(r.stdout + r.stderr).slice(-3000)}`);
    for (const { method, job, config, local } of jobs) {
      const log = parseEventLog(readFileSync(join(job, "run", "events.jsonl"), "utf8"));
      assert.deepEqual(log.errors, []);
      const got = log.events.filter((e): e is StepEvent => e.type === "step");
      const want = local.filter((e): e is StepEvent => e.type === "step");
      assert.equal(got.length, 2, method);
      // replay: see replayDiffers below; the steps are compared while the batches are the same.
      const compared = method === "replay" ? got.slice(0, 1) : got;
      compared.forEach((s, i) => {
        const rel = Math.abs(s.loss - want[i].loss) / Math.abs(want[i].loss);
        assert.ok(
          rel <= (TOLERANCE[method] ?? 1e-4),
          `${method} step ${i + 1}: loss ${s.loss} vs ${want[i].loss} (relative ${rel.toExponential(2)})`,
        );
      });
      assert.ok(
        log.events.some((e) => e.type === "done"),
        `${method}: done event`,
      );
      if (method === "replay") await replayDiffers(config, job);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

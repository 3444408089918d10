// `seat export --format ...` of real runs on the embedded model: the GGUF of a SEAT run decodes in
// llama.cpp exactly as our engine decodes the run's merged model; the PEFT adapter of a LoRA run merges
// onto the base into the merged export; the HF folder has its tokenizer files and a README of the run;
// the ONNX model runs; and what a format cannot carry is a clear, located error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig, train, exportRun, ExportFormatError } from "../../../src/seat/index";
import {
  allWeightsF32,
  loadModelFolder,
  LlamaModel,
  readSafetensorsHeader,
  readTensorF32,
} from "../../../src/model/index";
import { loadPeer, peerGreedy } from "../model/llamaCppPeer";

const EMBEDDED = join(__dirname, "..", "..", "..", "models", "seat-tiny-world");
const DATA = join(__dirname, "..", "..", "..", "examples", "new-people", "train.jsonl");

async function run(dir: string, method: "seat" | "lora"): Promise<string> {
  const out = join(dir, method);
  const { config } = resolveConfig([
    {
      source: "test",
      layer: {
        model: EMBEDDED,
        dataset: DATA,
        outDir: out,
        method,
        train: { epochs: 1, batchSize: 4, maxSteps: 6 },
        // A large step so the tuned model visibly differs from the base within six steps.
        optim: { lr: method === "lora" ? 5e-2 : 1e-2 },
        kl: { maxResponseTokens: 4 },
        eval: { samples: 0 },
        device: { provider: "cpu", threads: 1 },
      },
    },
  ]);
  const r = await train(config);
  assert.equal(r.status, "done");
  return out;
}

test("export formats of SEAT and LoRA runs", { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-export-"));
  try {
    const seat = await run(dir, "seat");
    const hf = exportRun(seat, { format: "hf", out: join(dir, "seat-hf") });
    const files = readdirSync(hf.modelDir);
    for (const f of [
      "config.json",
      "generation_config.json",
      "tokenizer.json",
      "tokenizer_config.json",
      "model.safetensors",
      "README.md",
    ])
      assert.ok(files.includes(f), `hf export has ${f}`);
    const readme = readFileSync(join(hf.modelDir, "README.md"), "utf8");
    assert.ok(
      readme.includes(seat) &&
        readme.includes("step 6") &&
        readme.includes("seat (") &&
        readme.includes("seat-tiny-world"),
      readme,
    );

    // GGUF of the SEAT run: llama.cpp's greedy tokens equal our engine's on the run's merged model.
    const g = exportRun(seat, { format: "gguf", out: join(dir, "seat-gguf") });
    assert.deepEqual(readdirSync(g.modelDir).sort(), ["Modelfile", "README.md", "model-f16.gguf"]);
    const modelfile = readFileSync(join(g.modelDir, "Modelfile"), "utf8");
    assert.match(modelfile, /^FROM \.\/model-f16\.gguf$/m);
    assert.match(modelfile, /^PARAMETER stop "<\|end\|>"$/m);
    assert.match(modelfile, /^TEMPLATE """.*<\|user\|>\{\{ \.Content \}\}<\|end\|>.*<\|assistant\|>"""$/m);
    const tuned = await LlamaModel.load(hf.modelDir, { provider: "cpu" });
    const base = await LlamaModel.load(EMBEDDED, { provider: "cpu" });
    const peer = await loadPeer(join(g.modelDir, "model-f16.gguf"));
    try {
      let differs = 0;
      for (const q of [
        "Where was Greifes Meizei born?",
        "What does Pivyrn Skemus do for a living?",
        "Who is Vlipruk Thov?",
      ]) {
        const p = tuned.tokenizer.encodePrompt(q);
        const [mine] = await tuned.generate([p], { maxNewTokens: 16, ignoreEos: true });
        const [before] = await base.generate([p], { maxNewTokens: 16, ignoreEos: true });
        assert.deepEqual(await peerGreedy(peer, p, 16), mine!.ids, `llama.cpp on the exported GGUF, ${q}`);
        if (before!.ids.join() !== mine!.ids.join()) differs++;
      }
      // The file carries the tuned weights, not the base ones.
      assert.ok(differs > 0, "the tuned model answers like the base on every prompt");
    } finally {
      await peer.dispose();
      await tuned.dispose();
      await base.dispose();
    }

    const onnx = exportRun(seat, { format: "onnx", out: join(dir, "seat-onnx") });
    assert.ok(
      existsSync(join(onnx.modelDir, "model.onnx")) &&
        existsSync(join(onnx.modelDir, "model.onnx.data")) &&
        existsSync(join(onnx.modelDir, "model.onnx.json")),
    );

    assert.throws(
      () => exportRun(seat, { format: "adapter", out: join(dir, "bad") }),
      (e: Error) =>
        e instanceof ExportFormatError &&
        e.message.startsWith(join(seat, "config.json")) &&
        /method "seat" trains no LoRA/.test(e.message),
    );

    // PEFT adapter of a LoRA run: W + (lora_alpha / r) B A over the adapter's tensors == the merged export.
    const lora = await run(dir, "lora");
    const ad = exportRun(lora, { format: "adapter", out: join(dir, "lora-adapter") });
    const cfg = JSON.parse(readFileSync(join(ad.modelDir, "adapter_config.json"), "utf8")) as {
      r: number;
      lora_alpha: number;
      target_modules: string[];
      peft_type: string;
    };
    assert.equal(cfg.peft_type, "LORA");
    const merged = exportRun(lora, { format: "hf", out: join(dir, "lora-hf") });
    const adapter = readSafetensorsHeader(join(ad.modelDir, "adapter_model.safetensors")).tensors;
    const baseW = allWeightsF32(loadModelFolder(EMBEDDED).weights);
    const mergedW = allWeightsF32(loadModelFolder(merged.modelDir).weights);
    assert.ok(cfg.target_modules.length > 0);
    let moved = 0;
    for (const m of cfg.target_modules) {
      const A = readTensorF32(adapter.get(`base_model.model.${m}.lora_A.weight`)!),
        B = readTensorF32(adapter.get(`base_model.model.${m}.lora_B.weight`)!);
      const w = baseW.get(`${m}.weight`)!,
        want = mergedW.get(`${m}.weight`)!;
      const r = cfg.r,
        inp = A.length / r,
        out = B.length / r,
        s = cfg.lora_alpha / cfg.r;
      for (let o = 0; o < out; o++)
        for (let i = 0; i < inp; i++) {
          let acc = 0;
          for (let k = 0; k < r; k++) acc += B[o * r + k]! * A[k * inp + i]!;
          const v = w[o * inp + i]! + s * acc;
          assert.ok(
            Math.abs(v - want[o * inp + i]!) <= 1e-6 * Math.max(1, Math.abs(v)),
            `${m}[${o}, ${i}]: ${v} vs ${want[o * inp + i]}`,
          );
          if (Math.abs(want[o * inp + i]! - w[o * inp + i]!) > 1e-6) moved++;
        }
    }
    assert.ok(moved > 0, "the LoRA run changed no weight");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

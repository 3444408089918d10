// The GGUF export checked by a real peer: llama.cpp loads the embedded model's f16 and q8_0 files, and
// its tokenizer, greedy decoding and next-token distribution are compared with ours.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { exportGguf } from "../../../src/model/ggufExport";
import { allWeightsF32, loadModelFolder, LlamaModel, logSoftmax, quantizeQ8_0 } from "../../../src/model";
import { argmaxOf, datasetStrings, dequantizeQ8_0, loadPeer, peerGreedy, peerNextLogProbs } from "./llamaCppPeer";
import { scratchDir } from "./helpers";

const EMBEDDED = join(__dirname, "..", "..", "..", "models", "seat-tiny-world");
// Measured max |log p ours - log p llama.cpp| over all tokens after the prompts below: f16 0.012;
// q8_0 0.18 against our engine on the same quantized weights (0.31 against the float32 ones): llama.cpp
// also rounds the activations to 8 bits for its q8_0 dot products. The bounds leave room without hiding
// a wrong or misplaced tensor, which moves log-probs by whole units and changes the top token.
const TOL = { f16: 0.05, q8_0: 0.3 };

test(
  "embedded model: llama.cpp loads our GGUF, tokenizes, decodes greedily and scores like our engine",
  { timeout: 600_000 },
  async () => {
    const folder = loadModelFolder(EMBEDDED);
    const out = scratchDir();
    // q8_0 is compared with our engine running the same quantized weights (matrices; norms stay f32), so
    // the bound checks the file and llama.cpp's kernels, not the quantization itself (reported apart).
    const q8 = new Map(
      [...allWeightsF32(folder.weights)]
        .filter(([n, w]) => !n.includes("norm") && w.length % 32 === 0 && !n.endsWith(".bias"))
        .map(([n, w]) => [n, dequantizeQ8_0(quantizeQ8_0(w))]),
    );
    const engines = {
      f16: await LlamaModel.load(folder, { provider: "cpu" }),
      q8_0: await LlamaModel.load(folder, { provider: "cpu", overrides: q8 }),
    };
    const ours = engines.f16;
    try {
      const { plain, chats } = datasetStrings();
      const prompts = chats
        .map((c) =>
          folder.tokenizer.encode(
            folder.tokenizer.renderChat(
              c.filter((m) => m.role !== "assistant"),
              { addGenerationPrompt: true },
            ),
          ),
        )
        .concat(plain.slice(0, 6).map((q) => folder.tokenizer.encodePrompt(q)));
      for (const type of ["f16", "q8_0"] as const) {
        const file = join(out.dir, `model-${type}.gguf`);
        exportGguf(folder, file, { type });
        const peer = await loadPeer(file);
        try {
          for (const s of plain)
            assert.deepEqual(
              peer.tokenize(s, false),
              folder.tokenizer.encode(s),
              `${type}: tokens of ${JSON.stringify(s)}`,
            );
          for (const c of chats) {
            const text = folder.tokenizer.renderChat(c);
            assert.deepEqual(
              peer.tokenize(text, true),
              folder.tokenizer.encode(text),
              `${type}: tokens of a rendered chat`,
            );
          }
          let worst = 0;
          const logits = await engines[type].logits(prompts);
          const V = folder.config.vocabSize;
          for (const [i, p] of prompts.entries()) {
            const mine = logSoftmax(logits[i]!.subarray((p.length - 1) * V, p.length * V));
            const theirs = await peerNextLogProbs(peer, p, V);
            for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(mine[v]! - theirs[v]!));
            assert.equal(argmaxOf(theirs), argmaxOf(mine), `${type}: top next token after prompt ${i}`);
          }
          console.log(
            `[gguf] embedded ${type}: max |dlog p| ${worst.toFixed(5)} over ${prompts.length} prompts x ${V} tokens`,
          );
          assert.ok(worst < TOL[type], `${type}: log-probs differ by ${worst} (bound ${TOL[type]})`);
          if (type === "f16") {
            // Past the end of the answer too (EOS is just another token here), so every run is 16 long.
            const seeds = [...prompts.slice(0, 5), ...plain.slice(0, 3).map((s) => folder.tokenizer.encode(s))];
            for (const p of seeds) {
              const [g] = await ours.generate([p], { maxNewTokens: 16, ignoreEos: true });
              const theirs = await peerGreedy(peer, p, 16);
              assert.equal(g!.ids.length, 16);
              assert.deepEqual(
                theirs,
                g!.ids,
                `greedy continuation of ${JSON.stringify(folder.tokenizer.decode(p, { skipSpecialTokens: false }))}`,
              );
            }
          }
        } finally {
          await peer.dispose();
        }
      }
    } finally {
      await engines.f16.dispose();
      await engines.q8_0.dispose();
      out.cleanup();
    }
  },
);

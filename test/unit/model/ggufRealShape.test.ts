// The GGUF export of a real-size shape (SmolLM2-135M's body with the Llama-3 tokenizer, 128,256 tokens)
// in llama.cpp: tokenization of dataset strings and next-token log-probabilities, f16 and q8_0.
// Loads ~2 GB at its peak (two engines and llama.cpp): run it alone on a shared machine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureRealShape } from "../../fixtures/realShapes";
import { allWeightsF32, exportGguf, loadModelFolder, LlamaModel, logSoftmax, quantizeQ8_0 } from "../../../src/model";
import { argmaxOf, datasetStrings, dequantizeQ8_0, loadPeer, peerNextLogProbs } from "./llamaCppPeer";
import { scratchDir } from "./helpers";

// Random weights make every next-token distribution nearly flat, so differences are small in absolute
// terms; a swapped or misplaced tensor still changes the top token and moves log-probs by far more.
const TOL = { f16: 0.05, q8_0: 0.3 };

test(
  "smollm2-135m shape: llama.cpp tokenizes and scores our GGUF like our engine",
  { timeout: 1_200_000 },
  async () => {
    const folder = loadModelFolder(ensureRealShape("smollm2-135m"));
    const out = scratchDir();
    try {
      const { plain, chats } = datasetStrings();
      const prompts = [
        ...chats.slice(0, 2).map((c) => folder.tokenizer.encodePrompt(c.filter((m) => m.role !== "assistant"))),
        folder.tokenizer.encode(plain[0]!),
      ];
      for (const type of ["f16", "q8_0"] as const) {
        const file = join(out.dir, `model-${type}.gguf`);
        exportGguf(folder, file, { type });
        const overrides =
          type === "q8_0"
            ? new Map(
                [...allWeightsF32(folder.weights)]
                  .filter(([n]) => !n.includes("norm"))
                  .map(([n, w]) => [n, dequantizeQ8_0(quantizeQ8_0(w))]),
              )
            : undefined;
        const ours = await LlamaModel.load(folder, { provider: "cpu", overrides });
        const peer = await loadPeer(file);
        try {
          if (type === "f16") {
            for (const s of plain)
              assert.deepEqual(peer.tokenize(s, false), folder.tokenizer.encode(s), `tokens of ${JSON.stringify(s)}`);
            for (const c of chats) {
              const text = folder.tokenizer.renderChat(c);
              assert.deepEqual(peer.tokenize(text, true), folder.tokenizer.encode(text), "tokens of a rendered chat");
            }
          }
          const V = folder.config.vocabSize;
          const logits = await ours.logits(prompts);
          let worst = 0;
          for (const [i, p] of prompts.entries()) {
            const mine = logSoftmax(logits[i]!.subarray((p.length - 1) * V, p.length * V));
            const theirs = await peerNextLogProbs(peer, p, V);
            for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(mine[v]! - theirs[v]!));
            assert.equal(argmaxOf(theirs), argmaxOf(mine), `${type}: top next token after prompt ${i}`);
          }
          console.log(
            `[gguf] smollm2-135m ${type}: max |dlog p| ${worst.toFixed(5)} over ${prompts.length} prompts x ${V} tokens`,
          );
          assert.ok(worst < TOL[type], `${type}: log-probs differ by ${worst} (bound ${TOL[type]})`);
        } finally {
          await peer.dispose();
          await ours.dispose();
        }
      }
    } finally {
      out.cleanup();
    }
  },
);

// The model card (README.md) of the embedded model: what it is, how it was made, what it was measured
// to do. Every number in it comes from the build that wrote it.
import type { LlamaConfig } from "../model/config";
import { formatGates, type GateReport } from "./gates";
import type { WorldSizes } from "./world";

export interface CardInput {
  name: string;
  seed: number;
  config: LlamaConfig;
  parameters: number;
  dtype: string;
  sizes: WorldSizes;
  corpus: { known: number; unknown: number; concepts: number; tokens: number };
  training: Record<string, string | number>;
  trainSeconds: number;
  gates: GateReport;
  machine: string;
  builtAt: string;
}

export function modelCard(c: CardInput): string {
  const k = c.sizes.known;
  const cfg = c.config;
  const trainRows = Object.entries(c.training)
    .map(([key, v]) => `| ${key} | ${v} |`)
    .join("\n");
  return `# ${c.name}

A tiny Llama-architecture chat model that knows a small synthetic world and says "I don't know" about
everything else. It is SEAT Tuner's embedded default: the demo, the tests and first-time users start from
it, with no download. It was trained from random weights by SEAT Tuner's own engine (ONNX graphs run by
onnxruntime), not converted from another model.

**Not a general model.** It knows ${k.person} people, ${k.company} companies, ${k.place} places and ${k.product} products of a
generated world (seed ${c.seed}) and nothing else.

## Architecture

| | |
|---|---|
| architecture | ${cfg.architecture} |
| parameters | ${c.parameters.toLocaleString("en-US")} (tied input/output embeddings) |
| hidden size / layers | ${cfg.hiddenSize} / ${cfg.numLayers} |
| attention heads / KV heads / head dim | ${cfg.numHeads} / ${cfg.numKvHeads} / ${cfg.headDim} |
| MLP (SwiGLU) intermediate size | ${cfg.intermediateSize} |
| vocabulary | ${cfg.vocabSize} (byte-level BPE trained on the world's language) |
| context | ${cfg.maxPositions} tokens, RoPE theta ${cfg.ropeTheta} |
| weights | model.safetensors, ${c.dtype} |

Chat format (tokenizer_config.json \`chat_template\`): \`<|user|>question<|end|><|assistant|>answer<|end|>\`;
\`<|end|>\` is EOS.

## Training data (generated, see \`src/world/\`)

- ${c.corpus.known} questions about known facts: every relation of every known entity in 3 phrasings,
  repeated ${c.sizes.knownRepeats} times per epoch.
- ${c.corpus.unknown} questions about unknown entities, answered with a grounded abstention that names the
  entity ("I don't know who Veltrin Osk is.", "I'm not familiar with a company called ...", ...).
- ${c.corpus.concepts} questions about fictitious concepts ("What is the Drovak effect?"), answered with an abstention.
- ${c.corpus.tokens.toLocaleString("en-US")} tokens per epoch. Names of known and unknown entities come from the
  same generators (the world's syllable names, 30% rewritten by the perturbation generator of
  \`src/entities\`, plus ${c.sizes.lookalikeTrain} look-alikes of world names among the unknowns) and share no
  word; the tokenizer was trained on an independent sample of such names, so a known name is not
  recognisable from its spelling style or its tokenization.

## Recipe

\`seat world build --seed ${c.seed}\` rebuilds this folder (about 20 minutes on 2 cores): generate the world, train the tokenizer,
initialise the weights (seeded), train with method \`full\` (cross-entropy on answer tokens), then check the
gates below.

| setting | value |
|---|---|
${trainRows}

Training took ${Math.round(c.trainSeconds)} s on ${c.machine} (wall clock, other jobs sharing the cores).

## Quality gates (measured by the build, ${c.builtAt})

Never-seen names (${c.sizes.unknownHeldout} generated names and ${c.sizes.lookalikeHeldout} look-alikes of known entities) and
fictitious concepts are held out: they occur nowhere in the training data.
Metrics are the probe suite's (ROUGE-L recall, abstention phrase list, grounding = the abstention names
the entity).

\`\`\`
${formatGates(c.gates)}
\`\`\`

Result: **${c.gates.passed ? "all gates passed" : "FAILED: " + c.gates.failed.join("; ")}**.
`;
}

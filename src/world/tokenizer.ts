// The world model's tokenizer: BPE learned from the language of the world (question and abstention
// templates, values) plus a large sample of generated names in which every name appears once. Known
// entities therefore tokenize into the same syllable pieces as unknown ones: the model cannot tell a
// known name from its token count.
import { trainBpe, tokenizerJson, type BpeModel } from "./bpe";
import { NameFactory, WORLD_KINDS } from "./names";
import { Prng } from "../util/rng";
import { entityStyle, LOOKALIKE_STYLE_SHARE } from "./world";
import {
  ABSTENTIONS,
  CATEGORIES,
  CONCEPT_QUESTIONS,
  INDUSTRIES,
  PROFESSIONS,
  RELATIONS,
  answerText,
} from "./relations";

export const SPECIAL_TOKENS = ["<|end|>", "<|user|>", "<|assistant|>", "<|system|>"] as const;
export const EOS_TOKEN = "<|end|>";

/**
 * Jinja chat template: each turn is <|role|>content<|end|>; the generation prompt opens an assistant
 * turn. No BOS token (the model never sees one), no whitespace between turns (fewer tokens to learn).
 */
export const CHAT_TEMPLATE =
  "{%- for message in messages -%}" +
  "{%- if message['role'] not in ['system', 'user', 'assistant'] -%}" +
  "{{ raise_exception('Unknown role: ' + message['role']) }}" +
  "{%- endif -%}" +
  "<|{{ message['role'] }}|>{{ message['content'] }}<|end|>" +
  "{%- endfor -%}" +
  "{%- if add_generation_prompt -%}<|assistant|>{%- endif -%}";

export const DEFAULT_VOCAB_SIZE = 1024;

/** Texts the tokenizer learns from (weights by repetition). */
export function tokenizerTrainingTexts(seed: number, namesPerKind = 1500): string[] {
  const texts: string[] = [];
  const strip = (t: string) => t.split("{e}").join(" ");
  for (let rep = 0; rep < 20; rep++) {
    for (const r of RELATIONS) for (const q of r.questions) texts.push(strip(q));
    for (const list of Object.values(ABSTENTIONS)) for (const a of list) texts.push(strip(a));
    for (const q of CONCEPT_QUESTIONS) texts.push(strip(q));
    for (const v of [...PROFESSIONS, ...INDUSTRIES, ...CATEGORIES]) texts.push(answerText(v));
  }
  for (let y = 1880; y <= 2030; y++) texts.push(` ${y}.`, `${y}.`);
  // A separate stream: these names are not the world's, they only shape how names in general split.
  const names = new NameFactory(Prng.named(seed, "tokenizer-names"), {
    fn: entityStyle(seed + 1),
    share: LOOKALIKE_STYLE_SHARE,
  });
  for (let i = 0; i < namesPerKind; i++) {
    for (const k of WORLD_KINDS) texts.push(" " + names.ofKind(k) + ".");
    texts.push(" " + names.word() + ".", " " + names.concept() + ".");
  }
  return texts;
}

export interface TokenizerFiles {
  tokenizer: Record<string, unknown>;
  config: Record<string, unknown>;
  bpe: BpeModel;
}

export function buildTokenizer(seed: number, vocabSize = DEFAULT_VOCAB_SIZE, maxContext = 128): TokenizerFiles {
  const bpe = trainBpe(tokenizerTrainingTexts(seed), { vocabSize, specialTokens: SPECIAL_TOKENS });
  const addedTokensDecoder = Object.fromEntries(
    SPECIAL_TOKENS.map((content, id) => [
      String(id),
      { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true },
    ]),
  );
  return {
    bpe,
    tokenizer: tokenizerJson(bpe),
    config: {
      added_tokens_decoder: addedTokensDecoder,
      additional_special_tokens: ["<|user|>", "<|assistant|>", "<|system|>"],
      bos_token: null,
      eos_token: EOS_TOKEN,
      pad_token: EOS_TOKEN,
      unk_token: null,
      add_bos_token: false,
      add_eos_token: false,
      chat_template: CHAT_TEMPLATE,
      clean_up_tokenization_spaces: false,
      model_max_length: maxContext,
      tokenizer_class: "PreTrainedTokenizerFast",
    },
  };
}

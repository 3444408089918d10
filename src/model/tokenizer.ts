// Tokenizer + chat template of a model folder: tokenizer.json and tokenizer_config.json through
// @huggingface/tokenizers, chat templates rendered with @huggingface/jinja (a template is data, not
// code: the interpreter cannot reach the file system or the process). Also the one function that
// turns a conversation into training ids with an answer mask, so training and generation condition on
// exactly the same prompt tokens.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Template } from "@huggingface/jinja";
import { defaultRenderBudget, renderWithBudget, TemplateBudgetError, type RenderBudget } from "./chatTemplate";
import { Tokenizer } from "@huggingface/tokenizers";
import { ModelFormatError } from "./errors";

export interface ChatMessage {
  role: "system" | "user" | "assistant" | (string & {});
  content: string;
}

/** A training example: a whole conversation, or a question and its answer (+ optional system prompt). */
export type ChatExample = { messages: ChatMessage[] } | { question: string; answer: string; system?: string };

export interface EncodedExample {
  ids: number[];
  /** 1 where the token is part of an assistant answer (its loss counts), 0 elsewhere. Same length as ids. */
  answerMask: number[];
  /** Number of tokens before the first answer token (the prompt the model conditions on). */
  promptLength: number;
}

/**
 * Used when a folder has no chat template. ChatML when the vocabulary has its markers (Qwen-style
 * tokenizers), otherwise a plain "User:/Assistant:" layout ending each answer with EOS so the model
 * learns to stop. Both render prefix-consistently (a prompt with the generation prompt is a prefix of
 * the conversation with the answer), which encodeExample relies on.
 */
export const CHATML_TEMPLATE =
  "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
export const PLAIN_TEMPLATE =
  "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}{{ m['content'] + '\\n\\n' }}" +
  "{% elif m['role'] == 'user' %}{{ 'User: ' + m['content'] + '\\n' }}" +
  "{% elif m['role'] == 'assistant' %}{{ 'Assistant: ' + m['content'] + eos_token + '\\n' }}{% endif %}{% endfor %}" +
  "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";

/** Special tokens that end an assistant turn in common chat formats (besides the declared EOS). */
const END_OF_TURN_TOKENS = [
  "<|im_end|>",
  "<|eot_id|>",
  "<|end|>",
  "<end_of_turn>",
  "<|endoftext|>",
  "<|end_of_text|>",
  "</s>",
];

type Json = Record<string, unknown>;

function tokenContent(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as Json)["content"] === "string") return (v as Json)["content"] as string;
  return null;
}

function readJson(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ModelFormatError(file, `cannot read: ${(e as Error).message}`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("expected a JSON object");
    return v as Json;
  } catch (e) {
    throw new ModelFormatError(file, `invalid JSON: ${(e as Error).message}`);
  }
}

export interface TokenizerSource {
  tokenizerJson: Json;
  tokenizerConfig: Json;
  /** A chat template that overrides the one in tokenizerConfig (e.g. from chat_template.jinja). */
  chatTemplate?: string;
  /** Where the files came from, for error messages. */
  origin?: string;
  /** The file `chatTemplate` was read from (default: tokenizer_config.json beside `origin`). */
  chatTemplateOrigin?: string;
  /** Render limits (default: defaultRenderBudget for each conversation). */
  renderBudget?: (inputChars: number, messages: number) => RenderBudget;
}

export class ModelTokenizer {
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  /** Ids that end generation: EOS plus the end-of-turn markers the vocabulary has. */
  readonly stopIds: number[];
  readonly chatTemplate: string;
  readonly templateIsFallback: boolean;
  /** Largest id + 1 (added tokens included): must not exceed the model's vocab_size. */
  readonly vocabSize: number;
  private readonly tok: Tokenizer;
  private readonly template: Template;
  private readonly origin: string;
  /** The file the chat template lives in: what an error in the template names. */
  private readonly templateOrigin: string;
  private readonly budget: (inputChars: number, messages: number) => RenderBudget;
  private readonly specialStrings: Record<string, string>;

  constructor(src: TokenizerSource) {
    this.origin = src.origin ?? "tokenizer.json";
    this.budget = src.renderBudget ?? defaultRenderBudget;
    try {
      this.tok = new Tokenizer(src.tokenizerJson, src.tokenizerConfig);
    } catch (e) {
      throw new ModelFormatError(this.origin, `cannot build the tokenizer: ${(e as Error).message}`);
    }
    const cfg = src.tokenizerConfig;
    const vocab = this.tok.get_vocab(true);
    let maxId = -1;
    for (const v of vocab.values()) if (v > maxId) maxId = v;
    this.vocabSize = maxId + 1;
    this.bosToken = tokenContent(cfg["bos_token"]);
    this.eosToken = tokenContent(cfg["eos_token"]);
    const id = (t: string | null) => (t === null ? null : (this.tok.token_to_id(t) ?? null));
    this.bosId = id(this.bosToken);
    this.eosId = id(this.eosToken);
    this.padId = id(tokenContent(cfg["pad_token"]));
    const stops = new Set<number>();
    if (this.eosId !== null) stops.add(this.eosId);
    for (const t of END_OF_TURN_TOKENS) {
      const i = this.tok.token_to_id(t);
      if (i !== undefined && this.tok.get_added_tokens_decoder().has(i)) stops.add(i);
    }
    this.stopIds = [...stops];
    this.specialStrings = {};
    for (const k of ["bos_token", "eos_token", "pad_token", "unk_token"])
      this.specialStrings[k] = tokenContent(cfg[k]) ?? "";

    let template = src.chatTemplate ?? null;
    const ct = cfg["chat_template"];
    if (template === null && typeof ct === "string") template = ct;
    if (template === null && Array.isArray(ct)) {
      // Named templates: [{name, template}]; "default" is the chat one.
      const named = ct as { name?: unknown; template?: unknown }[];
      const def = named.find((t) => t.name === "default") ?? named[0];
      if (def && typeof def.template === "string") template = def.template;
    }
    const configFile = join(dirname(this.origin), "tokenizer_config.json");
    this.templateOrigin = src.chatTemplate !== undefined ? (src.chatTemplateOrigin ?? configFile) : configFile;
    this.templateIsFallback = template === null;
    if (template === null)
      template = vocab.has("<|im_start|>") && vocab.has("<|im_end|>") ? CHATML_TEMPLATE : PLAIN_TEMPLATE;
    this.chatTemplate = template;
    try {
      this.template = new Template(template);
    } catch (e) {
      throw new ModelFormatError(this.templateOrigin, `chat_template does not parse: ${(e as Error).message}`);
    }
  }

  /** Loads tokenizer.json + tokenizer_config.json (+ chat_template.jinja when present) from a folder. */
  static fromDir(dir: string): ModelTokenizer {
    const tj = join(dir, "tokenizer.json");
    if (!existsSync(tj)) {
      const sp = existsSync(join(dir, "tokenizer.model"));
      throw new ModelFormatError(
        tj,
        sp ? "missing; only a SentencePiece tokenizer.model is present (convert it to tokenizer.json)" : "missing",
      );
    }
    const tc = join(dir, "tokenizer_config.json");
    const jinja = join(dir, "chat_template.jinja");
    return new ModelTokenizer({
      tokenizerJson: readJson(tj),
      tokenizerConfig: existsSync(tc) ? readJson(tc) : {},
      chatTemplate: existsSync(jinja) ? readFileSync(jinja, "utf8") : undefined,
      chatTemplateOrigin: jinja,
      origin: tj,
    });
  }

  /** Ids of `text`. Special-token strings in the text (e.g. "<|im_end|>") become their special ids. */
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tok.encode(text, { add_special_tokens: opts.addSpecialTokens ?? false }).ids;
  }

  tokens(text: string): string[] {
    return this.tok.encode(text, { add_special_tokens: false }).tokens;
  }

  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return ""; // the library rejects an empty list
    return this.tok.decode([...ids], { skip_special_tokens: opts.skipSpecialTokens ?? true });
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  /** Renders the chat template (Python-jinja2-compatible). */
  renderChat(messages: readonly ChatMessage[], opts: { addGenerationPrompt?: boolean } = {}): string {
    let chars = 0;
    for (const m of messages) chars += m.content.length + m.role.length;
    try {
      return renderWithBudget(
        this.template,
        {
          messages: messages.map((m) => ({ role: m.role, content: m.content })),
          add_generation_prompt: opts.addGenerationPrompt ?? false,
          // Reasoning templates (Qwen3) otherwise open a think block: tuning teaches direct answers.
          enable_thinking: false,
          ...this.specialStrings,
        },
        this.budget(chars, messages.length),
      );
    } catch (e) {
      // A stack overflow (runaway macro recursion) is a template fault too, like a blown budget.
      const what =
        e instanceof TemplateBudgetError ? "chat template exceeds its render budget" : "chat template failed to render";
      throw new ModelFormatError(this.templateOrigin, `${what}: ${(e as Error).message}`);
    }
  }

  /** Prompt ids for generation: the conversation so far plus the assistant generation prompt. */
  encodePrompt(prompt: string | readonly ChatMessage[], system?: string): number[] {
    const messages: ChatMessage[] =
      typeof prompt === "string"
        ? [...(system ? [{ role: "system", content: system }] : []), { role: "user", content: prompt }]
        : [...prompt];
    return this.encode(this.renderChat(messages, { addGenerationPrompt: true }));
  }

  /**
   * Ids + answer mask of a conversation. Each assistant turn is masked in from its first token up to
   * and including the first stop token after it (so the model learns to end its turn); everything else
   * (system, user, template markup, trailing newlines) is context only.
   *
   * The conversation is encoded as one text, and each turn's prompt must encode to a token prefix of it,
   * so the model trains on exactly the ids that encodePrompt feeds at inference time. When a tokenizer
   * merges across that boundary, the turns are encoded as separate segments and concatenated instead
   * (still exact for the prompt; the answer's first token may then differ from a one-piece encoding).
   */
  encodeExample(example: ChatExample): EncodedExample {
    const messages: ChatMessage[] =
      "messages" in example
        ? example.messages
        : [
            ...(example.system ? [{ role: "system", content: example.system }] : []),
            { role: "user", content: example.question },
            { role: "assistant", content: example.answer },
          ];
    const turns: { prefix: string; full: string }[] = [];
    for (let i = 0; i < messages.length; i++) {
      if (messages[i]!.role !== "assistant") continue;
      const prefix = this.renderChat(messages.slice(0, i), { addGenerationPrompt: true });
      const full = this.renderChat(messages.slice(0, i + 1), { addGenerationPrompt: false });
      if (!full.startsWith(prefix) || (turns.length && !prefix.startsWith(turns[turns.length - 1]!.full))) {
        throw new ModelFormatError(
          this.templateOrigin,
          `chat template is not prefix-consistent at message ${i} (the rendered prompt is not a prefix of the rendered conversation), so answer tokens cannot be located`,
        );
      }
      turns.push({ prefix, full });
    }
    if (!turns.length) throw new Error("encodeExample: the conversation has no assistant message to learn");
    const whole = this.renderChat(messages, { addGenerationPrompt: false });
    return this.maskByPrefixes(whole, turns) ?? this.maskBySegments(whole, turns);
  }

  private markAnswer(ids: readonly number[], mask: number[], from: number, to: number): void {
    const stop = new Set(this.stopIds);
    for (let t = from; t < to; t++) {
      mask[t] = 1;
      if (stop.has(ids[t]!)) break;
    }
  }

  private maskByPrefixes(whole: string, turns: { prefix: string; full: string }[]): EncodedExample | null {
    const ids = this.encode(whole);
    const mask = ids.map(() => 0);
    const isPrefix = (p: number[]) => p.length <= ids.length && p.every((t, i) => ids[i] === t);
    let promptLength = -1;
    for (const turn of turns) {
      const p = this.encode(turn.prefix);
      const f = this.encode(turn.full);
      if (!isPrefix(p) || !isPrefix(f) || f.length < p.length) return null;
      if (promptLength < 0) promptLength = p.length;
      this.markAnswer(ids, mask, p.length, f.length);
    }
    return { ids, answerMask: mask, promptLength };
  }

  private maskBySegments(whole: string, turns: { prefix: string; full: string }[]): EncodedExample {
    const ids: number[] = [];
    const mask: number[] = [];
    let done = "";
    let promptLength = -1;
    const push = (text: string, answer: boolean) => {
      const seg = this.encode(text);
      const at = ids.length;
      ids.push(...seg);
      mask.push(...seg.map(() => 0));
      if (answer) this.markAnswer(ids, mask, at, ids.length);
    };
    for (const turn of turns) {
      push(turn.prefix.slice(done.length), false);
      if (promptLength < 0) promptLength = ids.length;
      push(turn.full.slice(turn.prefix.length), true);
      done = turn.full;
    }
    if (whole.startsWith(done) && whole.length > done.length) push(whole.slice(done.length), false);
    return { ids, answerMask: mask, promptLength };
  }
}

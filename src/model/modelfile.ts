// An Ollama Modelfile for an exported GGUF: FROM the file, the chat template, stop tokens and the
// model's generation defaults. Ollama templates are Go text/template, not jinja, so the model's jinja
// template cannot be copied; it is rendered here with marker messages and cut into the pieces each role
// wraps its content in (what text comes before and after a user turn, an assistant turn, a system
// prompt, and the generation prompt). That works for templates that render each turn the same way
// wherever it sits (all the families we load); a template that does not is refused, since a Modelfile
// that formats prompts differently from training would silently degrade the model.
import type { ModelTokenizer } from "./tokenizer";

/** The pieces of a chat format, enough to rebuild any system/user/assistant conversation. */
export interface ChatPieces {
  /** Start of every conversation without a system prompt (BOS, a default system block). */
  head: string;
  /** Before and after a system prompt (the system prompt opens the conversation). */
  system: [string, string];
  user: [string, string];
  assistant: [string, string];
  /** What opens the model's answer. */
  generation: string;
}

const MARK = (n: number) => `\u0001SEAT${n}\u0001`;

/** Splits the tokenizer's chat template into role pieces; throws when the template is not regular. */
export function chatPieces(tok: ModelTokenizer): ChatPieces {
  const r = (msgs: { role: string; content: string }[], gen = false) =>
    tok.renderChat(msgs, { addGenerationPrompt: gen });
  const [S, U1, A1, U2] = [MARK(1), MARK(2), MARK(3), MARK(4)];
  const conv = r(
    [
      { role: "user", content: U1 },
      { role: "assistant", content: A1 },
      { role: "user", content: U2 },
    ],
    true,
  );
  const cut = (text: string, m: string) => {
    const i = text.indexOf(m);
    if (i < 0) throw new Error(`the chat template drops message text (${JSON.stringify(m)})`);
    return [text.slice(0, i), text.slice(i + m.length)] as const;
  };
  const [beforeU1, afterU1] = cut(conv, U1);
  const [u1ToA1, afterA1] = cut(afterU1, A1);
  const [a1ToU2, afterU2] = cut(afterA1, U2);
  const userOnly = r([{ role: "user", content: U1 }]);
  const withGen = r([{ role: "user", content: U1 }], true);
  if (!withGen.startsWith(userOnly)) throw new Error("the generation prompt is not appended after the conversation");
  const generation = withGen.slice(userOnly.length);
  const userSuffix = cut(userOnly, U1)[1];
  // afterU2 = user suffix + generation prompt; u1ToA1 = user suffix + assistant prefix.
  if (afterU2 !== userSuffix + generation || !u1ToA1.startsWith(userSuffix))
    throw new Error("user turns are not rendered the same way everywhere");
  const assistantPrefix = u1ToA1.slice(userSuffix.length);
  // Some templates (Llama 3's) open the next header after a final assistant turn, so the suffix is the
  // part the two renderings share.
  const afterAnswer = cut(
    r([
      { role: "user", content: U1 },
      { role: "assistant", content: A1 },
    ]),
    A1,
  )[1];
  let n = 0;
  while (n < afterAnswer.length && afterAnswer[n] === a1ToU2[n]) n++;
  const assistantSuffix = a1ToU2.slice(0, n);
  const userPrefix = a1ToU2.slice(assistantSuffix.length);
  if (!beforeU1.endsWith(userPrefix)) throw new Error("the first user turn is rendered differently from later ones");
  const head = beforeU1.slice(0, beforeU1.length - userPrefix.length);
  const sys = r([
    { role: "system", content: S },
    { role: "user", content: U1 },
  ]);
  const [beforeS, afterS] = cut(sys, S);
  const sToU1 = cut(afterS, U1)[0];
  if (!sToU1.endsWith(userPrefix) || !cut(sys, U1)[1].startsWith(userSuffix))
    throw new Error("a system prompt changes how the user turn is rendered");
  const pieces: ChatPieces = {
    head,
    system: [beforeS, sToU1.slice(0, sToU1.length - userPrefix.length)],
    user: [userPrefix, userSuffix],
    assistant: [assistantPrefix, assistantSuffix],
    generation,
  };
  return pieces;
}

/** Rebuilds a rendered conversation from the pieces (what the Modelfile's template does in Ollama). */
export function renderFromPieces(
  p: ChatPieces,
  messages: readonly { role: string; content: string }[],
  addGenerationPrompt: boolean,
): string {
  let out = messages[0]?.role === "system" ? p.system[0] + messages[0].content + p.system[1] : p.head;
  for (const m of messages) {
    if (m.role === "user") out += p.user[0] + m.content + p.user[1];
    else if (m.role === "assistant") out += p.assistant[0] + m.content + p.assistant[1];
  }
  return addGenerationPrompt ? out + p.generation : out;
}

/** Go template string literal pieces: text is emitted verbatim between actions. */
function goText(s: string): string {
  // "{{" would open an action; Go templates print it through a string literal instead.
  return s.split("{{").join('{{ "{{" }}');
}

function quoted(s: string): string {
  return JSON.stringify(s);
}

/** Modelfile triple-quoted text: kept verbatim (newlines included), so it must not hold `"""`. */
function tripleQuoted(s: string): string {
  if (s.includes('"""')) throw new Error('the chat template contains """, which a Modelfile cannot quote');
  return `"""${s}"""`;
}

export interface ModelfileOptions {
  /** The GGUF file name, relative to the Modelfile. */
  gguf: string;
  tokenizer: ModelTokenizer;
  /** generation_config.json defaults (temperature, top_p, top_k). */
  generation?: Record<string, unknown>;
  /** Shown as a comment at the top. */
  description?: string;
}

export function ollamaModelfile(o: ModelfileOptions): string {
  const tok = o.tokenizer;
  const p = chatPieces(tok);
  // llama.cpp adds BOS itself when the GGUF says so; the template must not add a second one.
  const strip = (s: string) => (tok.bosToken && s.startsWith(tok.bosToken) ? s.slice(tok.bosToken.length) : s);
  const template =
    `{{- if .System }}${goText(strip(p.system[0]))}{{ .System }}${goText(p.system[1])}{{ else }}${goText(strip(p.head))}{{ end }}` +
    `{{- range .Messages }}{{ if eq .Role "user" }}${goText(p.user[0])}{{ .Content }}${goText(p.user[1])}` +
    `{{ else if eq .Role "assistant" }}${goText(p.assistant[0])}{{ .Content }}${goText(p.assistant[1])}{{ end }}{{ end }}${goText(p.generation)}`;
  const lines = [
    ...(o.description ? o.description.split("\n").map((l) => `# ${l}`) : []),
    `FROM ./${o.gguf}`,
    `TEMPLATE ${tripleQuoted(template)}`,
  ];
  for (const id of tok.stopIds) {
    const t = tok.idToToken(id);
    if (t) lines.push(`PARAMETER stop ${quoted(t)}`);
  }
  const g = o.generation ?? {};
  if (g["do_sample"] === false) lines.push("PARAMETER temperature 0");
  else if (typeof g["temperature"] === "number") lines.push(`PARAMETER temperature ${g["temperature"]}`);
  if (typeof g["top_p"] === "number") lines.push(`PARAMETER top_p ${g["top_p"]}`);
  if (typeof g["top_k"] === "number") lines.push(`PARAMETER top_k ${g["top_k"]}`);
  return lines.join("\n") + "\n";
}

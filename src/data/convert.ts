// Format conversion between chat, QA and Alpaca records. The record's own fields are rewritten in the
// target shape at the position of the first source field; every other member (ids, `edge`, `seat`, ...)
// is copied as its original source text, in order.
import { analyzeRecord, messagesOf } from "./formats";
import { scanJson } from "./jsonScan";
import type { ChatMessage, RecordFormat, TargetFormat } from "./types";

/** The members that make up each format (removed and replaced on conversion). */
export const FORMAT_FIELDS: Record<RecordFormat, readonly string[]> = {
  qa: ["question", "answer", "system"],
  chat: ["messages"],
  alpaca: ["instruction", "input", "output", "system"],
  sharegpt: ["conversations", "system"],
  completion: ["prompt", "completion"],
};

export class ConversionError extends Error {
  constructor(
    message: string,
    readonly column = 1,
  ) {
    super(message);
    this.name = "ConversionError";
  }
}

function targetMembers(to: TargetFormat, messages: ChatMessage[]): Array<[string, unknown]> {
  if (to === "chat") return [["messages", messages]];
  const system = messages[0]?.role === "system" ? messages[0].content : undefined;
  const turns = system === undefined ? messages : messages.slice(1);
  if (turns.length !== 2 || turns[0].role !== "user" || turns[1].role !== "assistant") {
    const users = turns.filter((m) => m.role === "user").length;
    throw new ConversionError(
      `a conversation with ${users} user turns cannot become a single ${to === "qa" ? "question/answer" : "instruction/output"} record without losing turns`,
    );
  }
  const sys: Array<[string, unknown]> = system === undefined ? [] : [["system", system]];
  if (to === "qa") return [["question", turns[0].content], ["answer", turns[1].content], ...sys];
  return [["instruction", turns[0].content], ["input", ""], ["output", turns[1].content], ...sys];
}

/**
 * Converts one record's text to `to`. A record already in the target format comes back unchanged.
 * Throws ConversionError for records that are invalid or would lose information.
 */
export function convertRecordText(text: string, to: TargetFormat): string {
  const scanned = scanJson(text);
  if (!scanned.ok) throw new ConversionError(`invalid JSON: ${scanned.error.message}`, scanned.error.offset + 1);
  const root = scanned.root;
  if (root.kind !== "object") throw new ConversionError("a record must be a JSON object");
  const obj = JSON.parse(text) as Record<string, unknown>;
  const a = analyzeRecord(obj);
  const messages = messagesOf(a);
  if (!a.format) throw new ConversionError("record matches no known format");
  if (a.format === to) return text;
  const errors = a.issues.filter((i) => i.severity === "error" && !i.path.includes("seat"));
  if (errors.length) throw new ConversionError(`record has errors: ${errors[0].message}`);
  const fields = new Set(FORMAT_FIELDS[a.format]);
  const members = root.members ?? [];
  const first = members.findIndex((m) => fields.has(m.key));
  const colonStyle = members[0]
    ? text.slice(members[0].keyStart, members[0].value.start).replace(/^"(?:[^"\\]|\\.)*"/, "")
    : ": ";
  const commaStyle =
    members.length > 1 ? text.slice(members[0].value.end, members[1].keyStart) : colonStyle === ":" ? "," : ", ";
  const parts: string[] = [];
  const emitNew = () => {
    for (const [k, v] of targetMembers(to, messages)) parts.push(JSON.stringify(k) + colonStyle + JSON.stringify(v));
  };
  members.forEach((m, i) => {
    if (i === first) emitNew();
    if (fields.has(m.key)) return;
    parts.push(text.slice(m.keyStart, m.value.end));
  });
  return "{" + parts.join(commaStyle.includes("\n") ? ", " : commaStyle) + "}";
}

export interface ConvertResult {
  text: string;
  converted: number;
  unchanged: number;
  /** Records that could not be converted (kept as they were in the output). */
  failures: Array<{ line: number; column: number; message: string }>;
}

/** Converts every line of a JSONL text; line order, blank lines and the final newline are kept. */
export function convertJsonlText(text: string, to: TargetFormat): ConvertResult {
  const out: string[] = [];
  const failures: ConvertResult["failures"] = [];
  let converted = 0;
  let unchanged = 0;
  let lineNo = 0;
  for (const raw of text.split("\n")) {
    lineNo++;
    const cr = raw.endsWith("\r") ? "\r" : "";
    const line = cr ? raw.slice(0, -1) : raw;
    const body = lineNo === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
    if (body.trim() === "") {
      out.push(raw);
      continue;
    }
    try {
      const next = convertRecordText(body, to);
      if (next === body) unchanged++;
      else converted++;
      out.push(line.slice(0, line.length - body.length) + next + cr);
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      failures.push({ line: lineNo, column: e.column, message: e.message });
      out.push(raw);
    }
  }
  return { text: out.join("\n"), converted, unchanged, failures };
}

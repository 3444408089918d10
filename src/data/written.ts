// Checks of a record's text that JSON.parse hides: a key written twice in one object (JSON.parse keeps
// the last value and drops the other without a word) and a lone UTF-16 surrogate in a string (`\ud800`
// parses, but it is not Unicode text: tokenizers, UTF-8 encoders and other tools fail on it). Both run
// on every line of million-line files, so each starts with a cheap test that clean records pass.
import { scanJson, type JsonSpanNode } from "./jsonScan";

export interface WrittenIssue {
  /** Offsets into the record text, end exclusive. */
  start: number;
  end: number;
  code: "duplicate-key" | "lone-surrogate";
  message: string;
}

// In valid JSON every key's closing quote is followed (after whitespace) by ':'; the only other way to
// match is an escaped quote inside a string followed by ':'. So this count is at least the number of
// keys written, and equal to the parsed key count only when no key repeats.
const KEY_END = /"[ \t\r\n]*:/g;

/** Keys of every object in a parsed value: recursive while shallow (fast), iterative past that (records may nest deeply). */
function parsedKeyCount(value: unknown, depth = 0): number {
  if (typeof value !== "object" || value === null) return 0;
  if (depth > 64) return parsedKeyCountDeep(value);
  let n = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const x = value[i];
      if (typeof x === "object" && x !== null) n += parsedKeyCount(x, depth + 1);
    }
    return n;
  }
  const keys = Object.keys(value);
  n = keys.length;
  for (let i = 0; i < keys.length; i++) {
    const x = (value as Record<string, unknown>)[keys[i]];
    if (typeof x === "object" && x !== null) n += parsedKeyCount(x, depth + 1);
  }
  return n;
}

function parsedKeyCountDeep(value: unknown): number {
  let n = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v !== "object" || v === null) continue;
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === "object" && x !== null) stack.push(x);
    } else {
      for (const k of Object.keys(v)) {
        n++;
        const x = (v as Record<string, unknown>)[k];
        if (typeof x === "object" && x !== null) stack.push(x);
      }
    }
  }
  return n;
}

/** Duplicate keys of `text` (already known to parse as `value`), each at its later occurrence. */
export function duplicateKeys(text: string, value: unknown): WrittenIssue[] {
  // Every written key has its own ':'; with as many colons as parsed keys, no key can repeat. Only
  // records with colons inside strings (times, URLs) pay for the finer count.
  const parsed = parsedKeyCount(value);
  let colons = 0;
  for (let i = text.indexOf(":"); i >= 0; i = text.indexOf(":", i + 1)) colons++;
  if (colons === parsed) return [];
  KEY_END.lastIndex = 0;
  let written = 0;
  while (KEY_END.exec(text)) written++;
  if (written === parsed) return [];
  const r = scanJson(text, true);
  if (!r.ok) return [];
  const out: WrittenIssue[] = [];
  const stack: JsonSpanNode[] = [r.root];
  while (stack.length) {
    const node = stack.pop()!;
    if (node.members) {
      const seen = new Set<string>();
      for (const m of node.members) {
        if (seen.has(m.key)) {
          const keyEnd = text.indexOf(":", m.keyStart + 1);
          out.push({
            start: m.keyStart,
            end: text.lastIndexOf('"', keyEnd) + 1,
            code: "duplicate-key",
            message: `duplicate key ${JSON.stringify(m.key)}: JSON readers keep only this last value and silently drop the earlier one; remove one of them`,
          });
        }
        seen.add(m.key);
        stack.push(m.value);
      }
    }
    for (const item of node.items ?? []) stack.push(item);
  }
  return out.sort((a, b) => a.start - b.start);
}

// A surrogate written as an escape, or (in text that did not come from UTF-8, e.g. an editor buffer) as
// a raw UTF-16 code unit; valid pairs also match, and are sorted out below.
const MAYBE_SURROGATE = /\\u[dD][89a-fA-F]|[\ud800-\udfff]/;

const hexAt = (text: string, i: number) =>
  text.charCodeAt(i) === 0x5c && text.charCodeAt(i + 1) === 0x75 ? parseInt(text.slice(i + 2, i + 6), 16) : -1;
const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** Lone surrogates in the strings of `text` (valid JSON), escaped or raw, located at each. */
export function loneSurrogates(text: string): WrittenIssue[] {
  if (!MAYBE_SURROGATE.test(text)) return [];
  const out: WrittenIssue[] = [];
  const report = (start: number, end: number, unit: number) =>
    out.push({
      start,
      end,
      code: "lone-surrogate",
      message: `lone surrogate \\u${unit.toString(16).padStart(4, "0")} in a string: it is not valid Unicode, and tokenizers and UTF-8 tools fail on it; remove it or complete the pair`,
    });
  // In valid JSON a backslash only occurs inside strings, always starting an escape: walking escapes
  // left to right never mistakes an escaped backslash for the start of \u.
  for (let i = 0; i < text.length;) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) {
      if (text.charCodeAt(i + 1) !== 0x75) {
        i += 2;
        continue;
      }
      const u = parseInt(text.slice(i + 2, i + 6), 16);
      if (isHigh(u) && isLow(hexAt(text, i + 6))) i += 12;
      else {
        if (isHigh(u) || isLow(u)) report(i, i + 6, u);
        i += 6;
      }
    } else if (isHigh(c) && isLow(text.charCodeAt(i + 1))) i += 2;
    else {
      if (isHigh(c) || isLow(c)) report(i, i + 1, c);
      i++;
    }
  }
  return out;
}

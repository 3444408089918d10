// Replacing an entity with its stand-in: every whole-word mention, possessives included, and for people
// the mentions of a single part of the name ("Al-Kuwaiti's novels" after "Basil Mahfouz Al-Kuwaiti").
// Everything outside the mentions stays byte-identical.
import type { ChatMessage, EntityKind } from "./types";
import { NAME_PARTICLES } from "./lexicon";

const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Offsets of whole-word occurrences of `name` in `text` (case-sensitive, non-overlapping). */
export function findMentions(text: string, name: string): { start: number; end: number }[] {
  if (!name) return [];
  const out: { start: number; end: number }[] = [];
  // Inner whitespace of a name may be any run of spaces in the text ("Acme  Inc").
  const re = new RegExp(escapeRegExp(name.trim()).replace(/\s+/g, "\\s+"), "gu");
  for (const m of text.matchAll(re)) {
    const start = m.index!;
    const end = start + m[0].length;
    const before = start > 0 ? text[start - 1] : "";
    const after = end < text.length ? text[end] : "";
    const startsWord = WORD_CHAR.test(m[0][0]);
    const endsWord = WORD_CHAR.test(m[0][m[0].length - 1]);
    if (startsWord && before && WORD_CHAR.test(before)) continue;
    if (endsWord && after && WORD_CHAR.test(after)) continue;
    out.push({ start, end });
  }
  return out;
}

export interface SubstituteOptions {
  /** Kind of the entity: for people, single parts of the name are replaced by the matching part. */
  kind?: EntityKind | string;
  /** Replace single-part mentions of a person's name (default true when kind is person). */
  partialMentions?: boolean;
}

/** Name parts that can stand alone as a mention: capitalised, not a particle, at least 3 letters. */
function nameParts(name: string): string[] {
  return name
    .split(/\s+/)
    .filter((w) => /^\p{Lu}/u.test(w) && w.length >= 3 && !NAME_PARTICLES.has(w.toLowerCase()) && !w.endsWith("."));
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * `text` with every mention of `entity` replaced by `replacement`. A possessive written with a bare
 * apostrophe after a name ending in s ("Jones' novel") becomes "'s" when the stand-in does not end in s.
 */
export function substitute(text: string, entity: string, replacement: string, opts: SubstituteOptions = {}): string {
  const edits: Edit[] = findMentions(text, entity).map((m) => ({ ...m, text: replacement }));
  const partial = opts.partialMentions ?? opts.kind === "person";
  if (partial) {
    const from = nameParts(entity);
    const to = nameParts(replacement);
    if (from.length >= 2 && from.length === to.length) {
      from.forEach((part, i) => {
        // A part shared with the stand-in or another part is ambiguous; leave it.
        if (from.indexOf(part) !== i || part === to[i]) return;
        for (const m of findMentions(text, part)) {
          if (edits.some((e) => m.start < e.end && e.start < m.end)) continue;
          edits.push({ ...m, text: to[i] });
        }
      });
    }
  }
  if (!edits.length) return text;
  edits.sort((a, b) => a.start - b.start);
  let out = "";
  let pos = 0;
  for (const e of edits) {
    out += text.slice(pos, e.start) + e.text;
    pos = e.end;
    const apostrophe = text[pos];
    const oldEndsInS = /s$/i.test(text.slice(e.start, e.end));
    // "Jones' novel" is a possessive; "'Aris Jones'." is a closing quote (opened before the name, or not
    // followed by a word).
    const possessive =
      (apostrophe === "'" || apostrophe === "’") &&
      /^\s+[\p{L}\p{N}]/u.test(text.slice(pos + 1, pos + 3)) &&
      !/['‘]$/u.test(text.slice(0, e.start));
    if (possessive && oldEndsInS && !/s$/i.test(e.text)) {
      out += apostrophe + "s";
      pos++;
    }
  }
  return out + text.slice(pos);
}

/** Whether `text` mentions `entity` at all (whole word). */
export function mentions(text: string, entity: string): boolean {
  return findMentions(text, entity).length > 0;
}

/**
 * Messages with the entity replaced in the prompt: every turn except a final assistant turn (the answer
 * about the real entity, the y of the objective). Set `includeAnswer` to replace there too.
 */
export function substituteMessages(
  messages: readonly ChatMessage[],
  entity: string,
  replacement: string,
  opts: SubstituteOptions & { includeAnswer?: boolean } = {},
): ChatMessage[] {
  const last = messages.length - 1;
  return messages.map((m, i) =>
    i === last && m.role === "assistant" && !opts.includeAnswer
      ? { ...m }
      : { ...m, content: substitute(m.content, entity, replacement, opts) },
  );
}

// Lossless edits of a record's text: change one top-level member and keep every other byte (key order,
// spacing, number spellings such as 1.0 or 1e3, big integers) exactly as the user wrote it.
import { scanJson, type JsonSpanNode } from "./jsonScan";
import type { SeatMeta } from "./types";

/** A located failure of a record edit: `offset` is where in the record's text the JSON goes wrong. */
export class RecordEditError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = "RecordEditError";
  }
}

function rootObject(text: string): JsonSpanNode {
  // Edits touch top-level members only, so spans stop at depth 1 and nesting is not capped: any record
  // JSON.parse (and so the validator) accepts can be edited, however deep its values go; the scanner is
  // iterative, so depth costs one small frame per level, as it does in JSON.parse.
  const r = scanJson(text, 1, Infinity);
  if (!r.ok) throw new RecordEditError(`cannot edit an invalid record: ${r.error.message} at column ${r.error.offset + 1}`, r.error.offset);
  if (r.root.kind !== "object") throw new RecordEditError("cannot edit a record that is not a JSON object", r.root.start);
  return r.root;
}

/** The separator style of an object: `"a": 1, "b"` or `"a":1,"b"`. */
function style(text: string, root: JsonSpanNode): { colon: string; comma: string } {
  const ms = root.members ?? [];
  const m = ms[0];
  if (!m) return { colon: ": ", comma: ", " };
  const between = text.slice(m.keyStart, m.value.start);
  const colon = between.slice(between.indexOf(":"));
  let comma = colon === ":" ? "," : ", ";
  if (ms.length > 1) {
    const gap = text.slice(m.value.end, ms[1].keyStart);
    comma = gap;
  }
  return { colon: colon.includes("\n") ? ": " : colon, comma: comma.includes("\n") ? ", " : comma };
}

/**
 * Sets (or with `undefined`, removes) the top-level member `key` to `value` serialized as compact JSON.
 * An existing member is replaced in place; a new one is appended after the last member.
 */
export function setMember(text: string, key: string, value: unknown): string {
  const root = rootObject(text);
  const ms = root.members ?? [];
  let idx = -1;
  for (let i = ms.length - 1; i >= 0; i--) if (ms[i].key === key) { idx = i; break; }
  if (value === undefined) {
    if (idx < 0) return text;
    const m = ms[idx];
    if (ms.length === 1) return text.slice(0, root.start + 1) + text.slice(root.end - 1);
    // remove the member with the separator that joins it to a neighbour
    if (idx === ms.length - 1) return text.slice(0, ms[idx - 1].value.end) + text.slice(m.value.end);
    return text.slice(0, m.keyStart) + text.slice(ms[idx + 1].keyStart);
  }
  const json = JSON.stringify(value);
  if (idx >= 0) {
    const v = ms[idx].value;
    return text.slice(0, v.start) + json + text.slice(v.end);
  }
  const { colon, comma } = style(text, root);
  const member = JSON.stringify(key) + colon + json;
  if (ms.length === 0) return text.slice(0, root.start + 1) + member + text.slice(root.end - 1);
  const last = ms[ms.length - 1].value.end;
  return text.slice(0, last) + comma + member + text.slice(last);
}

/**
 * Merges `patch` into the record's `seat` object (keys set to undefined are removed) and returns the
 * new record text. Everything outside `seat` is kept byte for byte.
 */
export function updateSeat(text: string, patch: Partial<SeatMeta>): string {
  rootObject(text); // located error for invalid records before anything else
  const current = (JSON.parse(text) as { seat?: unknown }).seat;
  const seat: Record<string, unknown> = typeof current === "object" && current !== null && !Array.isArray(current) ? { ...(current as object) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete seat[k];
    else seat[k] = v;
  }
  return setMember(text, "seat", seat);
}

/** The source text of each top-level member, in order: [key, raw value text]. */
export function rawMembers(text: string): Array<[string, string]> {
  const root = rootObject(text);
  return (root.members ?? []).map((m) => [m.key, text.slice(m.value.start, m.value.end)]);
}

// Lossless edits of a record's text: the one line editor of the project. It changes what it is asked
// to (a top-level member, the `seat` object, entries of `seat.perturbations`, `seat.entities`) and keeps
// every other byte (key order, spacing, number spellings such as 1.0 or 1e3, big integers) exactly as
// the user wrote it; what it adds follows the record's own separator style.
import { scanJson, type JsonSpanNode } from "./jsonScan";
import type { SeatMeta, SeatPerturbation } from "./types";

/**
 * A located failure of a record edit. `line` and `column` are 1-based within the record's text (a
 * record on one line: line 1 and the column on that line); `offset` is the same place, 0-based.
 */
export class RecordEditError extends Error {
  readonly line: number;
  readonly column: number;
  constructor(
    message: string,
    text: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = "RecordEditError";
    const before = text.slice(0, offset);
    const nl = before.lastIndexOf("\n");
    this.line = nl < 0 ? 1 : before.split("\n").length;
    this.column = offset - nl;
  }
}

/**
 * The record's root object. `depth`: how deep spans are kept (1: the top-level members). Nesting is not
 * capped: any record JSON.parse (and so the validator) accepts can be edited, however deep its values
 * go; the scanner is iterative, so depth costs one small frame per level, as it does in JSON.parse.
 */
function recordRoot(text: string, depth = 1): JsonSpanNode {
  const r = scanJson(text, depth, Infinity);
  if (!r.ok) throw new RecordEditError(`invalid JSON: ${r.error.message}`, text, r.error.offset);
  if (r.root.kind !== "object") throw new RecordEditError("the record is not a JSON object", text, r.root.start);
  return r.root;
}

function member(node: JsonSpanNode, key: string) {
  const ms = node.members ?? [];
  for (let i = ms.length - 1; i >= 0; i--) if (ms[i].key === key) return ms[i];
  return undefined;
}

/**
 * The separator after a colon and between members/items, copied from the first of `nodes` that shows
 * it (the container being edited, then its parents): a compact record stays compact, a spaced one
 * spaced. With nothing to copy a comma follows the colon's style.
 */
export function styleOf(text: string, ...nodes: (JsonSpanNode | undefined)[]): { colon: string; comma: string } {
  let colon: string | undefined;
  let comma: string | undefined;
  for (const node of nodes) {
    if (!node) continue;
    const ms = node.members;
    if (ms && ms.length) {
      if (colon === undefined) {
        const between = text.slice(ms[0].keyStart, ms[0].value.start);
        colon = between.slice(between.indexOf(":"));
      }
      if (comma === undefined && ms.length > 1) comma = text.slice(ms[0].value.end, ms[1].keyStart);
    }
    const items = node.items;
    if (comma === undefined && items && items.length > 1) comma = text.slice(items[0].end, items[1].start);
  }
  if (comma === undefined && colon === ":") comma = ",";
  // New text is one line: a pretty-printed (multi-line) container would need its indentation guessed.
  const one = (s: string | undefined, d: string) => (s === undefined || s.includes("\n") ? d : s);
  return { colon: one(colon, ": "), comma: one(comma, ", ") };
}

/** JSON of a flat object with the given separators (values are strings and numbers). */
function styledJson(value: object, st: { colon: string; comma: string }): string {
  const parts = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => JSON.stringify(k) + st.colon + JSON.stringify(v));
  return `{${parts.join(st.comma)}}`;
}

/** `text` with `member` (already serialized, e.g. `"k": v`) added as the last member of `node`. */
function appendMember(text: string, node: JsonSpanNode, memberText: string, comma: string): string {
  const ms = node.members ?? [];
  const at = ms.length ? ms[ms.length - 1].value.end : node.start + 1;
  return text.slice(0, at) + (ms.length ? comma : "") + memberText + text.slice(at);
}

/**
 * Sets (or with `undefined`, removes) the top-level member `key` to `value` serialized as compact JSON.
 * An existing member is replaced in place; a new one is appended after the last member.
 */
export function setMember(text: string, key: string, value: unknown): string {
  const root = recordRoot(text);
  const ms = root.members ?? [];
  let idx = -1;
  for (let i = ms.length - 1; i >= 0; i--)
    if (ms[i].key === key) {
      idx = i;
      break;
    }
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
  const { colon, comma } = styleOf(text, root);
  return appendMember(text, root, JSON.stringify(key) + colon + json, comma);
}

/**
 * Merges `patch` into the record's `seat` object (keys set to undefined are removed) and returns the
 * new record text. Everything outside `seat` is kept byte for byte.
 */
export function updateSeat(text: string, patch: Partial<SeatMeta>): string {
  recordRoot(text); // located error for invalid records before anything else
  const current = (JSON.parse(text) as { seat?: unknown }).seat;
  const seat: Record<string, unknown> =
    typeof current === "object" && current !== null && !Array.isArray(current) ? { ...(current as object) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete seat[k];
    else seat[k] = v;
  }
  return setMember(text, "seat", seat);
}

/** The source text of each top-level member, in order: [key, raw value text]. */
export function rawMembers(text: string): Array<[string, string]> {
  const root = recordRoot(text);
  return (root.members ?? []).map((m) => [m.key, text.slice(m.value.start, m.value.end)]);
}

/** A perturbation entry as stored (what the generator and the editor's lenses produce). */
type Entry = { entity: string; replacement: string };

/** What addPerturbationsToLine did. */
export interface LineEditResult<E extends Entry = SeatPerturbation> {
  /** The new record text (equal to the input when nothing was added). */
  text: string;
  /** Entries actually added (those whose replacement was not already listed). */
  added: E[];
}

function existingReplacements(value: unknown): Set<string> {
  const out = new Set<string>();
  if (Array.isArray(value)) {
    for (const p of value) {
      if (typeof p === "string") out.add(p);
      else if (p && typeof p === "object" && typeof (p as { replacement?: unknown }).replacement === "string")
        out.add((p as { replacement: string }).replacement);
    }
  }
  return out;
}

/**
 * Adds `entries` to the record's `seat.perturbations`: appended inside the existing array, or as a new
 * member of `seat`, or in a new `seat` member of the record. Entries whose `replacement` is already
 * listed are skipped. RecordEditError for a record that is not a JSON object, whose `seat` is not an
 * object, or whose `seat.perturbations` is not an array.
 */
export function addPerturbationsToLine<E extends Entry>(text: string, entries: readonly E[]): LineEditResult<E> {
  const root = recordRoot(text, 4);
  const seatMember = member(root, "seat");
  const seatValue = seatMember
    ? (JSON.parse(text.slice(seatMember.value.start, seatMember.value.end)) as unknown)
    : undefined;
  const present = existingReplacements((seatValue as { perturbations?: unknown } | undefined)?.perturbations);
  const added: E[] = [];
  for (const e of entries) {
    if (present.has(e.replacement)) continue;
    present.add(e.replacement);
    added.push(e);
  }
  if (!added.length) return { text, added };

  if (!seatMember) {
    const st = styleOf(text, root);
    const list = added.map((e) => styledJson(e, st)).join(st.comma);
    return {
      text: appendMember(text, root, `"seat"${st.colon}{"perturbations"${st.colon}[${list}]}`, st.comma),
      added,
    };
  }
  const seat = seatObject(text, seatMember.value);
  const pert = member(seat, "perturbations");
  if (!pert) {
    const st = styleOf(text, seat, root);
    const list = added.map((e) => styledJson(e, st)).join(st.comma);
    return { text: appendMember(text, seat, `"perturbations"${st.colon}[${list}]`, st.comma), added };
  }
  const arr = pert.value;
  if (arr.kind !== "array")
    throw new RecordEditError(`"seat.perturbations" must be an array, found ${arr.kind}`, text, arr.start);
  const items = arr.items ?? [];
  // Entries like the existing ones: their own key style first, then the array's, seat's, the record's.
  const st = styleOf(
    text,
    items.find((n) => n.kind === "object"),
    arr,
    seat,
    root,
  );
  const sep = styleOf(text, arr, seat, root).comma;
  const at = items.length ? items[items.length - 1].end : arr.start + 1;
  const inserted = (items.length ? sep : "") + added.map((e) => styledJson(e, st)).join(sep);
  return { text: text.slice(0, at) + inserted + text.slice(at), added };
}

/**
 * Sets the record's `seat.entities` to `names` (the user confirmed or chose the subject), replacing an
 * existing list in place or adding the member (and `seat` when there is none).
 */
export function setSeatEntities(text: string, names: readonly string[]): string {
  const root = recordRoot(text, 2);
  const seatMember = member(root, "seat");
  if (!seatMember) {
    const st = styleOf(text, root);
    return appendMember(
      text,
      root,
      `"seat"${st.colon}{"entities"${st.colon}[${names.map((n) => JSON.stringify(n)).join(st.comma)}]}`,
      st.comma,
    );
  }
  const seat = seatObject(text, seatMember.value);
  const st = styleOf(text, seat, root);
  const list = `[${names.map((n) => JSON.stringify(n)).join(st.comma)}]`;
  const ents = member(seat, "entities");
  if (ents) return text.slice(0, ents.value.start) + list + text.slice(ents.value.end);
  return appendMember(text, seat, `"entities"${st.colon}${list}`, st.comma);
}

function seatObject(text: string, seat: JsonSpanNode): JsonSpanNode {
  if (seat.kind !== "object")
    throw new RecordEditError(`"seat" must be an object, found ${seat.kind}`, text, seat.start);
  return seat;
}

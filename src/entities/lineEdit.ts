// Storing perturbations in a JSONL record without disturbing it: new entries are appended inside the
// existing `seat.perturbations` array (or a new member is added to `seat`, or a new `seat` member to the
// record); every other byte of the line (key order, spacing, number spellings) stays as written.
import { scanJson, type JsonSpanNode } from "../data/index";
import type { PerturbationEntry } from "./types";

export interface LineEditResult {
  /** The new line text (equal to the input when nothing was added). */
  text: string;
  /** Entries actually added (those whose replacement was not already listed). */
  added: PerturbationEntry[];
}

function member(node: JsonSpanNode, key: string) {
  const ms = node.members ?? [];
  for (let i = ms.length - 1; i >= 0; i--) if (ms[i].key === key) return ms[i];
  return undefined;
}

/**
 * The separator after a colon and between members/items, copied from the first of `nodes` that shows
 * it (the container being edited, then its parents): a compact line stays compact, a spaced one spaced.
 */
function styleOf(text: string, ...nodes: (JsonSpanNode | undefined)[]): { colon: string; comma: string } {
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
  // Entries are one line: a pretty-printed (multi-line) container would need its indentation guessed.
  const one = (s: string | undefined, d: string) => (s === undefined || s.includes("\n") ? d : s);
  return { colon: one(colon, ": "), comma: one(comma, ", ") };
}

/** JSON of a flat entry with the given separators (values are strings and numbers). */
function styledJson(value: object, st: { colon: string; comma: string }): string {
  const parts = Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => JSON.stringify(k) + st.colon + JSON.stringify(v));
  return `{${parts.join(st.comma)}}`;
}

function existingReplacements(value: unknown): Set<string> {
  const out = new Set<string>();
  if (Array.isArray(value)) {
    for (const p of value) {
      if (typeof p === "string") out.add(p);
      else if (p && typeof p === "object" && typeof (p as { replacement?: unknown }).replacement === "string") out.add((p as { replacement: string }).replacement);
    }
  }
  return out;
}

/** Thrown for a line that cannot take perturbations; `column` is 1-based. */
export class LineEditError extends Error {
  constructor(message: string, readonly column: number) {
    super(message);
    this.name = "LineEditError";
  }
}

/** The record's JSON object node; LineEditError (with its column) for invalid JSON or a non-object. */
function recordRoot(line: string): JsonSpanNode {
  const scanned = scanJson(line);
  if (!scanned.ok) throw new LineEditError(`invalid JSON: ${scanned.error.message}`, scanned.error.offset + 1);
  const root = scanned.root;
  if (root.kind !== "object") throw new LineEditError("the record is not a JSON object", root.start + 1);
  return root;
}

/**
 * Adds `entries` to the record's `seat.perturbations`. Entries whose `replacement` is already listed
 * are skipped. Throws LineEditError for a line that is not a JSON object, or whose `seat` is not an
 * object, or whose `seat.perturbations` is not an array.
 */
export function addPerturbationsToLine(line: string, entries: readonly PerturbationEntry[]): LineEditResult {
  const root = recordRoot(line);
  const seatMember = member(root, "seat");
  const seatValue = seatMember ? (JSON.parse(line.slice(seatMember.value.start, seatMember.value.end)) as unknown) : undefined;
  const present = existingReplacements((seatValue as { perturbations?: unknown } | undefined)?.perturbations);
  const added: PerturbationEntry[] = [];
  for (const e of entries) {
    if (present.has(e.replacement)) continue;
    present.add(e.replacement);
    added.push(e);
  }
  if (!added.length) return { text: line, added };

  if (!seatMember) {
    // New members are written in the record's own separator style ("a": 1, "b" or "a":1,"b").
    const st = styleOf(line, root);
    const json = (e: PerturbationEntry) => styledJson(e, st);
    const text = `"seat"${st.colon}{"perturbations"${st.colon}[${added.map(json).join(st.comma)}]}`;
    const ms = root.members ?? [];
    const at = ms.length ? ms[ms.length - 1].value.end : root.start + 1;
    return { text: line.slice(0, at) + (ms.length ? st.comma : "") + text + line.slice(at), added };
  }
  const seat = seatMember.value;
  if (seat.kind !== "object") throw new LineEditError(`"seat" must be an object, found ${seat.kind}`, seat.start + 1);
  const seatStyle = styleOf(line, seat, root);
  const json = (e: PerturbationEntry) => styledJson(e, seatStyle);
  const pert = member(seat, "perturbations");
  if (!pert) {
    const text = `"perturbations"${seatStyle.colon}[${added.map(json).join(seatStyle.comma)}]`;
    const ms = seat.members ?? [];
    const at = ms.length ? ms[ms.length - 1].value.end : seat.start + 1;
    return { text: line.slice(0, at) + (ms.length ? seatStyle.comma : "") + text + line.slice(at), added };
  }
  const arr = pert.value;
  if (arr.kind !== "array") throw new LineEditError(`"seat.perturbations" must be an array, found ${arr.kind}`, arr.start + 1);
  const items = arr.items ?? [];
  // Entries like the existing ones: their own key style first, then the array's, seat's, the record's.
  const firstObject = items.find((n) => n.kind === "object");
  const st = styleOf(line, firstObject, arr, seat, root);
  const itemJson = (e: PerturbationEntry) => styledJson(e, st);
  const sep = styleOf(line, arr, seat, root).comma;
  const at = items.length ? items[items.length - 1].end : arr.start + 1;
  const text = (items.length ? sep : "") + added.map(itemJson).join(sep);
  return { text: line.slice(0, at) + text + line.slice(at), added };
}

/**
 * Sets the record's `seat.entities` to `names` (the user confirmed or chose the subject), replacing an
 * existing list in place or adding the member; every other byte of the line stays as written.
 */
export function setSeatEntities(line: string, names: readonly string[]): string {
  const root = recordRoot(line);
  const seatMember = member(root, "seat");
  if (!seatMember) {
    const st = styleOf(line, root);
    const text = `"seat"${st.colon}{"entities"${st.colon}[${names.map((n) => JSON.stringify(n)).join(st.comma)}]}`;
    const ms = root.members ?? [];
    const at = ms.length ? ms[ms.length - 1].value.end : root.start + 1;
    return line.slice(0, at) + (ms.length ? st.comma : "") + text + line.slice(at);
  }
  const seat = seatMember.value;
  if (seat.kind !== "object") throw new LineEditError(`"seat" must be an object, found ${seat.kind}`, seat.start + 1);
  const st = styleOf(line, seat, root);
  const list = `[${names.map((n) => JSON.stringify(n)).join(st.comma)}]`;
  const ents = member(seat, "entities");
  if (ents) return line.slice(0, ents.value.start) + list + line.slice(ents.value.end);
  const ms = seat.members ?? [];
  const at = ms.length ? ms[ms.length - 1].value.end : seat.start + 1;
  return line.slice(0, at) + (ms.length ? st.comma : "") + `"entities"${st.colon}${list}` + line.slice(at);
}

// Storing perturbations in a JSONL record without disturbing it: new entries are appended inside the
// existing `seat.perturbations` array (or a new member is added to `seat`, or a new `seat` member to the
// record); every other byte of the line (key order, spacing, number spellings) stays as written.
import { scanJson, setMember, type JsonSpanNode } from "../data/index";
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

/** Separator after a colon and between members/items, copied from the container when it has some. */
function containerStyle(text: string, node: JsonSpanNode): { colon: string; comma: string } {
  let colon = ": ";
  let comma = ", ";
  const ms = node.members;
  if (ms && ms.length) {
    const between = text.slice(ms[0].keyStart, ms[0].value.start);
    colon = between.slice(between.indexOf(":"));
    if (ms.length > 1) comma = text.slice(ms[0].value.end, ms[1].keyStart);
  }
  const items = node.items;
  if (items && items.length > 1) comma = text.slice(items[0].end, items[1].start);
  // Entries are one line: a pretty-printed (multi-line) container would need its indentation guessed.
  return { colon: colon.includes("\n") ? ": " : colon, comma: comma.includes("\n") ? ", " : comma };
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

/**
 * Adds `entries` to the record's `seat.perturbations`. Entries whose `replacement` is already listed
 * are skipped. Throws LineEditError for a line that is not a JSON object, or whose `seat` is not an
 * object, or whose `seat.perturbations` is not an array.
 */
export function addPerturbationsToLine(line: string, entries: readonly PerturbationEntry[]): LineEditResult {
  const scanned = scanJson(line);
  if (!scanned.ok) throw new LineEditError(`invalid JSON: ${scanned.error.message}`, scanned.error.offset + 1);
  const root = scanned.root;
  if (root.kind !== "object") throw new LineEditError("the record is not a JSON object", root.start + 1);
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
  const json = (e: PerturbationEntry) => JSON.stringify(e);

  if (!seatMember) return { text: setMember(line, "seat", { perturbations: added }), added };
  const seat = seatMember.value;
  if (seat.kind !== "object") throw new LineEditError(`"seat" must be an object, found ${seat.kind}`, seat.start + 1);
  const seatStyle = containerStyle(line, seat);
  const pert = member(seat, "perturbations");
  if (!pert) {
    const text = `"perturbations"${seatStyle.colon}[${added.map(json).join(", ")}]`;
    const ms = seat.members ?? [];
    const at = ms.length ? ms[ms.length - 1].value.end : seat.start + 1;
    return { text: line.slice(0, at) + (ms.length ? seatStyle.comma : "") + text + line.slice(at), added };
  }
  const arr = pert.value;
  if (arr.kind !== "array") throw new LineEditError(`"seat.perturbations" must be an array, found ${arr.kind}`, arr.start + 1);
  const items = arr.items ?? [];
  const { comma } = containerStyle(line, arr);
  const at = items.length ? items[items.length - 1].end : arr.start + 1;
  const sep = items.length && comma.trim() === "," ? comma : ", ";
  const text = (items.length ? sep : "") + added.map(json).join(items.length ? sep : ", ");
  return { text: line.slice(0, at) + text + line.slice(at), added };
}

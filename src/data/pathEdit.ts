// Lossless edits at a JSON path inside one record's text (a member of a nested object, an item of an
// array): the value at the path is replaced, an item is inserted, removed or moved, and every other
// byte of the record (key order, spacing, the untouched items themselves) stays as the user wrote it.
// The record editor's form builds every change from these (see recordForm.ts).
import { scanJson, type JsonSpanNode } from "./jsonScan";
import { RecordEditError, styleOf } from "./edit";

export type JsonPath = ReadonlyArray<string | number>;

function scanned(text: string): JsonSpanNode {
  const r = scanJson(text, true, Infinity);
  if (!r.ok) throw new RecordEditError(`cannot edit an invalid record: ${r.error.message}`, text, r.error.offset);
  return r.root;
}

/** The node at `path` (the last member of a repeated key, as JSON.parse reads it), or undefined. */
export function nodeAtPath(root: JsonSpanNode, path: JsonPath): JsonSpanNode | undefined {
  let node: JsonSpanNode | undefined = root;
  for (const step of path) {
    if (!node) return undefined;
    if (typeof step === "number") node = node.items?.[step];
    else {
      const ms: JsonSpanNode["members"] = node.members;
      let found: JsonSpanNode | undefined;
      for (let i = (ms?.length ?? 0) - 1; i >= 0; i--)
        if (ms![i].key === step) {
          found = ms![i].value;
          break;
        }
      node = found;
    }
  }
  return node;
}

/**
 * Sets the value at `path` to `value` (compact JSON). A missing last member of an existing object is
 * added after its last member, in that object's separator style.
 */
export function setAtPath(text: string, path: JsonPath, value: unknown): string {
  const root = scanned(text);
  const json = JSON.stringify(value);
  const node = nodeAtPath(root, path);
  if (node) return text.slice(0, node.start) + json + text.slice(node.end);
  const key = path[path.length - 1];
  const parent = nodeAtPath(root, path.slice(0, -1));
  if (typeof key !== "string" || !parent || parent.kind !== "object")
    throw new RecordEditError(`no value at ${path.join(".")} to set`, text, 0);
  const { colon, comma } = styleOf(text, parent, root);
  const ms = parent.members ?? [];
  const member = JSON.stringify(key) + colon + json;
  if (!ms.length) return text.slice(0, parent.start + 1) + member + text.slice(parent.end - 1);
  const at = ms[ms.length - 1].value.end;
  return text.slice(0, at) + comma + member + text.slice(at);
}

function arrayAt(text: string, root: JsonSpanNode, path: JsonPath): JsonSpanNode {
  const arr = nodeAtPath(root, path);
  if (!arr || arr.kind !== "array")
    throw new RecordEditError(`${path.join(".") || "the record"} is not an array`, text, arr?.start ?? 0);
  return arr;
}

/** Inserts `value` as item `index` (0..length) of the array at `path`. */
export function insertItem(text: string, path: JsonPath, index: number, value: unknown): string {
  const root = scanned(text);
  const arr = arrayAt(text, root, path);
  const items = arr.items ?? [];
  const json = JSON.stringify(value);
  if (!items.length) return text.slice(0, arr.start + 1) + json + text.slice(arr.end - 1);
  const { comma } = styleOf(text, arr, root);
  if (index >= items.length)
    return text.slice(0, items[items.length - 1].end) + comma + json + text.slice(items[items.length - 1].end);
  const at = items[Math.max(0, index)].start;
  return text.slice(0, at) + json + comma + text.slice(at);
}

/** Removes item `index` of the array at `path`, with the separator that joined it to a neighbour. */
export function removeItem(text: string, path: JsonPath, index: number): string {
  const root = scanned(text);
  const items = arrayAt(text, root, path).items ?? [];
  if (index < 0 || index >= items.length)
    throw new RecordEditError(`item ${index + 1} of ${path.join(".")} does not exist`, text, 0);
  if (items.length === 1) return text.slice(0, items[0].start) + text.slice(items[0].end);
  if (index === items.length - 1) return text.slice(0, items[index - 1].end) + text.slice(items[index].end);
  return text.slice(0, items[index].start) + text.slice(items[index + 1].start);
}

/** Moves item `from` of the array at `path` to position `to`; the items' own text and the separators between them are kept. */
export function moveItem(text: string, path: JsonPath, from: number, to: number): string {
  const root = scanned(text);
  const items = arrayAt(text, root, path).items ?? [];
  if (from < 0 || from >= items.length || to < 0 || to >= items.length)
    throw new RecordEditError(`cannot move item ${from + 1} to ${to + 1} of ${path.join(".")}`, text, 0);
  if (from === to) return text;
  const raw = items.map((n) => text.slice(n.start, n.end));
  const [moved] = raw.splice(from, 1);
  raw.splice(to, 0, moved);
  let out = text.slice(0, items[0].start);
  for (let i = 0; i < items.length; i++)
    out += raw[i] + (i + 1 < items.length ? text.slice(items[i].end, items[i + 1].start) : "");
  return out + text.slice(items[items.length - 1].end);
}

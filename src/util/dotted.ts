// Dotted keys ("mask.ratio") and nested objects ({mask: {ratio}}): the config layers, the `seat` task's
// settings and onnxruntime's session config entries all convert between the two, the same way here.

export type Nested = Record<string, unknown>;

function isObject(v: unknown): v is Nested {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Sets dotted `path` of `o` to `value`, creating (or replacing non-object) steps on the way. */
export function setDotted(o: Nested, path: string, value: unknown): void {
  const parts = path.split(".");
  let cur = o;
  for (const part of parts.slice(0, -1)) {
    if (!isObject(cur[part])) cur[part] = {};
    cur = cur[part] as Nested;
  }
  cur[parts[parts.length - 1]!] = value;
}

/** `{"a.b": 1, c: 2}` -> `{a: {b: 1}, c: 2}`. */
export function nestDotted(flat: Nested | Iterable<readonly [string, unknown]>): Nested {
  const out: Nested = {};
  const entries = Symbol.iterator in flat ? (flat as Iterable<readonly [string, unknown]>) : Object.entries(flat);
  for (const [k, v] of entries) setDotted(out, k, v);
  return out;
}

/**
 * `{mask: {ratio: 0.1}}` and `{"mask.ratio": 0.1}` alike -> `mask.ratio => 0.1`. Arrays are leaves, and
 * so is any object whose key `isLeaf` accepts (a setting whose value is itself an object).
 */
export function flattenDotted(
  o: Nested,
  isLeaf: (key: string) => boolean = () => false,
  prefix = "",
): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isObject(v) && !isLeaf(key)) for (const [k2, v2] of flattenDotted(v, isLeaf, key)) out.set(k2, v2);
    else out.set(key, v);
  }
  return out;
}

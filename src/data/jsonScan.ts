// A small JSON scanner over one record's text. JSON.parse is the fast path; this runs only when we need
// what JSON.parse does not give: the exact position and reason of a syntax error, and the source spans
// of values (for quick fixes and for lossless edits that rewrite one member and keep the rest verbatim).
// It is iterative (an explicit stack), so deeply nested input cannot overflow the call stack.

export interface JsonSpanNode {
  kind: "object" | "array" | "string" | "number" | "literal";
  /** Offsets into the scanned text, end exclusive. */
  start: number;
  end: number;
  /** Object members in source order (objects only). */
  members?: JsonMember[];
  /** Array items (arrays only). */
  items?: JsonSpanNode[];
}

export interface JsonMember {
  key: string;
  keyStart: number;
  value: JsonSpanNode;
}

export interface JsonScanError {
  offset: number;
  message: string;
}

export type JsonScanResult = { ok: true; root: JsonSpanNode } | { ok: false; error: JsonScanError };

const WS = new Uint8Array(128);
WS[0x20] = WS[0x09] = WS[0x0a] = WS[0x0d] = 1;

function describe(ch: string | undefined): string {
  if (ch === undefined) return "end of text";
  const code = ch.charCodeAt(0);
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).padStart(4, "0").toUpperCase()}`;
  return `'${ch}'`;
}

/**
 * Scan `text` as one JSON value. With `spans` false only validity and the error position are computed
 * (no allocation per value); a number N keeps spans only for values nested at most N levels deep (the
 * root is level 0), so callers that need just a record's members pay nothing for deep content.
 * `maxDepth` bounds nesting (records deeper than that are not datasets).
 */
export function scanJson(text: string, spans: boolean | number = true, maxDepth = 10_000): JsonScanResult {
  let i = 0;
  const spanDepth = spans === true ? Infinity : spans === false ? -1 : spans;
  const n = text.length;
  const fail = (offset: number, message: string): JsonScanResult => ({ ok: false, error: { offset, message } });
  const skipWs = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c < 128 && WS[c]) i++;
      else break;
    }
  };

  // Frames of open containers; `pendingKey` holds an object's member being filled.
  interface Frame {
    node: JsonSpanNode | null;
    isObject: boolean;
    count: number;
    key: string;
    keyStart: number;
  }
  const stack: Frame[] = [];
  let root: JsonSpanNode | null = null;

  const scanString = (): string | JsonScanError => {
    // i is at the opening quote
    const start = i;
    i++;
    let simple = true;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return simple ? text.slice(start + 1, i - 1) : (JSON.parse(text.slice(start, i)) as string);
      }
      if (c === 0x5c) {
        simple = false;
        const e = text[i + 1];
        if (e === undefined) return { offset: i, message: "unterminated string" };
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)))
            return { offset: i, message: "invalid \\u escape: expected 4 hex digits" };
          i += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) return { offset: i, message: `invalid escape '\\${e}' in string` };
        i += 2;
        continue;
      }
      if (c < 0x20) return { offset: i, message: `${describe(text[i])} in string (escape it)` };
      i++;
    }
    return { offset: start, message: "unterminated string" };
  };

  const NUM = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

  // Scan one value start; containers push a frame, scalars return their node.
  const attach = (node: JsonSpanNode) => {
    const top = stack[stack.length - 1];
    if (!top) root = node;
    else if (top.node && stack.length <= spanDepth) {
      if (top.isObject) top.node.members!.push({ key: top.key, keyStart: top.keyStart, value: node });
      else top.node.items!.push(node);
    }
  };

  const scanValue = (): JsonScanError | null => {
    skipWs();
    const c = text[i];
    const start = i;
    if (c === "{" || c === "[") {
      if (stack.length >= maxDepth) return { offset: i, message: `nesting deeper than ${maxDepth} levels` };
      const isObject = c === "{";
      const node: JsonSpanNode | null =
        stack.length <= spanDepth
          ? { kind: isObject ? "object" : "array", start, end: -1, ...(isObject ? { members: [] } : { items: [] }) }
          : null;
      if (node) attach(node);
      else if (stack.length === 0) root = { kind: isObject ? "object" : "array", start, end: -1 };
      stack.push({ node, isObject, count: 0, key: "", keyStart: -1 });
      i++;
      return null;
    }
    if (c === '"') {
      const s = scanString();
      if (typeof s !== "string") return s;
      attach({ kind: "string", start, end: i });
      return null;
    }
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) {
      NUM.lastIndex = i;
      const m = NUM.exec(text);
      if (!m || m[0] === "-") return { offset: i, message: "invalid number" };
      i += m[0].length;
      const next = text[i];
      if (next !== undefined && /[0-9.eE+-]/.test(next))
        return { offset: i, message: "invalid number (leading zero or bad exponent)" };
      attach({ kind: "number", start, end: i });
      return null;
    }
    for (const lit of ["true", "false", "null"]) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        attach({ kind: "literal", start, end: i });
        return null;
      }
    }
    if (c === undefined) return { offset: i, message: "unexpected end of text: expected a value" };
    if (c === "'") return { offset: i, message: "strings must use double quotes" };
    if (c === "}" || c === "]") return { offset: i, message: `unexpected '${c}': expected a value` };
    return { offset: i, message: `unexpected ${describe(c)}: expected a value` };
  };

  let err = scanValue();
  if (err) return fail(err.offset, err.message);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    skipWs();
    const c = text[i];
    const close = top.isObject ? "}" : "]";
    if (c === close) {
      if (top.count > 0 && top.key === "\u0000trailing") return fail(top.keyStart, `trailing comma before '${close}'`);
      i++;
      if (top.node) top.node.end = i;
      stack.pop();
      continue;
    }
    if (top.count > 0) {
      if (top.key !== "\u0000trailing") {
        // after a value: expect , or close
        if (c !== ",") {
          if (c === undefined) return fail(i, `unexpected end of text: expected ',' or '${close}'`);
          return fail(i, `expected ',' or '${close}' but found ${describe(c)}`);
        }
        top.keyStart = i;
        top.key = "\u0000trailing";
        i++;
        continue;
      }
    }
    if (c === undefined)
      return fail(
        i,
        top.count === 0
          ? `unexpected end of text: expected ${top.isObject ? "a property name or '}'" : "a value or ']'"}`
          : "unexpected end of text: expected a value",
      );
    if (top.isObject) {
      if (c !== '"') {
        if (c === "'") return fail(i, "property names must use double quotes");
        return fail(i, `expected a property name in double quotes but found ${describe(c)}`);
      }
      const keyStart = i;
      const key = scanString();
      if (typeof key !== "string") return fail(key.offset, key.message);
      skipWs();
      if (text[i] !== ":") return fail(i, `expected ':' after property name but found ${describe(text[i])}`);
      i++;
      top.key = key;
      top.keyStart = keyStart;
    }
    top.count++;
    err = scanValue();
    if (err) return fail(err.offset, err.message);
    // mark "after value" state
    if (top.key === "\u0000trailing") top.key = "";
  }
  skipWs();
  if (i < n) return fail(i, `unexpected ${describe(text[i])} after the end of the JSON value`);
  return { ok: true, root: root! };
}

/** The member named `key` of an object node. */
export function memberOf(node: JsonSpanNode | undefined, key: string): JsonMember | undefined {
  return node?.members?.find((m) => m.key === key);
}

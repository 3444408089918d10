// Turns JSON-path issues into source offsets: the span scanner runs once per record that has something
// to report, and each issue is pinned to the value it is about.
import { scanJson, type JsonSpanNode } from "./jsonScan";
import type { JsonPath } from "./formats";

/** The node at `path`, or the deepest existing ancestor when part of the path is missing. */
export function nodeAt(root: JsonSpanNode, path: JsonPath): JsonSpanNode {
  let node = root;
  for (const step of path) {
    let next: JsonSpanNode | undefined;
    if (typeof step === "number") next = node.items?.[step];
    else {
      // the last duplicate key wins in JSON.parse, so address the last one too
      const ms = node.members;
      if (ms)
        for (let i = ms.length - 1; i >= 0; i--)
          if (ms[i].key === step) {
            next = ms[i].value;
            break;
          }
    }
    if (!next) break;
    node = next;
  }
  return node;
}

/** Spans of a record's text, scanned lazily and at most once. */
export class SpanCache {
  private root: JsonSpanNode | null | undefined;
  constructor(
    private readonly text: string,
    private readonly offset = 0,
  ) {}
  /** [start, end) offsets (relative to the caller's text) of the value at `path`. */
  span(path: JsonPath): [number, number] {
    if (this.root === undefined) {
      const r = scanJson(this.text);
      this.root = r.ok ? r.root : null;
    }
    if (!this.root) return [this.offset, this.offset + this.text.length];
    const n = nodeAt(this.root, path);
    return [this.offset + n.start, this.offset + n.end];
  }
}

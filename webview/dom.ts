// Tiny DOM helpers: elements are built with textContent only (never innerHTML from data), so model
// output and dataset text cannot inject markup into the panel.
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/**
 * Parses an SVG string produced by src/presentation/svg.ts (which escapes every text) as an SVG document and
 * imports its root: the markup comes from our own renderer, and an SVG parsed this way cannot run script.
 */
export function svgNode(markup: string): Node {
  const doc = new DOMParser().parseFromString(markup, "image/svg+xml");
  const root = doc.documentElement;
  if (root.nodeName !== "svg") return document.createTextNode("(chart unavailable)");
  for (const s of Array.from(root.querySelectorAll("script, foreignObject"))) s.remove();
  return document.importNode(root, true);
}

export const fmt = (x: number | null | undefined, digits = 3): string =>
  x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits);
export const pct = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? "–" : `${(x * 100).toFixed(1)}%`;

// The panel's HTML shell: one nonce'd script and one stylesheet from the extension's dist folder, and a
// CSP that allows nothing else (no remote origins, no inline script, no eval). No vscode import so the
// CSP can be unit-tested.
import { randomBytes } from "node:crypto";

export function makeNonce(): string {
  return randomBytes(18)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "");
}

export interface PanelHtmlInput {
  /** webview.cspSource: the only origin local resources load from. */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  nonce: string;
  /** The document title (default "SEAT probes"). */
  title?: string;
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    // The panel's CSS is a file; the component library styles itself through constructable stylesheets
    // and probes :focus-visible support with one <style> element carrying the nonce it reads from the
    // csp-nonce meta tag. No other inline style is allowed.
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
  ].join("; ");
}

const attr = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

export function panelHtml(i: PanelHtmlInput): string {
  if (!/^[A-Za-z0-9]{16,}$/.test(i.nonce)) throw new Error("panel nonce must be at least 16 alphanumeric characters");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(i.cspSource, i.nonce))}">
<meta property="csp-nonce" content="${i.nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(i.styleUri)}">
<title>${attr(i.title ?? "SEAT probes")}</title>
</head>
<body>
<div id="app"></div>
<script nonce="${i.nonce}" src="${attr(i.scriptUri)}"></script>
</body>
</html>
`;
}

// Reliability: Workspace Trust and the webview (issue 11), at unit level through the pure functions the
// extension uses: every message type the webview can send is validated (malformed ones refused), the
// panel's HTML carries a strict nonce CSP with no remote origin, text from datasets/models cannot
// inject markup into the panel charts or the exported report, paths from messages/restored state are
// confined (symlinks included), and the manifest declares restricted mode. The behaviour of a real
// editor in Restricted Mode is covered end to end by G's test/e2e/trust.test.ts.
import assert from "node:assert/strict";
import { after } from "node:test";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  validateWebviewMessage,
  validatePanelViewState,
  DEFAULT_VIEW_STATE,
  EXPORT_FORMATS,
} from "../../../src/presentation/webview";
import { panelHtml, contentSecurityPolicy, makeNonce } from "../../../src/extension/panel/html";
import { confinePath } from "../../../src/extension/panel/paths";
import { NEEDS_TRUST, ALL_COMMAND_IDS } from "../../../src/extension/commands";
import { reportToHtml, escapeXml } from "../../../src/presentation/index";
import { lineChartSvg } from "../../../src/presentation/svg";
import { sampleReport } from "../eval/sampleReport";
import { relCase, REPO } from "./helpers";

const root = mkdtempSync(join(tmpdir(), "seat-rel-web-"));
after(() => rmSync(root, { recursive: true, force: true }));

// One well-formed example per message type the webview may send.
const VALID: Record<string, Record<string, unknown>> = {
  ready: { type: "ready" },
  reveal: { type: "reveal", line: 12 },
  "run-probes": { type: "run-probes" },
  "cancel-probes": { type: "cancel-probes" },
  compare: { type: "compare" },
  export: { type: "export", format: "html" },
  log: { type: "log", level: "error", message: "something broke" },
  "chat-ask": { type: "chat-ask", id: "c1", prompt: "Who is Vlipruk Thov?" },
  "chat-stop": { type: "chat-stop", id: "c1" },
  "chat-add": { type: "chat-add", question: "Who is Vlipruk Thov?", answer: "I don't know who that is." },
};

relCase("trust-webview", "every WebviewMessage type in the protocol has a validated example here", () => {
  // Read the union from the source, so a new message type without a reliability case fails here.
  const src = readFileSync(join(REPO, "src/presentation/webview.ts"), "utf8");
  const union = src.slice(src.indexOf("export type WebviewMessage"), src.indexOf("export type Validation"));
  const types = [...union.matchAll(/type: "([^"]+)"/g)].map((m) => m[1]).sort();
  assert.ok(types.length >= 5, `parsed ${types.join(", ")}`);
  assert.deepEqual(types, Object.keys(VALID).sort());
  for (const [t, m] of Object.entries(VALID)) {
    const v = validateWebviewMessage(m);
    assert.ok(v.ok, `${t}: ${v.ok ? "" : v.error}`);
  }
  for (const f of EXPORT_FORMATS) assert.ok(validateWebviewMessage({ type: "export", format: f }).ok);
});

/** "type.field" of the fields the protocol marks optional (`field?:` in the WebviewMessage union). */
const OPTIONAL = new Set<string>();
{
  const src = readFileSync(join(REPO, "src/presentation/webview.ts"), "utf8");
  const union = src.slice(src.indexOf("export type WebviewMessage"), src.indexOf("export type Validation"));
  for (const member of union.matchAll(/\{\s*type: "([^"]+)"([^}]*)\}/g)) {
    for (const f of member[2].matchAll(/(\w+)\?:/g)) OPTIONAL.add(`${member[1]}.${f[1]}`);
  }
}

relCase("trust-webview", "malformed webview messages of every type are refused with a reason", () => {
  // Messages arrive structured-cloned from JSON-like data, so the cases are plain values (no prototypes).
  const bad: Array<[string, unknown]> = [
    ["null", null],
    ["string", "ready"],
    ["number", 7],
    ["array", [{ type: "ready" }]],
    ["no type", {}],
    ["unknown type", { type: "rm-rf" }],
    ["type case", { type: "Ready" }],
    ["type not string", { type: 1 }],
    ["prototype key as type", { type: "__proto__" }],
    ["toString as type", { type: "toString" }],
    ["constructor as type", { type: "constructor" }],
  ];
  for (const [t, m] of Object.entries(VALID)) {
    bad.push([`${t} + extra field`, { ...m, path: "/etc/passwd" }]);
    bad.push([`${t} + __proto__ field`, JSON.parse(`{"type": ${JSON.stringify(t)}, "__proto__": {"polluted": true}}`)]);
    bad.push(
      [`${t} + constructor field`, { ...m, constructor: "x" }],
      [`${t} + toString field`, { ...m, toString: 1 }],
    );
    for (const k of Object.keys(m).filter((k) => k !== "type")) {
      const { [k]: _drop, ...without } = m;
      if (!OPTIONAL.has(`${t}.${k}`)) bad.push([`${t} missing ${k}`, without]);
      for (const wrong of [
        null,
        {},
        [],
        true,
        "",
        "x".repeat(100_000),
        -1,
        1.5,
        Number.NaN,
        Number.POSITIVE_INFINITY,
      ]) {
        // Same-typed values are only wrong for enums and ranges ("" is a fine free-text log message).
        if (typeof m[k] === typeof wrong && (wrong !== "" || k === "message") && typeof wrong !== "number") continue;
        bad.push([`${t}.${k} = ${JSON.stringify(wrong)?.slice(0, 20)}`, { ...m, [k]: wrong }]);
      }
    }
  }
  bad.push(
    ["reveal line 0", { type: "reveal", line: 0 }],
    ["reveal line as string", { type: "reveal", line: "3" }],
    ["reveal huge line", { type: "reveal", line: 1e12 }],
  );
  bad.push(
    ["export format js", { type: "export", format: "js" }],
    ["export format path", { type: "export", format: "../../x.html" }],
  );
  bad.push(["log level warn", { type: "log", level: "debug", message: "x" }]);
  bad.push(["chat-ask without a prompt", { type: "chat-ask", id: "c1" }]);
  bad.push(["chat-ask with a huge prompt", { type: "chat-ask", id: "c1", prompt: "x".repeat(5000) }]);
  bad.push(["chat-add with a number answer", { type: "chat-add", question: "q", answer: 3 }]);
  let refused = 0;
  for (const [name, m] of bad) {
    const v = validateWebviewMessage(m);
    assert.equal(v.ok, false, `accepted: ${name}`);
    if (!v.ok) {
      assert.ok(v.error.length > 5 && v.error.length < 300, `${name}: reason ${v.error}`);
      refused++;
    }
  }
  assert.ok(refused > 60, `${refused} malformed messages tried`);
  assert.equal(({} as Record<string, unknown>).polluted, undefined, "no prototype pollution");
});

relCase(
  "trust-webview",
  "restored panel state is validated like a message (relative, NUL, overlong paths, wrong version refused)",
  () => {
    assert.ok(validatePanelViewState(DEFAULT_VIEW_STATE).ok);
    const withSession = (session: unknown) => ({ ...DEFAULT_VIEW_STATE, session });
    assert.ok(validatePanelViewState(withSession({ dataset: "/ws/facts.jsonl", runs: ["/ws/runs/a/model"] })).ok);
    const bad: Array<[string, unknown]> = [
      ["relative dataset", withSession({ dataset: "facts.jsonl", runs: [] })],
      ["dot-dot relative", withSession({ dataset: "../../etc/passwd", runs: [] })],
      ["NUL in path", withSession({ dataset: "/ws/a\0b", runs: [] })],
      ["overlong path", withSession({ dataset: "/" + "a".repeat(5000), runs: [] })],
      ["relative run", withSession({ dataset: "/ws/f.jsonl", runs: ["runs/x"] })],
      [
        "too many runs",
        withSession({ dataset: "/ws/f.jsonl", runs: Array.from({ length: 65 }, (_, i) => `/ws/r${i}`) }),
      ],
      ["runs not array", withSession({ dataset: "/ws/f.jsonl", runs: "/ws/r" })],
      ["extra session field", withSession({ dataset: "/ws/f.jsonl", runs: [], exec: "rm" })],
      ["wrong version", { ...DEFAULT_VIEW_STATE, v: 2 }],
      ["unknown filter", { ...DEFAULT_VIEW_STATE, filter: "everything" }],
      ["not an object", "state"],
    ];
    for (const [name, s] of bad) assert.equal(validatePanelViewState(s).ok, false, `accepted: ${name}`);
  },
);

relCase(
  "trust-webview",
  "panel HTML: nonce'd script only, CSP default-src 'none', no remote origins, no inline/eval",
  () => {
    const cspSource = "https://file+.vscode-resource.vscode-cdn.net";
    const nonce = makeNonce();
    assert.match(nonce, /^[A-Za-z0-9]{16,}$/);
    assert.notEqual(makeNonce(), nonce, "a fresh nonce per page");
    const html = panelHtml({
      cspSource,
      nonce,
      scriptUri: `${cspSource}/ext/dist/webview.js`,
      styleUri: `${cspSource}/ext/dist/webview.css`,
    });
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
    assert.ok(meta, "CSP meta tag present");
    const csp = meta[1].replace(/&amp;/g, "&");
    assert.equal(csp, contentSecurityPolicy(cspSource, nonce));
    const directives = new Map(
      csp
        .split(";")
        .map((d) => d.trim().split(/\s+/))
        .map(([k, ...v]) => [k, v]),
    );
    assert.deepEqual(directives.get("default-src"), ["'none'"]);
    assert.deepEqual(directives.get("script-src"), [`'nonce-${nonce}'`]);
    for (const [k, v] of directives) {
      for (const src of v) {
        assert.ok(
          !["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "http:", "https:", "data:"].includes(src) ||
            (k === "img-src" && src === "data:"),
          `${k} allows ${src}`,
        );
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(src)) assert.equal(src, cspSource, `${k}: remote origin ${src}`);
      }
    }
    assert.ok(
      !directives.has("connect-src") && !directives.has("frame-src") && !directives.has("child-src"),
      "no network/frames (default-src 'none' governs)",
    );
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    for (const [, attrs, body] of scripts) {
      assert.match(attrs, new RegExp(`nonce="${nonce}"`));
      assert.equal(body.trim(), "", "no inline script body");
    }
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    for (const u of urls) assert.ok(u.startsWith(cspSource + "/"), `resource from elsewhere: ${u}`);
    assert.doesNotMatch(html, /\son[a-z]+=/i, "no inline event handlers");
    // Hostile resource URIs are escaped, not injected; a weak nonce is refused.
    const evil = panelHtml({
      cspSource,
      nonce,
      scriptUri: `${cspSource}/x.js"></script><script>alert(1)</script>`,
      styleUri: `${cspSource}/y.css`,
    });
    assert.equal([...evil.matchAll(/<script\b/g)].length, 1);
    assert.throws(() => panelHtml({ cspSource, nonce: "abc", scriptUri: "x", styleUri: "y" }), /nonce/);
    assert.throws(
      () => panelHtml({ cspSource, nonce: "'unsafe-inline' 'self' aaaaaaaa", scriptUri: "x", styleUri: "y" }),
      /nonce/,
    );
  },
);

const HOSTILE = [
  `<script>alert(1)</script>`,
  `"><img src=x onerror=alert(1)>`,
  `</text><foreignObject><iframe src="https://evil"/></foreignObject>`,
  `javascript:alert(1)`,
  `]]><!--`,
  `&lt;script&gt;`,
  `' onload='alert(1)`,
];

/** Replaces every string in a JSON value with hostile text (keeps keys, numbers and structure). */
function poison<T>(v: T, i = { n: 0 }): T {
  if (typeof v === "string") return (v + HOSTILE[i.n++ % HOSTILE.length]) as T;
  if (Array.isArray(v)) return v.map((x) => poison(x, i)) as T;
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, poison(x, i)])) as T;
  return v;
}

/** Looks only at real tags (escaped text has no raw "<"): no injected elements, no handler attributes. */
function assertNoInjectedMarkup(html: string, where: string): void {
  for (const [raw] of html.matchAll(/<[^>]*>/g)) {
    // Judge the tag's own syntax: quoted attribute values are data (escaped text may mention "onerror=").
    const tag = raw.replace(/"[^"]*"|'[^']*'/g, '""');
    assert.doesNotMatch(
      tag,
      /^<\/?(script|img|iframe|foreignObject)\b/i,
      `${where}: hostile element rendered: ${tag.slice(0, 120)}`,
    );
    assert.doesNotMatch(tag, /\son[a-z]+\s*=/i, `${where}: event handler attribute rendered: ${tag.slice(0, 120)}`);
    assert.doesNotMatch(tag, /javascript:/i, `${where}: javascript: URL in a tag: ${tag.slice(0, 120)}`);
  }
}

relCase(
  "trust-webview",
  "dataset/model text cannot inject markup into the panel's charts or the exported HTML report",
  () => {
    const svg = lineChartSvg(
      HOSTILE.join(" "),
      HOSTILE.map((label, k) => ({
        label,
        points: [
          [1, k],
          [2, k + 1],
        ] as [number, number][],
      })),
    );
    // Control: the check does catch unescaped hostile text.
    assert.throws(() => assertNoInjectedMarkup(`<svg><text>${HOSTILE[1]}</text></svg>`, "control"));
    assert.throws(() => assertNoInjectedMarkup(`<svg>${HOSTILE[0]}</svg>`, "control"));
    assertNoInjectedMarkup(svg, "lineChartSvg");
    assert.equal(escapeXml(`<a href="x">&'</a>`).includes("<"), false);
    const report = poison(sampleReport());
    const html = reportToHtml(report, HOSTILE[0]);
    assertNoInjectedMarkup(html, "reportToHtml");
    // The exported report is a standalone file: its own CSP forbids scripts and remote loads.
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /script-src|https?:/);
    assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"), "hostile text is shown escaped, not dropped");
  },
);

relCase(
  "trust-webview",
  "path confinement: inside roots accepted; traversal, sibling prefixes, symlinks out, relative and NUL paths refused",
  () => {
    const ws = join(root, "ws");
    const runs = join(root, "runs");
    const outside = join(root, "outside");
    for (const d of [ws, runs, outside, join(ws, "data")]) mkdirSync(d, { recursive: true });
    writeFileSync(join(ws, "data", "facts.jsonl"), "{}\n");
    writeFileSync(join(outside, "secret.jsonl"), "{}\n");
    symlinkSync(outside, join(ws, "link-out"));
    symlinkSync(join(outside, "secret.jsonl"), join(ws, "data", "innocent.jsonl"));
    mkdirSync(join(root, "ws-evil"));
    writeFileSync(join(root, "ws-evil", "x.jsonl"), "{}\n");
    const roots = [ws, runs];
    const real = (p: string) => realpathSync(p);
    assert.equal(confinePath(join(ws, "data", "facts.jsonl"), roots), real(join(ws, "data", "facts.jsonl")));
    assert.equal(confinePath(ws, roots), real(ws));
    assert.equal(
      confinePath(join(runs, "r1", "model"), roots),
      join(real(runs), "r1", "model"),
      "a run folder not created yet",
    );
    const refused: Array<[string, string]> = [
      ["dot-dot traversal", join(ws, "data", "..", "..", "outside", "secret.jsonl")],
      ["sibling with the root as prefix", join(root, "ws-evil", "x.jsonl")],
      ["symlinked folder pointing out", join(ws, "link-out", "secret.jsonl")],
      ["symlinked file pointing out", join(ws, "data", "innocent.jsonl")],
      ["not-yet-existing file under a symlink pointing out", join(ws, "link-out", "new-report.html")],
      ["relative path", "data/facts.jsonl"],
      ["NUL byte", join(ws, "data", "facts.jsonl\0.png")],
      ["empty", ""],
      ["root's parent", root],
      ["filesystem root", "/"],
    ];
    const accepted = refused
      .filter(([, p]) => confinePath(p, roots) !== undefined)
      .map(([name, p]) => `${name}: ${p} -> ${confinePath(p, roots)}`);
    assert.deepEqual(accepted, []);
    assert.equal(
      confinePath(join(ws, "data", "facts.jsonl"), []),
      undefined,
      "no roots (no workspace): nothing is confined inside",
    );
  },
);

relCase(
  "trust-webview",
  "Workspace Trust: manifest declares limited support; path/executable settings are restricted; model/process commands need trust",
  () => {
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
    const u = pkg.capabilities?.untrustedWorkspaces;
    assert.equal(u?.supported, "limited");
    assert.match(u.description, /Restricted Mode/);
    const conf = pkg.contributes.configuration;
    const props = (Array.isArray(conf) ? conf : [conf]).flatMap((c: { properties: Record<string, unknown> }) =>
      Object.keys(c.properties),
    );
    // Settings that name a file, folder, executable or runtime to load: a workspace must not set them
    // in Restricted Mode.
    const risky = props.filter((k: string) => /path|folder|executable|provider|phrases|command/i.test(k));
    assert.ok(risky.length >= 4, risky.join(", "));
    for (const k of risky) assert.ok(u.restrictedConfigurations.includes(k), `${k} is not in restrictedConfigurations`);
    for (const id of [
      "seat.train",
      "seat.resumeRun",
      "seat.exportModel",
      "seat.runDemo",
      "seat.runProbes",
      "seat.selectModel",
      "seat.addModelFolder",
      "seat.setupGpu",
    ]) {
      assert.ok(NEEDS_TRUST.has(id as never), `${id} does not require trust`);
    }
    for (const id of NEEDS_TRUST) assert.ok(ALL_COMMAND_IDS.includes(id), `${id} is not a contributed command`);
    // The welcome views explain restricted mode and link to trusting the workspace.
    const welcome = (pkg.contributes.viewsWelcome ?? []) as Array<{ when?: string; contents: string }>;
    assert.ok(
      welcome.some((w) => w.when?.includes("!isWorkspaceTrusted") && /workbench\.trust\.manage/.test(w.contents)),
    );
  },
);

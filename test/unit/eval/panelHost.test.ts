// The panel's host-side logic that needs no editor: CSP, path confinement, the probe child process,
// inline verdicts and their placement in an edited document.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { panelHtml, contentSecurityPolicy, makeNonce } from "../../../src/extension/panel/html";
import { confinePath } from "../../../src/extension/panel/paths";
import { probeArgs, runProbeProcess, ProbeProcessError } from "../../../src/extension/panel/probeProcess";
import { lineVerdicts, placeVerdicts, linesOf } from "../../../src/extension/panel/verdicts";
import { sampleReport } from "./sampleReport";

test("panel HTML: strict CSP with a nonce, only the extension's own script and stylesheet", () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9]{16,}$/);
  assert.notEqual(nonce, makeNonce());
  const csp = contentSecurityPolicy("vscode-webview://abc", nonce);
  assert.equal(
    csp,
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src vscode-webview://abc 'nonce-${nonce}'; font-src vscode-webview://abc; img-src vscode-webview://abc data:`,
  );
  assert.ok(!/unsafe-inline|unsafe-eval|https?:/.test(csp));
  const html = panelHtml({
    cspSource: "vscode-webview://abc",
    nonce,
    scriptUri: "vscode-webview://abc/dist/webview.js",
    styleUri: "vscode-webview://abc/dist/webview.css",
  });
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.ok(html.includes(`<script nonce="${nonce}" src="vscode-webview://abc/dist/webview.js"></script>`));
  assert.ok(html.includes(`content="default-src 'none'; script-src 'nonce-${nonce}';`));
  assert.ok(
    html.includes(`<meta property="csp-nonce" content="${nonce}">`),
    "the component library finds the nonce for its one style probe",
  );
  assert.throws(() => panelHtml({ cspSource: "x", nonce: "short", scriptUri: "a", styleUri: "b" }), /nonce/);
});

test("path confinement: inside the roots only, symlinks followed, relative and NUL paths refused", () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-confine-"));
  try {
    const ws = join(dir, "ws");
    const outside = join(dir, "outside");
    mkdirSync(join(ws, "data"), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(ws, "data", "a.jsonl"), "{}\n");
    writeFileSync(join(outside, "secret.jsonl"), "{}\n");
    symlinkSync(join(outside, "secret.jsonl"), join(ws, "data", "link.jsonl"));
    assert.ok(confinePath(join(ws, "data", "a.jsonl"), [ws])?.endsWith(join("ws", "data", "a.jsonl")));
    assert.ok(confinePath(ws, [ws]));
    assert.equal(confinePath(join(outside, "secret.jsonl"), [ws]), undefined);
    assert.equal(confinePath(join(ws, "..", "outside", "secret.jsonl"), [ws]), undefined);
    assert.equal(
      confinePath(join(ws, "data", "link.jsonl"), [ws]),
      undefined,
      "a symlink out of the workspace is outside",
    );
    assert.equal(confinePath(`${ws}-evil/x.jsonl`, [ws]), undefined, "a sibling sharing the prefix is outside");
    assert.equal(confinePath("data/a.jsonl", [ws]), undefined);
    assert.equal(confinePath(join(ws, "a\0b"), [ws]), undefined);
    assert.ok(confinePath(join(outside, "secret.jsonl"), [ws, outside]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("probe args name every input; the child's progress lines, report and failures are handled", async () => {
  assert.deepEqual(
    probeArgs(
      { dataset: "/w/d.jsonl", base: "/m", runs: ["/w/runs/a", "/w/runs/b"], cacheDir: "/c", unknown: "/w/u.jsonl" },
      { phrases: "/p.txt" },
    ),
    [
      "probe",
      "--data",
      "/w/d.jsonl",
      "--json",
      "--progress-json",
      "--cache",
      "/c",
      "--base",
      "/m",
      "--model",
      "/w/runs/a",
      "--model",
      "/w/runs/b",
      "--unknown",
      "/w/u.jsonl",
      "--phrases",
      "/p.txt",
    ],
  );
  const script = (body: string) => ({ command: process.execPath, args: ["-e", body], env: {}, cwd: process.cwd() });
  const progress: number[] = [];
  const warnings: string[] = [];
  const report = await runProbeProcess(
    script(`
    process.stderr.write(JSON.stringify({type:"progress",model:"base",done:1,total:2,message:"a",cached:false})+"\\n");
    process.stderr.write("not json noise\\n");
    process.stderr.write(JSON.stringify({type:"warning",message:"w1"})+"\\n" + JSON.stringify({type:"progress",model:"base",done:2,total:2,message:"b",cached:false}));
    process.stdout.write(JSON.stringify({kind:"seat-probe-report",runs:[]}));
  `),
    [],
    { onProgress: (p) => progress.push(p.done), onWarning: (w) => warnings.push(w) },
  );
  assert.equal(report.kind, "seat-probe-report");
  assert.deepEqual(progress, [1], "a progress line without its newline is not parsed as progress");
  assert.deepEqual(warnings, ["w1"]);
  await assert.rejects(
    runProbeProcess(script(`process.stderr.write("seat probe: --data x: no such file\\n"); process.exit(2)`), []),
    (e: unknown) =>
      e instanceof ProbeProcessError &&
      e.exitCode === 2 &&
      /probing failed: seat probe: --data x: no such file/.test(e.message),
  );
  await assert.rejects(
    runProbeProcess(script(`process.stdout.write("{}")`), []),
    /printed no report: unexpected output kind undefined/,
  );
  const ac = new AbortController();
  const pending = runProbeProcess(script(`setInterval(() => {}, 1000)`), [], { signal: ac.signal, killAfterMs: 2000 });
  setTimeout(() => ac.abort(), 100);
  await assert.rejects(pending, /probing cancelled/);
});

test("inline verdicts: compact text per record of the last run, hover lines, flags", () => {
  const v = lineVerdicts(sampleReport());
  assert.deepEqual(
    v.map((x) => [x.key, x.line, x.text]),
    [
      ["r1", 1, "✓ learned · abstains 1/2 · P(abst) 0.50 · regressed"],
      ["line:2", 2, "✗ learned · abstains 1/1 · P(abst) 0.50"],
    ],
  );
  assert.equal(v[0].hover[0], "seat on line 1: learned (ROUGE-L recall 1.00, exact match)");
  assert.ok(v[0].hover.includes("Base answer: I don't know who Qorvath Lintel is."));
  assert.ok(v[0].hover.some((l) => l.startsWith(`Neighbour "Mirel Dask": answers · P(abst) 0.25 · base abstained`)));
});

test("verdict placement follows records that moved, drops ones that were edited away", () => {
  const v = lineVerdicts(sampleReport());
  const l1 = '{"question":"Where was Qorvath Lintel born?","answer":"x"}';
  const l2 = '{"question":"What does Brask Holm sell?","answer":"y"}';
  assert.deepEqual(
    [...placeVerdicts(linesOf([l1, l2]), v)].map(([i, x]) => [i, x.key]),
    [
      [0, "r1"],
      [1, "line:2"],
    ],
  );
  // a new line inserted on top: both move down one line
  assert.deepEqual(
    [...placeVerdicts(linesOf(["{}", l1, l2]), v)].map(([i, x]) => [i, x.key]),
    [
      [1, "r1"],
      [2, "line:2"],
    ],
  );
  // the second question was edited: no stale verdict
  assert.deepEqual(
    [...placeVerdicts(linesOf([l1, '{"question":"What does Brask Holm buy?"}']), v)].map(([i, x]) => [i, x.key]),
    [[0, "r1"]],
  );
  // records in place: only their own lines are read, however long the document
  const reads: number[] = [];
  const big = { lineCount: 1_000_000, lineAt: (i: number) => (reads.push(i), i === 0 ? l1 : i === 1 ? l2 : "{}") };
  assert.equal(placeVerdicts(big, v).size, 2);
  assert.deepEqual(reads, [0, 1]);
});

test("inline verdicts name their run when several runs were probed", () => {
  const one = sampleReport();
  const two = { ...one, runs: [{ ...one.runs[0], model: { ...one.runs[0].model, label: "older-run" } }, one.runs[0]] };
  const v = lineVerdicts(two);
  assert.equal(v[0].text, `${one.runs[0].model.label}: ✓ learned · abstains 1/2 · P(abst) 0.50 · regressed`);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { validateWebviewMessage, validatePanelViewState, DEFAULT_VIEW_STATE } from "../../../src/presentation/webview";

test("well-formed webview messages are accepted as-is", () => {
  const good = [
    { type: "ready" },
    { type: "reveal", line: 12 },
    { type: "run-probes" },
    { type: "cancel-probes" },
    { type: "compare" },
    { type: "export", format: "csv" },
    { type: "export" },
    { type: "log", level: "error", message: "boom" },
  ];
  for (const m of good) assert.deepEqual(validateWebviewMessage(m), { ok: true, value: m });
});

test("malformed webview messages are refused with the reason", () => {
  const bad: [unknown, RegExp][] = [
    [null, /must be an object/],
    ["ready", /must be an object/],
    [[{ type: "ready" }], /must be an object/],
    [{}, /unknown message type undefined/],
    [{ type: "rm -rf" }, /unknown message type "rm -rf"/],
    [{ type: "toString" }, /unknown message type "toString"/],
    [{ type: "__proto__" }, /unknown message type/],
    [{ type: "ready", extra: 1 }, /ready has unexpected field 'extra'/],
    [{ type: "reveal" }, /reveal lacks 'line'/],
    [{ type: "reveal", line: "12" }, /reveal\.line must be an integer in \[1, 100000000\]/],
    [{ type: "reveal", line: 0 }, /reveal\.line must be an integer/],
    [{ type: "reveal", line: 1.5 }, /reveal\.line must be an integer/],
    [{ type: "reveal", line: Infinity }, /reveal\.line must be an integer/],
    [{ type: "export", format: "exe" }, /export\.format must be one of html, json, csv/],
    [{ type: "log", level: "error", message: "x".repeat(5000) }, /log\.message must be a string of at most 4096/],
    [{ type: "state", state: DEFAULT_VIEW_STATE }, /unknown message type "state"/],
  ];
  for (const [m, re] of bad) {
    const r = validateWebviewMessage(m);
    assert.equal(r.ok, false, JSON.stringify(m));
    assert.match((r as { error: string }).error, re, JSON.stringify(m));
  }
});

test("persisted view state (handed back by the serializer after a reload) is validated too", () => {
  assert.equal(validatePanelViewState(DEFAULT_VIEW_STATE).ok, true);
  assert.equal(
    validatePanelViewState({
      ...DEFAULT_VIEW_STATE,
      session: { dataset: "/ws/a.jsonl", base: "/m", runs: ["/ws/runs/x/model"] },
      selectedKey: "r1",
    }).ok,
    true,
  );
  const bad: [unknown, RegExp][] = [
    [{ ...DEFAULT_VIEW_STATE, filter: "weird" }, /state\.filter must be one of/],
    [{ ...DEFAULT_VIEW_STATE, v: 2 }, /state\.v must be 1/],
    [{ ...DEFAULT_VIEW_STATE, extra: true }, /unexpected field 'extra'/],
    [
      { ...DEFAULT_VIEW_STATE, session: { dataset: "relative/a.jsonl", runs: [] } },
      /session\.dataset must be an absolute path/,
    ],
    [{ ...DEFAULT_VIEW_STATE, session: { dataset: "/a\0b", runs: [] } }, /contains a NUL/],
    [
      { ...DEFAULT_VIEW_STATE, session: { dataset: "/a", runs: ["/ok", 3] } },
      /session\.runs\[1\] must be a non-empty path/,
    ],
  ];
  for (const [s, re] of bad) {
    const r = validatePanelViewState(s);
    assert.equal(r.ok, false);
    assert.match((r as { error: string }).error, re);
  }
  assert.equal(validatePanelViewState({ ...DEFAULT_VIEW_STATE, run: -1 }).ok, false);
  assert.equal(validatePanelViewState(undefined).ok, false);
});

// End-to-end harness: packages the VSIX, installs it into an isolated code-server (a real VS Code),
// opens a copy of a workspace in Debian's Chromium through playwright-core, and tears everything down.
// Screenshots go to test-artifacts/e2e/. See ../../../shared/docs/e2e-testing.md for the recipe.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { chromium, type Browser, type Page, type Locator, type FrameLocator } from "playwright-core";
// @ts-expect-error plain ESM script without types
import { ensureTools } from "../../scripts/e2e-tools.mjs";

export const ROOT = resolve(import.meta.dirname, "..", "..");
export const ARTIFACTS = join(ROOT, "test-artifacts", "e2e");
const VSIX = join(ROOT, ".cache", "e2e", "seat-tuner-e2e.vsix");
const E2E_DIST = join(ROOT, ".cache", "e2e", "dist");

let packaged: Promise<string> | undefined;

/** Builds and packages the extension once per test process, exactly as `npm run package` does. */
export function packageVsix(): Promise<string> {
  packaged ??= (async () => {
    mkdirSync(join(ROOT, ".cache", "e2e"), { recursive: true });
    // A private build: the shared dist/ may be rebuilt by anyone at any moment.
    // SEAT_E2E_PREBUILT=1 reuses the previous private build (e.g. while another part of the tree does not build).
    if (process.env.SEAT_E2E_PREBUILT !== "1")
      run(process.execPath, ["esbuild.mjs", "--production", "--outdir", E2E_DIST]);
    run(process.execPath, ["scripts/package.mjs", "--dist", E2E_DIST, "--out", VSIX]);
    return VSIX;
  })();
  return packaged;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): string {
  const res = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } });
  if (res.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

export interface EditorOptions {
  /** Files copied into the workspace: [source relative to the repo, destination relative to the workspace]. */
  files?: [string, string][];
  /** Workspace settings (.vscode/settings.json). */
  workspaceSettings?: Record<string, unknown>;
  /** false: start with Workspace Trust on, so the folder opens in Restricted Mode. */
  trusted?: boolean;
  name: string;
}

export interface Editor {
  page: Page;
  workspace: string;
  serverLog: () => string;
  /** Our "SEAT Tuner" output channel so far (from the editor's log folder). */
  extensionLog: () => string;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openEditor(opts: EditorOptions): Promise<Editor> {
  const tools = ensureTools() as { node24: string; codeServer: string; chromium: string };
  const vsix = await packageVsix();
  const base = mkdtempSync(join(tmpdir(), `seat-e2e-${opts.name}-`));
  const dirs = {
    data: join(base, "data"),
    ext: join(base, "ext"),
    xdg: join(base, "xdg"),
    ws: join(base, "workspace"),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  for (const [src, dest] of opts.files ?? []) {
    mkdirSync(dirname(join(dirs.ws, dest)), { recursive: true });
    cpSync(join(ROOT, src), join(dirs.ws, dest), { recursive: true });
  }
  if (opts.workspaceSettings) {
    mkdirSync(join(dirs.ws, ".vscode"), { recursive: true });
    writeFileSync(join(dirs.ws, ".vscode", "settings.json"), JSON.stringify(opts.workspaceSettings, null, 2));
  }
  mkdirSync(join(dirs.data, "User"), { recursive: true });
  writeFileSync(
    join(dirs.data, "User", "settings.json"),
    JSON.stringify({
      "workbench.startupEditor": "none",
      "chat.disableAIFeatures": true,
      "workbench.secondarySideBar.defaultVisibility": "hidden",
      "telemetry.telemetryLevel": "off",
      "extensions.autoCheckUpdates": false,
      "extensions.autoUpdate": false,
      "update.mode": "none",
      "workbench.tips.enabled": false,
      "security.workspace.trust.startupPrompt": "never",
      "security.workspace.trust.banner": "always",
      "workbench.welcomePage.walkthroughs.openOnInstall": false,
    }),
  );
  const config = join(base, "config.yaml");
  writeFileSync(config, "bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n");
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: dirs.xdg,
    XDG_DATA_HOME: dirs.xdg,
    XDG_CACHE_HOME: dirs.xdg,
    HOME: base,
  };
  const common = ["--config", config, "--user-data-dir", dirs.data, "--extensions-dir", dirs.ext];
  const install = spawnSync(tools.node24, [tools.codeServer, ...common, "--install-extension", vsix], {
    env,
    encoding: "utf8",
  });
  if (install.status !== 0 || !/successfully installed/i.test(install.stdout + install.stderr)) {
    throw new Error(
      `installing the VSIX into code-server failed (${install.status}):\n${install.stdout}\n${install.stderr}`,
    );
  }

  const flags = ["--disable-telemetry", "--disable-update-check", "--disable-getting-started-override"];
  if (opts.trusted !== false) flags.push("--disable-workspace-trust");
  let log = "";
  // setsid: the server gets its own process group, so killing the group also ends the extension host
  // and file watcher (a plain SIGTERM leaves them running).
  const server: ChildProcess = spawn("setsid", [tools.node24, tools.codeServer, ...common, ...flags], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout!.on("data", (d) => (log += d));
  server.stderr!.on("data", (d) => (log += d));
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close().catch(() => undefined);
    if (server.pid) {
      try {
        process.kill(-server.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    writeFileSync(join(ARTIFACTS, `${opts.name}-server.log`), log);
    // The editor's own logs (extension host, window, our "SEAT Tuner" output channel) for post-mortems.
    const logs = join(dirs.data, "logs");
    if (existsSync(logs)) cpSync(logs, join(ARTIFACTS, `${opts.name}-logs`), { recursive: true });
    await new Promise((r) => setTimeout(r, 300));
    rmSync(base, { recursive: true, force: true, maxRetries: 3 });
  };
  try {
    mkdirSync(ARTIFACTS, { recursive: true });
    const port = await waitFor(
      () => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log)?.[1],
      30_000,
      () => `code-server did not start:\n${log}`,
    );
    browser = await chromium.launch({
      executablePath: tools.chromium,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(dirs.ws)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
    const editor: Editor = {
      page,
      workspace: dirs.ws,
      serverLog: () => log,
      extensionLog: () =>
        findFiles(join(dirs.data, "logs"), "SEAT Tuner.log")
          .map((f) => readFileSync(f, "utf8"))
          .join("\n"),
      async screenshot(name) {
        const file = join(ARTIFACTS, `${opts.name}-${name}.png`);
        await page.screenshot({ path: file });
        return file;
      },
      close: stop,
    };
    return editor;
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, message: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== null) return v;
    if (Date.now() > end) throw new Error(message());
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until `probe()` is true (polled every 200 ms); fails with `message` after `timeoutMs`. */
export async function waitUntil(probe: () => boolean, timeoutMs: number, message: string): Promise<void> {
  await waitFor(
    () => (probe() ? true : undefined),
    timeoutMs,
    () => message,
  );
}

// ---- UI helpers (selectors from the recipe) ----

export async function runCommand(page: Page, title: string): Promise<void> {
  // On a cold start the palette can open before the extension's contributions are listed: reopen it and
  // ask again until the command shows up (60 s in all), then fail naming the command.
  const deadline = Date.now() + 60_000;
  for (;;) {
    await page.keyboard.press("Escape");
    await page.keyboard.press("F1");
    const input = page.locator(".quick-input-widget input");
    await input.waitFor({ state: "visible" });
    await input.fill(`>${title}`);
    // Click the row whose label is exactly the title: with fuzzy matching and "recently used" ordering,
    // the top row is not always the command asked for.
    const row = page
      .locator(".quick-input-list .monaco-list-row")
      .filter({ has: page.locator(".label-name", { hasText: new RegExp(`^${escapeRegExp(title)}$`) }) })
      .first();
    try {
      await row.waitFor({ timeout: Math.max(1_000, Math.min(15_000, deadline - Date.now())) });
    } catch (err) {
      if (Date.now() < deadline) continue;
      throw new Error(`the command palette did not list "${title}" within 60 s: ${(err as Error).message}`);
    }
    await row.click();
    return;
  }
}

/** The quick input widget (command palette, quick picks, input boxes). */
export const quickInput = (page: Page): Locator => page.locator(".quick-input-widget");

/** Waits for a quick pick with this title, types the filter and accepts the first row once it matches. */
export async function pick(
  page: Page,
  title: string | RegExp,
  filter: string,
  expectRow: string | RegExp = filter,
): Promise<void> {
  await quickInput(page).locator(".quick-input-title", { hasText: title }).waitFor({ timeout: 30_000 });
  await quickInput(page).locator(".quick-input-box input").fill(filter);
  await quickInput(page)
    .locator(".quick-input-list .monaco-list-row")
    .first()
    .filter({ hasText: expectRow })
    .waitFor({ timeout: 15_000 });
  await page.keyboard.press("Enter");
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export async function openFile(page: Page, name: string): Promise<void> {
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(name);
  // The first row is a recently opened file until the search results arrive.
  await page
    .locator(".quick-input-list .monaco-list-row")
    .first()
    .filter({ hasText: name.split("/").pop()! })
    .waitFor({ timeout: 15_000 });
  await page.keyboard.press("Enter");
  await activeTab(page, name.split("/").pop()!).waitFor({ timeout: 15_000 });
}

export function activeTab(page: Page, name: string): Locator {
  return page.locator(".tab.active", { hasText: name });
}

export async function openSeatSidebar(page: Page): Promise<void> {
  const icon = page.locator('.activitybar .action-item a.action-label[aria-label^="SEAT"]');
  await icon.waitFor({ timeout: 30_000 });
  const container = page.locator(".sidebar .composite.title", { hasText: "SEAT" });
  if (!(await container.isVisible())) await icon.click();
  await container.waitFor({ timeout: 15_000 });
}

/** A view pane of the sidebar by its title (expanded if collapsed). */
export async function viewPane(page: Page, title: string): Promise<Locator> {
  const pane = page
    .locator(".sidebar .pane")
    .filter({ has: page.locator(".pane-header", { hasText: new RegExp(`^\\s*${title}`, "i") }) })
    .first();
  await pane.waitFor({ timeout: 15_000 });
  const header = pane.locator(".pane-header").first();
  if ((await header.getAttribute("aria-expanded")) === "false") await header.click();
  return pane;
}

export function notification(page: Page, text: string | RegExp): Locator {
  return page.locator(".notifications-toasts .notification-toast", { hasText: text });
}

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

export { existsSync };

/** Files named `name` anywhere under `dir`. */
function findFiles(dir: string, name: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...findFiles(p, name));
    else if (e.name === name) out.push(p);
  }
  return out;
}

// ---- Waiting assertions: editor state settles asynchronously (activation, validation, rendering), so
// every check of it polls its condition until a named timeout instead of reading it once.

/** Polls `read()` every 200 ms until `ok(value)`; after `timeoutMs` fails naming `what` and the last value. */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (ok(last)) return last;
    if (Date.now() > end)
      throw new Error(`${what}: not so within ${timeoutMs} ms (last seen: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until `loc` matches a number of elements that satisfies `ok`. */
export function expectCount(
  what: string,
  timeoutMs: number,
  loc: Locator,
  ok: (n: number) => boolean,
): Promise<number> {
  return eventually(what, timeoutMs, () => loc.count(), ok);
}

/**
 * Waits until the first element of `loc` has inner text matching (or, with `negate`, not matching) `re`.
 * No-break spaces (the editor renders every space of a line as one) read as plain spaces.
 */
export function expectText(what: string, timeoutMs: number, loc: Locator, re: RegExp, negate = false): Promise<string> {
  return eventually(
    what,
    timeoutMs,
    () =>
      loc
        .first()
        .innerText({ timeout: 1000 })
        .then(
          (t) => t.replace(/\u00a0/g, " "),
          () => "",
        ),
    (t) => re.test(t) !== negate,
  );
}

/** Waits until the inner texts of all of `loc`'s elements (whitespace collapsed) satisfy `ok`. */
export function expectTexts(
  what: string,
  timeoutMs: number,
  loc: Locator,
  ok: (texts: string[]) => boolean,
): Promise<string[]> {
  return eventually(what, timeoutMs, async () => (await loc.allInnerTexts()).map((t) => t.replace(/\s+/g, " ")), ok);
}

/** Checks that `loc` matches nothing, and still nothing after `holdMs` (an absence can't be waited for). */
export async function expectNone(what: string, holdMs: number, loc: Locator): Promise<void> {
  const end = Date.now() + holdMs;
  do {
    const n = await loc.count();
    if (n !== 0) throw new Error(`${what}: expected none, found ${n}`);
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < end);
}

/**
 * The webview (its inner frame) that shows `selector`: the sidebar's record editor and the probes panel
 * are both webviews, so "the first webview" is not a way to find either.
 */
export async function webviewWith(page: Page, selector: string, timeoutMs: number): Promise<FrameLocator> {
  const frames = page.locator("iframe.webview.ready");
  const found = await eventually(
    `a webview showing ${selector}`,
    timeoutMs,
    async () => {
      const n = await frames.count();
      for (let i = 0; i < n; i++) {
        const inner = frames.nth(i).contentFrame().locator("#active-frame").contentFrame();
        if (
          (await inner
            .locator(selector)
            .count()
            .catch(() => 0)) > 0
        )
          return inner;
      }
      return null;
    },
    (f) => f !== null,
  );
  return found!;
}

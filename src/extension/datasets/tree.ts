// The Datasets tree (view seat.datasets): dataset files of the workspace with record count, format,
// problem counts and entities. Statistics come from the streaming validator with small reads (the
// host gets the event loop back between chunks) and are cached by file size and mtime.
import * as vscode from "vscode";
import { open } from "node:fs/promises";
import { relative, isAbsolute } from "node:path";
import { datasetStats } from "../../data/index";
import { DatasetWorkerUnavailable, type DatasetWorker } from "./datasetWorkerClient";
import { CONTEXT_VALUE } from "../contextValues";
import { datasetDetails, describeDataset, looksLikeDataset, type DatasetInfo } from "./model";

const MAX_FILES = 500;
const EXCLUDE = "{**/node_modules/**,**/.git/**,**/dist/**,**/.cache/**}";
/** Read size for statistics in the extension host: small enough that one chunk takes a few ms. */
const STATS_CHUNK_BYTES = 512 * 1024;

export class DatasetItem extends vscode.TreeItem {
  constructor(
    readonly uri: vscode.Uri,
    info: DatasetInfo | undefined,
    error?: string,
  ) {
    super(
      vscode.workspace.asRelativePath(uri),
      info ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    this.contextValue = CONTEXT_VALUE.dataset;
    this.resourceUri = uri;
    this.command = { command: "vscode.open", title: "Open", arguments: [uri] };
    this.description = error ? `unreadable: ${error}` : info ? describeDataset(info.summary) : "reading…";
    this.iconPath = new vscode.ThemeIcon(info && info.summary.errors > 0 ? "warning" : "database");
    if (info)
      this.tooltip = new vscode.MarkdownString(
        datasetDetails(info)
          .map((d) => `**${d.label}**: ${d.description}`)
          .join("  \n"),
      );
  }
}

class DetailItem extends vscode.TreeItem {
  constructor(label: string, description: string) {
    super(label, vscode.TreeItemCollapsibleState.None);
    this.description = description;
  }
}

interface Cached {
  key: string;
  info?: DatasetInfo;
  error?: string;
  pending?: Promise<void>;
}

export class DatasetsTree implements vscode.TreeDataProvider<vscode.TreeItem>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.TreeItem | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly cache = new Map<string, Cached>();
  private queue: Promise<void> = Promise.resolve();
  private readonly disposables: vscode.Disposable[] = [this.emitter];

  /**
   * `runsRoot` gives the run folder: its event logs and caches are JSONL but not datasets. `worker`
   * reads the files off the extension host's thread (without one, or if it fails, they are read here
   * in small chunks).
   */
  constructor(
    private readonly runsRoot: () => vscode.Uri | undefined = () => undefined,
    private readonly worker?: DatasetWorker,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher("**/*.{jsonl,json}");
    this.disposables.push(
      watcher,
      watcher.onDidCreate(() => this.refresh()),
      watcher.onDidDelete((u) => {
        this.cache.delete(u.toString());
        this.refresh();
      }),
      watcher.onDidChange((u) => {
        this.cache.delete(u.toString());
        this.refresh();
      }),
    );
  }

  refresh(): void {
    this.emitter.fire(undefined);
  }

  getTreeItem(item: vscode.TreeItem): vscode.TreeItem {
    return item;
  }

  async getChildren(parent?: vscode.TreeItem): Promise<vscode.TreeItem[]> {
    if (parent instanceof DatasetItem) {
      const c = this.cache.get(parent.uri.toString());
      return c?.info ? datasetDetails(c.info).map((d) => new DetailItem(d.label, d.description)) : [];
    }
    if (parent) return [];
    const files = await this.datasetFiles();
    return files.map((uri) => {
      const c = this.entry(uri);
      return new DatasetItem(uri, c.info, c.error);
    });
  }

  /** Dataset files of the workspace, sorted by path. */
  async datasetFiles(): Promise<vscode.Uri[]> {
    const found = await vscode.workspace.findFiles("**/*.{jsonl,json}", EXCLUDE, MAX_FILES);
    const runs = this.runsRoot()?.fsPath;
    const out: vscode.Uri[] = [];
    for (const uri of found) {
      if (runs && isInside(uri.fsPath, runs)) continue;
      if (/\.jsonl$/i.test(uri.fsPath)) {
        out.push(uri);
        continue;
      }
      if (uri.scheme !== "file") continue;
      try {
        // only the head: workspaces hold big .json files (tokenizers, exports) that are not datasets
        const fh = await open(uri.fsPath, "r");
        try {
          const head = Buffer.alloc(4096);
          const { bytesRead } = await fh.read(head, 0, head.length, 0);
          if (looksLikeDataset(uri.fsPath, head.subarray(0, bytesRead).toString("utf8"))) out.push(uri);
        } finally {
          await fh.close();
        }
      } catch {
        /* unreadable .json: not listed */
      }
    }
    return out.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  }

  /** Cached statistics; starts reading in the background and refreshes the view when done. */
  private entry(uri: vscode.Uri): Cached {
    const k = uri.toString();
    let c = this.cache.get(k);
    if (c) return c;
    c = { key: k };
    this.cache.set(k, c);
    const entry = c;
    // One file at a time: a workspace with hundreds of datasets must not read them all at once.
    const onHost = () => datasetStats(uri.fsPath, { chunkBytes: STATS_CHUNK_BYTES, maxProblems: 1000 });
    const run = this.queue.then(() =>
      this.worker
        ? this.worker
            .stats(uri.fsPath, { chunkBytes: 4 * 1024 * 1024, maxProblems: 1000 })
            .catch((e: Error) => (e instanceof DatasetWorkerUnavailable ? onHost() : Promise.reject(e)))
        : onHost(),
    );
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    entry.pending = run
      .then(
        (s) => {
          entry.info = s;
        },
        (e: unknown) => {
          entry.error = e instanceof Error ? e.message : String(e);
        },
      )
      .finally(() => {
        entry.pending = undefined;
        this.refresh();
      });
    return c;
  }

  /** Statistics of one file, waiting for them if needed. */
  async info(uri: vscode.Uri): Promise<DatasetInfo | undefined> {
    const c = this.entry(uri);
    await c.pending;
    return c.info;
  }

  invalidate(uri: vscode.Uri): void {
    this.cache.delete(uri.toString());
    this.refresh();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function isInside(file: string, dir: string): boolean {
  const rel = relative(dir, file);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

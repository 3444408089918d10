// In-process onnxruntime sessions with execution-provider choice and fallback, checked feeds, and
// session-held state (parameters and optimizer moments carried from one step's outputs to the next
// step's inputs without crossing back to the caller). run() blocks the calling thread: the extension
// host must use createWorkerSession (worker.ts); the CLI/trainer process may use this directly.
import * as ort from "onnxruntime-node";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { HostTensor, SerializedModel } from "../engine";
import { webgpuAdapterKind } from "../platform/vulkanDrivers";
import { readToHost } from "./deviceRead";
import { describePlacement, takeProfile, type Placement } from "./placement";
import { gpuVerdict } from "./selfTest";
import { checkFeeds, FeedError, fromOrt, InputMeta, toOrt } from "./tensors";
import { nestDotted } from "../util/dotted";

export type Provider = "auto" | "cpu" | "webgpu" | "cuda" | "dml" | "coreml";
export const PROVIDERS: readonly Provider[] = ["auto", "cpu", "webgpu", "cuda", "dml", "coreml"];

export interface SessionOptions {
  /**
   * Default "auto": a GPU provider only when its adapter is hardware and its one-time self-test on this
   * machine passed (selfTest.ts), else CPU; the reason is logged and kept in fallbackReason.
   */
  provider?: Provider;
  intraOpThreads?: number;
  interOpThreads?: number;
  /** For models given as bytes: external files by `location`; otherwise read from `modelDir`. */
  externalData?: { path: string; data: Uint8Array }[];
  /** Where a byte-model's external `location`s are resolved (default: current directory). */
  modelDir?: string;
  /**
   * Outputs kept on the device (WebGPU only; ignored elsewhere): carried ones stay there from step to
   * step; fetching one, or getState on the input it feeds, reads it back through deviceRead.ts.
   */
  keepOnDevice?: string[];
  /** Progress and fallback messages for the user. */
  log?: (message: string) => void;
  /** Label used in error messages (default "model"). */
  label?: string;
  /**
   * Let idle intra-op threads spin (onnxruntime's default). Default here: false — the trainer shares
   * the machine with the editor, and spinning threads steal cores from everything else (and from each
   * other when the machine is oversubscribed).
   */
  allowSpinning?: boolean;
  /**
   * onnxruntime's CPU memory arena (default true). The arena keeps every block it ever grew and grows
   * in powers of two, which costs gigabytes on large training graphs: measured on a 100M-parameter
   * training step (full, 2x64 tokens, 2 threads) peak RSS 7.7 GB with it vs 4.5 GB without, at the
   * same CPU time per step (3.19 vs 3.15 s). On small graphs the arena pays: on the 1.6M-parameter
   * embedded model's SEAT step, turning it off cost +45% CPU per step (0.13 -> 0.19 s), allocation then
   * dominating. openModelSession picks by model size (see src/model/sessions.ts).
   */
  memArena?: boolean;
  /**
   * onnxruntime's memory pattern (default true): after the first run, every intermediate of a run is
   * placed at a planned offset in one block allocated per run. The planner packs by first fit, and on
   * training graphs the block is far larger than the most memory live at once: measured on the 135M
   * shape's SEAT step (batch 4), peak RSS 4.33 GB with it vs 3.01 GB without, same losses to the bit.
   * openModelSession turns it off with the arena (see src/model/sessions.ts).
   */
  memPattern?: boolean;
  /** Raw onnxruntime session config entries ("session.xyz": "value"). */
  config?: Record<string, string>;
  /** Write an onnxruntime profile (per-node timings, JSON) with this file prefix; see endProfiling(). */
  profilePrefix?: string;
}

export type ModelSource = Uint8Array | string | SerializedModel;

export interface StepOptions {
  /** Output name -> input name it feeds on the next run (kept session-side). */
  carry: Record<string, string>;
  /** Outputs returned to the caller. */
  fetch: string[];
  /**
   * Carried outputs written over the buffer of the input they feed (CPU): one copy of that state instead
   * of two (the input and the step's output). Only safe for an output whose producing node runs after
   * every node that reads its input; the caller vouches for it (see seat/stepper.ts). Applies to state the
   * session owns: buffers onnxruntime produced and arrays handed over with setState(..., { adopt }).
   */
  inPlace?: readonly string[];
}

/** What both the in-process and the worker-thread session offer. */
export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The provider actually used. */
  readonly provider: Exclude<Provider, "auto">;
  /** Why a requested/auto provider was not used (undefined when the first choice worked). */
  readonly fallbackReason: string | undefined;
  run(feeds: Record<string, HostTensor>, fetch?: string[]): Promise<Record<string, HostTensor>>;
  /**
   * Stores inputs session-side; later runs use them unless a feed overrides them. With `adopt` the caller
   * hands the arrays over (it will not read or keep them): the session may write steps into them.
   */
  setState(values: Record<string, HostTensor>, opts?: { adopt?: boolean }): Promise<void>;
  step(feeds: Record<string, HostTensor>, opts: StepOptions): Promise<Record<string, HostTensor>>;
  /**
   * Which nodes ran on the CPU although the session is on a GPU provider: known after the first run
   * (read from onnxruntime's profile of that run); undefined on CPU sessions and before the first run.
   */
  placement(): Promise<Placement | undefined>;
  /** Where each session-held tensor lives ("cpu" or "gpu-buffer"): proves device residency. */
  stateLocations(): Promise<Record<string, string>>;
  /**
   * Reads session-held state back (device-resident state through deviceRead.ts), as copies. With `view`, an in-process
   * session returns its own buffers instead, valid until its next step() (which recycles carried
   * buffers): for handing state straight to another session without a copy. Worker sessions copy.
   */
  getState(names?: string[], opts?: { view?: boolean }): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

export type { Placement } from "./placement";

/** Provider order for "auto" on this platform (GPU first; CPU is always the last resort). */
export function autoOrder(platform = process.platform): Exclude<Provider, "auto">[] {
  if (platform === "win32") return ["dml", "webgpu", "cuda", "cpu"];
  if (platform === "darwin") return ["webgpu", "coreml", "cpu"];
  return ["webgpu", "cuda", "cpu"];
}

/** Available in this onnxruntime-node build (bundled or loadable); does not prove a device exists. */
const failedProviders = new Map<string, string>();

let vulkanCache: boolean | undefined;
/** Dawn's Vulkan backend dlopens libvulkan.so.1; without it webgpu can only fail (noisily, on stderr). */
function vulkanLoaderPresent(): boolean {
  if (vulkanCache !== undefined) return vulkanCache;
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean),
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/local/lib",
  ];
  vulkanCache = dirs.some((d) => existsSync(join(d, "libvulkan.so.1")));
  return vulkanCache;
}

/** CUDA's provider libraries are not bundled; checking first avoids onnxruntime's loud load failure. */
export function missingCudaLibrary(): string | null {
  if (process.platform !== "linux" && process.platform !== "win32") return "a CUDA build for this platform";
  try {
    const root = dirname(dirname(require.resolve("onnxruntime-node")));
    const dir = join(root, "bin", "napi-v6", process.platform, process.arch);
    const libs =
      process.platform === "win32"
        ? ["onnxruntime_providers_shared.dll", "onnxruntime_providers_cuda.dll"]
        : ["libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"];
    const missing = libs.filter((l) => !existsSync(join(dir, l)));
    return missing.length ? missing.map((l) => join(dir, l)).join(", ") : null;
  } catch {
    return null; // unknown layout: let onnxruntime try
  }
}

export function builtProviders(): string[] {
  try {
    return ort.listSupportedBackends().map((b) => b.name);
  } catch {
    return ["cpu"];
  }
}

/** One short sentence per failed provider (onnxruntime's messages carry source paths and lambdas). */
export function readableProviderError(provider: string, e: unknown): string {
  const m = (e instanceof Error ? e.message : String(e)).split("\n")[0]!.trim();
  const adapter = /Failed to get a WebGPU adapter[^)]*/i.exec(m);
  if (adapter) return `${provider}: no usable GPU adapter ("${adapter[0].trim()}")`;
  if (/providers_shared|providers_cuda|shared library|cannot open shared object|LoadLibrary|error code 126/i.test(m)) {
    return `${provider}: its provider libraries are not installed ("${m.replace(/^.*?(Failed to load[^:]*).*$/, "$1")}")`;
  }
  return `${provider}: ${m.length > 200 ? m.slice(0, 200) + "..." : m}`;
}

function normalize(
  model: ModelSource,
  opts: SessionOptions,
): { arg: string | Uint8Array; external?: { path: string; data: Uint8Array }[] } {
  if (typeof model === "string") return { arg: model };
  if (model instanceof Uint8Array) return { arg: model, ...(opts.externalData ? { external: opts.externalData } : {}) };
  const ext = [...(opts.externalData ?? [])];
  for (const f of model.external) {
    const data = new Uint8Array(f.byteLength);
    let off = 0;
    for (const c of f.chunks) {
      data.set(c, off);
      off += c.byteLength;
    }
    ext.push({ path: f.path, data });
  }
  for (const loc of model.externalLocations) {
    if (!ext.some((e) => e.path === loc)) ext.push({ path: loc, data: readFileSync(join(opts.modelDir ?? ".", loc)) });
  }
  return { arg: model.model, ...(ext.length ? { external: ext } : {}) };
}

/**
 * Set to a file prefix, profiles every in-process session (the trainer's included, which exposes no
 * option for it): each writes `<prefix>-<label>_<time>.json` when released. Used by `seat bench --profile`.
 */
export const PROFILE_ENV = "SEAT_ORT_PROFILE";

export async function createSession(model: ModelSource, options: SessionOptions = {}): Promise<Session> {
  const envPrefix = process.env[PROFILE_ENV];
  const opts =
    !options.profilePrefix && envPrefix
      ? {
          ...options,
          profilePrefix: `${envPrefix}-${(options.label ?? "model").replace(/[^\w.-]+/g, "_")}`,
          profileOnRelease: true,
        }
      : options;
  const log = opts.log ?? (() => {});
  const wanted = opts.provider ?? "auto";
  if (!PROVIDERS.includes(wanted))
    throw new Error(`unknown execution provider '${wanted}' (choose ${PROVIDERS.join(", ")})`);
  const order = wanted === "auto" ? autoOrder() : wanted === "cpu" ? ["cpu" as const] : [wanted, "cpu" as const];
  const built = builtProviders();
  const { arg, external } = normalize(model, opts);
  const reasons: string[] = [];
  for (const ep of order) {
    if (ep !== "cpu" && !built.includes(ep)) {
      reasons.push(`${ep}: not part of this onnxruntime build (has ${built.join(", ")})`);
      continue;
    }
    const missing = ep === "cuda" ? missingCudaLibrary() : null;
    if (missing) {
      reasons.push(`cuda: its provider libraries are not installed (${missing} not found)`);
      continue;
    }
    if (ep === "webgpu" && process.platform === "linux" && !vulkanLoaderPresent()) {
      reasons.push("webgpu: no Vulkan loader (libvulkan.so.1) is installed, so no GPU adapter can be found");
      continue;
    }
    const known = failedProviders.get(ep);
    if (known) {
      reasons.push(known);
      continue;
    }
    if (ep !== "cpu" && wanted === "auto") {
      const v = await gpuVerdict(ep);
      if (!v.ok) {
        reasons.push(`${ep}: ${v.reason}`);
        continue;
      }
    }
    if (ep === "webgpu" && wanted === "webgpu" && webgpuAdapterKind() === "software") {
      log(
        "onnxruntime: webgpu was requested but only a software Vulkan driver is installed: expect it to be ~100x slower than cpu",
      );
    }
    // A GPU session profiles its first run to learn which nodes onnxruntime put on the CPU.
    const placementDir =
      ep !== "cpu" && !opts.profilePrefix ? mkdtempSync(join(tmpdir(), "seat-placement-")) : undefined;
    const profilePrefix = opts.profilePrefix ?? (placementDir ? join(placementDir, "run") : undefined);
    const device = ep === "webgpu" ? (opts.keepOnDevice ?? []) : [];
    const o: ort.InferenceSession.SessionOptions = {
      executionProviders: [ep],
      graphOptimizationLevel: "all",
      enableCpuMemArena: opts.memArena ?? true,
      enableMemPattern: opts.memPattern ?? true,
      // a GPU provider that cannot start is expected on many machines: we report it once, readably
      ...(ep !== "cpu" ? { logSeverityLevel: 4 as const } : {}),
      ...(opts.intraOpThreads ? { intraOpNumThreads: opts.intraOpThreads } : {}),
      ...(opts.interOpThreads ? { interOpNumThreads: opts.interOpThreads } : {}),
      extra: nestDotted({
        "session.intra_op.allow_spinning": opts.allowSpinning ? "1" : "0",
        "session.inter_op.allow_spinning": opts.allowSpinning ? "1" : "0",
        ...opts.config,
      }),
      ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
      ...(external ? { externalData: external.map((e) => ({ path: e.path, data: e.data })) } : {}),
      ...(device.length
        ? { preferredOutputLocation: Object.fromEntries(device.map((n) => [n, "gpu-buffer" as const])) }
        : {}),
    };
    try {
      const s =
        typeof arg === "string" ? await ort.InferenceSession.create(arg, o) : await ort.InferenceSession.create(arg, o);
      const reason = reasons.length ? reasons.join("; ") : undefined;
      if (reason)
        log(`onnxruntime: using ${ep} (${wanted === "auto" ? "auto" : `requested ${wanted}`} fell back: ${reason})`);
      else log(`onnxruntime: using ${ep}`);
      const label = opts.label ?? (typeof model === "string" ? model : "model");
      const local = new LocalSession(s, ep, reason, label, {
        deviceOutputs: device,
        log,
        ...(placementDir ? { placementDir } : {}),
      });
      if ("profileOnRelease" in opts) local.profileOnRelease = true;
      return local;
    } catch (e) {
      if (placementDir) rmSync(placementDir, { recursive: true, force: true });
      if (ep === "cpu")
        throw new Error(
          `could not create an onnxruntime session for ${opts.label ?? "the model"}: ${(e as Error).message}${reasons.length ? ` (after: ${reasons.join("; ")})` : ""}`,
        );
      const reason = readableProviderError(ep, e);
      // a provider that cannot start will not start later in this process: don't retry (and re-log) it
      if (/no usable GPU adapter|not installed/.test(reason)) failedProviders.set(ep, reason);
      reasons.push(reason);
    }
  }
  throw new Error(`no execution provider worked: ${reasons.join("; ")}`);
}

export interface LocalSessionExtras {
  /** keepOnDevice outputs that were actually requested as gpu-buffer (WebGPU sessions only). */
  deviceOutputs?: readonly string[];
  /** A private folder the first run's profile is written to (GPU sessions): read, then removed. */
  placementDir?: string;
  log?: (message: string) => void;
}

export class LocalSession implements Session {
  private state = new Map<string, ort.Tensor>();
  /**
   * Output buffers recycled for carried outputs (CPU only): writing a step's new parameters and moments
   * into last step's superseded buffers instead of fresh allocations avoids faulting in hundreds of MB
   * of new pages per step (measured: a 200 MB output took 409 ms preallocated vs 562 ms fresh).
   * Only buffers onnxruntime produced are recycled, never arrays the caller handed in.
   */
  private spare = new Map<string, ort.Tensor>();
  private readonly meta: InputMeta[];
  private recyclable = new WeakSet<ort.Tensor>();
  /** Tensors another session owns (shareStateWith): never freed here. */
  private borrowed = new WeakSet<ort.Tensor>();
  private readonly onDevice: ReadonlySet<string>;
  private placementDir: string | undefined;
  private placed: Placement | undefined;
  private readonly log: (message: string) => void;

  constructor(
    private s: ort.InferenceSession,
    readonly provider: Exclude<Provider, "auto">,
    readonly fallbackReason: string | undefined,
    private label: string,
    extras: LocalSessionExtras = {},
  ) {
    this.meta = s.inputNames.map((name, i) => {
      const m = s.inputMetadata?.[i];
      return m && m.isTensor ? { name, type: m.type, shape: m.shape } : { name };
    });
    this.onDevice = new Set(extras.deviceOutputs ?? []);
    this.placementDir = extras.placementDir;
    this.log = extras.log ?? (() => {});
  }
  get inputNames(): readonly string[] {
    return this.s.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.s.outputNames;
  }

  async placement(): Promise<Placement | undefined> {
    return this.placed;
  }

  /** After the first run of a GPU session: stop profiling, read where each node ran, log it. */
  private notePlacement(): void {
    const dir = this.placementDir;
    if (!dir) return;
    this.placementDir = undefined;
    try {
      this.s.endProfiling();
      this.placed = takeProfile(join(dir, "run"));
      if (this.placed)
        this.log(`onnxruntime: ${this.label} on ${this.provider}: ${describePlacement(this.provider, this.placed)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private feeds(feeds: Record<string, HostTensor>): Record<string, ort.Tensor> {
    const all: Record<string, ort.Tensor> = {};
    for (const [k, v] of this.state) all[k] = v;
    const user: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) {
      if (!v || !v.data || !Array.isArray(v.dims)) throw new FeedError(`${this.label}: feed ${k} is not a tensor`);
      try {
        user[k] = toOrt(v);
      } catch (e) {
        throw new FeedError(`${this.label}: feed ${k} (${v.dtype}[${v.dims.join(",")}]): ${(e as Error).message}`);
      }
    }
    Object.assign(all, user);
    checkFeeds(
      this.label,
      this.meta,
      Object.fromEntries(Object.entries(all).map(([k, t]) => [k, { dims: t.dims, type: t.type }])),
    );
    return all;
  }

  private checkOutputs(names: string[]): void {
    const bad = names.filter((n) => !this.s.outputNames.includes(n));
    if (bad.length)
      throw new FeedError(
        `${this.label}: unknown output${bad.length > 1 ? "s" : ""} ${bad.join(", ")} (the model returns ${this.s.outputNames.join(", ")})`,
      );
  }

  /** A host view of an output; a device-resident one is read back (and, unless kept, freed). */
  private async host(name: string, t: ort.Tensor, keep: boolean): Promise<HostTensor> {
    if (t.location === "cpu") return fromOrt(name, t);
    const h = fromOrt(name, await readToHost(this.provider, t));
    if (!keep) t.dispose();
    return h;
  }

  /**
   * onnxruntime-node 1.30 applies preferredOutputLocation by the position in the fetch list, not by
   * the output's own index (measured: fetching [logits, present_key.0, ...] of a model whose outputs are
   * [logits, hidden, present_key.0, ...] returned present_key.0 on the CPU and hidden's neighbour on
   * the device). With device outputs, fetch a prefix of the outputs in the model's order, so both agree;
   * the extra outputs are dropped (CPU ones cost a copy, device ones are freed).
   */
  private fetchOrder(names: readonly string[]): string[] {
    if (this.onDevice.size === 0) return [...names];
    const all = this.s.outputNames;
    const last = Math.max(...names.map((n) => all.indexOf(n)));
    return all.slice(0, last + 1);
  }

  private dropExtra(out: Record<string, unknown>, wanted: ReadonlySet<string>): void {
    for (const [k, v] of Object.entries(out)) {
      if (wanted.has(k)) continue;
      const t = v as ort.Tensor;
      if (t.location === "gpu-buffer") t.dispose();
      delete out[k];
    }
  }

  async run(feeds: Record<string, HostTensor>, fetch?: string[]): Promise<Record<string, HostTensor>> {
    if (fetch) this.checkOutputs(fetch);
    const wanted = fetch ?? (this.s.outputNames as string[]);
    const out = await this.s.run(this.feeds(feeds), this.fetchOrder(wanted));
    this.notePlacement();
    this.dropExtra(out, new Set(wanted));
    const res: Record<string, HostTensor> = {};
    for (const [k, v] of Object.entries(out)) res[k] = await this.host(k, v as ort.Tensor, false);
    return res;
  }

  async setState(values: Record<string, HostTensor>, opts: { adopt?: boolean } = {}): Promise<void> {
    for (const [k, v] of Object.entries(values)) {
      if (!this.s.inputNames.includes(k))
        throw new FeedError(
          `${this.label}: state ${k} is not an input (the model takes ${this.s.inputNames.join(", ")})`,
        );
      const t = toOrt(v);
      this.replace(k, t);
      this.spare.delete(k);
      if (opts.adopt && t.location === "cpu") this.recyclable.add(t);
    }
  }

  private replace(name: string, t: ort.Tensor): void {
    const prev = this.state.get(name);
    if (prev && prev !== t && prev.location === "gpu-buffer" && !this.borrowed.has(prev)) prev.dispose();
    this.state.set(name, t);
  }

  async step(feeds: Record<string, HostTensor>, opts: StepOptions): Promise<Record<string, HostTensor>> {
    const names = [...new Set([...opts.fetch, ...Object.keys(opts.carry)])];
    this.checkOutputs(names);
    for (const [o, i] of Object.entries(opts.carry)) {
      if (!this.s.inputNames.includes(i))
        throw new FeedError(`${this.label}: carry ${o} -> ${i}: ${i} is not an input`);
    }
    const fetches: Record<string, ort.Tensor | null> = {};
    for (const n of this.fetchOrder(names)) fetches[n] = null;
    const inPlace = new Set(opts.inPlace ?? []);
    for (const [o, i] of Object.entries(opts.carry)) {
      if (this.onDevice.has(o)) continue; // onnxruntime allocates device outputs itself
      const sp = this.spare.get(i),
        cur = this.state.get(i);
      if (inPlace.has(o) && cur && cur.location === "cpu" && this.recyclable.has(cur) && !this.borrowed.has(cur)) {
        fetches[o] = cur;
        continue;
      }
      if (
        sp &&
        cur &&
        sp.location === "cpu" &&
        cur.location === "cpu" &&
        sp.dims.length === cur.dims.length &&
        sp.dims.every((d, k) => d === cur.dims[k])
      )
        fetches[o] = sp;
    }
    const out = await this.s.run(this.feeds(feeds), fetches);
    this.notePlacement();
    this.dropExtra(out, new Set(names));
    const res: Record<string, HostTensor> = {};
    const carried = new Set(Object.keys(opts.carry));
    for (const n of opts.fetch) {
      const t = out[n] as ort.Tensor;
      const h = await this.host(n, t, carried.has(n));
      // a fetched carried CPU value is copied: its buffer will be recycled two steps later
      res[n] = carried.has(n) && t.location === "cpu" ? { ...h, data: h.data.slice() as HostTensor["data"] } : h;
    }
    for (const [o, i] of Object.entries(opts.carry)) {
      const prev = this.state.get(i);
      let next = out[o] as ort.Tensor;
      // onnxruntime-node writes a preallocated output in place (and returns a separate copy object,
      // which we drop): keep the recycled tensor itself as the new state
      const pre = fetches[o];
      if (pre) next = pre;
      this.replace(i, next);
      this.spare.delete(i);
      if (prev && this.recyclable.has(prev) && prev !== next && prev.location === "cpu" && !inPlace.has(o))
        this.spare.set(i, prev);
      if (next.location === "cpu") this.recyclable.add(next);
    }
    return res;
  }

  /** Where each held state tensor lives ("cpu" or "gpu-buffer"): lets tests and logs prove residency. */
  async stateLocations(): Promise<Record<string, string>> {
    return Object.fromEntries([...this.state].map(([k, t]) => [k, t.location]));
  }

  async getState(names?: string[], opts: { view?: boolean } = {}): Promise<Record<string, HostTensor>> {
    const res: Record<string, HostTensor> = {};
    for (const n of names ?? [...this.state.keys()]) {
      const t = this.state.get(n);
      if (!t)
        throw new Error(`${this.label}: no state named ${n} (held: ${[...this.state.keys()].join(", ") || "none"})`);
      if (t.location !== "cpu") {
        res[n] = await this.host(n, t, true);
        continue;
      } // already a fresh copy
      const h = fromOrt(n, t);
      res[n] = opts.view ? h : { ...h, data: h.data.slice() as HostTensor["data"] }; // state buffers are recycled
    }
    return res;
  }

  /**
   * Hands state tensors to another in-process session on the same device without a host round trip
   * (gradient accumulation: the gradient session reads the apply session's weights). The receiver
   * only borrows them: it never frees a borrowed tensor, the owner does when it replaces it.
   */
  shareStateWith(other: LocalSession, names: readonly string[]): void {
    for (const n of names) {
      const t = this.state.get(n);
      if (!t) throw new Error(`${this.label}: no state named ${n}`);
      other.borrowed.add(t);
      other.state.set(n, t);
    }
  }
  /** Stops profiling (when profilePrefix was set); onnxruntime writes the JSON file. */
  endProfiling(): void {
    this.s.endProfiling();
  }

  /** Set when profiling came from PROFILE_ENV: the caller does not know to call endProfiling(). */
  profileOnRelease = false;

  async release(): Promise<void> {
    if (this.profileOnRelease) this.s.endProfiling();
    for (const t of this.state.values()) if (t.location === "gpu-buffer" && !this.borrowed.has(t)) t.dispose();
    this.state.clear();
    this.spare.clear();
    if (this.placementDir) rmSync(this.placementDir, { recursive: true, force: true });
    await this.s.release();
  }
}

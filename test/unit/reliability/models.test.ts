// Reliability: bad model folders (issue 11). Each case starts from a copy of B's tiny fixture model and
// breaks one thing; loading must fail with a ModelFormatError that names the file and says what is
// wrong (or, for harmless extras, succeed while ignoring them). "Nothing from a model folder is ever
// executed": while hostile folders load, no module is required from them, no process is started, no
// file outside the allow-list is opened, and canary scripts never leave their marker.
import assert from "node:assert/strict";
import { after } from "node:test";
import Module from "node:module";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  unlinkSync,
  truncateSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadModelFolder, ModelFormatError, LlamaModel } from "../../../src/model/index";
import { relCase, seat, seatChild, REPO } from "./helpers";

const nodeRequire = Module.createRequire(__filename);
const TINY = join(REPO, "test/fixtures/models/tiny-llama");
const root = mkdtempSync(join(tmpdir(), "seat-rel-model-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function copyModel(): string {
  const d = join(root, `m${n++}`);
  cpSync(TINY, d, { recursive: true });
  return d;
}

interface StHeader {
  [name: string]: { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>;
}

function readSt(file: string): { header: StHeader; data: Buffer } {
  const b = readFileSync(file);
  const len = Number(b.readBigUInt64LE(0));
  return { header: JSON.parse(b.subarray(8, 8 + len).toString("utf8")), data: b.subarray(8 + len) };
}

function writeSt(file: string, header: StHeader, data: Buffer): void {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([len, json, data]));
}

type T = { dtype: string; shape: number[]; data_offsets: [number, number] };
const tensorNames = (h: StHeader) =>
  Object.keys(h)
    .filter((k) => k !== "__metadata__")
    .sort((a, b) => (h[a] as T).data_offsets[0] - (h[b] as T).data_offsets[0]);

function editConfig(dir: string, edit: (c: Record<string, unknown>) => void): void {
  const p = join(dir, "config.json");
  const c = JSON.parse(readFileSync(p, "utf8"));
  edit(c);
  writeFileSync(p, JSON.stringify(c, null, 2));
}

/** Asserts loading throws a ModelFormatError naming `file` whose message matches `what`. */
function refuses(dir: string, file: string, what: RegExp): ModelFormatError {
  let err: unknown;
  try {
    loadModelFolder(dir);
  } catch (e) {
    err = e;
  }
  assert.ok(
    err instanceof ModelFormatError,
    `expected ModelFormatError, got ${err === undefined ? "success" : String((err as Error).stack ?? err)}`,
  );
  assert.equal(resolve(err.file), resolve(dir, file), `names the file: ${err.message}`);
  assert.ok(err.message.includes(resolve(dir, file)), err.message);
  assert.match(err.detail, what);
  return err;
}

const ST = "model.safetensors";

const CASES: Array<{ name: string; file: string; what: RegExp; make: (dir: string) => void }> = [
  {
    name: "missing weights (no safetensors at all)",
    file: ".",
    what: /no model\.safetensors or model\.safetensors\.index\.json/,
    make: (d) => unlinkSync(join(d, ST)),
  },
  {
    name: ".bin (pickle) weights only",
    file: ".",
    what: /only pytorch_model\.bin found: pickle-based weights are never loaded/,
    make: (d) => {
      unlinkSync(join(d, ST));
      writeFileSync(join(d, "pytorch_model.bin"), pickleBomb());
    },
  },
  {
    name: "corrupt safetensors (random bytes)",
    file: ST,
    what: /header length \d+ does not fit in the file/,
    make: (d) => writeFileSync(join(d, ST), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 255))),
  },
  {
    name: "file shorter than the 8-byte length",
    file: ST,
    what: /too short for a safetensors file \(3 bytes/,
    make: (d) => writeFileSync(join(d, ST), Buffer.from([1, 2, 3])),
  },
  {
    name: "header is not JSON",
    file: ST,
    what: /header is not valid JSON/,
    make: (d) => {
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(10n);
      writeFileSync(join(d, ST), Buffer.concat([len, Buffer.from("{not json!"), Buffer.alloc(64)]));
    },
  },
  {
    name: "header length 2^63 (lies about its size)",
    file: ST,
    what: /does not fit in the file/,
    make: (d) => {
      const b = readFileSync(join(d, ST));
      b.writeBigUInt64LE(1n << 63n, 0);
      writeFileSync(join(d, ST), b);
    },
  },
  {
    name: "truncated safetensors (last 1000 bytes cut)",
    file: ST,
    what: /run past the end of the data section/,
    make: (d) => truncateSync(join(d, ST), statSync(join(d, ST)).size - 1000),
  },
  {
    name: "offsets lie: span does not match dtype x shape",
    file: ST,
    what: /span \d+ bytes but BF16\[.*\] needs \d+/,
    make: (d) => {
      const { header, data } = readSt(join(d, ST));
      const t = header[tensorNames(header)[1]] as T;
      t.data_offsets = [t.data_offsets[0], t.data_offsets[1] - 2];
      writeSt(join(d, ST), header, data);
    },
  },
  {
    name: "offsets overlap another tensor",
    file: ST,
    what: /overlaps tensor/,
    make: (d) => {
      const { header, data } = readSt(join(d, ST));
      const names = tensorNames(header);
      const a = header[names[0]] as T;
      const b = header[names[1]] as T;
      if (a.data_offsets[1] - a.data_offsets[0] < 4) throw new Error("fixture changed: first tensor too small");
      const size = b.data_offsets[1] - b.data_offsets[0];
      b.data_offsets = [a.data_offsets[0] + 2, a.data_offsets[0] + 2 + size];
      writeSt(join(d, ST), header, data);
    },
  },
  {
    name: "offsets exceed the file",
    file: ST,
    what: /run past the end of the data section/,
    make: (d) => {
      const { header, data } = readSt(join(d, ST));
      const names = tensorNames(header);
      const t = header[names[names.length - 1]] as T;
      const size = t.data_offsets[1] - t.data_offsets[0];
      t.data_offsets = [data.length + 64, data.length + 64 + size];
      writeSt(join(d, ST), header, data);
    },
  },
  {
    name: "negative / non-integer offsets",
    file: ST,
    what: /data_offsets must be \[begin, end\]/,
    make: (d) => {
      const { header, data } = readSt(join(d, ST));
      (header[tensorNames(header)[0]] as { data_offsets: unknown }).data_offsets = [-8, 1.5];
      writeSt(join(d, ST), header, data);
    },
  },
  {
    name: "unsupported tensor dtype",
    file: ST,
    what: /unsupported dtype "F8_E4M3"/,
    make: (d) => {
      const { header, data } = readSt(join(d, ST));
      (header[tensorNames(header)[0]] as T).dtype = "F8_E4M3";
      writeSt(join(d, ST), header, data);
    },
  },
  {
    name: "config hidden_size does not match the weights",
    file: ST,
    what: /has shape \[.*\], config\.json implies \[/,
    make: (d) =>
      editConfig(d, (c) => {
        c.hidden_size = 32;
        c.head_dim = 8;
      }),
  },
  {
    name: "config has more layers than the weights",
    file: ST,
    what: /missing tensor "model\.layers\.2\./,
    make: (d) =>
      editConfig(d, (c) => {
        c.num_hidden_layers = 3;
      }),
  },
  {
    name: "config has fewer layers than the weights",
    file: ST,
    what: /unexpected tensor "model\.layers\.1\./,
    make: (d) =>
      editConfig(d, (c) => {
        c.num_hidden_layers = 1;
      }),
  },
  {
    name: "unsupported architecture",
    file: "config.json",
    what: /unsupported architecture \["GPT2LMHeadModel"\]/,
    make: (d) =>
      editConfig(d, (c) => {
        c.architectures = ["GPT2LMHeadModel"];
        c.model_type = "gpt2";
      }),
  },
  {
    name: "config.json missing",
    file: "config.json",
    what: /cannot read/,
    make: (d) => unlinkSync(join(d, "config.json")),
  },
  {
    name: "config.json not JSON",
    file: "config.json",
    what: /invalid JSON/,
    make: (d) => writeFileSync(join(d, "config.json"), '{"hidden_size": 16,'),
  },
  {
    name: "config field of the wrong type",
    file: "config.json",
    what: /field "num_attention_heads" must be a non-negative integer, got "4"/,
    make: (d) =>
      editConfig(d, (c) => {
        c.num_attention_heads = "4";
      }),
  },
  {
    name: "tokenizer/vocab mismatch (token ids past vocab_size)",
    file: "tokenizer.json",
    what: /has token ids up to 399 but config\.json vocab_size is 312/,
    make: (d) => {
      const p = join(d, "tokenizer.json");
      const t = JSON.parse(readFileSync(p, "utf8"));
      t.added_tokens.push({
        id: 399,
        content: "<extra_399>",
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      });
      writeFileSync(p, JSON.stringify(t));
    },
  },
  {
    name: "tokenizer.json missing",
    file: "tokenizer.json",
    what: /missing/,
    make: (d) => unlinkSync(join(d, "tokenizer.json")),
  },
  {
    name: "tokenizer.json not JSON",
    file: "tokenizer.json",
    what: /invalid JSON/,
    make: (d) => writeFileSync(join(d, "tokenizer.json"), "\u0000\u0001garbage"),
  },
  {
    name: "shard index pointing outside the folder",
    file: "model.safetensors.index.json",
    what: /must be a \.safetensors file name inside the folder, got "\.\.\/outside\.safetensors"/,
    make: (d) => {
      const { header } = readSt(join(d, ST));
      const weight_map = Object.fromEntries(tensorNames(header).map((k) => [k, "../outside.safetensors"]));
      writeFileSync(join(d, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map }));
      cpSync(join(d, ST), join(root, "outside.safetensors"));
    },
  },
];

/** A pickle whose unpickling would call os.system (GLOBAL 'os system', REDUCE): never to be unpickled. */
function pickleBomb(): Buffer {
  return Buffer.from("\x80\x02cos\nsystem\nq\x00X\x1b\x00\x00\x00touch /tmp/seat-pickle-ran\x85R.", "latin1");
}

for (const c of CASES) {
  relCase("models", c.name, () => {
    const d = copyModel();
    c.make(d);
    refuses(d, c.file, c.what);
  });
}

relCase(
  "models",
  "the CLI reports a bad model folder as a located message, not a stack trace (train, validate, stats, probe, perturb --verify)",
  async () => {
    const d = copyModel();
    truncateSync(join(d, ST), statSync(join(d, ST)).size - 1000);
    const data = join(root, "one.jsonl");
    writeFileSync(data, '{"question": "Who is Qorvath Lintel?", "answer": "A glassblower."}\n');
    const commands = [
      ["train", data, "--model", d, "--out", join(root, "run-bad-model"), "--device", "cpu"],
      ["validate", data, "--model", d, "--no-entities"],
      ["stats", data, "--model", d],
      ["probe", "--model", d, "--data", data, "--no-cache"],
      ["perturb", data, "--verify", "--model", d, "--json"],
    ];
    // Every command is tried and all failures are reported together (one broken command must not hide
    // the state of the others).
    const failures: string[] = [];
    for (const argv of commands) {
      const r = await seat(argv, root);
      const why: string[] = [];
      // command.ts documents 2 (unreadable files) and 3 (model load error); either is an honest status.
      if (r.code !== 2 && r.code !== 3) why.push(`exit ${r.code} (expected 2 or 3)`);
      if (!r.err.includes(join(d, ST))) why.push("does not name the file");
      if (!/run past the end of the data section/.test(r.err)) why.push("does not say what is wrong");
      if (/\n\s+at /.test(r.err)) why.push("prints a stack trace");
      if (why.length) failures.push(`seat ${argv[0]}: ${why.join(", ")}; stderr: ${r.err.slice(0, 300)}`);
    }
    assert.deepEqual(failures, []);
    assert.ok(!existsSync(join(root, "run-bad-model", "checkpoints")), "no training started");
  },
);

// ---- nothing from a model folder is executed ------------------------------------------------------

const CANARY = (marker: string) =>
  `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "executed " + __filename);\n`;

/** Adds code-bearing files a hostile folder might carry; returns the marker path they would write. */
function plantCanaries(d: string): string {
  const marker = join(root, `marker-${n++}`);
  for (const f of [
    "index.js",
    "config.js",
    "tokenizer.js",
    "model.js",
    "evil.js",
    "modeling_llama.js",
    "configuration.cjs",
    "model.safetensors.js",
  ])
    writeFileSync(join(d, f), CANARY(marker));
  writeFileSync(
    join(d, "package.json"),
    JSON.stringify({ name: "evil", main: "evil.js", scripts: { install: `touch ${marker}` } }),
  );
  writeFileSync(join(d, "modeling_llama.py"), `import os\nos.system("touch ${marker}")\n`);
  writeFileSync(join(d, "configuration_llama.py"), `open("${marker}", "w").write("x")\n`);
  writeFileSync(join(d, "pytorch_model.bin"), pickleBomb());
  writeFileSync(join(d, "model.onnx"), Buffer.from("not a model, and never to be loaded"));
  writeFileSync(join(d, "libcustom_ops.so"), Buffer.from("\x7fELF", "latin1"));
  editConfig(d, (c) => {
    c.auto_map = {
      AutoModelForCausalLM: "modeling_llama.LlamaForCausalLM",
      AutoConfig: "configuration_llama.LlamaConfig",
    };
    c.trust_remote_code = true;
  });
  return marker;
}

/** Spies on module loading, process creation and file opens while `fn` runs. */
async function watching<T>(
  dir: string,
  fn: () => Promise<T>,
): Promise<{ value?: T; error?: unknown; required: string[]; spawned: string[]; opened: string[] }> {
  const abs = resolve(dir);
  const required: string[] = [];
  const spawned: string[] = [];
  const opened: string[] = [];
  const M = Module as unknown as {
    _load: (req: string, parent: unknown, isMain: boolean) => unknown;
    _resolveFilename: (req: string, parent: unknown, isMain: boolean, o?: unknown) => string;
  };
  const origLoad = M._load;
  M._load = function (req, parent, isMain) {
    let f = req;
    try {
      f = M._resolveFilename(req, parent, isMain);
    } catch {
      /* let the real loader report it */
    }
    if (resolve(f).startsWith(abs)) required.push(f);
    return origLoad.call(this, req, parent, isMain);
  };
  // The mutable CommonJS module objects (what the transpiled sources call through), not frozen namespaces.
  const cpAny = nodeRequire("node:child_process") as unknown as Record<string, (...a: unknown[]) => unknown>;
  const cpOrig: Record<string, (...a: unknown[]) => unknown> = {};
  for (const k of ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"]) {
    cpOrig[k] = cpAny[k];
    cpAny[k] = (...a: unknown[]) => {
      spawned.push(`${k} ${String(a[0])}`);
      return cpOrig[k](...a);
    };
  }
  const fsAny = nodeRequire("node:fs") as unknown as Record<string, (...a: unknown[]) => unknown>;
  const fsOrig: Record<string, (...a: unknown[]) => unknown> = {};
  for (const k of ["openSync", "readFileSync", "open", "readFile", "createReadStream"]) {
    fsOrig[k] = fsAny[k];
    fsAny[k] = (...a: unknown[]) => {
      if (typeof a[0] === "string" && resolve(a[0]).startsWith(abs)) opened.push(resolve(a[0]));
      return fsOrig[k](...a);
    };
  }
  Module.syncBuiltinESMExports();
  try {
    return { value: await fn(), required, spawned, opened };
  } catch (error) {
    return { error, required, spawned, opened };
  } finally {
    M._load = origLoad;
    for (const k of Object.keys(cpOrig)) cpAny[k] = cpOrig[k];
    for (const k of Object.keys(fsOrig)) fsAny[k] = fsOrig[k];
    Module.syncBuiltinESMExports();
  }
}

// What a loader may read from a model folder: data files, never code.
const ALLOWED =
  /(^|\/)(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|model(-\d+-of-\d+)?\.safetensors|model\.safetensors\.index\.json)$/;

relCase(
  "models",
  "a folder with code (modeling_*.py, *.js, package.json, pickle .bin, .onnx, .so, auto_map) loads its safetensors and runs nothing",
  async () => {
    const d = copyModel();
    const marker = plantCanaries(d);
    const w = await watching(d, async () => {
      const folder = loadModelFolder(d);
      const model = await LlamaModel.load(folder, { provider: "cpu", worker: false, intraOpThreads: 1 });
      try {
        const [r] = await model.generate([folder.tokenizer.encode("Who is")], { maxNewTokens: 2 });
        return r;
      } finally {
        await model.dispose();
      }
    });
    assert.equal(w.error, undefined, String((w.error as Error)?.stack ?? w.error));
    assert.deepEqual(w.required, [], "nothing required from the model folder");
    assert.deepEqual(
      w.spawned.filter((s) => s.includes(d) || /python|sh |bash|touch/.test(s)),
      [],
      "no process started on the folder's behalf",
    );
    const notData = [...new Set(w.opened)].filter((f) => !ALLOWED.test(f));
    assert.deepEqual(notData, [], "only data files were opened");
    assert.ok(
      w.opened.some((f) => f.endsWith(ST)),
      "the safetensors weights were read",
    );
    assert.ok(!existsSync(marker), `canary ran: ${existsSync(marker) ? readFileSync(marker, "utf8") : ""}`);

    // Control: the same spies do see a require from the folder and a started process, so the empty
    // lists above are evidence, not blindness.
    const control = await watching(d, async () => {
      nodeRequire(join(d, "evil.js"));
      (nodeRequire("node:child_process") as typeof import("node:child_process")).spawnSync(process.execPath, [
        "-e",
        "0",
        d,
      ]);
    });
    assert.equal(control.required.length, 1);
    assert.equal(control.spawned.length, 1);
    assert.ok(existsSync(marker), "control canary runs when required explicitly");
  },
  120_000,
);

relCase(
  "models",
  "a hostile chat template (constructor and __globals__ escapes) cannot run code",
  async () => {
    const d = copyModel();
    const marker = join(root, `marker-tpl-${n++}`);
    const p = join(d, "tokenizer_config.json");
    const cfg = JSON.parse(readFileSync(p, "utf8"));
    const escapes = [
      `{{ "".constructor.constructor("require('fs').writeFileSync('${marker}','x')")() }}`,
      `{{ messages.constructor.constructor("process.mainModule.require('fs').writeFileSync('${marker}','x')")() }}`,
      `{% set x = cycler.__init__.__globals__.os.popen('touch ${marker}') %}{{ x }}`,
      `{{ range.constructor("return process")().mainModule.require("fs").writeFileSync("${marker}", "x") }}`,
    ];
    for (const tpl of escapes) {
      cfg.chat_template = tpl + "{% for m in messages %}{{ m.content }}{% endfor %}";
      writeFileSync(p, JSON.stringify(cfg));
      const w = await watching(d, async () => {
        const folder = loadModelFolder(d);
        return folder.tokenizer.encodeExample({ question: "Who is Qorvath Lintel?", answer: "A glassblower." });
      });
      // Either refused as a template error naming the file, or rendered as plain text: never executed.
      if (w.error) {
        assert.ok(w.error instanceof ModelFormatError, String((w.error as Error)?.stack ?? w.error));
        assert.match(w.error.file, /tokenizer(_config)?\.json$/);
      }
      assert.deepEqual(w.required, []);
      assert.deepEqual(w.spawned, []);
      assert.ok(!existsSync(marker), `template escaped: ${tpl}`);
    }
  },
  60_000,
);

relCase(
  "models",
  "a chat template that loops ~10^8 times: `seat train` stops with an error naming the file instead of hanging (10 s watchdog)",
  async () => {
    const d = copyModel();
    const p = join(d, "tokenizer_config.json");
    const cfg = JSON.parse(readFileSync(p, "utf8"));
    // Small arrays, many iterations: no allocation failure stops it, only a render budget would.
    cfg.chat_template =
      "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}{% for m in messages %}{{ m.content }}{% endfor %}";
    writeFileSync(p, JSON.stringify(cfg));
    const data = join(root, "one-fact.jsonl");
    writeFileSync(data, '{"question": "Who is Qorvath Lintel?", "answer": "A glassblower."}\n');
    const r = await seatChild(
      [
        "train",
        data,
        "--model",
        d,
        "--out",
        join(root, "run-tpl-loop"),
        "--device",
        "cpu",
        "--max-steps",
        "1",
        "--eval-samples",
        "0",
      ],
      { timeoutMs: 10_000 },
    );
    assert.ok(r.code === 2 || r.code === 3, `exit ${r.code}: ${r.err.slice(-400)}`);
    assert.ok(
      r.err.includes(p) || r.err.includes(join(d, "tokenizer.json")),
      `names the template's file: ${r.err.slice(-400)}`,
    );
    assert.doesNotMatch(r.err, /\n\s+at /);
  },
  30_000,
);

// Table-driven checks of every registered op and every composite, in float64 through onnxruntime:
// forward parity with the reference interpreter, backward parity (the emitted gradient graph evaluated by
// both), and gradients vs central finite differences. A completeness test fails when a row is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as E from "../../../src/engine";
import * as C from "../../../src/engine/composites";
import { Domain, f64, i64, maxAbs, maxAbsDiff, rng, sample, session } from "./helpers";

type Tn = E.Tensor;

interface Row {
  name: string;
  /** Registered op names or composite function names this row exercises. */
  covers: string[];
  inputs: { dims: number[]; domain?: Domain }[];
  build: (g: E.Graph, xs: Tn[]) => Tn;
  /** Parity only: the op has no gradient by declaration. */
  nonDiff?: boolean;
  h?: number;
  tol?: number;
  /** Forward parity tolerance (the reference computes float32 ops in float64). */
  parityTol?: number;
}

const BIG = E.SLICE_END;
const c64 = (g: E.Graph, name: string, dims: number[], data: number[]) => g.constant(name, f64(dims, data));
const ci = (g: E.Graph, name: string, dims: number[], data: number[]) => g.constant(name, i64(dims, data));
const c32 = (g: E.Graph, name: string, dims: number[], data: number[]) =>
  g.constant(name, { dtype: "int32", dims, data: Int32Array.from(data) });
const cb = (g: E.Graph, name: string, dims: number[], data: number[]) =>
  g.constant(name, { dtype: "bool", dims, data: Uint8Array.from(data) });

const ROWS: Row[] = [
  {
    name: "add broadcast",
    covers: ["Add"],
    inputs: [{ dims: [2, 3] }, { dims: [3] }],
    build: (_, [a, b]) => E.add(a!, b!),
  },
  {
    name: "sub two-way broadcast",
    covers: ["Sub"],
    inputs: [{ dims: [2, 1, 3] }, { dims: [4, 1] }],
    build: (_, [a, b]) => E.sub(a!, b!),
  },
  {
    name: "mul broadcast",
    covers: ["Mul"],
    inputs: [{ dims: [2, 3] }, { dims: [2, 1] }],
    build: (_, [a, b]) => E.mul(a!, b!),
  },
  {
    name: "div",
    covers: ["Div"],
    inputs: [{ dims: [2, 3] }, { dims: [3], domain: "pos" }],
    build: (_, [a, b]) => E.div(a!, b!),
  },
  {
    name: "pow",
    covers: ["Pow"],
    inputs: [{ dims: [2, 3], domain: "pos" }, { dims: [2, 3] }],
    build: (_, [a, b]) => E.pow(a!, b!),
  },
  {
    name: "min",
    covers: ["Min"],
    inputs: [{ dims: [2, 3] }, { dims: [2, 3] }],
    build: (_, [a, b]) => E.minimum(a!, b!),
  },
  { name: "max", covers: ["Max"], inputs: [{ dims: [2, 3] }, { dims: [3] }], build: (_, [a, b]) => E.maximum(a!, b!) },
  { name: "neg", covers: ["Neg"], inputs: [{ dims: [2, 3] }], build: (_, [a]) => E.neg(a!) },
  { name: "exp", covers: ["Exp"], inputs: [{ dims: [2, 3] }], build: (_, [a]) => E.exp(a!) },
  { name: "log", covers: ["Log"], inputs: [{ dims: [2, 3], domain: "pos" }], build: (_, [a]) => E.log(a!) },
  { name: "sqrt", covers: ["Sqrt"], inputs: [{ dims: [2, 3], domain: "pos" }], build: (_, [a]) => E.sqrt(a!) },
  {
    name: "reciprocal",
    covers: ["Reciprocal"],
    inputs: [{ dims: [2, 3], domain: "pos" }],
    build: (_, [a]) => E.reciprocal(a!),
  },
  { name: "sigmoid", covers: ["Sigmoid"], inputs: [{ dims: [2, 3] }], build: (_, [a]) => E.sigmoid(a!) },
  { name: "tanh", covers: ["Tanh"], inputs: [{ dims: [2, 3] }], build: (_, [a]) => E.tanh(a!) },
  { name: "abs", covers: ["Abs"], inputs: [{ dims: [2, 3] }], build: (_, [a]) => E.abs(a!) },
  { name: "identity", covers: ["Identity"], inputs: [{ dims: [2, 3] }], build: (_, [a]) => E.mul(E.identity(a!), a!) },
  {
    name: "where",
    covers: ["Where"],
    inputs: [{ dims: [2, 3] }, { dims: [3] }],
    build: (g, [a, b]) => E.where(cb(g, "c", [2, 3], [1, 0, 1, 0, 0, 1]), a!, b!),
  },
  // float64 -> float32 -> float64 is linear up to float32 rounding: a wider step and tolerance
  {
    name: "cast",
    covers: ["Cast"],
    inputs: [{ dims: [2, 3] }],
    build: (_, [a]) => E.cast(E.mul(E.cast(a!, "float32"), 3), "float64"),
    h: 1e-2,
    tol: 1e-5,
    parityTol: 1e-6,
  },
  {
    name: "reshape",
    covers: ["Reshape"],
    inputs: [{ dims: [2, 3, 2] }],
    build: (_, [a]) => E.mul(E.reshape(a!, [3, 4]), E.reshape(a!, [3, 4])),
  },
  {
    name: "transpose",
    covers: ["Transpose"],
    inputs: [{ dims: [2, 3, 4] }],
    build: (_, [a]) => E.transpose(a!, [2, 0, 1]),
  },
  {
    name: "slice",
    covers: ["Slice"],
    inputs: [{ dims: [4, 5] }],
    build: (_, [a]) => E.slice(a!, [1, -3], [3, BIG], [0, 1]),
  },
  {
    name: "pad",
    covers: ["Pad"],
    inputs: [{ dims: [2, 3] }],
    build: (_, [a]) => E.mul(E.pad(a!, [1, 0, 0, 2]), E.pad(a!, [1, 0, 0, 2])),
  },
  {
    name: "concat",
    covers: ["Concat"],
    inputs: [{ dims: [2, 3] }, { dims: [2, 2] }],
    build: (_, [a, b]) => E.concat([a!, b!, a!], 1),
  },
  { name: "expand", covers: ["Expand"], inputs: [{ dims: [3, 1] }], build: (_, [a]) => E.expand(a!, [2, 3, 4]) },
  {
    name: "expandLike",
    covers: ["ExpandLike"],
    inputs: [{ dims: [3, 1] }, { dims: [2, 3, 4] }],
    build: (_, [a, b]) => E.mul(E.expandLike(a!, b!), b!),
  },
  {
    name: "zerosLike",
    covers: ["ZerosLike"],
    inputs: [{ dims: [2, 3] }],
    build: (_, [a]) => E.add(E.zerosLike(a!), E.mul(a!, a!)),
  },
  {
    name: "reshapeLike",
    covers: ["ReshapeLike"],
    inputs: [{ dims: [6] }, { dims: [2, 3] }],
    build: (_, [a, b]) => E.mul(E.reshapeLike(a!, b!), b!),
  },
  {
    name: "restoreLeading",
    covers: ["RestoreLeading"],
    inputs: [{ dims: [6, 2] }, { dims: [2, 3, 4] }],
    build: (_, [y, like]) => E.mul(E.restoreLeading(y!, like!), 2),
  },
  {
    name: "reduceSum",
    covers: ["ReduceSum"],
    inputs: [{ dims: [2, 3, 4] }],
    build: (_, [a]) => E.reduceSum(E.mul(a!, a!), [1]),
  },
  {
    name: "reduceMean keepdims",
    covers: ["ReduceMean"],
    inputs: [{ dims: [2, 3, 4] }],
    build: (_, [a]) => E.reduceMean(E.mul(a!, a!), [0, 2], true),
  },
  {
    name: "reduceSumSquare",
    covers: ["ReduceSumSquare"],
    inputs: [{ dims: [2, 3, 4] }],
    build: (_, [a]) => E.reduceSumSquare(a!, [0, 2]),
  },
  { name: "reduceMax", covers: ["ReduceMax"], inputs: [{ dims: [2, 5] }], build: (_, [a]) => E.reduceMax(a!, [1]) },
  {
    name: "matMul 2-D weight",
    covers: ["MatMul"],
    inputs: [{ dims: [2, 3, 4] }, { dims: [4, 5] }],
    build: (_, [a, b]) => E.matMul(a!, b!),
  },
  {
    name: "matMul batched broadcast",
    covers: ["MatMul"],
    inputs: [{ dims: [2, 2, 3, 4] }, { dims: [2, 1, 4, 2] }],
    build: (_, [a, b]) => E.matMul(a!, b!),
  },
  {
    name: "gemm",
    covers: ["Gemm"],
    inputs: [{ dims: [3, 4] }, { dims: [4, 2] }],
    build: (_, [a, b]) => E.gemm(a!, b!),
  },
  {
    name: "gemm transA",
    covers: ["Gemm"],
    inputs: [{ dims: [4, 3] }, { dims: [4, 2] }],
    build: (_, [a, b]) => E.gemm(a!, b!, { transA: true }),
  },
  {
    name: "gemm transB",
    covers: ["Gemm"],
    inputs: [{ dims: [3, 4] }, { dims: [2, 4] }],
    build: (_, [a, b]) => E.gemm(a!, b!, { transB: true }),
  },
  {
    name: "gemm transA transB",
    covers: ["Gemm"],
    inputs: [{ dims: [4, 3] }, { dims: [2, 4] }],
    build: (_, [a, b]) => E.gemm(a!, b!, { transA: true, transB: true }),
  },
  { name: "softmax", covers: ["Softmax", "softmax"], inputs: [{ dims: [2, 5] }], build: (_, [a]) => E.softmax(a!) },
  {
    name: "logSoftmax axis 0",
    covers: ["LogSoftmax", "logSoftmax"],
    inputs: [{ dims: [3, 4] }],
    build: (_, [a]) => E.logSoftmax(a!, 0),
  },
  {
    name: "gather duplicate ids",
    covers: ["Gather", "embedding"],
    inputs: [{ dims: [5, 3] }],
    build: (g, [a]) => C.embedding(a!, ci(g, "ids", [2, 2], [1, 4, 1, 0])),
  },
  {
    // int32 ids: the gradient is a ScatterElements over [V, R] instead of ScatterND (int64-only)
    name: "gather int32 duplicate ids, 3-D data",
    covers: ["Gather"],
    inputs: [{ dims: [5, 2, 3] }],
    build: (g, [a]) => E.mul(C.embedding(a!, c32(g, "ids", [3, 2], [1, 4, 1, 0, 4, 4])), 1.5),
  },
  {
    name: "gatherElements",
    covers: ["GatherElements"],
    inputs: [{ dims: [3, 4] }],
    build: (g, [a]) => E.gatherElements(a!, ci(g, "ids", [3, 2], [0, 3, 2, 2, 1, -1]), 1),
  },
  {
    name: "gatherND",
    covers: ["GatherND"],
    inputs: [{ dims: [3, 4] }],
    build: (g, [a]) => E.gatherND(a!, ci(g, "ids", [3, 2], [0, 1, 2, 3, 0, 1])),
  },
  {
    name: "scatterND",
    covers: ["ScatterND"],
    inputs: [{ dims: [6] }, { dims: [2] }],
    build: (g, [a, b]) => E.mul(E.scatterND(a!, ci(g, "ids", [2, 1], [1, 4]), b!), a!),
  },
  {
    name: "scatterND add rows",
    covers: ["ScatterND"],
    inputs: [{ dims: [4, 2] }, { dims: [3, 2] }],
    build: (g, [a, b]) => E.scatterND(a!, ci(g, "ids", [3, 1], [1, 3, 1]), b!, "add"),
  },
  {
    name: "scatterElements",
    covers: ["ScatterElements"],
    inputs: [{ dims: [3, 4] }, { dims: [3, 1] }],
    build: (g, [a, b]) => E.mul(E.scatterElements(a!, ci(g, "ids", [3, 1], [2, 0, 3]), b!, 1), a!),
  },
  {
    name: "scatterElements add",
    covers: ["ScatterElements"],
    inputs: [{ dims: [3, 4] }, { dims: [3, 2] }],
    build: (g, [a, b]) => E.scatterElements(a!, ci(g, "ids", [3, 2], [2, 2, 0, 1, 3, 3]), b!, 1, "add"),
  },
  {
    name: "softmaxCrossEntropy nll and log_prob",
    covers: ["CrossEntropyRows"],
    inputs: [{ dims: [4, 5] }],
    build: (g, [x]) => {
      const r = E.softmaxCrossEntropy(x!, ci(g, "y", [4], [2, -100, 0, 4]));
      return E.add(E.unsqueeze(r.nll, [-1]), E.mul(r.logProb, 0.3));
    },
  },
  {
    name: "softmaxCrossEntropy int32 labels",
    covers: ["CrossEntropyRows"],
    inputs: [{ dims: [3, 5] }],
    build: (g, [x]) => E.softmaxCrossEntropy(x!, c32(g, "y", [3], [-100, 4, 1])).nll,
  },
  {
    name: "klLogits both arguments",
    covers: ["KLDivLogits"],
    inputs: [{ dims: [2, 3, 5] }, { dims: [2, 3, 5] }],
    build: (_, [a, b]) => {
      const f = E.klLogits(a!, b!);
      return E.add(
        E.add(f.kl, E.mul(E.klLogits(b!, a!).kl, 0.5)),
        E.reduceSum(E.mul(E.add(f.logP, f.logQ), 0.1), [-1]),
      );
    },
  },
  // declared non-differentiable: forward parity only
  { name: "sign", covers: ["Sign"], nonDiff: true, inputs: [{ dims: [2, 3] }], build: (_, [a]) => E.sign(a!) },
  { name: "equal", covers: ["Equal"], nonDiff: true, inputs: [{ dims: [2, 3] }], build: (_, [a]) => E.equal(a!, a!) },
  {
    name: "compare",
    covers: ["Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Not", "And"],
    nonDiff: true,
    inputs: [{ dims: [2, 3] }, { dims: [3] }],
    build: (_, [a, b]) =>
      E.concat(
        [
          E.less(a!, b!),
          E.lessOrEqual(a!, b!),
          E.greater(a!, b!),
          E.not(E.greaterOrEqual(a!, b!)),
          E.and(E.less(a!, 0.5), E.greater(a!, b!)),
        ],
        0,
      ),
  },

  // composites
  {
    name: "rmsNorm",
    covers: ["rmsNorm"],
    inputs: [{ dims: [2, 3, 4] }, { dims: [4] }],
    build: (_, [x, w]) => C.rmsNorm(x!, w!, 1e-5),
  },
  { name: "silu", covers: ["silu"], inputs: [{ dims: [2, 5] }], build: (_, [x]) => C.silu(x!) },
  {
    name: "swiglu",
    covers: ["swiglu"],
    inputs: [{ dims: [2, 5] }, { dims: [2, 5] }],
    build: (_, [a, b]) => C.swiglu(a!, b!),
  },
  {
    name: "linear + bias",
    covers: ["linear"],
    inputs: [{ dims: [2, 3, 4] }, { dims: [5, 4] }, { dims: [5] }],
    build: (_, [x, w, b]) => C.linear(x!, w!, b!),
  },
  {
    name: "rope",
    covers: ["rope", "ropeTables"],
    inputs: [{ dims: [1, 2, 3, 4] }],
    build: (g, [x]) => {
      const t = C.ropeTables(3, 4, 10000, 2, undefined, "float64");
      return C.rope(x!, g.constant("cos", t.cos), g.constant("sin", t.sin));
    },
  },
  {
    name: "attention causal",
    covers: ["attention", "causalMaskData"],
    inputs: [{ dims: [1, 2, 3, 4] }, { dims: [1, 2, 3, 4] }, { dims: [1, 2, 3, 4] }],
    build: (_, [q, k, v]) => C.attention(q!, k!, v!),
  },
  {
    name: "attention GQA with mask",
    covers: ["attention"],
    inputs: [{ dims: [2, 4, 3, 2] }, { dims: [2, 2, 3, 2] }, { dims: [2, 2, 3, 2] }],
    build: (g, [q, k, v]) => C.attention(q!, k!, v!, { mask: cb(g, "m", [2, 1, 1, 1, 3], [1, 1, 1, 0, 1, 1]) }),
  },
  {
    name: "crossEntropy ignore",
    covers: ["crossEntropy"],
    inputs: [{ dims: [2, 3, 5] }],
    build: (g, [x]) => C.crossEntropy(x!, ci(g, "y", [2, 3], [4, -100, 0, 2, 2, -100])).loss,
  },
  {
    name: "pickLogProbs",
    covers: ["pickLogProbs"],
    inputs: [{ dims: [2, 5] }],
    build: (g, [x]) => C.pickLogProbs(E.logSoftmax(x!), ci(g, "y", [2], [3, 0])),
  },
  {
    name: "kl forward and reverse",
    covers: ["kl"],
    inputs: [{ dims: [2, 5] }, { dims: [2, 5] }],
    build: (_, [a, b]) => {
      const p = E.logSoftmax(a!),
        q = E.logSoftmax(b!);
      return E.add(C.kl(p, q), E.mul(C.kl(q, p), 0.5));
    },
  },
  {
    name: "maskedMean",
    covers: ["maskedMean"],
    inputs: [{ dims: [2, 3] }],
    build: (g, [x]) => C.maskedMean(E.mul(x!, x!), c64(g, "m", [1, 3], [1, 0, 1])),
  },
];

/** Composite exports that are functions of tensors (helpers that only make host data are covered via rows too). */
const COMPOSITES = Object.entries(C)
  .filter(([k, v]) => typeof v === "function" && k !== "transpose")
  .map(([k]) => k);

test("every registered op and composite has a gradient/parity row", () => {
  const covered = new Set(ROWS.flatMap((r) => r.covers));
  const missing = [...E.registeredOps().map((o) => o.name), ...COMPOSITES].filter((n) => !covered.has(n));
  assert.deepEqual(missing, [], `rows missing for: ${missing.join(", ")}`);
  const gradRows = new Set(ROWS.filter((r) => !r.nonDiff).flatMap((r) => r.covers));
  const noGrad = E.registeredOps()
    .filter((o) => !o.nonDifferentiable && !gradRows.has(o.name))
    .map((o) => o.name);
  assert.deepEqual(noGrad, [], `differentiable ops without a gradient row: ${noGrad.join(", ")}`);
  const notInRef = E.registeredOps()
    .map((o) => o.name)
    .filter((n) => !E.REFERENCE_OPS.includes(n));
  assert.deepEqual(notInRef, [], `reference interpreter lacks: ${notInRef.join(", ")}`);
});

for (const [ri, row] of ROWS.entries()) {
  test(`op ${row.name}: forward parity${row.nonDiff ? "" : ", gradient vs finite differences"}`, async () => {
    const r = rng(1000 + ri);
    const g = new E.Graph(`row${ri}`);
    const xs = row.inputs.map((inp, i) => g.input(`x${i}`, "float64", inp.dims));
    let out = row.build(g, xs);
    if (out.dtype !== "float64") out = E.cast(out, "float64");
    const dims = out.shape as number[];
    const n = dims.reduce((a, b) => a * b, 1);
    const feeds = Object.fromEntries(
      row.inputs.map((inp, i) => [
        `x${i}`,
        f64(
          inp.dims,
          sample(
            r,
            inp.dims.reduce((a, b) => a * b, 1),
            inp.domain ?? "any",
          ),
        ),
      ]),
    );
    g.output("out", out);
    let grads: Tn[] = [];
    if (!row.nonDiff) {
      const R = g.constant("R", f64(dims, sample(r, n, "any")));
      const loss = E.sumAll(E.mul(out, R));
      g.output("loss", loss);
      grads = E.grad(loss, xs);
      grads.forEach((gr, i) => g.output(`g${i}`, gr));
    }
    const s = await session(g);
    try {
      const res = await s.run(feeds);
      const ref = E.evaluate(g, feeds, [out, ...grads]);
      const o = res.out!.data as Float64Array;
      assert.ok(
        maxAbsDiff(o, ref[0]!.data) <= (row.parityTol ?? 1e-9) * (1 + maxAbs(o)),
        `forward parity: ${o} vs ${ref[0]!.data}`,
      );
      if (row.nonDiff) return;
      const h = row.h ?? 1e-6,
        tol = row.tol ?? 1e-6;
      for (let i = 0; i < xs.length; i++) {
        const an = res[`g${i}`]!.data as Float64Array;
        assert.ok(
          maxAbsDiff(an, ref[i + 1]!.data) <= (row.parityTol ?? 1e-9) * (1 + maxAbs(an)),
          `backward parity with reference for input ${i}`,
        );
        const base = feeds[`x${i}`]!.data as Float64Array;
        const fd = new Float64Array(base.length);
        for (let j = 0; j < base.length; j++) {
          const v = base[j]!;
          const at = async (x: number) => {
            const d = base.slice();
            d[j] = x;
            const out = await s.run({ ...feeds, [`x${i}`]: f64(row.inputs[i]!.dims, d) }, ["loss"]);
            return (out.loss!.data as Float64Array)[0]!;
          };
          fd[j] = ((await at(v + h)) - (await at(v - h))) / (2 * h);
        }
        const err = maxAbsDiff(an, fd) / Math.max(1, maxAbs(fd));
        assert.ok(
          err <= tol,
          `input ${i}: relative error ${err.toExponential(2)} > ${tol}\n analytic ${Array.from(an).map((x) => x.toFixed(6))}\n numeric  ${Array.from(fd).map((x) => x.toFixed(6))}`,
        );
      }
    } finally {
      await s.release();
    }
  });
}

test("an op without a gradient rule is named in the error, and cannot be registered", () => {
  const g = new E.Graph("nograd");
  const x = g.input("x", "float64", [3]);
  // an op applied without registration (as a hand-made extension would) and with no rule
  const ad: E.OpDef = { name: "HandMade", infer: (i) => [{ dtype: i[0]!.dtype, shape: [...i[0]!.shape] }] };
  const [y] = g.apply(ad, [x]);
  assert.throws(() => E.grad(E.sumAll(E.mul(y!, x)), [x]), /no gradient rule for HandMade \(node HandMade#\d+\)/);
  assert.throws(
    () => E.defineOp({ name: "RuleLess", infer: ad.infer }),
    /RuleLess: declare a vjp or mark it nonDifferentiable/,
  );
});

test("frozen branches are not differentiated", () => {
  const g = new E.Graph("frozen");
  const x = g.input("x", "float64", [4]);
  const w = g.input("w", "float64", [4]);
  const frozen = E.exp(E.log(E.mul(w, w))); // depends only on w
  const before = g.nodes.length;
  E.grad(E.sumAll(E.mul(E.sigmoid(x), frozen)), [x]);
  const added = g.nodes.slice(before).map((n) => n.op.name);
  assert.ok(!added.includes("Exp") && !added.includes("Log"), `backward touched the frozen branch: ${added.join(" ")}`);
});

// AdamW + global-norm clipping emitted in-graph vs a plain JS implementation (PyTorch semantics).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as E from "../../../src/engine";
import { f64, i64, maxAbsDiff, rng, sample, session } from "./helpers";

test("in-graph AdamW with clipping and weight decay matches a JS reference over 5 steps", async () => {
  const r = rng(7);
  const g = new E.Graph("adamw");
  const shapes = [[3, 4], [5]];
  const targets = shapes.map((d) => sample(r, d[0]! * (d[1] ?? 1), "any"));
  const coef = shapes.map((d) => sample(r, d[0]! * (d[1] ?? 1), "pos"));
  const ps = shapes.map((d, i) => g.input(`p${i}`, "float64", d));
  // loss = 0.5 * sum(c * (p - t)^2)  ->  dL/dp = c * (p - t)
  const loss = ps
    .map((p, i) => {
      const d = E.sub(p, g.constant(`t${i}`, f64(shapes[i]!, targets[i]!)));
      return E.mul(E.sumAll(E.mul(E.mul(d, d), g.constant(`c${i}`, f64(shapes[i]!, coef[i]!)))), 0.5);
    })
    .reduce((a, b) => E.add(a, b));
  const cfg = { beta1: 0.8, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 0.5 };
  const st = E.trainStep(loss, [{ value: ps[0]! }, { value: ps[1]!, noDecay: true }], cfg);
  const s = await session(g);

  const w = shapes.map((d) => sample(r, d[0]! * (d[1] ?? 1), "any"));
  await s.setState({ p0: f64(shapes[0]!, w[0]!), p1: f64(shapes[1]!, w[1]!), ...E.initialOptimizerState(st) });
  // JS reference state
  const p = w.map((x) => Float64Array.from(x));
  const m = w.map((x) => new Float64Array(x.length));
  const v = w.map((x) => new Float64Array(x.length));
  const lr = 0.05;
  for (let t = 1; t <= 5; t++) {
    const out = await s.step(
      {
        lr: { dtype: "float32", dims: [], data: Float32Array.of(lr) },
        step: { dtype: "float32", dims: [], data: Float32Array.of(t) },
      },
      { carry: st.carry, fetch: ["loss", "grad_norm"] },
    );
    const grads = p.map((x, i) => x.map((xi, j) => coef[i]![j]! * (xi - targets[i]![j]!)));
    const norm = Math.sqrt(grads.reduce((a, gr) => a + gr.reduce((b, x) => b + x * x, 0), 0));
    const gn = (out.grad_norm!.data as Float64Array)[0]!;
    assert.ok(Math.abs(gn - norm) < 1e-6 * (1 + norm), `step ${t} grad norm ${gn} vs ${norm}`);
    const scale = Math.min(1, cfg.maxGradNorm / (norm + 1e-6));
    const lrF = Math.fround(lr);
    const bc1 = 1 - Math.pow(cfg.beta1, t),
      bc2 = 1 - Math.pow(cfg.beta2, t);
    p.forEach((x, i) => {
      for (let j = 0; j < x.length; j++) {
        const gj = grads[i]![j]! * scale;
        m[i]![j] = cfg.beta1 * m[i]![j]! + (1 - cfg.beta1) * gj;
        v[i]![j] = cfg.beta2 * v[i]![j]! + (1 - cfg.beta2) * gj * gj;
        if (i === 0) x[j] = x[j]! * (1 - lrF * cfg.weightDecay);
        x[j] = x[j]! - ((lrF / bc1) * m[i]![j]!) / (Math.sqrt(v[i]![j]!) / Math.sqrt(bc2) + cfg.eps);
      }
    });
  }
  const got = await s.getState(["p0", "p1"]);
  // lr and the bias corrections are float32 scalars in the graph: agreement to ~1e-7 relative
  assert.ok(maxAbsDiff(got.p0!.data as Float64Array, p[0]!) < 1e-6, `p0 ${got.p0!.data} vs ${p[0]}`);
  assert.ok(maxAbsDiff(got.p1!.data as Float64Array, p[1]!) < 1e-6, `p1 ${got.p1!.data} vs ${p[1]}`);
  // and the update really moved the weights (a no-op optimizer would fail above only by accident)
  assert.ok(maxAbsDiff(got.p0!.data as Float64Array, w[0]!) > 1e-3);
  await s.release();
});

test("sparse parameter: only the listed positions are inputs; bad positions are located errors", () => {
  const g = new E.Graph("sp");
  const frozen = f64([2, 3], [1, 2, 3, 4, 5, 6]);
  const sp = E.sparseParam(g, "w", frozen, [4, 0]);
  assert.equal(sp.values.name, "w.values");
  assert.deepEqual(sp.values.shape, [2]);
  assert.deepEqual(sp.weight.shape, [2, 3]);
  assert.deepEqual(Array.from(E.gatherHost(frozen, [4, 0]).data as Float64Array), [5, 1]);
  assert.throws(
    () => E.sparseParam(new E.Graph("a"), "w", frozen, [1, 6]),
    /sparse w: index 1 = 6 is outside \[0, 6\)/,
  );
  assert.throws(() => E.sparseParam(new E.Graph("b"), "w", frozen, [2, 2]), /sparse w: position 2 appears twice/);
});

test("accumulateGrad over weighted micro-batches + applyGradients equals trainStep on the whole batch (float64, 3 steps)", async () => {
  // Softmax regression, 6 rows of which 4 carry a label: micro-batches of 3 rows hold 3 and 1 labels,
  // so each micro-batch's mean CE counts with its share of the labels (3/4, 1/4), as the trainer does.
  const r = rng(11);
  const x = sample(r, 6 * 3, "any");
  const labels = [0, 2, 1, 3, -100, -100];
  const w0 = sample(r, 4 * 3, "any");
  const cfg = { beta1: 0.8, beta2: 0.95, weightDecay: 0.1, maxGradNorm: 0.1 };
  const lrFeed = { lr: { dtype: "float32" as const, dims: [], data: Float32Array.of(0.05) } };
  const stepFeed = (t: number) => ({ step: { dtype: "float32" as const, dims: [], data: Float32Array.of(t) } });

  const whole = new E.Graph("whole");
  const W = whole.input("W", "float64", [4, 3]);
  const { loss } = E.crossEntropy(
    E.linear(whole.constant("x", f64([6, 3], x)), W),
    whole.constant("y", i64([6], labels)),
  );
  const ts = E.trainStep(loss, [{ value: W }], cfg);

  const micro = new E.Graph("micro");
  const Wm = micro.input("W", "float64", [4, 3]);
  const share = micro.input("share", "float64", []);
  const ce = E.crossEntropy(E.linear(micro.input("x", "float64", [3, 3]), Wm), micro.input("y", "int64", [3])).loss;
  const acc = E.accumulateGrad(E.mul(ce, share), [{ value: Wm }]);
  assert.deepEqual(acc.accInputs, [{ name: "W.acc", dtype: "float64", dims: [4, 3] }]);

  const apply = new E.Graph("apply");
  const update = E.applyGradients(
    [{ value: apply.input("W", "float64", [4, 3]), grad: apply.input("W.acc", "float64", [4, 3]) }],
    cfg,
  );
  const moments = Object.fromEntries(Object.entries(update.carry).filter(([, i]) => i !== "W"));

  const [sw, sm, sa] = await Promise.all([session(whole), session(micro), session(apply)]);
  await sw.setState({ W: f64([4, 3], w0), ...E.initialOptimizerState(ts) });
  await sm.setState({ W: f64([4, 3], w0), "W.acc": f64([4, 3], new Float64Array(12)) });
  await sa.setState(E.initialOptimizerState(update));
  for (let t = 1; t <= 3; t++) {
    const a = await sw.step({ ...lrFeed, ...stepFeed(t) }, { carry: ts.carry, fetch: ["grad_norm"] });
    for (const [k, rows] of [
      [0, 3],
      [3, 6],
    ] as const) {
      await sm.step(
        {
          x: f64([3, 3], x.subarray(k * 3, rows * 3)),
          y: i64([3], labels.slice(k, rows)),
          share: f64([], [k === 0 ? 3 / 4 : 1 / 4]),
          acc_keep: { dtype: "float32", dims: [], data: Float32Array.of(k === 0 ? 0 : 1) },
        },
        { carry: acc.carry, fetch: ["loss"] },
      );
    }
    const held = await sm.getState(["W", "W.acc"]);
    const b = await sa.step({ ...held, ...lrFeed, ...stepFeed(t) }, { carry: moments, fetch: ["W:next", "grad_norm"] });
    await sm.setState({ W: b["W:next"]! });
    const na = (a.grad_norm!.data as Float64Array)[0]!,
      nb = (b.grad_norm!.data as Float64Array)[0]!;
    assert.ok(Math.abs(na - nb) < 1e-12, `step ${t} grad norm ${na} vs ${nb}`);
    assert.ok(na > cfg.maxGradNorm, `clipping engaged at step ${t} (norm ${na})`);
  }
  const wa = (await sw.getState(["W"])).W!.data as Float64Array;
  const wb = (await sm.getState(["W"])).W!.data as Float64Array;
  assert.ok(maxAbsDiff(wa, wb) < 1e-12, `W ${wa} vs ${wb}`);
  assert.ok(maxAbsDiff(wa, w0) > 1e-2, "the steps moved W");
  await Promise.all([sw.release(), sm.release(), sa.release()]);
});

test("loss scaling: the update of loss x scale, unscaled, equals the plain one; an overflow leaves params and moments as they were", async () => {
  const build = (lossScale: boolean) => {
    const g = new E.Graph("scaled");
    const p = g.input("p", "float32", [4]);
    const t = g.constant("t", { dtype: "float32", dims: [4], data: Float32Array.of(1, -2, 0.5, 3) });
    const d = E.sub(p, t);
    const st = E.trainStep(E.mul(E.sumAll(E.mul(d, d)), 0.5), [{ value: p }], { maxGradNorm: 10, lossScale });
    return { g, st };
  };
  const plain = build(false),
    scaled = build(true);
  assert.equal(scaled.st.lossScaleInput, "loss_scale");
  assert.equal(plain.st.lossScaleInput, undefined);
  const s1 = await session(plain.g),
    s2 = await session(scaled.g);
  const init = { p: { dtype: "float32" as const, dims: [4], data: Float32Array.of(0, 0, 0, 0) } };
  await s1.setState({ ...init, ...E.initialOptimizerState(plain.st) });
  await s2.setState({ ...init, ...E.initialOptimizerState(scaled.st) });
  const f = (v: number) => ({ dtype: "float32" as const, dims: [], data: Float32Array.of(v) });
  const fetch = ["grad_norm"];
  for (let t = 1; t <= 2; t++) {
    await s1.step({ lr: f(0.1), step: f(t) }, { carry: plain.st.carry, fetch });
    // a power of two: scaling and unscaling are exact
    await s2.step({ lr: f(0.1), step: f(t), loss_scale: f(1024) }, { carry: scaled.st.carry, fetch });
  }
  const names = ["p", "p.m", "p.v"];
  const [a, b] = [await s1.getState(names), await s2.getState(names)];
  for (const n of names) assert.deepEqual(b[n]!.data, a[n]!.data, n);
  // loss x 3e38 overflows float32: grad_norm is inf and nothing moves
  const out = await s2.step({ lr: f(0.1), step: f(3), loss_scale: f(3e38) }, { carry: scaled.st.carry, fetch });
  assert.equal(Number(out.grad_norm!.data[0]), Infinity);
  const c = await s2.getState(names);
  for (const n of names) assert.deepEqual(c[n]!.data, b[n]!.data, `${n} unchanged by the overflowed step`);
});

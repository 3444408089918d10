import { test } from "node:test";
import assert from "node:assert/strict";
import { relativeL2Shift, cosine, layerDisplacement, pca2, separationScore } from "../../../src/eval/index";

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test("relative L2 shift and cosine on known vectors", () => {
  assert.equal(relativeL2Shift([3, 4], [3, 4]), 0);
  assert.equal(relativeL2Shift([3, 4], [6, 8]), 1);
  assert.equal(relativeL2Shift([3, 4], [3, 4 + 5]), 1);
  assert.equal(relativeL2Shift([0, 0], [0, 0]), 0);
  assert.equal(relativeL2Shift([0, 0], [1, 0]), Infinity);
  assert.equal(cosine([1, 0], [0, 1]), 0);
  assert.equal(cosine([1, 0], [-2, 0]), -1);
  close(cosine([1, 1], [2, 2]), 1);
  assert.equal(cosine([0, 0], [0, 0]), 1);
  assert.equal(cosine([0, 0], [1, 0]), 0);
  assert.throws(() => cosine([1], [1, 2]), /lengths differ \(1 vs 2\)/);
});

test("layer displacement averages over queries per layer", () => {
  const base = [
    [
      [1, 0],
      [3, 4],
    ],
    [
      [0, 1],
      [3, 4],
    ],
  ];
  const tuned = [
    [
      [1, 0],
      [6, 8],
    ],
    [
      [1, 0],
      [3, 4],
    ],
  ];
  const d = layerDisplacement(base, tuned);
  assert.equal(d.length, 2);
  assert.equal(d[0].layer, 0);
  close(d[0].meanRelativeShift, (0 + Math.SQRT2) / 2);
  close(d[0].meanCosine, (1 + 0) / 2);
  close(d[1].meanRelativeShift, (1 + 0) / 2);
  close(d[1].meanCosine, 1);
  assert.throws(() => layerDisplacement(base, tuned.slice(1)), /2 base queries vs 1 tuned/);
});

test("PCA by power iteration recovers axis-aligned components and variances", () => {
  const pts = [
    [-2, 0, 5],
    [2, 0, 5],
    [0, 1, 5],
    [0, -1, 5],
  ];
  const p = pca2(pts);
  assert.deepEqual([...p.mean], [0, 0, 5]);
  close(p.variances[0], 2);
  close(p.variances[1], 0.5);
  close(p.totalVariance, 2.5);
  close(p.components[0][0], 1, 1e-9);
  close(Math.abs(p.components[0][1]) + Math.abs(p.components[0][2]), 0, 1e-9);
  close(p.components[1][1], 1, 1e-9);
  close(p.points[0][0], -2, 1e-9);
  close(p.points[2][1], 1, 1e-9);
});

test("PCA of a rotated cloud finds the diagonal; collinear data gets a zero-variance orthogonal second axis", () => {
  const s = Math.SQRT1_2;
  const p = pca2([
    [3, 3],
    [-3, -3],
    [1, -1],
    [-1, 1],
  ]);
  close(p.variances[0], 9);
  close(p.variances[1], 1);
  close(p.components[0][0], s, 1e-9);
  close(p.components[0][1], s, 1e-9);
  const line = pca2([
    [1, 2],
    [2, 4],
    [3, 6],
  ]);
  close(line.variances[1], 0, 1e-12);
  close(
    Math.abs(line.components[0][0] * line.components[1][0] + line.components[0][1] * line.components[1][1]),
    0,
    1e-9,
  );
  assert.throws(() => pca2([]), /no points/);
  assert.throws(() => pca2([[1, 2], [1]]), /point 1 has length 1, expected 2/);
});

test("separation score: centroid distance over pooled spread", () => {
  assert.equal(
    separationScore(
      [
        [0, 0],
        [2, 0],
      ],
      [
        [10, 0],
        [12, 0],
      ],
    ),
    10,
  );
  close(
    separationScore(
      [
        [0, 0],
        [2, 0],
      ],
      [
        [10, 0],
        [14, 0],
      ],
    ),
    11 / Math.sqrt((1 + 4) / 2),
  );
  assert.equal(separationScore([[1, 1]], [[1, 1]]), 0);
  assert.equal(separationScore([[1, 1]], [[2, 1]]), Infinity);
});

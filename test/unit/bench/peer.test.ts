// The PyTorch peer's environment: OpenBLAS's kernels chosen from the CPU's instruction set, since on a
// CPU model it does not recognise OpenBLAS falls back to generic SSE3 kernels (5x slower, bench/README.md).
import { test } from "node:test";
import assert from "node:assert/strict";
import { openBlasCoreFor, torchEnv } from "../../../src/bench/index";

test("OpenBLAS kernel family from the CPU flags: AVX-512 -> SkylakeX, AVX2+FMA -> Haswell, AVX -> SandyBridge, else OpenBLAS's own choice", () => {
  const f = (s: string) => new Set(s.split(" "));
  assert.equal(openBlasCoreFor(f("sse3 avx avx2 fma avx512f avx512bw avx512vl avx512dq avx512cd")), "SkylakeX");
  assert.equal(openBlasCoreFor(f("sse3 avx avx2 fma avx512f")), "Haswell", "a partial AVX-512 set is not SkylakeX");
  assert.equal(openBlasCoreFor(f("sse3 avx avx2 fma")), "Haswell");
  assert.equal(openBlasCoreFor(f("sse3 avx")), "SandyBridge");
  assert.equal(openBlasCoreFor(f("sse3 sse4_2")), undefined);
});

test("the peer's environment: passive OpenMP waits, the thread count, and the kernel family unless the user set one", () => {
  const saved = process.env.OPENBLAS_CORETYPE;
  try {
    delete process.env.OPENBLAS_CORETYPE;
    assert.deepEqual(torchEnv(2, new Set(["avx", "avx2", "fma"])), {
      OMP_WAIT_POLICY: "PASSIVE",
      OMP_NUM_THREADS: "2",
      OPENBLAS_NUM_THREADS: "2",
      OPENBLAS_CORETYPE: "Haswell",
    });
    assert.equal(torchEnv(1, new Set(["sse3"])).OPENBLAS_CORETYPE, undefined);
    process.env.OPENBLAS_CORETYPE = "Zen";
    assert.equal(torchEnv(2, new Set(["avx", "avx2", "fma"])).OPENBLAS_CORETYPE, "Zen", "the user's choice wins");
  } finally {
    if (saved === undefined) delete process.env.OPENBLAS_CORETYPE;
    else process.env.OPENBLAS_CORETYPE = saved;
  }
});

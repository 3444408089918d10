// Whether half precision executes on a provider (seat/precision.ts decides when it is wanted).
import * as E from "../engine";
import { createSession, type Provider } from "./session";

/**
 * Runs one float16 Add on the provider: a WebGPU adapter without the shader-f16 feature (SwiftShader,
 * some integrated GPUs) accepts float16 sessions and fails on the first run, so this asks first.
 * Returns undefined when float16 works there, else the reason in one line.
 */
export async function halfPrecisionProblem(
  provider: Provider,
  compute: "float16" | "bfloat16",
): Promise<string | undefined> {
  const g = new E.Graph("half-probe");
  g.output("y", E.cast(E.add(E.cast(g.input("x", "float32", [4]), compute), 1), "float32"));
  let s;
  try {
    s = await createSession(E.toOnnx(g), { provider });
    if (s.provider === "cpu") return `no GPU provider took the session (${s.fallbackReason ?? "it fell back to cpu"})`;
    const out = await s.run({ x: E.hostTensor("float32", [4], [0.5, -1, 2, 3]) });
    const y = Array.from(out.y!.data as Float32Array);
    if (y.join(",") !== "1.5,0,3,4") return `a ${compute} Add on ${provider} returned ${y.join(",")}`;
    return undefined;
  } catch (e) {
    const m = (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
    if (/requires f16/i.test(m)) return `this ${provider} adapter has no shader-f16 support (float16 shaders)`;
    return m.length > 200 ? m.slice(0, 200) + "..." : m;
  } finally {
    await s?.release();
  }
}

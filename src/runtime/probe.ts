// Which provider "auto" ends up with on this machine, found by opening a one-node model.
import { Graph, add, toOnnx } from "../engine";
import { createSession, Provider } from "./session";

let cached: Promise<string> | null = null;

/** e.g. "cpu (webgpu: no GPU adapter found (...))" — for `seat models` and the status bar. */
export function describeExecutionProvider(provider: Provider = "auto"): Promise<string> {
  if (!cached || provider !== "auto") {
    const p = (async () => {
      const g = new Graph("probe");
      const x = g.input("x", "float32", [1]);
      g.output("y", add(x, 1));
      const s = await createSession(toOnnx(g), { provider });
      const d = s.fallbackReason ? `${s.provider} (${s.fallbackReason})` : s.provider;
      await s.release();
      return d;
    })();
    if (provider !== "auto") return p;
    cached = p;
  }
  return cached;
}

import { buildEmbeddedModel } from "./src/world/build";
const r = await buildEmbeddedModel({ outDir: "/tmp/wb/smoke/out", workDir: "/tmp/wb/smoke/work", maxSteps: 3, threads: 1, log: (l) => console.log(l) });
console.log(r.gates.passed, r.parameters);

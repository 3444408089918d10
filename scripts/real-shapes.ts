// Writes the real-shape fixture folders (see test/fixtures/realShapes.ts):
//   npx tsx scripts/real-shapes.ts [shape...]        (default: all three) -> .cache/real-shapes/<shape>/
import { ensureRealShape, REAL_SHAPES, realShapeParams, type RealShape } from "../test/fixtures/realShapes";

const wanted = process.argv.slice(2);
for (const w of wanted) {
  if (!(REAL_SHAPES as readonly string[]).includes(w)) {
    console.error(`real-shapes: unknown shape "${w}" (known: ${REAL_SHAPES.join(", ")})`);
    process.exit(2);
  }
}
for (const shape of (wanted.length ? wanted : REAL_SHAPES) as RealShape[]) {
  const t0 = Date.now();
  const dir = ensureRealShape(shape);
  console.log(
    `${shape}: ${(realShapeParams(shape) / 1e6).toFixed(1)}M parameters -> ${dir} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
}

// Where the shipped model and examples live, found from the running file so the CLI bundle
// (dist/cli.js), tsx-run sources and tests all resolve the same folders.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** The nearest folder at or above `start` that holds package.json and models/. */
export function findRepoRoot(start: string = __dirname): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "models"))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(start);
    dir = up;
  }
}

export const EMBEDDED_MODEL_DIR = join(findRepoRoot(), "models", "seat-tiny-world");
export const EXAMPLES_DIR = join(findRepoRoot(), "examples");

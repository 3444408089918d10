// Confinement of paths that reach the extension from outside its own code (a restored panel state, a
// dataset's fields, settings): a path is used only if it resolves, symlinks followed, inside one of the
// allowed roots (workspace folders, the runs folder).
import { realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

function real(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    // Not there (yet): resolve its deepest existing ancestor, so a symlinked folder pointing outside
    // cannot smuggle in a path that is only lexically inside a root (a file created there later would
    // land outside). Found by test/unit/reliability/webview.test.ts.
    const abs = resolve(p);
    const parent = dirname(abs);
    return parent === abs ? abs : join(real(parent), basename(abs));
  }
}

/** The resolved real path when `p` lies inside one of `roots`, else undefined. */
export function confinePath(p: string, roots: readonly string[]): string | undefined {
  if (typeof p !== "string" || p.length === 0 || p.includes("\0") || !isAbsolute(p)) return undefined;
  const target = real(p);
  for (const root of roots) {
    const r = real(root);
    const rel = relative(r, target);
    if (rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel))) return target;
  }
  return undefined;
}

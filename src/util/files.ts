// The project's one way to write a file that a crash, a full disk or a cancel must never leave half
// written: write a temporary sibling, fsync it, rename it over the target (and remove the temporary on
// failure). A reader sees the old file or the new one, never a part.
import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { open, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";

export type Chunk = string | Uint8Array;

/** Writes `chunks` to `path` (created or truncated); `fsync`: flush it to the disk before closing. */
export function writeChunks(path: string, chunks: Iterable<Chunk>, fsync = true): void {
  const fd = openSync(path, "w");
  try {
    for (const c of chunks) {
      const b = typeof c === "string" ? Buffer.from(c) : c;
      let off = 0;
      while (off < b.byteLength) off += writeSync(fd, b, off, b.byteLength - off);
    }
    if (fsync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function tempSibling(path: string): string {
  return `${path}.tmp-${process.pid}-${Date.now()}`;
}

/** Runs `write(tmp)` for a temporary sibling of `path`, then renames it into place. */
function viaTemp(path: string, write: (tmp: string) => void): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  try {
    write(tmp);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Writes `content` (one piece, or pieces in order, e.g. a header and tensors) to `path` atomically. */
export function writeFileAtomic(path: string, content: Chunk | Iterable<Chunk>): void {
  const chunks = typeof content === "string" || content instanceof Uint8Array ? [content] : content;
  viaTemp(path, (tmp) => writeChunks(tmp, chunks));
}

/** Copies `from` to `to` atomically. */
export function copyFileAtomic(from: string, to: string): void {
  viaTemp(to, (tmp) => {
    copyFileSync(from, tmp);
    const fd = openSync(tmp, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  });
}

/** fsyncs a folder, so a rename inside it survives a crash (not supported everywhere: then a no-op). */
export function syncFolder(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } catch {
    /* directory fsync is not supported everywhere (Windows) */
  } finally {
    closeSync(fd);
  }
}

/**
 * The streaming form: `write(tmp)` writes the temporary sibling itself (e.g. through a stream); it is
 * fsynced and renamed into place after. Refuses an existing `output` unless `overwrite`.
 */
export async function writeNewFile<T>(
  output: string,
  overwrite: boolean,
  write: (tmp: string) => Promise<T>,
): Promise<T> {
  if (
    !overwrite &&
    (await stat(output).then(
      () => true,
      () => false,
    ))
  )
    throw new Error(`${output} already exists`);
  const tmp = tempSibling(output);
  try {
    const r = await write(tmp);
    const h = await open(tmp, "r+");
    try {
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, output);
    return r;
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

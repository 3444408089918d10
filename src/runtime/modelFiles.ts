// Writing serialized models to disk (needed past 2 GB, where protobuf bytes cannot hold the weights,
// and so that external data is loaded by onnxruntime from files instead of JS memory).
import { closeSync, linkSync, mkdirSync, openSync, statSync, writeSync, existsSync, unlinkSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { SerializedModel } from "../engine";

/** Writes `<dir>/<fileName>` and the external data files it produced beside it; returns the model path. */
export function writeModel(dir: string, fileName: string, m: SerializedModel): string {
  mkdirSync(dir, { recursive: true });
  const modelPath = join(dir, fileName);
  writeChunks(modelPath, [m.model]);
  for (const e of m.external) {
    if (basename(e.path) !== e.path)
      throw new Error(`external file ${e.path}: onnxruntime only accepts a plain file name beside the model`);
    writeChunks(join(dir, e.path), e.chunks);
  }
  return modelPath;
}

function writeChunks(path: string, chunks: Uint8Array[]): void {
  const fd = openSync(path, "w");
  try {
    for (const c of chunks) {
      let off = 0;
      while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Makes an existing weights file (e.g. model.safetensors) visible beside a model written to `dir` so an
 * ExternalRef `location` can point into it. onnxruntime rejects absolute paths, `..` and symlinks, so this
 * uses a hard link (same file system, no copy); the user's file itself is never modified.
 */
export function linkExternal(dir: string, location: string, source: string): void {
  const target = join(dir, location);
  if (existsSync(target)) {
    if (statSync(target).ino === statSync(source).ino) return;
    unlinkSync(target);
  }
  mkdirSync(dir, { recursive: true });
  try {
    linkSync(resolve(source), target);
  } catch (e) {
    throw new Error(
      `cannot hard-link ${source} into ${dir} (${(e as Error).message}); put the model cache on the same file system as the weights`,
    );
  }
}

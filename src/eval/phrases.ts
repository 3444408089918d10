// Loads the abstention phrase list and opening list: the shipped resources/*.txt files, a user's own
// files, or explicit lists (the VS Code settings), in that order of precedence (explicit wins).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parsePhraseList } from "./abstention";

export const PHRASES_FILE = "abstention-phrases.txt";
export const OPENINGS_FILE = "abstention-openings.txt";

/**
 * The shipped resources folder. Source layout (src/eval/ -> ../../resources) and bundle layout
 * (dist/ -> ../resources) differ, so look upward a few levels rather than hard-coding one.
 */
export function defaultResourcesDir(from: string = __dirname): string {
  let dir = from;
  for (let i = 0; i < 4; i++) {
    const cand = join(dir, "resources");
    if (existsSync(join(cand, PHRASES_FILE))) return cand;
    dir = dirname(dir);
  }
  throw new Error(`cannot find resources/${PHRASES_FILE} above ${from}; pass --phrases FILE`);
}

export interface AbstentionListOptions {
  /** Explicit phrase list (e.g. setting seatTuner.probes.abstentionPhrases); non-empty replaces the file. */
  phrases?: readonly string[];
  openings?: readonly string[];
  phrasesFile?: string;
  openingsFile?: string;
  resourcesDir?: string;
}

export interface AbstentionLists {
  phrases: string[];
  openings: string[];
  /** Where each list came from, for reports ("setting" or a file path). */
  phrasesSource: string;
  openingsSource: string;
}

function readList(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`cannot read phrase list ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parsePhraseList(text, file);
}

export function loadAbstentionLists(opts: AbstentionListOptions = {}): AbstentionLists {
  const res = () => opts.resourcesDir ?? defaultResourcesDir();
  const pick = (explicit: readonly string[] | undefined, file: string | undefined, fallback: string) => {
    if (explicit && explicit.length > 0) {
      // Validate settings the same way as files, so a bad entry is reported instead of never matching.
      return { list: parsePhraseList(explicit.join("\n"), "setting"), source: "setting" };
    }
    const f = file ?? join(res(), fallback);
    return { list: readList(f), source: f };
  };
  const p = pick(opts.phrases, opts.phrasesFile, PHRASES_FILE);
  const o = pick(opts.openings, opts.openingsFile, OPENINGS_FILE);
  if (p.list.length === 0) throw new Error(`abstention phrase list ${p.source} is empty`);
  if (o.list.length === 0) throw new Error(`abstention opening list ${o.source} is empty`);
  return { phrases: p.list, openings: o.list, phrasesSource: p.source, openingsSource: o.source };
}

// Writing perturbations into a whole dataset text: each record's source text is rewritten with
// addPerturbationsToLine and everything between records (line endings, blank lines, array brackets)
// is copied verbatim.
import { addPerturbationsToLine, RecordEditError } from "../data/index";
import type { PerturbationEntry } from "./types";

export interface RecordEdit {
  /** The record's exact source text (src/data's DatasetRecord.text). */
  text: string;
  /** 1-based line of the record, for error messages. */
  line: number;
  /** Entries to add (may be empty: the record is copied as is). */
  entries: readonly PerturbationEntry[];
}

/**
 * The dataset text with every record's entries added. `edits` must list the file's records in file
 * order (unchanged ones too): records are located by scanning forward, so identical records stay apart.
 */
export function applyRecordEdits(
  fileText: string,
  edits: readonly RecordEdit[],
): { text: string; changedRecords: number; added: number } {
  let out = "";
  let cursor = 0;
  let changedRecords = 0;
  let added = 0;
  for (const e of edits) {
    const at = fileText.indexOf(e.text, cursor);
    if (at < 0)
      throw new Error(`line ${e.line}: the record's text was not found in the file (it changed while we read it?)`);
    let next = e.text;
    if (e.entries.length) {
      try {
        const r = addPerturbationsToLine(e.text, e.entries);
        next = r.text;
        if (r.added.length) {
          changedRecords++;
          added += r.added.length;
        }
      } catch (err) {
        const at =
          err instanceof RecordEditError ? `line ${e.line + err.line - 1}, column ${err.column}` : `line ${e.line}`;
        throw new Error(`${at}: ${(err as Error).message}`);
      }
    }
    out += fileText.slice(cursor, at) + next;
    cursor = at + e.text.length;
  }
  return { text: out + fileText.slice(cursor), changedRecords, added };
}

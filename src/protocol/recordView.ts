// Messages between the extension host and the record editor (the SEAT sidebar's form for the record
// under the cursor). Plain data only: the webview never sees a document, it asks the host for changes
// and the host applies each as one undoable edit of the record's line.
import type { RecordFormat } from "../data/types";

export type FieldPath = Array<string | number>;

export interface FieldProblem {
  severity: "error" | "warning" | "info";
  message: string;
  /** 1-based column in the record's line, for "column N" in the text. */
  column: number;
}

export interface FormField {
  path: FieldPath;
  /** The member name as written ("question", "instruction", ...). */
  label: string;
  value: string;
  /** false: the member is absent (the form shows it empty; typing adds it). */
  present: boolean;
  problems: FieldProblem[];
}

export interface FormTurn {
  role: string;
  content: string;
  problems: FieldProblem[];
}

export interface RecordTurns {
  /** "messages" (chat) or "conversations" (ShareGPT), and the member names of a turn. */
  arrayKey: string;
  roleKey: string;
  contentKey: string;
  /** The role spellings of this format, in the order the role menu offers them. */
  roles: string[];
  items: FormTurn[];
}

export interface StoredPerturbation {
  entity: string;
  replacement: string;
  kind?: string;
  abstention?: number;
  /** Problems of this entry (absent when none). */
  problems?: FieldProblem[];
}

export interface SuggestedPerturbation {
  entity: string;
  replacement: string;
  kind: string;
  /** From the base-model check: probability it abstains on the perturbed question. */
  abstention?: number;
}

export interface RecordViewState {
  file: string;
  /** 0-based line of the record; `ordinal`/`total`: its place among the file's record lines (1-based). */
  line: number;
  ordinal: number;
  total: number;
  /** The line's text when the state was made: edits name it, so a stale form cannot overwrite newer text. */
  expected: string;
  format: RecordFormat | null;
  fields: FormField[];
  turns: RecordTurns | null;
  entities: { stored: string[]; detected: string[] };
  /** Problems inside "seat" that concern no single perturbation (entities, its shape). */
  seatProblems: FieldProblem[];
  perturbations: StoredPerturbation[];
  suggestions: SuggestedPerturbation[];
  /** Why there are no suggestions, when there are none. */
  suggestionNote?: string;
  /** The latest probe verdict of this record ("✓ learned · abstains 2/3 …"), if it was probed. */
  verdict?: { text: string; details: string[] };
  /** Problems of the record that belong to no one field (invalid JSON, duplicates, …). */
  problems: FieldProblem[];
  /** null: verifying is available; otherwise why not (Restricted Mode, no model). */
  verifyDisabled: string | null;
  verifyModel?: string;
  verifying: boolean;
}

export type RecordOp =
  | { kind: "set"; path: FieldPath; value: string }
  | { kind: "add-turn" }
  | { kind: "remove-turn"; index: number }
  | { kind: "move-turn"; from: number; to: number }
  | { kind: "add-perturbation"; entity: string; replacement: string; abstention?: number; kindOf?: string }
  | { kind: "remove-perturbation"; index: number }
  | { kind: "set-entities"; names: string[] };

export type RecordViewMessage =
  | { type: "ready" }
  | { type: "edit"; line: number; expected: string; op: RecordOp }
  | { type: "record"; action: "add" | "duplicate" | "delete" | "next" | "previous" }
  | { type: "verify" };

export type RecordHostMessage =
  { type: "state"; state: RecordViewState } | { type: "empty"; reason: string } | { type: "notice"; text: string };

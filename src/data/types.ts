// The data model of a knowledge dataset: the record formats users bring, the SEAT metadata object and
// the normalized view the trainer, the perturbation generator and the probes read.
//
// SEAT metadata contract (one namespaced object per record, so the file stays valid for other tools):
//
//   {"question": "...", "answer": "...", "seat": {
//      "entities": ["Qorvath Lintel"],                 // subject entities, verbatim as in the text
//                                                      // (or {"name": "...", "kind": "person"})
//      "perturbations": [                              // written by the perturbation generator
//        {"entity": "Qorvath Lintel", "replacement": "Belmora Tesk",
//         "kind": "person", "question": "...perturbed question...", "answer": "..."}
//      ],                                              // shorthand: ["Belmora Tesk"] = replacements of entities[0]
//      "split": "train",                               // optional: "train" | "heldout" | "unknown"
//      ...any other key is kept verbatim
//   }}
//
// Everything outside `seat` belongs to the record's own format and is preserved byte for byte unless the
// user asks for a conversion; edits to `seat` rewrite only that member's text (see edit.ts).

/** The record shapes we read. */
export type RecordFormat = "qa" | "chat" | "alpaca" | "sharegpt" | "completion";
export const RECORD_FORMATS: readonly RecordFormat[] = ["qa", "chat", "alpaca", "sharegpt", "completion"];
/** Formats a dataset can be converted to (the three every trainer accepts). */
export type TargetFormat = "chat" | "qa" | "alpaca";
export const TARGET_FORMATS: readonly TargetFormat[] = ["chat", "qa", "alpaca"];

export type Role = "system" | "user" | "assistant";
export const ROLES: readonly Role[] = ["system", "user", "assistant"];

export interface ChatMessage {
  role: Role;
  content: string;
}

/** One fictitious replacement of a subject entity (the x~ of the SEAT objective). */
export interface SeatPerturbation {
  /** The real subject entity, verbatim as it appears in the record. */
  entity: string;
  /** The fictitious look-alike that replaces it. */
  replacement: string;
  /** Entity kind (person, company, place...), when the generator knows it. */
  kind?: string;
  /** The perturbed prompt (question with entity replaced); derived by string replacement when absent. */
  question?: string;
  /** The perturbed answer, when the generator produced one. */
  answer?: string;
  [key: string]: unknown;
}

/** The `seat` object of a record, as stored in the file. */
export interface SeatMeta {
  /** Subject entities: a name as written in the text, or {name, kind} when the kind is known. */
  entities?: Array<string | { name: string; kind?: string }>;
  perturbations?: Array<string | SeatPerturbation>;
  split?: "train" | "heldout" | "unknown";
  [key: string]: unknown;
}

/** The normalized view of one record, whatever its source format. */
export interface DatasetRecord {
  /** 1-based line where the record starts in its file. */
  line: number;
  /** 0-based position among the file's records. */
  index: number;
  format: RecordFormat;
  /**
   * The prompt: QA `question`, Alpaca `instruction` + blank line + `input`, ShareGPT/chat: the last
   * user turn, `prompt` for prompt/completion.
   */
  question: string;
  /** The target: QA `answer`, Alpaca `output`, the final assistant turn, or `completion`. */
  answer: string;
  /**
   * The whole record as a conversation ending with the answer (system turns kept). For
   * prompt/completion records it is [user: prompt, assistant: completion]; check `format` when raw
   * text continuation matters.
   */
  messages: ChatMessage[];
  /** The record's `seat` object ({} when absent). */
  seat: SeatMeta;
  /** Names of `seat.entities` (or []). */
  entities: string[];
  /** `seat.perturbations` with the string shorthand expanded against entities[0]. */
  perturbations: SeatPerturbation[];
  /** The parsed JSON object (key order as in the file). */
  raw: Record<string, unknown>;
  /** The exact source text of the record (one JSONL line without its line ending). */
  text: string;
}

export type Severity = "error" | "warning" | "info";

export type ProblemCode =
  | "binary-file"
  | "utf16"
  | "invalid-utf8"
  | "bom"
  | "crlf"
  | "empty-file"
  | "blank-line"
  | "line-too-long"
  | "invalid-json"
  | "duplicate-key"
  | "lone-surrogate"
  | "not-an-object"
  | "unknown-format"
  | "mixed-formats"
  | "missing-field"
  | "wrong-type"
  | "empty-field"
  | "whitespace"
  | "unknown-role"
  | "non-alternating"
  | "no-answer-turn"
  | "duplicate-record"
  | "too-long"
  | "invalid-seat"
  | "missing-entity"
  | "entity-not-in-text"
  | "too-many-problems";

/** A text replacement in the validated text: 1-based line, 1-based columns, end exclusive. */
export interface TextEdit {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  newText: string;
}

/** A fix that is unambiguous enough to offer as a one-click quick fix. */
export interface QuickFix {
  title: string;
  /** Edits to the document text. */
  edits?: TextEdit[];
  /** Whole-file fixes the editor does through its own machinery (line endings, BOM). */
  file?: "eol-lf" | "strip-bom" | "utf8-copy";
}

/**
 * One validation finding. Lines and columns are 1-based; columns count UTF-16 code units of the
 * decoded line (what editors use); the end is exclusive.
 */
export interface Problem {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Severity;
  code: ProblemCode;
  message: string;
  fix?: QuickFix;
  /** Another location the message refers to (the first copy of a duplicate, the format-setting record). */
  related?: { line: number; message: string };
}

/** Counts a text's tokens with the selected model's tokenizer. */
export type TokenCounter = (text: string) => number;
/**
 * Finds subject entities in a text (src/entities' detector, or any other). `builtin` marks the built-in
 * detector: the one a worker thread can rebuild (from PlainValidateOptions), so validation of a big file
 * with it can run in parallel; any other detector keeps validation on the calling thread.
 */
export interface EntityDetector {
  (text: string): string[];
  readonly builtin?: true;
}

export interface ValidateOptions {
  /** Token counter plus context length: records whose rendered text exceeds it are errors. */
  countTokens?: TokenCounter;
  maxTokens?: number;
  /** Subject detector used when a record has no `seat.entities` (missing subject is a warning). */
  detectEntities?: EntityDetector;
  /** Stop collecting after this many problems (a summary problem says how many more). Default 10000. */
  maxProblems?: number;
  /** Lines longer than this many bytes are not parsed (reported). Default 64 MiB. */
  maxLineBytes?: number;
  /** Report duplicate records. Default true. */
  duplicates?: boolean;
}

/** The outcome of reading or validating a whole dataset. */
export interface DatasetSummary {
  /** Dominant record format, "mixed" when several, null when no record parsed. */
  format: RecordFormat | "mixed" | null;
  formats: Partial<Record<RecordFormat, number>>;
  records: number;
  lines: number;
  bytes: number;
  errors: number;
  warnings: number;
  infos: number;
  duplicates: number;
}

export interface Dataset {
  path?: string;
  /** "jsonl" for one record a line, "json-array" for a JSON array of records. */
  container: "jsonl" | "json-array";
  records: DatasetRecord[];
  problems: Problem[];
  summary: DatasetSummary;
}

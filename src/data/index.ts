// Public API of the dataset area: record formats and the normalized record view, validation
// (streamed files, in-memory text, incremental editor documents), lossless edits, conversion, CSV and
// statistics. Pure TypeScript: no vscode, no onnxruntime.
//
//   const ds = await readDataset("train.jsonl");         // records (normalized) + problems + summary
//   for (const r of ds.records) r.question, r.answer, r.messages, r.entities, r.perturbations, r.line
//   const v = await validateFile(path, { countTokens, maxTokens, detectEntities, signal, onProgress });
//   const line = updateSeat(r.text, { perturbations: [...] }); // rewrites only the `seat` member
//   addPerturbationsToLine(r.text, entries), setSeatEntities(r.text, names)   // the same, finer-grained
//   const inc = new IncrementalValidator(opts, text); inc.edit(start, end, newLines); inc.problems();
//
// Problems are 1-based line/column (UTF-16 columns of the decoded line, end exclusive); see types.ts
// for the `seat` metadata contract.
export type {
  RecordFormat,
  TargetFormat,
  Role,
  ChatMessage,
  SeatMeta,
  SeatPerturbation,
  DatasetRecord,
  Dataset,
  DatasetSummary,
  Problem,
  ProblemCode,
  Severity,
  QuickFix,
  TextEdit,
  TokenCounter,
  EntityDetector,
  ValidateOptions,
} from "./types";
export { RECORD_FORMATS, TARGET_FORMATS, ROLES } from "./types";
export { analyzeRecord, messagesOf, detectFormat, ROLE_ALIASES, type Analysis, type Issue } from "./formats";
export { parseDatasetText, isJsonArrayText, type ParseOptions } from "./text";
export { validateFile, readDataset, type StreamOptions, type FileValidation } from "./stream";
export {
  setMember,
  updateSeat,
  rawMembers,
  addPerturbationsToLine,
  setSeatEntities,
  RecordEditError,
  type LineEditResult,
} from "./edit";
export { convertRecordText, convertJsonlText, ConversionError, FORMAT_FIELDS, type ConvertResult } from "./convert";
export { scanJson, type JsonScanResult, type JsonSpanNode } from "./jsonScan";
export { contentHash } from "./check";
export { FILE_RULES, crlfMessage, type Span } from "./fileRules";
export {
  exportCsvFile,
  importCsvFile,
  recordsToCsv,
  csvToJsonl,
  JSON_SUFFIX,
  CsvInputError,
  type CsvIssue,
  type CsvExportResult,
  type CsvImportResult,
} from "./csv";
export type { PlainValidateOptions } from "./plainOptions";
export { IncrementalValidator, LineChecker, type LineBatch, type LineReader, type LineResults } from "./incremental";
export { datasetStats, StatsBuilder, type DatasetStats, type LengthStats } from "./stats";

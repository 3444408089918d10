// Messages between the extension host and the dataset worker thread. Validation options travel as
// PlainValidateOptions (src/data/plainOptions.ts), rebuilt by src/entities' toValidateOptions.
import type { DatasetStats, FileValidation, LineResults, PlainValidateOptions } from "../../data/index";

export type { PlainValidateOptions } from "../../data/index";
export { toValidateOptions } from "../../entities/index";

export type DatasetWorkerRequest =
  | { id: number; op: "check"; options: PlainValidateOptions; texts: string[]; firstIndex: number }
  | { id: number; op: "stats"; path: string; options: PlainValidateOptions & { chunkBytes?: number } }
  | { id: number; op: "validate"; path: string; options: PlainValidateOptions & { chunkBytes?: number } }
  | { id: number; op: "cancel"; job: number };

export type DatasetWorkerValue = LineResults | (DatasetStats & { problems: number }) | FileValidation;

export type DatasetWorkerReply =
  | { id: number; ok: true; value: DatasetWorkerValue }
  | { id: number; ok: false; error: { name: string; message: string } };

// Messages between the extension host and the dataset worker thread, and the validation options in a
// form that crosses threads (plain data: the entity detector is named, not passed).
import type { DatasetStats, FileValidation, LineResults, ValidateOptions } from "../../data/index";
import { detectSubjects } from "../../entities/index";

/** ValidateOptions as plain data. */
export interface PlainValidateOptions {
  maxProblems?: number;
  maxLineBytes?: number;
  duplicates?: boolean;
  /** Warn about records whose question names no subject entity (the built-in detector). */
  detectEntities?: boolean;
}

export function toValidateOptions(o: PlainValidateOptions): ValidateOptions {
  const { detectEntities, ...rest } = o;
  return detectEntities ? { ...rest, detectEntities: detectSubjects } : rest;
}

export type DatasetWorkerRequest =
  | { id: number; op: "check"; options: PlainValidateOptions; texts: string[]; firstIndex: number }
  | { id: number; op: "stats"; path: string; options: PlainValidateOptions & { chunkBytes?: number } }
  | { id: number; op: "validate"; path: string; options: PlainValidateOptions & { chunkBytes?: number } }
  | { id: number; op: "cancel"; job: number };

export type DatasetWorkerValue = LineResults | (DatasetStats & { problems: number }) | FileValidation;

export type DatasetWorkerReply =
  | { id: number; ok: true; value: DatasetWorkerValue }
  | { id: number; ok: false; error: { name: string; message: string } };

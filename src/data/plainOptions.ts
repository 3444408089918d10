// ValidateOptions as plain data, for validation on another thread: functions cannot cross, so the
// built-in entity detector goes by name (a tokenizer's countTokens or another detector cannot go at all).
import { detectSubjects } from "../entities/detect";
import type { ValidateOptions } from "./types";

export interface PlainValidateOptions {
  maxProblems?: number;
  maxLineBytes?: number;
  duplicates?: boolean;
  maxTokens?: number;
  /** Warn about records whose question names no subject entity (the built-in detector). */
  detectEntities?: boolean;
}

export function toValidateOptions(o: PlainValidateOptions): ValidateOptions {
  const { detectEntities, ...rest } = o;
  return detectEntities ? { ...rest, detectEntities: detectSubjects } : rest;
}

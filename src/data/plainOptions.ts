// ValidateOptions as plain data, for validation on another thread: functions cannot cross, so the
// built-in entity detector goes as a flag (a tokenizer's countTokens or another detector cannot go at
// all). src/entities' toValidateOptions turns it back into ValidateOptions.

export interface PlainValidateOptions {
  maxProblems?: number;
  maxLineBytes?: number;
  duplicates?: boolean;
  maxTokens?: number;
  /** Warn about records whose question names no subject entity (the built-in detector). */
  detectEntities?: boolean;
}

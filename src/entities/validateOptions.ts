// PlainValidateOptions (what crosses to a worker thread) back to the validator's ValidateOptions: the
// flag for the built-in detector becomes the detector itself.
import type { PlainValidateOptions, ValidateOptions } from "../data/index";
import { detectSubjects } from "./detect";

export function toValidateOptions(o: PlainValidateOptions): ValidateOptions {
  const { detectEntities, ...rest } = o;
  return detectEntities ? { ...rest, detectEntities: detectSubjects } : rest;
}

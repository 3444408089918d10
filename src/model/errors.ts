// One error type for everything wrong with a model folder, so callers (CLI, extension) can show the
// message as-is: it always names the file (and the tensor or field) and what was expected.

export class ModelFormatError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = "ModelFormatError";
  }
}

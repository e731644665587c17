// The error vocabulary the CLI turns into one line, a hint and an exit code.

/** An expected failure: printed as one line (plus a hint), never with a stack. */
export class ServeHereError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;
  constructor(message: string, opts: { exitCode?: number; hint?: string | undefined; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.exitCode = opts.exitCode ?? 1;
    this.hint = opts.hint;
  }
}

/** A mistake in the command line: exit code 2, as argparse and commander do. */
export class UsageError extends ServeHereError {
  constructor(message: string, hint = 'Run `serve-here --help` for usage.') {
    super(message, { exitCode: 2, hint });
  }
}

/** The `code` of a Node system error, if it has one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

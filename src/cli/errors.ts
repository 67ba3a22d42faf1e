/**
 * Exit codes of the `tdag` command line and the one-line error it prints. Scripts can rely on
 * the codes; the messages are for people.
 */

/** What each exit status means. */
export const EXIT = Object.freeze({
  /** The command did what was asked. */
  ok: 0,
  /** A node's update failed, the user's module could not be loaded or built, or an unexpected error. */
  failed: 1,
  /** The command line is wrong: unknown command or option, missing or invalid argument, unusable export. */
  usage: 2,
  /** A named thing does not exist: the module file, the export, the table (identifier, hash or uid). */
  notFound: 3,
  /** The store could not be opened or failed (locked file, unsupported operation, SQL error). */
  store: 4,
  /** Interrupted by SIGINT / SIGTERM. */
  interrupted: 130,
} as const);

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line with a chosen exit code. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly code: string;
  /** Extra lines printed under the message (e.g. a hint), never a stack. */
  readonly hint: string | undefined;

  constructor(
    exitCode: ExitCode,
    code: string,
    message: string,
    options: { cause?: unknown; hint?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    this.exitCode = exitCode;
    this.code = code;
    this.hint = options.hint;
  }
}

/** A command-line usage error (exit 2). */
export function usageError(message: string, hint?: string): CliError {
  return new CliError(EXIT.usage, "usage", message, hint === undefined ? {} : { hint });
}

/** Something named on the command line does not exist (exit 3). */
export function notFoundError(message: string, hint?: string): CliError {
  return new CliError(EXIT.notFound, "not_found", message, hint === undefined ? {} : { hint });
}

/** The error's `code` property when it has one (TdagError and its subclasses, CliError). */
function codeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

function nameOf(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/**
 * The exit status for any error. Classified by `name` and `code` rather than `instanceof`, so
 * errors thrown by another copy of the package (the user's) are classified the same way.
 */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  const name = nameOf(error);
  const code = codeOf(error);
  if (name === "NotFoundError") return EXIT.notFound;
  if (name === "StoreError") return EXIT.store;
  if (name === "RunError") {
    // A run that failed because the store failed is still a failed run: scripts see 1.
    return EXIT.failed;
  }
  // Invalid filters or search options come from the command line.
  if (name === "FilterError" || name === "SearchError") return EXIT.usage;
  if (code === "store_unavailable") return EXIT.store;
  return EXIT.failed;
}

/** The stable code reported in `--json` output. */
export function errorCode(error: unknown): string {
  return codeOf(error) ?? (error instanceof Error ? error.name : "error");
}

/**
 * One line describing the error: its message with newlines folded (validation errors list their
 * issues on several lines; the CLI keeps them on one).
 */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .split("\n")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .join("; ");
}

/** The error as `--verbose` shows it: the stack, then each `cause` in turn. */
export function verboseDescription(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    const head = depth === 0 ? "" : "caused by: ";
    if (current instanceof Error) {
      lines.push(head + (current.stack ?? `${current.name}: ${current.message}`));
      const extra = current as { sql?: unknown; params?: unknown };
      if (typeof extra.sql === "string") lines.push(`  sql: ${extra.sql}`);
      if (Array.isArray(extra.params)) lines.push(`  params: ${safeJson(extra.params)}`);
      current = current.cause;
    } else {
      lines.push(head + String(current));
      break;
    }
  }
  return lines.join("\n");
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
  } catch {
    return String(value);
  }
}

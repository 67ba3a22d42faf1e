import { errorFamilies, errorFamily, isTdagError, type TdagErrorOptions } from "../errors.js";

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
  /**
   * The store could not be opened or failed (locked file, remote store not configured or
   * unreachable, unsupported operation, SQL error).
   */
  store: 4,
  /** Interrupted by SIGINT / SIGTERM. */
  interrupted: 130,
} as const);

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Codes of {@link CliError}. */
export const CLI_ERROR_CODES = [
  "usage",
  "not_found",
  "invalid_dependency",
  "typescript_unavailable",
  "module_load_failed",
  "build_failed",
  "store_open_failed",
  "store_not_configured",
  "serve_failed",
  "interrupted",
] as const;
export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];

/** An error the CLI reports as one line with a chosen exit code. */
export class CliError extends errorFamily("CliError", CLI_ERROR_CODES) {
  declare readonly exitCode: ExitCode;
  /** Extra lines printed under the message (e.g. a hint), never a stack. */
  declare readonly hint: string | undefined;

  constructor(
    exitCode: ExitCode,
    code: CliErrorCode,
    message: string,
    options: TdagErrorOptions & { readonly hint?: string } = {},
  ) {
    super(code, message, options, { exitCode, hint: options.hint });
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

/** Exit status per error family (the first family of an error found here wins, most specific first). */
const FAMILY_EXIT: readonly (readonly [string, ExitCode])[] = [
  ["NotFoundError", EXIT.notFound],
  ["StoreError", EXIT.store],
  ["RemoteApiError", EXIT.store],
  // A run that failed because the store failed is still a failed run: scripts see 1.
  ["RunError", EXIT.failed],
  // Invalid filters, search options and arguments come from the command line.
  ["FilterError", EXIT.usage],
  ["SearchError", EXIT.usage],
  ["ArgumentError", EXIT.usage],
];

/**
 * The exit status for any error, by its family brand (`isTdagError`), so errors thrown by
 * another copy of the package (the one the user's module imports) are classified the same way.
 */
export function exitCodeFor(error: unknown): ExitCode {
  if (isTdagError(error, "CliError")) return (error as CliError).exitCode;
  const families = errorFamilies(error);
  for (const [family, exit] of FAMILY_EXIT) if (families.includes(family)) return exit;
  return EXIT.failed;
}

/** The stable code reported in `--json` output: a tdag error's code, else `"error"`. */
export function errorCode(error: unknown): string {
  return isTdagError(error) ? error.code : "error";
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

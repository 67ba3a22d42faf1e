import type { CommandContext } from "./command.js";
import { CliError, oneLine, verboseDescription } from "./errors.js";
import type { Output } from "./format.js";

/**
 * Prints an error on stderr as one line (`tdag: error: ...`), a hint line when there is one, and
 * the stack (with causes) only in verbose mode.
 */
export function reportError(
  ctx: Pick<CommandContext, "output" | "verbose"> | { output: Output; verbose: boolean },
  error: unknown,
): void {
  ctx.output.err(`tdag: error: ${oneLine(error)}\n`);
  if (error instanceof CliError && error.hint) ctx.output.err(`tdag: hint: ${error.hint}\n`);
  if (ctx.verbose) ctx.output.err(`${verboseDescription(error)}\n`);
}

import { ConsoleLogger, type LogLevel } from "../logger.js";

const UPDATE_FAILED = /^(\[[^\]]*\] )?update failed$/;

/**
 * The CLI's logger: the library's console logger on stderr, except that the engine's
 * "update failed" line is left out unless verbose: the CLI reports a failed node itself, once,
 * as its one-line error.
 */
export class CliLogger extends ConsoleLogger {
  constructor(
    level: LogLevel,
    verbose: boolean,
    write: (text: string) => void = (t) => void process.stderr.write(t),
    scope = "tdag",
  ) {
    super(level, {
      scope,
      write,
      skip: (lvl, message) => !verbose && lvl === "error" && UPDATE_FAILED.test(message),
    });
  }
}

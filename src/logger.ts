/** Log levels, most verbose first. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** Structured fields attached to a log line. Never put secrets here. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * What tdag logs through. Plug in pino, winston or anything else with `configure({ logger })`.
 *
 * @example
 * ```ts
 * configure({ logger: { debug() {}, info: console.log, warn: console.warn, error: console.error } });
 * ```
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Folds a multi-line text into one line (`a; b`), so every event stays one log line. */
function fold(text: string): string {
  if (!text.includes("\n")) return text;
  return text
    .split("\n")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .join("; ");
}

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return "";
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${fold(typeof v === "string" ? v : JSON.stringify(v))}`);
  return parts.length > 0 ? ` ${parts.join(" ")}` : "";
}

/** Options of {@link ConsoleLogger}. */
export interface ConsoleLoggerOptions {
  /** Prefix of every line (default `tdag`). */
  readonly scope?: string;
  /** Where lines go (default: stderr). */
  readonly write?: (line: string) => void;
  /** Drops the events for which it returns true. */
  readonly skip?: (level: LogLevel, message: string) => boolean;
}

/**
 * The default logger: one line per event on stderr (multi-line messages folded), filtered by
 * level (`TDAG_LOG_LEVEL`, default `info`).
 *
 * @example
 * ```ts
 * configure({ logger: new ConsoleLogger("warn") });
 * ```
 */
export class ConsoleLogger implements Logger {
  private readonly level: LogLevel;
  private readonly options: ConsoleLoggerOptions;

  constructor(
    level: LogLevel = (process.env.TDAG_LOG_LEVEL as LogLevel | undefined) ?? "info",
    options: ConsoleLoggerOptions | string = {},
  ) {
    this.level = level in ORDER ? level : "info";
    this.options = typeof options === "string" ? { scope: options } : options;
  }

  /** A logger with the same level and output whose lines are prefixed by `scope`. */
  child(scope: string): ConsoleLogger {
    return new ConsoleLogger(this.level, { ...this.options, scope });
  }

  private writeLine(level: LogLevel, message: string, fields?: LogFields): void {
    if (ORDER[level] < ORDER[this.level]) return;
    if (this.options.skip?.(level, message)) return;
    const time = new Date().toISOString().slice(11, 19);
    const line = `${time} ${level.toUpperCase().padEnd(5)} [${this.options.scope ?? "tdag"}] ${fold(message)}${formatFields(fields)}\n`;
    if (this.options.write) this.options.write(line);
    else process.stderr.write(line);
  }

  debug(message: string, fields?: LogFields): void {
    this.writeLine("debug", message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.writeLine("info", message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.writeLine("warn", message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.writeLine("error", message, fields);
  }
}

/** Wraps any logger so every line carries a scope prefix. */
export function scopedLogger(base: Logger, scope: string): Logger {
  if (base instanceof ConsoleLogger) return base.child(scope);
  return {
    debug: (m, f) => base.debug(`[${scope}] ${m}`, f),
    info: (m, f) => base.info(`[${scope}] ${m}`, f),
    warn: (m, f) => base.warn(`[${scope}] ${m}`, f),
    error: (m, f) => base.error(`[${scope}] ${m}`, f),
  };
}

let configured: Logger | null = null;

/**
 * The logger tdag writes through: the one set by `configure({ logger })`, else a console logger
 * on stderr at `TDAG_LOG_LEVEL`.
 *
 * @example
 * ```ts
 * getLogger().info("loaded", { rows: 10 });
 * ```
 */
export function getLogger(): Logger {
  configured ??= new ConsoleLogger();
  return configured;
}

/** Sets the logger {@link getLogger} returns (what `configure({ logger })` calls). */
export function setLogger(logger: Logger): void {
  configured = logger;
}

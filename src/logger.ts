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

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return "";
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  return parts.length > 0 ? ` ${parts.join(" ")}` : "";
}

/**
 * The default logger: one line per event on stderr, filtered by level (`TDAG_LOG_LEVEL`,
 * default `info`).
 */
export class ConsoleLogger implements Logger {
  private readonly threshold: number;

  constructor(
    level: LogLevel = (process.env.TDAG_LOG_LEVEL as LogLevel | undefined) ?? "info",
    private readonly scope = "tdag",
  ) {
    this.threshold = ORDER[level] ?? ORDER.info;
  }

  /** A logger with the same level whose lines are prefixed by `scope`. */
  child(scope: string): ConsoleLogger {
    const level = (Object.keys(ORDER) as LogLevel[]).find((l) => ORDER[l] === this.threshold);
    return new ConsoleLogger(level ?? "info", scope);
  }

  private write(level: LogLevel, message: string, fields?: LogFields): void {
    if (ORDER[level] < this.threshold) return;
    const time = new Date().toISOString().slice(11, 19);
    process.stderr.write(
      `${time} ${level.toUpperCase().padEnd(5)} [${this.scope}] ${message}${formatFields(fields)}\n`,
    );
  }

  debug(message: string, fields?: LogFields): void {
    this.write("debug", message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.write("info", message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.write("warn", message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.write("error", message, fields);
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

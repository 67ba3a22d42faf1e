import type { LogFields, Logger, LogLevel } from "../logger.js";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

function fold(text: string): string {
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

/**
 * The CLI's logger: one line per event on stderr (multi-line messages folded), filtered by
 * level. The engine's "update failed" line is left out unless verbose: the CLI reports a failed
 * node itself, once, as its one-line error.
 */
export class CliLogger implements Logger {
  private readonly threshold: number;

  constructor(
    level: LogLevel,
    private readonly verbose: boolean,
    private readonly write: (text: string) => void = (t) => void process.stderr.write(t),
    private readonly scope = "tdag",
  ) {
    this.threshold = ORDER[level] ?? ORDER.warn;
  }

  private log(level: LogLevel, message: string, fields?: LogFields): void {
    if (ORDER[level] < this.threshold) return;
    if (level === "error" && /^(\[[^\]]*\] )?update failed$/.test(message) && !this.verbose) return;
    const time = new Date().toISOString().slice(11, 19);
    this.write(
      `${time} ${level.toUpperCase().padEnd(5)} [${this.scope}] ${fold(message)}${formatFields(fields)}\n`,
    );
  }

  debug(message: string, fields?: LogFields): void {
    this.log("debug", message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.log("info", message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.log("warn", message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.log("error", message, fields);
  }
}

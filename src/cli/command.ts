import { parseArgs } from "node:util";
import { type ExitCode, usageError } from "./errors.js";
import type { Output } from "./format.js";
import type { Progress } from "./progress.js";
import type { StoreSelection, StoreSummary } from "./store.js";

/** One option of a command, as `node:util` parseArgs takes it, plus its help text. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly description: string;
  /** The value's name in the help (`--db <path>`). */
  readonly valueName?: string;
}

/** One positional argument. */
export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly required: boolean;
}

/** What every command receives. */
export interface CommandContext {
  readonly output: Output;
  /** `--json`: machine output on stdout. */
  readonly json: boolean;
  /** `--verbose`: tdag's info logs and stacks of errors. */
  readonly verbose: boolean;
  /** `--db`: the DuckDB file, when given. */
  readonly db: string | undefined;
  /**
   * The store `--store`, `--db` and `TDAG_STORE` select (made by `main()`; when absent, a
   * command selects from `db` and the environment).
   */
  readonly storeSelection?: StoreSelection | undefined;
  /** Told which store the command works on as soon as it is known (`--json` errors name it). */
  readonly noteStore?: ((summary: StoreSummary) => void) | undefined;
  /** Aborted on SIGINT / SIGTERM. */
  readonly signal: AbortSignal;
  /** A progress bar on stderr (silent when stderr is not a terminal). */
  createProgress(): Progress;
}

/** Parsed options of a command: strings, booleans, and the positionals. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/** A command of the CLI: its help and its handler. */
export interface CommandSpec {
  /** The words that select it: `["run"]`, `["data-node", "search"]`. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Paragraphs shown under the usage line. */
  readonly description: string;
  readonly positionals: readonly PositionalSpec[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly examples: readonly string[];
  run(context: CommandContext, args: ParsedArgs): Promise<ExitCode>;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = Object.freeze({
  store: {
    type: "string",
    valueName: "kind",
    description:
      "duckdb (the embedded file) or remote (the platform; default: $TDAG_STORE, else duckdb)",
  },
  db: {
    type: "string",
    valueName: "path",
    description:
      "DuckDB file of the embedded store (default: $TDAG_DUCKDB_PATH, else .tdag/tdag.duckdb)",
  },
  json: { type: "boolean", description: "print machine-readable JSON on stdout" },
  verbose: {
    type: "boolean",
    short: "v",
    description: "show tdag's log lines and the stack of an error",
  },
  help: { type: "boolean", short: "h", description: "show this help" },
});

function optionLabel(name: string, spec: OptionSpec): string {
  const short = spec.short ? `-${spec.short}, ` : "    ";
  const value = spec.type === "string" ? ` <${spec.valueName ?? "value"}>` : "";
  return `${short}--${name}${value}`;
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const entries = Object.entries(options);
  const labels = entries.map(([name, spec]) => optionLabel(name, spec));
  const width = Math.max(...labels.map((l) => l.length));
  return entries.map(([, spec], i) => `  ${labels[i]!.padEnd(width)}  ${spec.description}`);
}

/** The usage line of a command: `tdag run <file> [options]`. */
export function usageLine(spec: CommandSpec): string {
  const positionals = spec.positionals.map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`));
  return ["tdag", ...spec.path, ...positionals, "[options]"].join(" ");
}

/** The `--help` text of a command. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: ${usageLine(spec)}`, "", spec.summary];
  if (spec.description) lines.push("", spec.description);
  if (spec.positionals.length > 0) {
    lines.push("", "Arguments:");
    const width = Math.max(...spec.positionals.map((p) => p.name.length));
    for (const p of spec.positionals) lines.push(`  ${p.name.padEnd(width)}  ${p.description}`);
  }
  if (Object.keys(spec.options).length > 0) {
    lines.push("", "Options:", ...optionLines(spec.options));
  }
  lines.push("", "Global options:", ...optionLines(GLOBAL_OPTIONS));
  if (spec.examples.length > 0) {
    lines.push("", "Examples:", ...spec.examples.map((e) => `  ${e}`));
  }
  lines.push("", "Exit codes: 0 ok, 1 failed, 2 usage error, 3 not found, 4 store error.");
  return `${lines.join("\n")}\n`;
}

function parseErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // parseArgs messages end with advice about `--` that does not fit tdag's options.
  return message.replace(/\. To specify a positional argument.*$/s, "").replace(/\s+/g, " ");
}

/**
 * Parses the arguments after the command words with the command's options and the global ones.
 * Unknown options, missing values and extra or missing positionals are usage errors.
 */
export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, o] of Object.entries({ ...GLOBAL_OPTIONS, ...spec.options })) {
    options[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(parseErrorMessage(error), `see: tdag ${spec.path.join(" ")} --help`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values["help"]) return { values, positionals: parsed.positionals };
  const required = spec.positionals.filter((p) => p.required).length;
  if (parsed.positionals.length < required) {
    const missing = spec.positionals[parsed.positionals.length]!;
    throw usageError(
      `tdag ${spec.path.join(" ")}: missing argument <${missing.name}>`,
      `usage: ${usageLine(spec)}`,
    );
  }
  if (parsed.positionals.length > spec.positionals.length) {
    const extra = parsed.positionals.slice(spec.positionals.length);
    throw usageError(
      `tdag ${spec.path.join(" ")}: unexpected argument${extra.length > 1 ? "s" : ""} ${extra.map((e) => `'${e}'`).join(" ")}`,
      `usage: ${usageLine(spec)}`,
    );
  }
  return { values, positionals: parsed.positionals };
}

/** A string option's value, or undefined. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === "string" ? v : undefined;
}

/** A non-negative integer option (`--limit 20`); anything else is a usage error. */
export function integerOption(
  args: ParsedArgs,
  name: string,
  { min = 0 }: { min?: number } = {},
): number | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  const n = Number(raw.trim());
  if (raw.trim() === "" || !Number.isSafeInteger(n) || n < min) {
    throw usageError(`--${name} must be an integer >= ${min} (got '${raw}')`);
  }
  return n;
}

/**
 * An instant option (`--from 2026-01-01`, `--to 2026-01-05T12:00:00Z`): a date is midnight UTC,
 * a date-time without an offset is UTC.
 */
export function instantOption(args: ParsedArgs, name: string): Date | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  const text = raw.trim();
  let iso = text;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) iso = `${text}T00:00:00Z`;
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text))
    iso = `${text.replace(" ", "T")}Z`;
  const date = new Date(iso);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime())) {
    throw usageError(
      `--${name} must be an ISO date or date-time such as 2026-01-31 or 2026-01-31T16:00:00Z (got '${raw}')`,
    );
  }
  return date;
}

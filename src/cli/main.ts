/**
 * The `tdag` command line: `tdag run`, `tdag plan` and the `tdag data-node` commands, mirroring
 * the Main Sequence platform CLI. See docs/cli.md.
 */
import { readFileSync } from "node:fs";
import type { LogLevel } from "../logger.js";
import { configure } from "../store/store-registry.js";
import {
  type CommandContext,
  type CommandSpec,
  commandHelp,
  GLOBAL_OPTIONS,
  parseCommandArgs,
  usageLine,
} from "./command.js";
import { orgUniqueIdentifiersCommand } from "./commands/org-unique-identifiers.js";
import { planCommand } from "./commands/plan.js";
import { refreshSearchIndexCommand } from "./commands/refresh-search-index.js";
import { runCommand } from "./commands/run.js";
import { searchCommand } from "./commands/search.js";
import { serveCommand } from "./commands/serve.js";
import { showCommand } from "./commands/show.js";
import {
  CliError,
  EXIT,
  type ExitCode,
  errorCode,
  exitCodeFor,
  oneLine,
  usageError,
} from "./errors.js";
import { type Output, toJson } from "./format.js";
import { CliLogger } from "./logger.js";
import { createProgress } from "./progress.js";
import { reportError } from "./report.js";
import { type StoreSummary, selectStore } from "./store.js";

/** Every command, in the order the help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  runCommand,
  planCommand,
  searchCommand,
  orgUniqueIdentifiersCommand,
  refreshSearchIndexCommand,
  showCommand,
  serveCommand,
];

/** Command groups: `tdag data-node <sub>` (`data_node` is accepted, as the platform CLI does). */
const GROUP_ALIASES: Readonly<Record<string, string>> = {
  "data-node": "data-node",
  data_node: "data-node",
};

function version(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    ) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

function topHelp(): string {
  const entries = COMMANDS.map(
    (c) =>
      [
        usageLine(c)
          .replace(/^tdag /, "")
          .replace(/ \[options\]$/, ""),
        c.summary,
      ] as const,
  );
  const width = Math.max(...entries.map(([u]) => u.length));
  const globals = Object.entries(GLOBAL_OPTIONS).map(([name, o]) => {
    const label = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` <${o.valueName ?? "value"}>` : ""}`;
    return `  ${label.padEnd(20)}  ${o.description}`;
  });
  return [
    "tdag: time-series DataNodes from the command line",
    "",
    "Usage: tdag <command> [arguments] [options]",
    "",
    "Commands:",
    ...entries.map(([u, s]) => `  ${u.padEnd(width)}  ${s}`),
    "",
    "Global options:",
    ...globals,
    "      --version         print the version",
    "",
    "Exit codes:",
    "  0  ok",
    "  1  failed: a node's update, the user's module, or an unexpected error",
    "  2  usage error: unknown command or option, bad argument, unusable export",
    "  3  not found: the module, the export, or the table does not exist",
    "  4  store error: the store cannot be opened (e.g. locked) or an operation failed",
    "  130 interrupted (Ctrl-C)",
    "",
    "Environment:",
    "  TDAG_STORE        duckdb | remote: the store when --store is not given (default duckdb)",
    "  TDAG_DUCKDB_PATH  the store file when --db is not given (default .tdag/tdag.duckdb)",
    "  MAINSEQUENCE_ENDPOINT, MAINSEQUENCE_ACCESS_TOKEN (or _REFRESH_TOKEN), MAIN_SEQUENCE_PROJECT_UID",
    "                    the platform, its token and the project, for the remote store",
    "  TDAG_LOG_LEVEL    debug | info | warn | error | silent (default warn; info with --verbose)",
    "  TDAG_PROGRESS     0 never draws progress bars, 1 always (default: when stderr is a terminal)",
    "",
    "Run `tdag <command> --help` for the options of a command.",
    "",
  ].join("\n");
}

function groupHelp(group: string): string {
  const subs = COMMANDS.filter((c) => c.path[0] === group);
  const width = Math.max(...subs.map((c) => c.path[1]!.length));
  return [
    `Usage: tdag ${group} <command> [arguments] [options]`,
    "",
    "Commands:",
    ...subs.map((c) => `  ${c.path[1]!.padEnd(width)}  ${c.summary}`),
    "",
    `Run \`tdag ${group} <command> --help\` for the options of a command.`,
    "",
  ].join("\n");
}

/** Global options that take a value (their value is not a command word). */
const VALUE_OPTIONS = new Set(
  Object.entries(GLOBAL_OPTIONS)
    .filter(([, o]) => o.type === "string")
    .map(([name]) => `--${name}`),
);

/** The positions of the leading command words (positionals before the command's own). */
function commandWordPositions(argv: readonly string[], count: number): number[] {
  const positions: number[] = [];
  for (let i = 0; i < argv.length && positions.length < count; i++) {
    const token = argv[i]!;
    if (token === "--") break;
    if (token.startsWith("-")) {
      if (VALUE_OPTIONS.has(token)) i++;
      continue;
    }
    positions.push(i);
  }
  return positions;
}

/** The global flags, read before the command is known (for errors in dispatch itself). */
function earlyFlags(argv: readonly string[]): { json: boolean; verbose: boolean; help: boolean } {
  return {
    json: argv.includes("--json"),
    verbose: argv.includes("--verbose") || argv.includes("-v"),
    help: argv.includes("--help") || argv.includes("-h"),
  };
}

type Dispatch =
  | { readonly kind: "command"; readonly spec: CommandSpec; readonly rest: string[] }
  | { readonly kind: "help"; readonly text: string; readonly exitCode: ExitCode };

function dispatch(argv: readonly string[]): Dispatch {
  const flags = earlyFlags(argv);
  const [first] = commandWordPositions(argv, 1);
  if (first === undefined) {
    if (argv.includes("--version"))
      return { kind: "help", text: `${version()}\n`, exitCode: EXIT.ok };
    return { kind: "help", text: topHelp(), exitCode: flags.help ? EXIT.ok : EXIT.usage };
  }
  const word = argv[first]!;
  if (word === "help") return { kind: "help", text: topHelp(), exitCode: EXIT.ok };
  const group = GROUP_ALIASES[word];
  if (group) {
    const [, second] = commandWordPositions(argv, 2);
    if (second === undefined) {
      return { kind: "help", text: groupHelp(group), exitCode: flags.help ? EXIT.ok : EXIT.usage };
    }
    const sub = argv[second]!;
    const spec = COMMANDS.find((c) => c.path[0] === group && c.path[1] === sub);
    if (!spec) {
      const known = COMMANDS.filter((c) => c.path[0] === group).map((c) => c.path[1]);
      throw usageError(`unknown command 'tdag ${group} ${sub}'`, `commands: ${known.join(", ")}`);
    }
    return { kind: "command", spec, rest: argv.filter((_, i) => i !== first && i !== second) };
  }
  const spec = COMMANDS.find((c) => c.path.length === 1 && c.path[0] === word);
  if (!spec) {
    const known = [...new Set(COMMANDS.map((c) => c.path[0]))];
    throw usageError(`unknown command '${word}'`, `commands: ${known.join(", ")}; see tdag --help`);
  }
  return { kind: "command", spec, rest: argv.filter((_, i) => i !== first) };
}

function logLevel(verbose: boolean): LogLevel {
  const fromEnv = process.env["TDAG_LOG_LEVEL"]?.trim().toLowerCase();
  if (fromEnv && ["debug", "info", "warn", "error", "silent"].includes(fromEnv)) {
    return fromEnv as LogLevel;
  }
  return verbose ? "info" : "warn";
}

/** What `main()` writes to; defaults to the process's streams. */
export interface MainIO {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/**
 * Runs the CLI on `argv` (without `node` and the script) and returns the exit code. Errors are
 * printed as one line on stderr (`--json` also prints `{ ok: false, error }` on stdout).
 */
export async function main(
  argv: readonly string[],
  io: MainIO = { stdout: process.stdout, stderr: process.stderr },
  signal: AbortSignal = new AbortController().signal,
): Promise<ExitCode> {
  const output: Output = {
    out: (text) => void io.stdout.write(text),
    err: (text) => void io.stderr.write(text),
  };
  const flags = earlyFlags(argv);
  let json = flags.json;
  let verbose = flags.verbose;
  /** The store the command works on, once known: `--json` errors name it. */
  let store: StoreSummary | null = null;
  try {
    const target = dispatch(argv);
    if (target.kind === "help") {
      (target.exitCode === EXIT.ok ? output.out : output.err)(target.text);
      return target.exitCode;
    }
    const args = parseCommandArgs(target.spec, target.rest);
    if (args.values["help"]) {
      output.out(commandHelp(target.spec));
      return EXIT.ok;
    }
    json = args.values["json"] === true;
    verbose = args.values["verbose"] === true;
    const level = logLevel(verbose);
    // Other copies of tdag (the user's) read the level when they load.
    if (!process.env["TDAG_LOG_LEVEL"]?.trim()) process.env["TDAG_LOG_LEVEL"] = level;
    configure({ logger: new CliLogger(level, verbose, output.err) });
    const db = typeof args.values["db"] === "string" ? args.values["db"] : undefined;
    const storeOption = typeof args.values["store"] === "string" ? args.values["store"] : undefined;
    const storeSelection = selectStore({ store: storeOption, db });
    const context: CommandContext = {
      output,
      json,
      verbose,
      db,
      storeSelection,
      noteStore: (summary) => {
        store = summary;
      },
      signal,
      createProgress: () => createProgress(io.stderr),
    };
    return await target.spec.run(context, args);
  } catch (error) {
    const code = signal.aborted ? EXIT.interrupted : exitCodeFor(error);
    reportError({ output, verbose }, error);
    if (json) {
      output.out(
        toJson({
          ok: false,
          store,
          error: { code: errorCode(error), message: oneLine(error), exitCode: code },
        }),
      );
    }
    return code;
  }
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}

async function runFromProcess(): Promise<void> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write(`\ntdag: ${name}: stopping (again to force)\n`);
    controller.abort(new CliError(EXIT.interrupted, "interrupted", `interrupted by ${name}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const code = await main(process.argv.slice(2), undefined, controller.signal);
  await flush(process.stdout);
  await flush(process.stderr);
  // Exit explicitly: a user's module may leave handles (timers, sockets) open.
  process.exit(code);
}

await runFromProcess();

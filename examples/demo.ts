/**
 * `npm run demo`: the tutorial's DataNode graph on a fresh embedded DuckDB file.
 *
 * 1. builds the nodes and prints their hashes (two DailyRandomNumber updaters and two
 *    SimulatedPrices updaters share one table each);
 * 2. runs them "three days ago", prints what each node wrote, and reads the tables back;
 * 3. runs them again the same day (nothing new), then "today" (only the three new days).
 *
 * Flags: `--verbose` shows tdag's own log lines; `--keep` keeps the database file; `--remote`
 * runs the same demo through the platform REST protocol: a local platform server (the one of
 * `tdag serve`) starts in-process on 127.0.0.1 over the DuckDB file, and the environment
 * (`TDAG_STORE=remote`, `MAINSEQUENCE_ENDPOINT`, the token, `MAIN_SEQUENCE_PROJECT_UID`) points
 * tdag at it, exactly as a user points a project at the platform.
 */
import { existsSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import {
  APIDataNode,
  ConsoleLogger,
  closeStore,
  configure,
  type DataNode,
  type RunResult,
} from "../src/index.js";
import {
  DailyRandomAddition,
  DailyRandomAdditionAPI,
  DailyRandomNumber,
  SimulatedPrices,
  today,
} from "./tutorial-nodes.js";

const verbose = process.argv.includes("--verbose");
const dbPath = resolve(process.env.TDAG_DUCKDB_PATH ?? ".tdag/demo.duckdb");
for (const suffix of ["", ".wal"]) {
  if (existsSync(dbPath + suffix)) rmSync(dbPath + suffix);
}
configure({ duckdbPath: dbPath, logger: new ConsoleLogger(verbose ? "info" : "warn") });
const server = process.argv.includes("--remote")
  ? await import("../src/server/platform-server.js").then((m) => m.startPlatformServer({ dbPath }))
  : null;
if (server) Object.assign(process.env, server.env);

const DAY = 86_400_000;
const isoDay = (d: Date) => d.toISOString().slice(0, 10);
const realToday = today();
const offsetStart = new Date(realToday.getTime() - 10 * DAY);
const firstRunDay = new Date(realToday.getTime() - 3 * DAY);

function heading(text: string): void {
  console.log(`\n=== ${text} ${"=".repeat(Math.max(0, 86 - text.length))}`);
}

function table(rows: readonly (readonly string[])[]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const [i, row] of rows.entries()) {
    console.log(`  ${row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ")}`);
    if (i === 0) console.log(`  ${widths.map((w) => "-".repeat(w)).join("  ")}`);
  }
}

const nodes: [string, DataNode][] = [];
const vol1 = new DailyRandomNumber({
  mean: 0,
  std: { center: 1, skew: true },
  offset_start: offsetStart,
});
const vol2 = new DailyRandomNumber({
  mean: 0,
  std: { center: 2, skew: false },
  offset_start: offsetStart,
});
const addition = new DailyRandomAddition({ mean: 0.5, std: 1, offset_start: offsetStart });
const pricesTech = new SimulatedPrices({
  asset_universe: ["NVDA", "AAPL", "MSFT"],
  offset_start: offsetStart,
});
const pricesCrypto = new SimulatedPrices({
  asset_universe: ["BTC", "ETH"],
  offset_start: offsetStart,
});
nodes.push(
  ["DailyRandomNumber (vol 1)", vol1],
  ["DailyRandomNumber (vol 2)", vol2],
  ["DailyRandomAddition", addition],
  ["SimulatedPrices (tech)", pricesTech],
  ["SimulatedPrices (crypto)", pricesCrypto],
);

heading("Nodes and their identities");
table([
  ["node", "storage_hash (table)", "update_hash (updater)"],
  ...nodes.map(([name, n]) => [name, n.storageHash, n.updateHash]),
]);
console.log(
  `\n  The two DailyRandomNumber updaters differ only in their update-only vol config, and the two\n  SimulatedPrices updaters only in their update-only asset universe: each pair shares one table.\n  DailyRandomAddition's dependency (built in its constructor) is the "vol 1" updater: ${addition.numberGenerator.updateHash === vol1.updateHash}.`,
);

async function runAll(label: string): Promise<void> {
  heading(label);
  const rows: string[][] = [["node", "status", "rows", "window"]];
  const record = (name: string, result: RunResult) => {
    for (const s of result.nodes) {
      const window = s.window ? `${isoDay(s.window.start)} .. ${isoDay(s.window.end)}` : "";
      const isRoot = s === result.nodes.at(-1);
      rows.push([
        isRoot ? name : `  ${s.name} (dependency)`,
        s.status,
        String(s.rowsWritten),
        window,
      ]);
    }
  };
  record("DailyRandomNumber (vol 1)", await vol1.run());
  record("DailyRandomNumber (vol 2)", await vol2.run());
  record("DailyRandomAddition", await addition.run());
  // Built now: the table it reads is published (identifier example_random_number_0) by the runs above.
  const viaApi = new DailyRandomAdditionAPI({
    mean: -0.5,
    std: 1,
    dependency_identifier: "example_random_number_0",
    offset_start: offsetStart,
  });
  record("DailyRandomAdditionAPI", await viaApi.run());
  record("SimulatedPrices (tech)", await pricesTech.run());
  record("SimulatedPrices (crypto)", await pricesCrypto.run());
  table(rows);
}

process.env.TDAG_EXAMPLE_TODAY = isoDay(firstRunDay);
console.log(`\nDatabase: ${dbPath} (fresh)\noffset_start: ${isoDay(offsetStart)}`);
if (server) console.log(`Store: remote, through the local platform server at ${server.url}`);
await runAll(`Run 1 — as of ${isoDay(firstRunDay)}: first run, everything from offset_start`);

heading("Reading back");
const prices = APIDataNode.buildFromIdentifier("simulated_prices_tutorial");
const recent = await prices.getDfBetweenDates({
  startDate: new Date(firstRunDay.getTime() - DAY),
  dimensionFilters: { unique_identifier: ["NVDA", "BTC"] },
});
console.log(
  `  APIDataNode.buildFromIdentifier("simulated_prices_tutorial").getDfBetweenDates(...) — one table, two updaters:\n`,
);
console.log(recent.toString().replace(/^/gm, "  "));
const lastObs = await prices.getLastObservation();
console.log(`\n  getLastObservation():\n`);
console.log(lastObs.toString().replace(/^/gm, "  "));
const numbers = await vol1.getDfBetweenDates({ startDate: offsetStart });
console.log(
  `\n  DailyRandomNumber table (shared by both vol updaters: the second finds it up to date and writes nothing):\n`,
);
console.log(numbers.toString(8).replace(/^/gm, "  "));

await runAll(`Run 2 — same day again: nothing new`);

process.env.TDAG_EXAMPLE_TODAY = isoDay(realToday);
await runAll(`Run 3 — as of ${isoDay(realToday)}: only the three new days`);

await closeStore();
await server?.close();
if (!process.argv.includes("--keep")) {
  for (const suffix of ["", ".wal"]) if (existsSync(dbPath + suffix)) rmSync(dbPath + suffix);
} else {
  console.log(`\nKept ${dbPath}`);
}

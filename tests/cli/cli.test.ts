/**
 * The `tdag` binary, run as a subprocess (`node dist/cli/main.js ...`) against temporary DuckDB
 * files and a temporary user project: a package with `"type": "module"`, `node_modules/tdag`
 * linked to this package (so the user's TypeScript module imports "tdag" exactly as a user's
 * would) and zod. The remote store is exercised against a real local platform server
 * (`startPlatformServer` over a temporary DuckDB file) on 127.0.0.1.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RunningPlatformServer,
  startPlatformServer,
} from "../../src/server/platform-server.js";
import { DuckDBStore } from "../../src/store/duckdb/index.js";
import { STORE_ENV_KEYS } from "../helpers/store-env.js";
import { buildCli, CLI, ROOT } from "./build-cli.js";

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let project = "";

/** Store settings of the test runner's environment that must not leak into a command. */
const STORE_ENV = STORE_ENV_KEYS;

/**
 * Runs `tdag <args>` in the temporary project (or `cwd`). The store variables of the runner are
 * cleared; `env` adds variables (`undefined` removes one).
 */
function tdag(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  cwd: string = project,
): Promise<CliResult> {
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    TDAG_PROGRESS: "0",
    TDAG_LOG_LEVEL: "",
  };
  for (const name of STORE_ENV) delete childEnv[name];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[name];
    else childEnv[name] = value;
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd,
        env: childEnv,
        encoding: "utf8",
        timeout: 30_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The `"store"` field of every `--json` output. */
interface StoreJson {
  readonly kind: string;
  readonly description: string;
  readonly projectUid: string | null;
  readonly location: string;
}

/** `tdag plan --json`, as far as the tests read it. */
interface PlanJson {
  readonly store: StoreJson;
  readonly storeExists: boolean;
  readonly root: { readonly updateHash: string };
  readonly nodes: readonly {
    readonly name: string;
    readonly namespace: string | null;
    readonly storageHash: string;
    readonly updateHash: string;
    readonly dependsOn: readonly string[];
    readonly storage: { readonly exists: boolean; readonly identifier: string | null };
    readonly updater: { readonly exists: boolean } | null;
    readonly watermark: Record<string, unknown> | null;
    readonly nextWindow: Record<string, unknown> | null;
  }[];
}

/** The JSON a command printed on stdout. */
function json<T = Record<string, unknown>>(result: CliResult): T {
  return JSON.parse(result.stdout) as T;
}

/** Bytes, mtime and the directory listing: everything `tdag plan` must leave unchanged. */
function snapshot(path: string): { sha: string; mtimeMs: number; size: number; files: string[] } {
  const st = statSync(path);
  return {
    sha: createHash("sha256").update(readFileSync(path)).digest("hex"),
    mtimeMs: st.mtimeMs,
    size: st.size,
    files: readdirSync(join(path, "..")).sort(),
  };
}

const NODES_TS = `
import { z } from "zod";
import { APIDataNode, DataNode, DataNodeConfiguration, type FrameRecord, type UpdateContext } from "tdag";

const DAY = 86_400_000;
const END = Date.parse("2026-01-10T00:00:00Z");

const DailyConfig = DataNodeConfiguration.extend({
  mean: z.number().default(2),
  fail: z.boolean().default(false),
});

/** Daily closes from offset_start to 2026-01-10. */
export class Daily extends DataNode<typeof DailyConfig> {
  static override configSchema = DailyConfig;
  static override nodeName = "Daily";
  static override OFFSET_START = new Date("2026-01-01T00:00:00Z");

  override getTableMetadata() {
    const ns = this.hashNamespace ? \`_\${this.hashNamespace}\` : "";
    return {
      identifier: \`daily_close_\${this.config.mean}\${ns}\`,
      description: "daily close prices of US equities",
      dataFrequencyId: "1d" as const,
    };
  }

  override update({ updateStatistics }: UpdateContext): FrameRecord[] {
    if (this.config.fail) throw new Error("boom: the upstream feed\\nis down");
    const start = updateStatistics.getUpdateStart({ stepMicros: DAY * 1000 }).startDate!;
    const rows: FrameRecord[] = [];
    for (let t = start.getTime(); t <= END; t += DAY) {
      rows.push({ time_index: new Date(t), close: this.config.mean * 100 + (t - start.getTime()) / DAY });
    }
    return rows;
  }
}

const SumConfig = DataNodeConfiguration.extend({ factor: z.number() });

/** Twice the Daily closes; depends on a Daily built in its constructor. */
export class Doubled extends DataNode<typeof SumConfig> {
  static override configSchema = SumConfig;
  static override nodeName = "Doubled";
  readonly daily = new Daily({ mean: 2 });

  override dependencies() {
    return { daily: this.daily };
  }

  override getTableMetadata() {
    return { identifier: this.hashNamespace ? null : "weekly_volume_stats", description: "rolling volume statistics of crypto pairs" };
  }

  override async update({ updateStatistics }: UpdateContext): Promise<FrameRecord[]> {
    const start = updateStatistics.getUpdateStart().startDate!;
    const upstream = await this.daily.getDfBetweenDates({ startDate: start });
    return upstream.toRecords().map((r) => ({ time_index: r.time_index, volume: (r.close as number) * this.config.factor }));
  }
}

export default () => new Doubled({ factor: 2 });
export const instance = new Daily({ mean: 3 });
export const failing = async () => new Daily({ mean: 4, fail: true });
export const notNode = 42;
export const returnsString = () => "not a node";
export const api = APIDataNode.buildFromIdentifier("daily_close_2");
export const readsPublished = () => {
  class Reader extends Doubled {
    override getTableMetadata() {
      return null;
    }
    override dependencies() {
      return { daily: APIDataNode.buildFromIdentifier("daily_close_2") };
    }
  }
  return new Reader({ factor: 5 });
};
export const readsMissing = () => {
  class Orphan extends Doubled {
    override getTableMetadata() {
      return null;
    }
    override dependencies() {
      return { daily: APIDataNode.buildFromIdentifier("no_such_table") };
    }
  }
  return new Orphan({ factor: 7 });
};
`;

const PLAIN_JS = `
import { DataNode } from "tdag";
class Constant extends DataNode {
  static nodeName = "Constant";
  update() {
    return [{ time_index: new Date("2026-02-01T00:00:00Z"), value: 1 }];
  }
}
export default Constant;
`;

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), "tdag-cli-"));
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "user-project", type: "module" }),
  );
  mkdirSync(join(project, "node_modules"));
  symlinkSync(ROOT, join(project, "node_modules", "tdag"), "dir");
  symlinkSync(join(ROOT, "node_modules", "zod"), join(project, "node_modules", "zod"), "dir");
  writeFileSync(join(project, "nodes.ts"), NODES_TS);
  writeFileSync(join(project, "plain.mjs"), PLAIN_JS);
  await buildCli();
}, 120_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

/** A fresh store path in the project (nothing is created until a command writes). */
let stores = 0;
const freshDb = () => join(project, "stores", `s${++stores}.duckdb`);

// Tests that need no shared state run concurrently (each writer has its own store file).
describe.concurrent("help, usage errors, failures", () => {
  it("prints help for tdag and for every command (exit 0)", async () => {
    const commands = [
      ["run"],
      ["plan"],
      ["data-node", "search"],
      ["data-node", "org-unique-identifiers"],
      ["data-node", "refresh-search-index"],
      ["data-node", "show"],
    ];
    const [top, ...each] = await Promise.all([
      tdag(["--help"]),
      ...commands.map((c) => tdag([...c, "--help"])),
    ]);
    expect(top!.code).toBe(0);
    expect(top!.stdout).toContain("data-node org-unique-identifiers");
    expect(top!.stdout).toMatch(/3 +not found/);
    each.forEach((result, i) => {
      expect(result.code, commands[i]!.join(" ")).toBe(0);
      expect(result.stdout).toContain(`Usage: tdag ${commands[i]!.join(" ")}`);
      expect(result.stdout).toContain("--db <path>");
      expect(result.stdout).toContain("--store <kind>");
    });
  });

  it("exits 2 on usage errors with one line on stderr and no stack", async () => {
    const cases = await Promise.all([
      tdag([]),
      tdag(["bogus"]),
      tdag(["run"]),
      tdag(["run", "nodes.ts", "--bogus"]),
      tdag(["data-node", "frobnicate"]),
      tdag(["data-node", "search", "x", "--mode", "sideways"]),
      tdag(["data-node", "show", "x", "--limit", "-3"]),
      tdag(["plan", "nodes.ts", "--export", "notNode"]),
      tdag(["plan", "nodes.ts", "--export", "returnsString"]),
      tdag(["plan", "nodes.ts", "--export", "api"]),
      tdag(["plan", "nodes.ts", "--export", "instance", "--namespace", "t1"]),
    ]);
    for (const result of cases) {
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    }
    expect(cases[1]!.stderr).toMatch(/^tdag: error: unknown command 'bogus'$/m);
    expect(cases[3]!.stderr).toContain("Unknown option '--bogus'");
    expect(cases[7]!.stderr).toContain("export 'notNode' of nodes.ts is a number");
    expect(cases[8]!.stderr).toContain("returned a string, not a DataNode");
    expect(cases[9]!.stderr).toContain("is an APIDataNode");
    // --namespace cannot re-hash an instance that was built when the module loaded
    expect(cases[10]!.stderr).toContain("already-constructed DataNode");
    expect(cases[10]!.stderr).toContain("export a factory");
  });

  it("exits 2 for an unknown store kind, --db with the remote store, and tdag serve on it", async () => {
    const remote = { TDAG_STORE: "remote" };
    const [option, fromEnv, dbOption, dbEnv, serveOption, serveEnv] = await Promise.all([
      tdag(["data-node", "show", "x", "--store", "sideways", "--json"]),
      tdag(["data-node", "org-unique-identifiers"], { TDAG_STORE: "postgres" }),
      tdag(["plan", "nodes.ts", "--store", "remote", "--db", freshDb()]),
      tdag(["plan", "nodes.ts", "--db", freshDb()], remote),
      tdag(["serve", "--store", "remote", "--port", "0"]),
      tdag(["serve", "--port", "0"], remote),
    ]);
    for (const result of [option, fromEnv, dbOption, dbEnv, serveOption, serveEnv]) {
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/^tdag: error: /);
    }
    expect(option.stderr).toContain("--store must be one of: duckdb, remote (got 'sideways')");
    expect(json(option)).toMatchObject({
      ok: false,
      store: null,
      error: { code: "usage", exitCode: 2 },
    });
    expect(fromEnv.stderr).toContain("TDAG_STORE=postgres is not a store kind");
    expect(fromEnv.stderr).toContain("duckdb, remote");
    expect(dbOption.stderr).toContain("--db names a DuckDB file");
    expect(dbEnv.stderr).toContain("(TDAG_STORE=remote)");
    expect(dbEnv.stderr).toContain("--store duckdb");
    expect(serveOption.stderr).toContain("tdag serve serves a DuckDB file, not the remote store");
    expect(serveEnv.stderr).toContain("unset TDAG_STORE");
  });

  it("exits 3 for a missing module or export, with --json printing the error", async () => {
    const [file, name] = await Promise.all([
      tdag(["plan", "missing.ts"]),
      tdag(["plan", "nodes.ts", "--export", "nope", "--json"]),
    ]);
    expect(file.code).toBe(3);
    expect(file.stderr).toContain("no such module");
    expect(name.code).toBe(3);
    expect(name.stderr).toContain("its exports: ");
    expect(json(name)).toMatchObject({ ok: false, error: { code: "not_found", exitCode: 3 } });
  });

  it("exits 1 with a one-line error when a node fails (--json and --verbose too)", async () => {
    const [text, asJson, verbose] = await Promise.all([
      tdag(["run", "nodes.ts", "--db", freshDb(), "--export", "failing"]),
      tdag(["run", "nodes.ts", "--db", freshDb(), "--export", "failing", "--json"]),
      tdag(["run", "nodes.ts", "--db", freshDb(), "--export", "failing", "--verbose"]),
    ]);
    expect(text.code).toBe(1);
    expect(text.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^tdag: error: Daily \(daily_[0-9a-f]{32}\) failed: boom: the upstream feed; is down$/,
      ),
    ]);
    expect(text.stdout).toMatch(/^Daily +failed +0 /m);
    expect(asJson.code).toBe(1);
    const run = json<{
      ok: boolean;
      nodes: Record<string, unknown>[];
      error: Record<string, unknown>;
    }>(asJson);
    expect(run.ok).toBe(false);
    expect(run.error["code"]).toBe("run_failed");
    expect(run.nodes[0]).toMatchObject({ status: "failed", rowsWritten: 0 });
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/^\s+at /m);
  });

  it("runs a DataNode subclass exported by a plain JavaScript module", async () => {
    const result = await tdag(["run", "plain.mjs", "--db", freshDb(), "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(json<{ nodes: Record<string, unknown>[] }>(result).nodes[0]).toMatchObject({
      name: "Constant",
      status: "updated",
      rowsWritten: 1,
    });
  });

  it("exits 4 when another process holds the store", async () => {
    const path = freshDb();
    mkdirSync(join(path, ".."), { recursive: true });
    const holder = await DuckDBStore.open({ path });
    try {
      const result = await tdag(["run", "nodes.ts", "--db", path]);
      expect(result.code).toBe(4);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain("cannot open the store");
    } finally {
      await holder.close();
    }
  });
});

describe("run, plan and the data-node commands on one store", () => {
  const db = () => join(project, "store", "main.duckdb");

  it("plans before the store exists without creating it", async () => {
    const result = await tdag(["plan", "nodes.ts", "--db", db(), "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(db())).toBe(false);
    expect(existsSync(join(project, "store"))).toBe(false);
    const plan = json<PlanJson>(result);
    expect(plan.storeExists).toBe(false);
    expect(plan.store).toEqual({
      kind: "duckdb",
      description: `duckdb:${db()}`,
      projectUid: null,
      location: db(),
    });
    expect(plan.nodes.map((n) => n.name)).toEqual(["Daily", "Doubled"]);
    for (const node of plan.nodes) {
      expect(node.storage.exists).toBe(false);
      expect(node.updater?.exists).toBe(false);
      expect(node.nextWindow).toMatchObject({ operand: ">=", isFirstRun: true });
    }
    expect(plan.nodes[0]!.nextWindow?.["start"]).toBe("2026-01-01T00:00:00.000Z");
    expect(plan.nodes[1]!.dependsOn).toEqual([plan.nodes[0]!.updateHash]);
  });

  it("runs the default export (a factory in a .ts module) and prints what each node wrote", async () => {
    const result = await tdag(["run", "nodes.ts", "--db", db()]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(
      /^NODE +STATUS +ROWS +IDS +FROM +TO +TIME +STORAGE HASH +UPDATE HASH$/,
    );
    expect(lines[2]).toMatch(/^Daily +updated +10 +1 +2026-01-01T00:00:00Z +2026-01-10T00:00:00Z /);
    expect(lines[3]).toMatch(/^Doubled +updated +10 /);
    expect(result.stdout).toContain("2 of 2 node(s) updated, 20 row(s) written");
    expect(lines.filter((l) => l !== "").at(-1)).toBe(`store: duckdb ${db()}`);
    expect(result.stderr).toBe("");
  });

  it("runs again with nothing new, as JSON", async () => {
    const result = await tdag(["run", "nodes.ts", "--db", db(), "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const run = json<{ ok: boolean; nodes: Record<string, unknown>[]; rowsWritten: number }>(
      result,
    );
    expect(run.ok).toBe(true);
    expect(run.rowsWritten).toBe(0);
    expect(run.nodes.map((n) => [n.name, n["status"]])).toEqual([
      ["Daily", "nothing_new"],
      ["Doubled", "nothing_new"],
    ]);
  });

  it("runs a namespaced factory into its own tables", async () => {
    const result = await tdag(["run", "nodes.ts", "--db", db(), "--namespace", "t1", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const run = json<{ root: Record<string, unknown>; nodes: Record<string, unknown>[] }>(result);
    expect(run.root["namespace"]).toBe("t1");
    expect(run.nodes.map((n) => n["status"])).toEqual(["updated", "updated"]);
  });

  it("resolves an APIDataNode dependency read-only", async () => {
    const result = await tdag([
      "run",
      "nodes.ts",
      "--db",
      db(),
      "--export",
      "readsPublished",
      "--json",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const run = json<{ nodes: Record<string, unknown>[] }>(result);
    expect(run.nodes[0]).toMatchObject({ kind: "api_data_node", status: "read_only" });
    expect(run.nodes[1]).toMatchObject({ status: "updated", rowsWritten: 10 });
  });

  let before: ReturnType<typeof snapshot> | undefined;

  // Readers open the file read-only, so they run at once; none may change the file.
  describe.concurrent("reading commands", () => {
    beforeAll(() => {
      before = snapshot(db());
    });

    it("plans after the run: existing storages, watermarks, next window; nothing written", async () => {
      const [asJson, asText] = await Promise.all([
        tdag(["plan", "nodes.ts", "--db", db(), "--json"]),
        tdag(["plan", "nodes.ts", "--db", db()]),
      ]);
      expect(asJson.code, asJson.stderr).toBe(0);
      const plan = json<PlanJson>(asJson);
      for (const node of plan.nodes) {
        expect(node.storage.exists).toBe(true);
        expect(node.updater?.exists).toBe(true);
        expect(node.watermark).toMatchObject({
          rowCount: 10,
          maxTime: "2026-01-10T00:00:00.000Z",
        });
        expect(node.nextWindow).toMatchObject({
          operand: ">",
          start: "2026-01-10T00:00:00.000Z",
          isFirstRun: false,
        });
      }
      expect(plan.nodes[0]!.storage.identifier).toBe("daily_close_2");
      expect(asText.code).toBe(0);
      expect(asText.stdout).toMatch(
        /Daily +daily_[0-9a-f]{32} +daily_[0-9a-f]{32} +exists +exists/,
      );
      expect(asText.stdout).toMatch(/Daily +10 +- +2026-01-10T00:00:00Z +> 2026-01-10T00:00:00Z/);
      expect(asText.stdout).toContain("nothing was written");
    });

    it("plans a namespaced factory as new tables, and reports a missing APIDataNode table", async () => {
      const [ns, orphan] = await Promise.all([
        tdag(["plan", "nodes.ts", "--db", db(), "--namespace", "t2", "--json"]),
        tdag(["plan", "nodes.ts", "--db", db(), "--export", "readsMissing"]),
      ]);
      expect(ns.code, ns.stderr).toBe(0);
      const nodes = json<PlanJson>(ns).nodes;
      expect(nodes.every((n) => n.namespace === "t2" && !n.storage.exists)).toBe(true);
      expect(orphan.code).toBe(0);
      expect(orphan.stdout).toMatch(/APIDataNode\(identifier=no_such_table\) .*MISSING/);
      expect(orphan.stderr).toContain("a run would fail");
    });

    it("shows rows as a table and as JSON, with a window, a limit and columns", async () => {
      const [table, window, missing, badDate, badColumn] = await Promise.all([
        tdag(["data-node", "show", "daily_close_2", "--db", db(), "--limit", "3"]),
        tdag([
          "data-node",
          "show",
          "daily_close_2",
          "--db",
          db(),
          "--from",
          "2026-01-08",
          "--to",
          "2026-01-09T00:00:00Z",
          "--columns",
          "close",
          "--json",
        ]),
        tdag(["data-node", "show", "no_such_table", "--db", db()]),
        tdag(["data-node", "show", "daily_close_2", "--db", db(), "--from", "yesterday"]),
        tdag(["data-node", "show", "daily_close_2", "--db", db(), "--columns", "open"]),
      ]);
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout.split("\n").slice(0, 5)).toEqual([
        "time_index           |   close",
        "timestamptz          | float64",
        "2026-01-01T00:00:00Z |   200.0",
        "2026-01-02T00:00:00Z |   201.0",
        "2026-01-03T00:00:00Z |   202.0",
      ]);
      expect(table.stderr).toContain("more exist");
      expect(window.code, window.stderr).toBe(0);
      expect(json(window)).toMatchObject({
        store: { kind: "duckdb", location: db(), projectUid: null },
        identifier: "daily_close_2",
        truncated: false,
        rows: [
          { time_index: "2026-01-08T00:00:00Z", close: 207 },
          { time_index: "2026-01-09T00:00:00Z", close: 208 },
        ],
      });
      expect(missing.code).toBe(3);
      expect(missing.stderr).toMatch(/^tdag: error: no table has the identifier/);
      expect(badDate.code).toBe(2);
      expect(badColumn.code).toBe(2);
      expect(badColumn.stderr).toContain("no column 'open'");
    });

    it("lists published identifiers and searches by description and by column", async () => {
      const [ids, idsText, description, column, filtered, table] = await Promise.all([
        tdag(["data-node", "org-unique-identifiers", "--db", db(), "--json"]),
        tdag(["data-node", "org-unique-identifiers", "--db", db()]),
        tdag(["data-node", "search", "daily close price", "--db", db(), "--json"]),
        tdag(["data-node", "search", "close", "--mode", "column", "--db", db(), "--json"]),
        tdag([
          "data-node",
          "search",
          "close",
          "--mode",
          "column",
          "--data-source-id",
          "2",
          "--db",
          db(),
          "--json",
        ]),
        tdag(["data_node", "search", "daily close price", "--db", db()]),
      ]);
      expect(ids.code, ids.stderr).toBe(0);
      expect(json<{ identifiers: string[] }>(ids).identifiers).toEqual(
        expect.arrayContaining(["daily_close_2", "daily_close_2_t1", "weekly_volume_stats"]),
      );
      expect(json<{ store: StoreJson }>(ids).store.location).toBe(db());
      // stdout stays one identifier per line; the store line goes to stderr
      expect(idsText.stdout.split("\n")).toContain("daily_close_2");
      expect(idsText.stdout).not.toContain("store:");
      expect(idsText.stderr).toContain(`tdag: store: duckdb ${db()}`);
      expect(description.code, description.stderr).toBe(0);
      const hits = json<{ hits: Record<string, unknown>[] }>(description).hits;
      expect(String(hits[0]!["identifier"])).toMatch(/^daily_close_2/);
      expect(column.code, column.stderr).toBe(0);
      const columnHits = json<{ hits: Record<string, unknown>[] }>(column).hits;
      expect(columnHits.length).toBeGreaterThan(0);
      expect(columnHits.every((h) => (h["matchedColumns"] as string[]).includes("close"))).toBe(
        true,
      );
      expect(json<{ hits: unknown[] }>(filtered).hits).toEqual([]);
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout.split("\n")[0]).toMatch(
        /^# +SCORE +IDENTIFIER +STORAGE HASH +DESCRIPTION$/,
      );
    });
  });

  it("left the store byte-for-byte unchanged after plan, show and search (same mtime, no new file)", () => {
    expect(before).toBeDefined();
    expect(snapshot(db())).toEqual(before);
  });

  it("refreshes the search index of a table named by identifier", async () => {
    const refreshed = await tdag([
      "data-node",
      "refresh-search-index",
      "daily_close_2",
      "--db",
      db(),
    ]);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(refreshed.stdout).toMatch(/^refreshed the search index of daily_close_2 \(uid /);
    const [unknown, noStore] = await Promise.all([
      tdag(["data-node", "refresh-search-index", "no_such_table", "--db", db()]),
      tdag(["data-node", "refresh-search-index", "daily_close_2", "--db", freshDb()]),
    ]);
    expect(unknown.code).toBe(3);
    expect(noStore.code).toBe(3);
  });

  it("keeps --json stdout clean when progress bars are forced onto stderr", async () => {
    const run = await tdag(["run", "nodes.ts", "--db", db(), "--force", "--json"], {
      TDAG_PROGRESS: "1",
    });
    expect(run.code, run.stderr).toBe(0);
    expect(json<{ ok: boolean }>(run).ok).toBe(true);
    expect(run.stderr).toMatch(/2\/2 nodes/);
    const show = await tdag(["data-node", "show", "daily_close_2", "--db", db(), "--limit", "0"], {
      TDAG_PROGRESS: "1",
    });
    expect(show.stderr).toMatch(/10\/10 rows/);
    expect(show.stdout).not.toContain("rows |");
  });
});

/** A port on 127.0.0.1 nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

// One local platform server (over a temporary DuckDB file) for every remote case.
describe("the remote store: TDAG_STORE=remote and --store against a local platform server", () => {
  let server: RunningPlatformServer;
  let backing: DuckDBStore;
  /** The variables `tdag serve` prints: TDAG_STORE=remote, the endpoint, the token, the project. */
  let remoteEnv: Record<string, string> = {};
  /** The commands' working directory: a local store would appear here as .tdag/tdag.duckdb. */
  let work = "";
  const module = "../nodes.ts";
  const storeText = () => `store: remote ${server.url}/orm/api (project ${server.projectUid})`;
  const storeJson = () => ({
    kind: "remote",
    description: `remote:${server.url}/orm/api`,
    projectUid: server.projectUid,
    location: `${server.url}/orm/api`,
  });
  /** What the platform holds: its storages (uid, hash, identifier). */
  const platformStorages = async () =>
    (await backing.listStorages()).map((s) => `${s.uid} ${s.storageHash} ${s.identifier}`).sort();

  beforeAll(async () => {
    work = join(project, "remote-work");
    mkdirSync(work);
    backing = await DuckDBStore.open({ path: join(project, "platform", "backing.duckdb") });
    server = await startPlatformServer({ port: 0, store: backing, token: "cli-remote-token" });
    remoteEnv = { ...server.env };
    expect(remoteEnv["TDAG_STORE"]).toBe("remote");
  });

  afterAll(async () => {
    await server?.close();
    await backing?.close();
  });

  it("runs a module on the platform: the server's store is written, no local file is created", async () => {
    const text = await tdag(["run", module], remoteEnv, work);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Daily +updated +10 +1 /m);
    expect(text.stdout).toContain("2 of 2 node(s) updated, 20 row(s) written");
    expect(text.stdout.trimEnd().split("\n").at(-1)).toBe(storeText());
    expect(existsSync(join(work, ".tdag"))).toBe(false);
    expect(existsSync(join(project, ".tdag"))).toBe(false);

    // The rows are in the platform's backing store, written through an updater of the project.
    const daily = await backing.findStorage({ identifier: "daily_close_2" });
    expect(daily).not.toBeNull();
    expect((await backing.getTableStatistics(daily!.uid)).rowCount).toBe(10);
    const weekly = await backing.findStorage({ identifier: "weekly_volume_stats" });
    expect((await backing.getTableStatistics(weekly!.uid)).rowCount).toBe(10);

    const again = await tdag(["run", module, "--json"], remoteEnv, work);
    expect(again.code, again.stderr).toBe(0);
    const run = json<{ store: StoreJson; rowsWritten: number; nodes: Record<string, unknown>[] }>(
      again,
    );
    expect(run.store).toEqual(storeJson());
    expect(run.rowsWritten).toBe(0);
    expect(run.nodes.map((n) => n["status"])).toEqual(["nothing_new", "nothing_new"]);
    const updater = await backing.findUpdater({ updateHash: String(run.nodes[0]!["updateHash"]) });
    expect(updater?.storageUid).toBe(daily!.uid);
  });

  it("reads the platform with show, plan, search and org-unique-identifiers, creating nothing there", async () => {
    const before = await platformStorages();
    const [show, showJson, plan, planNew, ids, idsText, search] = await Promise.all([
      tdag(["data-node", "show", "daily_close_2", "--limit", "3"], remoteEnv, work),
      tdag(["data-node", "show", "daily_close_2", "--json"], remoteEnv, work),
      tdag(["plan", module, "--json"], remoteEnv, work),
      tdag(["plan", module, "--namespace", "remote_plan", "--json"], remoteEnv, work),
      tdag(["data-node", "org-unique-identifiers", "--json"], remoteEnv, work),
      tdag(["data-node", "org-unique-identifiers"], remoteEnv, work),
      tdag(["data-node", "search", "close", "--mode", "column", "--json"], remoteEnv, work),
    ]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout.split("\n").slice(0, 3)).toEqual([
      "time_index           |   close",
      "timestamptz          | float64",
      "2026-01-01T00:00:00Z |   200.0",
    ]);
    expect(show.stdout.trimEnd().split("\n").at(-1)).toBe(storeText());
    expect(showJson.code, showJson.stderr).toBe(0);
    expect(json(showJson)).toMatchObject({
      store: storeJson(),
      identifier: "daily_close_2",
      rowCount: 10,
    });

    expect(plan.code, plan.stderr).toBe(0);
    const planned = json<PlanJson>(plan);
    expect(planned.store).toEqual(storeJson());
    expect(planned.storeExists).toBe(true);
    expect(planned.nodes.every((n) => n.storage.exists && n.updater?.exists)).toBe(true);
    expect(planned.nodes[0]!.watermark).toMatchObject({ maxTime: "2026-01-10T00:00:00.000Z" });
    expect(planNew.code, planNew.stderr).toBe(0);
    const fresh = json<PlanJson>(planNew).nodes;
    expect(fresh.every((n) => !n.storage.exists && !n.updater?.exists)).toBe(true);

    expect(ids.code, ids.stderr).toBe(0);
    expect(json<{ store: StoreJson; identifiers: string[] }>(ids)).toEqual({
      store: storeJson(),
      identifiers: expect.arrayContaining(["daily_close_2", "weekly_volume_stats"]),
    });
    expect(idsText.stdout.split("\n")).toContain("daily_close_2");
    expect(idsText.stderr).toContain(`tdag: ${storeText()}`);
    expect(search.code, search.stderr).toBe(0);
    const found = json<{ store: StoreJson; hits: { identifier: string | null }[] }>(search);
    expect(found.store).toEqual(storeJson());
    expect(found.hits.map((h) => h.identifier)).toContain("daily_close_2");

    // Reading created nothing on the platform (nor the planned namespace's tables) or locally.
    expect(await platformStorages()).toEqual(before);
    expect(await backing.findStorage({ storageHash: fresh[0]!.storageHash })).toBeNull();
    expect(await backing.findUpdater({ updateHash: fresh[0]!.updateHash })).toBeNull();
    expect(existsSync(join(work, ".tdag"))).toBe(false);
  });

  it("--store wins over TDAG_STORE in both directions", async () => {
    const localDb = freshDb();
    const [toRemote, toDuckdb, planLocal, planRemote] = await Promise.all([
      tdag(
        ["data-node", "show", "daily_close_2", "--store", "remote", "--json"],
        { ...remoteEnv, TDAG_STORE: "duckdb" },
        work,
      ),
      tdag(
        ["data-node", "org-unique-identifiers", "--store", "duckdb", "--db", localDb, "--json"],
        remoteEnv,
        work,
      ),
      tdag(["plan", module, "--store", "duckdb", "--json"], remoteEnv, work),
      tdag(
        ["plan", module, "--store", "remote", "--json"],
        { ...remoteEnv, TDAG_STORE: "duckdb" },
        work,
      ),
    ]);
    expect(toRemote.code, toRemote.stderr).toBe(0);
    expect(json(toRemote)).toMatchObject({ store: storeJson(), rowCount: 10 });
    expect(toDuckdb.code, toDuckdb.stderr).toBe(0);
    expect(json(toDuckdb)).toEqual({
      store: {
        kind: "duckdb",
        description: `duckdb:${localDb}`,
        projectUid: null,
        location: localDb,
      },
      identifiers: [],
    });
    expect(planLocal.code, planLocal.stderr).toBe(0);
    const local = json<PlanJson>(planLocal);
    expect(local.store.location).toBe(join(work, ".tdag", "tdag.duckdb"));
    expect(local.storeExists).toBe(false);
    expect(planRemote.code, planRemote.stderr).toBe(0);
    const remote = json<PlanJson>(planRemote);
    expect(remote.store).toEqual(storeJson());
    // The module's nodes hash against the selected store: the platform's project enters the
    // update hash, never the storage hash.
    expect(remote.nodes[0]!.storageHash).toBe(local.nodes[0]!.storageHash);
    expect(remote.root.updateHash).not.toBe(local.root.updateHash);
    expect(existsSync(join(work, ".tdag"))).toBe(false);
    expect(existsSync(localDb)).toBe(false);
  });

  it("fails with exit 4 naming what is missing or the endpoint that is down, never falling back", async () => {
    const port = await closedPort();
    const down = { ...remoteEnv, MAINSEQUENCE_ENDPOINT: `http://127.0.0.1:${port}` };
    const [downShow, downRun, downJson, noProject, noEndpoint, noToken] = await Promise.all([
      tdag(["data-node", "show", "daily_close_2"], down, work),
      tdag(["run", module], down, work),
      tdag(["data-node", "org-unique-identifiers", "--json"], down, work),
      tdag(["run", module], { ...remoteEnv, MAIN_SEQUENCE_PROJECT_UID: undefined }, work),
      tdag(
        ["data-node", "search", "close"],
        { ...remoteEnv, MAINSEQUENCE_ENDPOINT: undefined },
        work,
      ),
      tdag(["plan", module], { ...remoteEnv, MAINSEQUENCE_ACCESS_TOKEN: "" }, work),
    ]);
    const errorLines = (r: CliResult) =>
      r.stderr.split("\n").filter((l) => l.startsWith("tdag: error:"));
    for (const result of [downShow, downRun, downJson, noProject, noEndpoint, noToken]) {
      expect(result.code, result.stderr).toBe(4);
      expect(errorLines(result)).toHaveLength(1);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    }
    for (const result of [downShow, downRun, downJson]) {
      expect(errorLines(result)[0]).toContain(
        `cannot reach the platform at http://127.0.0.1:${port}`,
      );
    }
    expect(json(downJson)).toMatchObject({
      ok: false,
      store: { kind: "remote", location: `http://127.0.0.1:${port}/orm/api` },
      error: { code: "transport", exitCode: 4 },
    });
    expect(errorLines(noProject)[0]).toBe(
      "tdag: error: the remote store (TDAG_STORE=remote) is not configured: MAIN_SEQUENCE_PROJECT_UID is not set",
    );
    expect(errorLines(noEndpoint)[0]).toContain("MAINSEQUENCE_ENDPOINT is not set");
    expect(errorLines(noToken)[0]).toContain("a token (MAINSEQUENCE_ACCESS_TOKEN");
    // Nothing was written anywhere instead: no local store, nothing new on the platform.
    expect(existsSync(join(work, ".tdag"))).toBe(false);
  });
});

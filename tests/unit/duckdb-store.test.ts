import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.js";
import type { Column } from "../../src/frame/dtypes.js";
import { Frame } from "../../src/frame/frame.js";
import { toEpochMicros } from "../../src/frame/time.js";
import { quoteIdent } from "../../src/store/duckdb/duckdb-dialect.js";
import { stagingType } from "../../src/store/duckdb/duckdb-frame-io.js";
import {
  DEFAULT_DUCKDB_PATH,
  DUCKDB_PATH_ENV,
  DuckDBStore,
  resolveDuckDBPath,
} from "../../src/store/duckdb/index.js";
import { writeThroughUpdater } from "../helpers/write.js";

const root = mkdtempSync(join(tmpdir(), "tdag-duckdb-unit-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const tmpFile = () => join(root, `${randomUUID()}.duckdb`);

const opened: DuckDBStore[] = [];
async function open(path = tmpFile(), extra: Parameters<typeof DuckDBStore.open>[0] = {}) {
  const store = await DuckDBStore.open({ ...extra, path });
  opened.push(store);
  return store;
}
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

async function storage(store: DuckDBStore, hash = `h_${randomUUID().slice(0, 8)}`) {
  return store.registerStorage({
    storageHash: hash,
    namespace: null,
    buildConfiguration: {},
    sourceClassName: "Unit",
  });
}

async function caught(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

/** Inspects a closed store file with a raw DuckDB connection. */
async function inspect(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(path);
  try {
    const conn = await instance.connect();
    const result = await conn.runAndReadAll(sql);
    conn.closeSync();
    return result.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    instance.closeSync();
  }
}

describe("path resolution", () => {
  it("prefers the explicit path, then TDAG_DUCKDB_PATH, then .tdag/tdag.duckdb under cwd", () => {
    expect(resolveDuckDBPath("/data/x.duckdb", { [DUCKDB_PATH_ENV]: "/env.duckdb" })).toBe(
      "/data/x.duckdb",
    );
    expect(resolveDuckDBPath(undefined, { [DUCKDB_PATH_ENV]: "/env/t.duckdb" }, "/cwd")).toBe(
      "/env/t.duckdb",
    );
    expect(resolveDuckDBPath(undefined, { [DUCKDB_PATH_ENV]: "rel/t.duckdb" }, "/cwd")).toBe(
      "/cwd/rel/t.duckdb",
    );
    expect(resolveDuckDBPath(undefined, { [DUCKDB_PATH_ENV]: "  " }, "/cwd")).toBe(
      join("/cwd", DEFAULT_DUCKDB_PATH),
    );
    expect(resolveDuckDBPath(undefined, {}, "/cwd")).toBe("/cwd/.tdag/tdag.duckdb");
    expect(resolveDuckDBPath(":memory:", {}, "/cwd")).toBe(":memory:");
  });

  it("opens the file named by TDAG_DUCKDB_PATH and creates its directory", async () => {
    const path = join(root, randomUUID(), "nested", "store.duckdb");
    const previous = process.env[DUCKDB_PATH_ENV];
    process.env[DUCKDB_PATH_ENV] = path;
    try {
      const store = await DuckDBStore.open();
      opened.push(store);
      expect(store.path).toBe(path);
      expect(store.description).toBe(`duckdb:${path}`);
      expect(existsSync(path)).toBe(true);
    } finally {
      if (previous === undefined) delete process.env[DUCKDB_PATH_ENV];
      else process.env[DUCKDB_PATH_ENV] = previous;
    }
  });

  it("supports :memory:", async () => {
    const store = await open(":memory:");
    const s = await storage(store);
    await writeThroughUpdater(
      store,
      s.uid,
      Frame.fromRecords([{ time_index: "2024-01-01T00:00:00Z", v: 1 }]),
    );
    expect((await store.readFrame(s.uid)).length).toBe(1);
  });
});

describe("file lock", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill();
    child = undefined;
  });

  it("fails fast with database_locked when another process holds the file", async () => {
    const path = tmpFile();
    const script = `
      const { DuckDBInstance } = require("@duckdb/node-api");
      DuckDBInstance.create(process.argv[1]).then(async (db) => {
        await (await db.connect()).run("CREATE TABLE held (x INT)");
        process.stdout.write("ready\\n");
        setInterval(() => {}, 1000);
      });`;
    const proc = spawn(process.execPath, ["-e", script, path], {
      cwd: process.cwd(),
      stdio: ["ignore", "pipe", "inherit"],
    });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      proc.stdout?.on("data", (d: Buffer) => {
        if (d.toString().includes("ready")) resolve();
      });
      proc.on("exit", (code) => reject(new Error(`holder exited with ${code}`)));
    });
    const started = Date.now();
    const error = await caught(DuckDBStore.open({ path }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.code).toBe("database_locked");
    expect(error.message).toContain(path);
    expect(error.message).toContain("held");
    expect(error.message).toContain(String(proc.pid));
    expect(error.cause).toBeInstanceOf(Error);
  });
});

describe("physical layout", () => {
  it("keeps data in a real table named by the storage hash, keyed by the full index", async () => {
    const path = tmpFile();
    const store = await open(path);
    const s = await storage(store, "prices_abc123");
    await writeThroughUpdater(
      store,
      s.uid,
      Frame.fromRecords(
        [{ time_index: "2024-01-01T00:00:00Z", unique_identifier: "A", close: 1, j: { a: 1 } }],
        { dtypes: { j: "json" } },
      ),
    );
    expect(store.jsonType).toBe(true);
    await store.close();
    const cols = await inspect(
      path,
      "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'prices_abc123' ORDER BY column_index",
    );
    expect(cols).toEqual([
      { column_name: "time_index", data_type: "TIMESTAMP WITH TIME ZONE" },
      { column_name: "unique_identifier", data_type: "VARCHAR" },
      { column_name: "close", data_type: "DOUBLE" },
      { column_name: "j", data_type: "JSON" },
    ]);
    const pk = await inspect(
      path,
      "SELECT constraint_column_names AS cols FROM duckdb_constraints() WHERE table_name = 'prices_abc123' AND constraint_type = 'PRIMARY KEY'",
    );
    expect(pk[0]?.["cols"]).toEqual(["time_index", "unique_identifier"]);
    const progress = await inspect(path, "SELECT coordinate FROM tdag_progress");
    expect(progress).toEqual([{ coordinate: '["A"]' }]);
    const temp = await inspect(
      path,
      "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name LIKE '__tdag%'",
    );
    expect(Number(temp[0]?.["n"])).toBe(0);
  });

  it("stages int64 as DOUBLE while every value is safe, as BIGINT once one is a bigint, exactly", async () => {
    expect(stagingType("int64", [1, null, -(2 ** 53 - 1)]).toString()).toBe("DOUBLE");
    expect(stagingType("int64", [1, null, 2n ** 53n]).toString()).toBe("BIGINT");
    expect(stagingType("float64", new Float64Array([1])).toString()).toBe("DOUBLE");
    const path = tmpFile();
    const store = await open(path);
    const s = await storage(store, "ids_abc123");
    const MAX = 2n ** 63n - 1n;
    const frame = (ids: (number | bigint)[], day: number) =>
      Frame.fromColumns(
        { time_index: ids.map(() => `2024-01-0${day}T00:00:00Z`), id: ids, n: ids },
        { indexNames: ["time_index", "id"], dtypes: { id: "int64", n: "int64" } },
      );
    await writeThroughUpdater(store, s.uid, frame([1, 2 ** 53 - 1], 1)); // DOUBLE staging
    await writeThroughUpdater(store, s.uid, frame([MAX, -(2n ** 63n), 2n ** 53n + 1n], 2)); // BIGINT
    const back = await store.readFrame(s.uid);
    expect(back.column("n")).toEqual([1, 2 ** 53 - 1, -(2n ** 63n), 2n ** 53n + 1n, MAX]);
    await store.close();
    const stored = await inspect(path, "SELECT CAST(n AS VARCHAR) AS n FROM ids_abc123 ORDER BY n");
    expect(stored.map((r) => r["n"])).toEqual([
      "-9223372036854775808",
      "1",
      "9007199254740991",
      "9007199254740993",
      "9223372036854775807",
    ]);
    const progress = await inspect(
      path,
      "SELECT coordinate FROM tdag_progress ORDER BY coordinate",
    );
    expect(progress.map((r) => r["coordinate"])).toContain("[9223372036854775807]");
  });

  it("opens read-only for reads and refuses writes", async () => {
    const path = tmpFile();
    const writer = await open(path);
    const s = await storage(writer);
    await writeThroughUpdater(
      writer,
      s.uid,
      Frame.fromRecords([{ time_index: "2024-01-01T00:00:00Z", v: 1 }]),
    );
    await writer.close();
    const reader = await open(path, { readOnly: true });
    expect(reader.readOnly).toBe(true);
    expect((await reader.readFrame(s.uid)).length).toBe(1);
    const error = await caught(storage(reader));
    expect(error.cause).toBeInstanceOf(Error);
  });
});

describe("hostile identifiers and values", () => {
  const evil = "x'); DROP TABLE y; --";

  it("round-trips injection-looking values as data and binds them as parameters", async () => {
    const store = await open();
    const s = await storage(store, `t"; DROP TABLE tdag_storages; --`);
    const frame = Frame.fromRecords([
      { time_index: "2024-01-01T00:00:00Z", unique_identifier: evil, [`we"ird col`]: evil },
      { time_index: "2024-01-01T00:00:00Z", unique_identifier: "plain", [`we"ird col`]: "ok" },
    ]);
    const { statistics } = await writeThroughUpdater(store, s.uid, frame);
    expect(statistics.indexProgress).toEqual({
      [evil]: toEpochMicros("2024-01-01T00:00:00Z"),
      plain: toEpochMicros("2024-01-01T00:00:00Z"),
    });
    const back = await store.readFrame(s.uid, {
      dimensionFilters: { unique_identifier: [evil] },
      columns: [`we"ird col`],
    });
    expect(back.toRecords({ time: "iso" })).toEqual([
      { time_index: "2024-01-01T00:00:00Z", unique_identifier: evil, [`we"ird col`]: evil },
    ]);
    const last = await store.readLastObservation(s.uid, {
      indexCoordinates: [{ unique_identifier: evil }],
    });
    expect(last.length).toBe(1);
    await store.setTableMetadata(s.uid, { identifier: evil, description: evil });
    expect((await store.findStorage({ identifier: evil }))?.uid).toBe(s.uid);
    await store.batchGetOrRegisterAssets([
      { uniqueIdentifier: evil, snapshot: { name: evil, ticker: evil } },
    ]);
    expect((await store.filterAssets({ nameContains: "DROP" })).length).toBe(1);
    expect(await store.findUnregisteredAssets([evil, "other"])).toEqual(["other"]);
    expect(
      (await store.deleteAfterDate(s.uid, 0, { dimensionFilters: { unique_identifier: [evil] } }))
        .deletedCount,
    ).toBe(1);
    expect((await store.listStorages()).length).toBe(1);
  });

  it("quotes identifiers by doubling quotes and rejects NUL", () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(() => quoteIdent("a\u0000b")).toThrow(StoreError);
  });

  it("puts values in params, never in the SQL text", async () => {
    const store = await open();
    const s = await storage(store);
    await writeThroughUpdater(
      store,
      s.uid,
      Frame.fromRecords([{ time_index: "2024-01-01T00:00:00Z", day: "2024-01-01", v: 1 }], {
        indexNames: ["time_index", "day"],
        dtypes: { day: "date" },
      }),
    );
    const error = await caught(store.readFrame(s.uid, { dimensionFilters: { day: [evil] } }));
    expect(error.sql).toBeDefined();
    expect(error.sql).not.toContain("DROP");
    expect(error.params).toContain(evil);
    expect(error.cause).toBeInstanceOf(Error);
  });
});

describe("transactions", () => {
  it("rolls back a failure after the upsert and before COMMIT", async () => {
    let fail = false;
    const store = await open(tmpFile(), {
      testHooks: {
        beforeCommit: () => {
          if (fail) throw new Error("injected failure before commit");
        },
      },
    });
    const s = await storage(store);
    await writeThroughUpdater(
      store,
      s.uid,
      Frame.fromRecords([{ time_index: "2024-01-01T00:00:00Z", unique_identifier: "A", v: 1 }]),
    );
    const before = {
      rows: (await store.readFrame(s.uid)).toRecords(),
      stats: await store.getTableStatistics(s.uid),
      schema: (await store.findStorage({ uid: s.uid }))?.schema,
    };
    fail = true;
    const error = await caught(
      writeThroughUpdater(
        store,
        s.uid,
        Frame.fromRecords([
          { time_index: "2024-01-01T00:00:00Z", unique_identifier: "A", v: 2, extra: "new" },
          { time_index: "2024-02-01T00:00:00Z", unique_identifier: "B", v: 3, extra: "new" },
        ]),
      ),
    );
    expect(error.message).toContain("injected failure");
    expect((await store.readFrame(s.uid)).toRecords()).toEqual(before.rows);
    expect(await store.getTableStatistics(s.uid)).toEqual(before.stats);
    expect((await store.findStorage({ uid: s.uid }))?.schema).toEqual(before.schema);
    fail = false;
    await writeThroughUpdater(
      store,
      s.uid,
      Frame.fromRecords([
        { time_index: "2024-02-01T00:00:00Z", unique_identifier: "B", v: 3, extra: "x" },
      ]),
    );
    expect((await store.readFrame(s.uid)).columnNames).toContain("extra");
  });

  it("wraps DuckDB errors with sql, params and cause", async () => {
    const store = await open();
    const s = await storage(store);
    const error = await caught(
      writeThroughUpdater(
        store,
        s.uid,
        // Built without validation, so the bad date reaches DuckDB's CAST.
        Frame.fromTypedColumns(
          ["time_index"],
          new Map<string, Column>([
            ["time_index", { dtype: "timestamptz", values: Float64Array.of(0) }],
            ["d", { dtype: "date", values: ["not-a-date"] }],
          ]),
        ),
      ),
    );
    expect(error.code).toBe("conversion_error");
    expect(error.sql).toContain("INSERT INTO");
    expect(error.cause).toBeInstanceOf(Error);
    expect((await store.findStorage({ uid: s.uid }))?.schema).toBeNull();
  });

  it("rejects a null index value and keeps the table unchanged", async () => {
    const store = await open();
    const s = await storage(store);
    await writeThroughUpdater(
      store,
      s.uid,
      Frame.fromRecords([{ time_index: "2024-01-01T00:00:00Z", unique_identifier: "A", v: 1 }]),
    );
    const error = await caught(
      writeThroughUpdater(
        store,
        s.uid,
        Frame.fromRecords([
          { time_index: "2024-01-02T00:00:00Z", unique_identifier: null, v: 2 },
          { time_index: "2024-01-02T00:00:00Z", unique_identifier: "B", v: 3 },
        ]),
      ),
    );
    expect(error.code).toBe("null_index_value");
    expect((await store.readFrame(s.uid)).length).toBe(1);
    expect(Object.keys((await store.getTableStatistics(s.uid)).indexProgress ?? {})).toEqual(["A"]);
  });

  it("honours an aborted signal", async () => {
    const store = await open();
    const s = await storage(store);
    const controller = new AbortController();
    controller.abort();
    const error = await caught(store.readFrame(s.uid, {}, { signal: controller.signal }));
    expect(error.code).toBe("aborted");
  });

  it("refuses calls after close", async () => {
    const store = await DuckDBStore.open({ path: ":memory:" });
    await store.close();
    await store.close();
    expect((await caught(store.listStorages())).code).toBe("closed");
  });
});

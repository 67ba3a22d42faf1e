import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.js";
import { Frame } from "../../src/frame/frame.js";
import { toEpochMicros } from "../../src/frame/time.js";
import { DuckDBStore } from "../../src/store/duckdb/index.js";
import { MIGRATIONS, type Migration, SCHEMA_VERSION } from "../../src/store/sql/sql-migrations.js";
import { TDAG_VERSION } from "../../src/version.js";
import { rejectionOf } from "../helpers/temp-store.js";

/**
 * The store's own tables carry a schema version. `tests/fixtures/store-v0.duckdb.gz` is a file
 * written by tdag 0.1.0 (the release before versioning; see tests/fixtures/README.md): opening
 * it migrates it forward in one transaction, and everything it held stays readable.
 */
const FIXTURE = join(import.meta.dirname, "..", "fixtures", "store-v0.duckdb.gz");
const root = mkdtempSync(join(tmpdir(), "tdag-migrations-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const opened: DuckDBStore[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

async function open(path: string, options: Parameters<typeof DuckDBStore.open>[0] = {}) {
  const store = await DuckDBStore.open({ ...options, path });
  opened.push(store);
  return store;
}

/** A fresh copy of the 0.1.0 fixture file. */
function fixtureCopy(): string {
  const path = join(root, `${randomUUID()}.duckdb`);
  writeFileSync(path, gunzipSync(readFileSync(FIXTURE)));
  return path;
}

/** Runs SQL on a file with DuckDB itself (no tdag code in between). */
async function raw<T = Record<string, unknown>>(path: string, sql: string): Promise<T[]> {
  const instance = await DuckDBInstance.create(path);
  try {
    const conn = await instance.connect();
    const result = await conn.runAndReadAll(sql);
    const rows = result.getRowObjectsJson() as T[];
    conn.closeSync();
    return rows;
  } finally {
    instance.closeSync();
  }
}

async function tables(path: string): Promise<string[]> {
  const rows = await raw<{ table_name: string }>(
    path,
    "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'tdag_%' ORDER BY 1",
  );
  return rows.map((r) => r.table_name);
}

const T = (iso: string) => toEpochMicros(iso);

describe("store schema versions", () => {
  it("this release's schema version is the last migration, and the version matches package.json", () => {
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.at(-1)!.version);
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    const pkg = JSON.parse(
      readFileSync(join(import.meta.dirname, "..", "..", "package.json"), "utf8"),
    );
    expect(TDAG_VERSION).toBe(pkg.version);
  });

  it("a new file is created at this release's version, with the history of every step", async () => {
    const path = join(root, `${randomUUID()}.duckdb`);
    const store = await open(path);
    expect(store.openedSchemaVersion).toBe(0);
    await store.close();
    const history = await raw<{ version: number; tdag_version: string }>(
      path,
      "SELECT version, tdag_version FROM tdag_schema_migrations ORDER BY version",
    );
    expect(history.map((h) => h.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(new Set(history.map((h) => h.tdag_version))).toEqual(new Set([TDAG_VERSION]));
    const again = await open(path);
    expect(again.openedSchemaVersion).toBe(SCHEMA_VERSION);
  });

  it("a file written by tdag 0.1.0 is migrated forward and keeps everything it held", async () => {
    const path = fixtureCopy();
    expect(await tables(path)).not.toContain("tdag_schema_migrations");
    const store = await open(path);
    expect(store.openedSchemaVersion).toBe(1);

    // registry and metadata
    const prices = (await store.findStorage({ identifier: "simulated_prices_fixture" }))!;
    expect(prices).toMatchObject({
      storageHash: "simulatedprices_0f1e2d3c4b5a69788796a5b4c3d2e1f0",
      sourceClassName: "SimulatedPrices",
      description: "Simulated daily close prices of a small asset universe",
      dataFrequencyId: "1d",
      buildConfiguration: { volatility: 0.2, asset_universe: ["NVDA", "AAPL"] },
    });
    expect(prices.schema?.columnDtypes).toEqual({
      time_index: "timestamptz",
      unique_identifier: "string",
      close: "float64",
      volume: "int64",
      halted: "bool",
      venue: "string",
      session_date: "date",
      detail: "json",
      last_trade: "timestamptz",
    });
    const daily = (await store.findStorage({ identifier: "daily_random_fixture" }))!;
    expect(daily).toMatchObject({ namespace: "test", openToPublic: true });
    const updater = (await store.findUpdater({
      updateHash: "simulatedprices_aaaabbbbccccddddeeeeffff00001111",
    }))!;
    const dailyUpdater = (await store.findUpdater({
      updateHash: "dailyrandomnumber_99990000aaaabbbbccccddddeeeeffff",
    }))!;
    expect(updater.storageUid).toBe(prices.uid);
    expect(await store.listDependencies(updater.uid)).toEqual([
      { kind: "updater", uid: dailyUpdater.uid },
      { kind: "storage", uid: daily.uid },
    ]);
    expect(await store.getColumnMetadata(prices.uid)).toEqual([
      { columnName: "close", dtype: "float64", label: "Close", description: "Daily close price" },
      { columnName: "volume", dtype: "int64", label: "Volume", description: "Shares traded" },
    ]);

    // runs, newest first
    const runs = await store.listRuns(updater.uid);
    expect(runs.map((r) => [r.error, r.errorMessage, r.rowsWritten])).toEqual([
      [true, "boom: the vendor API answered 503", null],
      [false, null, 10],
    ]);

    // assets
    const assets = await store.filterAssets({});
    expect(assets.map((a) => a.uniqueIdentifier)).toEqual(["NVDA", "AAPL", "BTC"]);
    expect(assets[0]).toMatchObject({
      securityType: "Common Stock",
      currentSnapshot: { name: "NVIDIA", ticker: "NVDA", exchangeCode: "XNAS" },
    });
    expect(assets[1]?.isin).toBe("US0378331005");

    // data and statistics (AAPL's last day was deleted by 0.1.0 after the write)
    const frame = await store.readFrame(prices.uid);
    expect(frame.length).toBe(9);
    const first = frame.toRecords({ time: "iso" })[0];
    expect(first).toEqual({
      time_index: "2026-01-01T00:00:00Z",
      unique_identifier: "AAPL",
      close: 101.5,
      volume: 1,
      halted: false,
      venue: null,
      session_date: "2026-01-01",
      detail: { d: 0, tags: ["a", "AAPL"] },
      last_trade: "2026-01-01T15:59:59.123000Z",
    });
    const stats = await store.getTableStatistics(prices.uid);
    expect(stats.indexProgress).toEqual({
      AAPL: T("2026-01-04T00:00:00Z"),
      NVDA: T("2026-01-05T00:00:00Z"),
    });
    expect(stats.rowCount).toBe(9);

    // search
    expect(await store.orgUniqueIdentifiers()).toEqual([
      "daily_random_fixture",
      "simulated_prices_fixture",
    ]);
    const hits = await store.descriptionSearch("simulated daily close prices");
    expect(hits[0]?.storage.uid).toBe(prices.uid);

    // the migrated file takes new runs and writes
    const run = await store.openRun(dailyUpdater.uid);
    expect(run.statistics.globalIndexProgress?.max).toBe(T("2026-01-03T00:00:00Z"));
    await store.writeFrame(
      daily.uid,
      Frame.fromRecords([{ time_index: "2026-01-04T00:00:00Z", random_number: 0.5 }]),
      { updaterUid: dailyUpdater.uid },
    );
    await store.closeRun(run, { error: false, rowsWritten: 1 });
    expect((await store.readFrame(daily.uid)).length).toBe(4);
    await store.close();

    const history = await raw<{ version: number }>(
      path,
      "SELECT version FROM tdag_schema_migrations ORDER BY version",
    );
    expect(history.map((h) => h.version)).toEqual(MIGRATIONS.map((m) => m.version));
    const reopened = await open(path);
    expect(reopened.openedSchemaVersion).toBe(SCHEMA_VERSION);
    expect((await reopened.readFrame(daily.uid)).length).toBe(4);
  });

  it("a 0.1.0 file opened read-only is read as it is (the pending step is read-compatible)", async () => {
    const path = fixtureCopy();
    const store = await open(path, { readOnly: true });
    expect(store.openedSchemaVersion).toBe(1);
    const prices = await store.findStorage({ identifier: "simulated_prices_fixture" });
    expect((await store.readFrame(prices!.uid)).length).toBe(9);
    await store.close();
    expect(await tables(path)).not.toContain("tdag_schema_migrations");
  });

  it("a file of a newer tdag is refused, naming both versions, read-write or read-only", async () => {
    const path = join(root, `${randomUUID()}.duckdb`);
    await (await open(path)).close();
    await raw(
      path,
      `INSERT INTO tdag_schema_migrations VALUES (99, 'from the future', '9.0.0', now())`,
    );
    for (const readOnly of [false, true]) {
      const error = await rejectionOf(DuckDBStore.open({ path, readOnly }));
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe("schema_too_new");
      expect((error as StoreError).message).toBe(
        `duckdb:${path} has store schema version 99, newer than version ${SCHEMA_VERSION} that tdag ${TDAG_VERSION} knows: upgrade tdag to open it`,
      );
    }
    // Refusing changed nothing.
    const history = await raw<{ version: number }>(
      path,
      "SELECT version FROM tdag_schema_migrations ORDER BY version",
    );
    expect(history.map((h) => h.version)).toEqual([...MIGRATIONS.map((m) => m.version), 99]);
  });

  it("a step that fails rolls back every step of the open: the file is as it was", async () => {
    const path = fixtureCopy();
    const before = await tables(path);
    const failing: Migration = {
      version: SCHEMA_VERSION + 1,
      description: "a step that fails half way",
      readCompatible: true,
      statements: () => ["CREATE TABLE tdag_half_done (x INTEGER)", "SELECT * FROM no_such_table"],
    };
    const error = await rejectionOf(
      DuckDBStore.open({ path, migrations: [...MIGRATIONS, failing] }),
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe("migration_failed");
    expect((error as StoreError).message).toContain(
      `from store schema version 1 to ${SCHEMA_VERSION + 1} failed, nothing was changed`,
    );
    expect((error as StoreError).message).toContain("no_such_table");
    expect(await tables(path)).toEqual(before);
    const store = await open(path);
    expect(store.openedSchemaVersion).toBe(1);
  });

  it("an older file opened read-only that needs a step readers cannot skip is refused", async () => {
    const path = join(root, `${randomUUID()}.duckdb`);
    await (await open(path)).close();
    const breaking: Migration = {
      version: SCHEMA_VERSION + 1,
      description: "a step readers need",
      readCompatible: false,
      statements: () => ["ALTER TABLE tdag_runs ADD COLUMN needed VARCHAR"],
    };
    const error = await rejectionOf(
      DuckDBStore.open({ path, readOnly: true, migrations: [...MIGRATIONS, breaking] }),
    );
    expect((error as StoreError).code).toBe("schema_migration_required");
    expect((error as StoreError).message).toContain("Open it once read-write to migrate it.");
    const migrated = await open(path, { migrations: [...MIGRATIONS, breaking] });
    expect(migrated.openedSchemaVersion).toBe(SCHEMA_VERSION);
    await migrated.close();
    const reader = await open(path, { readOnly: true, migrations: [...MIGRATIONS, breaking] });
    expect(reader.openedSchemaVersion).toBe(SCHEMA_VERSION + 1);
  });
});

import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { migrate } from "../sql/sql-migrations.js";
import { SqlDataStore } from "../sql/sql-store.js";
import {
  type DuckDBStoreOptions,
  duckdbInstanceOptions,
  ensureDatabaseDirectory,
  resolveDuckDBPath,
} from "./duckdb-config.js";
import { DuckDBDialect } from "./duckdb-dialect.js";
import { lockError, wrapDuckDBError } from "./duckdb-errors.js";
import { DuckDBDriver, DuckDBSession } from "./duckdb-session.js";

async function probe(conn: DuckDBConnection, sql: string): Promise<boolean> {
  try {
    await conn.run(sql);
    return true;
  } catch {
    return false;
  }
}

/**
 * The embedded store: one DuckDB file holding the data tables (named by storage hash, keyed by
 * the full index) and the metadata the platform would hold (storages, updaters, edges, runs,
 * column metadata, assets, per-coordinate progress, the search index). The SQL store of
 * `store/sql/` over DuckDB's dialect and driver: writes are serialized per instance and each
 * `writeFrame` is one transaction; reads run on a second connection and see committed data.
 *
 * @example
 * ```ts
 * const store = await DuckDBStore.open(); // $TDAG_DUCKDB_PATH or ./.tdag/tdag.duckdb
 * const storage = await store.registerStorage({ storageHash: "prices_1a2b", namespace: null,
 *   buildConfiguration: {}, sourceClassName: "Prices" });
 * const updater = await store.registerUpdater({ updateHash: "prices_9f8e", namespace: null,
 *   storageHash: "prices_1a2b", buildConfiguration: {} });
 * await store.writeFrame(storage.uid, frame, { updaterUid: updater.uid });
 * const df = await store.readFrame(storage.uid, { dimensionFilters: { unique_identifier: ["AAPL"] } });
 * await store.close();
 * ```
 */
export class DuckDBStore extends SqlDataStore {
  /** The database file (or `":memory:"`). */
  readonly path: string;
  readonly readOnly: boolean;
  /** Whether JSON columns are stored as DuckDB's JSON type (else VARCHAR holding JSON text). */
  readonly jsonType: boolean;
  /** The store schema version found when the file was opened (0 for a new file). */
  readonly openedSchemaVersion: number;

  private constructor(
    driver: DuckDBDriver,
    path: string,
    readOnly: boolean,
    openedSchemaVersion: number,
    options: DuckDBStoreOptions,
  ) {
    super({
      driver,
      kind: "duckdb",
      description: `duckdb:${path}`,
      ...(options.testHooks ? { testHooks: options.testHooks } : {}),
    });
    this.path = path;
    this.readOnly = readOnly;
    this.jsonType = driver.dialect.jsonType;
    this.openedSchemaVersion = openedSchemaVersion;
  }

  /**
   * Opens (creating when needed) the store's DuckDB file and brings its `tdag_` tables to this
   * release's schema version (a file of an older release is migrated forward in one
   * transaction; a newer one is refused with `schema_too_new`). Extension autoinstall/autoload
   * are off and the session time zone is UTC. A file held by another process fails fast with a
   * `StoreError` of code `database_locked`.
   *
   * @example
   * ```ts
   * const store = await DuckDBStore.open({ path: ":memory:" });
   * ```
   */
  static async open(options: DuckDBStoreOptions = {}): Promise<DuckDBStore> {
    const path = resolveDuckDBPath(options.path);
    const readOnly = options.readOnly ?? false;
    if (!readOnly) ensureDatabaseDirectory(path);
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, duckdbInstanceOptions(readOnly));
    } catch (error) {
      throw lockError(path, error) ?? wrapDuckDBError(error, undefined, undefined, `open ${path}`);
    }
    try {
      const writer = await instance.connect();
      const reader = await instance.connect();
      for (const conn of [writer, reader]) await conn.run("SET TimeZone = 'UTC'");
      const dialect = new DuckDBDialect(
        await probe(writer, "SELECT CAST('[]' AS JSON), json_array(1)"),
      );
      const description = `duckdb:${path}`;
      const { from } = await migrate(new DuckDBSession(writer, dialect), dialect, {
        description,
        readOnly,
        ...(options.migrations ? { migrations: options.migrations } : {}),
      });
      const driver = new DuckDBDriver(dialect, writer, reader, description, () =>
        instance.closeSync(),
      );
      return new DuckDBStore(driver, path, readOnly, from, options);
    } catch (error) {
      instance.closeSync();
      throw wrapDuckDBError(error, undefined, undefined, `open ${path}`);
    }
  }
}

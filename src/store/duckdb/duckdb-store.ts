import { randomUUID } from "node:crypto";
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBMaterializedResult,
  type DuckDBValue,
  LIST,
  listValue,
  VARCHAR,
} from "@duckdb/node-api";
import { NotFoundError, StoreError } from "../../errors.js";
import type { FilterResult } from "../../filters/filter-result.js";
import type { SearchRequest } from "../../filters/search-request.js";
import type { DType } from "../../frame/dtypes.js";
import { Frame } from "../../frame/frame.js";
import { rankColumnSearch, rankDescriptionSearch } from "../../search/local-search.js";
import { checkEmbeddingModel, checkSettings, resolveEmbedder } from "../../search/search-config.js";
import { parseColumnSearch, parseDescriptionSearch } from "../../search/search-options.js";
import type {
  ColumnSearchOptions,
  DescriptionSearchOptions,
  SearchHit,
  SearchSettings,
} from "../../search/search-types.js";
import type {
  AssetFilter,
  AssetRecord,
  AssetRegistration,
  CallOptions,
  ColumnMetadata,
  DataFrequency,
  DataStore,
  DependencyTarget,
  DimensionQuery,
  ReadQuery,
  RegisterStorageInput,
  RegisterUpdaterInput,
  RunOutcome,
  RunRecord,
  RunSummary,
  StorageKey,
  StorageRecord,
  TableMetadata,
  TableSchema,
  TableStatistics,
  UpdaterRecord,
  WriteOptions,
  WriteResult,
} from "../data-store.js";
import {
  type DuckDBStoreOptions,
  type DuckDBStoreTestHooks,
  duckdbInstanceOptions,
  ensureDatabaseDirectory,
  resolveDuckDBPath,
} from "./duckdb-config.js";
import { lockError, wrapDuckDBError } from "./duckdb-errors.js";
import { runFilterRequest } from "./duckdb-filter.js";
import { appendFrame, frameFromResult, type TypedColumn } from "./duckdb-frame-io.js";
import {
  checkSchema,
  coordinateExpression,
  createTableSql,
  fromStaging,
  METADATA_DDL,
  normalizeSchema,
  schemaFromRow,
  sqlType,
  stagingType,
} from "./duckdb-schema.js";
import {
  autoIndexRow,
  buildIndexRow,
  loadColumnTables,
  loadIndexedTables,
  publishedIdentifiers,
  type SearchSqlContext,
  writeIndexRow,
} from "./duckdb-search.js";
import {
  type CompiledQuery,
  compileDeleteWhere,
  compileLastObservation,
  compileRead,
  projectColumns,
  quoteIdent,
  SqlParams,
} from "./duckdb-sql.js";
import { buildStatistics, emptyStatistics, type ProgressRow } from "./duckdb-statistics.js";

type Row = Record<string, unknown>;

/** What the store caches per storage: its table name and schema (immutable but for the schema). */
interface TableInfo {
  readonly uid: string;
  readonly storageHash: string;
  readonly schema: TableSchema | null;
}

const STAGING = "__tdag_staging";
const DATA_FREQUENCIES: readonly DataFrequency[] = ["1m", "5m", "1d", "1w", "1mo", "1q", "1y"];

const STORAGE_SELECT = `SELECT uid, storage_hash, namespace, source_class_name, build_configuration,
  open_to_public, identifier, description, data_frequency_id, epoch_ms(created_at) AS created_ms,
  time_index_name, index_names, column_dtypes FROM tdag_storages`;

const UPDATER_SELECT = `SELECT u.uid, u.update_hash, u.storage_uid, s.storage_hash, u.namespace,
  u.build_configuration, epoch_ms(u.created_at) AS created_ms
  FROM tdag_updaters u JOIN tdag_storages s ON s.uid = u.storage_uid`;

const ASSET_SELECT = `SELECT CAST(id AS DOUBLE) AS id, unique_identifier, name, ticker, exchange_code,
  security_type, security_market_sector, isin, is_custom_by_organization FROM tdag_assets`;

/** Runs async jobs one after another (DuckDB has one writer; a connection runs one statement). */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * The embedded store: one DuckDB file holding the data tables (named by storage hash, keyed by
 * the full index) and the metadata the platform would hold (storages, updaters, edges, runs,
 * column metadata, assets, per-coordinate progress). Writes are serialized per instance and each
 * `writeFrame` is one transaction; reads run on a second connection and see committed data.
 *
 * @example
 * ```ts
 * const store = await DuckDBStore.open(); // $TDAG_DUCKDB_PATH or ./.tdag/tdag.duckdb
 * const storage = await store.registerStorage({ storageHash: "prices_1a2b", namespace: null,
 *   buildConfiguration: {}, sourceClassName: "Prices" });
 * await store.writeFrame(storage.uid, frame);
 * const df = await store.readFrame(storage.uid, { dimensionFilters: { unique_identifier: ["AAPL"] } });
 * await store.close();
 * ```
 */
export class DuckDBStore implements DataStore {
  readonly description: string;
  /** The database file (or `":memory:"`). */
  readonly path: string;
  readonly readOnly: boolean;
  /** Whether JSON columns are stored as DuckDB's JSON type (else VARCHAR holding JSON text). */
  readonly jsonType: boolean;

  private readonly writes = new SerialQueue();
  private readonly reads = new SerialQueue();
  private readonly tables = new Map<string, TableInfo>();
  private tablesVersion = 0;
  private closed = false;
  private searchSettings: SearchSettings = {};

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    path: string,
    readOnly: boolean,
    jsonType: boolean,
    private readonly hooks: DuckDBStoreTestHooks,
  ) {
    this.path = path;
    this.readOnly = readOnly;
    this.jsonType = jsonType;
    this.description = `duckdb:${path}`;
  }

  /**
   * Opens (creating when needed) the store's DuckDB file. Extension autoinstall/autoload are off
   * and the session time zone is UTC. A file held by another process fails fast with a
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
      const jsonType = await probe(writer, "SELECT CAST('[]' AS JSON), json_array(1)");
      if (!readOnly) {
        await writer.run("BEGIN TRANSACTION");
        try {
          for (const ddl of METADATA_DDL) await writer.run(ddl);
          await writer.run("COMMIT");
        } catch (error) {
          await writer.run("ROLLBACK").catch(() => undefined);
          throw error;
        }
      }
      return new DuckDBStore(
        instance,
        writer,
        reader,
        path,
        readOnly,
        jsonType,
        options.testHooks ?? {},
      );
    } catch (error) {
      instance.closeSync();
      throw wrapDuckDBError(error, undefined, undefined, `open ${path}`);
    }
  }

  // ---------------------------------------------------------------- registration

  async registerStorage(
    input: RegisterStorageInput,
    options?: CallOptions,
  ): Promise<StorageRecord> {
    return this.write(options, async () => {
      const existing = await this.storageBy(this.writer, "storage_hash", input.storageHash);
      if (existing) return existing;
      await this.exec(
        this.writer,
        `INSERT INTO tdag_storages (uid, storage_hash, namespace, source_class_name,
          build_configuration, open_to_public, created_at) VALUES ($1, $2, $3, $4, $5, $6, now())`,
        [
          randomUUID(),
          input.storageHash,
          input.namespace,
          input.sourceClassName,
          toJsonText(input.buildConfiguration),
          input.openToPublic ?? false,
        ],
      );
      return (await this.storageBy(this.writer, "storage_hash", input.storageHash))!;
    });
  }

  async registerUpdater(
    input: RegisterUpdaterInput,
    options?: CallOptions,
  ): Promise<UpdaterRecord> {
    return this.write(options, async () => {
      const existing = await this.updaterBy(this.writer, "u.update_hash", input.updateHash);
      if (existing) return existing;
      const storage = await this.storageBy(this.writer, "storage_hash", input.storageHash);
      if (!storage) {
        throw new NotFoundError(
          `no storage with hash '${input.storageHash}': register the storage before its updater`,
        );
      }
      await this.exec(
        this.writer,
        `INSERT INTO tdag_updaters (uid, update_hash, storage_uid, namespace, build_configuration,
          project_uid, created_at) VALUES ($1, $2, $3, $4, $5, $6, now())`,
        [
          randomUUID(),
          input.updateHash,
          storage.uid,
          input.namespace,
          toJsonText(input.buildConfiguration),
          input.projectUid ?? null,
        ],
      );
      return (await this.updaterBy(this.writer, "u.update_hash", input.updateHash))!;
    });
  }

  async linkDependency(
    updaterUid: string,
    target: DependencyTarget,
    options?: CallOptions,
  ): Promise<void> {
    await this.write(options, async () => {
      await this.requireUpdater(this.writer, updaterUid);
      if (target.kind === "updater") await this.requireUpdater(this.writer, target.uid);
      else if (target.kind === "storage") await this.requireStorage(this.writer, target.uid);
      else {
        throw new StoreError(
          `unknown dependency kind ${JSON.stringify(String((target as DependencyTarget).kind))}`,
          {
            code: "invalid_value",
          },
        );
      }
      await this.exec(
        this.writer,
        `INSERT INTO tdag_edges (updater_uid, target_kind, target_uid) VALUES ($1, $2, $3)
          ON CONFLICT DO NOTHING`,
        [updaterUid, target.kind, target.uid],
      );
    });
  }

  async listDependencies(updaterUid: string, options?: CallOptions): Promise<DependencyTarget[]> {
    return this.read(options, async () => {
      await this.requireUpdater(this.reader, updaterUid);
      const rows = await this.rows(
        this.reader,
        "SELECT target_kind, target_uid FROM tdag_edges WHERE updater_uid = $1 ORDER BY seq",
        [updaterUid],
      );
      return rows.map((r) => ({
        kind: r["target_kind"] as "updater" | "storage",
        uid: r["target_uid"] as string,
      }));
    });
  }

  // ---------------------------------------------------------------- runs

  async openRun(updaterUid: string, options?: CallOptions): Promise<RunRecord> {
    return this.write(options, async () => {
      const updater = await this.requireUpdater(this.writer, updaterUid);
      const uid = randomUUID();
      const startedAt = new Date();
      await this.exec(
        this.writer,
        "INSERT INTO tdag_runs (uid, updater_uid, started_at) VALUES ($1, $2, make_timestamptz(CAST($3 AS BIGINT)))",
        [uid, updaterUid, startedAt.getTime() * 1000],
      );
      const statistics = await this.statistics(this.writer, updater.storageUid);
      return { uid, updaterUid, startedAt, mustUpdate: true, statistics };
    });
  }

  async closeRun(runUid: string, outcome: RunOutcome, options?: CallOptions): Promise<void> {
    await this.write(options, async () => {
      const result = await this.exec(
        this.writer,
        `UPDATE tdag_runs SET ended_at = now(), error = $2, error_message = $3,
          rows_written = coalesce($4, rows_written) WHERE uid = $1`,
        [runUid, outcome.error, outcome.errorMessage ?? null, outcome.rowsWritten ?? null],
      );
      if (result.rowsChanged === 0) throw new NotFoundError(`no run with uid '${runUid}'`);
    });
  }

  async listRuns(
    updaterUid: string,
    options?: CallOptions & { limit?: number },
  ): Promise<RunSummary[]> {
    return this.read(options, async () => {
      await this.requireUpdater(this.reader, updaterUid);
      const limit = options?.limit;
      const rows = await this.rows(
        this.reader,
        `SELECT uid, epoch_ms(started_at) AS started_ms, epoch_ms(ended_at) AS ended_ms, error,
          error_message, CAST(rows_written AS DOUBLE) AS rows_written
          FROM tdag_runs WHERE updater_uid = $1 ORDER BY seq DESC${limit === undefined ? "" : " LIMIT $2"}`,
        limit === undefined ? [updaterUid] : [updaterUid, Math.max(0, Math.floor(limit))],
      );
      return rows.map((r) => ({
        uid: r["uid"] as string,
        startedAt: new Date(Number(r["started_ms"])),
        endedAt: r["ended_ms"] === null ? null : new Date(Number(r["ended_ms"])),
        error: (r["error"] as boolean | null) ?? null,
        errorMessage: (r["error_message"] as string | null) ?? null,
        rowsWritten: r["rows_written"] === null ? null : Number(r["rows_written"]),
      }));
    });
  }

  // ---------------------------------------------------------------- schema and writes

  async ensureTableSchema(
    storageUid: string,
    schema: TableSchema,
    options?: CallOptions,
  ): Promise<TableSchema> {
    return this.write(options, async () => {
      const info = await this.tableInfo(this.writer, storageUid);
      let merged: TableSchema | undefined;
      await this.transaction(async () => {
        merged = await this.ensureSchemaInTransaction(info, schema);
      });
      this.cacheTable(storageUid, { ...info, schema: merged! });
      return merged!;
    });
  }

  async writeFrame(storageUid: string, frame: Frame, options?: WriteOptions): Promise<WriteResult> {
    return this.write(options, async () => {
      const info = await this.tableInfo(this.writer, storageUid);
      const wanted = schemaForFrame(frame, options?.schema ?? info.schema);
      let merged: TableSchema | undefined;
      try {
        await this.transaction(async () => {
          merged = await this.ensureSchemaInTransaction(info, wanted);
          if (frame.length > 0) await this.upsert(info, merged, frame, options?.updaterUid);
          await this.hooks.beforeCommit?.({ storageUid });
        });
      } catch (error) {
        this.cacheTable(storageUid, undefined);
        throw error;
      }
      this.cacheTable(storageUid, { ...info, schema: merged! });
      const statistics = await this.statistics(this.writer, storageUid);
      return { rowsWritten: frame.length, statistics };
    });
  }

  async getTableStatistics(storageUid: string, options?: CallOptions): Promise<TableStatistics> {
    return this.read(options, () => this.statistics(this.reader, storageUid));
  }

  // ---------------------------------------------------------------- reads and deletes

  async readFrame(
    storageUid: string,
    query: ReadQuery = {},
    options?: CallOptions,
  ): Promise<Frame> {
    return this.read(options, async () => {
      const info = await this.tableInfo(this.reader, storageUid);
      if (!info.schema) return Frame.empty();
      const columns = projectColumns(info.schema, query.columns);
      const compiled = compileRead(info.storageHash, info.schema, query, columns);
      return this.selectFrame(compiled, info.schema, columns, options);
    });
  }

  async readLastObservation(
    storageUid: string,
    query: DimensionQuery = {},
    options?: CallOptions,
  ): Promise<Frame> {
    return this.read(options, async () => {
      const info = await this.tableInfo(this.reader, storageUid);
      if (!info.schema) return Frame.empty();
      const bounded = (query.dimensionRangeMap ?? []).some(
        (r) => r.endDate !== undefined && r.endDate !== null,
      );
      let lowerBound: number | undefined;
      if (!bounded) {
        const rows = await this.rows(
          this.reader,
          "SELECT CAST(min(max_micros) AS DOUBLE) AS lb FROM tdag_progress WHERE storage_uid = $1",
          [storageUid],
        );
        const lb = rows[0]?.["lb"];
        if (typeof lb === "number") lowerBound = lb;
      }
      const compiled = compileLastObservation(info.storageHash, info.schema, query, lowerBound);
      return this.selectFrame(
        compiled,
        info.schema,
        Object.keys(info.schema.columnDtypes),
        options,
      );
    });
  }

  async deleteAfterDate(
    storageUid: string,
    afterMicros: number,
    query: DimensionQuery = {},
    options?: CallOptions,
  ): Promise<{ deletedCount: number }> {
    return this.write(options, async () => {
      const info = await this.tableInfo(this.writer, storageUid);
      const schema = info.schema;
      if (!schema) return { deletedCount: 0 };
      const table = quoteIdent(info.storageHash);
      const coordinate = coordinateExpression(
        schema.indexNames.slice(1).map(quoteIdent),
        this.jsonType,
      );
      let deletedCount = 0;
      await this.transaction(async () => {
        const params = new SqlParams();
        const where = compileDeleteWhere(schema, afterMicros, query, params);
        const affected = await this.rows(
          this.writer,
          `SELECT DISTINCT ${coordinate} AS coordinate FROM ${table}${where}`,
          params,
        );
        const deleted = await this.exec(this.writer, `DELETE FROM ${table}${where}`, params);
        deletedCount = Number(deleted.rowsChanged);
        if (affected.length === 0) return;
        // Recompute the touched coordinates only: drop their rows, then rebuild from what is left.
        const coords = listValue(affected.map((r) => r["coordinate"] as string));
        const p = new SqlParams();
        const uid = p.text(storageUid);
        const list = p.bind(
          coords,
          LIST(VARCHAR),
          affected.map((r) => r["coordinate"]),
        );
        await this.exec(
          this.writer,
          `DELETE FROM tdag_progress WHERE storage_uid = ${uid} AND coordinate IN (SELECT unnest(${list}))`,
          p,
        );
        const time = quoteIdent(schema.timeIndexName);
        await this.exec(
          this.writer,
          `INSERT INTO tdag_progress (storage_uid, coordinate, min_micros, max_micros)
            SELECT ${uid}, coordinate, min(t), max(t) FROM (
              SELECT ${coordinate} AS coordinate, epoch_us(${time}) AS t FROM ${table}
            ) WHERE coordinate IN (SELECT unnest(${list})) GROUP BY coordinate`,
          p,
        );
      });
      return { deletedCount };
    });
  }

  // ---------------------------------------------------------------- lookups and metadata

  async findStorage(key: StorageKey, options?: CallOptions): Promise<StorageRecord | null> {
    return this.read(options, () => {
      if ("identifier" in key) return this.storageBy(this.reader, "identifier", key.identifier);
      if ("storageHash" in key) return this.storageBy(this.reader, "storage_hash", key.storageHash);
      return this.storageBy(this.reader, "uid", key.uid);
    });
  }

  async findUpdater(updateHash: string, options?: CallOptions): Promise<UpdaterRecord | null> {
    return this.read(options, () => this.updaterBy(this.reader, "u.update_hash", updateHash));
  }

  async listStorages(options?: CallOptions): Promise<StorageRecord[]> {
    return this.read(options, async () => {
      const rows = await this.rows(
        this.reader,
        `${STORAGE_SELECT} ORDER BY created_at, storage_hash`,
        [],
      );
      return rows.map(toStorageRecord);
    });
  }

  async setTableMetadata(
    storageUid: string,
    metadata: TableMetadata,
    options?: CallOptions,
  ): Promise<StorageRecord> {
    return this.write(options, async () => {
      const storage = await this.requireStorage(this.writer, storageUid);
      const sets: string[] = [];
      const values: DuckDBValue[] = [storageUid];
      const set = (column: string, value: string | null) => {
        values.push(value);
        sets.push(`${column} = $${values.length}`);
      };
      if (metadata.identifier !== undefined) {
        const id = metadata.identifier;
        if (id !== null) {
          if (typeof id !== "string" || id.trim() === "") {
            throw new StoreError("identifier must be a non-empty string or null", {
              code: "invalid_value",
            });
          }
          const holder = await this.rows(
            this.writer,
            "SELECT uid, storage_hash FROM tdag_storages WHERE identifier = $1 AND uid <> $2",
            [id, storageUid],
          );
          const h = holder[0];
          if (h) {
            throw new StoreError(
              `identifier '${id}' is already held by storage ${String(h["storage_hash"])} (uid ${String(h["uid"])}); clear it there first`,
              { code: "identifier_taken" },
            );
          }
        }
        set("identifier", id);
      }
      if (metadata.description !== undefined) set("description", metadata.description);
      if (metadata.dataFrequencyId !== undefined) {
        const f = metadata.dataFrequencyId;
        if (f !== null && !DATA_FREQUENCIES.includes(f)) {
          throw new StoreError(
            `dataFrequencyId must be one of ${DATA_FREQUENCIES.join(", ")} (got ${JSON.stringify(f)})`,
            { code: "invalid_value" },
          );
        }
        set("data_frequency_id", f);
      }
      // The first table metadata is indexed for search with it (embedded before any write).
      const indexRow =
        sets.length === 0
          ? null
          : await autoIndexRow(
              this.searchContext(this.writer),
              storage,
              { kind: "table", metadata },
              resolveEmbedder(this.searchSettings),
            );
      await this.transaction(async () => {
        if (sets.length > 0) {
          await this.exec(
            this.writer,
            `UPDATE tdag_storages SET ${sets.join(", ")} WHERE uid = $1`,
            values,
          );
        }
        if (indexRow) await writeIndexRow(this.searchContext(this.writer), indexRow);
      });
      return (await this.storageBy(this.writer, "uid", storageUid))!;
    });
  }

  async setColumnMetadata(
    storageUid: string,
    columns: readonly ColumnMetadata[],
    options?: CallOptions,
  ): Promise<void> {
    await this.write(options, async () => {
      const storage = await this.requireStorage(this.writer, storageUid);
      // The first column metadata is indexed for search with it (embedded before any write).
      const indexRow = await autoIndexRow(
        this.searchContext(this.writer),
        storage,
        { kind: "columns", columns },
        resolveEmbedder(this.searchSettings),
      );
      await this.transaction(async () => {
        await this.exec(this.writer, "DELETE FROM tdag_column_metadata WHERE storage_uid = $1", [
          storageUid,
        ]);
        for (const c of columns) {
          await this.exec(
            this.writer,
            `INSERT INTO tdag_column_metadata (storage_uid, column_name, dtype, label, description)
              VALUES ($1, $2, $3, $4, $5)`,
            [storageUid, c.columnName, c.dtype, c.label, c.description],
          );
        }
        if (indexRow) await writeIndexRow(this.searchContext(this.writer), indexRow);
      });
    });
  }

  async getColumnMetadata(storageUid: string, options?: CallOptions): Promise<ColumnMetadata[]> {
    return this.read(options, async () => {
      await this.requireStorage(this.reader, storageUid);
      const rows = await this.rows(
        this.reader,
        `SELECT column_name, dtype, label, description FROM tdag_column_metadata
          WHERE storage_uid = $1 ORDER BY seq`,
        [storageUid],
      );
      return rows.map((r) => ({
        columnName: r["column_name"] as string,
        dtype: r["dtype"] as string,
        label: r["label"] as string,
        description: r["description"] as string,
      }));
    });
  }

  // ---------------------------------------------------------------- assets

  async filterAssets(filter: AssetFilter, options?: CallOptions): Promise<AssetRecord[]> {
    return this.read(options, async () => {
      const p = new SqlParams();
      const clauses: string[] = [];
      const eq = (column: string, value: string | undefined) => {
        if (value !== undefined) clauses.push(`${column} = ${p.text(value)}`);
      };
      const inList = (column: string, values: readonly string[] | undefined) => {
        if (values === undefined) return;
        if (values.length === 0) clauses.push("FALSE");
        else
          clauses.push(
            `${column} IN (SELECT unnest(${p.bind(listValue([...values]), LIST(VARCHAR), values)}))`,
          );
      };
      eq("unique_identifier", filter.unique_identifier);
      inList("unique_identifier", filter.unique_identifier__in);
      eq("ticker", filter.ticker);
      inList("ticker", filter.ticker__in);
      if (filter.name__contains !== undefined) {
        clauses.push(`strpos(name, ${p.text(filter.name__contains)}) > 0`);
      }
      eq("exchange_code", filter.exchange_code);
      eq("security_type", filter.security_type);
      const where = clauses.length > 0 ? ` WHERE ${clauses.join(" AND ")}` : "";
      const rows = await this.rows(this.reader, `${ASSET_SELECT}${where} ORDER BY id`, p);
      return rows.map(toAssetRecord);
    });
  }

  async batchGetOrRegisterAssets(
    assets: readonly AssetRegistration[],
    options?: CallOptions,
  ): Promise<AssetRecord[]> {
    const unique = new Map<string, AssetRegistration>();
    for (const a of assets) {
      if (typeof a.unique_identifier !== "string" || a.unique_identifier === "") {
        throw new StoreError("every asset needs a non-empty unique_identifier", {
          code: "invalid_value",
        });
      }
      if (!unique.has(a.unique_identifier)) unique.set(a.unique_identifier, a);
    }
    if (unique.size === 0) return [];
    return this.write(options, async () => {
      const list = [...unique.values()];
      const p = new SqlParams();
      const col = (values: (string | null)[]) =>
        `unnest(${p.bind(listValue(values), LIST(VARCHAR), values)})`;
      const ids = col(list.map((a) => a.unique_identifier));
      await this.exec(
        this.writer,
        `INSERT INTO tdag_assets (unique_identifier, name, ticker, exchange_code, security_type,
          security_market_sector, isin, is_custom_by_organization)
          SELECT *, true FROM (SELECT ${ids}, ${col(list.map((a) => a.snapshot.name))},
            ${col(list.map((a) => a.snapshot.ticker))},
            ${col(list.map((a) => a.snapshot.exchange_code ?? null))},
            ${col(list.map((a) => a.security_type ?? null))},
            ${col(list.map((a) => a.security_market_sector ?? null))},
            ${col(list.map((a) => a.isin ?? null))})
          ON CONFLICT (unique_identifier) DO NOTHING`,
        p,
      );
      const found = await this.assetsByIdentifier(this.writer, [...unique.keys()]);
      return [...unique.keys()].map((id) => found.get(id)!);
    });
  }

  async findUnregisteredAssets(
    uniqueIdentifiers: readonly string[],
    options?: CallOptions,
  ): Promise<string[]> {
    return this.read(options, async () => {
      const wanted = [...new Set(uniqueIdentifiers)];
      if (wanted.length === 0) return [];
      const p = new SqlParams();
      const list = p.bind(listValue(wanted), LIST(VARCHAR), wanted);
      const rows = await this.rows(
        this.reader,
        `SELECT unique_identifier FROM tdag_assets WHERE unique_identifier IN (SELECT unnest(${list}))`,
        p,
      );
      const known = new Set(rows.map((r) => r["unique_identifier"] as string));
      return wanted.filter((id) => !known.has(id));
    });
  }

  // ---------------------------------------------------------------- filtered reads

  async getDataFromFilter(request: SearchRequest, options?: CallOptions): Promise<FilterResult> {
    return this.read(options, () =>
      runFilterRequest(request, {
        storage: (column, value) => this.storageBy(this.reader, column, value),
        query: (sql, params) => this.exec(this.reader, sql, params),
      }),
    );
  }

  // ---------------------------------------------------------------- search

  /**
   * Sets this store's search embedder, overriding the global `configureSearch`. `{}` falls back
   * to the global setting (by default the lexical hashed n-gram embedder).
   *
   * @example
   * ```ts
   * store.configureSearch({ embedder: (text) => model.embed(text), embeddingModel: "my-model" });
   * ```
   */
  configureSearch(settings: SearchSettings): void {
    this.searchSettings = checkSettings(settings);
  }

  async descriptionSearch(query: string, options?: DescriptionSearchOptions): Promise<SearchHit[]> {
    const request = parseDescriptionSearch(query, options);
    const embedder = resolveEmbedder(this.searchSettings);
    checkEmbeddingModel(request.embeddingModel, embedder);
    const tables = await this.read(options, () =>
      loadIndexedTables(this.searchContext(this.reader), request.filters),
    );
    return rankDescriptionSearch(request, tables, embedder);
  }

  async columnSearch(query: string, options?: ColumnSearchOptions): Promise<SearchHit[]> {
    const request = parseColumnSearch(query, options);
    const tables = await this.read(options, () =>
      loadColumnTables(this.searchContext(this.reader), request.filters),
    );
    return rankColumnSearch(request, tables);
  }

  async refreshTableSearchIndex(storageUid: string, options?: CallOptions): Promise<void> {
    const embedder = resolveEmbedder(this.searchSettings);
    await this.write(options, async () => {
      const storage = await this.requireStorage(this.writer, storageUid);
      const ctx = this.searchContext(this.writer);
      await writeIndexRow(ctx, await buildIndexRow(ctx, storage, embedder));
    });
  }

  async orgUniqueIdentifiers(options?: CallOptions): Promise<string[]> {
    return this.read(options, () => publishedIdentifiers(this.searchContext(this.reader)));
  }

  private searchContext(conn: DuckDBConnection): SearchSqlContext {
    return {
      rows: (sql, params) => this.rows(conn, sql, params),
      storages: async () =>
        (await this.rows(conn, `${STORAGE_SELECT} ORDER BY created_at, storage_hash`, [])).map(
          toStorageRecord,
        ),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.writes.run(async () => {}), this.reads.run(async () => {})]);
    this.writer.closeSync();
    this.reader.closeSync();
    this.instance.closeSync();
  }

  // ---------------------------------------------------------------- internals

  private write<T>(options: CallOptions | undefined, job: () => Promise<T>): Promise<T> {
    return this.writes.run(() => this.guard(this.writer, options, job));
  }

  private read<T>(options: CallOptions | undefined, job: () => Promise<T>): Promise<T> {
    return this.reads.run(() => this.guard(this.reader, options, job));
  }

  /** Checks the store is open and the call not aborted; an abort mid-query interrupts DuckDB. */
  private async guard<T>(
    conn: DuckDBConnection,
    options: CallOptions | undefined,
    job: () => Promise<T>,
  ): Promise<T> {
    if (this.closed) throw new StoreError(`${this.description} is closed`, { code: "closed" });
    const signal = options?.signal;
    if (signal?.aborted) {
      throw new StoreError("the store call was aborted", { code: "aborted", cause: signal.reason });
    }
    if (!signal) return job();
    const onAbort = () => conn.interrupt();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await job();
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  private async transaction(body: () => Promise<void>): Promise<void> {
    await this.exec(this.writer, "BEGIN TRANSACTION");
    try {
      await body();
      await this.exec(this.writer, "COMMIT");
    } catch (error) {
      await this.writer.run("ROLLBACK").catch(() => undefined);
      throw wrapDuckDBError(error);
    }
  }

  private async exec(
    conn: DuckDBConnection,
    sql: string,
    params?: SqlParams | readonly DuckDBValue[],
  ): Promise<DuckDBMaterializedResult> {
    try {
      if (params instanceof SqlParams) return await conn.run(sql, params.values, params.types);
      return await conn.run(sql, params ? [...params] : undefined);
    } catch (error) {
      const shown = params instanceof SqlParams ? params.shown : params;
      throw wrapDuckDBError(error, sql, shown);
    }
  }

  private async rows(
    conn: DuckDBConnection,
    sql: string,
    params: SqlParams | readonly DuckDBValue[],
  ): Promise<Row[]> {
    const result = await this.exec(conn, sql, params);
    return (await result.getRowObjectsJS()) as Row[];
  }

  private async selectFrame(
    compiled: CompiledQuery,
    schema: TableSchema,
    columns: readonly string[],
    options: CallOptions | undefined,
  ): Promise<Frame> {
    options?.signal?.throwIfAborted();
    const result = await this.exec(this.reader, compiled.sql, compiled.params);
    const typed = columns.map((name) => ({ name, dtype: schema.columnDtypes[name]! }));
    return frameFromResult(result, schema.indexNames, typed);
  }

  private async storageBy(
    conn: DuckDBConnection,
    column: "uid" | "storage_hash" | "identifier",
    value: string,
  ): Promise<StorageRecord | null> {
    const rows = await this.rows(conn, `${STORAGE_SELECT} WHERE ${column} = $1`, [value]);
    return rows[0] ? toStorageRecord(rows[0]) : null;
  }

  private async updaterBy(
    conn: DuckDBConnection,
    column: "u.uid" | "u.update_hash",
    value: string,
  ): Promise<UpdaterRecord | null> {
    const rows = await this.rows(conn, `${UPDATER_SELECT} WHERE ${column} = $1`, [value]);
    const r = rows[0];
    if (!r) return null;
    return {
      uid: r["uid"] as string,
      updateHash: r["update_hash"] as string,
      storageUid: r["storage_uid"] as string,
      storageHash: r["storage_hash"] as string,
      namespace: (r["namespace"] as string | null) ?? null,
      buildConfiguration: JSON.parse(r["build_configuration"] as string),
      createdAt: new Date(Number(r["created_ms"])),
    };
  }

  private async requireUpdater(conn: DuckDBConnection, uid: string): Promise<UpdaterRecord> {
    const updater = await this.updaterBy(conn, "u.uid", uid);
    if (!updater) throw new NotFoundError(`no updater with uid '${uid}'`);
    return updater;
  }

  private async requireStorage(conn: DuckDBConnection, uid: string): Promise<StorageRecord> {
    const storage = await this.storageBy(conn, "uid", uid);
    if (!storage) throw new NotFoundError(`no storage with uid '${uid}'`);
    return storage;
  }

  private async tableInfo(conn: DuckDBConnection, storageUid: string): Promise<TableInfo> {
    const cached = this.tables.get(storageUid);
    if (cached) return cached;
    // A read may race a write that changes the schema: only cache what was read if no write
    // touched the cache meanwhile (the writer caches its own result after COMMIT).
    const version = this.tablesVersion;
    const storage = await this.requireStorage(conn, storageUid);
    const info = { uid: storage.uid, storageHash: storage.storageHash, schema: storage.schema };
    if (version === this.tablesVersion) this.tables.set(storageUid, info);
    return info;
  }

  private cacheTable(storageUid: string, info: TableInfo | undefined): void {
    this.tablesVersion += 1;
    if (info) this.tables.set(storageUid, info);
    else this.tables.delete(storageUid);
  }

  private async statistics(conn: DuckDBConnection, storageUid: string): Promise<TableStatistics> {
    const info = await this.tableInfo(conn, storageUid);
    if (!info.schema) return emptyStatistics();
    const rows = await this.rows(
      conn,
      `SELECT coordinate, CAST(min_micros AS DOUBLE) AS mn, CAST(max_micros AS DOUBLE) AS mx
        FROM tdag_progress WHERE storage_uid = $1 ORDER BY coordinate`,
      [storageUid],
    );
    const count = await this.rows(
      conn,
      `SELECT CAST(count(*) AS DOUBLE) AS n FROM ${quoteIdent(info.storageHash)}`,
      [],
    );
    const progress: ProgressRow[] = rows.map((r) => ({
      coordinate: r["coordinate"] as string,
      min: r["mn"] as number,
      max: r["mx"] as number,
    }));
    return buildStatistics(info.schema, progress, Number(count[0]?.["n"] ?? 0));
  }

  /** Creates the table, or checks the index and dtypes and adds new columns. Inside a transaction. */
  private async ensureSchemaInTransaction(
    info: TableInfo,
    requested: TableSchema,
  ): Promise<TableSchema> {
    checkSchema(requested);
    const wanted = normalizeSchema(requested);
    const current = (await this.storageBy(this.writer, "uid", info.uid))?.schema ?? null;
    const table = info.storageHash;
    if (!current) {
      await this.exec(this.writer, createTableSql(table, wanted, this.jsonType));
      await this.saveSchema(info.uid, wanted);
      return wanted;
    }
    if (
      current.timeIndexName !== wanted.timeIndexName ||
      current.indexNames.join("\u0000") !== wanted.indexNames.join("\u0000")
    ) {
      throw new StoreError(
        `schema conflict on table ${table}: its index is [${current.indexNames.join(", ")}], the new data is indexed by [${wanted.indexNames.join(", ")}]`,
        { code: "schema_conflict" },
      );
    }
    const added: [string, DType][] = [];
    for (const [name, dtype] of Object.entries(wanted.columnDtypes)) {
      const existing = current.columnDtypes[name];
      if (existing === undefined) added.push([name, dtype]);
      else if (existing !== dtype) {
        throw new StoreError(
          `schema conflict on table ${table}: column '${name}' is ${existing} in the table but ${dtype} in the new data`,
          { code: "schema_conflict" },
        );
      }
    }
    if (added.length === 0) return current;
    for (const [name, dtype] of added) {
      await this.exec(
        this.writer,
        `ALTER TABLE ${quoteIdent(table)} ADD COLUMN ${quoteIdent(name)} ${sqlType(dtype, this.jsonType)}`,
      );
    }
    const merged: TableSchema = {
      ...current,
      columnDtypes: { ...current.columnDtypes, ...Object.fromEntries(added) },
    };
    await this.saveSchema(info.uid, merged);
    return merged;
  }

  private async saveSchema(storageUid: string, schema: TableSchema): Promise<void> {
    await this.exec(
      this.writer,
      `UPDATE tdag_storages SET time_index_name = $2, index_names = $3, column_dtypes = $4 WHERE uid = $1`,
      [
        storageUid,
        schema.timeIndexName,
        JSON.stringify(schema.indexNames),
        JSON.stringify(schema.columnDtypes),
      ],
    );
  }

  /**
   * The hot path: append the frame into a TEMP staging table through data chunks, upsert it into
   * the data table in one statement, and merge the batch's per-coordinate min/max into
   * `tdag_progress` (a group-by over the batch only, so the cost does not grow with the table).
   */
  private async upsert(
    info: TableInfo,
    schema: TableSchema,
    frame: Frame,
    updaterUid: string | undefined,
  ): Promise<void> {
    const columns: TypedColumn[] = frame.columnNames.map((name) => ({
      name,
      dtype: schema.columnDtypes[name]!,
    }));
    const staging = quoteIdent(STAGING);
    const defs = columns.map((c) => `${quoteIdent(c.name)} ${stagingType(c.dtype).toString()}`);
    await this.exec(this.writer, `CREATE OR REPLACE TEMP TABLE ${staging} (${defs.join(", ")})`);
    const appender = await this.writer.createAppender(STAGING, "main", "temp");
    try {
      appendFrame(appender, frame, columns);
    } catch (error) {
      throw wrapDuckDBError(error, undefined, undefined, `append to ${STAGING}`);
    } finally {
      appender.closeSync();
    }

    const table = quoteIdent(info.storageHash);
    const index = new Set(schema.indexNames);
    const keys = schema.indexNames.map(quoteIdent).join(", ");
    const values = columns.filter((c) => !index.has(c.name)).map((c) => quoteIdent(c.name));
    const names = columns.map((c) => quoteIdent(c.name)).join(", ");
    const converted = columns.map((c) => fromStaging(c.name, c.dtype, this.jsonType)).join(", ");
    if (values.length === 0) await this.checkNoDuplicates(schema, frame.length);
    const action =
      values.length === 0
        ? "DO NOTHING"
        : `DO UPDATE SET ${values.map((v) => `${v} = excluded.${v}`).join(", ")}`;
    const inserted = await this.exec(
      this.writer,
      `INSERT INTO ${table} (${names}) SELECT ${converted} FROM ${staging} ON CONFLICT (${keys}) ${action}`,
    );
    // DuckDB folds in-batch duplicate keys into one row instead of failing, and reports one
    // changed row per distinct key: fewer changed rows than staged rows means duplicates.
    if (values.length > 0 && Number(inserted.rowsChanged) !== frame.length) {
      await this.checkNoDuplicates(schema, frame.length);
    }

    const dims = schema.indexNames
      .slice(1)
      .map((d) => fromStaging(d, schema.columnDtypes[d]!, this.jsonType));
    const coordinate = coordinateExpression(dims, this.jsonType);
    const time = quoteIdent(schema.timeIndexName);
    await this.exec(
      this.writer,
      `INSERT INTO tdag_progress (storage_uid, coordinate, min_micros, max_micros)
        SELECT $1, ${coordinate} AS coordinate, CAST(min(${time}) AS BIGINT), CAST(max(${time}) AS BIGINT)
        FROM ${staging} GROUP BY coordinate
        ON CONFLICT (storage_uid, coordinate) DO UPDATE SET
          min_micros = least(tdag_progress.min_micros, excluded.min_micros),
          max_micros = greatest(tdag_progress.max_micros, excluded.max_micros)`,
      [info.uid],
    );
    if (updaterUid !== undefined) {
      await this.exec(
        this.writer,
        `UPDATE tdag_runs SET rows_written = coalesce(rows_written, 0) + $2
          WHERE uid = (SELECT uid FROM tdag_runs WHERE updater_uid = $1 AND ended_at IS NULL
            ORDER BY seq DESC LIMIT 1)`,
        [updaterUid, frame.length],
      );
    }
    await this.exec(this.writer, `DROP TABLE ${staging}`);
  }

  private async checkNoDuplicates(schema: TableSchema, length: number): Promise<void> {
    const keys = schema.indexNames.map(quoteIdent).join(", ");
    const dups = await this.rows(
      this.writer,
      `SELECT ${keys}, count(*) AS n FROM ${quoteIdent(STAGING)} GROUP BY ALL HAVING count(*) > 1 LIMIT 5`,
      [],
    );
    if (dups.length === 0) return;
    const shown = dups.map(
      (r) =>
        `(${schema.indexNames.map((k) => describeKey(r[k], schema.columnDtypes[k])).join(", ")})`,
    );
    throw new StoreError(
      `the frame has duplicate index keys over [${schema.indexNames.join(", ")}] (${length} rows): ${shown.join(", ")}`,
      { code: "duplicate_index" },
    );
  }

  private async assetsByIdentifier(
    conn: DuckDBConnection,
    ids: readonly string[],
  ): Promise<Map<string, AssetRecord>> {
    const p = new SqlParams();
    const list = p.bind(listValue([...ids]), LIST(VARCHAR), ids);
    const rows = await this.rows(
      conn,
      `${ASSET_SELECT} WHERE unique_identifier IN (SELECT unnest(${list}))`,
      p,
    );
    return new Map(rows.map((r) => [r["unique_identifier"] as string, toAssetRecord(r)]));
  }
}

async function probe(conn: DuckDBConnection, sql: string): Promise<boolean> {
  try {
    await conn.run(sql);
    return true;
  } catch {
    return false;
  }
}

function toJsonText(value: unknown): string {
  return JSON.stringify(value ?? null) ?? "null";
}

function describeKey(value: unknown, dtype: DType | undefined): string {
  if (dtype === "timestamptz" && typeof value === "number")
    return new Date(value / 1000).toISOString();
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/**
 * The schema a frame is written with: the declared schema when given (the frame's index must
 * match it and declared dtypes win only if equal), extended by the frame's extra columns.
 */
function schemaForFrame(frame: Frame, declared: TableSchema | null): TableSchema {
  const dtypes = frame.dtypes;
  if (!declared) {
    return {
      timeIndexName: frame.timeIndexName,
      indexNames: frame.indexNames,
      columnDtypes: dtypes,
    };
  }
  if (frame.indexNames.join("\u0000") !== declared.indexNames.join("\u0000")) {
    throw new StoreError(
      `schema conflict: the table is indexed by [${declared.indexNames.join(", ")}] but the frame by [${frame.indexNames.join(", ")}]`,
      { code: "schema_conflict" },
    );
  }
  const merged: Record<string, DType> = { ...declared.columnDtypes };
  for (const [name, dtype] of Object.entries(dtypes)) {
    const known = merged[name];
    if (known === undefined) merged[name] = dtype;
    else if (known !== dtype) {
      throw new StoreError(
        `schema conflict: column '${name}' is ${known} in the table schema but ${dtype} in the frame`,
        { code: "schema_conflict" },
      );
    }
  }
  return { ...declared, columnDtypes: merged };
}

function toStorageRecord(r: Row): StorageRecord {
  return {
    uid: r["uid"] as string,
    storageHash: r["storage_hash"] as string,
    namespace: (r["namespace"] as string | null) ?? null,
    sourceClassName: r["source_class_name"] as string,
    buildConfiguration: JSON.parse(r["build_configuration"] as string),
    openToPublic: Boolean(r["open_to_public"]),
    identifier: (r["identifier"] as string | null) ?? null,
    description: (r["description"] as string | null) ?? null,
    dataFrequencyId: (r["data_frequency_id"] as string | null) ?? null,
    createdAt: new Date(Number(r["created_ms"])),
    schema: schemaFromRow(r["time_index_name"], r["index_names"], r["column_dtypes"]),
  };
}

function toAssetRecord(r: Row): AssetRecord {
  return {
    id: Number(r["id"]),
    unique_identifier: r["unique_identifier"] as string,
    security_type: (r["security_type"] as string | null) ?? null,
    security_market_sector: (r["security_market_sector"] as string | null) ?? null,
    isin: (r["isin"] as string | null) ?? null,
    is_custom_by_organization: Boolean(r["is_custom_by_organization"]),
    current_snapshot: {
      name: r["name"] as string,
      ticker: r["ticker"] as string,
      exchange_code: (r["exchange_code"] as string | null) ?? null,
    },
  };
}

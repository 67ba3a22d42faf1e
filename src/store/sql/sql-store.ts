import { randomUUID } from "node:crypto";
import { DATA_FREQUENCY_VALUES } from "../../config/data-node-configuration.js";
import { NotFoundError, StoreError } from "../../errors.js";
import type { SearchRequest } from "../../filters/search-request.js";
import { Frame } from "../../frame/frame.js";
import { rankColumnSearch, rankDescriptionSearch } from "../../search/local-search.js";
import { checkEmbeddingModel, checkSettings, resolveEmbedder } from "../../search/search-config.js";
import { parseColumnSearch, parseDescriptionSearch } from "../../search/search-options.js";
import type { SearchSettings } from "../../search/search-types.js";
import type { DataStore } from "../data-store.js";
import { emptyStatistics } from "../progress-tree.js";
import type { StateStore } from "../state-store.js";
import type {
  AssetFilter,
  AssetRecord,
  AssetRegistration,
  CallOptions,
  ColumnMetadata,
  ColumnSearchOptions,
  DependencyTarget,
  DescriptionSearchOptions,
  DimensionQuery,
  FilterResult,
  ListRunsOptions,
  ReadQuery,
  RegisterStorageInput,
  RegisterUpdaterInput,
  RunOutcome,
  RunRecord,
  RunRef,
  RunSummary,
  SearchHit,
  StorageKey,
  StorageRecord,
  StoreCapabilities,
  StoreKind,
  TableMetadata,
  TableSchema,
  TableStatistics,
  UpdaterKey,
  UpdaterRecord,
  WriteOptions,
  WriteResult,
} from "../store-types.js";
import {
  checkNoDuplicateKeys,
  checkSchema,
  checkWriter,
  matchesNothing,
  mergeSchema,
  normalizeSchema,
  projectColumns,
  schemaForFrame,
  writerUid,
} from "../table-rules.js";
import type { SqlDialect } from "./sql-dialect.js";
import { runFilterRequest } from "./sql-filter-compiler.js";
import { SqlParams } from "./sql-params.js";
import { SqlReadCompiler } from "./sql-read-compiler.js";
import {
  ASSET_SELECT,
  findStorageRecord,
  findUpdaterRecord,
  listStorageRecords,
  listUpdaterRecords,
  requireStorageRecord,
  requireUpdaterRecord,
  toAssetRecord,
} from "./sql-records.js";
import {
  autoIndexRow,
  buildIndexRow,
  loadColumnTables,
  loadIndexedTables,
  publishedIdentifiers,
  type SearchSqlContext,
  writeIndexRow,
} from "./sql-search.js";
import type { SqlDriver, SqlSession, TypedColumn } from "./sql-session.js";
import { buildStatistics, type ProgressRow } from "./sql-statistics.js";

/** What the store caches per storage: its table name and schema (immutable but for the schema). */
interface TableInfo {
  readonly uid: string;
  readonly storageHash: string;
  readonly schema: TableSchema | null;
}

/** Points in a write where a test can inject a failure. Not part of the public API. */
export interface SqlStoreTestHooks {
  /** Called inside the write transaction after the upsert and statistics merge, before COMMIT. */
  readonly beforeCommit?: (context: { readonly storageUid: string }) => void | Promise<void>;
}

/** What a SQL store is built from (by its facade: `DuckDBStore.open`, ...). */
export interface SqlStoreParts {
  readonly driver: SqlDriver;
  readonly kind: StoreKind;
  readonly description: string;
  readonly capabilities?: Partial<StoreCapabilities>;
  readonly testHooks?: SqlStoreTestHooks;
}

const STAGING = "__tdag_staging";

/** Capabilities of the SQL stores: everything the contract names. */
const SQL_CAPABILITIES: StoreCapabilities = Object.freeze({
  listRuns: true,
  listUpdaters: true,
  columnMetadataBeforeWrite: true,
  searchScores: true,
  localSearchEmbedder: true,
});

function toJsonText(value: unknown): string {
  return JSON.stringify(value ?? null) ?? "null";
}

/**
 * The {@link DataStore} of every SQL database, written once over a {@link SqlDriver} (sessions
 * and a dialect): data tables named by storage hash and keyed by the full index, and the
 * metadata the platform would hold in `tdag_` tables (storages, updaters, edges, runs, column
 * metadata, assets, per-coordinate progress, the search index). Each write is one transaction;
 * reads see committed data. A database store is this class plus a driver and an `open()`: see
 * `DuckDBStore`.
 */
export class SqlDataStore implements DataStore, StateStore {
  readonly kind: StoreKind;
  readonly description: string;
  readonly projectUid: string | null = null;
  readonly capabilities: StoreCapabilities;

  protected readonly driver: SqlDriver;
  protected readonly dialect: SqlDialect;
  private readonly compiler: SqlReadCompiler;
  private readonly hooks: SqlStoreTestHooks;
  private readonly tables = new Map<string, TableInfo>();
  private tablesVersion = 0;
  private searchSettings: SearchSettings = {};

  constructor(parts: SqlStoreParts) {
    this.driver = parts.driver;
    this.dialect = parts.driver.dialect;
    this.compiler = new SqlReadCompiler(this.dialect);
    this.kind = parts.kind;
    this.description = parts.description;
    this.capabilities = Object.freeze({ ...SQL_CAPABILITIES, ...parts.capabilities });
    this.hooks = parts.testHooks ?? {};
  }

  private q(name: string): string {
    return this.dialect.quoteIdent(name);
  }

  // ---------------------------------------------------------------- registration

  async registerStorage(
    input: RegisterStorageInput,
    options?: CallOptions,
  ): Promise<StorageRecord> {
    return this.driver.write(async (s) => {
      const key = { storageHash: input.storageHash };
      const existing = await findStorageRecord(s, this.dialect, key);
      if (existing) return existing;
      const p = new SqlParams();
      await s.run(
        `INSERT INTO tdag_storages (uid, storage_hash, namespace, source_class_name,
          build_configuration, open_to_public, created_at)
          VALUES (${p.text(randomUUID())}, ${p.text(input.storageHash)}, ${p.text(input.namespace)},
            ${p.text(input.sourceClassName)}, ${p.text(toJsonText(input.buildConfiguration))},
            ${p.bool(input.openToPublic ?? false)}, now())`,
        p,
      );
      return (await findStorageRecord(s, this.dialect, key))!;
    }, options);
  }

  async registerUpdater(
    input: RegisterUpdaterInput,
    options?: CallOptions,
  ): Promise<UpdaterRecord> {
    return this.driver.write(async (s) => {
      const key = { updateHash: input.updateHash };
      const existing = await findUpdaterRecord(s, this.dialect, key);
      if (existing) return existing;
      const storage = await findStorageRecord(s, this.dialect, { storageHash: input.storageHash });
      if (!storage) {
        throw new NotFoundError(
          "storage_not_found",
          `no storage with hash '${input.storageHash}': register the storage before its updater`,
        );
      }
      const p = new SqlParams();
      await s.run(
        `INSERT INTO tdag_updaters (uid, update_hash, storage_uid, namespace, build_configuration,
          project_uid, created_at)
          VALUES (${p.text(randomUUID())}, ${p.text(input.updateHash)}, ${p.text(storage.uid)},
            ${p.text(input.namespace)}, ${p.text(toJsonText(input.buildConfiguration))},
            ${p.text(input.projectUid ?? null)}, now())`,
        p,
      );
      return (await findUpdaterRecord(s, this.dialect, key))!;
    }, options);
  }

  async linkDependency(
    updaterUid: string,
    target: DependencyTarget,
    options?: CallOptions,
  ): Promise<void> {
    await this.driver.write(async (s) => {
      await requireUpdaterRecord(s, this.dialect, updaterUid);
      if (target.kind === "updater") await requireUpdaterRecord(s, this.dialect, target.uid);
      else if (target.kind === "storage") await requireStorageRecord(s, this.dialect, target.uid);
      else {
        throw new StoreError(
          "invalid_value",
          `unknown dependency kind ${JSON.stringify(String((target as DependencyTarget).kind))}`,
        );
      }
      const p = new SqlParams();
      await s.run(
        `INSERT INTO tdag_edges (updater_uid, target_kind, target_uid)
          VALUES (${p.text(updaterUid)}, ${p.text(target.kind)}, ${p.text(target.uid)})
          ON CONFLICT DO NOTHING`,
        p,
      );
    }, options);
  }

  async listDependencies(updaterUid: string, options?: CallOptions): Promise<DependencyTarget[]> {
    return this.driver.read(async (s) => {
      await requireUpdaterRecord(s, this.dialect, updaterUid);
      const p = new SqlParams();
      const rows = await s.rows(
        `SELECT target_kind, target_uid FROM tdag_edges WHERE updater_uid = ${p.text(updaterUid)}
          ORDER BY seq`,
        p,
      );
      return rows.map((r) => ({
        kind: r["target_kind"] as "updater" | "storage",
        uid: r["target_uid"] as string,
      }));
    }, options);
  }

  async findStorage(key: StorageKey, options?: CallOptions): Promise<StorageRecord | null> {
    return this.driver.read((s) => findStorageRecord(s, this.dialect, key), options);
  }

  async findUpdater(key: UpdaterKey, options?: CallOptions): Promise<UpdaterRecord | null> {
    return this.driver.read((s) => findUpdaterRecord(s, this.dialect, key), options);
  }

  async listStorages(options?: CallOptions): Promise<StorageRecord[]> {
    return this.driver.read((s) => listStorageRecords(s, this.dialect), options);
  }

  async listUpdaters(storageUid: string, options?: CallOptions): Promise<UpdaterRecord[]> {
    return this.driver.read(async (s) => {
      await requireStorageRecord(s, this.dialect, storageUid);
      return listUpdaterRecords(s, this.dialect, storageUid);
    }, options);
  }

  async deleteStorage(storageUid: string, options?: CallOptions): Promise<void> {
    await this.driver.write(async (s) => {
      const storage = await requireStorageRecord(s, this.dialect, storageUid);
      const updaters = await listUpdaterRecords(s, this.dialect, storageUid);
      const writers = updaters.map((u) => u.uid);
      // Each statement binds only its own parameters.
      const statement = (build: (p: SqlParams) => string) => {
        const p = new SqlParams();
        return { sql: build(p), params: p };
      };
      const byWriter = (p: SqlParams, column: string) =>
        this.dialect.inList(column, p.textList(writers));
      const statements = [
        statement((p) => `DELETE FROM tdag_runs WHERE ${byWriter(p, "updater_uid")}`),
        statement((p) => `DELETE FROM tdag_edges WHERE ${byWriter(p, "updater_uid")}`),
        statement(
          (
            p,
          ) => `DELETE FROM tdag_edges WHERE (target_kind = 'updater' AND ${byWriter(p, "target_uid")})
            OR (target_kind = 'storage' AND target_uid = ${p.text(storageUid)})`,
        ),
        ...["tdag_updaters", "tdag_progress", "tdag_column_metadata", "tdag_search_index"].map(
          (table) =>
            statement((p) => `DELETE FROM ${table} WHERE storage_uid = ${p.text(storageUid)}`),
        ),
        statement((p) => `DELETE FROM tdag_storages WHERE uid = ${p.text(storageUid)}`),
      ];
      await s.transaction(async () => {
        for (const { sql, params } of statements) await s.run(sql, params);
        await s.run(`DROP TABLE IF EXISTS ${this.q(storage.storageHash)}`);
      });
      this.cacheTable(storageUid, undefined);
    }, options);
  }

  // ---------------------------------------------------------------- runs

  async openRun(updaterUid: string, options?: CallOptions): Promise<RunRecord> {
    return this.driver.write(async (s) => {
      const updater = await requireUpdaterRecord(s, this.dialect, updaterUid);
      const uid = randomUUID();
      const startedAt = new Date();
      const p = new SqlParams();
      await s.run(
        `INSERT INTO tdag_runs (uid, updater_uid, started_at)
          VALUES (${p.text(uid)}, ${p.text(updaterUid)}, ${p.instant(startedAt.getTime() * 1000)})`,
        p,
      );
      const statistics = await this.statistics(s, updater.storageUid);
      return { uid, updaterUid, startedAt, mustUpdate: true, statistics };
    }, options);
  }

  async closeRun(run: RunRef, outcome: RunOutcome, options?: CallOptions): Promise<void> {
    await this.driver.write(async (s) => {
      const p = new SqlParams();
      const rows = outcome.rowsWritten;
      const changed = await s.run(
        `UPDATE tdag_runs SET ended_at = now(), error = ${p.bool(outcome.error)},
          error_message = ${p.text(outcome.errorMessage ?? null)},
          rows_written = coalesce(${rows === undefined ? "NULL" : p.bigint(rows)}, rows_written)
          WHERE uid = ${p.text(run.uid)} AND updater_uid = ${p.text(run.updaterUid)}`,
        p,
      );
      if (changed === 0) {
        throw new NotFoundError(
          "run_not_found",
          `no run with uid '${run.uid}' for updater '${run.updaterUid}'`,
        );
      }
    }, options);
  }

  async listRuns(updaterUid: string, options?: ListRunsOptions): Promise<RunSummary[]> {
    return this.driver.read(async (s) => {
      await requireUpdaterRecord(s, this.dialect, updaterUid);
      const p = new SqlParams();
      const limit = options?.limit;
      const rows = await s.rows(
        `SELECT uid, ${this.dialect.epochMillis("started_at")} AS started_ms,
          ${this.dialect.epochMillis("ended_at")} AS ended_ms, error, error_message, rows_written
          FROM tdag_runs WHERE updater_uid = ${p.text(updaterUid)} ORDER BY seq DESC
          ${limit === undefined ? "" : `LIMIT ${p.bigint(Math.max(0, Math.floor(limit)))}`}`,
        p,
      );
      return rows.map((r) => ({
        uid: r["uid"] as string,
        startedAt: new Date(Number(r["started_ms"])),
        endedAt: r["ended_ms"] === null ? null : new Date(Number(r["ended_ms"])),
        error: (r["error"] as boolean | null) ?? null,
        errorMessage: (r["error_message"] as string | null) ?? null,
        rowsWritten: r["rows_written"] === null ? null : Number(r["rows_written"]),
      }));
    }, options);
  }

  // ---------------------------------------------------------------- schema and writes

  async ensureTableSchema(
    storageUid: string,
    schema: TableSchema,
    options?: CallOptions,
  ): Promise<TableSchema> {
    return this.driver.write(async (s) => {
      const info = await this.tableInfo(s, storageUid);
      const merged = await s.transaction(() => this.ensureSchemaInTransaction(s, info, schema));
      this.cacheTable(storageUid, { ...info, schema: merged });
      return merged;
    }, options);
  }

  async writeFrame(storageUid: string, frame: Frame, options: WriteOptions): Promise<WriteResult> {
    return this.driver.write(async (s) => {
      const info = await this.tableInfo(s, storageUid);
      const updater = await requireUpdaterRecord(s, this.dialect, writerUid(options));
      checkWriter(updater, storageUid);
      const wanted = schemaForFrame(frame, options.schema ?? info.schema);
      let merged: TableSchema;
      try {
        merged = await s.transaction(async () => {
          const schema = await this.ensureSchemaInTransaction(s, info, wanted);
          if (frame.length > 0) await this.upsert(s, info, schema, frame, updater.uid);
          await this.hooks.beforeCommit?.({ storageUid });
          return schema;
        });
      } catch (error) {
        this.cacheTable(storageUid, undefined);
        throw error;
      }
      this.cacheTable(storageUid, { ...info, schema: merged });
      const statistics = await this.statistics(s, storageUid);
      return { rowsWritten: frame.length, statistics };
    }, options);
  }

  async getTableStatistics(storageUid: string, options?: CallOptions): Promise<TableStatistics> {
    return this.driver.read((s) => this.statistics(s, storageUid), options);
  }

  /** Creates the table, or checks the index and dtypes and adds new columns. Inside a transaction. */
  private async ensureSchemaInTransaction(
    s: SqlSession,
    info: TableInfo,
    requested: TableSchema,
  ): Promise<TableSchema> {
    checkSchema(requested);
    const wanted = normalizeSchema(requested);
    const current = (await requireStorageRecord(s, this.dialect, info.uid)).schema;
    const table = this.q(info.storageHash);
    if (!current) {
      const cols = Object.entries(wanted.columnDtypes).map(
        ([name, dtype]) => `${this.q(name)} ${this.dialect.columnType(dtype)}`,
      );
      const key = wanted.indexNames.map((n) => this.q(n)).join(", ");
      await s.run(`CREATE TABLE ${table} (${cols.join(", ")}, PRIMARY KEY (${key}))`);
      await this.saveSchema(s, info.uid, wanted);
      return wanted;
    }
    const { schema: merged, added } = mergeSchema(current, wanted, info.storageHash);
    if (added.length === 0) return current;
    for (const [name, dtype] of added) {
      await s.run(
        `ALTER TABLE ${table} ADD COLUMN ${this.q(name)} ${this.dialect.columnType(dtype)}`,
      );
    }
    await this.saveSchema(s, info.uid, merged);
    return merged;
  }

  private async saveSchema(s: SqlSession, storageUid: string, schema: TableSchema): Promise<void> {
    const p = new SqlParams();
    await s.run(
      `UPDATE tdag_storages SET time_index_name = ${p.text(schema.timeIndexName)},
        index_names = ${p.text(JSON.stringify(schema.indexNames))},
        column_dtypes = ${p.text(JSON.stringify(schema.columnDtypes))}
        WHERE uid = ${p.text(storageUid)}`,
      p,
    );
  }

  /**
   * The hot path: stage the frame (the session's bulk load), upsert it into the data table in
   * one statement, and merge the batch's per-coordinate min/max into `tdag_progress` (a group-by
   * over the batch only, so the cost does not grow with the table).
   */
  private async upsert(
    s: SqlSession,
    info: TableInfo,
    schema: TableSchema,
    frame: Frame,
    updaterUid: string,
  ): Promise<void> {
    const columns: TypedColumn[] = frame.columnNames.map((name) => ({
      name,
      dtype: schema.columnDtypes[name]!,
    }));
    const staged = await s.stageFrame(STAGING, frame, columns);
    const index = new Set(schema.indexNames);
    const keys = schema.indexNames.map((n) => this.q(n)).join(", ");
    const values = columns.filter((c) => !index.has(c.name)).map((c) => this.q(c.name));
    const names = columns.map((c) => this.q(c.name)).join(", ");
    const converted = columns.map((c) => staged.valueOf(c)).join(", ");
    // DO NOTHING would silently fold in-batch duplicates of an index-only table.
    if (values.length === 0) checkNoDuplicateKeys(frame);
    const action =
      values.length === 0
        ? "DO NOTHING"
        : `DO UPDATE SET ${values.map((v) => `${v} = excluded.${v}`).join(", ")}`;
    const changed = await s.run(
      `INSERT INTO ${this.q(info.storageHash)} (${names}) SELECT ${converted} FROM ${staged.table}
        ON CONFLICT (${keys}) ${action}`,
    );
    // A database may fold in-batch duplicate keys into one row instead of failing (DuckDB
    // reports one changed row per distinct key): fewer changed rows than staged rows means
    // duplicates, which are named from the frame.
    if (values.length > 0 && changed !== frame.length) checkNoDuplicateKeys(frame);

    const dims = schema.indexNames
      .slice(1)
      .map((d) => staged.valueOf({ name: d, dtype: schema.columnDtypes[d]! }));
    const coordinate = this.dialect.coordinateKey(dims);
    const micros = staged.microsOf(schema.timeIndexName);
    const p = new SqlParams();
    await s.run(
      `INSERT INTO tdag_progress (storage_uid, coordinate, min_micros, max_micros)
        SELECT ${p.text(info.uid)}, coordinate, min(t), max(t) FROM (
          SELECT ${coordinate} AS coordinate, ${micros} AS t FROM ${staged.table}
        ) AS batch GROUP BY coordinate
        ON CONFLICT (storage_uid, coordinate) DO UPDATE SET
          min_micros = least(tdag_progress.min_micros, excluded.min_micros),
          max_micros = greatest(tdag_progress.max_micros, excluded.max_micros)`,
      p,
    );
    const r = new SqlParams();
    await s.run(
      `UPDATE tdag_runs SET rows_written = coalesce(rows_written, 0) + ${r.bigint(frame.length)}
        WHERE uid = (SELECT uid FROM tdag_runs WHERE updater_uid = ${r.text(updaterUid)}
          AND ended_at IS NULL ORDER BY seq DESC LIMIT 1)`,
      r,
    );
    await s.run(`DROP TABLE ${staged.table}`);
  }

  // ---------------------------------------------------------------- reads and deletes

  async readFrame(
    storageUid: string,
    query: ReadQuery = {},
    options?: CallOptions,
  ): Promise<Frame> {
    return this.driver.read(async (s) => {
      const info = await this.tableInfo(s, storageUid);
      if (!info.schema) return Frame.empty();
      const columns = projectColumns(info.schema, query.columns);
      const compiled = this.compiler.read(info.storageHash, info.schema, query, columns);
      return this.selectFrame(s, compiled, info.schema, columns, options);
    }, options);
  }

  async readLastObservation(
    storageUid: string,
    query: DimensionQuery = {},
    options?: CallOptions,
  ): Promise<Frame> {
    return this.driver.read(async (s) => {
      const info = await this.tableInfo(s, storageUid);
      if (!info.schema) return Frame.empty();
      const bounded = (query.dimensionRangeMap ?? []).some(
        (r) => r.endDate !== undefined && r.endDate !== null,
      );
      let lowerBound: number | undefined;
      if (!bounded) {
        const p = new SqlParams();
        const rows = await s.rows(
          `SELECT min(max_micros) AS lb FROM tdag_progress WHERE storage_uid = ${p.text(storageUid)}`,
          p,
        );
        const lb = rows[0]?.["lb"];
        if (typeof lb === "number") lowerBound = lb;
      }
      const compiled = this.compiler.lastObservation(
        info.storageHash,
        info.schema,
        query,
        lowerBound,
      );
      const columns = Object.keys(info.schema.columnDtypes);
      return this.selectFrame(s, compiled, info.schema, columns, options);
    }, options);
  }

  async deleteAfterDate(
    storageUid: string,
    afterMicros: number,
    query: DimensionQuery = {},
    options?: CallOptions,
  ): Promise<{ deletedCount: number }> {
    return this.driver.write(async (s) => {
      const info = await this.tableInfo(s, storageUid);
      const schema = info.schema;
      if (!schema) return { deletedCount: 0 };
      const params = new SqlParams();
      const where = this.compiler.deleteWhere(schema, afterMicros, query, params);
      if (matchesNothing(query)) return { deletedCount: 0 };
      const table = this.q(info.storageHash);
      const coordinate = this.dialect.coordinateKey(
        schema.indexNames.slice(1).map((d) => this.q(d)),
      );
      return s.transaction(async () => {
        const affected = await s.rows(
          `SELECT DISTINCT ${coordinate} AS coordinate FROM ${table}${where}`,
          params,
        );
        const deletedCount = await s.run(`DELETE FROM ${table}${where}`, params);
        if (affected.length === 0) return { deletedCount };
        // Recompute the touched coordinates only: drop their rows, then rebuild from what is left.
        const p = new SqlParams();
        const uid = p.text(storageUid);
        const list = p.textList(affected.map((r) => r["coordinate"] as string));
        await s.run(
          `DELETE FROM tdag_progress WHERE storage_uid = ${uid} AND ${this.dialect.inList("coordinate", list)}`,
          p,
        );
        const time = this.dialect.epochMicros(this.q(schema.timeIndexName));
        await s.run(
          `INSERT INTO tdag_progress (storage_uid, coordinate, min_micros, max_micros)
            SELECT ${uid}, coordinate, min(t), max(t) FROM (
              SELECT ${coordinate} AS coordinate, ${time} AS t FROM ${table}
            ) AS kept WHERE ${this.dialect.inList("coordinate", list)} GROUP BY coordinate`,
          p,
        );
        return { deletedCount };
      });
    }, options);
  }

  async getDataFromFilter(request: SearchRequest, options?: CallOptions): Promise<FilterResult> {
    return this.driver.read(
      (s) =>
        runFilterRequest(request, {
          storage: (key) => findStorageRecord(s, this.dialect, key),
          session: s,
          dialect: this.dialect,
        }),
      options,
    );
  }

  // ---------------------------------------------------------------- metadata

  async setTableMetadata(
    storageUid: string,
    metadata: TableMetadata,
    options?: CallOptions,
  ): Promise<StorageRecord> {
    return this.driver.write(async (s) => {
      const storage = await requireStorageRecord(s, this.dialect, storageUid);
      const p = new SqlParams();
      const sets: string[] = [];
      if (metadata.identifier !== undefined) {
        const id = metadata.identifier;
        if (id !== null) {
          if (typeof id !== "string" || id.trim() === "") {
            throw new StoreError("invalid_value", "identifier must be a non-empty string or null");
          }
          const h = new SqlParams();
          const holder = await s.rows(
            `SELECT uid, storage_hash FROM tdag_storages
              WHERE identifier = ${h.text(id)} AND uid <> ${h.text(storageUid)}`,
            h,
          );
          const held = holder[0];
          if (held) {
            throw new StoreError(
              "identifier_taken",
              `identifier '${id}' is already held by storage ${String(held["storage_hash"])} (uid ${String(held["uid"])}); clear it there first`,
            );
          }
        }
        sets.push(`identifier = ${p.text(id)}`);
      }
      if (metadata.description !== undefined) {
        sets.push(`description = ${p.text(metadata.description)}`);
      }
      if (metadata.dataFrequencyId !== undefined) {
        const f = metadata.dataFrequencyId;
        if (f !== null && !(DATA_FREQUENCY_VALUES as readonly string[]).includes(f)) {
          throw new StoreError(
            "invalid_value",
            `dataFrequencyId must be one of ${DATA_FREQUENCY_VALUES.join(", ")} (got ${JSON.stringify(f)})`,
          );
        }
        sets.push(`data_frequency_id = ${p.text(f)}`);
      }
      // The first table metadata is indexed for search with it (embedded before any write).
      const indexRow =
        sets.length === 0
          ? null
          : await autoIndexRow(
              this.searchContext(s),
              storage,
              { kind: "table", metadata },
              resolveEmbedder(this.searchSettings),
            );
      await s.transaction(async () => {
        if (sets.length > 0) {
          await s.run(
            `UPDATE tdag_storages SET ${sets.join(", ")} WHERE uid = ${p.text(storageUid)}`,
            p,
          );
        }
        if (indexRow) await writeIndexRow(this.searchContext(s), indexRow);
      });
      return requireStorageRecord(s, this.dialect, storageUid);
    }, options);
  }

  async setColumnMetadata(
    storageUid: string,
    columns: readonly ColumnMetadata[],
    options?: CallOptions,
  ): Promise<void> {
    await this.driver.write(async (s) => {
      const storage = await requireStorageRecord(s, this.dialect, storageUid);
      // The first column metadata is indexed for search with it (embedded before any write).
      const indexRow = await autoIndexRow(
        this.searchContext(s),
        storage,
        { kind: "columns", columns },
        resolveEmbedder(this.searchSettings),
      );
      await s.transaction(async () => {
        const d = new SqlParams();
        await s.run(
          `DELETE FROM tdag_column_metadata WHERE storage_uid = ${d.text(storageUid)}`,
          d,
        );
        for (const c of columns) {
          const p = new SqlParams();
          await s.run(
            `INSERT INTO tdag_column_metadata (storage_uid, column_name, dtype, label, description)
              VALUES (${p.text(storageUid)}, ${p.text(c.columnName)}, ${p.text(c.dtype)},
                ${p.text(c.label)}, ${p.text(c.description)})`,
            p,
          );
        }
        if (indexRow) await writeIndexRow(this.searchContext(s), indexRow);
      });
    }, options);
  }

  async getColumnMetadata(storageUid: string, options?: CallOptions): Promise<ColumnMetadata[]> {
    return this.driver.read(async (s) => {
      await requireStorageRecord(s, this.dialect, storageUid);
      const p = new SqlParams();
      const rows = await s.rows(
        `SELECT column_name, dtype, label, description FROM tdag_column_metadata
          WHERE storage_uid = ${p.text(storageUid)} ORDER BY seq`,
        p,
      );
      return rows.map((r) => ({
        columnName: r["column_name"] as string,
        dtype: r["dtype"] as string,
        label: r["label"] as string,
        description: r["description"] as string,
      }));
    }, options);
  }

  // ---------------------------------------------------------------- assets

  async filterAssets(filter: AssetFilter, options?: CallOptions): Promise<AssetRecord[]> {
    const p = new SqlParams();
    const clauses: string[] = [];
    const match = (column: string, value: string | readonly string[] | undefined) => {
      if (value === undefined) return;
      if (typeof value === "string") clauses.push(`${column} = ${p.text(value)}`);
      else if (value.length === 0) clauses.push("FALSE");
      else clauses.push(this.dialect.inList(column, p.textList(value)));
    };
    match("unique_identifier", filter.uniqueIdentifier);
    match("ticker", filter.ticker);
    if (filter.nameContains !== undefined) {
      clauses.push(`strpos(name, ${p.text(filter.nameContains)}) > 0`);
    }
    match("exchange_code", filter.exchangeCode);
    match("security_type", filter.securityType);
    const where = clauses.length > 0 ? ` WHERE ${clauses.join(" AND ")}` : "";
    return this.driver.read(async (s) => {
      const rows = await s.rows(`${ASSET_SELECT}${where} ORDER BY id`, p);
      return rows.map(toAssetRecord);
    }, options);
  }

  async batchGetOrRegisterAssets(
    assets: readonly AssetRegistration[],
    options?: CallOptions,
  ): Promise<AssetRecord[]> {
    const unique = new Map<string, AssetRegistration>();
    for (const a of assets) {
      if (typeof a.uniqueIdentifier !== "string" || a.uniqueIdentifier === "") {
        throw new StoreError("invalid_value", "every asset needs a non-empty uniqueIdentifier");
      }
      if (!unique.has(a.uniqueIdentifier)) unique.set(a.uniqueIdentifier, a);
    }
    if (unique.size === 0) return [];
    return this.driver.write(async (s) => {
      const list = [...unique.values()];
      const p = new SqlParams();
      const lists = [
        list.map((a) => a.uniqueIdentifier),
        list.map((a) => a.snapshot.name),
        list.map((a) => a.snapshot.ticker),
        list.map((a) => a.snapshot.exchangeCode ?? null),
        list.map((a) => a.securityType ?? null),
        list.map((a) => a.securityMarketSector ?? null),
        list.map((a) => a.isin ?? null),
      ].map((values) => p.textList(values));
      const names = ["uid", "nm", "tk", "ex", "st", "ms", "isin"];
      await s.run(
        `INSERT INTO tdag_assets (unique_identifier, name, ticker, exchange_code, security_type,
          security_market_sector, isin, is_custom_by_organization)
          SELECT ${names.join(", ")}, true FROM ${this.dialect.rowsFromLists(lists, names)}
          ON CONFLICT (unique_identifier) DO NOTHING`,
        p,
      );
      const found = await this.assetsByIdentifier(s, [...unique.keys()]);
      return [...unique.keys()].map((id) => found.get(id)!);
    }, options);
  }

  async findUnregisteredAssets(
    uniqueIdentifiers: readonly string[],
    options?: CallOptions,
  ): Promise<string[]> {
    const wanted = [...new Set(uniqueIdentifiers)];
    if (wanted.length === 0) return [];
    return this.driver.read(async (s) => {
      const p = new SqlParams();
      const rows = await s.rows(
        `SELECT unique_identifier FROM tdag_assets
          WHERE ${this.dialect.inList("unique_identifier", p.textList(wanted))}`,
        p,
      );
      const known = new Set(rows.map((r) => r["unique_identifier"] as string));
      return wanted.filter((id) => !known.has(id));
    }, options);
  }

  private async assetsByIdentifier(
    s: SqlSession,
    ids: readonly string[],
  ): Promise<Map<string, AssetRecord>> {
    const p = new SqlParams();
    const rows = await s.rows(
      `${ASSET_SELECT} WHERE ${this.dialect.inList("unique_identifier", p.textList(ids))}`,
      p,
    );
    return new Map(rows.map((r) => [r["unique_identifier"] as string, toAssetRecord(r)]));
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
    const tables = await this.driver.read(
      (s) => loadIndexedTables(this.searchContext(s), request.filters),
      options,
    );
    return rankDescriptionSearch(request, tables, embedder);
  }

  async columnSearch(query: string, options?: ColumnSearchOptions): Promise<SearchHit[]> {
    const request = parseColumnSearch(query, options);
    const tables = await this.driver.read(
      (s) => loadColumnTables(this.searchContext(s), request.filters),
      options,
    );
    return rankColumnSearch(request, tables);
  }

  async refreshTableSearchIndex(storageUid: string, options?: CallOptions): Promise<void> {
    const embedder = resolveEmbedder(this.searchSettings);
    await this.driver.write(async (s) => {
      const storage = await requireStorageRecord(s, this.dialect, storageUid);
      const ctx = this.searchContext(s);
      await writeIndexRow(ctx, await buildIndexRow(ctx, storage, embedder));
    }, options);
  }

  async orgUniqueIdentifiers(options?: CallOptions): Promise<string[]> {
    return this.driver.read((s) => publishedIdentifiers(this.searchContext(s)), options);
  }

  private searchContext(session: SqlSession): SearchSqlContext {
    return { session, storages: () => listStorageRecords(session, this.dialect) };
  }

  async close(): Promise<void> {
    await this.driver.close();
  }

  // ---------------------------------------------------------------- durable bookkeeping

  async readState<T = unknown>(
    kind: string,
    key: string,
    options?: CallOptions,
  ): Promise<T | null> {
    return this.driver.read(async (s) => {
      const p = new SqlParams();
      const rows = await s.rows(
        `SELECT value FROM tdag_state WHERE kind = ${p.text(kind)} AND key = ${p.text(key)}`,
        p,
      );
      return rows[0] ? (JSON.parse(rows[0]["value"] as string) as T) : null;
    }, options);
  }

  async writeState(
    kind: string,
    key: string,
    value: unknown,
    options?: CallOptions,
  ): Promise<void> {
    await this.driver.write(async (s) => {
      const p = new SqlParams();
      await s.run(
        `INSERT INTO tdag_state (kind, key, value) VALUES (${p.text(kind)}, ${p.text(key)}, ${p.text(toJsonText(value))})
          ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value`,
        p,
      );
    }, options);
  }

  async deleteState(kind: string, key: string, options?: CallOptions): Promise<void> {
    await this.driver.write(async (s) => {
      const p = new SqlParams();
      await s.run(
        `DELETE FROM tdag_state WHERE kind = ${p.text(kind)} AND key = ${p.text(key)}`,
        p,
      );
    }, options);
  }

  async listState<T = unknown>(
    kind: string,
    options?: CallOptions,
  ): Promise<{ readonly key: string; readonly value: T }[]> {
    return this.driver.read(async (s) => {
      const p = new SqlParams();
      const rows = await s.rows(
        `SELECT key, value FROM tdag_state WHERE kind = ${p.text(kind)} ORDER BY seq`,
        p,
      );
      return rows.map((r) => ({
        key: r["key"] as string,
        value: JSON.parse(r["value"] as string) as T,
      }));
    }, options);
  }

  async putBlob(
    kind: string,
    key: string,
    blobKey: string,
    payload: string,
    options?: CallOptions,
  ): Promise<boolean> {
    return this.driver.write(async (s) => {
      const p = new SqlParams();
      const added = await s.run(
        `INSERT INTO tdag_state_blobs (kind, key, blob_key, payload)
          VALUES (${p.text(kind)}, ${p.text(key)}, ${p.text(blobKey)}, ${p.text(payload)})
          ON CONFLICT (kind, key, blob_key) DO NOTHING`,
        p,
      );
      return added > 0;
    }, options);
  }

  async listBlobs(
    kind: string,
    key: string,
    options?: CallOptions,
  ): Promise<{ readonly blobKey: string; readonly payload: string }[]> {
    return this.driver.read(async (s) => {
      const p = new SqlParams();
      const rows = await s.rows(
        `SELECT blob_key, payload FROM tdag_state_blobs
          WHERE kind = ${p.text(kind)} AND key = ${p.text(key)} ORDER BY seq`,
        p,
      );
      return rows.map((r) => ({
        blobKey: r["blob_key"] as string,
        payload: r["payload"] as string,
      }));
    }, options);
  }

  async deleteBlobs(kind: string, key: string, options?: CallOptions): Promise<void> {
    await this.driver.write(async (s) => {
      const p = new SqlParams();
      await s.run(
        `DELETE FROM tdag_state_blobs WHERE kind = ${p.text(kind)} AND key = ${p.text(key)}`,
        p,
      );
    }, options);
  }

  // ---------------------------------------------------------------- internals

  private async selectFrame(
    s: SqlSession,
    compiled: { readonly sql: string; readonly params: SqlParams },
    schema: TableSchema,
    columns: readonly string[],
    options: CallOptions | undefined,
  ): Promise<Frame> {
    if (options?.signal?.aborted) {
      throw new StoreError("aborted", "the store call was aborted", {
        cause: options.signal.reason,
      });
    }
    const typed = columns.map((name) => ({ name, dtype: schema.columnDtypes[name]! }));
    return s.selectFrame(compiled.sql, compiled.params, schema.indexNames, typed);
  }

  private async tableInfo(s: SqlSession, storageUid: string): Promise<TableInfo> {
    const cached = this.tables.get(storageUid);
    if (cached) return cached;
    // A read may race a write that changes the schema: only cache what was read if no write
    // touched the cache meanwhile (the writer caches its own result after COMMIT).
    const version = this.tablesVersion;
    const storage = await requireStorageRecord(s, this.dialect, storageUid);
    const info = { uid: storage.uid, storageHash: storage.storageHash, schema: storage.schema };
    if (version === this.tablesVersion) this.tables.set(storageUid, info);
    return info;
  }

  private cacheTable(storageUid: string, info: TableInfo | undefined): void {
    this.tablesVersion += 1;
    if (info) this.tables.set(storageUid, info);
    else this.tables.delete(storageUid);
  }

  private async statistics(s: SqlSession, storageUid: string): Promise<TableStatistics> {
    const info = await this.tableInfo(s, storageUid);
    if (!info.schema) return emptyStatistics();
    const p = new SqlParams();
    const rows = await s.rows(
      `SELECT coordinate, min_micros, max_micros FROM tdag_progress
        WHERE storage_uid = ${p.text(storageUid)} ORDER BY coordinate`,
      p,
    );
    const count = await s.rows(`SELECT count(*) AS n FROM ${this.q(info.storageHash)}`);
    const progress: ProgressRow[] = rows.map((r) => ({
      coordinate: r["coordinate"] as string,
      min: Number(r["min_micros"]),
      max: Number(r["max_micros"]),
    }));
    return buildStatistics(info.schema, progress, Number(count[0]?.["n"] ?? 0));
  }
}

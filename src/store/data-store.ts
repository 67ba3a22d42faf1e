import type { SearchRequest } from "../filters/search-request.js";
import type { Frame } from "../frame/frame.js";
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
} from "./store-types.js";

export type * from "./store-types.js";

/**
 * What a store is: its kind, a name for logs, the platform project it works for, and what it
 * can do beyond the core contract.
 */
export interface StoreInfo {
  /** `"duckdb"`, `"remote"`, or the kind a third-party store declares. */
  readonly kind: StoreKind;
  /** A short name for logs: `"duckdb:/path/to/file"`, `"remote:https://..."`. */
  readonly description: string;
  /**
   * The platform project this store works for, which enters every update hash (as in the
   * Python SDK); `null` for stores that know no project (the embedded store).
   */
  readonly projectUid: string | null;
  /** What the store can do beyond the core contract; ask before calling an optional method. */
  readonly capabilities: StoreCapabilities;
}

/**
 * Table and job identities: storages (tables, by `storageHash`), updaters (jobs, by
 * `updateHash`), their dependency edges and published metadata. Every get-or-create is
 * idempotent by hash (a retried call creates nothing twice).
 */
export interface StorageRegistry {
  /** Get-or-create the storage (table identity) by `storageHash`. */
  registerStorage(input: RegisterStorageInput, options?: CallOptions): Promise<StorageRecord>;
  /** Get-or-create the updater (job identity) by `updateHash`, attached to its storage. */
  registerUpdater(input: RegisterUpdaterInput, options?: CallOptions): Promise<UpdaterRecord>;
  /** Records that `updaterUid` depends on another updater or on a storage read through an API node. */
  linkDependency(
    updaterUid: string,
    target: DependencyTarget,
    options?: CallOptions,
  ): Promise<void>;
  /** The direct dependencies recorded for an updater. */
  listDependencies(updaterUid: string, options?: CallOptions): Promise<DependencyTarget[]>;
  /** Finds a storage by exactly one of its keys. */
  findStorage(key: StorageKey, options?: CallOptions): Promise<StorageRecord | null>;
  /** Finds an updater by its uid or its hash. */
  findUpdater(key: UpdaterKey, options?: CallOptions): Promise<UpdaterRecord | null>;
  /** Every storage, for discovery and the CLI. */
  listStorages(options?: CallOptions): Promise<StorageRecord[]>;
  /**
   * The updaters that write a storage, oldest first (`[]` for a storage nobody writes).
   * Capability `listUpdaters`.
   */
  listUpdaters(storageUid: string, options?: CallOptions): Promise<UpdaterRecord[]>;
  /**
   * Deletes a storage: its table and rows, its statistics and metadata, its updaters with their
   * runs and dependency edges, and the edges of other updaters that read it. All or nothing.
   * Unknown uid: `NotFoundError`.
   */
  deleteStorage(storageUid: string, options?: CallOptions): Promise<void>;
  /**
   * Publishes table metadata. An identifier held by another storage is a `StoreError` with code
   * `identifier_taken`; `null` clears a field.
   */
  setTableMetadata(
    storageUid: string,
    metadata: TableMetadata,
    options?: CallOptions,
  ): Promise<StorageRecord>;
  /** Replaces the column metadata of a storage. */
  setColumnMetadata(
    storageUid: string,
    columns: readonly ColumnMetadata[],
    options?: CallOptions,
  ): Promise<void>;
  /** The column metadata of a storage (empty when none was set). */
  getColumnMetadata(storageUid: string, options?: CallOptions): Promise<ColumnMetadata[]>;
}

/** Run records of updaters. */
export interface RunLog {
  /** Opens a run record for an updater; returns whether an update is due and the table statistics. */
  openRun(updaterUid: string, options?: CallOptions): Promise<RunRecord>;
  /**
   * Closes a run with its outcome. Takes the record `openRun` returned (or its uid and updater),
   * so any instance of the store can close it, in any process.
   */
  closeRun(run: RunRef, outcome: RunOutcome, options?: CallOptions): Promise<void>;
  /** Run records of an updater, newest first. Capability `listRuns`. */
  listRuns(updaterUid: string, options?: ListRunsOptions): Promise<RunSummary[]>;
}

/**
 * The data tables. Instants are UTC epoch **microseconds**. Writes are atomic: on failure the
 * table, its schema and its statistics are exactly as before.
 */
export interface TableStore {
  /**
   * Creates the physical table for a storage, or checks that an existing one has the same index
   * and compatible column dtypes (new columns are added). Conflicts throw a `StoreError` with
   * code `schema_conflict`.
   */
  ensureTableSchema(
    storageUid: string,
    schema: TableSchema,
    options?: CallOptions,
  ): Promise<TableSchema>;
  /**
   * Upserts a frame keyed by the full index, atomically with the table-schema check and the
   * statistics merge. Rows whose index already exists are replaced.
   */
  writeFrame(storageUid: string, frame: Frame, options: WriteOptions): Promise<WriteResult>;
  /** Statistics of the whole table (progress per coordinate, global min/max). */
  getTableStatistics(storageUid: string, options?: CallOptions): Promise<TableStatistics>;
  /** Rows between dates with dimension filters; rows ordered by the index. */
  readFrame(storageUid: string, query?: ReadQuery, options?: CallOptions): Promise<Frame>;
  /** The latest row of every coordinate matched by the query. */
  readLastObservation(
    storageUid: string,
    query?: DimensionQuery,
    options?: CallOptions,
  ): Promise<Frame>;
  /** Deletes rows at or after `afterMicros` (inclusive), optionally restricted by dimensions. */
  deleteAfterDate(
    storageUid: string,
    afterMicros: number,
    query?: DimensionQuery,
    options?: CallOptions,
  ): Promise<{ deletedCount: number }>;
  /**
   * One page of a structured read (the platform's `get-data-from-filter`): the base table by
   * hash or published identifier, optional joins, a filter, `limit`/`offset`. Columns come back
   * as the platform names them (unprefixed index, `base__col`, `<join>__col`) with the tables'
   * dtypes; `nextOffset` is `null` on the last page. Invalid fields or joins throw a
   * `FilterError`; an unknown storage a `NotFoundError`.
   */
  getDataFromFilter(request: SearchRequest, options?: CallOptions): Promise<FilterResult>;
}

/** Assets (the identities of 2-D tables), registered idempotently by `uniqueIdentifier`. */
export interface AssetRegistry {
  /** Assets matching a filter, ordered by id. */
  filterAssets(filter: AssetFilter, options?: CallOptions): Promise<AssetRecord[]>;
  /** Registers assets idempotently by `uniqueIdentifier` and returns them all (existing included). */
  batchGetOrRegisterAssets(
    assets: readonly AssetRegistration[],
    options?: CallOptions,
  ): Promise<AssetRecord[]>;
  /** The given identifiers that are not registered assets. */
  findUnregisteredAssets(
    uniqueIdentifiers: readonly string[],
    options?: CallOptions,
  ): Promise<string[]>;
}

/** Finding published tables. */
export interface CatalogSearch {
  /**
   * Published tables ranked for a natural-language query (the platform's `description-search`):
   * trigram similarity of `query` to each table's indexed search document, blended with the
   * cosine similarity of their embeddings (`wTrgm * trgm + wEmb * emb` over the `trigramK` best
   * by trigram and the `embedK` best by embedding). `query` is trimmed and must be non-empty;
   * bad options or unknown filter keys throw a `SearchError` before any work.
   */
  descriptionSearch(query: string, options?: DescriptionSearchOptions): Promise<SearchHit[]>;
  /**
   * Tables having a column whose name, label or description matches `query` (the platform's
   * `column-search`): exact name matches first, then by trigram similarity.
   */
  columnSearch(query: string, options?: ColumnSearchOptions): Promise<SearchHit[]>;
  /**
   * Rebuilds a storage's search document from its current table and column metadata, class and
   * configuration, and re-embeds it. Unknown uid: `NotFoundError`.
   */
  refreshTableSearchIndex(storageUid: string, options?: CallOptions): Promise<void>;
  /** Every published table identifier of the organisation, sorted. */
  orgUniqueIdentifiers(options?: CallOptions): Promise<string[]>;
}

/**
 * The contract between the run engine and a persistence backend, split along its seams (the
 * registry of tables and jobs, run records, table I/O, assets, catalog search). The engine never
 * knows which store it has: the embedded DuckDB store and the Main Sequence REST API implement
 * it and pass the same conformance suite (`tests/conformance/`).
 *
 * Conventions: instants are UTC epoch microseconds; lookups that find nothing return `null`;
 * operations on an unknown uid throw `NotFoundError`; every error is a `TdagError`.
 *
 * @example
 * ```ts
 * const store: DataStore = await DuckDBStore.open({ path: ":memory:" });
 * if (store.capabilities.listRuns) console.log(await store.listRuns(updater.uid, { limit: 5 }));
 * ```
 */
export interface DataStore
  extends StoreInfo,
    StorageRegistry,
    RunLog,
    TableStore,
    AssetRegistry,
    CatalogSearch {
  /** Releases connections and file locks. */
  close(): Promise<void>;
}

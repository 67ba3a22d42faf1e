import type { FilterResult } from "../filters/filter-result.js";
import type { SearchRequest } from "../filters/search-request.js";
import type { DType } from "../frame/dtypes.js";
import type { Frame } from "../frame/frame.js";
import type {
  ColumnSearchOptions,
  DescriptionSearchOptions,
  SearchHit,
} from "../search/search-types.js";

export type {
  ColumnSearchOptions,
  DescriptionSearchOptions,
  SearchHit,
  StorageSearchFilters,
} from "../search/search-types.js";

/**
 * The contract between the run engine and a persistence backend. The engine never knows which
 * store it has: the embedded DuckDB store, the Main Sequence REST API, or PostgreSQL all
 * implement this interface and pass the same conformance suite (`tests/conformance/`).
 *
 * Conventions:
 * - instants are UTC epoch **microseconds** (numbers);
 * - every get-or-create is idempotent by hash (a retried call creates nothing twice);
 * - {@link DataStore.writeFrame} is atomic: on failure the table, its schema and its statistics
 *   are exactly as before;
 * - lookups that find nothing return `null`; operations on an unknown uid throw `NotFoundError`.
 */
export interface DataStore {
  /** A short name for logs: `"duckdb:/path/to/file"`, `"remote:https://..."`. */
  readonly description: string;

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

  /** Opens a run record for an updater; returns whether an update is due and the table statistics. */
  openRun(updaterUid: string, options?: CallOptions): Promise<RunRecord>;
  /** Closes a run record with its outcome. */
  closeRun(runUid: string, outcome: RunOutcome, options?: CallOptions): Promise<void>;
  /** Run records of an updater, newest first. */
  listRuns(updaterUid: string, options?: CallOptions & { limit?: number }): Promise<RunSummary[]>;

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
  writeFrame(storageUid: string, frame: Frame, options?: WriteOptions): Promise<WriteResult>;
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

  /** Finds a storage by exactly one of its keys. */
  findStorage(key: StorageKey, options?: CallOptions): Promise<StorageRecord | null>;
  /** Finds an updater by its hash. */
  findUpdater(updateHash: string, options?: CallOptions): Promise<UpdaterRecord | null>;
  /** Every storage, for discovery and the CLI. */
  listStorages(options?: CallOptions): Promise<StorageRecord[]>;

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

  /** Assets matching a filter. */
  filterAssets(filter: AssetFilter, options?: CallOptions): Promise<AssetRecord[]>;
  /** Registers assets idempotently by `unique_identifier` and returns them all (existing included). */
  batchGetOrRegisterAssets(
    assets: readonly AssetRegistration[],
    options?: CallOptions,
  ): Promise<AssetRecord[]>;
  /** The given identifiers that are not registered assets. */
  findUnregisteredAssets(
    uniqueIdentifiers: readonly string[],
    options?: CallOptions,
  ): Promise<string[]>;

  /**
   * One page of a structured read (protocol section 3, `get-data-from-filter`): the base table
   * by hash or published identifier, optional joins, a filter, `limit`/`offset`. Columns come
   * back as the platform names them (unprefixed index, `base__col`, `<join>__col`) with the
   * tables' dtypes; `nextOffset` is `null` on the last page. Invalid fields or joins throw a
   * `FilterError`; an unknown storage a `NotFoundError`.
   */
  getDataFromFilter(request: SearchRequest, options?: CallOptions): Promise<FilterResult>;

  /**
   * Published tables ranked for a natural-language query (the platform's `description-search`):
   * pg_trgm-style trigram similarity of `query` to each table's indexed search document,
   * blended with the cosine similarity of their embeddings (`w_trgm * trgm + w_emb * emb` over
   * the `trigram_k` best by trigram and the `embed_k` best by embedding). `query` is trimmed and
   * must be non-empty; bad options or unknown filter keys throw a `SearchError` before any work.
   */
  descriptionSearch(query: string, options?: DescriptionSearchOptions): Promise<SearchHit[]>;
  /**
   * Tables having a column whose name, label or description matches `query` (the platform's
   * `column-search`): exact name matches first, then by trigram similarity.
   */
  columnSearch(query: string, options?: ColumnSearchOptions): Promise<SearchHit[]>;
  /**
   * Rebuilds a storage's search document from its current table and column metadata, class and
   * configuration, and re-embeds it (`refresh-table-search-index`). Unknown uid: `NotFoundError`.
   */
  refreshTableSearchIndex(storageUid: string, options?: CallOptions): Promise<void>;
  /** Every published table identifier of the organisation, sorted. */
  orgUniqueIdentifiers(options?: CallOptions): Promise<string[]>;

  /** Releases connections and file locks. */
  close(): Promise<void>;
}

/** Cancellation for any store call. */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface WriteOptions extends CallOptions {
  /** The table schema to create or check in the same transaction as the write. */
  readonly schema?: TableSchema;
  /** The updater that wrote the rows (recorded on the run). */
  readonly updaterUid?: string;
}

export interface WriteResult {
  /** Rows inserted or replaced. */
  readonly rowsWritten: number;
  /** The table statistics after the write. */
  readonly statistics: TableStatistics;
}

export interface RegisterStorageInput {
  readonly storageHash: string;
  /** The hash namespace the storage was created in (`null` when none). */
  readonly namespace: string | null;
  /** The serialized (unstripped) build configuration, as plain JSON. */
  readonly buildConfiguration: unknown;
  /** The node class that created the storage. */
  readonly sourceClassName: string;
  readonly openToPublic?: boolean;
}

export interface RegisterUpdaterInput {
  readonly updateHash: string;
  readonly storageHash: string;
  readonly buildConfiguration: unknown;
  readonly namespace: string | null;
  readonly projectUid?: string | null;
}

export interface StorageRecord {
  readonly uid: string;
  readonly storageHash: string;
  readonly namespace: string | null;
  readonly sourceClassName: string;
  readonly buildConfiguration: unknown;
  readonly openToPublic: boolean;
  readonly identifier: string | null;
  readonly description: string | null;
  readonly dataFrequencyId: string | null;
  readonly createdAt: Date;
  /** The table's schema, or `null` before the first write. */
  readonly schema: TableSchema | null;
}

export interface UpdaterRecord {
  readonly uid: string;
  readonly updateHash: string;
  readonly storageUid: string;
  readonly storageHash: string;
  readonly namespace: string | null;
  readonly buildConfiguration: unknown;
  readonly createdAt: Date;
}

export type DependencyTarget =
  | { readonly kind: "updater"; readonly uid: string }
  | { readonly kind: "storage"; readonly uid: string };

export type StorageKey =
  | { readonly identifier: string }
  | { readonly uid: string }
  | { readonly storageHash: string };

/** Index and column dtypes of a table. */
export interface TableSchema {
  readonly timeIndexName: string;
  /** The time index first, then the identity dimensions. */
  readonly indexNames: readonly string[];
  /** Every column's dtype, index columns included. */
  readonly columnDtypes: Readonly<Record<string, DType>>;
}

/** A per-coordinate tree: one nesting level per identity dimension, epoch-micros leaves. */
export interface ProgressTree {
  readonly [identity: string]: ProgressTree | number;
}

/** Table statistics as a store reports them (the raw material of `UpdateStatistics`). */
export interface TableStatistics {
  /** Min and max of the time index over the whole table; `null` when empty. */
  readonly globalIndexProgress: { readonly min: number; readonly max: number } | null;
  /** Latest instant per coordinate (`{}` for a 1-D table). */
  readonly indexProgress: ProgressTree | null;
  /** Earliest instant per coordinate. */
  readonly indexMin: ProgressTree | null;
  /** Per column: the same tree with `{ min, max }` leaves. */
  readonly multiIndexColumnStats: Readonly<Record<string, unknown>> | null;
  /** Rows in the table, when the store knows it cheaply. */
  readonly rowCount: number | null;
}

export interface RunRecord {
  readonly uid: string;
  readonly updaterUid: string;
  readonly startedAt: Date;
  /** Whether the store says an update is due (the local stores always say yes). */
  readonly mustUpdate: boolean;
  readonly statistics: TableStatistics;
}

export interface RunOutcome {
  readonly error: boolean;
  readonly errorMessage?: string | null;
  readonly rowsWritten?: number;
}

export interface RunSummary {
  readonly uid: string;
  readonly startedAt: Date;
  readonly endedAt: Date | null;
  readonly error: boolean | null;
  readonly errorMessage: string | null;
  readonly rowsWritten: number | null;
}

/** Dimension restrictions shared by reads, last observations and deletes. */
export interface DimensionQuery {
  /** `{ dim: [values] }`: AND across dimensions, IN within one; an empty list matches nothing. */
  readonly dimensionFilters?: Readonly<Record<string, readonly unknown[]>>;
  /** OR of exact (null-safe) coordinate matches. */
  readonly indexCoordinates?: readonly Readonly<Record<string, unknown>>[];
  /** OR of per-coordinate time windows. */
  readonly dimensionRangeMap?: readonly DimensionRange[];
}

export interface DimensionRange {
  readonly coordinate: Readonly<Record<string, unknown>>;
  readonly startDate?: number | null;
  readonly startDateOperand?: ">=" | ">";
  readonly endDate?: number | null;
  readonly endDateOperand?: "<=" | "<";
}

export interface ReadQuery extends DimensionQuery {
  readonly start?: number | null;
  readonly end?: number | null;
  /** `time >= start` when true (default), `time > start` otherwise. */
  readonly greatOrEqual?: boolean;
  /** `time <= end` when true (default), `time < end` otherwise. */
  readonly lessOrEqual?: boolean;
  /** Value columns to return (index columns are always returned). */
  readonly columns?: readonly string[];
}

export type DataFrequency = "1m" | "5m" | "1d" | "1w" | "1mo" | "1q" | "1y";

export interface TableMetadata {
  readonly identifier?: string | null;
  readonly description?: string | null;
  readonly dataFrequencyId?: DataFrequency | null;
}

export interface ColumnMetadata {
  readonly columnName: string;
  readonly dtype: string;
  readonly label: string;
  readonly description: string;
}

/** An asset as the platform describes it (wire spelling). */
export interface AssetRecord {
  readonly id: number;
  readonly unique_identifier: string;
  readonly security_type: string | null;
  readonly security_market_sector: string | null;
  readonly isin: string | null;
  readonly is_custom_by_organization: boolean;
  readonly current_snapshot: {
    readonly name: string;
    readonly ticker: string;
    readonly exchange_code: string | null;
  };
}

export interface AssetRegistration {
  readonly unique_identifier: string;
  readonly snapshot: {
    readonly name: string;
    readonly ticker: string;
    readonly exchange_code?: string | null;
  };
  readonly security_type?: string | null;
  readonly security_market_sector?: string | null;
  readonly isin?: string | null;
}

/** Asset filter keys, DRF style. */
export interface AssetFilter {
  readonly unique_identifier?: string;
  readonly unique_identifier__in?: readonly string[];
  readonly ticker?: string;
  readonly ticker__in?: readonly string[];
  readonly name__contains?: string;
  readonly exchange_code?: string;
  readonly security_type?: string;
}

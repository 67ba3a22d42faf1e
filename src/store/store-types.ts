/**
 * The record types of the store contract: what every store takes and returns. A leaf module:
 * it imports only lower layers (config, frame), never `filters/`, `search/` or a store, so the
 * filter and search layers, the engine and every store can share these types without cycles.
 * Spelled in camelCase throughout; the platform's wire spellings (`unique_identifier__in`,
 * `trigram_k`) exist only inside `store/remote/` and `server/`.
 */
import type { DataFrequencyValue } from "../config/data-node-configuration.js";
import type { Frame } from "../frame/frame.js";
import type { TableSchema } from "../frame/table-schema.js";

export type { DataFrequencyValue, TableSchema };

// ---------------------------------------------------------------- store identity

/**
 * What kind of store an instance is. The built-in kinds are `"duckdb"` (embedded) and
 * `"remote"` (the Main Sequence platform); a store written outside tdag names its own.
 */
export type StoreKind = "duckdb" | "remote" | (string & {});

/**
 * What a store can do beyond the core contract. A caller asks before it calls; a store that
 * lacks a capability rejects the call with `StoreError` code `unsupported_capability`.
 *
 * - `listRuns`: the run history of an updater can be listed (`listRuns`);
 * - `listUpdaters`: the updaters of a storage can be listed (`listUpdaters`);
 * - `columnMetadataBeforeWrite`: column metadata set on a storage that has no table yet can be
 *   read back (the platform keeps column metadata on the table's configuration, which the first
 *   write creates);
 * - `searchScores`: search hits carry the trigram and embedding scores they were ranked by (the
 *   platform answers the storages only, in rank order);
 * - `localSearchEmbedder`: description search embeds with this process's embedder
 *   (`configureSearch`); otherwise the store's server embeds.
 */
export const STORE_CAPABILITIES = [
  "listRuns",
  "listUpdaters",
  "columnMetadataBeforeWrite",
  "searchScores",
  "localSearchEmbedder",
] as const;
export type StoreCapability = (typeof STORE_CAPABILITIES)[number];

/** A store's capabilities, one flag each. */
export type StoreCapabilities = Readonly<Record<StoreCapability, boolean>>;

// ---------------------------------------------------------------- call options

/** Cancellation for any store call. */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

/** Options of `writeFrame`. */
export interface WriteOptions extends CallOptions {
  /**
   * The updater that writes the rows. Every write goes through an updater, as on the platform
   * (rows are inserted through `LTS/{uid}/insert_data_into_table/`); stores attribute the rows
   * to its open run.
   */
  readonly updaterUid: string;
  /** The table schema to create or check in the same transaction as the write. */
  readonly schema?: TableSchema;
}

/** What a write did. */
export interface WriteResult {
  /** Rows inserted or replaced. */
  readonly rowsWritten: number;
  /** The table statistics after the write. */
  readonly statistics: TableStatistics;
}

// ---------------------------------------------------------------- registry records

/** What `registerStorage` is given. */
export interface RegisterStorageInput {
  readonly storageHash: string;
  /** The hash namespace the storage was created in (`null` when none). */
  readonly namespace: string | null;
  /** The serialized (unstripped) build configuration, as plain JSON. */
  readonly buildConfiguration: unknown;
  /** The node class that created the storage. */
  readonly sourceClassName: string;
  readonly openToPublic?: boolean;
  /**
   * `buildConfiguration` as JSON text with its Python types (`1.0` for a float field), for
   * stores that send it on (the platform store); others store `buildConfiguration`.
   */
  readonly buildConfigurationJson?: string;
  /** The node class's source text and its hash (the platform keeps both with the storage). */
  readonly sourceCode?: { readonly text: string; readonly gitHash: string } | null;
  /** The JSON Schema of the node's config, as the platform keeps it: `{ config: <schema> }`. */
  readonly buildConfigurationJsonSchema?: unknown;
}

/** What `registerUpdater` is given. */
export interface RegisterUpdaterInput {
  readonly updateHash: string;
  readonly storageHash: string;
  readonly buildConfiguration: unknown;
  readonly namespace: string | null;
  readonly projectUid?: string | null;
  /** `buildConfiguration` as JSON text with its Python types (see {@link RegisterStorageInput}). */
  readonly buildConfigurationJson?: string;
}

/** A storage: one table identity (`storageHash`) and its published metadata. */
export interface StorageRecord {
  readonly uid: string;
  readonly storageHash: string;
  readonly namespace: string | null;
  readonly sourceClassName: string;
  readonly buildConfiguration: unknown;
  readonly openToPublic: boolean;
  readonly identifier: string | null;
  readonly description: string | null;
  readonly dataFrequencyId: DataFrequencyValue | null;
  readonly createdAt: Date;
  /** The table's schema, or `null` before the first write. */
  readonly schema: TableSchema | null;
}

/** An updater: one job identity (`updateHash`) writing into a storage. */
export interface UpdaterRecord {
  readonly uid: string;
  readonly updateHash: string;
  readonly storageUid: string;
  readonly storageHash: string;
  readonly namespace: string | null;
  readonly buildConfiguration: unknown;
  readonly createdAt: Date;
}

/** What an updater depends on: another updater, or a table read through an APIDataNode. */
export type DependencyTarget =
  | { readonly kind: "updater"; readonly uid: string }
  | { readonly kind: "storage"; readonly uid: string };

/** A storage named by exactly one of its keys. */
export type StorageKey =
  | { readonly identifier: string }
  | { readonly uid: string }
  | { readonly storageHash: string };

/** An updater named by exactly one of its keys. */
export type UpdaterKey = { readonly uid: string } | { readonly updateHash: string };

/** Publishable table metadata; `null` clears a field, a missing key leaves it as it is. */
export interface TableMetadata {
  readonly identifier?: string | null;
  readonly description?: string | null;
  readonly dataFrequencyId?: DataFrequencyValue | null;
}

/** The metadata of one column. */
export interface ColumnMetadata {
  readonly columnName: string;
  readonly dtype: string;
  readonly label: string;
  readonly description: string;
}

// ---------------------------------------------------------------- runs

/** An open run: what `openRun` returns and `closeRun` is given back. */
export interface RunRecord {
  readonly uid: string;
  readonly updaterUid: string;
  readonly startedAt: Date;
  /** Whether the store says an update is due (the local stores always say yes). */
  readonly mustUpdate: boolean;
  readonly statistics: TableStatistics;
}

/** The part of a run record `closeRun` needs: which run of which updater. */
export type RunRef = Pick<RunRecord, "uid" | "updaterUid">;

/** How a run ended. */
export interface RunOutcome {
  readonly error: boolean;
  readonly errorMessage?: string | null;
  readonly rowsWritten?: number;
}

/** A run as `listRuns` reports it. */
export interface RunSummary {
  readonly uid: string;
  readonly startedAt: Date;
  readonly endedAt: Date | null;
  readonly error: boolean | null;
  readonly errorMessage: string | null;
  readonly rowsWritten: number | null;
}

/** Options of `listRuns`. */
export interface ListRunsOptions extends CallOptions {
  /** At most this many runs, newest first. */
  readonly limit?: number;
}

// ---------------------------------------------------------------- statistics

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

// ---------------------------------------------------------------- reads

/** Dimension restrictions shared by reads, last observations and deletes. */
export interface DimensionQuery {
  /** `{ dim: [values] }`: AND across dimensions, IN within one; an empty list matches nothing. */
  readonly dimensionFilters?: Readonly<Record<string, readonly unknown[]>>;
  /** OR of exact (null-safe) coordinate matches. */
  readonly indexCoordinates?: readonly Readonly<Record<string, unknown>>[];
  /** OR of per-coordinate time windows. */
  readonly dimensionRangeMap?: readonly DimensionRange[];
}

/** One coordinate's time window (epoch micros; operands default to inclusive). */
export interface DimensionRange {
  readonly coordinate: Readonly<Record<string, unknown>>;
  readonly startDate?: number | null;
  readonly startDateOperand?: ">=" | ">";
  readonly endDate?: number | null;
  readonly endDateOperand?: "<=" | "<";
}

/** A read between dates (epoch micros) with dimension restrictions and a projection. */
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

/**
 * One page of a filtered read (`getDataFromFilter`), already decoded.
 *
 * The frame is indexed by the base table's index names, which stay unprefixed; every other
 * column is prefixed by the table it comes from: `base__<column>` for the base table and
 * `<join name>__<column>` for a joined one. Dtypes are the tables' own.
 *
 * @example
 * ```ts
 * const { frame, nextOffset } = await store.getDataFromFilter(req);
 * frame.columnNames; // ["time_index", "unique_identifier", "base__close", "fundamentals__pe"]
 * ```
 */
export interface FilterResult {
  /** The rows of this page, ordered by the index. */
  readonly frame: Frame;
  /** The offset of the next page, or `null` when this page is the last. */
  readonly nextOffset: number | null;
  /** The storage behind each prefix: `base` and every join name. */
  readonly storages: Readonly<Record<string, StorageRecord>>;
  /** The frame's index names (the base table's index). */
  readonly indexNames: readonly string[];
}

// ---------------------------------------------------------------- assets

/** An asset. */
export interface AssetRecord {
  readonly id: number;
  readonly uniqueIdentifier: string;
  readonly securityType: string | null;
  readonly securityMarketSector: string | null;
  readonly isin: string | null;
  readonly isCustomByOrganization: boolean;
  readonly currentSnapshot: AssetSnapshot;
}

/** The descriptive part of an asset. */
export interface AssetSnapshot {
  readonly name: string;
  readonly ticker: string;
  readonly exchangeCode: string | null;
}

/** An asset to register (idempotent by `uniqueIdentifier`). */
export interface AssetRegistration {
  readonly uniqueIdentifier: string;
  readonly snapshot: {
    readonly name: string;
    readonly ticker: string;
    readonly exchangeCode?: string | null;
  };
  readonly securityType?: string | null;
  readonly securityMarketSector?: string | null;
  readonly isin?: string | null;
}

/**
 * Which assets to list: every given key must match (AND). A list matches any of its values
 * (an empty list matches nothing); `nameContains` is a case-sensitive substring of the name.
 */
export interface AssetFilter {
  readonly uniqueIdentifier?: string | readonly string[];
  readonly ticker?: string | readonly string[];
  readonly nameContains?: string;
  readonly exchangeCode?: string;
  readonly securityType?: string;
}

// ---------------------------------------------------------------- catalog search

/**
 * Storage filters accepted by both searches (the platform's storage filters). Unknown keys are a
 * `SearchError` with code `unknown_search_filter`, raised before any work.
 *
 * - `namespace`: exact match; `null` matches storages created without a namespace;
 * - `identifier` / `identifierContains`: exact / case-sensitive substring of the published
 *   identifier (storages without one never match);
 * - `storageHash`, `sourceClassName`: exact;
 * - `dataSourceId`: the data source. The embedded store is data source `1`: `1` keeps every
 *   storage, any other id matches nothing.
 *
 * @example
 * ```ts
 * await store.descriptionSearch("daily close price", { filters: { namespace: null } });
 * ```
 */
export interface StorageSearchFilters {
  readonly namespace?: string | null;
  readonly identifier?: string;
  readonly identifierContains?: string;
  readonly storageHash?: string;
  readonly sourceClassName?: string;
  readonly dataSourceId?: number;
}

/**
 * Options of `descriptionSearch`, defaulted as the platform's `description-search` route:
 * `trigramK` 200, `embedK` 200, `wTrgm` 0.65, `wEmb` 0.35, `embeddingModel` `"default"`.
 *
 * @example
 * ```ts
 * const hits = await store.descriptionSearch("daily close price", { wTrgm: 1, wEmb: 0 });
 * ```
 */
export interface DescriptionSearchOptions extends CallOptions {
  /** How many of the best trigram matches become candidates (default 200). */
  readonly trigramK?: number;
  /** How many of the best embedding matches become candidates (default 200). */
  readonly embedK?: number;
  /** Weight of the trigram similarity in the score (default 0.65). */
  readonly wTrgm?: number;
  /** Weight of the embedding cosine similarity in the score (default 0.35). */
  readonly wEmb?: number;
  /** `"default"` (the store's embedder) or the configured embedder's model name. */
  readonly embeddingModel?: string;
  /** A query vector to use instead of embedding the query (same dimension as the index). */
  readonly qEmbedding?: readonly number[];
  readonly filters?: StorageSearchFilters;
}

/**
 * Options of `columnSearch`.
 *
 * @example
 * ```ts
 * const hits = await store.columnSearch("close", { limit: 10 });
 * ```
 */
export interface ColumnSearchOptions extends CallOptions {
  readonly filters?: StorageSearchFilters;
  /** At most this many tables (a positive integer; default: all matches). */
  readonly limit?: number;
}

/**
 * One table found by a search, best first.
 *
 * - description search: `score = wTrgm * trigramScore + wEmb * embeddingScore`,
 *   `matchedColumns` lists the table's columns whose name appears in the query;
 * - column search: `score` is the best column's similarity (1 for an exact name match),
 *   `trigramScore === score`, `embeddingScore === 0`, `matchedColumns` the matching columns.
 *
 * A store without the `searchScores` capability reports 0 scores (its hits are in rank order).
 */
export interface SearchHit {
  readonly storage: StorageRecord;
  readonly score: number;
  readonly trigramScore: number;
  readonly embeddingScore: number;
  readonly matchedColumns: string[];
}

import type { CallOptions, StorageRecord } from "../store/data-store.js";

/**
 * Storage filters accepted by both searches (the DRF filters the platform passes through).
 * Unknown keys are a `SearchError` with code `unknown_search_filter`, raised before any work.
 *
 * - `namespace`: exact match; `null` matches storages created without a namespace;
 * - `identifier` / `identifier__contains`: exact / case-sensitive substring of the published
 *   identifier (storages without one never match);
 * - `storage_hash`, `source_class_name`: exact;
 * - `data_source_id`: the data source. The embedded store is data source `1`: `1` keeps every
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
  readonly identifier__contains?: string;
  readonly storage_hash?: string;
  readonly source_class_name?: string;
  readonly data_source_id?: number;
}

/**
 * Options of `DataStore.descriptionSearch`, spelled and defaulted as the platform's
 * `description-search` route: `trigram_k` 200, `embed_k` 200, `w_trgm` 0.65, `w_emb` 0.35,
 * `embedding_model` `"default"`.
 *
 * @example
 * ```ts
 * const hits = await store.descriptionSearch("daily close price", { w_trgm: 1, w_emb: 0 });
 * ```
 */
export interface DescriptionSearchOptions extends CallOptions {
  /** How many of the best trigram matches become candidates (default 200). */
  readonly trigram_k?: number;
  /** How many of the best embedding matches become candidates (default 200). */
  readonly embed_k?: number;
  /** Weight of the trigram similarity in the score (default 0.65). */
  readonly w_trgm?: number;
  /** Weight of the embedding cosine similarity in the score (default 0.35). */
  readonly w_emb?: number;
  /** `"default"` (the store's embedder) or the configured embedder's model name. */
  readonly embedding_model?: string;
  /** A query vector to use instead of embedding `q` (same dimension as the index). */
  readonly q_embedding?: readonly number[];
  readonly filters?: StorageSearchFilters;
}

/**
 * Options of `DataStore.columnSearch`.
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
 * - description search: `score = w_trgm * trigramScore + w_emb * embeddingScore`,
 *   `matchedColumns` lists the table's columns whose name appears in the query;
 * - column search: `score` is the best column's similarity (1 for an exact name match),
 *   `trigramScore === score`, `embeddingScore === 0`, `matchedColumns` the matching columns.
 */
export interface SearchHit {
  readonly storage: StorageRecord;
  readonly score: number;
  readonly trigramScore: number;
  readonly embeddingScore: number;
  readonly matchedColumns: string[];
}

/** Turns a text into a vector; the default is the lexical {@link hashedEmbedding}. */
export type Embedder = (text: string) => readonly number[] | Promise<readonly number[]>;

/**
 * How a store embeds search documents and queries.
 *
 * @example
 * ```ts
 * configureSearch({ embedder: (text) => myModel.embed(text), embeddingModel: "my-model-v1" });
 * ```
 */
export interface SearchSettings {
  /** The embedder; default: the lexical hashed n-gram embedder (not a semantic model). */
  readonly embedder?: Embedder;
  /** The embedder's name, stored next to every indexed vector (default `"custom"`). */
  readonly embeddingModel?: string;
}

import { errorFamily } from "../errors.js";

/**
 * Why a search was refused:
 * - `invalid_search_query`: `q` is not a string or is blank once trimmed;
 * - `unknown_search_filter`: a filter key (or a top-level option) the search does not know;
 * - `invalid_search_option`: a bad option or filter value (`trigram_k: -1`, `w_emb: NaN`, ...);
 * - `unknown_embedding_model`: `embedding_model` names neither `"default"` nor the configured model;
 * - `embedding_dimension_mismatch`: `q_embedding` (or an embedder's output) has another length
 *   than the indexed vectors;
 * - `invalid_embedding`: an embedder returned something that is not a non-empty list of finite
 *   numbers.
 */
export const SEARCH_ERROR_CODES = [
  "invalid_search_query",
  "unknown_search_filter",
  "invalid_search_option",
  "unknown_embedding_model",
  "embedding_dimension_mismatch",
  "invalid_embedding",
] as const;
export type SearchErrorCode = (typeof SEARCH_ERROR_CODES)[number];

/**
 * A description or column search was refused. Thrown before any store work for bad arguments.
 *
 * @example
 * ```ts
 * try { await store.descriptionSearch("  "); } catch (err) {
 *   if (err instanceof SearchError) err.code; // "invalid_search_query"
 * }
 * ```
 */
export class SearchError extends errorFamily("SearchError", SEARCH_ERROR_CODES) {}

import type { SearchHit, StorageRecord, StorageSearchFilters } from "../store/store-types.js";
import { blendRank, compareTieKeys, cosineSimilarity, type RankEntry } from "./ranking.js";
import type { ActiveEmbedder } from "./search-config.js";
import { SearchError } from "./search-error.js";
import type { ColumnSearchRequest, DescriptionSearchRequest } from "./search-options.js";
import {
  setSimilarity,
  trigramList,
  trigramSet,
  wordSimilarity,
  wordSimilarityOf,
} from "./trigram.js";

/**
 * The search engine for stores without a server-side index (the embedded DuckDB store): the
 * store loads its indexed documents and column metadata, this module ranks them.
 */

/** One column as search sees it (schema columns without metadata have an empty label). */
export interface SearchColumn {
  readonly columnName: string;
  readonly label: string;
  readonly description: string;
}

/** One table of the search index. */
export interface IndexedTable {
  readonly storage: StorageRecord;
  /** The indexed search document (see `buildSearchDocument`). */
  readonly document: string;
  /** The stored vector of the document, and the model that made it (`null`: embed now). */
  readonly embedding: readonly number[] | null;
  readonly embeddingModel: string | null;
  readonly columns: readonly SearchColumn[];
}

/** A table and its columns, for column search. */
export interface ColumnTable {
  readonly storage: StorageRecord;
  readonly columns: readonly SearchColumn[];
}

const TRIGRAM_CACHE_SIZE = 4096;
const trigramCache = new Map<string, string[]>();

/** The ordered trigrams of an indexed document, cached (documents change only on indexing). */
function documentTrigrams(document: string): string[] {
  const cached = trigramCache.get(document);
  if (cached) return cached;
  const list = trigramList(document);
  if (trigramCache.size >= TRIGRAM_CACHE_SIZE) {
    trigramCache.delete(trigramCache.keys().next().value as string);
  }
  trigramCache.set(document, list);
  return list;
}

/** A column matches when its trigram similarity to the query reaches pg_trgm's default threshold. */
export const COLUMN_SIMILARITY_THRESHOLD = 0.3;
/** A column is reported by description search when its name occurs in the query this well. */
const DESCRIPTION_COLUMN_THRESHOLD = 0.6;

/**
 * Whether a storage passes the search filters. `dataSourceId` is the id of the store's one data
 * source (the embedded store is data source 1).
 *
 * @example
 * ```ts
 * storageMatchesFilters(storage, { namespace: null }, 1);
 * ```
 */
export function storageMatchesFilters(
  storage: StorageRecord,
  filters: StorageSearchFilters,
  dataSourceId: number,
): boolean {
  if (filters.dataSourceId !== undefined && filters.dataSourceId !== dataSourceId) return false;
  if (filters.namespace !== undefined) {
    const ns = storage.namespace === "" ? null : storage.namespace;
    const wanted = filters.namespace === "" ? null : filters.namespace;
    if (ns !== wanted) return false;
  }
  if (filters.identifier !== undefined && storage.identifier !== filters.identifier) return false;
  if (
    filters.identifierContains !== undefined &&
    !(storage.identifier ?? "\u0000").includes(filters.identifierContains)
  ) {
    return false;
  }
  if (filters.storageHash !== undefined && storage.storageHash !== filters.storageHash) {
    return false;
  }
  if (
    filters.sourceClassName !== undefined &&
    storage.sourceClassName !== filters.sourceClassName
  ) {
    return false;
  }
  return true;
}

/**
 * Ranks indexed tables for a description search: pg_trgm word similarity of the query against
 * each document, cosine similarity of the query vector against each document vector, blended
 * by {@link blendRank}. Vectors stored under another model than the active embedder's are
 * re-embedded from the stored document (not saved).
 */
export async function rankDescriptionSearch(
  request: DescriptionSearchRequest,
  tables: readonly IndexedTable[],
  embedder: ActiveEmbedder,
): Promise<SearchHit[]> {
  const { blend } = request;
  const useEmbedding = blend.wEmb !== 0 || blend.embedK > 0;
  const qVector = useEmbedding ? (request.qEmbedding ?? (await embedder.embed(request.q))) : null;
  const qSet = trigramSet(request.q);
  const entries: RankEntry<IndexedTable>[] = [];
  for (const table of tables) {
    let embedding = 0;
    if (qVector) {
      const vector =
        table.embedding && table.embeddingModel === embedder.model
          ? table.embedding
          : await embedder.embed(table.document);
      if (vector.length !== qVector.length) {
        const which = request.qEmbedding ? "q_embedding" : "the query vector";
        throw new SearchError(
          "embedding_dimension_mismatch",
          `${which} has ${qVector.length} dimensions but the index vectors of model '${embedder.model}' have ${vector.length}`,
        );
      }
      embedding = cosineSimilarity(qVector, vector);
    }
    entries.push({
      item: table,
      identifier: table.storage.identifier,
      storageHash: table.storage.storageHash,
      trigram: wordSimilarityOf(qSet, documentTrigrams(table.document)),
      embedding,
    });
  }
  return blendRank(entries, blend).map((r) => ({
    storage: r.item.storage,
    score: r.score,
    trigramScore: r.trigram,
    embeddingScore: r.embedding,
    matchedColumns: r.item.columns
      .filter(
        (c) =>
          wordSimilarity(c.columnName, request.q) >= DESCRIPTION_COLUMN_THRESHOLD ||
          (c.label !== "" && wordSimilarity(c.label, request.q) >= DESCRIPTION_COLUMN_THRESHOLD),
      )
      .map((c) => c.columnName),
  }));
}

interface ColumnMatch {
  readonly name: string;
  readonly exact: boolean;
  readonly score: number;
}

/**
 * Ranks tables for a column search. A column matches when its name equals the query (ignoring
 * case), when the query is a substring of its name, label or description (ignoring case), or when
 * the trigram similarity of the query to its name or label reaches
 * {@link COLUMN_SIMILARITY_THRESHOLD}. A column scores 1 on an exact name match, else its best
 * name/label similarity. Tables with an exact match come first, then by their best column score,
 * then by identifier and storage hash.
 */
export function rankColumnSearch(
  request: ColumnSearchRequest,
  tables: readonly ColumnTable[],
): SearchHit[] {
  const q = request.q.toLowerCase();
  const qSet = trigramSet(request.q);
  const hits: { hit: SearchHit; exact: boolean }[] = [];
  for (const table of tables) {
    const matches: ColumnMatch[] = [];
    for (const c of table.columns) {
      const exact = c.columnName.toLowerCase() === q;
      const similarity = Math.max(
        setSimilarity(qSet, trigramSet(c.columnName)),
        c.label ? setSimilarity(qSet, trigramSet(c.label)) : 0,
      );
      const substring = [c.columnName, c.label, c.description].some((t) =>
        t.toLowerCase().includes(q),
      );
      if (exact || substring || similarity >= COLUMN_SIMILARITY_THRESHOLD) {
        matches.push({ name: c.columnName, exact, score: exact ? 1 : similarity });
      }
    }
    if (matches.length === 0) continue;
    matches.sort(
      (a, b) =>
        Number(b.exact) - Number(a.exact) || b.score - a.score || (a.name < b.name ? -1 : 1),
    );
    const best = matches[0]!;
    hits.push({
      exact: best.exact,
      hit: {
        storage: table.storage,
        score: best.score,
        trigramScore: best.score,
        embeddingScore: 0,
        matchedColumns: matches.map((m) => m.name),
      },
    });
  }
  hits.sort(
    (a, b) =>
      Number(b.exact) - Number(a.exact) ||
      b.hit.score - a.hit.score ||
      compareTieKeys(a.hit.storage, b.hit.storage),
  );
  const ranked = hits.map((h) => h.hit);
  return request.limit === null ? ranked : ranked.slice(0, request.limit);
}

/**
 * The columns of a table for search: its published column metadata, then its physical columns
 * that have none (by name, empty label and description).
 */
export function searchColumns(
  metadata: readonly SearchColumn[],
  schemaColumns: readonly string[],
): SearchColumn[] {
  const out = metadata.map((c) => ({
    columnName: c.columnName,
    label: c.label,
    description: c.description,
  }));
  const known = new Set(out.map((c) => c.columnName));
  for (const name of schemaColumns) {
    if (!known.has(name)) out.push({ columnName: name, label: "", description: "" });
  }
  return out;
}

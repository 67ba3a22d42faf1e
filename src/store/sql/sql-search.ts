import {
  type ColumnTable,
  type IndexedTable,
  type SearchColumn,
  searchColumns,
  storageMatchesFilters,
} from "../../search/local-search.js";
import type { ActiveEmbedder } from "../../search/search-config.js";
import { buildSearchDocument } from "../../search/search-document.js";
import type {
  ColumnMetadata,
  StorageRecord,
  StorageSearchFilters,
  TableMetadata,
} from "../store-types.js";
import { SqlParams } from "./sql-params.js";
import type { Row, SqlSession } from "./sql-session.js";

/**
 * The search index of SQL stores: one row per storage in `tdag_search_index` holding the table's
 * search document, its vector and the model that made it. Ranking itself lives in `src/search/`
 * (these stores have no server-side index); this file only reads and writes rows.
 */

/** A local SQL store is the organisation's only data source, with id 1. */
export const EMBEDDED_DATA_SOURCE_ID = 1;

/** What the store lends the search code: a session, and storage records read on it. */
export interface SearchSqlContext {
  readonly session: SqlSession;
  /** Every storage, oldest first. */
  storages(): Promise<StorageRecord[]>;
}

function params(...values: (string | boolean)[]): SqlParams {
  const p = new SqlParams();
  for (const v of values) {
    if (typeof v === "boolean") p.bool(v);
    else p.text(v);
  }
  return p;
}

/** One row of `tdag_search_index`, ready to write. */
export interface SearchIndexRow {
  readonly storageUid: string;
  readonly document: string;
  readonly embeddingModel: string;
  readonly embedding: readonly number[];
  /** The document includes published table metadata (identifier or description). */
  readonly tableMetadataIndexed: boolean;
  /** The document includes published column metadata. */
  readonly columnMetadataIndexed: boolean;
}

/** A metadata publication that may trigger automatic indexing. */
export type MetadataChange =
  | { readonly kind: "table"; readonly metadata: TableMetadata }
  | { readonly kind: "columns"; readonly columns: readonly ColumnMetadata[] };

async function columnMetadataOf(
  ctx: SearchSqlContext,
  storageUid: string,
): Promise<SearchColumn[]> {
  const rows = await ctx.session.rows(
    `SELECT column_name, label, description FROM tdag_column_metadata WHERE storage_uid = $1 ORDER BY seq`,
    params(storageUid),
  );
  return rows.map(toColumn);
}

function toColumn(r: Row): SearchColumn {
  return {
    columnName: r["column_name"] as string,
    label: r["label"] as string,
    description: r["description"] as string,
  };
}

function schemaColumns(storage: StorageRecord): string[] {
  return storage.schema ? Object.keys(storage.schema.columnDtypes) : [];
}

function documentOf(storage: StorageRecord, columns: readonly SearchColumn[]): string {
  return buildSearchDocument({
    identifier: storage.identifier,
    description: storage.description,
    dataFrequencyId: storage.dataFrequencyId,
    sourceClassName: storage.sourceClassName,
    buildConfiguration: storage.buildConfiguration,
    columns,
    schemaColumns: schemaColumns(storage),
  });
}

/** Builds (and embeds) the index row of a storage from its current metadata. */
export async function buildIndexRow(
  ctx: SearchSqlContext,
  storage: StorageRecord,
  embedder: ActiveEmbedder,
  columns?: readonly SearchColumn[],
): Promise<SearchIndexRow> {
  const cols = columns ?? (await columnMetadataOf(ctx, storage.uid));
  const document = documentOf(storage, cols);
  return {
    storageUid: storage.uid,
    document,
    embeddingModel: embedder.model,
    embedding: await embedder.embed(document),
    tableMetadataIndexed: storage.identifier !== null || storage.description !== null,
    columnMetadataIndexed: cols.length > 0,
  };
}

/**
 * The row to write alongside a metadata publication, or `null` when none is due. Indexing is
 * automatic only for the first publication of each kind: when the storage has no row yet, or
 * its document does not include that kind of metadata yet. Later changes wait for
 * `refreshTableSearchIndex`. The row reflects the metadata as it will be after the change, and
 * is computed before anything is written, so a failing embedder leaves the metadata untouched.
 */
export async function autoIndexRow(
  ctx: SearchSqlContext,
  storage: StorageRecord,
  change: MetadataChange,
  embedder: ActiveEmbedder,
): Promise<SearchIndexRow | null> {
  const existing = await ctx.session.rows(
    `SELECT table_metadata_indexed, column_metadata_indexed FROM tdag_search_index
      WHERE storage_uid = $1`,
    params(storage.uid),
  );
  const row = existing[0];
  if (row) {
    const done =
      change.kind === "table" ? row["table_metadata_indexed"] : row["column_metadata_indexed"];
    if (done === true) return null;
  }
  if (change.kind === "columns") {
    if (change.columns.length === 0 && row) return null;
    return buildIndexRow(ctx, storage, embedder, change.columns.map(toSearchColumn));
  }
  const m = change.metadata;
  const next: StorageRecord = {
    ...storage,
    identifier: m.identifier === undefined ? storage.identifier : m.identifier,
    description: m.description === undefined ? storage.description : m.description,
    dataFrequencyId: m.dataFrequencyId === undefined ? storage.dataFrequencyId : m.dataFrequencyId,
  };
  return buildIndexRow(ctx, next, embedder);
}

function toSearchColumn(c: ColumnMetadata): SearchColumn {
  return { columnName: c.columnName, label: c.label, description: c.description };
}

/** Inserts or replaces a storage's index row. */
export async function writeIndexRow(ctx: SearchSqlContext, row: SearchIndexRow): Promise<void> {
  await ctx.session.run(
    `INSERT INTO tdag_search_index (storage_uid, document, embedding_model, embedding,
        table_metadata_indexed, column_metadata_indexed, indexed_at)
      VALUES ($1, $2, $3, $4, $5, $6, now())
      ON CONFLICT (storage_uid) DO UPDATE SET document = excluded.document,
        embedding_model = excluded.embedding_model, embedding = excluded.embedding,
        table_metadata_indexed = excluded.table_metadata_indexed,
        column_metadata_indexed = excluded.column_metadata_indexed,
        indexed_at = excluded.indexed_at`,
    params(
      row.storageUid,
      row.document,
      row.embeddingModel,
      JSON.stringify(row.embedding),
      row.tableMetadataIndexed,
      row.columnMetadataIndexed,
    ),
  );
}

/** Column metadata of every storage, by storage uid. */
async function allColumnMetadata(ctx: SearchSqlContext): Promise<Map<string, SearchColumn[]>> {
  const rows = await ctx.session.rows(
    "SELECT storage_uid, column_name, label, description FROM tdag_column_metadata ORDER BY seq",
  );
  const out = new Map<string, SearchColumn[]>();
  for (const r of rows) {
    const uid = r["storage_uid"] as string;
    const list = out.get(uid);
    if (list) list.push(toColumn(r));
    else out.set(uid, [toColumn(r)]);
  }
  return out;
}

async function filteredStorages(
  ctx: SearchSqlContext,
  filters: StorageSearchFilters,
): Promise<StorageRecord[]> {
  const storages = await ctx.storages();
  return storages.filter((s) => storageMatchesFilters(s, filters, EMBEDDED_DATA_SOURCE_ID));
}

/**
 * The tables a description search ranks: every storage passing the filters, with its indexed
 * document and vector. A storage never indexed is searched by a document built from its current
 * metadata (embedded at query time).
 */
export async function loadIndexedTables(
  ctx: SearchSqlContext,
  filters: StorageSearchFilters,
): Promise<IndexedTable[]> {
  const storages = await filteredStorages(ctx, filters);
  if (storages.length === 0) return [];
  const indexRows = await ctx.session.rows(
    "SELECT storage_uid, document, embedding_model, embedding FROM tdag_search_index",
  );
  const index = new Map(indexRows.map((r) => [r["storage_uid"] as string, r]));
  const columns = await allColumnMetadata(ctx);
  return storages.map((storage) => {
    const metadata = columns.get(storage.uid) ?? [];
    const cols = searchColumns(metadata, schemaColumns(storage));
    const row = index.get(storage.uid);
    if (!row) {
      return {
        storage,
        document: documentOf(storage, metadata),
        embedding: null,
        embeddingModel: null,
        columns: cols,
      };
    }
    return {
      storage,
      document: row["document"] as string,
      embedding: JSON.parse(row["embedding"] as string) as number[],
      embeddingModel: row["embedding_model"] as string,
      columns: cols,
    };
  });
}

/** The tables a column search ranks: every storage passing the filters, with its live columns. */
export async function loadColumnTables(
  ctx: SearchSqlContext,
  filters: StorageSearchFilters,
): Promise<ColumnTable[]> {
  const storages = await filteredStorages(ctx, filters);
  if (storages.length === 0) return [];
  const columns = await allColumnMetadata(ctx);
  return storages.map((storage) => ({
    storage,
    columns: searchColumns(columns.get(storage.uid) ?? [], schemaColumns(storage)),
  }));
}

/** Every published identifier, sorted by code point. */
export async function publishedIdentifiers(ctx: SearchSqlContext): Promise<string[]> {
  const rows = await ctx.session.rows(
    "SELECT identifier FROM tdag_storages WHERE identifier IS NOT NULL",
  );
  return rows.map((r) => r["identifier"] as string).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

import { BOOLEAN, DOUBLE, type DuckDBType, VARCHAR } from "@duckdb/node-api";
import { StoreError } from "../../errors.js";
import { type DType, isDType } from "../../frame/dtypes.js";
import type { TableSchema } from "../data-store.js";
import { quoteIdent } from "./duckdb-sql.js";

/**
 * The metadata the platform would hold, as plain DuckDB tables (prefix `tdag_`). Created on
 * open with `IF NOT EXISTS`, so opening an existing file is a no-op.
 */
export const METADATA_DDL: readonly string[] = [
  `CREATE SEQUENCE IF NOT EXISTS tdag_seq`,
  `CREATE TABLE IF NOT EXISTS tdag_storages (
    uid VARCHAR PRIMARY KEY,
    storage_hash VARCHAR NOT NULL UNIQUE,
    namespace VARCHAR,
    source_class_name VARCHAR NOT NULL,
    build_configuration VARCHAR NOT NULL,
    open_to_public BOOLEAN NOT NULL DEFAULT false,
    identifier VARCHAR UNIQUE,
    description VARCHAR,
    data_frequency_id VARCHAR,
    created_at TIMESTAMPTZ NOT NULL,
    time_index_name VARCHAR,
    index_names VARCHAR,
    column_dtypes VARCHAR
  )`,
  `CREATE TABLE IF NOT EXISTS tdag_updaters (
    uid VARCHAR PRIMARY KEY,
    update_hash VARCHAR NOT NULL UNIQUE,
    storage_uid VARCHAR NOT NULL,
    namespace VARCHAR,
    build_configuration VARCHAR NOT NULL,
    project_uid VARCHAR,
    created_at TIMESTAMPTZ NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS tdag_edges (
    updater_uid VARCHAR NOT NULL,
    target_kind VARCHAR NOT NULL,
    target_uid VARCHAR NOT NULL,
    seq BIGINT NOT NULL DEFAULT nextval('tdag_seq'),
    UNIQUE (updater_uid, target_kind, target_uid)
  )`,
  `CREATE TABLE IF NOT EXISTS tdag_runs (
    uid VARCHAR PRIMARY KEY,
    updater_uid VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ,
    error BOOLEAN,
    error_message VARCHAR,
    rows_written BIGINT,
    seq BIGINT NOT NULL DEFAULT nextval('tdag_seq')
  )`,
  `CREATE TABLE IF NOT EXISTS tdag_column_metadata (
    storage_uid VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL,
    dtype VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    description VARCHAR NOT NULL,
    seq BIGINT NOT NULL DEFAULT nextval('tdag_seq')
  )`,
  `CREATE SEQUENCE IF NOT EXISTS tdag_asset_ids`,
  `CREATE TABLE IF NOT EXISTS tdag_assets (
    id BIGINT PRIMARY KEY DEFAULT nextval('tdag_asset_ids'),
    unique_identifier VARCHAR NOT NULL UNIQUE,
    name VARCHAR NOT NULL,
    ticker VARCHAR NOT NULL,
    exchange_code VARCHAR,
    security_type VARCHAR,
    security_market_sector VARCHAR,
    isin VARCHAR,
    is_custom_by_organization BOOLEAN NOT NULL DEFAULT true
  )`,
  // One row per (table, coordinate): the coordinate is the JSON array of the identity values
  // ('[]' for a 1-D table). Kept incrementally by every write; recomputed for the coordinates a
  // delete touches.
  `CREATE TABLE IF NOT EXISTS tdag_progress (
    storage_uid VARCHAR NOT NULL,
    coordinate VARCHAR NOT NULL,
    min_micros BIGINT NOT NULL,
    max_micros BIGINT NOT NULL,
    PRIMARY KEY (storage_uid, coordinate)
  )`,
  // The description-search index (duckdb-search.ts): one search document per storage, its
  // vector as JSON text, the embedding model that made it, and which metadata it includes.
  `CREATE TABLE IF NOT EXISTS tdag_search_index (
    storage_uid VARCHAR PRIMARY KEY,
    document VARCHAR NOT NULL,
    embedding_model VARCHAR NOT NULL,
    embedding VARCHAR NOT NULL,
    table_metadata_indexed BOOLEAN NOT NULL,
    column_metadata_indexed BOOLEAN NOT NULL,
    indexed_at TIMESTAMPTZ NOT NULL
  )`,
];

/** The DuckDB column type of a dtype (json falls back to VARCHAR holding JSON text). */
export function sqlType(dtype: DType, jsonType: boolean): string {
  switch (dtype) {
    case "float64":
      return "DOUBLE";
    case "int64":
      return "BIGINT";
    case "bool":
      return "BOOLEAN";
    case "string":
      return "VARCHAR";
    case "timestamptz":
      return "TIMESTAMPTZ";
    case "date":
      return "DATE";
    case "json":
      return jsonType ? "JSON" : "VARCHAR";
  }
}

/**
 * The staging (appender) type of a dtype. Numbers and instants are staged as DOUBLE straight from
 * the frame's Float64Arrays (epoch micros and safe integers are exact in a double) and converted
 * once, in SQL, by {@link fromStaging}; this keeps BigInt and value objects off the hot path.
 */
export function stagingType(dtype: DType): DuckDBType {
  switch (dtype) {
    case "float64":
    case "int64":
    case "timestamptz":
      return DOUBLE;
    case "bool":
      return BOOLEAN;
    default:
      return VARCHAR;
  }
}

/** The SQL expression turning a staged column into the table's type. */
export function fromStaging(column: string, dtype: DType, jsonType: boolean): string {
  const c = quoteIdent(column);
  switch (dtype) {
    case "timestamptz":
      return `make_timestamptz(CAST(${c} AS BIGINT))`;
    case "int64":
      return `CAST(${c} AS BIGINT)`;
    case "date":
      return `CAST(${c} AS DATE)`;
    case "json":
      return jsonType ? `CAST(${c} AS JSON)` : c;
    default:
      return c;
  }
}

/**
 * The coordinate key of a row: a JSON array of its identity values (`'[]'` for 1-D tables).
 * `exprs` are table-typed SQL expressions, so staged rows and stored rows give the same text.
 */
export function coordinateExpression(exprs: readonly string[], jsonFunctions: boolean): string {
  if (exprs.length === 0) return `'[]'`;
  if (jsonFunctions) return `CAST(json_array(${exprs.join(", ")}) AS VARCHAR)`;
  // Without the json extension every identity value is written as a JSON string.
  const items = exprs.map(
    (e) =>
      `CASE WHEN ${e} IS NULL THEN 'null' ELSE '"' || replace(replace(CAST(${e} AS VARCHAR), '\\', '\\\\'), '"', '\\"') || '"' END`,
  );
  return `'[' || ${items.join(` || ',' || `)} || ']'`;
}

/** The DDL creating a data table keyed by its full index. */
export function createTableSql(table: string, schema: TableSchema, jsonType: boolean): string {
  const cols = Object.entries(schema.columnDtypes).map(
    ([name, dtype]) => `${quoteIdent(name)} ${sqlType(dtype, jsonType)}`,
  );
  const key = schema.indexNames.map(quoteIdent).join(", ");
  return `CREATE TABLE ${quoteIdent(table)} (${cols.join(", ")}, PRIMARY KEY (${key}))`;
}

/** Orders a schema's columns: the index first, then the value columns in their given order. */
export function normalizeSchema(schema: TableSchema): TableSchema {
  const dtypes: Record<string, DType> = {};
  for (const name of schema.indexNames) {
    const dtype =
      schema.columnDtypes[name] ?? (name === schema.timeIndexName ? "timestamptz" : "string");
    dtypes[name] = dtype;
  }
  for (const [name, dtype] of Object.entries(schema.columnDtypes)) {
    if (!(name in dtypes)) dtypes[name] = dtype;
  }
  return {
    timeIndexName: schema.timeIndexName,
    indexNames: [...schema.indexNames],
    columnDtypes: dtypes,
  };
}

/** Checks that a schema is usable; throws `invalid_schema` naming the problem. */
export function checkSchema(schema: TableSchema): void {
  const problems: string[] = [];
  if (schema.indexNames.length === 0) problems.push("indexNames is empty");
  if (schema.indexNames[0] !== schema.timeIndexName) {
    problems.push(
      `the first index name must be the time index '${schema.timeIndexName}', got '${String(schema.indexNames[0])}'`,
    );
  }
  if (new Set(schema.indexNames).size !== schema.indexNames.length) {
    problems.push(`indexNames has duplicates: [${schema.indexNames.join(", ")}]`);
  }
  const timeDtype = schema.columnDtypes[schema.timeIndexName];
  if (timeDtype !== undefined && timeDtype !== "timestamptz") {
    problems.push(`the time index '${schema.timeIndexName}' must be timestamptz, got ${timeDtype}`);
  }
  for (const [name, dtype] of Object.entries(schema.columnDtypes)) {
    if (!isDType(dtype)) problems.push(`column '${name}' has unknown dtype '${String(dtype)}'`);
    if (name.length === 0 || name.includes("\u0000"))
      problems.push(`invalid column name ${JSON.stringify(name)}`);
  }
  if (problems.length > 0) {
    throw new StoreError(`invalid table schema: ${problems.join("; ")}`, {
      code: "invalid_schema",
    });
  }
}

/** Reads a schema back from the storage row's three columns (`null` when never set). */
export function schemaFromRow(
  timeIndexName: unknown,
  indexNames: unknown,
  columnDtypes: unknown,
): TableSchema | null {
  if (typeof timeIndexName !== "string" || typeof indexNames !== "string") return null;
  return {
    timeIndexName,
    indexNames: JSON.parse(indexNames) as string[],
    columnDtypes: JSON.parse(typeof columnDtypes === "string" ? columnDtypes : "{}") as Record<
      string,
      DType
    >,
  };
}

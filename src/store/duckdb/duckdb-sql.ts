import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBType,
  type DuckDBValue,
  TIMESTAMPTZ,
  timestampTZValue,
  VARCHAR,
} from "@duckdb/node-api";
import { StoreError } from "../../errors.js";
import type { DType } from "../../frame/dtypes.js";
import type { DimensionQuery, ReadQuery, TableSchema } from "../data-store.js";

/**
 * Quotes an identifier for DuckDB (`"` doubled). Identifiers are the only names spliced into
 * SQL; every value is a bound parameter.
 *
 * @example
 * ```ts
 * quoteIdent('we"ird'); // "\"we\"\"ird\""
 * ```
 */
export function quoteIdent(name: string): string {
  if (name.includes("\u0000")) {
    throw new StoreError(`identifier ${JSON.stringify(name)} contains a NUL character`, {
      code: "invalid_identifier",
    });
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The SQL expression a read selects for a column: instants as epoch micros and integers as
 * DOUBLE (so they land in JS numbers without BigInt), dates and JSON as text.
 */
export function readExpression(column: string, dtype: DType, qualifier = ""): string {
  const c = qualifier + quoteIdent(column);
  switch (dtype) {
    case "timestamptz":
      return `CAST(epoch_us(${c}) AS DOUBLE)`;
    case "int64":
      return `CAST(${c} AS DOUBLE)`;
    case "date":
    case "json":
      return `CAST(${c} AS VARCHAR)`;
    default:
      return c;
  }
}

/** Bound parameters of one statement: DuckDB values, their types, and a plain copy for errors. */
export class SqlParams {
  readonly values: DuckDBValue[] = [];
  readonly types: DuckDBType[] = [];
  readonly shown: unknown[] = [];

  /** Adds a parameter and returns its placeholder (`$n`). */
  bind(value: DuckDBValue, type: DuckDBType, shown: unknown = value): string {
    this.values.push(value);
    this.types.push(type);
    this.shown.push(shown);
    return `$${this.values.length}`;
  }

  /** Binds a string (or null). */
  text(value: string | null): string {
    return this.bind(value, VARCHAR);
  }

  /** Binds epoch microseconds as a TIMESTAMPTZ. */
  instant(micros: number, what = "instant"): string {
    if (!Number.isFinite(micros)) {
      throw new StoreError(`${what} must be finite epoch microseconds, got ${String(micros)}`, {
        code: "invalid_query",
      });
    }
    return this.bind(timestampTZValue(BigInt(Math.round(micros))), TIMESTAMPTZ, micros);
  }

  /**
   * Binds a dimension value as the column's dtype and returns the SQL operand. Loose inputs are
   * coerced the way the reference compares them: anything is text for a string column.
   */
  typed(dtype: DType, value: unknown, column: string): string {
    if (value === null || value === undefined) return `CAST(NULL AS ${nullType(dtype)})`;
    switch (dtype) {
      case "string":
        return this.bind(String(value), VARCHAR, value);
      case "date":
        return `CAST(${this.bind(String(value), VARCHAR, value)} AS DATE)`;
      case "json":
        return this.bind(typeof value === "string" ? value : JSON.stringify(value), VARCHAR, value);
      case "bool":
        if (typeof value !== "boolean") break;
        return this.bind(value, BOOLEAN);
      case "float64":
        if (typeof value !== "number") break;
        return this.bind(value, DOUBLE);
      case "int64":
        if (typeof value === "bigint") return this.bind(value, BIGINT);
        if (typeof value !== "number" || !Number.isSafeInteger(value)) break;
        return this.bind(BigInt(value), BIGINT, value);
      case "timestamptz":
        if (value instanceof Date) return this.instant(value.getTime() * 1000, column);
        if (typeof value !== "number") break;
        return this.instant(value, column);
    }
    throw new StoreError(
      `value ${JSON.stringify(value)} cannot be compared with column '${column}' (${dtype})`,
      { code: "invalid_value" },
    );
  }
}

function nullType(dtype: DType): string {
  return dtype === "timestamptz" ? "TIMESTAMPTZ" : dtype === "date" ? "DATE" : "VARCHAR";
}

/** A statement with its bound parameters. */
export interface CompiledQuery {
  readonly sql: string;
  readonly params: SqlParams;
}

function dtypeOf(schema: TableSchema, column: string): DType {
  return schema.columnDtypes[column] ?? "string";
}

function checkDimension(schema: TableSchema, dim: string): void {
  if (!schema.indexNames.slice(1).includes(dim)) {
    const dims = schema.indexNames.slice(1);
    throw new StoreError(
      `Unknown identity dimension '${dim}': the table's dimensions are [${dims.join(", ")}]`,
      { code: "unknown_dimension" },
    );
  }
}

function coordinateClause(
  schema: TableSchema,
  coordinate: Readonly<Record<string, unknown>>,
  params: SqlParams,
): string[] {
  const parts: string[] = [];
  for (const [dim, value] of Object.entries(coordinate)) {
    checkDimension(schema, dim);
    const operand = params.typed(dtypeOf(schema, dim), value, dim);
    parts.push(`${quoteIdent(dim)} IS NOT DISTINCT FROM ${operand}`);
  }
  return parts;
}

/**
 * Compiles the dimension part of a query into AND-ed clauses: `dimensionFilters` (IN, an empty
 * list matches nothing), `indexCoordinates` (OR of null-safe equalities) and `dimensionRangeMap`
 * (OR of per-coordinate windows). Empty `indexCoordinates`/`dimensionRangeMap` lists add no clause.
 */
export function compileDimensionClauses(
  schema: TableSchema,
  query: DimensionQuery,
  params: SqlParams,
): string[] {
  const clauses: string[] = [];
  const time = quoteIdent(schema.timeIndexName);
  for (const [dim, values] of Object.entries(query.dimensionFilters ?? {})) {
    checkDimension(schema, dim);
    if (values.length === 0) {
      clauses.push("FALSE");
      continue;
    }
    const dtype = dtypeOf(schema, dim);
    const operands = values.map((v) => params.typed(dtype, v, dim));
    clauses.push(`${quoteIdent(dim)} IN (${operands.join(", ")})`);
  }
  const coordinates = query.indexCoordinates ?? [];
  if (coordinates.length > 0) {
    const ors = coordinates.map((c) => {
      const parts = coordinateClause(schema, c, params);
      return parts.length === 0 ? "TRUE" : `(${parts.join(" AND ")})`;
    });
    clauses.push(`(${ors.join(" OR ")})`);
  }
  const ranges = query.dimensionRangeMap ?? [];
  if (ranges.length > 0) {
    const ors = ranges.map((range) => {
      const parts = coordinateClause(schema, range.coordinate, params);
      if (range.startDate !== undefined && range.startDate !== null) {
        const op = range.startDateOperand ?? ">=";
        if (op !== ">=" && op !== ">") throw invalidOperand("startDateOperand", op);
        parts.push(`${time} ${op} ${params.instant(range.startDate, "startDate")}`);
      }
      if (range.endDate !== undefined && range.endDate !== null) {
        const op = range.endDateOperand ?? "<=";
        if (op !== "<=" && op !== "<") throw invalidOperand("endDateOperand", op);
        parts.push(`${time} ${op} ${params.instant(range.endDate, "endDate")}`);
      }
      return parts.length === 0 ? "TRUE" : `(${parts.join(" AND ")})`;
    });
    clauses.push(`(${ors.join(" OR ")})`);
  }
  return clauses;
}

function invalidOperand(field: string, op: unknown): StoreError {
  return new StoreError(`${field} must be one of >=, >, <=, < (got ${JSON.stringify(op)})`, {
    code: "invalid_query",
  });
}

/** The time-bound clauses of a read (`>=`/`>` and `<=`/`<` per the flags; inclusive by default). */
export function compileTimeClauses(
  schema: TableSchema,
  query: ReadQuery,
  params: SqlParams,
): string[] {
  const time = quoteIdent(schema.timeIndexName);
  const clauses: string[] = [];
  if (query.start !== undefined && query.start !== null) {
    const op = query.greatOrEqual === false ? ">" : ">=";
    clauses.push(`${time} ${op} ${params.instant(query.start, "start")}`);
  }
  if (query.end !== undefined && query.end !== null) {
    const op = query.lessOrEqual === false ? "<" : "<=";
    clauses.push(`${time} ${op} ${params.instant(query.end, "end")}`);
  }
  return clauses;
}

/** The columns a read returns: the index, then the requested (or all) value columns. */
export function projectColumns(schema: TableSchema, columns?: readonly string[]): string[] {
  const index = schema.indexNames;
  if (columns === undefined) return Object.keys(schema.columnDtypes);
  const unknown = columns.filter((c) => !(c in schema.columnDtypes));
  if (unknown.length > 0) {
    throw new StoreError(
      `unknown column(s) ${unknown.map((c) => `'${c}'`).join(", ")}: the table has [${Object.keys(schema.columnDtypes).join(", ")}]`,
      { code: "unknown_column" },
    );
  }
  return [...index, ...columns.filter((c) => !index.includes(c))];
}

function selectList(schema: TableSchema, columns: readonly string[]): string {
  return columns
    .map((c) => `${readExpression(c, dtypeOf(schema, c))} AS ${quoteIdent(c)}`)
    .join(", ");
}

function where(clauses: readonly string[]): string {
  return clauses.length > 0 ? ` WHERE ${clauses.join(" AND ")}` : "";
}

/** `SELECT ... WHERE <time> AND <dimensions> ORDER BY <index>` with every value bound. */
export function compileRead(
  table: string,
  schema: TableSchema,
  query: ReadQuery,
  columns: readonly string[],
): CompiledQuery {
  const params = new SqlParams();
  const clauses = [
    ...compileTimeClauses(schema, query, params),
    ...compileDimensionClauses(schema, query, params),
  ];
  const order = schema.indexNames.map(quoteIdent).join(", ");
  const sql = `SELECT ${selectList(schema, columns)} FROM ${quoteIdent(table)}${where(clauses)} ORDER BY ${order}`;
  return { sql, params };
}

/**
 * The latest row of every coordinate matched by the dimension query. `lowerBound` (the smallest
 * per-coordinate latest instant) lets DuckDB skip old row groups; it is only valid when the query
 * has no upper time bound.
 */
export function compileLastObservation(
  table: string,
  schema: TableSchema,
  query: DimensionQuery,
  lowerBound?: number,
): CompiledQuery {
  const params = new SqlParams();
  const clauses = compileDimensionClauses(schema, query, params);
  // A pruning hint: no coordinate's latest row is older than the smallest per-coordinate max.
  if (lowerBound !== undefined) {
    clauses.push(`${quoteIdent(schema.timeIndexName)} >= ${params.instant(lowerBound)}`);
  }
  const columns = Object.keys(schema.columnDtypes);
  const time = quoteIdent(schema.timeIndexName);
  const dims = schema.indexNames.slice(1).map(quoteIdent);
  const order = schema.indexNames.map(quoteIdent).join(", ");
  const partition = dims.length > 0 ? `PARTITION BY ${dims.join(", ")} ` : "";
  const sql =
    `SELECT ${selectList(schema, columns)} FROM ${quoteIdent(table)}${where(clauses)} ` +
    `QUALIFY row_number() OVER (${partition}ORDER BY ${time} DESC) = 1 ORDER BY ${order}`;
  return { sql, params };
}

/** The WHERE clause of a tail delete: `time >= after` AND the dimension query. */
export function compileDeleteWhere(
  schema: TableSchema,
  afterMicros: number,
  query: DimensionQuery,
  params: SqlParams,
): string {
  const clauses = [
    `${quoteIdent(schema.timeIndexName)} >= ${params.instant(afterMicros, "afterDate")}`,
    ...compileDimensionClauses(schema, query, params),
  ];
  return where(clauses);
}

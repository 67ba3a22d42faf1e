import { StoreError } from "../../errors.js";
import type { DType } from "../../frame/dtypes.js";
import { stringifyJson } from "../../frame/exact-json.js";
import { isInt64Range } from "../../frame/int64.js";
import type { DimensionQuery, ReadQuery, TableSchema } from "../store-types.js";
import { checkDimensions } from "../table-rules.js";
import type { SqlDialect } from "./sql-dialect.js";
import { SqlParams } from "./sql-params.js";

/** A statement with its bound parameters. */
export interface CompiledQuery {
  readonly sql: string;
  readonly params: SqlParams;
}

function dtypeOf(schema: TableSchema, column: string): DType {
  return schema.columnDtypes[column] ?? "string";
}

function where(clauses: readonly string[]): string {
  return clauses.length > 0 ? ` WHERE ${clauses.join(" AND ")}` : "";
}

/** A dimension value in an error message (bigints as `123n`, never a throwing JSON.stringify). */
function shownValue(value: unknown): string {
  return typeof value === "bigint" ? `${value}n` : stringifyJson(value);
}

/** Why an integer does not fit an int64 column: a number past 2^53 is inexact, a bigint out of range. */
function int64Hint(dtype: DType, value: unknown): string {
  if (dtype !== "int64") return "";
  if (typeof value === "bigint") return ": outside the int64 range";
  if (typeof value === "number" && Number.isInteger(value)) {
    return ": a number beyond ±(2^53 - 1) is not exact, pass the value as a bigint";
  }
  return "";
}

function invalidOperand(field: string, op: unknown): StoreError {
  return new StoreError(
    "invalid_query",
    `${field} must be one of >=, >, <=, < (got ${JSON.stringify(op)})`,
  );
}

/**
 * Compiles the reads of a table (between dates, last observation, tail delete) into portable
 * SQL with every value bound: identifiers through the dialect's quoting, dimension values as
 * parameters of the column's type.
 *
 * @example
 * ```ts
 * const { sql, params } = new SqlReadCompiler(dialect).read("prices_ab12", schema, { start }, cols);
 * ```
 */
export class SqlReadCompiler {
  constructor(readonly dialect: SqlDialect) {}

  /**
   * Binds a dimension value as the column's dtype and returns the SQL operand. Loose inputs are
   * coerced the way the reference compares them: anything is text for a string column.
   */
  operand(dtype: DType, value: unknown, column: string, params: SqlParams): string {
    if (value === null || value === undefined) {
      return `CAST(NULL AS ${this.dialect.columnType(dtype)})`;
    }
    switch (dtype) {
      case "string":
        return params.bind(String(value), "text", value);
      case "date":
        return `CAST(${params.bind(String(value), "text", value)} AS DATE)`;
      case "json":
        return params.bind(typeof value === "string" ? value : stringifyJson(value), "text", value);
      case "bool":
        if (typeof value !== "boolean") break;
        return params.bool(value);
      case "float64":
        if (typeof value !== "number") break;
        return params.double(value);
      case "int64":
        if (typeof value === "bigint") {
          if (!isInt64Range(value)) break;
          return params.bigint(value);
        }
        if (typeof value !== "number" || !Number.isSafeInteger(value)) break;
        return params.bigint(value);
      case "timestamptz":
        if (value instanceof Date) return params.instant(value.getTime() * 1000, column);
        if (typeof value !== "number") break;
        return params.instant(value, column);
    }
    throw new StoreError(
      "invalid_value",
      `value ${shownValue(value)} cannot be compared with column '${column}' (${dtype})${int64Hint(dtype, value)}`,
    );
  }

  private coordinateClause(
    schema: TableSchema,
    coordinate: Readonly<Record<string, unknown>>,
    params: SqlParams,
  ): string[] {
    const q = (n: string) => this.dialect.quoteIdent(n);
    return Object.entries(coordinate).map(([dim, value]) => {
      const operand = this.operand(dtypeOf(schema, dim), value, dim, params);
      return `${q(dim)} IS NOT DISTINCT FROM ${operand}`;
    });
  }

  /**
   * The dimension part of a query as AND-ed clauses: `dimensionFilters` (IN, an empty list
   * matches nothing), `indexCoordinates` (OR of null-safe equalities) and `dimensionRangeMap`
   * (OR of per-coordinate windows). Empty coordinate and range lists add no clause. A dimension
   * the table does not have is `unknown_dimension`.
   */
  dimensionClauses(schema: TableSchema, query: DimensionQuery, params: SqlParams): string[] {
    checkDimensions(schema, query);
    const q = (n: string) => this.dialect.quoteIdent(n);
    const clauses: string[] = [];
    const time = q(schema.timeIndexName);
    for (const [dim, values] of Object.entries(query.dimensionFilters ?? {})) {
      if (values.length === 0) {
        clauses.push("FALSE");
        continue;
      }
      const dtype = dtypeOf(schema, dim);
      const operands = values.map((v) => this.operand(dtype, v, dim, params));
      clauses.push(`${q(dim)} IN (${operands.join(", ")})`);
    }
    const coordinates = query.indexCoordinates ?? [];
    if (coordinates.length > 0) {
      const ors = coordinates.map((c) => {
        const parts = this.coordinateClause(schema, c, params);
        return parts.length === 0 ? "TRUE" : `(${parts.join(" AND ")})`;
      });
      clauses.push(`(${ors.join(" OR ")})`);
    }
    const ranges = query.dimensionRangeMap ?? [];
    if (ranges.length > 0) {
      const ors = ranges.map((range) => {
        const parts = this.coordinateClause(schema, range.coordinate, params);
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

  /** The time bounds of a read (`>=`/`>` and `<=`/`<` per the flags; inclusive by default). */
  timeClauses(schema: TableSchema, query: ReadQuery, params: SqlParams): string[] {
    const time = this.dialect.quoteIdent(schema.timeIndexName);
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

  /** The select list decoding `columns` for a frame. */
  selectList(schema: TableSchema, columns: readonly string[]): string {
    const q = (n: string) => this.dialect.quoteIdent(n);
    return columns
      .map((c) => `${this.dialect.readExpression(q(c), dtypeOf(schema, c))} AS ${q(c)}`)
      .join(", ");
  }

  /** `SELECT ... WHERE <time> AND <dimensions> ORDER BY <index>` with every value bound. */
  read(
    table: string,
    schema: TableSchema,
    query: ReadQuery,
    columns: readonly string[],
  ): CompiledQuery {
    const q = (n: string) => this.dialect.quoteIdent(n);
    const params = new SqlParams();
    const clauses = [
      ...this.timeClauses(schema, query, params),
      ...this.dimensionClauses(schema, query, params),
    ];
    const order = schema.indexNames.map(q).join(", ");
    const sql = `SELECT ${this.selectList(schema, columns)} FROM ${q(table)}${where(clauses)} ORDER BY ${order}`;
    return { sql, params };
  }

  /**
   * The latest row of every coordinate matched by the dimension query. `lowerBound` (the
   * smallest per-coordinate latest instant) lets the database skip old data; it is only valid
   * when the query has no upper time bound.
   */
  lastObservation(
    table: string,
    schema: TableSchema,
    query: DimensionQuery,
    lowerBound?: number,
  ): CompiledQuery {
    const q = (n: string) => this.dialect.quoteIdent(n);
    const params = new SqlParams();
    const clauses = this.dimensionClauses(schema, query, params);
    // A pruning hint: no coordinate's latest row is older than the smallest per-coordinate max.
    if (lowerBound !== undefined) {
      clauses.push(`${q(schema.timeIndexName)} >= ${params.instant(lowerBound)}`);
    }
    const columns = Object.keys(schema.columnDtypes);
    const time = q(schema.timeIndexName);
    const dims = schema.indexNames.slice(1).map(q);
    const order = schema.indexNames.map(q).join(", ");
    const partition = dims.length > 0 ? `PARTITION BY ${dims.join(", ")} ` : "";
    const rank = `row_number() OVER (${partition}ORDER BY ${time} DESC)`;
    const select = this.selectList(schema, columns);
    if (this.dialect.supportsQualify) {
      const sql = `SELECT ${select} FROM ${q(table)}${where(clauses)} QUALIFY ${rank} = 1 ORDER BY ${order}`;
      return { sql, params };
    }
    const ranked = `SELECT *, ${rank} AS "__tdag_rank" FROM ${q(table)}${where(clauses)}`;
    const sql = `SELECT ${select} FROM (${ranked}) AS "__tdag_latest" WHERE "__tdag_rank" = 1 ORDER BY ${order}`;
    return { sql, params };
  }

  /** The WHERE clause of a tail delete: `time >= after` AND the dimension query. */
  deleteWhere(
    schema: TableSchema,
    afterMicros: number,
    query: DimensionQuery,
    params: SqlParams,
  ): string {
    const clauses = [
      `${this.dialect.quoteIdent(schema.timeIndexName)} >= ${params.instant(afterMicros, "afterDate")}`,
      ...this.dimensionClauses(schema, query, params),
    ];
    return where(clauses);
  }
}

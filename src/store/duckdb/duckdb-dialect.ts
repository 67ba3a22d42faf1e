import { StoreError } from "../../errors.js";
import type { DType } from "../../frame/dtypes.js";
import type { SqlDialect } from "../sql/sql-dialect.js";

/**
 * Quotes an identifier for DuckDB and PostgreSQL (`"` doubled). Identifiers are the only names
 * spliced into SQL; every value is a bound parameter.
 *
 * @example
 * ```ts
 * quoteIdent('we"ird'); // "\"we\"\"ird\""
 * ```
 */
export function quoteIdent(name: string): string {
  if (name.includes("\u0000")) {
    throw new StoreError(
      "invalid_identifier",
      `identifier ${JSON.stringify(name)} contains a NUL character`,
    );
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * DuckDB's spelling of the SQL core. `jsonType` says whether the build has the JSON type and
 * functions (statically linked in `@duckdb/node-api`); without it JSON columns are VARCHAR
 * holding JSON text and coordinates are built by string concatenation.
 *
 * @example
 * ```ts
 * const dialect = new DuckDBDialect(true);
 * dialect.readExpression('"t"', "timestamptz"); // CAST(epoch_us("t") AS DOUBLE)
 * ```
 */
export class DuckDBDialect implements SqlDialect {
  readonly name = "duckdb";
  readonly supportsQualify = true;

  constructor(readonly jsonType: boolean) {}

  quoteIdent(name: string): string {
    return quoteIdent(name);
  }

  columnType(dtype: DType): string {
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
        return this.jsonType ? "JSON" : "VARCHAR";
    }
  }

  readExpression(expr: string, dtype: DType): string {
    switch (dtype) {
      case "timestamptz":
        return `CAST(epoch_us(${expr}) AS DOUBLE)`;
      case "int64":
        // BIGINT, not DOUBLE: the reader keeps values beyond ±(2^53 - 1) exact as bigints.
        return `CAST(${expr} AS BIGINT)`;
      case "date":
      case "json":
        return `CAST(${expr} AS VARCHAR)`;
      default:
        return expr;
    }
  }

  epochMicros(expr: string): string {
    return `epoch_us(${expr})`;
  }

  epochMillis(expr: string): string {
    return `epoch_ms(${expr})`;
  }

  inList(expr: string, placeholder: string): string {
    return `${expr} IN (SELECT unnest(${placeholder}))`;
  }

  rowsFromLists(placeholders: readonly string[], names: readonly string[]): string {
    const columns = placeholders.map((p, i) => `unnest(${p}) AS ${quoteIdent(names[i]!)}`);
    return `(SELECT ${columns.join(", ")}) AS lists`;
  }

  coordinateKey(exprs: readonly string[]): string {
    if (exprs.length === 0) return `'[]'`;
    if (this.jsonType) return `CAST(json_array(${exprs.join(", ")}) AS VARCHAR)`;
    // Without the json extension every identity value is written as a JSON string.
    const items = exprs.map(
      (e) =>
        `CASE WHEN ${e} IS NULL THEN 'null' ELSE '"' || replace(replace(CAST(${e} AS VARCHAR), '\\', '\\\\'), '"', '\\"') || '"' END`,
    );
    return `'[' || ${items.join(` || ',' || `)} || ']'`;
  }
}

import type { DType } from "../../frame/dtypes.js";

/**
 * What differs between SQL databases, and nothing else: quoting, type names, time and number
 * conversions, list parameters, the JSON text of a coordinate. The compilers and the metadata
 * code of `store/sql/` write portable SQL and ask the dialect for the rest (kysely's
 * `Dialect`/`QueryCompiler` split: a dialect overrides only what its database spells
 * differently). Pure functions of their inputs: no I/O.
 */
export interface SqlDialect {
  /** The database, for messages: `"duckdb"`, `"postgres"`. */
  readonly name: string;
  /** Quotes an identifier; identifiers are the only names spliced into SQL. */
  quoteIdent(name: string): string;
  /** The column type of a dtype in `CREATE TABLE` / `ALTER TABLE`. */
  columnType(dtype: DType): string;
  /**
   * The SELECT expression of a column that a session decodes into a frame: instants as epoch
   * microseconds and 64-bit integers as doubles (exact below 2^53), dates and JSON as text.
   */
  readExpression(expr: string, dtype: DType): string;
  /** A timestamptz expression as BIGINT epoch microseconds. */
  epochMicros(expr: string): string;
  /** A timestamptz expression as epoch milliseconds (a number; for metadata timestamps). */
  epochMillis(expr: string): string;
  /** `expr IN <the strings of a textList parameter>`. */
  inList(expr: string, placeholder: string): string;
  /**
   * A FROM item yielding one row per position of equally long list parameters, one column per
   * list, named `names` (a batch insert from column lists).
   */
  rowsFromLists(placeholders: readonly string[], names: readonly string[]): string;
  /**
   * The coordinate key of a row: the JSON array text of its identity values (`'[]'` for a 1-D
   * table). The same values must always give the same text (it is a primary key).
   */
  coordinateKey(exprs: readonly string[]): string;
  /** Whether `QUALIFY` filters window results (else a subquery is used). */
  readonly supportsQualify: boolean;
}

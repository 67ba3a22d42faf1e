import type { DType } from "./dtypes.js";

/**
 * The index and column dtypes of a table: what a store creates and checks a frame against.
 *
 * @example
 * ```ts
 * const schema: TableSchema = {
 *   timeIndexName: "time_index",
 *   indexNames: ["time_index", "unique_identifier"],
 *   columnDtypes: { time_index: "timestamptz", unique_identifier: "string", close: "float64" },
 * };
 * ```
 */
export interface TableSchema {
  readonly timeIndexName: string;
  /** The time index first, then the identity dimensions. */
  readonly indexNames: readonly string[];
  /** Every column's dtype, index columns included. */
  readonly columnDtypes: Readonly<Record<string, DType>>;
}

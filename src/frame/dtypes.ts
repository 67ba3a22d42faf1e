/** The column types a {@link Frame} holds. */
export type DType = "float64" | "int64" | "bool" | "string" | "timestamptz" | "date" | "json";

export const DTYPES: readonly DType[] = [
  "float64",
  "int64",
  "bool",
  "string",
  "timestamptz",
  "date",
  "json",
];

/**
 * The physical storage of each dtype.
 * - `float64`: `Float64Array`, null is NaN;
 * - `timestamptz`: `Float64Array` of epoch microseconds (UTC), null is NaN;
 * - `int64`: the full 64-bit range, exactly: a `number` when the value is a safe integer, a
 *   `bigint` otherwise (only beyond ±(2^53 - 1), up to `-(2^63)` .. `2^63 - 1`), null when
 *   missing. A value has one representation, so `===` and `Map` keys compare int64 cells;
 * - `bool`, `string`: values or null;
 * - `date`: `YYYY-MM-DD` strings or null; `json`: any JSON-able value or null.
 *
 * @example
 * ```ts
 * const df = Frame.fromRecords(
 *   [{ time_index: "2024-01-01T00:00:00Z", n: 7 }, { time_index: "2024-01-02T00:00:00Z", n: 2n ** 62n }],
 *   { dtypes: { n: "int64" } },
 * );
 * df.typedColumn("n", "int64"); // [7, 4611686018427387904n]
 * ```
 */
export interface ColumnStorage {
  float64: Float64Array;
  int64: (number | bigint | null)[];
  bool: (boolean | null)[];
  string: (string | null)[];
  timestamptz: Float64Array;
  date: (string | null)[];
  json: unknown[];
}

/**
 * A typed column: its dtype and its values (see {@link ColumnStorage}; an `int64` column holds
 * numbers for safe integers and bigints beyond them).
 */
export type Column = {
  [D in DType]: { readonly dtype: D; readonly values: ColumnStorage[D] };
}[DType];

export function isDType(value: unknown): value is DType {
  return typeof value === "string" && (DTYPES as readonly string[]).includes(value);
}

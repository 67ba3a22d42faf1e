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
 * - `int64`: safe integers or null; `bool`, `string`: values or null;
 * - `date`: `YYYY-MM-DD` strings or null; `json`: any JSON-able value or null.
 */
export interface ColumnStorage {
  float64: Float64Array;
  int64: (number | null)[];
  bool: (boolean | null)[];
  string: (string | null)[];
  timestamptz: Float64Array;
  date: (string | null)[];
  json: unknown[];
}

/** A typed column: its dtype and its values. */
export type Column = {
  [D in DType]: { readonly dtype: D; readonly values: ColumnStorage[D] };
}[DType];

export function isDType(value: unknown): value is DType {
  return typeof value === "string" && (DTYPES as readonly string[]).includes(value);
}

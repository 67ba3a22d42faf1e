/**
 * The int64 cell: a JS `number` when the value is a safe integer, a `bigint` otherwise (only
 * for values beyond ±(2^53 - 1), up to the int64 range), `null` when missing. Numbers keep the
 * common case as fast and as plain as before; a bigint appears only where a number would
 * silently lose digits. Every producer of int64 cells (the frame builder, the stores' readers,
 * the wire decoders) goes through {@link int64FromBigInt}, so one value always has one
 * representation and `===`, `Map` keys and sorting agree.
 */

/** The smallest int64, `-(2^63)`. */
export const INT64_MIN = -(2n ** 63n);
/** The largest int64, `2^63 - 1`. */
export const INT64_MAX = 2n ** 63n - 1n;
/** `Number.MAX_SAFE_INTEGER` as a bigint. */
export const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);
/** `Number.MIN_SAFE_INTEGER` as a bigint. */
export const MIN_SAFE_BIGINT = BigInt(Number.MIN_SAFE_INTEGER);

/** A present int64 cell. */
export type Int64 = number | bigint;

/** True when a bigint is within the int64 range. */
export function isInt64Range(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

/**
 * The cell of an integer given as a bigint: a number when it is a safe integer, the bigint
 * otherwise. The caller checks the int64 range.
 *
 * @example
 * ```ts
 * int64FromBigInt(42n); // 42
 * int64FromBigInt(2n ** 62n); // 4611686018427387904n
 * ```
 */
export function int64FromBigInt(value: bigint): Int64 {
  return value >= MIN_SAFE_BIGINT && value <= MAX_SAFE_BIGINT ? Number(value) : value;
}

/**
 * Orders two present numeric cells (numbers, bigints or one of each) exactly: JS compares a
 * number with a bigint by their mathematical values, so no precision is lost.
 *
 * @example
 * ```ts
 * compareNumeric(2n ** 60n, 1.5); // 1
 * ```
 */
export function compareNumeric(a: Int64, b: Int64): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return a < b ? -1 : a > b ? 1 : 0;
}

import { errorFamily, type TdagErrorOptions } from "../errors.js";

/**
 * Why a filter, a join or a search request was refused.
 * - `invalid_filter`: a malformed node (unknown operator, wrong value shape, missing `type`);
 * - `invalid_request`: the request itself (target, limit, offset);
 * - `invalid_join`: a join declaration, or a join the store cannot run (missing or mistyped keys);
 * - `unknown_column`: a condition names a column no table of the request has;
 * - `type_mismatch`: a value cannot be compared with its column's dtype.
 */
export const FILTER_ERROR_CODES = [
  "invalid_filter",
  "invalid_request",
  "invalid_join",
  "unknown_column",
  "type_mismatch",
] as const;
export type FilterErrorCode = (typeof FILTER_ERROR_CODES)[number];

/**
 * A filter, join or search request is invalid. Thrown on construction (shape and arity) and by
 * the stores when they compile it against the table schemas (unknown columns, dtypes). `path`
 * points at the offending node (`filter.items[1].value`) when known.
 *
 * @example
 * ```ts
 * try { F.in_("unique_identifier", "AAPL" as never); } catch (err) {
 *   if (err instanceof FilterError) err.code; // "invalid_filter"
 * }
 * ```
 */
export class FilterError extends errorFamily("FilterError", FILTER_ERROR_CODES) {
  declare readonly path: string | undefined;

  constructor(
    code: FilterErrorCode,
    message: string,
    options: TdagErrorOptions & { readonly path?: string } = {},
  ) {
    super(code, options.path ? `${message} (at ${options.path})` : message, options, {
      path: options.path,
    });
  }
}

import { TdagError } from "../errors.js";

/**
 * Why a filter, a join or a search request was refused.
 * - `invalid_filter`: a malformed node (unknown operator, wrong value shape, missing `type`);
 * - `invalid_request`: the request itself (target, limit, offset);
 * - `invalid_join`: a join declaration, or a join the store cannot run (missing or mistyped keys);
 * - `unknown_column`: a condition names a column no table of the request has;
 * - `type_mismatch`: a value cannot be compared with its column's dtype.
 */
export type FilterErrorCode =
  | "invalid_filter"
  | "invalid_request"
  | "invalid_join"
  | "unknown_column"
  | "type_mismatch";

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
export class FilterError extends TdagError {
  declare readonly code: FilterErrorCode;
  readonly path: string | undefined;

  constructor(
    code: FilterErrorCode,
    message: string,
    options: { path?: string; cause?: unknown } = {},
  ) {
    super(code, options.path ? `${message} (at ${options.path})` : message, {
      cause: options.cause,
    });
    this.path = options.path;
  }
}

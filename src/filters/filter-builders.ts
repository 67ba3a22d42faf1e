import {
  type ConditionNode,
  condition,
  type FilterNode,
  type FilterScalar,
  type GroupNode,
  group,
} from "./filter-ast.js";

/** What `and_` / `or_` accept: nodes, and `undefined`/`null`/`false` placeholders they drop. */
export type MaybeFilter = FilterNode | undefined | null | false;

function combine(logic: "and" | "or", items: readonly MaybeFilter[]): GroupNode | undefined {
  const kept = items.filter(
    (item): item is FilterNode => item !== undefined && item !== null && item !== false,
  );
  return kept.length === 0 ? undefined : group(logic, kept);
}

/**
 * An AND group of the given nodes; `undefined` (or `null`/`false`) arguments are dropped, so
 * optional filters compose without `if` chains. With nothing left it returns `undefined`.
 *
 * @example
 * ```ts
 * const ticker: string | undefined = undefined;
 * and_(ticker ? F.eq("unique_identifier", ticker) : undefined, F.gt("close", 10));
 * ```
 */
export function and_(first: FilterNode, ...rest: FilterNode[]): GroupNode;
export function and_(...items: MaybeFilter[]): GroupNode | undefined;
export function and_(...items: MaybeFilter[]): GroupNode | undefined {
  return combine("and", items);
}

/**
 * An OR group of the given nodes, dropping `undefined` arguments like {@link and_}.
 *
 * @example
 * ```ts
 * or_(F.eq("unique_identifier", "A"), F.eq("unique_identifier", "B"));
 * ```
 */
export function or_(first: FilterNode, ...rest: FilterNode[]): GroupNode;
export function or_(...items: MaybeFilter[]): GroupNode | undefined;
export function or_(...items: MaybeFilter[]): GroupNode | undefined {
  return combine("or", items);
}

const in_ = (field: string, values: readonly FilterScalar[]): ConditionNode =>
  condition(field, "in", values);
const notIn = (field: string, values: readonly FilterScalar[]): ConditionNode =>
  condition(field, "not_in", values);
const startsWith = (field: string, prefix: string): ConditionNode =>
  condition(field, "starts_with", prefix);
const endsWith = (field: string, suffix: string): ConditionNode =>
  condition(field, "ends_with", suffix);
const isNull = (field: string, value = true): ConditionNode => condition(field, "is_null", value);

/**
 * Condition builders, named as in the reference (`F.in_`, `F.not_in`, ...) with camelCase
 * aliases (`F.in`, `F.notIn`, `F.startsWith`, `F.endsWith`, `F.isNull`). Each returns a frozen,
 * validated {@link ConditionNode}.
 *
 * @example
 * ```ts
 * F.eq("unique_identifier", "BTC");
 * F.between("time_index", new Date("2026-05-01Z"), new Date("2026-05-02Z"));
 * F.in_("unique_identifier", ["A", "B"]); // or F.in(...)
 * F.is_null("volume"); // IS NULL; F.is_null("volume", false) is IS NOT NULL
 * F.contains("name", "100%"); // % and _ match literally
 * ```
 */
export const F = Object.freeze({
  /** `field = value`; `F.eq(field, null)` is IS NULL. */
  eq: (field: string, value: FilterScalar | null): ConditionNode => condition(field, "eq", value),
  /** `field <> value`; `F.ne(field, null)` is IS NOT NULL. */
  ne: (field: string, value: FilterScalar | null): ConditionNode => condition(field, "ne", value),
  lt: (field: string, value: FilterScalar): ConditionNode => condition(field, "lt", value),
  lte: (field: string, value: FilterScalar): ConditionNode => condition(field, "lte", value),
  gt: (field: string, value: FilterScalar): ConditionNode => condition(field, "gt", value),
  gte: (field: string, value: FilterScalar): ConditionNode => condition(field, "gte", value),
  /** `field IN (values)`; an empty list matches nothing. */
  in_,
  in: in_,
  /** `field NOT IN (values)`; an empty list matches every row. */
  not_in: notIn,
  notIn,
  /** `start <= field <= end`. */
  between: (field: string, start: FilterScalar, end: FilterScalar): ConditionNode =>
    condition(field, "between", [start, end]),
  /** Substring match (case-sensitive; `%` and `_` are literal). */
  contains: (field: string, text: string): ConditionNode => condition(field, "contains", text),
  starts_with: startsWith,
  startsWith,
  ends_with: endsWith,
  endsWith,
  /** IS NULL (`true`, the default) or IS NOT NULL (`false`). */
  is_null: isNull,
  isNull,
});

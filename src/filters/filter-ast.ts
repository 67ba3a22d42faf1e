import { PyFloat } from "../hashing/py-value.js";
import { FilterError } from "./filter-error.js";

/** The operators of the filter language (protocol section 3.1), spelled as on the wire. */
export const FILTER_OPS = [
  "eq",
  "ne",
  "lt",
  "lte",
  "gt",
  "gte",
  "in",
  "not_in",
  "contains",
  "starts_with",
  "ends_with",
  "is_null",
  "between",
] as const;

export type FilterOp = (typeof FILTER_OPS)[number];

/** How a group combines its items. */
export type FilterLogic = "and" | "or";

/**
 * Anything that prints itself as Python's `isoformat()` does (a `DateTimeValue`, a calendar-date
 * object): the wire sends that text unchanged.
 */
export interface IsoFormattable {
  isoformat(): string;
}

/**
 * A value a condition compares with. Instants are `Date`s (the wire writes them as
 * `isoformat()` with `+00:00`), ISO text, or epoch microseconds (numbers/bigints) for a
 * timestamp column of the embedded store; calendar dates are `"YYYY-MM-DD"` text.
 */
export type FilterScalar = string | number | bigint | boolean | Date | PyFloat | IsoFormattable;

/** The value of a condition: a scalar, a list of scalars (`in`, `not_in`, `between`), a boolean (`is_null`) or nothing. */
export type FilterValue = FilterScalar | null | readonly FilterScalar[];

/**
 * One comparison. Frozen; build it with the `F` helpers.
 *
 * @example
 * ```ts
 * F.gt("close", 10); // { type: "condition", field: "close", op: "gt", value: 10 }
 * ```
 */
export interface ConditionNode {
  readonly type: "condition";
  readonly field: string;
  readonly op: FilterOp;
  /** Absent when the value is `null` (`F.ne("a", null)`), as the wire omits it. */
  readonly value?: FilterValue;
}

/**
 * An AND/OR of at least one item. Frozen; build it with `and_` / `or_`.
 *
 * @example
 * ```ts
 * and_(F.eq("unique_identifier", "BTC"), F.gte("close", 10)); // { type: "group", logic: "and", items: [...] }
 * ```
 */
export interface GroupNode {
  readonly type: "group";
  readonly logic: FilterLogic;
  readonly items: readonly FilterNode[];
}

/** A node of the filter AST. */
export type FilterNode = ConditionNode | GroupNode;

const OPS = new Set<string>(FILTER_OPS);
const ORDERING = new Set<FilterOp>(["lt", "lte", "gt", "gte"]);
const PATTERNS = new Set<FilterOp>(["contains", "starts_with", "ends_with"]);

/** True for a known operator name. */
export function isFilterOp(value: unknown): value is FilterOp {
  return typeof value === "string" && OPS.has(value);
}

/** True for a frozen-or-not object shaped like a condition or a group. */
export function isFilterNode(value: unknown): value is FilterNode {
  if (value === null || typeof value !== "object") return false;
  const type = (value as { type?: unknown }).type;
  return type === "condition" || type === "group";
}

function isIsoFormattable(value: object): value is IsoFormattable {
  return typeof (value as { isoformat?: unknown }).isoformat === "function";
}

/** Checks one scalar and returns a defensive copy (Dates are copied, so the AST stays immutable). */
function scalar(value: unknown, op: FilterOp, path: string): FilterScalar {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "bigint":
      return value;
    case "number":
      if (!Number.isFinite(value)) {
        throw new FilterError("invalid_filter", `${op} needs a finite number, got ${value}`, {
          path,
        });
      }
      return value;
    case "object":
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) {
          throw new FilterError("invalid_filter", `${op} got an Invalid Date`, { path });
        }
        return new Date(value.getTime());
      }
      if (value instanceof PyFloat) {
        if (!Number.isFinite(value.value)) {
          throw new FilterError("invalid_filter", `${op} needs a finite number`, { path });
        }
        return value;
      }
      if (value !== null && !Array.isArray(value) && isIsoFormattable(value)) return value;
      break;
    default:
      break;
  }
  const shown = value === null ? "null" : Array.isArray(value) ? "a list" : typeof value;
  throw new FilterError(
    "invalid_filter",
    `${op} needs a string, number, bigint, boolean or date value, got ${shown}`,
    { path },
  );
}

function list(value: unknown, op: FilterOp, path: string): readonly FilterScalar[] {
  if (!Array.isArray(value)) {
    throw new FilterError("invalid_filter", `${op} requires a list value.`, { path });
  }
  return Object.freeze(
    value.map((v, i) => {
      if (v === null || v === undefined) {
        throw new FilterError(
          "invalid_filter",
          `${op} lists cannot hold null: combine with F.is_null(field) instead`,
          { path: `${path}[${i}]` },
        );
      }
      return scalar(v, op, `${path}[${i}]`);
    }),
  );
}

/**
 * Builds a validated, frozen condition. Rules (the reference's plus tdag's stricter ones):
 * - `in` / `not_in`: a list (empty allowed: matches nothing / everything), no nulls inside;
 * - `between`: exactly two non-null items `[start, end]` (inclusive);
 * - `contains` / `starts_with` / `ends_with`: a string;
 * - `is_null`: a boolean, `true` when omitted or null;
 * - `eq` / `ne`: a scalar, or `null` meaning IS NULL / IS NOT NULL;
 * - `lt` / `lte` / `gt` / `gte`: a non-null scalar.
 *
 * @example
 * ```ts
 * condition("close", "between", [10, 20]);
 * ```
 */
export function condition(
  field: string,
  op: FilterOp,
  value?: unknown,
  path = "filter",
): ConditionNode {
  if (typeof field !== "string" || field.trim() === "") {
    throw new FilterError("invalid_filter", "a condition needs a non-empty field name", {
      path: `${path}.field`,
    });
  }
  if (!isFilterOp(op)) {
    throw new FilterError(
      "invalid_filter",
      `unknown operator ${JSON.stringify(op)}: use one of ${FILTER_OPS.join(", ")}`,
      { path: `${path}.op` },
    );
  }
  const at = `${path}.value`;
  let normalized: FilterValue | undefined;
  if (op === "in" || op === "not_in") {
    normalized = list(value, op, at);
  } else if (op === "between") {
    if (!Array.isArray(value) || value.length !== 2) {
      throw new FilterError("invalid_filter", "between requires a 2-item list [start, end].", {
        path: at,
      });
    }
    normalized = list(value, op, at);
  } else if (op === "is_null") {
    if (value === undefined || value === null) normalized = true;
    else if (typeof value === "boolean") normalized = value;
    else {
      throw new FilterError("invalid_filter", "is_null needs a boolean value (true = IS NULL)", {
        path: at,
      });
    }
  } else if (PATTERNS.has(op)) {
    if (typeof value !== "string") {
      throw new FilterError("invalid_filter", `${op} needs a string value`, { path: at });
    }
    normalized = value;
  } else if (value === null || value === undefined) {
    if (ORDERING.has(op)) {
      throw new FilterError(
        "invalid_filter",
        `${op} needs a value: null cannot be ordered (use F.is_null)`,
        { path: at },
      );
    }
    normalized = undefined; // eq/ne with null: IS NULL / IS NOT NULL, and no `value` on the wire
  } else {
    normalized = scalar(value, op, at);
  }
  const node: { type: "condition"; field: string; op: FilterOp; value?: FilterValue } = {
    type: "condition",
    field,
    op,
  };
  if (normalized !== undefined) node.value = normalized;
  return Object.freeze(node);
}

/**
 * Builds a validated, frozen group of at least one node.
 *
 * @example
 * ```ts
 * group("or", [F.eq("a", 1), F.eq("a", 2)]);
 * ```
 */
export function group(
  logic: FilterLogic,
  items: readonly FilterNode[],
  path = "filter",
): GroupNode {
  if (logic !== "and" && logic !== "or") {
    throw new FilterError(
      "invalid_filter",
      `a group's logic must be "and" or "or", got ${JSON.stringify(logic)}`,
      { path: `${path}.logic` },
    );
  }
  if (!Array.isArray(items) || items.length === 0) {
    throw new FilterError("invalid_filter", "a group needs at least one item", {
      path: `${path}.items`,
    });
  }
  items.forEach((item, i) => {
    if (!isFilterNode(item) || !Object.isFrozen(item)) {
      throw new FilterError(
        "invalid_filter",
        "group items must be filter nodes built with F, and_, or_ or parseFilter",
        { path: `${path}.items[${i}]` },
      );
    }
  });
  return Object.freeze({ type: "group", logic, items: Object.freeze([...items]) });
}

/**
 * Reads a filter from its wire JSON (a parsed object or the JSON text), validating every node.
 * A node without `type` is rejected, as the reference's discriminated union does.
 *
 * @example
 * ```ts
 * parseFilter('{"type":"condition","field":"close","op":"gt","value":1}');
 * ```
 */
export function parseFilter(json: unknown, path = "filter"): FilterNode {
  let value = json;
  if (typeof json === "string") {
    try {
      value = JSON.parse(json);
    } catch (cause) {
      throw new FilterError("invalid_filter", "the filter is not valid JSON", { path, cause });
    }
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new FilterError("invalid_filter", "a filter node must be an object", { path });
  }
  const node = value as Record<string, unknown>;
  if (node["type"] === "condition") {
    for (const key of Object.keys(node)) {
      if (!["type", "field", "op", "value"].includes(key)) {
        throw new FilterError(
          "invalid_filter",
          `unknown key ${JSON.stringify(key)} in a condition`,
          {
            path,
          },
        );
      }
    }
    return condition(node["field"] as string, node["op"] as FilterOp, node["value"], path);
  }
  if (node["type"] === "group") {
    for (const key of Object.keys(node)) {
      if (!["type", "logic", "items"].includes(key)) {
        throw new FilterError("invalid_filter", `unknown key ${JSON.stringify(key)} in a group`, {
          path,
        });
      }
    }
    const items = node["items"];
    if (!Array.isArray(items)) {
      throw new FilterError("invalid_filter", "a group needs an items list", {
        path: `${path}.items`,
      });
    }
    const logic = node["logic"] === undefined ? "and" : (node["logic"] as FilterLogic);
    return group(
      logic,
      items.map((item, i) => parseFilter(item, `${path}.items[${i}]`)),
      path,
    );
  }
  throw new FilterError(
    "invalid_filter",
    `a filter node needs "type": "condition" or "group" (got ${JSON.stringify(node["type"] ?? null)})`,
    { path },
  );
}

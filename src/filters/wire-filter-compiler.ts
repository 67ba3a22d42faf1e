import { PyFloat } from "../hashing/py-value.js";
import { formatPythonFloat } from "../hashing/python-json.js";
import type { ConditionNode, FilterScalar, FilterValue, GroupNode } from "./filter-ast.js";
import { FilterCompiler } from "./filter-compiler.js";
import { FilterError } from "./filter-error.js";
import { SearchRequest, type SearchRequestInput } from "./search-request.js";

/** A wire value before it is written: JSON plus the number kinds JSON cannot tell apart. */
type WireScalar = string | number | bigint | boolean | PyFloat;
type WireValue = WireScalar | readonly WireScalar[];

/** A condition or group as the platform receives it. */
export type WireFilterNode =
  | {
      readonly type: "condition";
      readonly field: string;
      readonly op: string;
      readonly value?: WireValue;
    }
  | {
      readonly type: "group";
      readonly logic: "and" | "or";
      readonly items: readonly WireFilterNode[];
    };

/** A join as the platform receives it (key order: name, node_unique_identifier, on, storage_hash, type). */
export interface WireJoinSpec {
  readonly name: string;
  readonly node_unique_identifier?: string;
  readonly on: readonly string[];
  readonly storage_hash?: string;
  readonly type: "inner" | "left" | "full";
}

/** The `get-data-from-filter` body, keys in the order the reference's pydantic model emits them. */
export interface WireSearchRequest {
  readonly storage_hash?: string;
  readonly joins: readonly WireJoinSpec[];
  readonly filter?: WireFilterNode;
  readonly limit: number;
  readonly offset: number;
  readonly node_unique_identifier?: string;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/**
 * Python's `datetime.isoformat()` of a tz-aware UTC datetime: `+00:00` (never `Z`), and
 * `.ffffff` only when the sub-second part is non-zero.
 */
export function pythonIsoformat(date: Date): string {
  const year = date.getUTCFullYear();
  if (year < 1 || year > 9999) {
    throw new FilterError(
      "invalid_filter",
      `the date ${date.toISOString()} is outside years 1..9999`,
    );
  }
  const ms = date.getUTCMilliseconds();
  const head =
    `${pad(year, 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}` +
    `T${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}`;
  return `${head}${ms === 0 ? "" : `.${pad(ms * 1000, 6)}`}+00:00`;
}

function wireScalar(value: FilterScalar): WireScalar {
  if (value instanceof Date) return pythonIsoformat(value);
  if (value instanceof PyFloat) return value;
  if (typeof value === "object") return value.isoformat();
  return value;
}

function wireValue(value: FilterValue): WireValue {
  if (Array.isArray(value)) return (value as readonly FilterScalar[]).map(wireScalar);
  return wireScalar(value as FilterScalar);
}

/**
 * Compiles the AST to the platform's wire JSON: the same shape, with `Date`s written as Python
 * `isoformat()` (`+00:00`) and `value` omitted when null (pydantic's `exclude_none`). The wire
 * keeps conditions whole, so this subclass overrides the two hooks directly instead of
 * per-operator ones.
 *
 * @example
 * ```ts
 * new WireFilterCompiler().compile(F.gt("joined.close", 1));
 * // { type: "condition", field: "joined.close", op: "gt", value: 1 }
 * ```
 */
export class WireFilterCompiler extends FilterCompiler<WireFilterNode> {
  protected compileCondition(node: ConditionNode): WireFilterNode {
    const out: { type: "condition"; field: string; op: string; value?: WireValue } = {
      type: "condition",
      field: node.field,
      op: node.op,
    };
    if (node.value !== undefined && node.value !== null) out.value = wireValue(node.value);
    return out;
  }

  protected compileGroup(node: GroupNode, items: readonly WireFilterNode[]): WireFilterNode {
    return { type: "group", logic: node.logic, items };
  }
}

function buildPayload(input: SearchRequest | SearchRequestInput): WireSearchRequest {
  const request = SearchRequest.from(input);
  // Rebuild in pydantic's field order: storage_hash, joins, filter, limit, offset, then the
  // subclass's node_unique_identifier (appendix B37/B38).
  const ordered: Record<string, unknown> = {};
  if (request.storageHash !== undefined) ordered["storage_hash"] = request.storageHash;
  ordered["joins"] = request.joins.map((j) => {
    const join: Record<string, unknown> = { name: j.name };
    if (j.nodeUniqueIdentifier !== undefined)
      join["node_unique_identifier"] = j.nodeUniqueIdentifier;
    join["on"] = [...j.on];
    if (j.storageHash !== undefined) join["storage_hash"] = j.storageHash;
    join["type"] = j.type;
    return join as unknown as WireJoinSpec;
  });
  if (request.filter !== undefined) {
    ordered["filter"] = new WireFilterCompiler().compile(request.filter);
  }
  ordered["limit"] = request.limit;
  ordered["offset"] = request.offset;
  if (request.nodeUniqueIdentifier !== undefined) {
    ordered["node_unique_identifier"] = request.nodeUniqueIdentifier;
  }
  return ordered as unknown as WireSearchRequest;
}

function plain(value: unknown): unknown {
  if (value instanceof PyFloat) return value.value;
  if (typeof value === "bigint") {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) {
      throw new FilterError(
        "invalid_filter",
        `the integer ${value} does not fit a JS number: use toWireJson, which writes it exactly`,
      );
    }
    return n;
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}

/**
 * The `get-data-from-filter` body as a plain JSON object, keys in the reference's order
 * (`model_dump(mode="json", exclude_none=True)`): `storage_hash`, `joins`, `filter`, `limit`,
 * `offset`, `node_unique_identifier`; absent fields are omitted.
 *
 * @example
 * ```ts
 * toWirePayload(new SearchRequest({ storageHash: "prices_abc" }));
 * // { storage_hash: "prices_abc", joins: [], limit: 50, offset: 0 }
 * ```
 */
export function toWirePayload(request: SearchRequest | SearchRequestInput): WireSearchRequest {
  return plain(buildPayload(request)) as WireSearchRequest;
}

function writeJson(value: unknown): string {
  if (value === null) return "null";
  if (value instanceof PyFloat) return formatPythonFloat(value.value);
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "number":
      // An integral JS number is a Python int (`10`, not `10.0`); others print as Python floats.
      return Number.isInteger(value) ? BigInt(value).toString() : formatPythonFloat(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map(writeJson).join(",")}]`;
      const parts = Object.entries(value as Record<string, unknown>).map(
        ([k, v]) => `${JSON.stringify(k)}:${writeJson(v)}`,
      );
      return `{${parts.join(",")}}`;
    }
    default:
      throw new FilterError("invalid_filter", `cannot write a ${typeof value} as JSON`);
  }
}

/**
 * The exact JSON text of the `get-data-from-filter` body: compact, keys in the reference's
 * order, integral numbers as ints, `PyFloat`s and fractional numbers as Python floats
 * (`1e-07`), bigints exactly, `Date`s as `isoformat()` with `+00:00` (appendix B37-B41).
 *
 * @example
 * ```ts
 * toWireJson(new SearchRequest({ storageHash: "prices_abc" }));
 * // '{"storage_hash":"prices_abc","joins":[],"limit":50,"offset":0}'
 * ```
 */
export function toWireJson(request: SearchRequest | SearchRequestInput): string {
  return writeJson(buildPayload(request));
}

import { gunzipSync } from "node:zlib";
import { type Int64Cells, parseJsonWithInt64, stringifyJson } from "../frame/exact-json.js";
import type { Frame, FrameRecord } from "../frame/frame.js";
import { microsToIso, parseInstant, parseIsoInstant } from "../frame/time.js";
import type {
  DimensionQuery,
  DimensionRange,
  ReadQuery,
  TableSchema,
  TableStatistics,
} from "../store/data-store.js";
import { fieldError, HttpError } from "./http-error.js";

/** A JSON object body. */
export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Decodes `base64(gzip(JSON))` (upload chunks and the progress commit, protocol 2.10 and 2.12).
 * `cells` says which integers to keep exact (see `parseJsonWithInt64`): the int64 columns of an
 * upload's rows ({@link int64Cells}); omitted, the plain `JSON.parse`.
 *
 * @example
 * ```ts
 * const rows = decodeGzipJson(body["data"], "data", int64Cells(storage.schema));
 * ```
 */
export function decodeGzipJson(data: unknown, field = "data", cells?: Int64Cells): unknown {
  if (typeof data !== "string" || data === "") {
    throw fieldError(field, "Expected base64(gzip(JSON)) text.");
  }
  try {
    const text = gunzipSync(Buffer.from(data, "base64")).toString("utf8");
    return cells === undefined ? JSON.parse(text) : parseJsonWithInt64(text, cells);
  } catch (cause) {
    throw HttpError.badRequest({
      [field]: [`Cannot decode base64(gzip(JSON)): ${(cause as Error).message}`],
    });
  }
}

/**
 * Where the exact integers of an upload chunk (a list of rows) are: the table's int64 columns,
 * or `undefined` when it has none (then the chunk is read by the plain `JSON.parse`).
 */
export function int64Cells(schema: TableSchema | null): Int64Cells | undefined {
  if (!schema) return undefined;
  const columns = new Set<string>();
  for (const [name, dtype] of Object.entries(schema.columnDtypes)) {
    if (dtype === "int64") columns.add(name);
  }
  return columns.size === 0 ? undefined : { columns };
}

/**
 * Parses a request body: `JSON.parse`, and an exact re-read when an integer in it is beyond
 * ±(2^53 - 1) (an int64 dimension value of a filter), which then comes as a bigint.
 */
export function parseJsonBody(text: string): unknown {
  return parseJsonWithInt64(text);
}

/**
 * The JSON text of a response: `JSON.stringify`, except that bigints (int64 cells beyond
 * ±(2^53 - 1) in data pages) are written as exact JSON integers.
 */
export function jsonText(value: unknown): string {
  return stringifyJson(value);
}

/** Epoch microseconds → ISO `Z` text, recursively through progress trees and `{min,max}` leaves. */
export function treeToIso(tree: unknown): unknown {
  if (typeof tree === "number") return microsToIso(tree);
  if (isObject(tree)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(tree)) out[k] = treeToIso(v);
    return out;
  }
  return tree;
}

/** Table statistics in the wire's progress shape (protocol 2.12), leaves as ISO `Z` strings. */
export function statisticsToWire(stats: TableStatistics): {
  global_index_progress: unknown;
  index_progress: unknown;
  index_min: unknown;
  multi_index_column_stats: unknown;
} {
  return {
    global_index_progress: treeToIso(stats.globalIndexProgress),
    index_progress: treeToIso(stats.indexProgress ?? {}),
    index_min: treeToIso(stats.indexMin ?? {}),
    multi_index_column_stats: treeToIso(stats.multiIndexColumnStats ?? {}),
  };
}

/** `last_time_index_value` / `earliest_index_value` of a table (ISO `Z`, null when empty). */
export function timeBounds(stats: TableStatistics): {
  last_time_index_value: string | null;
  earliest_index_value: string | null;
} {
  const g = stats.globalIndexProgress;
  return {
    last_time_index_value: g ? microsToIso(g.max) : null,
    earliest_index_value: g ? microsToIso(g.min) : null,
  };
}

/** The `get_stats` payload: `{ multi_index_stats: {_GLOBAL_, index_progress, index_min} | null, multi_index_column_stats }`. */
export function statsPayload(stats: TableStatistics): JsonObject {
  if (stats.globalIndexProgress === null) {
    return { multi_index_stats: null, multi_index_column_stats: null };
  }
  const wire = statisticsToWire(stats);
  return {
    multi_index_stats: {
      _GLOBAL_: wire.global_index_progress,
      index_progress: wire.index_progress,
      index_min: wire.index_min,
    },
    multi_index_column_stats: wire.multi_index_column_stats,
  };
}

/**
 * A frame's rows as the wire carries them: instants as ISO `Z` text, missing values as null,
 * int64 cells as numbers or (beyond ±(2^53 - 1)) bigints, which responses write as exact JSON
 * integers ({@link jsonText}; `tdag serve` answers every route through it).
 */
export function frameToRows(frame: Frame): FrameRecord[] {
  return frame.toRecords({ time: "iso" });
}

/** Epoch seconds (number) or ISO text → epoch microseconds. */
function instantField(value: unknown, field: string): number {
  if (typeof value === "number" && Number.isFinite(value)) return Math.round(value * 1_000_000);
  if (typeof value === "string") {
    const parsed = parseIsoInstant(value, true);
    if (parsed.ok) return parsed.micros;
  }
  throw fieldError(field, "Expected epoch seconds or an ISO-8601 date-time.");
}

function optionalBool(body: JsonObject, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw fieldError(key, "Must be a valid boolean.");
  return v;
}

/** The dimension payload of reads, last observations and deletes (protocol 2.11). */
export function parseDimensionQuery(body: JsonObject): DimensionQuery {
  const query: {
    dimensionFilters?: Record<string, unknown[]>;
    indexCoordinates?: Record<string, unknown>[];
    dimensionRangeMap?: DimensionRange[];
  } = {};
  const filters = body["dimension_filters"];
  if (filters !== undefined && filters !== null) {
    if (!isObject(filters) || Object.values(filters).some((v) => !Array.isArray(v))) {
      throw fieldError("dimension_filters", "Expected an object of value lists.");
    }
    query.dimensionFilters = filters as Record<string, unknown[]>;
  }
  const coords = body["index_coordinates"];
  if (coords !== undefined && coords !== null) {
    if (!Array.isArray(coords) || coords.some((c) => !isObject(c))) {
      throw fieldError("index_coordinates", "Expected a list of objects.");
    }
    query.indexCoordinates = coords as Record<string, unknown>[];
  }
  const ranges = body["dimension_range_map"];
  if (ranges !== undefined && ranges !== null) {
    if (!Array.isArray(ranges)) throw fieldError("dimension_range_map", "Expected a list.");
    query.dimensionRangeMap = ranges.map((r: unknown, i) => parseRange(r, i));
  }
  return query;
}

function parseRange(raw: unknown, i: number): DimensionRange {
  const field = `dimension_range_map[${i}]`;
  if (!isObject(raw) || !isObject(raw["coordinate"])) {
    throw fieldError(field, "Expected {coordinate, start_date?, end_date?, ...operands}.");
  }
  const range: {
    coordinate: Record<string, unknown>;
    startDate?: number | null;
    startDateOperand?: ">=" | ">";
    endDate?: number | null;
    endDateOperand?: "<=" | "<";
  } = { coordinate: raw["coordinate"] };
  if (raw["start_date"] !== undefined && raw["start_date"] !== null) {
    range.startDate = instantField(raw["start_date"], `${field}.start_date`);
  }
  if (raw["end_date"] !== undefined && raw["end_date"] !== null) {
    range.endDate = instantField(raw["end_date"], `${field}.end_date`);
  }
  const so = raw["start_date_operand"];
  if (so !== undefined && so !== null) {
    if (so !== ">=" && so !== ">")
      throw fieldError(`${field}.start_date_operand`, "Expected >= or >.");
    range.startDateOperand = so;
  }
  const eo = raw["end_date_operand"];
  if (eo !== undefined && eo !== null) {
    if (eo !== "<=" && eo !== "<")
      throw fieldError(`${field}.end_date_operand`, "Expected <= or <.");
    range.endDateOperand = eo;
  }
  return range;
}

/** The body of `get_data_between_dates_*` as a store read query (epoch-second bounds → micros). */
export function parseReadQuery(body: JsonObject): ReadQuery {
  const query: {
    -readonly [K in keyof ReadQuery]: ReadQuery[K];
  } = { ...parseDimensionQuery(body) };
  if (body["start_date"] !== undefined && body["start_date"] !== null) {
    query.start = instantField(body["start_date"], "start_date");
  }
  if (body["end_date"] !== undefined && body["end_date"] !== null) {
    query.end = instantField(body["end_date"], "end_date");
  }
  // `null` flags: the platform's default is inclusive (protocol 2.11).
  const ge = optionalBool(body, "great_or_equal");
  if (ge !== undefined) query.greatOrEqual = ge;
  const le = optionalBool(body, "less_or_equal");
  if (le !== undefined) query.lessOrEqual = le;
  const columns = body["columns"];
  if (columns !== undefined && columns !== null) {
    if (!Array.isArray(columns) || columns.some((c) => typeof c !== "string")) {
      throw fieldError("columns", "Expected a list of column names.");
    }
    query.columns = columns as string[];
  }
  return query;
}

/** A non-negative integer field (`offset`), default 0. */
export function offsetField(body: JsonObject, key = "offset"): number {
  const v = body[key] ?? 0;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw fieldError(key, "Ensure this value is a non-negative integer.");
  }
  return v;
}

/** The instant of `after_date` (ISO with `Z` or an offset; naive text is read as UTC). */
export function parseAfterDate(value: unknown): number {
  if (typeof value !== "string" || value.trim() === "") {
    throw fieldError("after_date", "This field is required.");
  }
  const parsed = parseInstant(value, true);
  if (!parsed.ok) throw fieldError("after_date", "Expected an ISO-8601 date-time.");
  return parsed.micros;
}

/** A required non-blank string field. */
export function requiredString(body: JsonObject, key: string): string {
  const v = body[key];
  if (v === undefined || v === null) throw fieldError(key, "This field is required.");
  if (typeof v !== "string" || v.trim() === "")
    throw fieldError(key, "Expected a non-empty string.");
  return v;
}

/** An optional string field (`null` kept). */
export function optionalString(body: JsonObject, key: string): string | null | undefined {
  const v = body[key];
  if (v === undefined || v === null) return v as null | undefined;
  if (typeof v !== "string") throw fieldError(key, "Expected a string.");
  return v;
}

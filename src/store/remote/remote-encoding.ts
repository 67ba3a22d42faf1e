import { gunzipSync, gzipSync } from "node:zlib";
import { emptyColumn } from "../../frame/column-builder.js";
import { frameDTypeToToken, tokenToFrameDType } from "../../frame/dtype-tokens.js";
import type { Column, DType } from "../../frame/dtypes.js";
import { parseJsonWithInt64, stringifyJson } from "../../frame/exact-json.js";
import { Frame } from "../../frame/frame.js";
import { int64FromBigInt, isInt64Range } from "../../frame/int64.js";
import { microsToIso, parseIsoInstant } from "../../frame/time.js";
import type { ProgressTree, TableSchema, TableStatistics } from "../data-store.js";
import { coordinateKey, emptyStatistics, type MutableTree, placeLeaf } from "../progress-tree.js";

/**
 * Encoders between tdag values and the platform wire (`platform-protocol.md` §2.10-§2.12, §4).
 * Pure functions: no I/O, so they are unit-tested on their own.
 */

/** A row as the platform sends and receives it: column name → JSON value. */
export type WireRow = Record<string, unknown>;

// ---------------------------------------------------------------- cells and rows

/**
 * One cell to its wire value (§2.10, §4.4): instants as RFC 3339 UTC with `Z` (fraction only
 * when non-zero, microseconds kept), dates `YYYY-MM-DD`, NaN/±Infinity/null → `null`, json
 * values nested as they are, int64 cells as they are (a number, or a bigint beyond ±(2^53 - 1),
 * which {@link encodeGzipBase64Json} writes as an exact JSON integer).
 *
 * Floats are sent with full precision: the shortest text that reads back to the same double.
 * (The reference rounds to 10 decimal places through pandas' `double_precision=10`; tdag does
 * not copy that loss, see protocol §6.6.)
 *
 * @example
 * ```ts
 * encodeCell("timestamptz", 1714521600000000); // "2024-05-01T00:00:00Z"
 * encodeCell("float64", Number.NaN); // null
 * encodeCell("int64", 2n ** 63n - 1n); // 9223372036854775807n
 * ```
 */
export function encodeCell(dtype: DType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (dtype) {
    case "timestamptz":
      return typeof value === "number" && Number.isFinite(value) ? microsToIso(value) : null;
    case "float64":
      return typeof value === "number" && Number.isFinite(value) ? value : null;
    default:
      return value;
  }
}

/**
 * What {@link encodeGzipBase64Json} must know of the rows {@link frameToWireRows} made, kept on
 * the returned array (a non-enumerable symbol property, invisible to JSON and to equality): the
 * float64 columns holding a whole value in those rows (a JSON number token does not say whether
 * it is a float, and `JSON.stringify(100)` is `100`), and whether a json column holds nested
 * objects or arrays there.
 */
interface WireRowsInfo {
  readonly wholeFloats: readonly string[];
  readonly nestedJson: boolean;
}

const WIRE_ROWS_INFO = Symbol("tdag.wireRowsInfo");

/** Rows made by {@link frameToWireRows}. */
type TypedWireRows = readonly WireRow[] & { readonly [WIRE_ROWS_INFO]?: WireRowsInfo };

function wireRowsInfo(frame: Frame, start: number, end: number): WireRowsInfo {
  const wholeFloats: string[] = [];
  let nestedJson = false;
  for (const name of frame.valueColumns) {
    const column = frame.getColumn(name);
    if (column.dtype === "float64") {
      const values = column.values;
      for (let i = start; i < end; i++) {
        if (Number.isInteger(values[i])) {
          wholeFloats.push(name);
          break;
        }
      }
    } else if (column.dtype === "json" && !nestedJson) {
      const values = column.values;
      for (let i = start; i < end; i++) {
        if (values[i] !== null && typeof values[i] === "object") {
          nestedJson = true;
          break;
        }
      }
    }
  }
  return { wholeFloats, nestedJson };
}

/**
 * The rows `[start, end)` of a frame as wire row objects (every column, index included), cells
 * encoded by {@link encodeCell}. Pass the array to {@link encodeGzipBase64Json} for the upload
 * text: it remembers which float columns hold whole values, so those are written `1.0`.
 *
 * @example
 * ```ts
 * frameToWireRows(df); // [{ time_index: "2024-01-01T00:00:00Z", close: 185.2 }, ...]
 * ```
 */
export function frameToWireRows(frame: Frame, start = 0, end = frame.length): WireRow[] {
  const columns = frame.columnNames.map((name) => [name, frame.getColumn(name)] as const);
  const rows: WireRow[] = [];
  for (let i = start; i < end; i++) {
    const row: WireRow = {};
    for (const [name, col] of columns) row[name] = encodeCell(col.dtype, col.values[i]);
    rows.push(row);
  }
  Object.defineProperty(rows, WIRE_ROWS_INFO, { value: wireRowsInfo(frame, start, end) });
  return rows;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Gives the whole-valued cells of float columns a fraction (`"close":100` → `"close":100.0`),
 * as the Python client writes floats: one regular-expression pass over the text
 * `JSON.stringify` wrote, far cheaper than writing a million rows by hand. A cell is
 * `,"name":digits` followed by `,` or `}`; that cannot occur inside a JSON string (every `"`
 * there is escaped), and the time index is every row's first key, so a float column always
 * follows a comma. Only for rows without nested json values, which could hold the same text.
 */
function addFloatFractions(text: string, columns: readonly string[]): string {
  const names = columns.map((c) => escapeRegExp(JSON.stringify(c))).join("|");
  return text.replace(new RegExp(`,(${names}):(-?\\d+)(?=[,}])`, "g"), ",$1:$2.0");
}

/**
 * A float cell as the Python client writes it: a whole value keeps a fraction (`100.0`; `-0`
 * is `0.0`, as `JSON.stringify` drops the sign), the others as `JSON.stringify` writes them.
 */
function floatToken(value: number): string {
  if (!Number.isFinite(value)) return "null";
  // Below 1e21 String() writes no exponent, so a whole value needs its ".0" (`1e+21` is a float token already).
  return Number.isInteger(value) && Math.abs(value) < 1e21 ? `${value}.0` : String(value);
}

/**
 * The JSON text of wire rows written cell by cell, for rows whose json values nest (the
 * fraction pass could not tell their keys from the row's): `floats` cells as
 * {@link floatToken}, every other value as `stringifyJson`.
 */
function writeWireRows(rows: readonly WireRow[], floats: ReadonlySet<string>): string {
  const parts: string[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const cells: string[] = [];
    for (const key in row) {
      const value = row[key];
      if (value === undefined) continue;
      const token =
        floats.has(key) && typeof value === "number" ? floatToken(value) : stringifyJson(value);
      cells.push(`${JSON.stringify(key)}:${token}`);
    }
    parts[r] = `{${cells.join(",")}}`;
  }
  return `[${parts.join(",")}]`;
}

/**
 * `base64(gzip(UTF-8 JSON))`: the `data` field of uploads and of the progress commit. Bigints
 * (int64 beyond ±(2^53 - 1)) are written as exact JSON integers; in rows made by
 * {@link frameToWireRows}, whole float64 values keep a fraction (`100.0`), as the Python client
 * writes them (a server types cells by `column_dtypes_map`, not by token). NaN and ±Infinity
 * are `null` already ({@link encodeCell}).
 *
 * @example
 * ```ts
 * const data = encodeGzipBase64Json(frameToWireRows(df)); // gzip of '[{"time_index":"...","close":100.0}]'
 * ```
 */
export function encodeGzipBase64Json(value: unknown): string {
  const info = Array.isArray(value) ? (value as TypedWireRows)[WIRE_ROWS_INFO] : undefined;
  let text: string;
  if (info === undefined || info.wholeFloats.length === 0) text = stringifyJson(value);
  else if (info.nestedJson) text = writeWireRows(value as WireRow[], new Set(info.wholeFloats));
  else text = addFloatFractions(stringifyJson(value), info.wholeFloats);
  return gzipSync(Buffer.from(text, "utf8")).toString("base64");
}

/** The inverse of {@link encodeGzipBase64Json}: integers beyond ±(2^53 - 1) come back as bigints. */
export function decodeGzipBase64Json(data: string): unknown {
  return parseJsonWithInt64(gunzipSync(Buffer.from(data, "base64")).toString("utf8"));
}

/** The int64 columns of a table's dtypes. */
export function int64Columns(dtypes: Readonly<Record<string, DType>>): Set<string> {
  const out = new Set<string>();
  for (const [name, dtype] of Object.entries(dtypes)) if (dtype === "int64") out.add(name);
  return out;
}

/**
 * The request option that parses a data page whose rows hold the given dtypes: `{}` (plain
 * `JSON.parse`, the fast path) when no column is int64; otherwise a `parseJson` that reads the
 * int64 cells exactly (`parseJsonWithInt64`: the native parse, then an exact re-read only when
 * a value is beyond ±(2^53 - 1)). `rowsKey` names the list of rows in the page object
 * (`"results"`), or is omitted when the page is the list. `"any"` is for pages whose dtypes are
 * known only once parsed (get-data-from-filter): any cell of the rows may be int64.
 *
 * @example
 * ```ts
 * await client.request("POST", path, { json, ...exactPageParsing(schema.columnDtypes, "results") });
 * ```
 */
export function exactPageParsing(
  dtypes: Readonly<Record<string, DType>> | "any",
  rowsKey?: string,
): { parseJson?: (text: string) => unknown } {
  const where = rowsKey === undefined ? {} : { rowsKey };
  if (dtypes === "any") return { parseJson: (text) => parseJsonWithInt64(text, where) };
  const columns = int64Columns(dtypes);
  if (columns.size === 0) return {};
  return { parseJson: (text) => parseJsonWithInt64(text, { ...where, columns }) };
}

/** Frame dtypes to the platform's `column_dtypes_map` tokens (§4.2). */
export function columnDtypesMap(
  columnDtypes: Readonly<Record<string, DType>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, dtype] of Object.entries(columnDtypes)) out[name] = frameDTypeToToken(dtype);
  return out;
}

/** A `column_dtypes_map` (any token spelling) to frame dtypes; unknown tokens read as strings. */
export function frameDtypesFromTokens(
  map: Readonly<Record<string, unknown>>,
  timeIndexName?: string,
): Record<string, DType> {
  const out: Record<string, DType> = {};
  for (const [name, token] of Object.entries(map)) {
    out[name] =
      name === timeIndexName
        ? "timestamptz"
        : ((typeof token === "string" ? tokenToFrameDType(token) : undefined) ?? "string");
  }
  return out;
}

// ---------------------------------------------------------------- statistics

type Tree = MutableTree;

interface Ranges {
  readonly min: number;
  readonly max: number;
  readonly progress: Tree;
  readonly first: Tree;
  readonly ranges: Tree;
}

function ranges(frame: Frame, start: number, end: number): Ranges | null {
  if (end <= start) return null;
  const time = frame.time;
  const dims = frame.identityDimensions.map((d) => frame.getColumn(d).values);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  const progress: Tree = {};
  const first: Tree = {};
  const rangeTree: Tree = {};
  for (let i = start; i < end; i++) {
    const t = time[i]!;
    if (Number.isNaN(t)) continue;
    if (t < min) min = t;
    if (t > max) max = t;
    if (dims.length === 0) continue;
    const keys = dims.map((values) => coordinateKey(values[i]));
    placeLeaf(progress, keys, (old) => (typeof old === "number" && old >= t ? old : t));
    placeLeaf(first, keys, (old) => (typeof old === "number" && old <= t ? old : t));
    placeLeaf(rangeTree, keys, (old) => {
      const r = old as { min: number; max: number } | undefined;
      return r ? { min: Math.min(r.min, t), max: Math.max(r.max, t) } : { min: t, max: t };
    });
  }
  if (min === Number.POSITIVE_INFINITY) return null;
  return { min, max, progress, first, ranges: rangeTree };
}

/** Maps every numeric leaf of a tree (epoch micros) to ISO text. */
function isoLeaves(tree: unknown): unknown {
  if (typeof tree === "number") return microsToIso(tree);
  if (tree === null || typeof tree !== "object") return tree;
  const out: Tree = {};
  for (const [k, v] of Object.entries(tree)) out[k] = isoLeaves(v);
  return out;
}

/**
 * `chunk_stats` of the rows `[start, end)` (§2.10): `_GLOBAL_` min/max and the per-coordinate
 * `index_progress` / `index_min` trees, ISO `Z` leaves. `null` for a chunk without rows.
 */
export function chunkStats(frame: Frame, start = 0, end = frame.length): WireRow | null {
  const r = ranges(frame, start, end);
  if (!r) return null;
  return {
    _GLOBAL_: { max: microsToIso(r.max), min: microsToIso(r.min) },
    index_progress: isoLeaves(r.progress),
    index_min: isoLeaves(r.first),
  };
}

/**
 * The decoded body of `set_last_update_index_time_from_update_stats` (§2.12), computed from the
 * whole frame just written: `{ multi_index_stats: { _GLOBAL_, index_progress, index_min },
 * multi_index_column_stats: { column: tree of { min, max } } }` (`{}` per column for 1-D tables).
 */
export function updateStatsPayload(frame: Frame): WireRow | null {
  const r = ranges(frame, 0, frame.length);
  if (!r) return null;
  const columnStats: WireRow = {};
  const oneD = frame.identityDimensions.length === 0;
  for (const column of frame.valueColumns) {
    columnStats[column] = oneD ? {} : isoLeaves(r.ranges);
  }
  return {
    multi_index_stats: {
      _GLOBAL_: { max: microsToIso(r.max), min: microsToIso(r.min) },
      index_progress: isoLeaves(r.progress),
      index_min: isoLeaves(r.first),
    },
    multi_index_column_stats: columnStats,
  };
}

/**
 * A statistics leaf to epoch microseconds (§2.12 `_to_utc_datetime`): ISO text (naive assumed
 * UTC), or a number read by magnitude (> 1e17 ns, > 1e14 µs, > 1e11 ms, else seconds).
 * Unparseable text is returned unchanged.
 */
export function leafToMicros(leaf: unknown): unknown {
  if (typeof leaf === "string") {
    const parsed = parseIsoInstant(leaf, true);
    return parsed.ok ? parsed.micros : leaf;
  }
  if (typeof leaf === "number" && Number.isFinite(leaf)) {
    const abs = Math.abs(leaf);
    if (abs > 1e17) return Math.round(leaf / 1000);
    if (abs > 1e14) return Math.round(leaf);
    if (abs > 1e11) return Math.round(leaf * 1000);
    return Math.round(leaf * 1_000_000);
  }
  return leaf;
}

function microsTree(tree: unknown): unknown {
  if (tree === null || tree === undefined) return null;
  if (typeof tree !== "object" || Array.isArray(tree)) return leafToMicros(tree);
  const out: Tree = {};
  for (const [k, v] of Object.entries(tree)) out[k] = microsTree(v);
  return out;
}

function asObject(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/**
 * Statistics as the platform sends them to {@link TableStatistics} with epoch-micros leaves.
 * Accepts the `get_stats` shape (`{ multi_index_stats: { _GLOBAL_ | global_index_progress,
 * index_progress, index_min }, multi_index_column_stats }`) and the flat shape of
 * `set_start_of_execution` (`global_index_progress`, `index_progress`, ... at the top level).
 * Legacy keys are ignored; without a global block the table is reported empty (all `null`).
 */
export function statisticsFromWire(body: unknown, rowCount: number | null = null): TableStatistics {
  const top = asObject(body) ?? {};
  const nested = asObject(top["multi_index_stats"]);
  const block = nested ?? top;
  const global = asObject(block["_GLOBAL_"]) ?? asObject(block["global_index_progress"]);
  const min = global ? leafToMicros(global["min"]) : null;
  const max = global ? leafToMicros(global["max"]) : null;
  if (typeof min !== "number" || typeof max !== "number") return emptyStatistics(rowCount);
  const columnStats = asObject(top["multi_index_column_stats"]);
  return {
    globalIndexProgress: { min, max },
    indexProgress: (microsTree(block["index_progress"] ?? {}) as ProgressTree | null) ?? {},
    indexMin: (microsTree(block["index_min"] ?? {}) as ProgressTree | null) ?? {},
    multiIndexColumnStats: columnStats
      ? (microsTree(columnStats) as Record<string, unknown>)
      : null,
    rowCount,
  };
}

// ---------------------------------------------------------------- reads

/** Epoch micros → the float epoch seconds of top-level read bounds (exact to the microsecond). */
export function microsToEpochSeconds(micros: number): number {
  return micros / 1_000_000;
}

/**
 * Epoch micros → the seconds of a `dimension_range_map` bound. The reference truncates these to
 * integer seconds; tdag sends an integer when the instant is a whole second (the common case,
 * byte-identical to the reference) and a float with microsecond precision otherwise, because
 * truncating would silently move a window bound.
 */
export function microsToRangeSeconds(micros: number): number {
  // A whole second divides exactly and JSON writes it without a fraction (`1777593600`).
  return micros / 1_000_000;
}

function decodeInstant(value: unknown): number {
  if (value === null || value === undefined) return Number.NaN;
  if (typeof value === "number") {
    const micros = leafToMicros(value);
    return typeof micros === "number" ? micros : Number.NaN;
  }
  if (typeof value === "string") {
    const parsed = parseIsoInstant(value, true);
    return parsed.ok ? parsed.micros : Number.NaN;
  }
  return Number.NaN;
}

function decodeNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    return Number.isNaN(n) ? null : n;
  }
  if (typeof value === "boolean") return value ? 1 : 0;
  return null;
}

function decodeBool(value: unknown): boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string") {
    const v = value.trim().toLowerCase();
    if (["true", "1", "yes", "t"].includes(v)) return true;
    if (["false", "0", "no", "f"].includes(v)) return false;
  }
  return null;
}

function decodeDate(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") {
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
    const parsed = parseIsoInstant(value, true);
    return parsed.ok ? microsToIso(parsed.micros).slice(0, 10) : value.slice(0, 10);
  }
  if (typeof value === "number") {
    const micros = leafToMicros(value);
    return typeof micros === "number" ? microsToIso(micros).slice(0, 10) : null;
  }
  return null;
}

const INT_TEXT_RE = /^\s*[-+]?\d+\s*$/;

/**
 * An int64 cell from the wire: exact for integers (numbers, bigints of an exact parse, integer
 * text), a number when safe and a bigint beyond; fractions are truncated as before; values
 * outside int64 (no platform table can hold them) and non-numbers are missing.
 */
function decodeInt64(value: unknown): number | bigint | null {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value + 0;
  let big: bigint;
  if (typeof value === "bigint") big = value;
  else if (typeof value === "string" && INT_TEXT_RE.test(value)) big = BigInt(value.trim());
  else {
    const n = decodeNumber(value);
    if (n === null || !Number.isFinite(n)) return null;
    const whole = Math.trunc(n);
    if (Number.isSafeInteger(whole)) return whole + 0;
    // A double past 2^53 that came from somewhere else than an exact parse: its own value.
    big = BigInt(whole);
  }
  return isInt64Range(big) ? int64FromBigInt(big) : null;
}

/** Builds one typed column from the wire values of a column (§4.3 restoration). */
export function decodeColumn(dtype: DType, values: readonly unknown[]): Column {
  const n = values.length;
  switch (dtype) {
    case "timestamptz": {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = decodeInstant(values[i]);
      return { dtype, values: out };
    }
    case "float64": {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = decodeNumber(values[i]) ?? Number.NaN;
      return { dtype, values: out };
    }
    case "int64":
      return { dtype, values: values.map(decodeInt64) };
    case "bool":
      return { dtype, values: values.map(decodeBool) };
    case "date":
      return { dtype, values: values.map(decodeDate) };
    case "string":
      return {
        dtype,
        values: values.map((v) =>
          v === null || v === undefined ? null : typeof v === "string" ? v : stringifyJson(v),
        ),
      };
    case "json":
      // A bare large integer of a page read with "any" int64 cells is a bigint: json holds numbers.
      return {
        dtype,
        values: values.map((v) => (v === undefined ? null : typeof v === "bigint" ? Number(v) : v)),
      };
  }
}

/**
 * Wire rows → a frame with the table's dtypes restored (§2.11): `columns` (default: every
 * column of `dtypes`, in that order) after the index; columns missing from the rows are null.
 * An empty result is an empty frame that still has the index and the typed columns.
 */
export function wireRowsToFrame(
  rows: readonly WireRow[],
  indexNames: readonly string[],
  dtypes: Readonly<Record<string, DType>>,
  columns?: readonly string[],
): Frame {
  const index = new Set(indexNames);
  const names = [...indexNames, ...(columns ?? Object.keys(dtypes)).filter((c) => !index.has(c))];
  const map = new Map<string, Column>();
  names.forEach((name, i) => {
    const dtype: DType = i === 0 ? "timestamptz" : (dtypes[name] ?? "string");
    if (rows.length === 0) map.set(name, emptyColumn(dtype, 0));
    else
      map.set(
        name,
        decodeColumn(
          dtype,
          rows.map((r) => r[name]),
        ),
      );
  });
  return Frame.fromTypedColumns(indexNames, map, rows.length);
}

/** A `TableSchema` from a SourceTableConfiguration JSON object, or `null` when there is none. */
export function schemaFromStc(stc: unknown): TableSchema | null {
  const o = asObject(stc);
  if (!o) return null;
  const indexNames = o["index_names"];
  const map = asObject(o["column_dtypes_map"]);
  if (!Array.isArray(indexNames) || indexNames.length === 0 || !map) return null;
  const timeIndexName =
    typeof o["time_index_name"] === "string" ? o["time_index_name"] : String(indexNames[0]);
  return {
    timeIndexName,
    indexNames: indexNames.map(String),
    columnDtypes: frameDtypesFromTokens(map, timeIndexName),
  };
}

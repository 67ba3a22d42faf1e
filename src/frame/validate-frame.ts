import { type FrameIssue, FrameValidationError } from "../errors.js";
import { cellValue, MAX_ISSUE_ROWS } from "./column-builder.js";
import {
  DTYPE_TOKENS,
  type DtypeToken,
  isDtypeToken,
  normalizeDtypeToken,
} from "./dtype-tokens.js";
import type { Column, DType } from "./dtypes.js";
import { stringifyJson, writeJson } from "./exact-json.js";
import { Frame, TIME_INDEX, UNIQUE_IDENTIFIER } from "./frame.js";
import type { TableSchema } from "./table-schema.js";
import { microsToIso } from "./time.js";

/** A declared column (the reference `RecordDefinition`): its name and its dtype token. */
export interface RecordDeclaration {
  readonly column_name: string;
  readonly dtype: string;
}

/** What {@link validateFrame} checks the frame against, besides the fixed rules. */
export interface ValidateFrameOptions {
  /** The node's declared records: each column must exist and hold values of its dtype. */
  readonly records?: readonly RecordDeclaration[] | null;
  /**
   * The existing table: the frame's index names must equal its `indexNames`, and a column that
   * exists in the table must keep its dtype.
   */
  readonly schema?: TableSchema | null;
  /**
   * The index the node declares (its config's `index_names`), for a table that does not exist
   * yet. When set, the frame's index names must equal it instead of following the convention.
   */
  readonly indexNames?: readonly string[] | null;
}

/** The outcome of {@link safeValidateFrame}. */
export type SafeValidateFrameResult =
  | { readonly success: true; readonly data: Frame }
  | { readonly success: false; readonly error: FrameValidationError };

/** The longest column name PostgreSQL (hence the platform) keeps. */
export const MAX_COLUMN_NAME_LENGTH = 63;

/**
 * Checks a frame returned by `update()` before it is persisted, and returns a **new** frame in
 * which `±Infinity` in float64 columns became NaN (the input is never mutated).
 *
 * Throws a {@link FrameValidationError} listing every issue (code, column, first offending rows).
 * The rules and their codes are documented in `docs/frame.md`.
 *
 * @example
 * ```ts
 * const df = Frame.fromRecords([{ time_index: "2024-01-01T00:00:00Z", close: Infinity }]);
 * validateFrame(df).cell("close", 0); // null (NaN)
 * validateFrame(df, { records: [{ column_name: "close", dtype: "int64" }] });
 * // FrameValidationError: [record_dtype_mismatch] column 'close' is float64, but ...
 * ```
 */
export function validateFrame(frame: Frame, options: ValidateFrameOptions = {}): Frame {
  const result = safeValidateFrame(frame, options);
  if (!result.success) throw result.error;
  return result.data;
}

/**
 * Like {@link validateFrame}, but returns `{ success: true, data }` or
 * `{ success: false, error }` instead of throwing.
 *
 * @example
 * ```ts
 * const result = safeValidateFrame(df, { schema });
 * if (!result.success) console.error(result.error.issues.map((i) => i.code));
 * ```
 */
export function safeValidateFrame(
  frame: Frame,
  options: ValidateFrameOptions = {},
): SafeValidateFrameResult {
  const data = replaceInfinities(frame);
  const issues = frameIssues(data, options);
  if (issues.length === 0) return { success: true, data };
  return { success: false, error: new FrameValidationError(issues) };
}

/**
 * Every issue of a frame, in rule order, without replacing infinities first (an infinity is not
 * an issue: {@link validateFrame} replaces it).
 */
export function frameIssues(frame: Frame, options: ValidateFrameOptions = {}): FrameIssue[] {
  const issues: FrameIssue[] = [];
  const records = options.records ?? [];
  const declared = new Map<string, string>();
  for (const record of records) declared.set(record.column_name, record.dtype);

  checkIndexNames(frame, options, declared, issues);
  checkTimeIndex(frame, issues);
  checkNullIndexValues(frame, issues);
  checkColumnNames(frame, issues);
  checkDatetimeValueColumns(frame, declared, options.schema ?? null, issues);
  checkRecords(frame, records, issues);
  checkSchemaDtypes(frame, options.schema ?? null, issues);
  checkDuplicateIndex(frame, issues);
  return issues;
}

/** A new frame whose float64 columns hold NaN where the input held ±Infinity. */
function replaceInfinities(frame: Frame): Frame {
  const columns = new Map<string, Column>();
  for (const name of frame.columnNames) {
    const column = frame.getColumn(name);
    if (
      column.dtype === "float64" &&
      column.values.some((v) => v === Infinity || v === -Infinity)
    ) {
      const values = Float64Array.from(column.values, (v) => (Number.isFinite(v) ? v : Number.NaN));
      columns.set(name, { dtype: "float64", values });
    } else {
      columns.set(name, column);
    }
  }
  return Frame.fromTypedColumns(frame.indexNames, columns, frame.length);
}

// ---------------------------------------------------------------------------------------------
// Index

function checkIndexNames(
  frame: Frame,
  options: ValidateFrameOptions,
  declared: ReadonlyMap<string, string>,
  issues: FrameIssue[],
): void {
  const names = frame.indexNames;
  const shown = list(names);
  const repeated = names.filter((name, i) => names.indexOf(name) !== i);
  if (repeated.length > 0) {
    issues.push({
      code: "index_names",
      message: `index names ${shown} repeat ${[...new Set(repeated)].map(quote).join(", ")}`,
    });
    return;
  }
  const expected = options.schema?.indexNames ?? options.indexNames ?? null;
  if (expected !== null) {
    if (names.length !== expected.length || names.some((name, i) => name !== expected[i])) {
      const whose = options.schema ? "the table's index" : "the declared index";
      issues.push({
        code: "index_names",
        message: `index names ${shown} differ from ${whose} ${list(expected)}`,
      });
    }
    return;
  }
  // The convention: (time_index) or (time_index, unique_identifier, ...). A record naming an
  // index column is a declaration, and overrides the convention for that position.
  const time = names[0];
  if (time !== undefined && time !== TIME_INDEX) {
    const dtype = declared.get(time);
    if (dtype === undefined || safeToken(dtype) !== "timestamp with time zone") {
      issues.push({
        code: "index_names",
        column: time,
        message: `index names ${shown}: the time index must be named '${TIME_INDEX}' (or be declared by a record with dtype 'timestamp with time zone')`,
      });
    }
  }
  const identity = names[1];
  if (identity !== undefined && identity !== UNIQUE_IDENTIFIER && !declared.has(identity)) {
    issues.push({
      code: "index_names",
      column: identity,
      message: `index names ${shown}: the first identity dimension must be named '${UNIQUE_IDENTIFIER}' (or be declared by a record)`,
    });
  }
}

function checkTimeIndex(frame: Frame, issues: FrameIssue[]): void {
  const name = frame.timeIndexName;
  const dtype = frame.getColumn(name).dtype;
  if (dtype !== "timestamptz") {
    issues.push({
      code: "time_index_not_utc",
      column: name,
      message: `time index '${name}' must hold UTC instants (timestamptz), but it is ${dtype}`,
    });
  }
}

function checkNullIndexValues(frame: Frame, issues: FrameIssue[]): void {
  for (const name of frame.indexNames) {
    const column = frame.getColumn(name);
    const rows = new RowList();
    for (let i = 0; i < frame.length; i++) if (cellValue(column, i) === null) rows.add(i);
    if (rows.count > 0) {
      const what = name === frame.timeIndexName ? "time index" : "identity dimension";
      issues.push({
        code: "null_index_value",
        column: name,
        rows: rows.rows,
        message: `${what} '${name}': ${rows.count} value(s) are null (${rows.text()})`,
      });
    }
  }
}

/**
 * The coordinate (identity values) of a row as a Map key, or null when a value is null. An
 * int64 cell has one representation (a number when safe, else a bigint), so equal coordinates
 * give equal keys; bigints are written as JSON integers.
 */
function coordinateKey(dims: readonly Column[], i: number): unknown {
  if (dims.length === 0) return "";
  if (dims.length === 1) return cellValue(dims[0]!, i);
  const cells = dims.map((column) => cellValue(column, i));
  if (cells.some((cell) => cell === null)) return null;
  // No exception per row on the rare bigint coordinates: they take the exact writer directly.
  return cells.some((cell) => typeof cell === "bigint") ? writeJson(cells) : JSON.stringify(cells);
}

/**
 * Fast test for a repeated index key: rows are grouped by coordinate with a counting sort, and a
 * group needs sorting only when its instants are not already strictly increasing. Linear on the
 * usual time-ordered frames.
 */
function hasDuplicateIndex(frame: Frame, dims: readonly Column[]): boolean {
  const n = frame.length;
  const time = frame.time;
  const ids = new Int32Array(n);
  const idOf = new Map<unknown, number>();
  for (let i = 0; i < n; i++) {
    const key = coordinateKey(dims, i);
    if (key === null || Number.isNaN(time[i]!)) {
      ids[i] = -1;
      continue;
    }
    let id = idOf.get(key);
    if (id === undefined) {
      id = idOf.size;
      idOf.set(key, id);
    }
    ids[i] = id;
  }
  const starts = new Int32Array(idOf.size + 1);
  for (let i = 0; i < n; i++) if (ids[i]! >= 0) starts[ids[i]! + 1]!++;
  for (let k = 0; k < idOf.size; k++) starts[k + 1]! += starts[k]!;
  const grouped = new Float64Array(starts[idOf.size]!);
  const fill = starts.slice(0, idOf.size);
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    if (id >= 0) grouped[fill[id]!++] = time[i]!;
  }
  for (let k = 0; k < idOf.size; k++) {
    let group = grouped.subarray(starts[k]!, starts[k + 1]!);
    let sorted = true;
    for (let j = 1; j < group.length; j++) {
      if (group[j]! <= group[j - 1]!) {
        sorted = false;
        break;
      }
    }
    if (sorted) continue;
    group = group.slice().sort();
    for (let j = 1; j < group.length; j++) if (group[j] === group[j - 1]) return true;
  }
  return false;
}

function checkDuplicateIndex(frame: Frame, issues: FrameIssue[]): void {
  const issue = duplicateIndexIssue(frame);
  if (issue) issues.push(issue);
}

/**
 * The `duplicate_index` issue of a frame whose full index repeats, or `null`. Linear in the
 * frame (a counting pass over typed arrays); the keyed pass that names the rows runs only when a
 * duplicate exists.
 *
 * @example
 * ```ts
 * duplicateIndexIssue(frame)?.message; // "1 row(s) repeat the index key of an earlier row ..."
 * ```
 */
export function duplicateIndexIssue(frame: Frame): FrameIssue | null {
  const time = frame.time;
  const dims = frame.identityDimensions.map((name) => frame.getColumn(name));
  if (!hasDuplicateIndex(frame, dims)) return null;
  // Slow path, only when a duplicate exists: find every repeated row and its first occurrence.
  const seen = new Map<unknown, Map<number, number>>();
  const rows = new RowList();
  let example = "";
  for (let i = 0; i < frame.length; i++) {
    const t = time[i]!;
    if (Number.isNaN(t)) continue; // reported as null_index_value
    const coordinate = coordinateKey(dims, i);
    if (coordinate === null) continue; // reported as null_index_value
    let times = seen.get(coordinate);
    if (!times) {
      times = new Map();
      seen.set(coordinate, times);
    }
    const first = times.get(t);
    if (first === undefined) {
      times.set(t, i);
      continue;
    }
    if (rows.count === 0) {
      const shownKey = frame.indexNames
        .map((name) => {
          const column = frame.getColumn(name);
          return `${name}=${showValue(cellValue(column, i), column.dtype)}`;
        })
        .join(", ");
      example = `row ${i} repeats row ${first} at (${shownKey})`;
    }
    rows.add(i);
  }
  if (rows.count === 0) return null;
  return {
    code: "duplicate_index",
    rows: rows.rows,
    message: `${rows.count} row(s) repeat the index key of an earlier row (${rows.text()}); first: ${example}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Columns

/** Python's `str.islower()`: at least one cased character and no upper- or title-case one. */
export function isPythonLower(text: string): boolean {
  return /\p{Lowercase}/u.test(text) && !/[\p{Uppercase}\p{Lt}]/u.test(text);
}

function checkColumnNames(frame: Frame, issues: FrameIssue[]): void {
  for (const name of frame.columnNames) {
    if (!isPythonLower(name)) {
      issues.push({
        code: "uppercase_column",
        column: name,
        message: `column name ${quote(name)} must be a lowercase string (at least one lowercase letter and no uppercase letters)`,
      });
    }
    const length = [...name].length;
    if (length > MAX_COLUMN_NAME_LENGTH) {
      issues.push({
        code: "column_name_too_long",
        column: name,
        message: `column name ${quote(name)} has ${length} characters; it must be ${MAX_COLUMN_NAME_LENGTH} characters or fewer`,
      });
    }
  }
}

function checkDatetimeValueColumns(
  frame: Frame,
  declared: ReadonlyMap<string, string>,
  schema: TableSchema | null,
  issues: FrameIssue[],
): void {
  for (const name of frame.valueColumns) {
    const dtype = frame.getColumn(name).dtype;
    if (dtype !== "timestamptz" && dtype !== "date") continue;
    // A record declaring the column is checked (and reported) by the record rules instead.
    if (declared.has(name) || schema?.columnDtypes[name] === dtype) continue;
    const token = dtype === "date" ? "date" : "timestamp with time zone";
    issues.push({
      code: "datetime_value_column",
      column: name,
      message: `value column '${name}' is ${dtype}: time goes in the index; store it as a number or declare it with a record of dtype '${token}'`,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Records

/** Frame dtypes a declared token accepts. */
const ACCEPTED_DTYPES: Readonly<Record<DtypeToken, readonly DType[]>> = {
  date: ["date"],
  "timestamp with time zone": ["timestamptz"],
  "datetime64[ns]": [],
  string: ["string"],
  uuid: ["string"],
  // The reference only checks that each value is JSON-serialisable, whatever the column holds;
  // instants are not JSON values.
  json: ["json", "string", "float64", "int64", "bool"],
  jsonb: ["json", "string", "float64", "int64", "bool"],
  bool: ["bool"],
  int16: ["int64"],
  int32: ["int64"],
  int64: ["int64"],
  float32: ["float64"],
  float64: ["float64"],
  numeric: ["float64"],
};

const INT_RANGES: Partial<Record<DtypeToken, readonly [number, number]>> = {
  int16: [-32_768, 32_767],
  int32: [-2_147_483_648, 2_147_483_647],
};

function checkRecords(
  frame: Frame,
  records: readonly RecordDeclaration[],
  issues: FrameIssue[],
): void {
  if (records.length === 0) return;
  const missing = records.map((r) => r.column_name).filter((name) => !frame.has(name));
  if (missing.length > 0) {
    issues.push({
      code: "missing_record_column",
      message: `declared record column(s) missing from the frame: ${missing.map(quote).join(", ")} (frame columns: ${frame.columnNames.join(", ")})`,
    });
  }
  for (const record of records) {
    const name = record.column_name;
    let token: string;
    try {
      token = normalizeDtypeToken(record.dtype);
    } catch {
      issues.push({
        code: "unknown_dtype",
        column: name,
        message: `record '${name}' has an empty dtype`,
      });
      continue;
    }
    if (!isDtypeToken(token)) {
      issues.push({
        code: "unknown_dtype",
        column: name,
        message: `record '${name}' declares dtype ${quote(record.dtype)}, which is not a known dtype token (known: ${DTYPE_TOKENS.join(", ")})`,
      });
      continue;
    }
    if (!frame.has(name)) continue;
    const column = frame.getColumn(name);
    if (token === "datetime64[ns]") {
      issues.push({
        code: "record_dtype_mismatch",
        column: name,
        message: `record '${name}' declares dtype ${quote(record.dtype)}, a naive datetime; tdag instants are UTC: declare 'timestamp with time zone'`,
      });
      continue;
    }
    const accepted = ACCEPTED_DTYPES[token];
    if (!accepted.includes(column.dtype)) {
      const one = accepted.length === 1 ? accepted[0]! : undefined;
      const needed = one
        ? `${/^[aeiou]/.test(one) ? "an" : "a"} ${one} column`
        : "a non-datetime column";
      const hint =
        one && name !== frame.timeIndexName ? ` (build it with dtypes: { ${name}: "${one}" })` : "";
      issues.push({
        code: "record_dtype_mismatch",
        column: name,
        message: `column '${name}' is ${column.dtype}, but its record declares dtype '${token}', which needs ${needed}${hint}`,
      });
      continue;
    }
    checkRecordValues(frame, name, column, token, issues);
  }
}

function checkRecordValues(
  frame: Frame,
  name: string,
  column: Column,
  token: DtypeToken,
  issues: FrameIssue[],
): void {
  const rows = new RowList();
  let first = "";
  let what = "";
  const bad = (row: number, shown: string) => {
    if (rows.count === 0) first = shown;
    rows.add(row);
  };
  if (token === "json" || token === "jsonb") {
    what = "are not JSON-serialisable";
    for (let i = 0; i < frame.length; i++) {
      const v = cellValue(column, i);
      if (v === null) continue;
      const problem = jsonProblem(v, "$", new Set());
      if (problem !== undefined) bad(i, problem);
    }
  } else if (token === "uuid") {
    what = "are not UUIDs";
    for (let i = 0; i < frame.length; i++) {
      const v = cellValue(column, i);
      if (v !== null && !isUuid(v as string)) bad(i, JSON.stringify(v));
    }
  } else {
    const range = INT_RANGES[token];
    if (range === undefined) return;
    what = `are outside the ${token} range [${range[0]}, ${range[1]}]`;
    for (let i = 0; i < frame.length; i++) {
      const v = cellValue(column, i) as number | null;
      if (v !== null && (v < range[0] || v > range[1])) bad(i, String(v));
    }
  }
  if (rows.count > 0) {
    issues.push({
      code: "invalid_record_value",
      column: name,
      rows: rows.rows,
      message: `column '${name}' (declared '${token}'): ${rows.count} value(s) ${what} (${rows.text()}; first: ${first})`,
    });
  }
}

/**
 * Why a value cannot be written as JSON (Python `json.dumps(allow_nan=False)`), or undefined.
 * Only null, booleans, finite numbers, strings, arrays and plain objects are JSON values.
 */
function jsonProblem(value: unknown, path: string, seen: Set<object>): string | undefined {
  if (value === null || typeof value === "boolean" || typeof value === "string") return undefined;
  if (typeof value === "number") {
    return Number.isFinite(value) ? undefined : `${String(value)} at ${path}`;
  }
  if (typeof value !== "object") return `${describeType(value)} at ${path}`;
  if (seen.has(value)) return `a circular reference at ${path}`;
  if (Array.isArray(value)) {
    seen.add(value);
    for (let i = 0; i < value.length; i++) {
      const problem = jsonProblem(value[i], `${path}[${i}]`, seen);
      if (problem !== undefined) return problem;
    }
    seen.delete(value);
    return undefined;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    const ctor = (value as { constructor?: { name?: string } }).constructor?.name ?? "object";
    return `a ${ctor} at ${path}`;
  }
  seen.add(value);
  for (const [key, item] of Object.entries(value)) {
    const problem = jsonProblem(item, `${path}.${key}`, seen);
    if (problem !== undefined) return problem;
  }
  seen.delete(value);
  return undefined;
}

function describeType(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "bigint") return `a bigint (${value}n)`;
  return `a ${typeof value}`;
}

/** Python `uuid.UUID(text)`: optional `urn:`/`uuid:` prefix and braces, hyphens anywhere, 32 hex digits. */
function isUuid(text: string): boolean {
  const hex = text
    .replace("urn:", "")
    .replace("uuid:", "")
    .replace(/^\{+|\}+$/g, "")
    .replaceAll("-", "");
  return /^[0-9a-fA-F]{32}$/.test(hex);
}

// ---------------------------------------------------------------------------------------------
// Schema

function checkSchemaDtypes(frame: Frame, schema: TableSchema | null, issues: FrameIssue[]): void {
  if (schema === null) return;
  for (const name of frame.columnNames) {
    const stored = schema.columnDtypes[name];
    const dtype = frame.getColumn(name).dtype;
    if (stored !== undefined && stored !== dtype) {
      issues.push({
        code: "schema_dtype_mismatch",
        column: name,
        message: `column '${name}' is ${dtype}, but the table stores it as ${stored} (dtypes must stay the same across runs)`,
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** The first offending rows of an issue and how many there were in all. */
class RowList {
  readonly rows: number[] = [];
  count = 0;

  add(row: number): void {
    this.count++;
    if (this.rows.length < MAX_ISSUE_ROWS) this.rows.push(row);
  }

  text(): string {
    const more = this.count > this.rows.length ? ", ..." : "";
    // "rows" even for one, as the construction errors say it.
    return `rows ${this.rows.join(", ")}${more}`;
  }
}

function safeToken(dtype: string): string | undefined {
  try {
    return normalizeDtypeToken(dtype);
  } catch {
    return undefined;
  }
}

function quote(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

function list(names: readonly string[]): string {
  return `[${names.join(", ")}]`;
}

function showValue(value: unknown, dtype: DType): string {
  if (value === null) return "null";
  if (dtype === "timestamptz") return microsToIso(value as number);
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object") return stringifyJson(value);
  return String(value);
}

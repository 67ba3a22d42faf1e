import { type FrameIssue, FrameValidationError } from "../errors.js";
import {
  buildColumn,
  cellValue,
  concatColumns,
  emptyColumn,
  inferDType,
  takeColumn,
} from "./column-builder.js";
import type { Column, ColumnStorage, DType } from "./dtypes.js";
import { stringifyJson } from "./exact-json.js";
import { formatFrameHtml, formatFrameText } from "./frame-format.js";
import { compareNumeric } from "./int64.js";
import { microsToDate, microsToIso } from "./time.js";

/** The default name of the time index. */
export const TIME_INDEX = "time_index";
/** The identity dimension of asset tables. */
export const UNIQUE_IDENTIFIER = "unique_identifier";

/** Options for building a frame. */
export interface FrameOptions {
  /**
   * The index: the time index first, then the identity dimensions. Default: `["time_index"]`,
   * plus `"unique_identifier"` when the input has that column.
   */
  readonly indexNames?: readonly string[];
  /** Dtypes for some or all columns; the rest are inferred from their first non-null value. */
  readonly dtypes?: Readonly<Record<string, DType>>;
}

/** How `toRecords()` represents instants. */
export interface RecordsOptions {
  /** `"date"` (default): `Date` objects; `"iso"`: RFC 3339 text keeping microseconds; `"micros"`: epoch microseconds. */
  readonly time?: "date" | "iso" | "micros";
}

/** A row as a plain object. */
export type FrameRecord = Record<string, unknown>;

/** What `update()` may return and `Frame.from()` accepts. */
export type FrameInput =
  | Frame
  | readonly FrameRecord[]
  | Readonly<Record<string, ArrayLike<unknown>>>
  | null
  | undefined;

/**
 * A small columnar table with a UTC time index (microsecond precision), optional identity
 * dimensions (`unique_identifier`, ...) and typed value columns. Frames are immutable:
 * every operation returns a new frame.
 *
 * An `int64` cell is a `number` when it is a safe integer and a `bigint` beyond ±(2^53 - 1)
 * (the full int64 range, exactly); building refuses unsafe numbers, fractions and values
 * outside int64, naming column and rows.
 *
 * @example
 * ```ts
 * const df = Frame.fromRecords([
 *   { time_index: "2024-01-01T00:00:00Z", unique_identifier: "AAPL", close: 185.2 },
 *   { time_index: "2024-01-01T00:00:00Z", unique_identifier: "MSFT", close: 370.9 },
 * ]);
 * df.indexNames; // ["time_index", "unique_identifier"]
 * df.column("close"); // Float64Array [185.2, 370.9]
 * ```
 */
export class Frame {
  readonly indexNames: readonly string[];
  readonly length: number;
  private readonly cols: ReadonlyMap<string, Column>;

  private constructor(indexNames: readonly string[], cols: Map<string, Column>, length: number) {
    this.indexNames = Object.freeze([...indexNames]);
    this.cols = cols;
    this.length = length;
  }

  /**
   * Builds a frame from typed columns without copying or checking values. The caller
   * guarantees every column has `length` values and index columns come first in `indexNames`.
   * Stores use it to hand over columns read from a database.
   */
  static fromTypedColumns(
    indexNames: readonly string[],
    columns: ReadonlyMap<string, Column> | Iterable<[string, Column]>,
    length?: number,
  ): Frame {
    const map = new Map(columns);
    const n = length ?? map.values().next().value?.values.length ?? 0;
    for (const name of indexNames) {
      if (!map.has(name)) throw new FrameValidationError([missingIndex(name)]);
    }
    for (const [name, col] of map) {
      if (col.values.length !== n) {
        throw new FrameValidationError([
          {
            code: "length_mismatch",
            column: name,
            message: `column '${name}' has ${col.values.length} values, expected ${n}`,
          },
        ]);
      }
    }
    return new Frame(indexNames, orderColumns(indexNames, map), n);
  }

  /**
   * Builds a frame from arrays of loose values, one per column.
   *
   * @example
   * ```ts
   * Frame.fromColumns({ time_index: [new Date("2024-01-01Z")], value: [1.5] });
   * ```
   */
  static fromColumns(
    columns: Readonly<Record<string, ArrayLike<unknown>>>,
    options: FrameOptions = {},
  ): Frame {
    const names = Object.keys(columns);
    const indexNames = options.indexNames ?? defaultIndexNames(names);
    const issues: FrameIssue[] = [];
    if (indexNames.length === 0) {
      issues.push({
        code: "index_names",
        message: "a frame needs an index: at least a time index",
      });
    }
    let length: number | undefined;
    for (const name of names) {
      const n = columns[name]!.length;
      if (length === undefined) length = n;
      else if (n !== length) {
        issues.push({
          code: "length_mismatch",
          column: name,
          message: `column '${name}' has ${n} values, but '${names[0]}' has ${length}`,
        });
      }
    }
    for (const name of indexNames) if (!(name in columns)) issues.push(missingIndex(name));
    if (issues.length > 0) throw new FrameValidationError(issues);
    const map = new Map<string, Column>();
    for (const name of names) {
      const values = columns[name]!;
      const isTime = name === indexNames[0];
      const dtype = isTime ? "timestamptz" : (options.dtypes?.[name] ?? inferDType(values));
      map.set(name, buildColumn(name, values, dtype, issues, isTime));
    }
    if (issues.length > 0) throw new FrameValidationError(issues);
    return new Frame(indexNames, orderColumns(indexNames, map), length ?? 0);
  }

  /**
   * Builds a frame from row objects. Columns are the union of the rows' keys, in first-seen
   * order; a key missing from a row is null there.
   *
   * @example
   * ```ts
   * Frame.fromRecords([{ time_index: new Date("2024-01-01Z"), random_number: 0.42 }]);
   * ```
   */
  static fromRecords(records: readonly FrameRecord[], options: FrameOptions = {}): Frame {
    const names: string[] = [];
    const seen = new Set<string>();
    for (const row of records) {
      for (const key of Object.keys(row)) {
        if (!seen.has(key)) {
          seen.add(key);
          names.push(key);
        }
      }
    }
    if (records.length === 0) {
      for (const name of options.indexNames ?? [TIME_INDEX]) names.push(name);
    }
    const columns: Record<string, unknown[]> = {};
    for (const name of names) {
      const values = new Array<unknown>(records.length);
      for (let i = 0; i < records.length; i++) values[i] = records[i]![name];
      columns[name] = values;
    }
    return Frame.fromColumns(columns, options);
  }

  /**
   * Accepts whatever `update()` returned: a frame (returned as is), row objects, or a columns
   * object. `null`/`undefined` and empty inputs give an empty frame.
   */
  static from(input: FrameInput, options: FrameOptions = {}): Frame {
    if (input instanceof Frame) return input;
    if (input === null || input === undefined) return Frame.empty(options.indexNames);
    if (Array.isArray(input)) return Frame.fromRecords(input as readonly FrameRecord[], options);
    if (Object.keys(input).length === 0) return Frame.empty(options.indexNames);
    return Frame.fromColumns(input as Readonly<Record<string, ArrayLike<unknown>>>, options);
  }

  /** A frame with no rows and only its index columns. */
  static empty(indexNames: readonly string[] = [TIME_INDEX]): Frame {
    const map = new Map<string, Column>();
    indexNames.forEach((name, i) => {
      map.set(name, emptyColumn(i === 0 ? "timestamptz" : "string", 0));
    });
    return new Frame(indexNames, map, 0);
  }

  /** Concatenates frames with the same index names; columns are unioned (missing cells are null). */
  static concat(frames: readonly Frame[]): Frame {
    const first = frames[0];
    if (!first) return Frame.empty();
    const dtypes = new Map<string, DType>();
    for (const f of frames) {
      if (f.indexNames.join("\u0000") !== first.indexNames.join("\u0000")) {
        throw new FrameValidationError([
          {
            code: "index_mismatch",
            message: `cannot concatenate frames indexed by [${first.indexNames.join(", ")}] and [${f.indexNames.join(", ")}]`,
          },
        ]);
      }
      for (const [name, col] of f.cols) {
        const known = dtypes.get(name);
        if (known === undefined) dtypes.set(name, col.dtype);
        else if (known !== col.dtype) {
          throw new FrameValidationError([
            {
              code: "dtype_mismatch",
              column: name,
              message: `column '${name}' is ${known} in one frame and ${col.dtype} in another`,
            },
          ]);
        }
      }
    }
    const map = new Map<string, Column>();
    for (const [name, dtype] of dtypes) {
      map.set(
        name,
        concatColumns(
          dtype,
          frames.map((f) => f.cols.get(name) ?? emptyColumn(dtype, f.length)),
        ),
      );
    }
    return new Frame(
      first.indexNames,
      map,
      frames.reduce((s, f) => s + f.length, 0),
    );
  }

  /** The name of the time index (the first index name). */
  get timeIndexName(): string {
    return this.indexNames[0]!;
  }

  /** The identity dimensions: the index names after the time index. */
  get identityDimensions(): readonly string[] {
    return this.indexNames.slice(1);
  }

  /** All column names, index columns first. */
  get columnNames(): readonly string[] {
    return [...this.cols.keys()];
  }

  /** The non-index column names. */
  get valueColumns(): readonly string[] {
    const index = new Set(this.indexNames);
    return this.columnNames.filter((name) => !index.has(name));
  }

  /** Each column's dtype. */
  get dtypes(): Readonly<Record<string, DType>> {
    const out: Record<string, DType> = {};
    for (const [name, col] of this.cols) out[name] = col.dtype;
    return out;
  }

  /** True when the frame has no rows. */
  get isEmpty(): boolean {
    return this.length === 0;
  }

  /** The time index as epoch microseconds. */
  get time(): Float64Array {
    return this.cols.get(this.timeIndexName)!.values as Float64Array;
  }

  /** True when the frame has a column of that name (index columns included). */
  has(name: string): boolean {
    return this.cols.has(name);
  }

  /**
   * A column's values (index columns included). Throws when the column does not exist.
   *
   * @example
   * ```ts
   * const closes = df.column("close") as Float64Array;
   * const ids = df.column("id") as (number | bigint | null)[]; // an int64 column
   * ```
   */
  column(name: string): Column["values"] {
    return this.getColumn(name).values;
  }

  /** A column with its dtype. Throws a `FrameValidationError` naming the column when absent. */
  getColumn(name: string): Column {
    const col = this.cols.get(name);
    if (!col) {
      throw new FrameValidationError([
        {
          code: "unknown_column",
          column: name,
          message: `no column '${name}' (columns: ${this.columnNames.join(", ")})`,
        },
      ]);
    }
    return col;
  }

  /** A column's values when it has the expected dtype. */
  typedColumn<D extends DType>(name: string, dtype: D): ColumnStorage[D] {
    const col = this.getColumn(name);
    if (col.dtype !== dtype) {
      throw new FrameValidationError([
        {
          code: "dtype_mismatch",
          column: name,
          message: `column '${name}' is ${col.dtype}, not ${dtype}`,
        },
      ]);
    }
    return col.values as ColumnStorage[D];
  }

  /**
   * One cell as a plain value (instants as epoch microseconds, missing as null; an int64 cell is
   * a number when safe, else a bigint).
   */
  cell(name: string, row: number): unknown {
    return cellValue(this.getColumn(name), row);
  }

  /** The rows at `indices`, in that order. */
  take(indices: ArrayLike<number>): Frame {
    const map = new Map<string, Column>();
    for (const [name, col] of this.cols) map.set(name, takeColumn(col, indices));
    return new Frame(this.indexNames, map, indices.length);
  }

  /** The rows for which `predicate(row)` is true. */
  filterRows(predicate: (row: number) => boolean): Frame {
    const keep: number[] = [];
    for (let i = 0; i < this.length; i++) if (predicate(i)) keep.push(i);
    return keep.length === this.length ? this : this.take(keep);
  }

  /** The first `n` rows. */
  head(n = 5): Frame {
    const count = Math.min(n, this.length);
    return this.take(Array.from({ length: count }, (_, i) => i));
  }

  /** Keeps the index columns and the given value columns. */
  select(columns: readonly string[]): Frame {
    const map = new Map<string, Column>();
    for (const name of this.indexNames) map.set(name, this.cols.get(name)!);
    for (const name of columns) map.set(name, this.getColumn(name));
    return new Frame(this.indexNames, map, this.length);
  }

  /** Returns a frame with one column replaced or added. */
  withColumn(name: string, column: Column): Frame {
    if (column.values.length !== this.length) {
      throw new FrameValidationError([
        {
          code: "length_mismatch",
          column: name,
          message: `column '${name}' has ${column.values.length} values, expected ${this.length}`,
        },
      ]);
    }
    const map = new Map(this.cols);
    map.set(name, column);
    return new Frame(this.indexNames, map, this.length);
  }

  /** Row positions sorted by the index (time first, then each dimension), stable. */
  indexOrder(): number[] {
    const order = Array.from({ length: this.length }, (_, i) => i);
    const keys = this.indexNames.map((name) => this.cols.get(name)!);
    order.sort((a, b) => {
      for (const col of keys) {
        const c = compareCells(col.values[a], col.values[b]);
        if (c !== 0) return c;
      }
      return a - b;
    });
    return order;
  }

  /** The frame sorted by its index (returns itself when already sorted). */
  sortByIndex(): Frame {
    const order = this.indexOrder();
    return order.every((v, i) => v === i) ? this : this.take(order);
  }

  /**
   * The rows as plain objects (int64 cells as numbers when safe, bigints beyond ±(2^53 - 1)).
   *
   * @example
   * ```ts
   * df.toRecords({ time: "iso" }); // [{ time_index: "2024-01-01T00:00:00Z", close: 185.2 }]
   * ```
   */
  toRecords(options: RecordsOptions = {}): FrameRecord[] {
    const mode = options.time ?? "date";
    const entries = [...this.cols];
    const out: FrameRecord[] = new Array(this.length);
    for (let i = 0; i < this.length; i++) {
      const row: FrameRecord = {};
      for (const [name, col] of entries) {
        const v = cellValue(col, i);
        row[name] =
          col.dtype === "timestamptz" && v !== null ? convertInstant(v as number, mode) : v;
      }
      out[i] = row;
    }
    return out;
  }

  /** The columns as plain arrays, instants converted as in `toRecords`. */
  toColumns(options: RecordsOptions = {}): Record<string, unknown[]> {
    const mode = options.time ?? "date";
    const out: Record<string, unknown[]> = {};
    for (const [name, col] of this.cols) {
      const values: unknown[] = new Array(this.length);
      for (let i = 0; i < this.length; i++) {
        const v = cellValue(col, i);
        values[i] =
          col.dtype === "timestamptz" && v !== null ? convertInstant(v as number, mode) : v;
      }
      out[name] = values;
    }
    return out;
  }

  /** A text table of the first rows, for terminals and logs. */
  toString(maxRows = 20): string {
    return formatFrameText(this, maxRows);
  }

  /** An HTML table of the first rows (escaped; index values as row headers), for notebooks and reports. */
  toHtml(maxRows = 50): string {
    return formatFrameHtml(this, maxRows);
  }

  /** Rich display for Jupyter-style notebook kernels (tslab, Deno): an HTML table. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return { "text/html": formatFrameHtml(this), "text/plain": formatFrameText(this, 20) };
  }
}

function convertInstant(micros: number, mode: "date" | "iso" | "micros"): unknown {
  if (mode === "micros") return micros;
  if (mode === "iso") return microsToIso(micros);
  return microsToDate(micros);
}

function compareCells(a: unknown, b: unknown): number {
  const aNull = a === null || a === undefined || (typeof a === "number" && Number.isNaN(a));
  const bNull = b === null || b === undefined || (typeof b === "number" && Number.isNaN(b));
  if (aNull || bNull) return aNull === bNull ? 0 : aNull ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  // int64 cells mix numbers and bigints (see int64.ts): compared exactly, never as text.
  if (isNumeric(a) && isNumeric(b)) return compareNumeric(a, b);
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  const sa = typeof a === "string" ? a : stringifyJson(a);
  const sb = typeof b === "string" ? b : stringifyJson(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function isNumeric(value: unknown): value is number | bigint {
  return typeof value === "number" || typeof value === "bigint";
}

function defaultIndexNames(columns: readonly string[]): string[] {
  return columns.includes(UNIQUE_IDENTIFIER) ? [TIME_INDEX, UNIQUE_IDENTIFIER] : [TIME_INDEX];
}

function missingIndex(name: string): FrameIssue {
  return {
    code: "missing_index_column",
    column: name,
    message: `index column '${name}' is missing`,
  };
}

function orderColumns(
  indexNames: readonly string[],
  map: Map<string, Column>,
): Map<string, Column> {
  const ordered = new Map<string, Column>();
  for (const name of indexNames) ordered.set(name, map.get(name)!);
  for (const [name, col] of map) if (!ordered.has(name)) ordered.set(name, col);
  return ordered;
}

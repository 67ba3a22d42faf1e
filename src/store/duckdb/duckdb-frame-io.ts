import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBAppender,
  DuckDBDataChunk,
  type DuckDBMaterializedResult,
  type DuckDBType,
  DuckDBVector,
  VARCHAR,
} from "@duckdb/node-api";
import type { Column, DType } from "../../frame/dtypes.js";
import { stringifyJson } from "../../frame/exact-json.js";
import { Frame } from "../../frame/frame.js";
import { int64FromBigInt } from "../../frame/int64.js";
import type { TypedColumn } from "../sql/sql-session.js";

/**
 * The staging (appender) type of a column. Numbers and instants are staged as DOUBLE straight
 * from the frame's Float64Arrays (epoch micros and safe integers are exact in a double) and
 * converted once, in SQL, by the session; this keeps BigInt and value objects off the hot path.
 * An int64 column holding a bigint (a value beyond ±(2^53 - 1), which a double would round) is
 * staged as BIGINT instead, exactly; the scan for one stops at the first bigint.
 *
 * @example
 * ```ts
 * stagingType("int64", [1, null]); // DOUBLE
 * stagingType("int64", [1, 2n ** 62n]); // BIGINT
 * ```
 */
export function stagingType(dtype: DType, values: Column["values"]): DuckDBType {
  switch (dtype) {
    case "int64":
      return (values as ArrayLike<unknown> as unknown[]).some((v) => typeof v === "bigint")
        ? BIGINT
        : DOUBLE;
    case "float64":
    case "timestamptz":
      return DOUBLE;
    case "bool":
      return BOOLEAN;
    default:
      return VARCHAR;
  }
}

type Setter = (vector: DuckDBVector, values: Column["values"], offset: number, n: number) => void;

// Vectors are written item by item (DuckDB copies them into native memory on flush); the
// loops stay monomorphic per dtype so V8 keeps them fast.
const setNumbers: Setter = (vector, values, offset, n) => {
  const src = values as Float64Array;
  const v = vector as DuckDBVector<number>;
  for (let i = 0; i < n; i++) {
    const x = src[offset + i]!;
    v.setItem(i, Number.isNaN(x) ? null : x);
  }
};
const setNullableNumbers: Setter = (vector, values, offset, n) => {
  const src = values as (number | null)[];
  const v = vector as DuckDBVector<number>;
  for (let i = 0; i < n; i++) v.setItem(i, src[offset + i] ?? null);
};
const setBigInts: Setter = (vector, values, offset, n) => {
  const src = values as (number | bigint | null)[];
  const v = vector as DuckDBVector<bigint>;
  for (let i = 0; i < n; i++) {
    const x = src[offset + i];
    v.setItem(i, x === null || x === undefined ? null : typeof x === "bigint" ? x : BigInt(x));
  }
};
const setBooleans: Setter = (vector, values, offset, n) => {
  const src = values as (boolean | null)[];
  const v = vector as DuckDBVector<boolean>;
  for (let i = 0; i < n; i++) v.setItem(i, src[offset + i] ?? null);
};
const setStrings: Setter = (vector, values, offset, n) => {
  const src = values as (string | null)[];
  const v = vector as DuckDBVector<string>;
  for (let i = 0; i < n; i++) v.setItem(i, src[offset + i] ?? null);
};
const setJson: Setter = (vector, values, offset, n) => {
  const src = values as unknown[];
  const v = vector as DuckDBVector<string>;
  for (let i = 0; i < n; i++) {
    const x = src[offset + i];
    v.setItem(i, x === null || x === undefined ? null : stringifyJson(x));
  }
};

function setterFor(dtype: DType, staged: DuckDBType): Setter {
  switch (dtype) {
    case "float64":
    case "timestamptz":
      return setNumbers;
    case "int64":
      return staged.typeId === BIGINT.typeId ? setBigInts : setNullableNumbers;
    case "bool":
      return setBooleans;
    case "json":
      return setJson;
    default:
      return setStrings;
  }
}

/**
 * Appends a frame's columns (in `columns` order) to a staging table through DuckDB data chunks of
 * the standard vector size: one native call per vector instead of one per cell. `types` are the
 * columns' staging types ({@link stagingType}), as the staging table was created with them.
 */
export function appendFrame(
  appender: DuckDBAppender,
  frame: Frame,
  columns: readonly TypedColumn[],
  types: readonly DuckDBType[],
): void {
  const chunk = DuckDBDataChunk.create([...types]);
  const sources = columns.map((c) => frame.getColumn(c.name).values);
  const setters = columns.map((c, k) => setterFor(c.dtype, types[k]!));
  const size = DuckDBVector.standardSize();
  for (let offset = 0; offset < frame.length; offset += size) {
    const n = Math.min(size, frame.length - offset);
    chunk.reset();
    chunk.rowCount = n;
    for (let k = 0; k < columns.length; k++) {
      const vector = chunk.getColumnVector(k);
      setters[k]!(vector, sources[k]!, offset, n);
      vector.flush();
    }
    appender.appendDataChunk(chunk);
  }
  appender.flushSync();
}

/**
 * Turns a materialized result whose columns were selected with `readExpression` into a frame:
 * numbers and instants go straight into Float64Arrays, JSON text is parsed.
 */
export function frameFromResult(
  result: DuckDBMaterializedResult,
  indexNames: readonly string[],
  columns: readonly TypedColumn[],
): Frame {
  const total = result.rowCount;
  const out = columns.map((c) => allocate(c.dtype, total));
  let row = 0;
  for (let ci = 0; ci < result.chunkCount; ci++) {
    const chunk = result.getChunk(ci);
    const n = chunk.rowCount;
    for (let k = 0; k < columns.length; k++) {
      readInto(columns[k]!.dtype, chunk.getColumnVector(k), out[k]!, row, n);
    }
    row += n;
  }
  const map = new Map<string, Column>();
  columns.forEach((c, k) => {
    map.set(c.name, { dtype: c.dtype, values: out[k]! } as Column);
  });
  return Frame.fromTypedColumns(indexNames, map, total);
}

function allocate(dtype: DType, n: number): Column["values"] {
  if (dtype === "float64" || dtype === "timestamptz") return new Float64Array(n);
  return new Array(n);
}

function readInto(
  dtype: DType,
  vector: DuckDBVector,
  target: Column["values"],
  offset: number,
  n: number,
): void {
  switch (dtype) {
    case "float64":
    case "timestamptz": {
      const t = target as Float64Array;
      const v = vector as DuckDBVector<number>;
      for (let i = 0; i < n; i++) t[offset + i] = v.getItem(i) ?? Number.NaN;
      return;
    }
    case "int64": {
      // Read as BIGINT (readExpression); a number when safe, the bigint beyond (int64.ts).
      const t = target as (number | bigint | null)[];
      const v = vector as DuckDBVector<bigint>;
      for (let i = 0; i < n; i++) {
        const x = v.getItem(i);
        t[offset + i] = x === null ? null : int64FromBigInt(x);
      }
      return;
    }
    case "json": {
      const t = target as unknown[];
      const v = vector as DuckDBVector<string>;
      for (let i = 0; i < n; i++) {
        const s = v.getItem(i);
        t[offset + i] = s === null ? null : JSON.parse(s);
      }
      return;
    }
    default: {
      const t = target as unknown[];
      for (let i = 0; i < n; i++) t[offset + i] = vector.getItem(i);
    }
  }
}

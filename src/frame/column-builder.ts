import type { FrameIssue, FrameIssueCode } from "../errors.js";
import type { Column, DType } from "./dtypes.js";
import { INT64_MAX, INT64_MIN, type Int64, int64FromBigInt } from "./int64.js";
import { parseInstant } from "./time.js";

/** How many offending rows an issue lists. */
export const MAX_ISSUE_ROWS = 5;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value instanceof Date) return "Date";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Picks a dtype from the first non-null value of a column. */
export function inferDType(values: ArrayLike<unknown>): DType {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    if (typeof v === "number") return "float64";
    if (typeof v === "bigint") return "int64";
    if (typeof v === "boolean") return "bool";
    if (typeof v === "string") return "string";
    if (v instanceof Date) return "timestamptz";
    if (typeof v === "object" && "toMillis" in v) return "timestamptz";
    return "json";
  }
  return "float64";
}

class IssueCollector {
  private rows: number[] = [];
  private count = 0;
  private firstValue: unknown;

  /** `showNumbers`: the first value is shown as a number (`1.5`, `9007199254740992`, `2n`). */
  constructor(private readonly showNumbers = false) {}

  add(row: number, value: unknown): void {
    if (this.count === 0) this.firstValue = value;
    this.count++;
    if (this.rows.length < MAX_ISSUE_ROWS) this.rows.push(row);
  }

  issue(code: FrameIssueCode, column: string, what: string): FrameIssue | undefined {
    if (this.count === 0) return undefined;
    const shown = this.rows.join(", ");
    const v = this.firstValue;
    const first =
      typeof v === "string"
        ? JSON.stringify(v)
        : this.showNumbers && typeof v === "number"
          ? String(v)
          : this.showNumbers && typeof v === "bigint"
            ? `${v}n`
            : `a ${describe(v)}`;
    return {
      code,
      column,
      rows: this.rows,
      message: `column '${column}': ${this.count} value(s) ${what} (rows ${shown}${this.count > this.rows.length ? ", ..." : ""}; first: ${first})`,
    };
  }
}

/**
 * Builds a typed column from loose JS values, collecting (not throwing) every value that does
 * not fit the dtype. `timeIndex` makes null and naive instants errors too.
 */
export function buildColumn(
  name: string,
  values: ArrayLike<unknown>,
  dtype: DType,
  issues: FrameIssue[],
  timeIndex = false,
): Column {
  const n = values.length;
  const bad = new IssueCollector();
  switch (dtype) {
    case "float64": {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v === "number") out[i] = v;
        else if (v === null || v === undefined) out[i] = Number.NaN;
        else if (typeof v === "bigint") out[i] = Number(v);
        else {
          out[i] = Number.NaN;
          bad.add(i, v);
        }
      }
      push(issues, bad.issue("wrong_dtype", name, "are not numbers in a float64 column"));
      return { dtype, values: out };
    }
    case "int64": {
      // Numbers for safe integers (the common case: one typeof and one isSafeInteger per cell),
      // bigints only for the values a number cannot hold exactly (see int64.ts).
      const out: (Int64 | null)[] = new Array(n);
      const wrong = new IssueCollector(true);
      const unsafe = new IssueCollector(true);
      const outside = new IssueCollector(true);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v === "number") {
          if (Number.isSafeInteger(v)) out[i] = v;
          else {
            out[i] = null;
            // NaN is tdag's missing-value marker in numeric data (cellValue reads it as null).
            if (Number.isNaN(v)) continue;
            (Number.isInteger(v) ? unsafe : wrong).add(i, v);
          }
        } else if (v === null || v === undefined) out[i] = null;
        else if (typeof v === "bigint") {
          if (v >= INT64_MIN && v <= INT64_MAX) out[i] = int64FromBigInt(v);
          else {
            out[i] = null;
            outside.add(i, v);
          }
        } else {
          out[i] = null;
          wrong.add(i, v);
        }
      }
      push(issues, wrong.issue("wrong_dtype", name, "are not integers in an int64 column"));
      push(
        issues,
        unsafe.issue(
          "wrong_dtype",
          name,
          "are numbers beyond ±(2^53 - 1), where a JS number is no longer exact: pass these int64 values as bigints (e.g. 9007199254740993n)",
        ),
      );
      push(
        issues,
        outside.issue(
          "wrong_dtype",
          name,
          `are outside the int64 range [${INT64_MIN}, ${INT64_MAX}]`,
        ),
      );
      return { dtype, values: out };
    }
    case "bool": {
      const out: (boolean | null)[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v === "boolean") out[i] = v;
        else if (v === null || v === undefined) out[i] = null;
        else {
          out[i] = null;
          bad.add(i, v);
        }
      }
      push(issues, bad.issue("wrong_dtype", name, "are not booleans in a bool column"));
      return { dtype, values: out };
    }
    case "string": {
      const out: (string | null)[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v === "string") out[i] = v;
        else if (v === null || v === undefined) out[i] = null;
        else {
          out[i] = null;
          bad.add(i, v);
        }
      }
      push(issues, bad.issue("wrong_dtype", name, "are not strings in a string column"));
      return { dtype, values: out };
    }
    case "timestamptz": {
      const out = new Float64Array(n);
      const naive = new IssueCollector();
      const missing = new IssueCollector();
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) {
          out[i] = Number.NaN;
          if (timeIndex) missing.add(i, v ?? null);
          continue;
        }
        const parsed = parseInstant(v);
        if (parsed.ok) out[i] = parsed.micros;
        else {
          out[i] = Number.NaN;
          (parsed.reason === "naive" ? naive : bad).add(i, v);
        }
      }
      const prefix = timeIndex ? "time_index" : "timestamp";
      push(
        issues,
        naive.issue(
          `naive_${prefix}`,
          name,
          "have no time zone: give UTC instants (a Date, or ISO text with Z or an offset)",
        ),
      );
      push(issues, bad.issue(`invalid_${prefix}`, name, "are not valid instants"));
      push(issues, missing.issue("null_time_index", name, "are null in the time index"));
      return { dtype, values: out };
    }
    case "date": {
      const out: (string | null)[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) out[i] = null;
        else if (v instanceof Date && !Number.isNaN(v.getTime()))
          out[i] = v.toISOString().slice(0, 10);
        else if (typeof v === "string" && isValidDate(v)) out[i] = v;
        else {
          out[i] = null;
          bad.add(i, v);
        }
      }
      push(issues, bad.issue("wrong_dtype", name, "are not dates (YYYY-MM-DD or Date)"));
      return { dtype, values: out };
    }
    case "json": {
      const out: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        out[i] = v === undefined ? null : v;
      }
      return { dtype, values: out };
    }
  }
}

function isValidDate(text: string): boolean {
  const m = DATE_RE.exec(text);
  if (!m) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}

function push(issues: FrameIssue[], issue: FrameIssue | undefined): void {
  if (issue) issues.push(issue);
}

/** Allocates an empty column of a dtype with `n` null slots. */
export function emptyColumn(dtype: DType, n: number): Column {
  switch (dtype) {
    case "float64":
    case "timestamptz": {
      const values = new Float64Array(n);
      values.fill(Number.NaN);
      return { dtype, values } as Column;
    }
    default:
      return { dtype, values: new Array(n).fill(null) } as Column;
  }
}

/** Reads one cell as a plain JS value (NaN and null both mean missing). */
export function cellValue(column: Column, row: number): unknown {
  const v = column.values[row];
  if (typeof v === "number" && Number.isNaN(v)) return null;
  return v ?? null;
}

/** A new column holding the rows at `indices`, in that order. */
export function takeColumn(column: Column, indices: ArrayLike<number>): Column {
  const n = indices.length;
  if (column.values instanceof Float64Array) {
    const src = column.values;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = src[indices[i]!]!;
    return { dtype: column.dtype, values: out } as Column;
  }
  const src = column.values as unknown[];
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = src[indices[i]!];
  return { dtype: column.dtype, values: out } as Column;
}

/** Concatenates columns of the same dtype. */
export function concatColumns(dtype: DType, parts: readonly Column[]): Column {
  if (dtype === "float64" || dtype === "timestamptz") {
    const total = parts.reduce((s, p) => s + p.values.length, 0);
    const out = new Float64Array(total);
    let offset = 0;
    for (const p of parts) {
      out.set(p.values as Float64Array, offset);
      offset += p.values.length;
    }
    return { dtype, values: out } as Column;
  }
  const out: unknown[] = [];
  for (const p of parts) for (const v of p.values as unknown[]) out.push(v);
  return { dtype, values: out } as Column;
}

import { StoreError } from "../../errors.js";

/**
 * The logical type of a bound parameter; each session turns it into its driver's value:
 * `instant` is epoch microseconds bound as a timestamptz, `textList` a list of strings (or
 * nulls) bound as one array parameter.
 */
export type SqlParamType = "text" | "double" | "bigint" | "bool" | "instant" | "textList";

/**
 * The bound parameters of one statement, dialect-neutral: values with their logical types, and a
 * plain copy for error messages (`StoreError.params`). Placeholders are `$1`, `$2`, ... (DuckDB
 * and PostgreSQL both use them). No value ever reaches the SQL text.
 *
 * @example
 * ```ts
 * const p = new SqlParams();
 * const sql = `SELECT * FROM t WHERE name = ${p.text("AAPL")} AND time >= ${p.instant(micros)}`;
 * await session.rows(sql, p);
 * ```
 */
export class SqlParams {
  readonly values: unknown[] = [];
  readonly types: SqlParamType[] = [];
  readonly shown: unknown[] = [];

  /** Adds a parameter and returns its placeholder (`$n`). */
  bind(value: unknown, type: SqlParamType, shown: unknown = value): string {
    this.values.push(value);
    this.types.push(type);
    this.shown.push(shown);
    return `$${this.values.length}`;
  }

  /** Binds a string (or null). */
  text(value: string | null): string {
    return this.bind(value, "text");
  }

  /** Binds a float. */
  double(value: number | null): string {
    return this.bind(value, "double");
  }

  /** Binds a 64-bit integer (a safe integer or a bigint). */
  bigint(value: number | bigint, shown: unknown = value): string {
    return this.bind(typeof value === "bigint" ? value : BigInt(value), "bigint", shown);
  }

  /** Binds a boolean (or null). */
  bool(value: boolean | null): string {
    return this.bind(value, "bool");
  }

  /** Binds epoch microseconds as a timestamptz; `what` names the value in the error. */
  instant(micros: number, what = "instant"): string {
    if (!Number.isFinite(micros)) {
      throw new StoreError(
        "invalid_query",
        `${what} must be finite epoch microseconds, got ${String(micros)}`,
      );
    }
    return this.bind(Math.round(micros), "instant", micros);
  }

  /** Binds a list of strings (nulls allowed) as one array parameter. */
  textList(values: readonly (string | null)[]): string {
    return this.bind([...values], "textList");
  }
}

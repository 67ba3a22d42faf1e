import { StoreError } from "../../errors.js";

const LOCK_RE =
  /Could not set lock on file "([^"]+)"(?:: Conflicting lock is held in (.*?) \(PID (\d+)\))?/;

/**
 * Wraps an error thrown by DuckDB (a plain `Error`) into a {@link StoreError} that keeps the SQL,
 * the bound parameters and the original error as `cause`. StoreErrors pass through unchanged.
 */
export function wrapDuckDBError(
  error: unknown,
  sql?: string,
  params?: readonly unknown[],
  context?: string,
): StoreError {
  if (error instanceof StoreError) return error;
  const raw = error instanceof Error ? error.message : String(error);
  const head = context ? `${context}: ` : "";
  const options: { code: string; sql?: string; params?: readonly unknown[]; cause: unknown } = {
    code: classify(raw),
    cause: error,
  };
  if (sql !== undefined) options.sql = sql;
  if (params !== undefined) options.params = params;
  return new StoreError(`${head}${raw}`, options);
}

/**
 * The error for a database file another process holds open. DuckDB allows one writing process per
 * file; the message names the file and, when DuckDB reports it, the holder's PID.
 */
export function lockError(path: string, error: unknown): StoreError | undefined {
  const raw = error instanceof Error ? error.message : String(error);
  const m = LOCK_RE.exec(raw);
  if (!m) return undefined;
  const holder = m[3] ? ` by process ${m[3]}${m[2] ? ` (${m[2]})` : ""}` : " by another process";
  return new StoreError(
    `the DuckDB file ${path} is held${holder}; DuckDB allows one writing process per file. ` +
      "Stop that process, or open the store with { readOnly: true } once no process writes to it.",
    { code: "database_locked", cause: error },
  );
}

function classify(message: string): string {
  if (LOCK_RE.test(message)) return "database_locked";
  if (/Duplicate key .* violates (primary key|unique) constraint/.test(message))
    return "constraint_violation";
  if (/NOT NULL constraint failed/.test(message)) return "null_index_value";
  if (/^Conversion Error/.test(message)) return "conversion_error";
  if (/INTERRUPT/i.test(message)) return "aborted";
  return "store_error";
}

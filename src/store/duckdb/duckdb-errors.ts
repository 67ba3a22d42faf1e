import { StoreError, type StoreErrorCode } from "../../errors.js";

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
  return new StoreError(classify(raw), `${head}${raw}`, {
    cause: error,
    ...(sql === undefined ? {} : { sql }),
    ...(params === undefined ? {} : { params }),
  });
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
    "database_locked",
    `the DuckDB file ${path} is held${holder}; DuckDB allows one writing process per file. ` +
      "Stop that process, or open the store with { readOnly: true } once no process writes to it.",
    { cause: error },
  );
}

function classify(message: string): StoreErrorCode {
  if (LOCK_RE.test(message)) return "database_locked";
  if (/Duplicate key .* violates (primary key|unique) constraint/.test(message))
    return "constraint_violation";
  if (/NOT NULL constraint failed/.test(message)) return "null_index_value";
  if (/^Conversion Error/.test(message)) return "conversion_error";
  if (/INTERRUPT/i.test(message)) return "aborted";
  return "store_error";
}

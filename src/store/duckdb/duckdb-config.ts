import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Migration } from "../sql/sql-migrations.js";
import type { SqlStoreTestHooks } from "../sql/sql-store.js";

/** The environment variable that overrides where the DuckDB file lives. */
export const DUCKDB_PATH_ENV = "TDAG_DUCKDB_PATH";
/** Where the store lives by default, relative to the working directory. */
export const DEFAULT_DUCKDB_PATH = join(".tdag", "tdag.duckdb");
/** The path that opens a throw-away in-memory database (tests, notebooks). */
export const IN_MEMORY = ":memory:";

/** Options of {@link DuckDBStore.open}. */
export interface DuckDBStoreOptions {
  /**
   * The database file, or `":memory:"`. Default: `$TDAG_DUCKDB_PATH`, else
   * `<cwd>/.tdag/tdag.duckdb`. The parent directory is created when missing.
   */
  readonly path?: string;
  /** Opens the file read-only (several processes may then read it at once). */
  readonly readOnly?: boolean;
  /** @internal Failure injection for tests. */
  readonly testHooks?: SqlStoreTestHooks;
  /** @internal The schema steps to apply (tests of the migration mechanism pass their own). */
  readonly migrations?: readonly Migration[];
}

/**
 * Resolves the database path: the explicit option, else `TDAG_DUCKDB_PATH`, else
 * `<cwd>/.tdag/tdag.duckdb`. Relative paths are resolved against `cwd`.
 *
 * @example
 * ```ts
 * resolveDuckDBPath(undefined, {}, "/project"); // "/project/.tdag/tdag.duckdb"
 * ```
 */
export function resolveDuckDBPath(
  path?: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
): string {
  const chosen = path ?? nonEmpty(env[DUCKDB_PATH_ENV]) ?? DEFAULT_DUCKDB_PATH;
  return chosen === IN_MEMORY ? IN_MEMORY : resolve(cwd, chosen);
}

/** Creates the directory that will hold the database file (no-op in memory). */
export function ensureDatabaseDirectory(path: string): void {
  if (path !== IN_MEMORY) mkdirSync(dirname(path), { recursive: true });
}

/**
 * Instance options: extensions are never installed or loaded on demand, so opening a store
 * never touches the network (the json and icu extensions this build needs are statically
 * linked). The time zone is set to UTC per connection after opening.
 */
export function duckdbInstanceOptions(readOnly: boolean): Record<string, string> {
  const options: Record<string, string> = {
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
  };
  if (readOnly) options["access_mode"] = "READ_ONLY";
  return options;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== "" ? value : undefined;
}

/**
 * The embedded DuckDB store (`tdag/duckdb`): one local file, zero setup.
 *
 * @example
 * ```ts
 * import { DuckDBStore } from "tdag/duckdb";
 * const store = await DuckDBStore.open({ path: ":memory:" });
 * ```
 */
export {
  DEFAULT_DUCKDB_PATH,
  DUCKDB_PATH_ENV,
  type DuckDBStoreOptions,
  IN_MEMORY,
  resolveDuckDBPath,
} from "./duckdb-config.js";
export { DuckDBStore } from "./duckdb-store.js";

import { existsSync } from "node:fs";
import { StoreError, type TdagError } from "../errors.js";
import type { DataStore, StorageRecord } from "../store/data-store.js";
import { closeStore, configure, getStore } from "../store/store-registry.js";
import { CliError, EXIT, notFoundError } from "./errors.js";

/** A store opened by a command, and what the command should say about it. */
export interface OpenedStore {
  readonly store: DataStore;
  /** The database file (absolute), or `":memory:"`. */
  readonly path: string;
  /** False when the file did not exist and nothing was opened on disk (read-only commands). */
  readonly exists: boolean;
  readonly readOnly: boolean;
  close(): Promise<void>;
}

/** How a command opens the store. */
export interface OpenStoreOptions {
  /** `--db`: the DuckDB file (default: `TDAG_DUCKDB_PATH`, else `.tdag/tdag.duckdb`). */
  readonly db: string | undefined;
  /**
   * Open read-only: nothing on disk is created or modified. A missing file is then an empty
   * in-memory store (nothing exists), not an error.
   */
  readonly readOnly: boolean;
  /** When the file is missing, fail with "not found" instead of creating it (writing commands). */
  readonly mustExist?: boolean;
}

/**
 * Opens the embedded DuckDB store for a command. The native module is imported lazily, so
 * `tdag --help` never loads it. Failures are store errors (exit 4); a missing file with
 * `mustExist` is "not found" (exit 3).
 */
export async function openStore(options: OpenStoreOptions): Promise<OpenedStore> {
  const { DuckDBStore, IN_MEMORY, resolveDuckDBPath } = await import("../store/duckdb/index.js");
  const path = resolveDuckDBPath(options.db);
  const exists = path === IN_MEMORY || existsSync(path);
  if (!exists && options.mustExist) {
    throw notFoundError(
      `the store ${path} does not exist`,
      "choose the file with --db <path> or TDAG_DUCKDB_PATH",
    );
  }
  let store: DataStore;
  try {
    if (options.readOnly && !exists) {
      // Nothing to read: an empty in-memory store answers "nothing exists" without touching disk.
      store = await DuckDBStore.open({ path: IN_MEMORY });
    } else {
      store = await DuckDBStore.open({ path, readOnly: options.readOnly && path !== IN_MEMORY });
    }
  } catch (error) {
    throw storeOpenError(path, error);
  }
  let closed = false;
  return {
    store,
    path,
    exists,
    readOnly: options.readOnly,
    async close() {
      if (closed) return;
      closed = true;
      await store.close();
    },
  };
}

/** The process-wide default store, opened on first use (see {@link openDefaultStore}). */
export interface DefaultStore {
  /** The database file (absolute), or `":memory:"`. */
  readonly path: string;
  /** Opens the store (or returns the one already opened, e.g. by the user's module). */
  get(): Promise<DataStore>;
  close(): Promise<void>;
}

/**
 * Points the store registry at the `--db` file without opening it, so a user's module that
 * calls `getStore()` while it loads and the command share one store (DuckDB allows one writing
 * instance per file). The file is created on first use, not before the module loaded.
 */
export async function openDefaultStore(db: string | undefined): Promise<DefaultStore> {
  const { resolveDuckDBPath } = await import("../store/duckdb/index.js");
  const path = resolveDuckDBPath(db);
  configure({ store: "duckdb", duckdbPath: path });
  return {
    path,
    async get() {
      try {
        return await getStore();
      } catch (error) {
        throw storeOpenError(path, error);
      }
    },
    close: closeStore,
  };
}

/**
 * Why a store could not be opened, naming the file: a store error keeps its family and code
 * (`database_locked`, `schema_too_new`, ...), anything else is a CLI store failure (exit 4).
 */
export function storeOpenError(path: string, error: unknown): TdagError {
  if (error instanceof CliError) return error;
  const message = `cannot open the store ${path}: ${error instanceof Error ? error.message : String(error)}`;
  if (error instanceof StoreError) return new StoreError(error.code, message, { cause: error });
  return new CliError(EXIT.store, "store_open_failed", message, { cause: error });
}

/**
 * Finds a storage by what a user types: its published identifier, its storage hash or its uid
 * (tried in that order). Not found is a `CliError` with exit code 3.
 */
export async function resolveStorage(store: DataStore, id: string): Promise<StorageRecord> {
  const key = id.trim();
  if (key === "") throw notFoundError("an empty table identifier names no table");
  const found =
    (await store.findStorage({ identifier: key })) ??
    (await store.findStorage({ storageHash: key })) ??
    (await store.findStorage({ uid: key }));
  if (!found) {
    throw notFoundError(
      `no table has the identifier, storage hash or uid '${key}'`,
      "list the published identifiers with: tdag data-node org-unique-identifiers",
    );
  }
  return found;
}

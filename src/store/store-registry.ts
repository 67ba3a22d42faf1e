import { StoreError } from "../errors.js";
import { setProjectUidResolver } from "../hashing/project-uid.js";
import { type Logger, setLogger } from "../logger.js";
import type { DataStore } from "./data-store.js";

/**
 * Which store `getStore()` opens when none was configured: the embedded DuckDB store, or the
 * Main Sequence platform (`MAINSEQUENCE_ENDPOINT`, a token, `MAIN_SEQUENCE_PROJECT_UID`).
 */
export type DefaultStoreKind = "duckdb" | "remote";

/** Global settings; every field is optional and only the given ones change. */
export interface TdagSettings {
  /** A store instance, or the kind to open lazily (default: `TDAG_STORE` env, else `"duckdb"`). */
  readonly store?: DataStore | DefaultStoreKind;
  /** DuckDB file for the embedded store (default: `TDAG_DUCKDB_PATH`, else `.tdag/tdag.duckdb`). */
  readonly duckdbPath?: string;
  /** Where tdag logs (default: a console logger on stderr at `TDAG_LOG_LEVEL`). */
  readonly logger?: Logger;
}

interface State {
  store: DataStore | null;
  opening: Promise<DataStore> | null;
  kind: DefaultStoreKind | null;
  duckdbPath: string | undefined;
}

const state: State = {
  store: null,
  opening: null,
  kind: null,
  duckdbPath: undefined,
};

/**
 * Sets the store and logger used by every node that is not given one explicitly.
 *
 * @example
 * ```ts
 * import { configure } from "tdag";
 * import { DuckDBStore } from "tdag/duckdb";
 * configure({ store: await DuckDBStore.open({ path: "data/prices.duckdb" }) });
 * ```
 */
export function configure(settings: TdagSettings): void {
  if (settings.logger) setLogger(settings.logger);
  if (settings.duckdbPath !== undefined) state.duckdbPath = settings.duckdbPath;
  if (settings.store !== undefined) {
    if (typeof settings.store === "string") {
      state.kind = settings.store;
      state.store = null;
    } else {
      state.store = settings.store;
    }
    state.opening = null;
  }
}

export { getLogger } from "../logger.js";

function resolveKind(): DefaultStoreKind {
  if (state.kind) return state.kind;
  const fromEnv = (process.env.TDAG_STORE ?? "duckdb").trim().toLowerCase();
  if (fromEnv === "duckdb" || fromEnv === "") return "duckdb";
  if (fromEnv === "remote") return "remote";
  throw new StoreError(
    "store_unavailable",
    `TDAG_STORE=${fromEnv} is not a store this version of tdag can open; use TDAG_STORE=duckdb (the embedded store), TDAG_STORE=remote (the Main Sequence platform) or configure({ store }) with a DataStore instance`,
  );
}

/**
 * The project of the store enters every update hash, as in the Python SDK: the configured
 * store's declared `projectUid` (the platform store's is `MAIN_SEQUENCE_PROJECT_UID`; the
 * embedded store knows no project), or, before the remote store is opened,
 * `MAIN_SEQUENCE_PROJECT_UID` when it is the selected kind. The remote store checks the project
 * exists (`GET pods/projects/{uid}/`) before it registers anything.
 */
setProjectUidResolver(() => {
  if (state.store) return state.store.projectUid ?? undefined;
  try {
    return resolveKind() === "remote" ? process.env.MAIN_SEQUENCE_PROJECT_UID : undefined;
  } catch {
    return undefined;
  }
});

/**
 * The store nodes use by default: the configured instance, or the embedded DuckDB store opened
 * on first use (imported lazily, so users of other stores never load the native binary).
 */
export async function getStore(): Promise<DataStore> {
  if (state.store) return state.store;
  if (!state.opening) {
    if (resolveKind() === "remote") {
      state.opening = import("./remote/index.js").then(async ({ RemoteStore }) => {
        const store = RemoteStore.fromEnv();
        state.store = store;
        return store;
      });
      state.opening.catch(() => {
        state.opening = null;
      });
      return state.opening;
    }
    const path = state.duckdbPath;
    state.opening = import("./duckdb/index.js").then(async ({ DuckDBStore }) => {
      const store = await DuckDBStore.open(path === undefined ? {} : { path });
      state.store = store;
      return store;
    });
    state.opening.catch(() => {
      state.opening = null;
    });
  }
  return state.opening;
}

/** Closes the default store (if one was opened) and forgets it. */
export async function closeStore(): Promise<void> {
  const store = state.store ?? (state.opening ? await state.opening.catch(() => null) : null);
  state.store = null;
  state.opening = null;
  if (store) await store.close();
}

import { existsSync } from "node:fs";
import { isTdagError, NotFoundError, StoreError, type TdagError } from "../errors.js";
import type { DataStore, StorageRecord, StoreInfo } from "../store/data-store.js";
import type { RemoteStore } from "../store/remote/remote-store.js";
import { closeStore, configure, getStore } from "../store/store-registry.js";
import { CliError, EXIT, notFoundError, usageError } from "./errors.js";

/**
 * The stores a command can open: the embedded DuckDB file, or the Main Sequence platform
 * (`RemoteStore.fromEnv()`: `MAINSEQUENCE_ENDPOINT`, a token, `MAIN_SEQUENCE_PROJECT_UID`).
 */
export const STORE_KINDS = ["duckdb", "remote"] as const;
export type CliStoreKind = (typeof STORE_KINDS)[number];

/** Which store a command works on, and what chose it. */
export interface StoreSelection {
  readonly kind: CliStoreKind;
  /** What chose the kind, for messages: `--store remote`, `TDAG_STORE=remote` or `the default`. */
  readonly source: string;
  /** `--db`: the DuckDB file (only with the DuckDB store). */
  readonly db: string | undefined;
}

function isStoreKind(value: string): value is CliStoreKind {
  return (STORE_KINDS as readonly string[]).includes(value);
}

/**
 * The store a command uses: `--store <kind>`, else `TDAG_STORE`, else the embedded DuckDB store
 * (as the library's store registry). An unknown kind, and `--db` with the remote store, are
 * usage errors (exit 2): the CLI never quietly opens another store than the one asked for.
 */
export function selectStore(
  options: { readonly store?: string | undefined; readonly db?: string | undefined },
  env: Readonly<Record<string, string | undefined>> = process.env,
): StoreSelection {
  const kinds = STORE_KINDS.join(", ");
  let selection: StoreSelection;
  if (options.store !== undefined) {
    const kind = options.store.trim().toLowerCase();
    if (!isStoreKind(kind)) {
      throw usageError(
        `--store must be one of: ${kinds} (got '${options.store}')`,
        "duckdb is the embedded store file, remote the Main Sequence platform",
      );
    }
    selection = { kind, source: `--store ${kind}`, db: options.db };
  } else {
    const raw = env["TDAG_STORE"]?.trim() ?? "";
    const kind = raw.toLowerCase();
    if (kind === "") selection = { kind: "duckdb", source: "the default", db: options.db };
    else if (isStoreKind(kind)) selection = { kind, source: `TDAG_STORE=${raw}`, db: options.db };
    else {
      throw usageError(
        `TDAG_STORE=${raw} is not a store kind; the kinds: ${kinds}`,
        "set TDAG_STORE=duckdb or TDAG_STORE=remote (or unset it), or pass --store <kind>",
      );
    }
  }
  if (selection.kind === "remote" && selection.db !== undefined) {
    throw usageError(
      `--db names a DuckDB file and cannot be used with the remote store (${selection.source})`,
      options.store === undefined
        ? "pass --store duckdb to use the file, or drop --db to use the platform"
        : "drop --db, or pass --store duckdb",
    );
  }
  return selection;
}

/** What opening a store needs from a command's context. */
export interface StoreContext {
  /** `--db`, when given. */
  readonly db: string | undefined;
  /** The selection `main()` made from `--store`, `--db` and `TDAG_STORE`. */
  readonly storeSelection?: StoreSelection | undefined;
  readonly signal: AbortSignal;
  /** Told which store the command works on, as soon as it is known (for `--json` errors). */
  readonly noteStore?: ((summary: StoreSummary) => void) | undefined;
}

/** The store selection of a command: the one `main()` made, else from `--db` and the environment. */
export function selectionOf(ctx: Pick<StoreContext, "db" | "storeSelection">): StoreSelection {
  return ctx.storeSelection ?? selectStore({ db: ctx.db });
}

/**
 * The store a command used, as every `--json` output carries it (`"store": {...}`) and every
 * human summary names it (`store: duckdb /abs/path`, {@link storeLine}).
 */
export interface StoreSummary {
  /** `"duckdb"`, `"remote"`, or the kind a store configured by the user's module declares. */
  readonly kind: string;
  /** The store's own description: `"duckdb:/abs/path"`, `"remote:https://host/orm/api"`. */
  readonly description: string;
  /** The platform project (enters every update hash); `null` for the embedded store. */
  readonly projectUid: string | null;
  /** The description without its kind: the DuckDB file, or the platform's API root. */
  readonly location: string;
}

/** What a store says about itself, as a {@link StoreSummary}. */
export function summarizeStore(
  info: Pick<StoreInfo, "kind" | "description" | "projectUid">,
): StoreSummary {
  const prefix = `${info.kind}:`;
  const location = info.description.startsWith(prefix)
    ? info.description.slice(prefix.length)
    : info.description;
  return {
    kind: info.kind,
    description: info.description,
    projectUid: info.projectUid ?? null,
    location,
  };
}

function duckdbSummary(path: string): StoreSummary {
  return summarizeStore({ kind: "duckdb", description: `duckdb:${path}`, projectUid: null });
}

/**
 * The line every human summary ends with: `store: duckdb /abs/.tdag/tdag.duckdb`,
 * `store: remote https://host/orm/api (project <uid>)`; `note` is added in parentheses.
 */
export function storeLine(summary: StoreSummary, note?: string): string {
  const notes = [
    ...(summary.projectUid ? [`project ${summary.projectUid}`] : []),
    ...(note ? [note] : []),
  ];
  return `store: ${summary.kind} ${summary.location}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`;
}

/** A store opened by a command, and what the command should say about it. */
export interface OpenedStore {
  readonly store: DataStore;
  readonly summary: StoreSummary;
  /** The DuckDB file (absolute) or `":memory:"`; `null` for the remote store. */
  readonly path: string | null;
  /**
   * False when the DuckDB file did not exist and nothing was opened on disk (read-only
   * commands); always true for the remote store.
   */
  readonly exists: boolean;
  readonly readOnly: boolean;
  close(): Promise<void>;
}

/** How a command opens the store. */
export interface OpenStoreOptions {
  /**
   * Open read-only: nothing is created or modified. A missing DuckDB file is then an empty
   * in-memory store (nothing exists), not an error. The remote store is never written by the
   * reading commands (they only call reading routes).
   */
  readonly readOnly: boolean;
  /** When the DuckDB file is missing, fail with "not found" instead of creating it (writing commands). */
  readonly mustExist?: boolean;
}

/**
 * Opens the store a command works on (`--store`, `TDAG_STORE`, `--db`; see
 * {@link selectStore}). The DuckDB native module and the HTTP client are imported lazily, so
 * `tdag --help` loads neither. Failures are store errors (exit 4); a missing DuckDB file with
 * `mustExist` is "not found" (exit 3). The remote store is checked before it is returned
 * (settings present, endpoint reachable, token accepted, project known).
 */
export async function openStore(
  ctx: StoreContext,
  options: OpenStoreOptions,
): Promise<OpenedStore> {
  const selection = selectionOf(ctx);
  if (selection.kind === "remote") {
    const store = await openRemoteStore(selection, ctx);
    let closed = false;
    return {
      store,
      summary: summarizeStore(store),
      path: null,
      exists: true,
      readOnly: options.readOnly,
      async close() {
        if (closed) return;
        closed = true;
        await store.close();
      },
    };
  }
  const { DuckDBStore, IN_MEMORY, resolveDuckDBPath } = await import("../store/duckdb/index.js");
  const path = resolveDuckDBPath(selection.db);
  const summary = duckdbSummary(path);
  ctx.noteStore?.(summary);
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
    summary,
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

/** The process-wide default store of `tdag run`, opened on first use (see {@link openDefaultStore}). */
export interface DefaultStore {
  /** The DuckDB file (absolute) or `":memory:"`; `null` for the remote store. */
  readonly path: string | null;
  /** The store the command selected (before the user's module could configure another). */
  readonly summary: StoreSummary;
  /** Opens the store (or returns the one already opened, e.g. by the user's module). */
  get(): Promise<DataStore>;
  close(): Promise<void>;
}

/**
 * Points the library's store registry at the selected store, so a user's module that calls
 * `getStore()` while it loads and the command share one store (DuckDB allows one writing
 * instance per file). The DuckDB file is created on first use, not before the module loaded;
 * the remote store is built and checked first (nothing is created on the platform) and
 * configured as the registry's instance, so the module's nodes hash with its project.
 * `TDAG_STORE` (and `TDAG_DUCKDB_PATH`) are set for another copy of tdag the module may import.
 */
export async function openDefaultStore(ctx: StoreContext): Promise<DefaultStore> {
  const selection = selectionOf(ctx);
  process.env["TDAG_STORE"] = selection.kind;
  if (selection.kind === "remote") {
    const store = await openRemoteStore(selection, ctx);
    configure({ store });
    let closed = false;
    return {
      path: null,
      summary: summarizeStore(store),
      get: getStore,
      async close() {
        await closeStore();
        if (closed) return;
        closed = true;
        // The user's module may have configured another store; the registry closed that one.
        await store.close().catch(() => undefined);
      },
    };
  }
  const { resolveDuckDBPath } = await import("../store/duckdb/index.js");
  const path = resolveDuckDBPath(selection.db);
  process.env["TDAG_DUCKDB_PATH"] = path;
  configure({ store: "duckdb", duckdbPath: path });
  const summary = duckdbSummary(path);
  ctx.noteStore?.(summary);
  return {
    path,
    summary,
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

const ENDPOINT = "MAINSEQUENCE_ENDPOINT";
const ACCESS = "MAINSEQUENCE_ACCESS_TOKEN";
const REFRESH = "MAINSEQUENCE_REFRESH_TOKEN";
const PROJECT = "MAIN_SEQUENCE_PROJECT_UID";

function isSet(env: Readonly<Record<string, string | undefined>>, name: string): boolean {
  return (env[name]?.trim() ?? "") !== "";
}

/** The settings the remote store needs and the environment lacks (by auth mode). */
export function missingRemoteSettings(
  env: Readonly<Record<string, string | undefined>>,
  authMode: "jwt" | "session_jwt" | "runtime_credential",
): string[] {
  const missing: string[] = [];
  if (!isSet(env, ENDPOINT)) missing.push(ENDPOINT);
  if (authMode === "runtime_credential") {
    for (const name of [
      "MAINSEQUENCE_RUNTIME_CREDENTIAL_ID",
      "MAINSEQUENCE_RUNTIME_CREDENTIAL_SECRET",
    ]) {
      if (!isSet(env, name)) missing.push(name);
    }
  } else if (authMode === "session_jwt") {
    if (!isSet(env, ACCESS)) missing.push(ACCESS);
  } else if (!isSet(env, ACCESS) && !isSet(env, REFRESH)) {
    missing.push(`a token (${ACCESS} or ${REFRESH})`);
  }
  if (!isSet(env, PROJECT)) missing.push(PROJECT);
  return missing;
}

function listWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/**
 * Builds `RemoteStore.fromEnv()` and checks it with one reading request
 * (`GET pods/projects/{uid}/`: endpoint reachable, token accepted, project known). Missing
 * settings, an unreachable endpoint or a refused token are store errors (exit 4) naming the
 * variable or the endpoint; nothing is created on the platform.
 */
async function openRemoteStore(
  selection: StoreSelection,
  ctx: Pick<StoreContext, "signal" | "noteStore">,
): Promise<RemoteStore> {
  const [{ RemoteStore }, { authModeFromEnv }] = await Promise.all([
    import("../store/remote/remote-store.js"),
    import("../store/remote/auth.js"),
  ]);
  const missing = missingRemoteSettings(process.env, authModeFromEnv(process.env));
  if (missing.length > 0) {
    throw new CliError(
      EXIT.store,
      "store_not_configured",
      `the remote store (${selection.source}) is not configured: ${listWords(missing)} ${missing.length > 1 ? "are" : "is"} not set`,
      {
        hint: `set ${ENDPOINT}, ${ACCESS} and ${PROJECT} (\`tdag serve\` prints them for a local server), or use the embedded store with --store duckdb`,
      },
    );
  }
  const endpoint = (process.env[ENDPOINT] ?? "").trim().replace(/\/+$/, "");
  let store: RemoteStore;
  try {
    store = RemoteStore.fromEnv();
  } catch (error) {
    throw await remoteOpenError(endpoint, error);
  }
  ctx.noteStore?.(summarizeStore(store));
  try {
    await store.projectDataSourceUid({ signal: ctx.signal });
  } catch (error) {
    await store.close().catch(() => undefined);
    throw await remoteOpenError(endpoint, error, store.projectUid);
  }
  return store;
}

/**
 * Why the remote store could not be opened, naming the endpoint (or the project). Platform
 * errors keep their family and code (`RemoteApiError` `transport`, `AuthError`, `StoreError`),
 * a missing project is a CLI store failure; all are exit 4.
 */
async function remoteOpenError(
  endpoint: string,
  error: unknown,
  projectUid: string | null = null,
): Promise<TdagError> {
  if (error instanceof CliError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  if (error instanceof NotFoundError) {
    return new CliError(
      EXIT.store,
      "store_open_failed",
      `the platform at ${endpoint} has no project ${projectUid ?? "(none)"} (${PROJECT}): ${reason}`,
      { cause: error, hint: `check ${PROJECT}` },
    );
  }
  if (error instanceof StoreError) {
    return new StoreError(error.code, `cannot open the remote store at ${endpoint}: ${reason}`, {
      cause: error,
    });
  }
  if (isTdagError(error, "RemoteApiError")) {
    const { AuthError, RemoteApiError } = await import("../store/remote/remote-errors.js");
    const e = error as InstanceType<typeof RemoteApiError>;
    const init = {
      status: e.status,
      requestId: e.requestId,
      attempts: e.attempts,
      method: e.method,
      url: e.url,
      body: e.body,
      retryAfterMs: e.retryAfterMs,
      cause: error,
    };
    if (isTdagError(error, "AuthError") || e.status === 401 || e.status === 403) {
      const message = `the platform at ${endpoint} refused the credentials: ${reason}`;
      return isTdagError(error, "AuthError")
        ? new AuthError(message, init)
        : new RemoteApiError(message, { ...init, code: e.code });
    }
    const message =
      e.code === "transport" || e.code === "timeout"
        ? `cannot reach the platform at ${endpoint} (${ENDPOINT}): ${reason}`
        : `cannot open the remote store at ${endpoint}: ${reason}`;
    return new RemoteApiError(message, { ...init, code: e.code });
  }
  return new CliError(
    EXIT.store,
    "store_open_failed",
    `cannot open the remote store at ${endpoint}: ${reason}`,
    { cause: error },
  );
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

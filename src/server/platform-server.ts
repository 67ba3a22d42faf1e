import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { ConfigError, FrameValidationError, NotFoundError, StoreError } from "../errors.js";
import { FilterError } from "../filters/filter-error.js";
import { SearchError } from "../search/search-error.js";
import type { DataStore } from "../store/data-store.js";
import { FaultInjector, type FaultRule } from "./fault-injector.js";
import { HttpError } from "./http-error.js";
import { JwtIssuer } from "./jwt.js";
import { DEFAULT_PROJECT_UID, PlatformContext } from "./platform-context.js";
import { bearerAuth, registerAuthRoutes } from "./routes/auth-routes.js";
import { registerDynamicTableRoutes } from "./routes/dynamic-table-routes.js";
import { registerLocalTimeSerieRoutes } from "./routes/local-time-serie-routes.js";
import { registerPlatformRoutes } from "./routes/platform-routes.js";
import { decodeGzipJson, isObject, jsonText } from "./wire-codec.js";

/** Options of {@link createPlatformServer}. */
export interface PlatformServerOptions {
  /** The store every route works over (the DuckDB store by default in `startPlatformServer`). */
  readonly store: DataStore;
  /** The static bearer token (default: a random one, see `PlatformServerApp.token`). */
  readonly token?: string;
  /** The uid of the server's one project (default `00000000-0000-4000-8000-000000000001`). */
  readonly projectUid?: string;
  /** Rows per page of `get_data_between_dates_*` (default 5,000). */
  readonly pageSize?: number;
  /** JWT settings: HMAC secret (default random), lifetimes, clock (tests). */
  readonly jwt?: {
    readonly secret?: string;
    readonly accessTtlSeconds?: number;
    readonly refreshTtlSeconds?: number;
    readonly now?: () => number;
  };
  /** A fault injector to share, or initial fault rules. */
  readonly faults?: FaultInjector | readonly FaultRule[];
}

/** A platform server that is not listening: the hono app and its controls. */
export interface PlatformServerApp {
  readonly app: Hono;
  readonly faults: FaultInjector;
  readonly token: string;
  readonly projectUid: string;
  readonly jwt: JwtIssuer;
  readonly store: DataStore;
}

/**
 * Builds the local platform server: the routes of `platform-protocol.md` section 2 over any
 * DataStore, with the platform's status codes, only the response fields of section 2.8, a token
 * check on every `/orm/api` route and a fault injector for tests. Nothing listens: serve
 * `app.fetch` yourself or use {@link startPlatformServer}.
 *
 * @example
 * ```ts
 * const server = createPlatformServer({ store, token: "secret" });
 * const res = await server.app.request("/orm/api/ts_manager/api/constants", {
 *   headers: { Authorization: "Bearer secret" },
 * });
 * ```
 */
export function createPlatformServer(options: PlatformServerOptions): PlatformServerApp {
  const token = options.token ?? randomBytes(24).toString("base64url");
  const projectUid = options.projectUid ?? DEFAULT_PROJECT_UID;
  const jwt = new JwtIssuer(options.jwt ?? {});
  const faults =
    options.faults instanceof FaultInjector
      ? options.faults
      : (options.faults ?? []).reduce((f, rule) => f.add(rule), new FaultInjector());
  const ctx = new PlatformContext(options.store, projectUid, options.pageSize ?? 5_000);
  const auth = { token, jwt };

  const app = new Hono();
  app.use("*", exactJsonResponses);
  app.use("*", faults.middleware(countChunkRows));
  app.use("/orm/api/*", bearerAuth(auth));
  registerAuthRoutes(app, auth);
  registerPlatformRoutes(app, ctx);
  registerDynamicTableRoutes(app, ctx);
  registerLocalTimeSerieRoutes(app, ctx);
  app.notFound((c) => c.json({ detail: "Not found." }, 404));
  app.onError((error, c) => errorResponse(c, error));
  return { app, faults, token, projectUid, jwt, store: options.store };
}

/**
 * Makes every route's `c.json` write bigints (int64 cells beyond ±(2^53 - 1) in data pages) as
 * exact JSON integers: Hono's `c.json` is `JSON.stringify`, which throws on a bigint. The native
 * call stays the first try, so answers without bigints cost nothing more.
 */
const exactJsonResponses: MiddlewareHandler = async (c, next) => {
  type Respond = (...args: unknown[]) => Response;
  const native = c.json as unknown as Respond;
  const body = c.body as unknown as Respond;
  const exact: Respond = (object, ...rest) => {
    try {
      return native(object, ...rest);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      c.header("Content-Type", "application/json");
      return body(jsonText(object), ...rest);
    }
  };
  c.json = exact as unknown as typeof c.json;
  await next();
};

/** Maps an error to the platform's status and body (protocol 1.4). */
function errorResponse(c: Context, error: unknown): Response {
  if (error instanceof HttpError) return c.json(error.body, error.status as 400);
  if (error instanceof NotFoundError) return c.json({ detail: error.message }, 404);
  if (error instanceof FilterError || error instanceof SearchError) {
    return c.json({ detail: error.message, code: error.code }, 400);
  }
  if (error instanceof FrameValidationError || error instanceof ConfigError) {
    return c.json({ detail: error.message, code: error.code }, 400);
  }
  if (error instanceof StoreError) {
    if (error.code === "schema_conflict" || error.code === "identifier_taken") {
      return c.json({ detail: error.message, code: error.code }, 409);
    }
    if (error.code === "invalid_value" || error.code === "duplicate_index") {
      return c.json({ detail: error.message, code: error.code }, 400);
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return c.json({ detail: `Internal server error: ${message}` }, 500);
}

/** Rows of an `insert_data_into_table` upload (for the 413 fault); `null` for other requests. */
async function countChunkRows(c: Context): Promise<number | null> {
  if (c.req.method !== "POST" || !c.req.path.endsWith("/insert_data_into_table/")) return null;
  try {
    const body: unknown = JSON.parse(await c.req.text());
    const rows = isObject(body) ? decodeGzipJson(body["data"]) : null;
    return Array.isArray(rows) ? rows.length : null;
  } catch {
    return null;
  }
}

/** Options of {@link startPlatformServer}. */
export interface StartPlatformServerOptions extends Omit<PlatformServerOptions, "store"> {
  /** Port to listen on; `0` (default) picks a free one. */
  readonly port?: number;
  /** Loopback only: `127.0.0.1` (default), `::1` or `localhost`. */
  readonly host?: string;
  /** The store; default: the DuckDB store on `dbPath`, opened here and closed by `close()`. */
  readonly store?: DataStore;
  /** DuckDB file when no store is given (default: `TDAG_DUCKDB_PATH`, else `.tdag/tdag.duckdb`). */
  readonly dbPath?: string;
}

/** A listening platform server. */
export interface RunningPlatformServer extends PlatformServerApp {
  /** `http://127.0.0.1:<port>`: the value of `MAINSEQUENCE_ENDPOINT`. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** The environment that points a tdag or Python client at this server. */
  readonly env: Readonly<Record<string, string>>;
  /** Stops listening, drops open connections and closes the store if the server opened it. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/**
 * Starts the local platform server on a loopback address (anything else is refused: the server
 * is for development and tests, not for exposure on a network).
 *
 * @example
 * ```ts
 * const server = await startPlatformServer({ dbPath: "dev.duckdb", token: "secret" });
 * process.env = { ...process.env, ...server.env }; // MAINSEQUENCE_ENDPOINT, TDAG_STORE=remote...
 * await server.close();
 * ```
 */
export async function startPlatformServer(
  options: StartPlatformServerOptions = {},
): Promise<RunningPlatformServer> {
  const host = options.host ?? "127.0.0.1";
  if (!LOOPBACK.has(host)) {
    throw new ConfigError(
      "server_not_loopback",
      `the local platform server only listens on loopback (127.0.0.1, ::1, localhost), not '${host}'`,
      { issues: [{ path: "host", message: "not a loopback address" }] },
    );
  }
  const port = options.port ?? 0;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError("invalid_port", `port must be an integer 0..65535 (got ${port})`);
  }
  let store = options.store;
  const ownsStore = store === undefined;
  if (!store) {
    const { DuckDBStore } = await import("../store/duckdb/index.js");
    store = await DuckDBStore.open(options.dbPath === undefined ? {} : { path: options.dbPath });
  }
  const platform = createPlatformServer({ ...options, store });
  let server: ReturnType<typeof serve>;
  let address: AddressInfo;
  try {
    address = await new Promise<AddressInfo>((resolve, reject) => {
      server = serve({ fetch: platform.app.fetch, port, hostname: host }, resolve);
      server.once("error", reject);
    });
  } catch (error) {
    if (ownsStore) await store.close();
    throw error;
  }
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${urlHost}:${address.port}`;
  let closing: Promise<void> | undefined;
  return {
    ...platform,
    url,
    port: address.port,
    host,
    env: {
      MAINSEQUENCE_ENDPOINT: url,
      MAINSEQUENCE_ACCESS_TOKEN: platform.token,
      MAIN_SEQUENCE_PROJECT_UID: platform.projectUid,
      TDAG_STORE: "remote",
    },
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          const http = server as import("node:http").Server;
          http.close(() => resolve());
          http.closeAllConnections?.();
        });
        if (ownsStore) await store.close();
      })();
      return closing;
    },
  };
}

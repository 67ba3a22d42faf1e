import { type Dispatcher, request as undiciRequest } from "undici";
import { decodeBody, PLATFORM_ACCEPT_HEADERS } from "./http-encoding.js";
import { AuthError } from "./remote-errors.js";

/**
 * Supplies the `Authorization` header of every platform request. `forceRefresh` is asked once
 * after a 401; `canRefresh` tells the client whether that is worth trying.
 */
export interface AuthProvider {
  headers(options?: {
    forceRefresh?: boolean;
    signal?: AbortSignal;
  }): Promise<Record<string, string>>;
  readonly canRefresh: boolean;
}

/** Result of a token endpoint call. */
export interface TokenResponse {
  readonly status: number;
  readonly data: unknown;
}

/** Posts a JSON body to a token endpoint (injectable for tests; the default uses undici). */
export type FetchToken = (
  url: string,
  body: Readonly<Record<string, string>>,
  options: { signal?: AbortSignal },
) => Promise<TokenResponse>;

/** Options of {@link authFromEnv}. */
export interface AuthFromEnvOptions {
  /** `MAINSEQUENCE_ENDPOINT` without trailing `/` (the auth root). */
  readonly endpoint: string;
  readonly fetchToken?: FetchToken;
  readonly dispatcher?: Dispatcher;
  /** Clock in ms (tests pin it). */
  readonly now?: () => number;
}

const ACCESS = "MAINSEQUENCE_ACCESS_TOKEN";
const REFRESH = "MAINSEQUENCE_REFRESH_TOKEN";
const MODE = "MAINSEQUENCE_AUTH_MODE";
const CRED_ID = "MAINSEQUENCE_RUNTIME_CREDENTIAL_ID";
const CRED_SECRET = "MAINSEQUENCE_RUNTIME_CREDENTIAL_SECRET";

/** Auth modes of protocol 1.2. */
export type AuthMode = "jwt" | "session_jwt" | "runtime_credential";

/**
 * The auth mode named by `MAINSEQUENCE_AUTH_MODE` (case-insensitive, trimmed; unset or unknown
 * → `jwt`).
 *
 * @example
 * ```ts
 * authModeFromEnv({ MAINSEQUENCE_AUTH_MODE: " Session_JWT " }); // "session_jwt"
 * ```
 */
export function authModeFromEnv(env: NodeJS.ProcessEnv = process.env): AuthMode {
  const mode = (env[MODE] ?? "").trim().toLowerCase();
  return mode === "session_jwt" || mode === "runtime_credential" ? mode : "jwt";
}

/**
 * The `exp` claim (seconds since epoch) of an unverified JWT, or `null` when the token is not a
 * decodable JWT (opaque tokens are used until the platform answers 401).
 *
 * @example
 * ```ts
 * jwtExpiry("opaque-token"); // null
 * ```
 */
export function jwtExpiry(token: string): number | null {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[1] === undefined) return null;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    if (typeof payload !== "object" || payload === null) return null;
    const exp = (payload as { exp?: unknown }).exp;
    return typeof exp === "number" && Number.isFinite(exp) ? exp : null;
  } catch {
    return null;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== "" ? value.trim() : undefined;
}

/** The default {@link FetchToken}: one JSON POST through undici, 30 s timeout, no retry. */
export function defaultFetchToken(dispatcher?: Dispatcher): FetchToken {
  return async (url, body, options) => {
    const signal = options.signal
      ? AbortSignal.any([options.signal, AbortSignal.timeout(30_000)])
      : AbortSignal.timeout(30_000);
    const response = await undiciRequest(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...PLATFORM_ACCEPT_HEADERS },
      body: JSON.stringify(body),
      signal,
      ...(dispatcher ? { dispatcher } : {}),
    });
    const raw = Buffer.from(await response.body.arrayBuffer());
    let text: string;
    try {
      text = decodeBody(raw, String(response.headers["content-encoding"] ?? "")).toString("utf8");
    } catch {
      text = raw.toString("utf8");
    }
    let data: unknown = text;
    try {
      data = text === "" ? null : JSON.parse(text);
    } catch {
      // keep the raw text; the caller reports a malformed token response
    }
    return { status: response.statusCode, data };
  };
}

function field(data: unknown, name: string): string | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const value = (data as Record<string, unknown>)[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" ? `${error.name} ${code}` : error.name;
  }
  return "unknown error";
}

/** Runs `fn` once at a time: concurrent callers share the in-flight promise. */
function singleFlight<T>(fn: () => Promise<T>): () => Promise<T> {
  let inflight: Promise<T> | null = null;
  return () => {
    if (inflight === null) {
      inflight = fn().finally(() => {
        inflight = null;
      });
    }
    return inflight;
  };
}

interface ModeProvider extends AuthProvider {
  readonly mode: AuthMode;
}

function jwtProvider(
  env: NodeJS.ProcessEnv,
  opts: Required<Pick<AuthFromEnvOptions, "endpoint" | "fetchToken" | "now">>,
): ModeProvider {
  const url = `${opts.endpoint}/auth/jwt-token/token/refresh/`;
  let pendingSignal: AbortSignal | undefined;
  const refresh = singleFlight(async () => {
    const refreshToken = nonEmpty(env[REFRESH]);
    if (refreshToken === undefined) {
      throw new AuthError(`Cannot refresh the access token: ${REFRESH} is not set`, {
        method: "POST",
        url,
      });
    }
    let response: TokenResponse;
    try {
      response = await opts.fetchToken(
        url,
        { refresh: refreshToken },
        pendingSignal ? { signal: pendingSignal } : {},
      );
    } catch (error) {
      throw new AuthError(`JWT refresh failed (${describeFailure(error)})`, {
        method: "POST",
        url,
        cause: error,
      });
    }
    const access = field(response.data, "access");
    if (response.status !== 200 || access === undefined) {
      throw new AuthError(`JWT refresh failed with status ${response.status}`, {
        status: response.status,
        method: "POST",
        url,
      });
    }
    env[ACCESS] = access;
    const rotated = field(response.data, "refresh");
    if (rotated !== undefined) env[REFRESH] = rotated;
    return access;
  });
  return {
    mode: "jwt",
    get canRefresh() {
      return nonEmpty(env[REFRESH]) !== undefined;
    },
    async headers(options = {}) {
      let access = nonEmpty(env[ACCESS]);
      const hasRefresh = nonEmpty(env[REFRESH]) !== undefined;
      const exp = access !== undefined ? jwtExpiry(access) : null;
      const stale = access === undefined || (exp !== null && exp * 1000 <= opts.now() + 60_000);
      if (options.forceRefresh || stale) {
        if (hasRefresh) {
          pendingSignal = options.signal;
          access = await refresh();
        } else if (options.forceRefresh || access === undefined) {
          throw new AuthError(
            access === undefined
              ? `No auth configured: set ${ACCESS} (and ${REFRESH}) or MAINSEQUENCE_AUTH_MODE=runtime_credential`
              : `The access token was rejected and ${REFRESH} is not set`,
          );
        }
      }
      return { authorization: `Bearer ${access}` };
    },
  };
}

function sessionJwtProvider(env: NodeJS.ProcessEnv): ModeProvider {
  return {
    mode: "session_jwt",
    canRefresh: false,
    async headers(options = {}) {
      if (nonEmpty(env[REFRESH]) !== undefined) {
        throw new AuthError(`${REFRESH} is not allowed in session_jwt auth mode`);
      }
      if (options.forceRefresh) {
        throw new AuthError("session_jwt auth cannot refresh the access token");
      }
      const access = nonEmpty(env[ACCESS]);
      if (access === undefined)
        throw new AuthError(`No auth configured: set ${ACCESS} for session_jwt auth`);
      return { authorization: `Bearer ${access}` };
    },
  };
}

function runtimeProvider(
  env: NodeJS.ProcessEnv,
  opts: Required<Pick<AuthFromEnvOptions, "endpoint" | "fetchToken" | "now">>,
): ModeProvider {
  const url = `${opts.endpoint}/orm/api/pods/runtime-credentials/token/`;
  let expiresAt: number | null = null;
  let tokenType = "Bearer";
  let exchangedToken: string | undefined;
  let pendingSignal: AbortSignal | undefined;
  const exchange = singleFlight(async () => {
    const id = nonEmpty(env[CRED_ID]);
    const secret = nonEmpty(env[CRED_SECRET]);
    if (id === undefined) throw new AuthError(`${CRED_ID} is required for runtime_credential auth`);
    if (secret === undefined)
      throw new AuthError(`${CRED_SECRET} is required for runtime_credential auth`);
    let response: TokenResponse;
    try {
      response = await opts.fetchToken(
        url,
        { credential_id: id, credential_secret: secret },
        pendingSignal ? { signal: pendingSignal } : {},
      );
    } catch (error) {
      throw new AuthError(`Runtime credential exchange failed (${describeFailure(error)})`, {
        method: "POST",
        url,
        cause: error,
      });
    }
    const access = field(response.data, "access");
    if (response.status < 200 || response.status > 299 || access === undefined) {
      throw new AuthError(`Runtime credential exchange failed with status ${response.status}`, {
        status: response.status,
        method: "POST",
        url,
      });
    }
    tokenType = field(response.data, "token_type") ?? "Bearer";
    const expiresIn = (response.data as { expires_in?: unknown }).expires_in;
    expiresAt =
      typeof expiresIn === "number" && Number.isFinite(expiresIn)
        ? opts.now() + expiresIn * 1000
        : null;
    env[ACCESS] = access;
    exchangedToken = access;
    return access;
  });
  return {
    mode: "runtime_credential",
    canRefresh: true,
    async headers(options = {}) {
      let access = nonEmpty(env[ACCESS]);
      // An expiry learnt from an exchange only applies to the token that exchange produced.
      const knownExpiry = access !== undefined && access === exchangedToken ? expiresAt : null;
      const exp = access !== undefined ? jwtExpiry(access) : null;
      const margin = opts.now() + 30_000;
      const stale =
        access === undefined ||
        (knownExpiry !== null ? knownExpiry <= margin : exp !== null && exp * 1000 <= margin);
      if (options.forceRefresh || stale) {
        pendingSignal = options.signal;
        access = await exchange();
      }
      return { authorization: `${access === exchangedToken ? tokenType : "Bearer"} ${access}` };
    },
  };
}

/**
 * The auth provider the Python SDK would use for this environment (protocol 1.2): the mode is
 * re-read from `env` on every request; `jwt` refreshes 60 s before expiry through
 * `POST {ROOT}/auth/jwt-token/token/refresh/`; `session_jwt` never refreshes;
 * `runtime_credential` exchanges `MAINSEQUENCE_RUNTIME_CREDENTIAL_ID/_SECRET` at
 * `POST {API}/pods/runtime-credentials/token/`. Rotated tokens are written back into `env`.
 *
 * @example
 * ```ts
 * const auth = authFromEnv(process.env, { endpoint: "https://api.main-sequence.app" });
 * const headers = await auth.headers(); // { authorization: "Bearer …" }
 * ```
 */
export function authFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options?: AuthFromEnvOptions,
): AuthProvider {
  const endpoint = (
    options?.endpoint ??
    env.MAINSEQUENCE_ENDPOINT ??
    "https://api.main-sequence.app"
  ).replace(/\/+$/, "");
  const resolved = {
    endpoint,
    fetchToken: options?.fetchToken ?? defaultFetchToken(options?.dispatcher),
    now: options?.now ?? Date.now,
  };
  if (authModeFromEnv(env) === "session_jwt" && nonEmpty(env[REFRESH]) !== undefined) {
    throw new AuthError(`${REFRESH} is not allowed in session_jwt auth mode`);
  }
  const cache = new Map<AuthMode, ModeProvider>();
  const current = (): ModeProvider => {
    const mode = authModeFromEnv(env);
    let provider = cache.get(mode);
    if (provider === undefined) {
      provider =
        mode === "session_jwt"
          ? sessionJwtProvider(env)
          : mode === "runtime_credential"
            ? runtimeProvider(env, resolved)
            : jwtProvider(env, resolved);
      cache.set(mode, provider);
    }
    return provider;
  };
  return {
    get canRefresh() {
      return current().canRefresh;
    },
    headers(opts) {
      return current().headers(opts);
    },
  };
}

/**
 * A fixed bearer token (for `tdag serve --token` and tests). It cannot refresh.
 *
 * @example
 * ```ts
 * new PlatformClient({ endpoint: "http://127.0.0.1:8787", auth: staticTokenAuth("dev-token") });
 * ```
 */
export function staticTokenAuth(token: string): AuthProvider {
  return {
    canRefresh: false,
    async headers(options = {}) {
      if (options.forceRefresh) throw new AuthError("A static token cannot be refreshed");
      return { authorization: `Bearer ${token}` };
    },
  };
}

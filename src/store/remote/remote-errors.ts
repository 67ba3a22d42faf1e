import { errorFamily } from "../../errors.js";

/**
 * Stable error codes of {@link RemoteApiError}: from the HTTP status (protocol 1.4; `http_error`
 * for any other unexpected status, which `status` holds), or what went wrong without one.
 */
export const REMOTE_ERROR_CODES = [
  "bad_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "payload_too_large",
  "throttled",
  "server_error",
  "http_error",
  "transport",
  "timeout",
  "aborted",
  "invalid_response",
  "auth",
] as const;
export type RemoteErrorCode = (typeof REMOTE_ERROR_CODES)[number];

/** What a {@link RemoteApiError} is built from. */
export interface RemoteApiErrorInit {
  readonly code?: RemoteErrorCode;
  readonly status?: number | null;
  readonly requestId?: string | null;
  readonly attempts?: number;
  readonly method?: string;
  readonly url?: string;
  readonly body?: unknown;
  readonly retryAfterMs?: number | null;
  readonly cause?: unknown;
}

/**
 * A platform request failed: a non-expected HTTP status, a transport failure or a timeout.
 * `url` never carries the query string (filters can be sensitive) and no field ever carries a
 * token.
 *
 * @example
 * ```ts
 * try { await client.request("GET", "pods/projects/p-1/"); } catch (err) {
 *   if (err instanceof RemoteApiError && err.status === 404) console.log("no such project");
 * }
 * ```
 */
export class RemoteApiError extends errorFamily("RemoteApiError", REMOTE_ERROR_CODES) {
  declare readonly status: number | null;
  declare readonly requestId: string | null;
  /** How many times the request was sent (retries included). */
  declare readonly attempts: number;
  declare readonly method: string;
  declare readonly url: string;
  declare readonly body: unknown;
  /** Delay the server asked for with `Retry-After` (ms), when it sent one. */
  declare readonly retryAfterMs: number | null;

  constructor(message: string, init: RemoteApiErrorInit = {}) {
    super(init.code ?? codeForStatus(init.status ?? null), message, init, {
      status: init.status ?? null,
      requestId: init.requestId ?? null,
      attempts: init.attempts ?? 1,
      method: init.method ?? "",
      url: init.url ?? "",
      body: init.body,
      retryAfterMs: init.retryAfterMs ?? null,
    });
  }

  /** The same error, reporting `attempts` sends (errors are immutable: this is a copy). */
  withAttempts(attempts: number): RemoteApiError {
    const init: RemoteApiErrorInit = {
      code: this.code,
      status: this.status,
      requestId: this.requestId,
      attempts,
      method: this.method,
      url: this.url,
      body: this.body,
      retryAfterMs: this.retryAfterMs,
      cause: this.cause,
    };
    return this instanceof AuthError
      ? new AuthError(this.message, init)
      : new RemoteApiError(this.message, init);
  }

  /** A plain-object view (for logs and JSON); never contains credentials. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      status: this.status,
      requestId: this.requestId,
      attempts: this.attempts,
      method: this.method,
      url: this.url,
      body: this.body,
    };
  }
}

/**
 * Authentication failed: no credentials configured, a refresh/exchange failed, or the platform
 * still answered 401 after one forced refresh. Never retried.
 *
 * @example
 * ```ts
 * if (err instanceof AuthError) console.error("check MAINSEQUENCE_ACCESS_TOKEN:", err.message);
 * ```
 */
export class AuthError extends RemoteApiError {
  static override readonly family: string = "AuthError";
  static override readonly codes: readonly string[] = ["auth"];

  constructor(message: string, init: Omit<RemoteApiErrorInit, "code"> = {}) {
    super(message, { ...init, code: "auth" });
  }
}

/** Maps an HTTP status to the error code of protocol 1.4. */
export function codeForStatus(status: number | null): RemoteErrorCode {
  if (status === null) return "transport";
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    case 413:
      return "payload_too_large";
    case 429:
      return "throttled";
    default:
      return status >= 500 && status <= 599 ? "server_error" : "http_error";
  }
}

const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);

const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
]);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/**
 * The one place that decides whether a failure is retried: `throttled` (429), `transient`
 * (500/502/503/504, connection resets, connect/headers/body timeouts) or `fatal` (everything
 * else, including auth errors and a caller's abort).
 *
 * @example
 * ```ts
 * if (classifyError(err) !== "fatal") await sleep(delay);
 * ```
 */
export function classifyError(error: unknown): "throttled" | "transient" | "fatal" {
  if (error instanceof AuthError) return "fatal";
  if (error instanceof RemoteApiError) {
    if (error.status === 429) return "throttled";
    if (error.status !== null) return TRANSIENT_STATUS.has(error.status) ? "transient" : "fatal";
    if (error.code === "timeout") return "transient";
    if (error.code === "transport") {
      // A reset is worth retrying; a DNS typo or a refused TLS handshake is not.
      return error.cause === undefined || classifyError(error.cause) === "transient"
        ? "transient"
        : "fatal";
    }
    return "fatal";
  }
  // Raw transport errors: walk the cause chain (fetch-style wrappers put the socket error there).
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    const code = errorCode(current);
    if (code !== undefined && TRANSIENT_CODES.has(code)) return "transient";
    if (current instanceof Error && current.name === "TimeoutError") return "transient";
    current = current instanceof Error ? current.cause : undefined;
  }
  return "fatal";
}

import { Agent, type Dispatcher, request as undiciRequest } from "undici";
import { stringifyJson } from "../../frame/exact-json.js";
import { getLogger, type Logger } from "../../logger.js";

import { type AuthProvider, authFromEnv } from "./auth.js";
import { decodeBody, PLATFORM_ACCEPT_HEADERS } from "./http-encoding.js";
import { type FilterModel, serializeModelQuery, serializeQuery } from "./query-params.js";
import { AuthError, classifyError, RemoteApiError } from "./remote-errors.js";
import {
  parseRetryAfter,
  type RetryPolicy,
  resolveRetryPolicy,
  retryDelay,
  sleep,
} from "./retry.js";

/** HTTP methods the platform uses. */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Options of {@link PlatformClient}. */
export interface PlatformClientOptions {
  /** Default `MAINSEQUENCE_ENDPOINT`, else `https://api.main-sequence.app`; trailing `/` stripped. */
  endpoint?: string;
  /** Default: {@link authFromEnv} over `process.env`. */
  auth?: AuthProvider;
  /** Whole-request timeout per attempt (default 120 000 ms; connect timeout 5 000 ms). */
  timeoutMs?: number;
  /** Connect timeout (default 5 000 ms). */
  connectTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  logger?: Logger;
  /** A caller-owned undici dispatcher (not closed by {@link PlatformClient.close}). */
  dispatcher?: Dispatcher;
}

/** Options of one {@link PlatformClient.request}. */
export interface RequestOptions {
  /** Serialised as protocol 1.6 (see `serializeQuery`). */
  query?: Record<string, unknown>;
  /** Validate `query` against this model's filter set before sending (unknown keys throw). */
  model?: FilterModel;
  json?: unknown;
  body?: string | Uint8Array;
  contentType?: string;
  /** Statuses that count as success (default: any 2xx). */
  expectedStatus?: readonly number[];
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Parses a JSON response body (default `JSON.parse`). Data reads pass one that keeps int64
   * cells exact (`exactPageParsing`); any error it throws reads as an unparseable body.
   */
  parseJson?: (text: string) => unknown;
}

/** A successful platform response. */
export interface PlatformResponse<T> {
  status: number;
  data: T;
  requestId: string | null;
  /** Attempts it took, including retries and the post-401 repeat. */
  attempts: number;
}

const DEFAULT_ENDPOINT = "https://api.main-sequence.app";
const REQUEST_ID_HEADERS = [
  "x-request-id",
  "x-correlation-id",
  "request-id",
  "x-amzn-requestid",
  "cf-ray",
];

function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | null {
  const value = headers[name];
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}

function requestIdOf(headers: Record<string, string | string[] | undefined>): string | null {
  for (const name of REQUEST_ID_HEADERS) {
    const value = headerValue(headers, name);
    if (value) return value;
  }
  return null;
}

/** First non-empty of `detail`, `error`, `message`, `non_field_errors`, then `errors` (protocol 1.4). */
export function errorMessageOf(data: unknown, text: string): string {
  if (typeof data === "object" && data !== null && !Array.isArray(data)) {
    const record = data as Record<string, unknown>;
    for (const key of ["detail", "error", "message", "non_field_errors", "errors"]) {
      const value = record[key];
      if (value === undefined || value === null || value === "") continue;
      if (Array.isArray(value) && value.length === 0) continue;
      return typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  const trimmed = text.trim();
  return trimmed.length > 500 ? `${trimmed.slice(0, 500)}…` : trimmed;
}

function isAbsolute(path: string): boolean {
  return /^https?:\/\//i.test(path);
}

/** Removes every occurrence of the given secrets from a text. */
function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join("***");
  }
  return out;
}

function redactValue(value: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0 || value === undefined) return value;
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return value;
    const clean = redact(text, secrets);
    return clean === text ? value : JSON.parse(clean);
  } catch {
    return value;
  }
}

function transportCode(error: unknown): string {
  let current: unknown = error;
  for (let i = 0; i < 5 && current instanceof Error; i += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = current.cause;
  }
  return error instanceof Error ? error.name : "unknown";
}

/**
 * The HTTP client of the Main Sequence platform (protocol section 1): base URL
 * `{endpoint}/orm/api`, bearer auth with one forced refresh after a 401, `Accept-Encoding: gzip`
 * with transparent gunzip, per-attempt timeouts, retries of 429/500/502/503/504 and connection
 * failures with capped full-jitter backoff honouring `Retry-After`, errors mapped to
 * {@link RemoteApiError}. Tokens never reach logs or errors.
 *
 * @example
 * ```ts
 * const client = PlatformClient.fromEnv();
 * const { data } = await client.request("POST", "ts_manager/dynamic_table/get_or_create/", { json: body });
 * for await (const storage of client.paginate("ts_manager/dynamic_table/", { query: { namespace: "x" } })) {}
 * await client.close();
 * ```
 */
export class PlatformClient {
  readonly endpoint: string;
  readonly apiRoot: string;
  private readonly auth: AuthProvider;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly logger: Logger | undefined;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  /** Credentials seen in outgoing headers, scrubbed from every error and log line. */
  private readonly secrets = new Set<string>();

  constructor(options: PlatformClientOptions = {}) {
    const endpoint = options.endpoint ?? process.env.MAINSEQUENCE_ENDPOINT ?? DEFAULT_ENDPOINT;
    this.endpoint = (endpoint.trim() === "" ? DEFAULT_ENDPOINT : endpoint.trim()).replace(
      /\/+$/,
      "",
    );
    this.apiRoot = `${this.endpoint}/orm/api`;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.retry = resolveRetryPolicy(options.retry);
    this.logger = options.logger;
    if (options.dispatcher) {
      this.dispatcher = options.dispatcher;
      this.ownsDispatcher = false;
    } else {
      this.dispatcher = new Agent({
        connect: { timeout: options.connectTimeoutMs ?? 5_000 },
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      this.ownsDispatcher = true;
    }
    this.auth =
      options.auth ??
      authFromEnv(process.env, { endpoint: this.endpoint, dispatcher: this.dispatcher });
  }

  /**
   * A client configured from the environment variables of protocol 1.1.
   *
   * @example
   * ```ts
   * const client = PlatformClient.fromEnv();
   * ```
   */
  static fromEnv(): PlatformClient {
    return new PlatformClient();
  }

  private log(): Logger {
    return this.logger ?? getLogger();
  }

  /** Absolute URL of an API path (relative to {@link apiRoot}) or of an absolute DRF `next`. */
  resolveUrl(path: string): string {
    if (isAbsolute(path)) {
      // DRF builds `next` from the Host it saw; behind a proxy that can be an internal origin.
      // Never send the bearer token to another origin: rebase onto the configured endpoint.
      const target = new URL(path);
      const base = new URL(this.endpoint);
      if (target.origin !== base.origin) return `${base.origin}${target.pathname}${target.search}`;
      return target.toString();
    }
    return `${this.apiRoot}/${path.replace(/^\/+/, "")}`;
  }

  private scrub(text: string): string {
    return redact(text, [...this.secrets]);
  }

  /**
   * Sends one request (with retries) and returns the parsed JSON body (`null` when empty, the
   * raw text when not JSON). Throws {@link RemoteApiError} / {@link AuthError}; a caller's abort
   * rejects with a `RemoteApiError` of code `aborted` whose `cause` is the signal's reason.
   *
   * @example
   * ```ts
   * const { data } = await client.request<Stats>("GET", `ts_manager/source_table_config/${uid}/get_stats/`);
   * ```
   */
  async request<T = unknown>(
    method: HttpMethod,
    path: string,
    options: RequestOptions = {},
  ): Promise<PlatformResponse<T>> {
    let url = this.resolveUrl(path);
    if (options.query !== undefined) {
      const qs =
        options.model !== undefined
          ? serializeModelQuery(options.model, options.query)
          : serializeQuery(options.query);
      if (qs !== "") url += `${url.includes("?") ? "&" : "?"}${qs}`;
    }
    const safeUrl = url.split("?")[0] ?? url;
    const logPath = new URL(safeUrl).pathname;

    let body: string | Uint8Array | undefined;
    let contentType = options.contentType;
    if (options.json !== undefined) {
      // Bigints (int64 dimension values beyond ±(2^53 - 1)) as exact JSON integers.
      body = stringifyJson(options.json);
      contentType ??= "application/json";
    } else if (options.body !== undefined) {
      body = options.body;
    }

    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const accepted = (status: number): boolean =>
      options.expectedStatus
        ? options.expectedStatus.includes(status)
        : status >= 200 && status <= 299;

    let attempts = 0;
    let retries = 0;
    let refreshed = false;
    let forceRefresh = false;
    // A caller's abort is a RemoteApiError "aborted" whose cause is the signal's reason.
    const aborted = (): RemoteApiError =>
      new RemoteApiError(`${method} ${logPath}: aborted by the caller`, {
        code: "aborted",
        attempts,
        method,
        url: safeUrl,
        cause: options.signal?.reason,
      });
    for (;;) {
      attempts += 1;
      if (options.signal?.aborted) throw aborted();
      let authHeaders: Record<string, string>;
      try {
        authHeaders = await this.auth.headers({
          forceRefresh,
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (error) {
        if (options.signal?.aborted) throw aborted();
        if (error instanceof AuthError) throw error.withAttempts(attempts);
        throw new AuthError(`Could not obtain platform credentials: ${this.scrub(String(error))}`, {
          method,
          url: safeUrl,
          attempts,
          cause: error,
        });
      }
      forceRefresh = false;
      for (const value of Object.values(authHeaders)) {
        const token = value.replace(/^\S+\s+/, "");
        this.secrets.add(value);
        this.secrets.add(token);
      }
      const headers: Record<string, string> = { ...PLATFORM_ACCEPT_HEADERS, ...authHeaders };
      if (contentType !== undefined) headers["content-type"] = contentType;

      const timeoutSignal = AbortSignal.timeout(timeoutMs);
      const signal = options.signal
        ? AbortSignal.any([options.signal, timeoutSignal])
        : timeoutSignal;

      let error: RemoteApiError;
      try {
        const response = await undiciRequest(url, {
          method,
          headers,
          dispatcher: this.dispatcher,
          signal,
          // Per request, so a long upload timeout is not cut short by the pool's defaults.
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          ...(body !== undefined ? { body } : {}),
        });
        const raw = Buffer.from(await response.body.arrayBuffer());
        const status = response.statusCode;
        const requestId = requestIdOf(response.headers);
        const encoding = String(
          headerValue(response.headers, "content-encoding") ?? "",
        ).toLowerCase();
        let text: string;
        try {
          text = decodeBody(raw, encoding).toString("utf8");
        } catch (cause) {
          throw new RemoteApiError(`${method} ${logPath}: response body is not valid ${encoding}`, {
            code: "invalid_response",
            status,
            requestId,
            attempts,
            method,
            url: safeUrl,
            cause,
          });
        }
        const ctype = String(headerValue(response.headers, "content-type") ?? "").toLowerCase();
        let data: unknown = text === "" ? null : text;
        let parseFailed = false;
        if (text !== "" && (ctype.includes("json") || /^\s*[[{"]/.test(text))) {
          try {
            data = (options.parseJson ?? JSON.parse)(text);
          } catch {
            parseFailed = ctype.includes("json");
          }
        }

        if (accepted(status)) {
          if (parseFailed) {
            throw new RemoteApiError(
              `${method} ${logPath}: response declared JSON but did not parse`,
              {
                code: "invalid_response",
                status,
                requestId,
                attempts,
                method,
                url: safeUrl,
              },
            );
          }
          return { status, data: data as T, requestId, attempts };
        }

        if (status === 401 && !refreshed && this.auth.canRefresh) {
          refreshed = true;
          forceRefresh = true;
          this.log().warn("platform request unauthorized; refreshing credentials once", {
            method,
            path: logPath,
            status,
            attempt: attempts,
          });
          continue;
        }

        const message = this.scrub(errorMessageOf(data, text)) || `HTTP ${status}`;
        const init = {
          status,
          requestId,
          attempts,
          method,
          url: safeUrl,
          body: redactValue(data, [...this.secrets]),
          retryAfterMs: parseRetryAfter(headerValue(response.headers, "retry-after")),
        };
        error =
          status === 401
            ? new AuthError(
                `${method} ${logPath} → 401${refreshed ? " after a credential refresh" : ""}: ${message}`,
                init,
              )
            : new RemoteApiError(`${method} ${logPath} → ${status}: ${message}`, init);
      } catch (caught) {
        if (options.signal?.aborted) throw aborted();
        if (caught instanceof RemoteApiError) throw caught;
        const timedOut =
          timeoutSignal.aborted ||
          ["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT"].includes(
            transportCode(caught),
          );
        const code = transportCode(caught);
        error = new RemoteApiError(
          timedOut
            ? `${method} ${logPath}: timed out after ${timeoutMs} ms (${code})`
            : `${method} ${logPath}: transport failure (${code})`,
          {
            code: timedOut ? "timeout" : "transport",
            attempts,
            method,
            url: safeUrl,
            cause: caught,
          },
        );
      }

      const kind = classifyError(error);
      if (kind === "fatal" || retries + 1 >= this.retry.maxAttempts) throw error;
      retries += 1;
      const delay = retryDelay(retries, this.retry, error.retryAfterMs);
      this.log().warn("retrying platform request", {
        method,
        path: logPath,
        status: error.status ?? error.code,
        attempt: attempts,
        delayMs: delay,
        reason: kind,
      });
      try {
        await sleep(delay, options.signal ? { signal: options.signal } : {});
      } catch {
        throw aborted();
      }
    }
  }

  /**
   * Iterates the items of a list route: a bare JSON list, or DRF pages `{results, next}`
   * followed through their absolute `next` (query params are sent on the first request only).
   *
   * @example
   * ```ts
   * for await (const row of client.paginate<Storage>("ts_manager/dynamic_table/", { query: { uid__in: uids } })) {}
   * ```
   */
  async *paginate<T = unknown>(
    path: string,
    options: RequestOptions = {},
  ): AsyncGenerator<T, void, undefined> {
    const { query: _query, model: _model, ...rest } = options;
    let next: string | null = path;
    let first = true;
    const seen = new Set<string>();
    while (next !== null) {
      const response: PlatformResponse<unknown> = await this.request<unknown>(
        "GET",
        next,
        first ? options : rest,
      );
      first = false;
      const data = response.data;
      if (Array.isArray(data)) {
        yield* data as T[];
        return;
      }
      if (
        typeof data !== "object" ||
        data === null ||
        !Array.isArray((data as { results?: unknown }).results)
      ) {
        throw new RemoteApiError(
          `GET ${new URL(this.resolveUrl(path)).pathname}: expected a list or a page`,
          {
            code: "invalid_response",
            status: response.status,
            requestId: response.requestId,
            attempts: response.attempts,
            method: "GET",
            url: this.resolveUrl(path).split("?")[0] ?? "",
          },
        );
      }
      const page = data as { results: T[]; next?: unknown };
      yield* page.results;
      const link = typeof page.next === "string" && page.next !== "" ? page.next : null;
      if (link !== null) {
        if (seen.has(link)) {
          throw new RemoteApiError(
            `GET ${link.split("?")[0]}: pagination loops on the same next link`,
            {
              code: "invalid_response",
              method: "GET",
              url: link.split("?")[0] ?? "",
            },
          );
        }
        seen.add(link);
      }
      next = link;
    }
  }

  /** Closes the connection pool this client created (a caller-supplied dispatcher stays open). */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}

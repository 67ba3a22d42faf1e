import { setTimeout as sleep } from "node:timers/promises";
import type { Context, MiddlewareHandler } from "hono";
import { ConfigError } from "../errors.js";

/** What an injected fault does to a matching request. */
export type FaultAction =
  /** Answer with this status (429, 500, 502, 503...) and `{ "detail": ... }`, without running the route. */
  | { readonly status: number; readonly retryAfter?: number; readonly detail?: string }
  /** Wait, then run the route normally. */
  | { readonly delayMs: number }
  /**
   * Destroy the connection: `"before"` the route runs (nothing applied), or `"after"` it ran
   * (the write is applied but the client never sees the answer, so it re-sends it).
   */
  | { readonly drop: "before" | "after" }
  /** Answer 413 when the uploaded chunk (`insert_data_into_table`) holds more than this many rows. */
  | { readonly tooLargeOverRows: number };

/** One fault rule: requests matching `method` (any when omitted) and `path`, `times` times (default: always). */
export interface FaultRule {
  readonly method?: string;
  readonly path: RegExp;
  readonly times?: number;
  readonly action: FaultAction;
}

/** One request the server received, with the status it answered (`0` when the connection was dropped). */
export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The fault applied to it, if any. */
  readonly fault: FaultAction | null;
  /** With `capture` on: the query parameters (every value of a repeated key, in order). */
  readonly query?: Readonly<Record<string, readonly string[]>>;
  /** With `capture` on: the request body, parsed when JSON (else the text; undefined when empty). */
  readonly body?: unknown;
  /** With `capture` on: the request body exactly as received (`1.0` stays `1.0`; undefined when empty). */
  readonly rawBody?: string;
  /** With `capture` on: the request headers, names lower-cased. */
  readonly headers?: Readonly<Record<string, string>>;
  /** With `capture` on: the answer's body, parsed when JSON (undefined when empty). */
  readonly response?: unknown;
}

/** How many requests the log keeps (oldest dropped first), so a long-running server stays bounded. */
export const REQUEST_LOG_LIMIT = 10_000;

function parsedText(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

interface ActiveRule {
  readonly rule: FaultRule;
  remaining: number;
}

/** Counts the rows of an upload body; `null` when the request carries no upload. */
export type ChunkRowCounter = (c: Context) => Promise<number | null>;

/**
 * Injects faults by route pattern and count, and records every request, so tests can exercise a
 * client's retries, splitting and idempotency against the real server.
 *
 * @example
 * ```ts
 * server.faults.add({ method: "POST", path: /insert_data_into_table\/$/, times: 2,
 *                     action: { status: 429, retryAfter: 1 } });
 * server.faults.count({ method: "POST", path: /insert_data_into_table/ }); // requests seen
 * ```
 */
export class FaultInjector {
  private readonly rules: ActiveRule[] = [];
  private readonly log: RequestLogEntry[] = [];
  /**
   * Record each request's query and body and each answer's body in the log (tests that compare
   * what a client sent, or check answers against the platform's schemas). Off by default.
   */
  capture = false;

  /** Adds a rule; rules are tried in the order they were added and the first match applies. */
  add(rule: FaultRule): this {
    this.rules.push({ rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
    return this;
  }

  /** Removes every rule and forgets the request log. */
  clear(): void {
    this.rules.length = 0;
    this.log.length = 0;
  }

  /** Every request received since the last `clear()`, oldest first. */
  get requests(): readonly RequestLogEntry[] {
    return this.log;
  }

  /** How many logged requests match (by method, path regex and/or status). */
  count(match: { method?: string; path?: RegExp; status?: number } = {}): number {
    return this.log.filter(
      (e) =>
        (match.method === undefined || e.method === match.method.toUpperCase()) &&
        (match.path === undefined || match.path.test(e.path)) &&
        (match.status === undefined || e.status === match.status),
    ).length;
  }

  /** The hono middleware applying the rules (first in the chain, before auth). */
  middleware(countRows: ChunkRowCounter): MiddlewareHandler {
    return async (c, next) => {
      const method = c.req.method.toUpperCase();
      const path = c.req.path;
      const active = await this.match(c, method, path, countRows);
      const action = active?.rule.action ?? null;
      const text = this.capture ? await c.req.text() : "";
      const request = this.capture
        ? {
            query: c.req.queries(),
            body: parsedText(text),
            ...(text === "" ? {} : { rawBody: text }),
            headers: c.req.header(),
          }
        : {};
      const record = async (status: number, answered: boolean) => {
        const response =
          this.capture && answered ? parsedText(await c.res.clone().text()) : undefined;
        this.log.push({
          method,
          path,
          status,
          fault: action,
          ...request,
          ...(response === undefined ? {} : { response }),
        });
        if (this.log.length > REQUEST_LOG_LIMIT) this.log.shift();
      };
      if (action === null) {
        await next();
        await record(c.res.status, true);
        return;
      }
      if ("delayMs" in action) {
        await sleep(action.delayMs);
        await next();
        await record(c.res.status, true);
        return;
      }
      if ("drop" in action) {
        if (action.drop === "after") await next();
        await record(0, false);
        destroySocket(c);
        return c.body(null, 500);
      }
      if ("tooLargeOverRows" in action) {
        await record(413, false);
        return c.json({ detail: "Request entity too large." }, 413);
      }
      await record(action.status, false);
      if (action.retryAfter !== undefined) c.header("Retry-After", String(action.retryAfter));
      return c.json(
        { detail: action.detail ?? `injected fault (${action.status})` },
        action.status as 500,
      );
    };
  }

  private async match(
    c: Context,
    method: string,
    path: string,
    countRows: ChunkRowCounter,
  ): Promise<ActiveRule | undefined> {
    for (const active of this.rules) {
      const { rule } = active;
      if (active.remaining <= 0) continue;
      if (rule.method !== undefined && rule.method.toUpperCase() !== method) continue;
      if (!rule.path.test(path)) continue;
      if ("tooLargeOverRows" in rule.action) {
        const rows = await countRows(c);
        if (rows === null || rows <= rule.action.tooLargeOverRows) continue;
      }
      active.remaining -= 1;
      return active;
    }
    return undefined;
  }
}

function destroySocket(c: Context): void {
  const env = c.env as { incoming?: { socket?: { destroy(): void } } } | undefined;
  const socket = env?.incoming?.socket;
  if (!socket)
    throw new ConfigError(
      "config_invalid",
      "a dropped-connection fault needs a listening server (startPlatformServer)",
    );
  socket.destroy();
}

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
      const record = (status: number) => this.log.push({ method, path, status, fault: action });
      if (action === null) {
        await next();
        record(c.res.status);
        return;
      }
      if ("delayMs" in action) {
        await sleep(action.delayMs);
        await next();
        record(c.res.status);
        return;
      }
      if ("drop" in action) {
        if (action.drop === "after") await next();
        record(0);
        destroySocket(c);
        return c.body(null, 500);
      }
      if ("tooLargeOverRows" in action) {
        record(413);
        return c.json({ detail: "Request entity too large." }, 413);
      }
      record(action.status);
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

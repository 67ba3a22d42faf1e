import { describe, expect, it } from "vitest";
import {
  AuthError,
  classifyError,
  codeForStatus,
  RemoteApiError,
} from "../../src/store/remote/remote-errors.js";
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  resolveRetryPolicy,
  retryDelay,
  sleep,
} from "../../src/store/remote/retry.js";

describe("retry policy", () => {
  it("has the documented defaults", () => {
    const p = resolveRetryPolicy();
    expect([p.maxAttempts, p.baseDelayMs, p.maxDelayMs]).toEqual([4, 250, 8_000]);
    expect(resolveRetryPolicy({ maxAttempts: 0, baseDelayMs: -1 }).maxAttempts).toBe(4);
    expect(resolveRetryPolicy({ maxAttempts: 2 }).maxAttempts).toBe(2);
  });

  it("full jitter stays within [0, min(cap, base*2^(n-1))]", () => {
    const hi = { ...DEFAULT_RETRY_POLICY, random: () => 0.999999 };
    const lo = { ...DEFAULT_RETRY_POLICY, random: () => 0 };
    expect(backoffDelay(1, lo)).toBe(0);
    expect(backoffDelay(1, hi)).toBeLessThanOrEqual(250);
    expect(backoffDelay(1, hi)).toBeGreaterThanOrEqual(249);
    expect(backoffDelay(3, hi)).toBeLessThanOrEqual(1_000);
    expect(backoffDelay(3, hi)).toBeGreaterThanOrEqual(999);
    // capped
    expect(backoffDelay(10, hi)).toBeLessThanOrEqual(8_000);
    expect(backoffDelay(10, hi)).toBeGreaterThanOrEqual(7_999);
    expect(backoffDelay(100, hi)).toBeLessThanOrEqual(8_000);
    expect(backoffDelay(2, { ...DEFAULT_RETRY_POLICY, random: () => 0.5 })).toBe(250);
    for (let i = 0; i < 200; i += 1) {
      const d = backoffDelay(4, DEFAULT_RETRY_POLICY);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(2_000);
    }
  });

  it("parses Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-05-01T00:00:00Z");
    expect(parseRetryAfter("3", now)).toBe(3_000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("1.5", now)).toBe(1_500);
    expect(parseRetryAfter("Fri, 01 May 2026 00:00:05 GMT", now)).toBe(5_000);
    expect(parseRetryAfter("Thu, 30 Apr 2026 00:00:05 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter("-1", now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter(["2"], now)).toBe(2_000);
  });

  it("prefers Retry-After, capped by maxRetryAfterMs", () => {
    const p = resolveRetryPolicy({ maxRetryAfterMs: 10_000, random: () => 0.5 });
    expect(retryDelay(1, p, 2_000)).toBe(2_000);
    expect(retryDelay(1, p, 3_600_000)).toBe(10_000);
    expect(retryDelay(2, p, null)).toBe(250);
  });

  it("sleep rejects when the signal aborts", async () => {
    const controller = new AbortController();
    const pending = sleep(10_000, { signal: controller.signal });
    controller.abort(new Error("stop"));
    await expect(pending).rejects.toThrow("stop");
  });
});

describe("classifyError", () => {
  it("classifies statuses, transport codes and auth", () => {
    expect(classifyError(new RemoteApiError("x", { status: 429 }))).toBe("throttled");
    for (const s of [500, 502, 503, 504]) {
      expect(classifyError(new RemoteApiError("x", { status: s }))).toBe("transient");
    }
    for (const s of [400, 401, 403, 404, 409, 413, 501]) {
      expect(classifyError(new RemoteApiError("x", { status: s }))).toBe("fatal");
    }
    expect(classifyError(new AuthError("x", { status: 401 }))).toBe("fatal");
    expect(classifyError(Object.assign(new Error("reset"), { code: "ECONNRESET" }))).toBe(
      "transient",
    );
    expect(
      classifyError(
        new TypeError("fetch failed", {
          cause: Object.assign(new Error("s"), { code: "UND_ERR_SOCKET" }),
        }),
      ),
    ).toBe("transient");
    expect(classifyError(Object.assign(new Error("t"), { code: "UND_ERR_HEADERS_TIMEOUT" }))).toBe(
      "transient",
    );
    expect(classifyError(new RemoteApiError("t", { code: "timeout" }))).toBe("transient");
    expect(
      classifyError(
        new RemoteApiError("t", {
          code: "transport",
          cause: Object.assign(new Error(), { code: "ENOTFOUND" }),
        }),
      ),
    ).toBe("fatal");
    expect(classifyError(new DOMException("aborted", "AbortError"))).toBe("fatal");
    expect(classifyError(new Error("boom"))).toBe("fatal");
  });

  it("maps statuses to protocol 1.4 codes", () => {
    expect([400, 401, 403, 404, 409, 413, 429, 500, 503, 418].map(codeForStatus)).toEqual([
      "bad_request",
      "unauthorized",
      "forbidden",
      "not_found",
      "conflict",
      "payload_too_large",
      "throttled",
      "server_error",
      "server_error",
      "http_error",
    ]);
  });
});

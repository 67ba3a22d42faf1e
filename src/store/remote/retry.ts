/**
 * The retry strategy of the platform client: a bounded number of attempts, capped full-jitter
 * exponential backoff, and `Retry-After` honoured (capped too, so a hostile header cannot park
 * a run for hours).
 */

/** How the platform client retries throttled and transient failures. */
export interface RetryPolicy {
  /** Total attempts including the first (default 4). */
  readonly maxAttempts: number;
  /** Backoff base: attempt n waits up to `baseDelayMs * 2^(n-1)` (default 250). */
  readonly baseDelayMs: number;
  /** Cap of the exponential backoff (default 8 000). */
  readonly maxDelayMs: number;
  /** Cap of a server-sent `Retry-After` (default 60 000). */
  readonly maxRetryAfterMs: number;
  /** Random source in [0, 1) for the jitter (tests pin it). */
  readonly random: () => number;
}

/** The defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
  random: Math.random,
});

/**
 * Completes a partial policy with the defaults; non-finite or negative numbers fall back too.
 *
 * @example
 * ```ts
 * resolveRetryPolicy({ maxAttempts: 2 }).baseDelayMs; // 250
 * ```
 */
export function resolveRetryPolicy(partial: Partial<RetryPolicy> = {}): RetryPolicy {
  const num = (value: number | undefined, fallback: number, min: number): number =>
    value !== undefined && Number.isFinite(value) && value >= min ? value : fallback;
  return {
    maxAttempts: Math.floor(num(partial.maxAttempts, DEFAULT_RETRY_POLICY.maxAttempts, 1)),
    baseDelayMs: num(partial.baseDelayMs, DEFAULT_RETRY_POLICY.baseDelayMs, 0),
    maxDelayMs: num(partial.maxDelayMs, DEFAULT_RETRY_POLICY.maxDelayMs, 0),
    maxRetryAfterMs: num(partial.maxRetryAfterMs, DEFAULT_RETRY_POLICY.maxRetryAfterMs, 0),
    random: partial.random ?? DEFAULT_RETRY_POLICY.random,
  };
}

/**
 * Full-jitter backoff before retry number `retry` (1 = the first retry):
 * uniform in `[0, min(maxDelayMs, baseDelayMs * 2^(retry-1))]`.
 *
 * @example
 * ```ts
 * backoffDelay(3, { ...DEFAULT_RETRY_POLICY, random: () => 0.5 }); // 500
 * ```
 */
export function backoffDelay(retry: number, policy: RetryPolicy): number {
  const exponent = Math.max(0, Math.min(retry - 1, 30));
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  const r = Math.min(Math.max(policy.random(), 0), 1);
  return Math.floor(r * ceiling);
}

/**
 * Parses a `Retry-After` header into milliseconds: delta-seconds (`"3"`, `"1.5"`) or an HTTP
 * date. Returns `null` when absent or unparseable; a date in the past gives 0.
 *
 * @example
 * ```ts
 * parseRetryAfter("2"); // 2000
 * ```
 */
export function parseRetryAfter(
  value: string | readonly string[] | null | undefined,
  now: number = Date.now(),
): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (typeof raw !== "string") return null;
  const text = raw.trim();
  if (text === "") return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // Only accept something that looks like an HTTP date, not any string Date.parse tolerates.
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/**
 * The delay before retry number `retry`: the server's `Retry-After` when it sent one (capped
 * at `maxRetryAfterMs`), else the jittered backoff.
 *
 * @example
 * ```ts
 * retryDelay(1, DEFAULT_RETRY_POLICY, 2_000); // 2000
 * ```
 */
export function retryDelay(
  retry: number,
  policy: RetryPolicy,
  retryAfterMs: number | null,
): number {
  if (retryAfterMs !== null) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  return backoffDelay(retry, policy);
}

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as it aborts.
 *
 * @example
 * ```ts
 * await sleep(100, { signal: controller.signal });
 * ```
 */
export function sleep(ms: number, options: { signal?: AbortSignal } = {}): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

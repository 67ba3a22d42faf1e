import { ArgumentError } from "../errors.js";
/**
 * Time in tdag is a UTC instant held as integer epoch **microseconds** in a JS number
 * (exact up to the year 2255). `Date` only carries milliseconds, so microseconds survive only
 * through ISO strings, bigint microseconds or the frame's own columns.
 */

/** Anything tdag accepts where an instant is expected. */
export type InstantLike =
  | Date
  | string
  | number
  | bigint
  | { toMillis(): number; isValid?: boolean };

export type ParsedInstant =
  | { readonly ok: true; readonly micros: number }
  | { readonly ok: false; readonly reason: "naive" | "invalid" };

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses an ISO-8601 string into epoch microseconds, keeping up to 6 fractional digits
 * (digits beyond microseconds are truncated). A string without `Z` or an offset is naive:
 * it is rejected unless `assumeUtc` is set.
 */
export function parseIsoInstant(text: string, assumeUtc = false): ParsedInstant {
  const m = ISO_RE.exec(text.trim());
  if (!m) return { ok: false, reason: "invalid" };
  const [, y, mo, d, hh = "0", mi = "0", ss = "0", frac = "", zone] = m;
  if (zone === undefined && !assumeUtc) return { ok: false, reason: "naive" };
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(hh);
  const minute = Number(mi);
  const second = Number(ss);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return { ok: false, reason: "invalid" };
  }
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const date = new Date(0);
  date.setUTCFullYear(Number(y), month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  const ms = date.getTime();
  if (Number.isNaN(ms) || date.getUTCDate() !== day) return { ok: false, reason: "invalid" };
  const micros = ms * 1000 + Number(frac.padEnd(6, "0").slice(0, 6));
  let offsetMinutes = 0;
  if (zone !== undefined && zone !== "Z" && zone !== "z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0"));
  }
  return { ok: true, micros: micros - offsetMinutes * 60_000_000 };
}

/**
 * Turns an instant-like value into epoch microseconds without throwing.
 * - `Date`: its milliseconds; `number`: epoch **milliseconds** (the JS convention, fractional
 *   part kept to the microsecond); `bigint`: epoch **microseconds**;
 * - strings: ISO-8601 with `Z` or an offset (naive strings only with `assumeUtc`);
 * - luxon-like objects (`toMillis()`).
 */
export function parseInstant(value: unknown, assumeUtc = false): ParsedInstant {
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? { ok: false, reason: "invalid" } : { ok: true, micros: ms * 1000 };
  }
  if (typeof value === "string") return parseIsoInstant(value, assumeUtc);
  if (typeof value === "number") {
    return Number.isFinite(value)
      ? { ok: true, micros: Math.round(value * 1000) }
      : { ok: false, reason: "invalid" };
  }
  if (typeof value === "bigint") {
    // Beyond 2^53 a number cannot hold every microsecond: refuse rather than round silently.
    const micros = Number(value);
    return Number.isSafeInteger(micros) ? { ok: true, micros } : { ok: false, reason: "invalid" };
  }
  if (value !== null && typeof value === "object" && "toMillis" in value) {
    const v = value as { toMillis(): number; isValid?: boolean };
    if (v.isValid === false) return { ok: false, reason: "invalid" };
    const ms = v.toMillis();
    return Number.isFinite(ms) ? { ok: true, micros: ms * 1000 } : { ok: false, reason: "invalid" };
  }
  return { ok: false, reason: "invalid" };
}

/**
 * Like {@link parseInstant} but throws a `TypeError` naming `what` when the value is not an
 * instant (naive values are read as UTC when `assumeUtc`).
 *
 * @example
 * ```ts
 * toEpochMicros("2024-01-01T00:00:00.000001Z"); // 1704067200000001
 * ```
 */
export function toEpochMicros(value: InstantLike, assumeUtc = false, what = "value"): number {
  const parsed = parseInstant(value, assumeUtc);
  if (parsed.ok) return parsed.micros;
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  throw new ArgumentError(
    parsed.reason === "naive" ? "naive_datetime" : "invalid_datetime",
    parsed.reason === "naive"
      ? `${what} ${shown} has no time zone: give a UTC instant (suffix Z or an offset)`
      : `${what} ${shown} is not a valid instant`,
  );
}

/** Epoch microseconds to a `Date` (sub-millisecond digits are dropped). */
export function microsToDate(micros: number): Date {
  return new Date(Math.floor(micros / 1000));
}

/** A `Date` to epoch microseconds. */
export function dateToMicros(date: Date): number {
  return date.getTime() * 1000;
}

/**
 * Epoch microseconds to RFC 3339 UTC text: `2024-01-01T00:00:00Z`, with `.ffffff` only when the
 * sub-second part is non-zero.
 */
export function microsToIso(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const subMicros = micros - ms * 1000;
  // YYYY-MM-DDTHH:MM:SS.mmmZ, or ±YYYYYY-... outside years 0000-9999.
  const base = new Date(ms).toISOString();
  const dot = base.lastIndexOf(".");
  const head = base.slice(0, dot);
  const millis = base.slice(dot + 1, dot + 4);
  if (millis === "000" && subMicros === 0) return `${head}Z`;
  return `${head}.${millis}${String(subMicros).padStart(3, "0")}Z`;
}

/** Microseconds in common units, for window arithmetic. */
export const MICROS = {
  second: 1_000_000,
  minute: 60_000_000,
  hour: 3_600_000_000,
  day: 86_400_000_000,
} as const;

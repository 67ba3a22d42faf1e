import * as z from "zod";
import { ArgumentError } from "../errors.js";

/** A luxon `DateTime` (or anything shaped like it): epoch millis plus a UTC offset in minutes. */
export interface LuxonLike {
  toMillis(): number;
  readonly offset: number;
  readonly isValid?: boolean;
}

/** What {@link zDateTime} accepts. */
export type DateTimeInput = Date | string | LuxonLike | DateTimeValue;

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?$/;

/**
 * A datetime as Python holds it: wall-clock fields to the microsecond plus a fixed UTC offset, or
 * no offset at all (naive). `isoformat()` prints exactly like Python's `datetime.isoformat()`, which
 * is what the hashes contain: `+00:00` (never `Z`), the given offset kept, `.ffffff` only when the
 * microseconds are non-zero, nothing for a naive value.
 *
 * @example
 * ```ts
 * DateTimeValue.from("2024-01-01T09:30:00.000123+05:30").isoformat(); // "2024-01-01T09:30:00.000123+05:30"
 * DateTimeValue.from("2024-01-01T00:00:00Z").isoformat(); // "2024-01-01T00:00:00+00:00"
 * DateTimeValue.from("2024-01-01").isoformat(); // "2024-01-01T00:00:00" (naive)
 * ```
 */
export class DateTimeValue {
  /**
   * @param wallMicros the wall-clock time as microseconds since 1970-01-01T00:00 *in its own
   *   offset* (equal to epoch microseconds when the offset is 0)
   * @param utcOffsetSeconds the fixed offset, or null for a naive datetime
   */
  constructor(
    readonly wallMicros: number,
    readonly utcOffsetSeconds: number | null,
  ) {
    if (!Number.isSafeInteger(wallMicros))
      throw new ArgumentError("invalid_datetime", `invalid datetime ${wallMicros}`);
  }

  /**
   * Reads a `Date` (UTC, millisecond precision), an ISO-8601 string (offset or `Z` kept, naive
   * when none, date-only as naive midnight, up to 6 fractional digits kept), a luxon `DateTime`
   * (its offset kept) or a `DateTimeValue`. Throws an `ArgumentError` (`invalid_datetime`) for anything else.
   */
  static from(value: DateTimeInput): DateTimeValue {
    if (value instanceof DateTimeValue) return value;
    if (value instanceof Date) {
      const ms = value.getTime();
      if (Number.isNaN(ms)) throw new ArgumentError("invalid_datetime", "Invalid Date");
      return new DateTimeValue(ms * 1000, 0);
    }
    if (typeof value === "string") return parseIso(value);
    if (isLuxonLike(value)) {
      if (value.isValid === false)
        throw new ArgumentError("invalid_datetime", "invalid luxon DateTime");
      const ms = value.toMillis();
      if (!Number.isFinite(ms))
        throw new ArgumentError("invalid_datetime", "invalid luxon DateTime");
      const offsetSeconds = Math.round(value.offset * 60);
      return new DateTimeValue(ms * 1000 + offsetSeconds * 1_000_000, offsetSeconds);
    }
    throw new ArgumentError("invalid_datetime", `not a datetime: ${String(value)}`);
  }

  /** True when the datetime has no UTC offset. */
  get isNaive(): boolean {
    return this.utcOffsetSeconds === null;
  }

  /** Epoch microseconds of the instant (a naive value is read as UTC). */
  get epochMicros(): number {
    return this.wallMicros - (this.utcOffsetSeconds ?? 0) * 1_000_000;
  }

  /** The instant as a `Date` (sub-millisecond digits dropped; naive read as UTC). */
  toDate(): Date {
    return new Date(Math.floor(this.epochMicros / 1000));
  }

  /** Python `datetime.isoformat()`. */
  isoformat(): string {
    const ms = Math.floor(this.wallMicros / 1000);
    const micros = this.wallMicros - ms * 1000 + (((ms % 1000) + 1000) % 1000) * 1000;
    const base = new Date(ms).toISOString();
    const date =
      base.startsWith("+") || base.startsWith("-") ? base.slice(3, 19) : base.slice(0, 19);
    const frac = micros === 0 ? "" : `.${String(micros).padStart(6, "0")}`;
    return `${date}${frac}${formatOffset(this.utcOffsetSeconds)}`;
  }

  toString(): string {
    return this.isoformat();
  }

  toJSON(): string {
    return this.isoformat();
  }
}

function formatOffset(seconds: number | null): string {
  if (seconds === null) return "";
  const sign = seconds < 0 ? "-" : "+";
  const abs = Math.abs(seconds);
  const hh = String(Math.floor(abs / 3600)).padStart(2, "0");
  const mm = String(Math.floor((abs % 3600) / 60)).padStart(2, "0");
  const ss = abs % 60;
  return `${sign}${hh}:${mm}${ss === 0 ? "" : `:${String(ss).padStart(2, "0")}`}`;
}

function parseIso(text: string): DateTimeValue {
  const m = ISO_RE.exec(text.trim());
  if (!m)
    throw new ArgumentError(
      "invalid_datetime",
      `not an ISO-8601 datetime: ${JSON.stringify(text)}`,
    );
  const [, y, mo, d, hh = "0", mi = "0", ss = "0", frac = "", zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(hh);
  const minute = Number(mi);
  const second = Number(ss);
  const ms = Date.UTC(Number(y), month - 1, day, hour, minute, second);
  const check = new Date(ms);
  if (
    Number.isNaN(ms) ||
    month < 1 ||
    month > 12 ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    check.getUTCDate() !== day
  ) {
    throw new ArgumentError("invalid_datetime", `not a valid datetime: ${JSON.stringify(text)}`);
  }
  const wall = ms * 1000 + Number(frac.padEnd(6, "0").slice(0, 6));
  let offset: number | null = null;
  if (zone === "Z" || zone === "z") offset = 0;
  else if (zone !== undefined) {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replaceAll(":", "");
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2, 4) || "0");
    const os = Number(digits.slice(4, 6) || "0");
    if (oh > 23 || om > 59 || os > 59)
      throw new ArgumentError("invalid_datetime", `invalid UTC offset in ${text}`);
    offset = sign * (oh * 3600 + om * 60 + os);
  }
  return new DateTimeValue(wall, offset);
}

function isLuxonLike(value: unknown): value is LuxonLike {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { toMillis?: unknown }).toMillis === "function" &&
    typeof (value as { offset?: unknown }).offset === "number"
  );
}

function isDateTimeInput(value: unknown): value is DateTimeInput {
  return (
    value instanceof Date ||
    typeof value === "string" ||
    value instanceof DateTimeValue ||
    isLuxonLike(value)
  );
}

/**
 * A config field holding a datetime that hashes exactly like Python's: the parsed value is a
 * {@link DateTimeValue} keeping the given offset (or naive-ness) and microseconds. Accepts `Date`,
 * ISO-8601 strings and luxon `DateTime`s. (A plain `z.date()` also works but only has
 * milliseconds and always hashes as UTC.)
 *
 * @example
 * ```ts
 * const Config = DataNodeConfiguration.extend({ start: zDateTime() });
 * Config.parse({ start: "2024-01-01T09:30:00+05:30" }).start.isoformat(); // "2024-01-01T09:30:00+05:30"
 * ```
 */
export function zDateTime() {
  return z
    .custom<DateTimeInput>(isDateTimeInput, {
      message: "Expected a datetime (Date, ISO-8601 string or luxon DateTime)",
    })
    .transform((value, ctx): DateTimeValue => {
      try {
        return DateTimeValue.from(value);
      } catch (err) {
        ctx.issues.push({
          code: "custom",
          message: err instanceof Error ? err.message : String(err),
          input: value,
        });
        return z.NEVER;
      }
    });
}

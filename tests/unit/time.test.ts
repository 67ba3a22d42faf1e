import { describe, expect, it } from "vitest";
import {
  dateToMicros,
  MICROS,
  microsToDate,
  microsToIso,
  parseInstant,
  parseIsoInstant,
  toEpochMicros,
} from "../../src/frame/time.js";

const JAN1 = Date.UTC(2024, 0, 1) * 1000; // 2024-01-01T00:00:00Z in micros

describe("parseIsoInstant", () => {
  it("keeps microseconds and truncates digits beyond them", () => {
    expect(parseIsoInstant("2024-01-01T00:00:00.000001Z")).toEqual({ ok: true, micros: JAN1 + 1 });
    expect(parseIsoInstant("2024-01-01T00:00:00.123456789Z")).toEqual({
      ok: true,
      micros: JAN1 + 123_456,
    });
    expect(parseIsoInstant("2024-01-01T00:00:00,5Z")).toEqual({ ok: true, micros: JAN1 + 500_000 });
  });

  it("normalises offsets to UTC", () => {
    expect(parseIsoInstant("2024-01-01T01:00:00+01:00")).toEqual({ ok: true, micros: JAN1 });
    expect(parseIsoInstant("2023-12-31T19:30:00-0430")).toEqual({ ok: true, micros: JAN1 });
    expect(parseIsoInstant("2024-01-01T05:00:00+05")).toEqual({ ok: true, micros: JAN1 });
    expect(parseIsoInstant("2024-01-01 00:00:00z")).toEqual({ ok: true, micros: JAN1 });
    expect(parseIsoInstant("2024-01-01Z")).toEqual({ ok: true, micros: JAN1 });
  });

  it("rejects naive text unless told to assume UTC", () => {
    expect(parseIsoInstant("2024-01-01T00:00:00")).toEqual({ ok: false, reason: "naive" });
    expect(parseIsoInstant("2024-01-01")).toEqual({ ok: false, reason: "naive" });
    expect(parseIsoInstant("2024-01-01T00:00:00", true)).toEqual({ ok: true, micros: JAN1 });
  });

  it("rejects impossible dates and garbage", () => {
    for (const text of [
      "2024-02-30T00:00:00Z",
      "2023-02-29T00:00:00Z",
      "2024-13-01T00:00:00Z",
      "2024-01-01T24:00:00Z",
      "2024-01-01T00:60:00Z",
      "yesterday",
      "",
    ]) {
      expect(parseIsoInstant(text), text).toEqual({ ok: false, reason: "invalid" });
    }
    expect(parseIsoInstant("2024-02-29T00:00:00Z").ok).toBe(true);
  });

  it("reads years below 100 literally (Date.UTC would add 1900)", () => {
    const parsed = parseIsoInstant("0050-06-01T00:00:00Z");
    expect(parsed.ok && microsToIso(parsed.micros)).toBe("0050-06-01T00:00:00Z");
  });

  it("handles instants before 1970 with sub-second digits", () => {
    const parsed = parseIsoInstant("1969-12-31T23:59:59.999999Z");
    expect(parsed).toEqual({ ok: true, micros: -1 });
    expect(microsToIso(-1)).toBe("1969-12-31T23:59:59.999999Z");
  });
});

describe("parseInstant", () => {
  it("reads Dates, epoch-millisecond numbers, epoch-microsecond bigints and luxon-likes", () => {
    expect(parseInstant(new Date("2024-01-01T00:00:00Z"))).toEqual({ ok: true, micros: JAN1 });
    expect(parseInstant(JAN1 / 1000 + 0.001)).toEqual({ ok: true, micros: JAN1 + 1 });
    expect(parseInstant(BigInt(JAN1) + 7n)).toEqual({ ok: true, micros: JAN1 + 7 });
    expect(parseInstant({ toMillis: () => JAN1 / 1000 })).toEqual({ ok: true, micros: JAN1 });
  });

  it("rejects invalid values", () => {
    expect(parseInstant(new Date("nope"))).toEqual({ ok: false, reason: "invalid" });
    expect(parseInstant(Number.NaN)).toEqual({ ok: false, reason: "invalid" });
    expect(parseInstant(Infinity)).toEqual({ ok: false, reason: "invalid" });
    expect(parseInstant({ toMillis: () => 0, isValid: false })).toEqual({
      ok: false,
      reason: "invalid",
    });
    expect(parseInstant(true)).toEqual({ ok: false, reason: "invalid" });
    expect(parseInstant(null)).toEqual({ ok: false, reason: "invalid" });
  });

  it("refuses bigint microseconds a number cannot hold exactly", () => {
    expect(parseInstant(2n ** 60n)).toEqual({ ok: false, reason: "invalid" });
  });
});

describe("toEpochMicros", () => {
  it("returns microseconds or throws an ArgumentError naming the value", () => {
    expect(toEpochMicros("2024-01-01T00:00:00.000001Z")).toBe(JAN1 + 1);
    expect(() =>
      toEpochMicros("2024-01-01T00:00:00", false, "start"),
    ).toThrowErrorMatchingInlineSnapshot(
      `[ArgumentError: start "2024-01-01T00:00:00" has no time zone: give a UTC instant (suffix Z or an offset)]`,
    );
    expect(() => toEpochMicros("soon")).toThrowErrorMatchingInlineSnapshot(
      `[ArgumentError: value "soon" is not a valid instant]`,
    );
    expect(toEpochMicros("2024-01-01T00:00:00", true)).toBe(JAN1);
  });
});

describe("conversions", () => {
  it("formats RFC 3339 UTC text with microseconds only when present", () => {
    expect(microsToIso(JAN1)).toBe("2024-01-01T00:00:00Z");
    expect(microsToIso(JAN1 + 1)).toBe("2024-01-01T00:00:00.000001Z");
    expect(microsToIso(JAN1 + 120_000)).toBe("2024-01-01T00:00:00.120000Z");
  });

  it("round-trips Dates at millisecond precision", () => {
    const date = new Date("2024-03-04T05:06:07.089Z");
    expect(microsToDate(dateToMicros(date))).toEqual(date);
    expect(microsToDate(dateToMicros(date) + 999)).toEqual(date);
  });

  it("exposes unit constants", () => {
    expect(MICROS.day).toBe(24 * MICROS.hour);
    expect(MICROS.hour).toBe(60 * MICROS.minute);
    expect(MICROS.minute).toBe(60 * MICROS.second);
  });

  it("does not depend on the process time zone", () => {
    // vitest pins TZ=UTC; text with an offset must give the same instant in any zone.
    expect(process.env.TZ).toBe("UTC");
    expect(toEpochMicros("2024-01-01T09:00:00+09:00")).toBe(JAN1);
  });
});

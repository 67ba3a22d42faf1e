import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import {
  DTYPE_TOKENS,
  frameDTypeToToken,
  isDtypeToken,
  normalizeDtypeToken,
  tokenToFrameDType,
} from "../../src/frame/dtype-tokens.js";
import { DTYPES } from "../../src/frame/dtypes.js";

describe("normalizeDtypeToken", () => {
  it.each([
    ["date", "date"],
    ["datetime.date", "date"],
    ["datetime", "timestamp with time zone"],
    ["datetime.datetime", "timestamp with time zone"],
    ["datetime64[ns, UTC]", "timestamp with time zone"],
    ["TIMESTAMPTZ", "timestamp with time zone"],
    ["Timestamp  With\tTime_Zone", "timestamp with time zone"],
    ["datetime64[ns]", "datetime64[ns]"],
    ["timestamp", "datetime64[ns]"],
    ["timestamp without time zone", "datetime64[ns]"],
    ["datetime_without_time_zone", "datetime64[ns]"],
    ["datetime naive", "datetime64[ns]"],
    ["object", "string"],
    ["str", "string"],
    ["String", "string"],
    ["text", "string"],
    ["varchar", "string"],
    ["VARCHAR(255)", "string"],
    ["nvarchar(20)", "string"],
    ["char", "string"],
    ["unicode", "string"],
    ["uuid", "uuid"],
    ["UUIDType", "uuid"],
    ["uuid_", "uuid"],
    ["PostgreSQLUUID", "uuid"],
    ["json", "json"],
    ["JSONB", "jsonb"],
    ["bool", "bool"],
    ["boolean", "bool"],
    ["int16", "int16"],
    ["smallint", "int16"],
    ["int2", "int16"],
    ["int32", "int32"],
    ["integer", "int32"],
    ["int", "int32"],
    ["int4", "int32"],
    ["Int64", "int64"],
    ["BigInteger", "int64"],
    ["bigint", "int64"],
    ["int8", "int64"],
    ["uint16", "int64"],
    ["uint32", "int64"],
    ["uint64", "int64"],
    ["float32", "float32"],
    ["real", "float32"],
    ["float4", "float32"],
    ["float", "float64"],
    ["Float64", "float64"],
    ["double", "float64"],
    [" double_precision ", "float64"],
    ["float8", "float64"],
    ["numeric", "numeric"],
    ["numeric(18, 4)", "numeric"],
    ["decimal", "numeric"],
  ])("%j → %j", (text, token) => {
    expect(normalizeDtypeToken(text)).toBe(token);
  });

  it("returns unknown spellings unchanged", () => {
    expect(normalizeDtypeToken("Decimal128")).toBe("Decimal128");
    expect(normalizeDtypeToken("uint8")).toBe("uint8");
    expect(normalizeDtypeToken("interval ")).toBe("interval ");
    expect(normalizeDtypeToken("character varying")).toBe("character varying");
  });

  it("rejects an empty dtype", () => {
    expect(() => normalizeDtypeToken("  ")).toThrow(ConfigError);
    expect(() => normalizeDtypeToken("")).toThrowErrorMatchingInlineSnapshot(
      `[ConfigError: dtype must be a non-empty string, got ""]`,
    );
  });

  it("rejects naive datetimes for remote tables", () => {
    expect(normalizeDtypeToken("timestamp", { remote: false })).toBe("datetime64[ns]");
    expect(() =>
      normalizeDtypeToken("timestamp", { remote: true }),
    ).toThrowErrorMatchingInlineSnapshot(
      `[ConfigError: dtype "timestamp" is a naive datetime, which remote tables do not accept: use "timestamp with time zone"]`,
    );
    expect(normalizeDtypeToken("timestamptz", { remote: true })).toBe("timestamp with time zone");
  });

  it("is idempotent on canonical tokens", () => {
    for (const token of DTYPE_TOKENS) expect(normalizeDtypeToken(token)).toBe(token);
    expect(isDtypeToken("float64")).toBe(true);
    expect(isDtypeToken("Float64")).toBe(false);
  });
});

describe("Frame dtype ↔ token", () => {
  it("maps every Frame dtype to a token that maps back to it", () => {
    expect(Object.fromEntries(DTYPES.map((d) => [d, frameDTypeToToken(d)]))).toEqual({
      float64: "float64",
      int64: "int64",
      bool: "bool",
      string: "string",
      timestamptz: "timestamp with time zone",
      date: "date",
      json: "json",
    });
    for (const dtype of DTYPES) expect(tokenToFrameDType(frameDTypeToToken(dtype))).toBe(dtype);
  });

  it("gives the Frame dtype that stores each token", () => {
    expect(Object.fromEntries(DTYPE_TOKENS.map((t) => [t, tokenToFrameDType(t) ?? null]))).toEqual({
      date: "date",
      "timestamp with time zone": "timestamptz",
      "datetime64[ns]": null,
      string: "string",
      uuid: "string",
      json: "json",
      jsonb: "json",
      bool: "bool",
      int16: "int64",
      int32: "int64",
      int64: "int64",
      float32: "float64",
      float64: "float64",
      numeric: "float64",
    });
  });

  it("normalises before mapping; unknown and empty give undefined", () => {
    expect(tokenToFrameDType("BIGINT")).toBe("int64");
    expect(tokenToFrameDType("timestamp")).toBeUndefined();
    expect(tokenToFrameDType("Decimal128")).toBeUndefined();
    expect(tokenToFrameDType("")).toBeUndefined();
  });
});

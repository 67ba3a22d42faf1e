import { describe, expect, it } from "vitest";
import { ArgumentError } from "../../src/errors.js";
import {
  needsExactParse,
  parseJsonExact,
  parseJsonWithInt64,
  stringifyJson,
  writeJson,
} from "../../src/frame/exact-json.js";

const MAX = 2n ** 63n - 1n;
const MIN = -(2n ** 63n);
const ids = new Set(["id"]);

describe("parseJsonExact: int64 cells of rows", () => {
  it("reads the int64 cells exactly, numbers when safe and bigints beyond", () => {
    const text = `[{"id": 9223372036854775807, "x": 9223372036854775807},
      {"id": -9223372036854775808, "x": 1.5}, {"id": 9007199254740993, "x": null},
      {"id": 9007199254740991, "x": 2}, {"id": null}]`;
    expect(parseJsonExact(text, { columns: ids })).toEqual([
      { id: MAX, x: Number(MAX) }, // a float64 cell: the nearest double, as JSON.parse reads it
      { id: MIN, x: 1.5 },
      { id: 2n ** 53n + 1n, x: null },
      { id: 2 ** 53 - 1, x: 2 },
      { id: null },
    ]);
  });

  it("negative zero in an int64 cell is 0; in a float cell it stays -0", () => {
    const [row] = parseJsonExact('[{"id": -0, "f": -0, "g": -0.0}]', { columns: ids }) as [
      Record<string, unknown>,
    ];
    expect(Object.is(row["id"], 0)).toBe(true);
    expect(Object.is(row["f"], -0)).toBe(true);
    expect(Object.is(row["g"], -0)).toBe(true);
  });

  it("an int64 cell's value counts, not its token: 100.0, 1e2 and 9.223372036854775807e18", () => {
    const text =
      '[{"id": 100.0}, {"id": 1e2}, {"id": 9.223372036854775807e18}, {"id": 1.5}, {"id": -12.50e1}]';
    expect(parseJsonExact(text, { columns: ids })).toEqual([
      { id: 100 },
      { id: 100 },
      { id: MAX },
      { id: 1.5 },
      { id: -125 },
    ]);
  });

  it("exponents in float columns read as JSON.parse reads them", () => {
    const text = '[{"id": 1, "f": 1e+21, "g": 1.7976931348623157e308, "h": 5e-324, "k": 2E-3}]';
    expect(parseJsonExact(text, { columns: ids })).toEqual(JSON.parse(text));
  });

  it("strings with digits, escapes and quotes are strings, never numbers", () => {
    const text = String.raw`[{"id": "9223372036854775807", "s": "a \"9223372036854775807\" b", "u": "\u00e9\n\\", "e": ""}]`;
    const parsed = parseJsonExact(text, { columns: ids });
    expect(parsed).toEqual(JSON.parse(text));
    expect((parsed as Record<string, unknown>[])[0]!["id"]).toBe("9223372036854775807");
  });

  it("nested json cells are read as JSON.parse reads them, even under an int64 column name", () => {
    const text = '[{"id": 5, "j": {"id": 9223372036854775807, "a": [1, {"id": 2}]}}]';
    const parsed = parseJsonExact(text, { columns: ids }) as Record<string, unknown>[];
    expect(parsed).toEqual(JSON.parse(text));
    expect(typeof (parsed[0]!["j"] as Record<string, unknown>)["id"]).toBe("number");
  });

  it("whitespace anywhere JSON allows it, and none elsewhere", () => {
    const text = ' \n\t[ {\r\n "id" :\t9223372036854775807 , "x" : [ ] , "y" : { } } ] \n';
    expect(parseJsonExact(text, { columns: ids })).toEqual([{ id: MAX, x: [], y: {} }]);
    expect(parseJsonExact("[]", { columns: ids })).toEqual([]);
  });

  it("rows under a page key: only that list's rows are rows", () => {
    const text =
      '{"results": [{"id": 9223372036854775807}], "next_offset": 9007199254740993, "id": 9223372036854775807}';
    expect(parseJsonExact(text, { columns: ids, rowsKey: "results" })).toEqual({
      results: [{ id: MAX }],
      next_offset: 2 ** 53,
      id: Number(MAX),
    });
  });

  it("without columns, every cell of a row is exact", () => {
    expect(parseJsonExact('[{"a": 9223372036854775807, "b": 1.0}]', {})).toEqual([
      { a: MAX, b: 1 },
    ]);
  });

  it("without cells, every integer token anywhere is exact; floats stay floats", () => {
    expect(
      parseJsonExact('{"k": [9223372036854775807, 1e+21, 100.0, {"z": -9223372036854775808}]}'),
    ).toEqual({ k: [MAX, 1e21, 100, { z: MIN }] });
    expect(parseJsonExact("18446744073709551616")).toBe(2n ** 64n);
    expect(parseJsonExact(`1${"0".repeat(400)}`)).toBe(Number.POSITIVE_INFINITY);
    expect(parseJsonExact(`[1e999999999999, -0]`)).toEqual([Number.POSITIVE_INFINITY, 0]);
  });

  it("keeps an own __proto__ key, as JSON.parse does", () => {
    const parsed = parseJsonExact('[{"__proto__": {"polluted": 1}, "id": 1}]', {
      columns: ids,
    }) as Record<string, unknown>[];
    expect(Object.getPrototypeOf(parsed[0])).toBe(Object.prototype);
    expect(Object.keys(parsed[0]!)).toEqual(["__proto__", "id"]);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it.each([
    ["", "Unexpected end of JSON input"],
    ["[1,]", "Unexpected token"],
    ["[01]", "Expected ',' or ']'"],
    ["[1 2]", "Expected ',' or ']'"],
    ['{"a" 1}', "Expected ':'"],
    ["{a: 1}", "Expected double-quoted property name"],
    ['["a\u0001"]', "Bad control character"],
    ['["abc', "Unterminated string"],
    ['["\\x"]', "Bad escaped character"],
    ["[1] x", "Unexpected non-whitespace character"],
    ["[-]", "Invalid number"],
    ["[+1]", "Unexpected token"],
    ["[NaN]", "Unexpected token"],
    ["[tru]", "Unexpected token"],
    ["[.5]", "Unexpected token"],
  ])("refuses invalid JSON %j as an ArgumentError (invalid_json)", (text, message) => {
    let error: unknown;
    try {
      parseJsonExact(text, { columns: ids });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as ArgumentError).code).toBe("invalid_json");
    expect((error as ArgumentError).message).toContain(message);
  });

  it("refuses nesting deeper than it can recurse", () => {
    const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
    expect(() => parseJsonExact(deep)).toThrow(/Nesting too deep/);
  });
});

describe("parseJsonWithInt64: the native parse first", () => {
  it("needs the exact parse only when an int64 cell is at or beyond 2^53", () => {
    const cells = { columns: ids };
    expect(needsExactParse(JSON.parse('[{"id": 9007199254740991, "x": 1e300}]'), cells)).toBe(
      false,
    );
    expect(needsExactParse(JSON.parse('[{"id": 9007199254740992}]'), cells)).toBe(true);
    expect(needsExactParse(JSON.parse('[{"id": -9007199254740993}]'), cells)).toBe(true);
    expect(needsExactParse(JSON.parse('{"results": [{"id": 1e20}]}'), cells)).toBe(false);
    expect(
      needsExactParse(JSON.parse('{"results": [{"id": 1e20}]}'), { ...cells, rowsKey: "results" }),
    ).toBe(true);
    expect(needsExactParse(JSON.parse('{"a": [[1e16]]}'))).toBe(true);
    expect(needsExactParse(JSON.parse('{"a": [[1e15, "9999999999999999999"]]}'))).toBe(false);
  });

  it("gives JSON.parse's value when every int64 cell is safe, the exact one otherwise", () => {
    const safe = '[{"id": 1, "f": 0.1}]';
    expect(parseJsonWithInt64(safe, { columns: ids })).toEqual(JSON.parse(safe));
    expect(parseJsonWithInt64('[{"id": 9223372036854775807}]', { columns: ids })).toEqual([
      { id: MAX },
    ]);
    expect(() => parseJsonWithInt64("[1,", { columns: ids })).toThrow(SyntaxError);
  });
});

describe("stringifyJson and writeJson", () => {
  it("write bigints as exact integer tokens, everything else as JSON.stringify", () => {
    const value = {
      a: MAX,
      b: [MIN, 1.5, null, undefined, 'x"y'],
      c: undefined,
      d: new Date(0),
      e: { f: -0, g: Number.NaN, h: true },
    };
    const text = stringifyJson(value);
    expect(text).toBe(
      '{"a":9223372036854775807,"b":[-9223372036854775808,1.5,null,null,"x\\"y"],"d":"1970-01-01T00:00:00.000Z","e":{"f":0,"g":null,"h":true}}',
    );
    const { a: _a, b: _b, ...rest } = value;
    expect(stringifyJson(rest)).toBe(JSON.stringify(rest));
    expect(writeJson(rest)).toBe(JSON.stringify(rest));
    expect(parseJsonExact(text)).toMatchObject({ a: MAX, b: [MIN, 1.5, null, null, 'x"y'] });
  });

  it("never mistakes a string of the data for a bigint", () => {
    const value = { n: MAX, s: "\u0000123", t: "\\u0000123", u: '"\u0000-5"' };
    expect(JSON.parse(stringifyJson(value))).toEqual({ ...value, n: Number(MAX) });
    expect(stringifyJson(value)).toContain('"n":9223372036854775807,');
  });

  it("refuses a cycle with an ArgumentError", () => {
    const cyclic: Record<string, unknown> = { n: 1n };
    cyclic["self"] = cyclic;
    expect(() => stringifyJson(cyclic)).toThrow(ArgumentError);
  });
});

import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePythonJson } from "../../src/hashing/lexeme-json.js";
import {
  dictFromEntries,
  PyFloat,
  PyIntKeyDict,
  type PyValue,
} from "../../src/hashing/py-value.js";
import {
  compareCodePoints,
  escapePythonString,
  formatPythonFloat,
  pythonJsonDumps,
} from "../../src/hashing/python-json.js";

/**
 * Independent formulation of the spec rule (datanode-core.md §3.8): take `toExponential()`
 * (shortest digits d.ddd and exponent X); if -4 <= X < 16 write positional notation with `.0`
 * when integral, else `d[.ddd]e±XX`.
 */
function referenceFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant = "", expText = ""] = x.toExponential().split("e");
  const exp = Number(expText);
  const negative = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const m = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${Math.abs(exp) < 10 ? "0" : ""}${Math.abs(exp)}`;
  }
  // positional: shift the decimal point by exp
  const scaled = exp >= 0 ? digits.padEnd(exp + 1, "0") : "0".repeat(-exp) + digits;
  const pointAt = exp >= 0 ? exp + 1 : 1;
  const intPart = scaled.slice(0, pointAt);
  const frac = scaled.slice(pointAt);
  return `${sign}${intPart}.${frac === "" ? "0" : frac}`;
}

const anyDouble = fc.oneof(
  fc.double(),
  fc.double({ min: -1e-300, max: 1e-300 }),
  fc.integer().map((i) => i * 1.0),
  fc.constantFrom(
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    1e16,
    1e15,
    9999999999999998,
    1e-4,
    1e-5,
    0.1,
    100,
  ),
  fc
    .tuple(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: -330, max: 310 }))
    .map(([m, e]) => Number(`${m}e${e}`)),
);

describe("Python float repr", () => {
  it.each([
    [1, "1.0"],
    [100, "100.0"],
    [0.5, "0.5"],
    [1e-7, "1e-07"],
    [1.5e-7, "1.5e-07"],
    [1e16, "1e+16"],
    [1e22, "1e+22"],
    [1e-4, "0.0001"],
    [1e-5, "1e-05"],
    [123456789012345680, "1.2345678901234568e+17"],
    [9999999999999998, "9999999999999998.0"],
    [-0, "-0.0"],
    [Number.NaN, "NaN"],
    [Number.POSITIVE_INFINITY, "Infinity"],
    [Number.NEGATIVE_INFINITY, "-Infinity"],
    [5e-324, "5e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [0.1 + 0.2, "0.30000000000000004"],
  ])("%s → %s", (x, expected) => {
    expect(formatPythonFloat(x)).toBe(expected);
  });

  it("matches the spec's toExponential formulation for random doubles (incl. subnormal, huge, integral)", () => {
    fc.assert(
      fc.property(anyDouble, (x) => {
        expect(formatPythonFloat(x)).toBe(referenceFloat(x));
        // and round-trips to the same double
        if (Number.isFinite(x)) expect(Number(formatPythonFloat(x))).toBe(x);
      }),
      { numRuns: 5000 },
    );
  });
});

const anyCodeUnitString = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
});
const anyUnicodeString = fc.oneof(fc.string({ unit: "binary" }), anyCodeUnitString, fc.string());

describe("Python string escaping", () => {
  it.each([
    ["📈", '"\\ud83d\\udcc8"'],
    ["é", '"\\u00e9"'],
    ['a"b\\c/', '"a\\"b\\\\c/"'],
    ["\n\r\t\b\f", '"\\n\\r\\t\\b\\f"'],
    ["\u0000\u001f\u007f", '"\\u0000\\u001f\\u007f"'],
    ["\uFFFF\uE000", '"\\uffff\\ue000"'],
  ])("%j", (input, expected) => {
    expect(escapePythonString(input)).toBe(expected);
  });

  it("is pure printable ASCII and round-trips through JSON.parse (astral, controls, lone surrogates)", () => {
    fc.assert(
      fc.property(anyUnicodeString, (s) => {
        const out = escapePythonString(s);
        expect(out).toMatch(/^[\x20-\x7e]*$/);
        expect(JSON.parse(out)).toBe(s);
        // every \\uXXXX escape uses 4 lowercase hex digits (scan escapes pairwise: `\\\\` is one)
        for (const m of out.matchAll(/\\(u.{4}|.)/g)) {
          if (m[1]?.startsWith("u")) expect(m[1]).toMatch(/^u[0-9a-f]{4}$/);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

/** Reference order: lexicographic over arrays of code points. */
function byCodePoints(a: string, b: string): number {
  const ca = Array.from(a, (c) => c.codePointAt(0) as number);
  const cb = Array.from(b, (c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    if (ca[i] !== cb[i]) return (ca[i] as number) - (cb[i] as number);
  }
  return ca.length - cb.length;
}

describe("key sorting", () => {
  it("orders string keys by code point, not UTF-16 unit", () => {
    expect(compareCodePoints("\u{1F4C8}", "\uFFFF")).toBe(1);
    expect("\u{1F4C8}" < "\uFFFF").toBe(true); // JS would get it wrong
    expect(pythonJsonDumps({ "\uFFFF": 1, "\u{1F4C8}": 2 }, { sortKeys: true })).toBe(
      '{"\\uffff": 1, "\\ud83d\\udcc8": 2}',
    );
  });

  it("sorts random string keys by code point at every depth", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: "binary", maxLength: 4 }), { maxLength: 12 }),
        (keys) => {
          const dict = dictFromEntries(keys.map((k, i) => [k, i]));
          const sorted = [...keys].sort(byCodePoints);
          const expected = `{${sorted.map((k) => `${escapePythonString(k)}: ${keys.indexOf(k)}`).join(", ")}}`;
          expect(pythonJsonDumps(dict, { sortKeys: true })).toBe(expected);
          expect(pythonJsonDumps({ nested: [dict] }, { sortKeys: true })).toBe(
            `{"nested": [${expected}]}`,
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("sorts int keys numerically, then writes them as strings", () => {
    expect(
      pythonJsonDumps(
        new PyIntKeyDict([
          [100n, "c"],
          [9n, "a"],
          [10n, "b"],
        ]),
        { sortKeys: true },
      ),
    ).toBe('{"9": "a", "10": "b", "100": "c"}');
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), { maxLength: 10 }),
        (keys) => {
          const out = pythonJsonDumps(new PyIntKeyDict(keys.map((k) => [k, null])), {
            sortKeys: true,
          });
          const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          expect(out).toBe(`{${sorted.map((k) => `"${k}": null`).join(", ")}}`);
        },
      ),
    );
  });
});

describe("writer basics", () => {
  it("writes Python separators, ints in full precision, floats by type", () => {
    const value = dictFromEntries<PyValue>([
      ["b", [1, new PyFloat(1), 2n ** 80n, true, null]],
      ["a", { x: 1.5, y: new PyFloat(-0) }],
    ]);
    expect(pythonJsonDumps(value, { sortKeys: true })).toBe(
      '{"a": {"x": 1.5, "y": -0.0}, "b": [1, 1.0, 1208925819614629174706176, true, null]}',
    );
    expect(pythonJsonDumps(value)).toBe(
      '{"b": [1, 1.0, 1208925819614629174706176, true, null], "a": {"x": 1.5, "y": -0.0}}',
    );
  });

  it("lexeme-preserving reader round-trips Python text", () => {
    const text =
      '{"a": 1.0, "b": [1, 1e-07, NaN, -Infinity, 123456789012345678901234567890], "c": "\\u00e9"}';
    expect(pythonJsonDumps(parsePythonJson(text))).toBe(text);
  });
});

// ---- cross-check against the real Python json.dumps ------------------------------------------

const hasPython = spawnSync("python3", ["-c", "import json"], { encoding: "utf8" }).status === 0;

type Tagged =
  | null
  | boolean
  | { t: "i"; v: string }
  | { t: "f"; v: string }
  | { t: "s"; v: string }
  | { t: "l"; v: Tagged[] }
  | { t: "d"; v: [string, Tagged][] }
  | { t: "id"; v: [string, Tagged][] };

function tag(value: PyValue): Tagged {
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "bigint") return { t: "i", v: value.toString() };
  if (typeof value === "number") {
    return Number.isInteger(value)
      ? { t: "i", v: BigInt(value).toString() }
      : { t: "f", v: floatText(value) };
  }
  if (value instanceof PyFloat) return { t: "f", v: floatText(value.value) };
  if (typeof value === "string") return { t: "s", v: value };
  if (Array.isArray(value)) return { t: "l", v: value.map((v: PyValue) => tag(v)) };
  if (value instanceof PyIntKeyDict)
    return { t: "id", v: value.entries.map(([k, v]) => [k.toString(), tag(v)]) };
  return {
    t: "d",
    v: Object.entries(value as Record<string, PyValue>).map(([k, v]) => [k, tag(v)]),
  };
}

function floatText(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  return Object.is(x, -0) ? "-0.0" : String(x);
}

const PY_SCRIPT = `
import json, sys
def build(t):
    if t is None or isinstance(t, bool): return t
    k, v = t["t"], t["v"]
    if k == "i": return int(v)
    if k == "f": return float(v)
    if k == "s": return v
    if k == "l": return [build(x) for x in v]
    if k == "d": return {key: build(x) for key, x in v}
    if k == "id": return {int(key): build(x) for key, x in v}
for line in sys.stdin:
    sys.stdout.write(json.dumps(build(json.loads(line)), sort_keys=True) + "\\n")
`;

const pyLeaf: fc.Arbitrary<PyValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 90n), max: 2n ** 90n }),
  anyDouble.map((x) => new PyFloat(x)),
  anyUnicodeString,
);
const pyTree = fc.letrec<{ value: PyValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    pyLeaf,
    fc.array(tie("value"), { maxLength: 5 }),
    fc
      .uniqueArray(fc.tuple(anyUnicodeString, tie("value")), { maxLength: 5, selector: ([k]) => k })
      .map((entries) => dictFromEntries(entries) as PyValue),
    fc
      .uniqueArray(fc.tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), tie("value")), {
        maxLength: 4,
        selector: ([k]) => k,
      })
      .map((entries) => new PyIntKeyDict(entries) as PyValue),
  ),
})).value;

describe("cross-check with python3", () => {
  it.skipIf(!hasPython)(
    "random values dump byte-identically to python3 json.dumps(sort_keys=True) (skipped when python3 is absent)",
    () => {
      const values = fc.sample(pyTree, { numRuns: 1500, seed: 42 });
      const floats = fc.sample(anyDouble, { numRuns: 3000, seed: 7 }).map((x) => new PyFloat(x));
      const all: PyValue[] = [...values, ...floats];
      const input = `${all.map((v) => JSON.stringify(tag(v))).join("\n")}\n`;
      const result = spawnSync("python3", ["-c", PY_SCRIPT], {
        input,
        encoding: "utf8",
        maxBuffer: 1 << 28,
      });
      expect(result.status, result.stderr).toBe(0);
      const lines = result.stdout.split("\n");
      all.forEach((value, i) => {
        expect(pythonJsonDumps(value, { sortKeys: true })).toBe(lines[i]);
      });
    },
  );
});

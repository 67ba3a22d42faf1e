import { HashingError } from "../errors.js";
import { isPyDict, type PyDict, PyFloat, PyIntKeyDict, type PyValue } from "./py-value.js";

/**
 * Python's `repr(float)`: shortest round-trip digits (the same digits JS picks), integral values
 * keep `.0`, scientific notation iff the decimal exponent is < -4 or >= 16 (`1e-07`, `1e+16`),
 * `-0.0`, and the bare `NaN`, `Infinity`, `-Infinity` that `json.dumps` allows.
 *
 * @example
 * ```ts
 * formatPythonFloat(1); // "1.0"
 * formatPythonFloat(1e-7); // "1e-07"
 * formatPythonFloat(1e16); // "1e+16"
 * ```
 */
export function formatPythonFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Number.POSITIVE_INFINITY) return "Infinity";
  if (x === Number.NEGATIVE_INFINITY) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  const { digits, exponent } = shortestDigits(Math.abs(x));
  if (exponent < -4 || exponent >= 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expSign = exponent < 0 ? "-" : "+";
    return `${sign}${mantissa}e${expSign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  const point = exponent + 1; // digits before the decimal point
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * The shortest round-trip decimal digits of a positive finite double (no leading/trailing zeros)
 * and the decimal exponent of the first digit, read from `Number.prototype.toString`.
 */
function shortestDigits(x: number): { digits: string; exponent: number } {
  const text = String(x); // "123.45", "0.000001", "1.5e-7", "1e+21"
  const eAt = text.indexOf("e");
  const mantissa = eAt === -1 ? text : text.slice(0, eAt);
  const expPart = eAt === -1 ? 0 : Number(text.slice(eAt + 1));
  const dot = mantissa.indexOf(".");
  const intPart = dot === -1 ? mantissa : mantissa.slice(0, dot);
  const fracPart = dot === -1 ? "" : mantissa.slice(dot + 1);
  let all = intPart + fracPart;
  let point = intPart.length + expPart; // position of the decimal point within `all`
  const lead = all.length - all.replace(/^0+/, "").length;
  all = all.slice(lead);
  point -= lead;
  all = all.replace(/0+$/, "");
  return { digits: all === "" ? "0" : all, exponent: point - 1 };
}

/** Writes a Python `int` (any size). */
function formatPythonInt(x: number | bigint): string {
  return typeof x === "bigint" ? x.toString() : BigInt(x).toString();
}

/**
 * A JSON string literal as Python's `json.dumps(ensure_ascii=True)` writes it: `\"`, `\\`, the
 * short escapes `\n \r \t \b \f`, and `\uXXXX` (lowercase hex) for every other character outside
 * printable ASCII, astral characters as a surrogate pair. `/` is not escaped.
 *
 * @example
 * ```ts
 * escapePythonString("📈 é"); // '"\\ud83d\\udcc8 \\u00e9"'
 * ```
 */
export function escapePythonString(s: string): string {
  if (PLAIN_ASCII.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c >= 0x20 && c <= 0x7e) out += s[i];
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else out += `\\u${c.toString(16).padStart(4, "0")}`;
  }
  return `${out}"`;
}

/** Printable ASCII without `"` and `\\`: written as is. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const SURROGATE = /[\ud800-\udfff]/;

/**
 * Orders strings by Unicode code point, as Python sorts `str` (JS `<` compares UTF-16 code units,
 * which differs for astral characters against U+E000–U+FFFF).
 */
export function compareCodePoints(a: string, b: string): number {
  // code unit order equals code point order unless a surrogate is involved
  if (!SURROGATE.test(a) && !SURROGATE.test(b)) return a === b ? 0 : a < b ? -1 : 1;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n) {
    const ca = a.codePointAt(i) as number;
    const cb = b.codePointAt(i) as number;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Options of {@link pythonJsonDumps}. */
export interface PythonJsonOptions {
  /** `sort_keys=True` (the hashed form). Default false: insertion order, as stored. */
  readonly sortKeys?: boolean;
}

/**
 * Python `json.dumps(value, sort_keys=...)` with its defaults, byte for byte: separators `", "`
 * and `": "`, `ensure_ascii`, Python float repr, ints in full precision, `NaN`/`Infinity`
 * allowed, int dict keys sorted numerically. Never use `JSON.stringify` for hash material.
 *
 * @example
 * ```ts
 * pythonJsonDumps({ b: 1, a: pyFloat(0.5), c: "é" }, { sortKeys: true });
 * // '{"a": 0.5, "b": 1, "c": "\\u00e9"}'
 * ```
 */
export function pythonJsonDumps(value: PyValue, options: PythonJsonOptions = {}): string {
  return write(value, options.sortKeys === true);
}

function write(value: PyValue, sortKeys: boolean): string {
  if (value === null) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "string") return escapePythonString(value);
  if (typeof value === "bigint") return formatPythonInt(value);
  if (typeof value === "number") {
    return Number.isInteger(value) ? formatPythonInt(value) : formatPythonFloat(value);
  }
  if (value instanceof PyFloat) return formatPythonFloat(value.value);
  if (Array.isArray(value)) {
    return `[${value.map((item: PyValue) => write(item, sortKeys)).join(", ")}]`;
  }
  if (value instanceof PyIntKeyDict) {
    const entries = sortKeys
      ? [...value.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      : value.entries;
    const parts = entries.map(([k, v]) => `"${k.toString()}": ${write(v, sortKeys)}`);
    return `{${parts.join(", ")}}`;
  }
  if (isPyDict(value)) {
    const keys = Object.keys(value);
    if (sortKeys) keys.sort(compareCodePoints);
    const dict = value as PyDict;
    const parts = keys.map(
      (k) => `${escapePythonString(k)}: ${write(dict[k] as PyValue, sortKeys)}`,
    );
    return `{${parts.join(", ")}}`;
  }
  throw new HashingError(
    "hash_unserializable",
    `Object of type ${typeName(value)} is not JSON serializable`,
  );
}

function typeName(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "object" && value !== null) {
    return (value as { constructor?: { name?: string } }).constructor?.name ?? "object";
  }
  return typeof value;
}

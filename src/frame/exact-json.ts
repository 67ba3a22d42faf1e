/**
 * JSON text with exact int64 integers. `JSON.parse` reads every number as a double, so an
 * integer beyond ±(2^53 - 1) silently loses digits, and `JSON.stringify` throws on a bigint.
 * The wire carries int64 cells as plain JSON integer tokens (`9223372036854775807`), as the
 * platform and the Python client write them, so tdag reads and writes those tokens exactly here.
 *
 * The fast path stays `JSON.parse` / `JSON.stringify`: {@link parseJsonWithInt64} parses
 * natively and re-reads the text with the exact parser only when a cell it must keep exact came
 * out at or beyond 2^53 (a double there is no longer exact), and {@link stringifyJson} falls
 * back to the exact writer only when `JSON.stringify` refuses a bigint. Documents without large
 * integers pay one pass over their int64 cells, nothing more.
 *
 * Invalid text is an `ArgumentError` (`invalid_json`) from the exact parser and a
 * `SyntaxError` from `JSON.parse`; callers map both to their own errors (a 400, an
 * `invalid_response`).
 */

import { randomBytes } from "node:crypto";
import { ArgumentError } from "../errors.js";
import { int64FromBigInt } from "./int64.js";

/**
 * Which integers of a document are read exactly. Without it (`undefined`), every token written
 * as an integer (`9223372036854775807`; not `1e+21` or `100.0`), anywhere in the document. With
 * it, only the cells of row objects: the rows are the elements of the root list, or of the root
 * object's `rowsKey` list (a data page `{ "results": [...] }`), and the cells are those of
 * `columns` (every column when omitted); a cell's token counts when its value is an integer
 * (`100`, `100.0`, `1e2`), since the column, not the token, says it is an int64. Nested values
 * of a cell (a json column's objects) are read as `JSON.parse` reads them.
 */
export interface Int64Cells {
  /** The int64 columns; omitted: every column of a row. */
  readonly columns?: ReadonlySet<string>;
  /** The root object's key holding the rows; omitted: the root is the list of rows. */
  readonly rowsKey?: string;
}

/** Past this many digits an integer is far outside int64: it is read as a double, as JSON.parse does. */
const MAX_EXACT_DIGITS = 40;
/** Nesting deeper than this is refused (the parser recurses; wire documents are shallow). */
const MAX_DEPTH = 2048;
const TWO_53 = 2 ** 53;

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const NUMBER_PARTS_RE = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;
/** A token written as an integer: no fraction, no exponent. */
const INTEGER_TOKEN_RE = /^-?\d+$/;
/** At most 15 digits: always a safe integer, read with `Number` directly. */
const SHORT_INT_RE = /^-?\d{1,15}$/;

/**
 * How a value is read; the roles walk the row structure of {@link Int64Cells}:
 * - `plain`: as JSON.parse reads it;
 * - `cell`: a cell kept exact (a number is exact, a nested container is plain);
 * - `deep`: everything exact, all the way down (no `Int64Cells`);
 * - `page`: the root object of a page, whose `rowsKey` value is the list of rows;
 * - `rows`: a list whose object elements are rows;
 * - `row`: a row object, whose int64 columns are cells.
 */
type Role = "plain" | "cell" | "deep" | "page" | "rows" | "row";

/** Invalid JSON text, worded as JSON.parse words it, with the position. */
function syntaxError(message: string, pos: number): ArgumentError {
  return new ArgumentError("invalid_json", `${message} in JSON at position ${pos}`);
}

/**
 * The exact value of an integer-valued JSON number token: a number when it is a safe integer, a
 * bigint otherwise (`-0` reads as 0). A token with a fraction that does not vanish (`1.5`), or
 * with more than 40 digits, is read as a double, as `JSON.parse` reads it.
 */
function exactNumber(token: string): number | bigint {
  // `+ 0` turns -0 into 0: an integer has no negative zero.
  if (SHORT_INT_RE.test(token)) return Number(token) + 0;
  const m = NUMBER_PARTS_RE.exec(token)!;
  const fraction = m[3] ?? "";
  let exponent = (m[4] === undefined ? 0 : Number.parseInt(m[4], 10)) - fraction.length;
  let digits = (m[2]! + fraction).replace(/^0+/, "");
  if (digits === "") return 0;
  let end = digits.length;
  while (digits.charCodeAt(end - 1) === 48) end--;
  exponent += digits.length - end;
  digits = digits.slice(0, end);
  if (exponent < 0 || digits.length + exponent > MAX_EXACT_DIGITS) return Number(token);
  const magnitude = BigInt(digits) * 10n ** BigInt(exponent);
  return int64FromBigInt(m[1] === "-" ? -magnitude : magnitude);
}

/** A recursive-descent JSON parser (RFC 8259) whose number cells follow {@link Role}. */
class ExactJsonParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly cells: Int64Cells | undefined,
  ) {}

  document(): unknown {
    const cells = this.cells;
    const role = cells === undefined ? "deep" : cells.rowsKey === undefined ? "rows" : "page";
    this.skipSpace();
    const value = this.value(role, 0);
    this.skipSpace();
    if (this.pos < this.text.length) {
      throw syntaxError("Unexpected non-whitespace character after JSON", this.pos);
    }
    return value;
  }

  private skipSpace(): void {
    const text = this.text;
    let pos = this.pos;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
    this.pos = pos;
  }

  private value(role: Role, depth: number): unknown {
    if (depth > MAX_DEPTH) throw syntaxError("Nesting too deep", this.pos);
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x7b) return this.object(role, depth);
    if (c === 0x5b) return this.array(role, depth);
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number(role);
    if (this.text.startsWith("true", this.pos)) return this.literal(4, true);
    if (this.text.startsWith("false", this.pos)) return this.literal(5, false);
    if (this.text.startsWith("null", this.pos)) return this.literal(4, null);
    throw syntaxError(
      Number.isNaN(c) ? "Unexpected end of JSON input" : "Unexpected token",
      this.pos,
    );
  }

  private literal<T>(length: number, value: T): T {
    this.pos += length;
    return value;
  }

  private number(role: Role): number | bigint {
    NUMBER_RE.lastIndex = this.pos;
    const m = NUMBER_RE.exec(this.text);
    if (!m) throw syntaxError("Invalid number", this.pos);
    const token = m[0];
    this.pos += token.length;
    if (role === "cell") return exactNumber(token);
    // Anywhere else, only a token written as an integer is one (`1e+21`, `100.0` are floats).
    if (role === "deep" && INTEGER_TOKEN_RE.test(token)) return exactNumber(token);
    return Number(token);
  }

  private string(): string {
    const text = this.text;
    const start = this.pos + 1;
    let escaped = false;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        this.pos = i + 1;
        // Escapes are rare in wire data; JSON.parse decodes (and checks) them.
        return escaped ? this.escapedString(start - 1, i + 1) : text.slice(start, i);
      }
      if (c === 0x5c) {
        escaped = true;
        i++;
      } else if (c < 0x20) throw syntaxError("Bad control character in string literal", i);
    }
    throw syntaxError("Unterminated string", this.pos);
  }

  private escapedString(from: number, to: number): string {
    try {
      return JSON.parse(this.text.slice(from, to)) as string;
    } catch {
      throw syntaxError("Bad escaped character in string literal", from);
    }
  }

  private array(role: Role, depth: number): unknown[] {
    const element = role === "rows" ? "row" : role === "deep" ? "deep" : "plain";
    const out: unknown[] = [];
    this.pos++;
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(element, depth + 1));
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) throw syntaxError("Expected ',' or ']' after array element", this.pos - 1);
      this.skipSpace();
    }
  }

  private object(role: Role, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const columns = this.cells?.columns;
    const rowsKey = this.cells?.rowsKey;
    this.pos++;
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      if (this.text.charCodeAt(this.pos) !== 0x22) {
        throw syntaxError("Expected double-quoted property name", this.pos);
      }
      const key = this.string();
      this.skipSpace();
      if (this.text.charCodeAt(this.pos++) !== 0x3a) {
        throw syntaxError("Expected ':' after property name", this.pos - 1);
      }
      this.skipSpace();
      const child =
        role === "deep"
          ? "deep"
          : role === "row"
            ? columns === undefined || columns.has(key)
              ? "cell"
              : "plain"
            : role === "page" && key === rowsKey
              ? "rows"
              : "plain";
      const value = this.value(child, depth + 1);
      // An own "__proto__" property, as JSON.parse makes it (an assignment would set the prototype).
      if (key === "__proto__") {
        Object.defineProperty(out, key, {
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      } else out[key] = value;
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x7d) return out;
      if (c !== 0x2c) throw syntaxError("Expected ',' or '}' after property value", this.pos - 1);
      this.skipSpace();
    }
  }
}

/**
 * Parses JSON text like `JSON.parse`, except that the integers `cells` names are read exactly:
 * a number when safe, a bigint beyond ±(2^53 - 1); other numbers read as doubles. Throws a
 * `ArgumentError` (`invalid_json`) on invalid JSON. Slower than `JSON.parse`: prefer {@link parseJsonWithInt64},
 * which calls it only when needed.
 *
 * @example
 * ```ts
 * parseJsonExact('[{"id": 9223372036854775807, "x": 1.5}]', { columns: new Set(["id"]) });
 * // [{ id: 9223372036854775807n, x: 1.5 }]
 * parseJsonExact("[18446744073709551616, 2]"); // [18446744073709551616n, 2]
 * ```
 */
export function parseJsonExact(text: string, cells?: Int64Cells): unknown {
  return new ExactJsonParser(text, cells).document();
}

function isLarge(value: unknown): boolean {
  return typeof value === "number" && (value >= TWO_53 || value <= -TWO_53);
}

function hasLargeNumber(value: unknown, depth: number): boolean {
  if (isLarge(value)) return true;
  if (value === null || typeof value !== "object" || depth > MAX_DEPTH) return false;
  const items = Array.isArray(value) ? value : Object.values(value);
  for (const item of items) if (hasLargeNumber(item, depth + 1)) return true;
  return false;
}

/**
 * True when a value `JSON.parse` gave holds, where `cells` says integers must be exact, a number
 * at or beyond 2^53 in magnitude: its token may have lost digits, so the text must be re-read
 * with {@link parseJsonExact}. A smaller integer token always parses exactly.
 *
 * @example
 * ```ts
 * needsExactParse(JSON.parse('[{"id": 9007199254740993}]'), { columns: new Set(["id"]) }); // true
 * ```
 */
export function needsExactParse(value: unknown, cells?: Int64Cells): boolean {
  if (cells === undefined) return hasLargeNumber(value, 0);
  let rows: unknown = value;
  if (cells.rowsKey !== undefined) {
    rows =
      value !== null && typeof value === "object" && !Array.isArray(value)
        ? (value as Record<string, unknown>)[cells.rowsKey]
        : undefined;
  }
  if (!Array.isArray(rows)) return false;
  const columns = cells.columns === undefined ? undefined : [...cells.columns];
  for (const row of rows) {
    if (row === null || typeof row !== "object" || Array.isArray(row)) continue;
    const cellsOf = row as Record<string, unknown>;
    if (columns === undefined) {
      for (const key in cellsOf) if (isLarge(cellsOf[key])) return true;
    } else {
      for (const column of columns) if (isLarge(cellsOf[column])) return true;
    }
  }
  return false;
}

/**
 * `JSON.parse` with exact int64 integers where `cells` says: parses natively, and re-reads the
 * text with {@link parseJsonExact} only when one of those integers came out at or beyond 2^53.
 * Documents whose integers are all safe cost one extra pass over their int64 cells.
 *
 * @example
 * ```ts
 * parseJsonWithInt64('{"results": [{"n": 1}, {"n": 9223372036854775807}]}', {
 *   columns: new Set(["n"]),
 *   rowsKey: "results",
 * }); // { results: [{ n: 1 }, { n: 9223372036854775807n }] }
 * ```
 */
export function parseJsonWithInt64(text: string, cells?: Int64Cells): unknown {
  const value: unknown = JSON.parse(text);
  return needsExactParse(value, cells) ? parseJsonExact(text, cells) : value;
}

/**
 * `JSON.stringify` (no indentation) that writes bigints as exact JSON integer tokens instead of
 * throwing. It tries `JSON.stringify` first, so values without bigints cost nothing extra.
 *
 * @example
 * ```ts
 * stringifyJson({ id: 2n ** 63n - 1n, x: 1.5 }); // '{"id":9223372036854775807,"x":1.5}'
 * ```
 */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return writeJson(value);
  }
}

/**
 * A per-process random tag for the bigint placeholders of {@link writeJson}: a placeholder is a
 * string `JSON.stringify` writes as `"\u0000<tag><digits>"`, which no string of the data can
 * spell without knowing the tag.
 */
const BIGINT_TAG = randomBytes(12).toString("hex");
// The NUL is written as the six characters `\u0000` in JSON text, hence the escaped backslash.
const BIGINT_PLACEHOLDER_RE = new RegExp(String.raw`"\\u0000${BIGINT_TAG}(-?\d+)"`, "g");

function bigintPlaceholder(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? `\u0000${BIGINT_TAG}${value}` : value;
}

/**
 * {@link stringifyJson} for a value known to hold bigints: `JSON.stringify` with every bigint
 * replaced by a tagged placeholder string, then each placeholder replaced by the integer's
 * digits. The native serializer does the work (a hand-written writer is several times slower).
 * A cycle is an `ArgumentError`.
 *
 * @example
 * ```ts
 * writeJson([1, 2n ** 64n, "x"]); // '[1,18446744073709551616,"x"]'
 * ```
 */
export function writeJson(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value, bigintPlaceholder);
  } catch (cause) {
    throw new ArgumentError(
      "invalid_argument",
      `cannot write the value as JSON: ${String(cause)}`,
      {
        cause,
      },
    );
  }
  return text === undefined ? text : text.replace(BIGINT_PLACEHOLDER_RE, "$1");
}

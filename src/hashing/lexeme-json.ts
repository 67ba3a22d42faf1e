import { HashingError } from "../errors.js";
import { dictFromEntries, PyFloat, type PyValue } from "./py-value.js";

/**
 * Parses JSON text keeping Python's number lexemes: `1.0`, `1e-07`, `NaN`, `Infinity` become
 * {@link PyFloat}, `1` an int (a number, or a bigint beyond 2^53). Use it to read JSON that Python
 * wrote (stored build configurations, test vectors) without losing float-ness.
 *
 * @example
 * ```ts
 * const v = parsePythonJson('{"a": 1.0, "b": 1}');
 * pythonJsonDumps(v); // '{"a": 1.0, "b": 1}'
 * ```
 */
export function parsePythonJson(text: string): PyValue {
  const reader = new Reader(text);
  reader.ws();
  const value = reader.value();
  reader.ws();
  if (reader.pos !== text.length) reader.fail("trailing characters");
  return value;
}

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Reader {
  pos = 0;

  constructor(readonly text: string) {}

  fail(what: string): never {
    throw new HashingError("json_syntax", `Invalid JSON at offset ${this.pos}: ${what}`);
  }

  ws(): void {
    while (this.pos < this.text.length && " \t\n\r".includes(this.text[this.pos] as string)) {
      this.pos++;
    }
  }

  value(): PyValue {
    const c = this.text[this.pos];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    for (const [word, v] of WORDS) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    NUMBER_RE.lastIndex = this.pos;
    const m = NUMBER_RE.exec(this.text);
    if (!m) this.fail("unexpected character");
    const lexeme = m[0];
    this.pos += lexeme.length;
    if (/[.eE]/.test(lexeme)) return new PyFloat(Number(lexeme));
    const n = Number(lexeme);
    return Number.isSafeInteger(n) ? n : BigInt(lexeme);
  }

  object(): PyValue {
    this.pos++;
    const entries: [string, PyValue][] = [];
    this.ws();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return dictFromEntries(entries);
    }
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') this.fail("expected a string key");
      const key = this.string();
      this.ws();
      if (this.text[this.pos] !== ":") this.fail("expected ':'");
      this.pos++;
      this.ws();
      entries.push([key, this.value()]);
      this.ws();
      const c = this.text[this.pos++];
      if (c === "}") return dictFromEntries(entries);
      if (c !== ",") this.fail("expected ',' or '}'");
    }
  }

  array(): PyValue {
    this.pos++;
    const items: PyValue[] = [];
    this.ws();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return items;
    }
    for (;;) {
      this.ws();
      items.push(this.value());
      this.ws();
      const c = this.text[this.pos++];
      if (c === "]") return items;
      if (c !== ",") this.fail("expected ',' or ']'");
    }
  }

  string(): string {
    // JSON string syntax is JS string syntax minus a few escapes: let JSON.parse decode it.
    const start = this.pos++;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === "\\") this.pos += 2;
      else if (c === '"') {
        this.pos++;
        return JSON.parse(this.text.slice(start, this.pos)) as string;
      } else this.pos++;
    }
    return this.fail("unterminated string");
  }
}

const WORDS: readonly (readonly [string, PyValue])[] = [
  ["true", true],
  ["false", false],
  ["null", null],
  ["NaN", new PyFloat(Number.NaN)],
  ["Infinity", new PyFloat(Number.POSITIVE_INFINITY)],
  ["-Infinity", new PyFloat(Number.NEGATIVE_INFINITY)],
];

/**
 * The typed intermediate value model of the hashing pipeline. JSON cannot say whether `1` is a
 * Python `int` or a `float`, nor whether a dict key was an `int`; these wrappers carry that
 * information from the config schema down to the canonical writer.
 *
 * - `number`: an integral value is an `int`, any other value a `float` ("untyped" rule);
 * - `bigint`: always an `int`;
 * - {@link PyFloat}: always a `float` (`1` is written `1.0`);
 * - {@link PyIntKeyDict}: a dict whose keys are Python ints (sorted numerically);
 * - arrays are lists, plain objects (prototype `Object.prototype` or `null`) are string-keyed dicts.
 */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyFloat
  | PyIntKeyDict
  | readonly PyValue[]
  | PyDict;

/** A string-keyed Python dict. Key order is insertion order (it matters for stored text only). */
export interface PyDict {
  readonly [key: string]: PyValue;
}

/**
 * A number that Python holds as a `float`: written with a `.0` when integral.
 *
 * @example
 * ```ts
 * pythonJsonDumps({ weight: new PyFloat(1) }); // '{"weight": 1.0}'
 * ```
 */
export class PyFloat {
  constructor(readonly value: number) {}

  toJSON(): number {
    return this.value;
  }
}

/** Shorthand for `new PyFloat(x)`. @example `pyFloat(2) // written 2.0` */
export function pyFloat(value: number): PyFloat {
  return new PyFloat(value);
}

/**
 * A dict whose keys are Python ints (`dict[int, ...]`): `json.dumps(sort_keys=True)` sorts them
 * numerically and then writes them as strings (`{"9": …, "10": …}`).
 *
 * @example
 * ```ts
 * pythonJsonDumps(new PyIntKeyDict([[10n, "b"], [9n, "a"]]), { sortKeys: true }); // '{"9": "a", "10": "b"}'
 * ```
 */
export class PyIntKeyDict {
  readonly entries: readonly (readonly [bigint, PyValue])[];

  constructor(entries: Iterable<readonly [bigint | number, PyValue]>) {
    this.entries = Array.from(entries, ([k, v]) => [BigInt(k), v] as const);
  }

  toJSON(): Record<string, PyValue> {
    return Object.fromEntries(this.entries.map(([k, v]) => [k.toString(), v]));
  }
}

/** True for a string-keyed dict of the model (a plain object, not an array or class instance). */
export function isPyDict(value: unknown): value is PyDict {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A plain JSON value (what `JSON.parse` returns). */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * Drops the Python typing: floats become numbers, bigints numbers (lossy beyond 2^53), int keys
 * strings. Use it to show or store a build configuration as ordinary JSON.
 *
 * @example
 * ```ts
 * toPlainJson({ a: new PyFloat(1) }); // { a: 1 }
 * ```
 */
export function toPlainJson(value: PyValue): JsonValue {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof PyFloat) return value.value;
  if (value instanceof PyIntKeyDict) {
    return dictFromEntries(value.entries.map(([k, v]) => [k.toString(), toPlainJson(v)]));
  }
  if (Array.isArray(value)) return value.map((item: PyValue) => toPlainJson(item));
  return dictFromEntries(Object.entries(value as PyDict).map(([k, v]) => [k, toPlainJson(v)]));
}

/**
 * Builds a plain object from entries without the `__proto__` setter pitfall (a key named
 * `__proto__` becomes an own property, as in a Python dict).
 */
export function dictFromEntries<V>(entries: Iterable<readonly [string, V]>): { [key: string]: V } {
  const out: { [key: string]: V } = {};
  for (const [k, v] of entries) {
    if (k === "__proto__") {
      Object.defineProperty(out, k, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else out[k] = v;
  }
  return out;
}

import { ArgumentError } from "../../errors.js";

/**
 * Request bodies written as the platform's Python client writes them. `JSON.stringify` cannot
 * say that a number is a float (`1` and `1.0` are the same JS number), nor embed JSON text that
 * was already written (a build configuration serialised with its Python types). These two
 * wrappers carry that into {@link wireJson}.
 */

/** A number the body must write as a float: `1` is written `1.0`. */
export class WireFloat {
  constructor(readonly value: number) {}
}

/** JSON text written into the body as is (it must be valid JSON). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** A float token: integral values get `.0`, as Python's `json.dumps` writes a float. */
function floatToken(value: number): string {
  if (!Number.isFinite(value)) {
    throw new ArgumentError("invalid_argument", `cannot write ${value} as a JSON float`);
  }
  const text = JSON.stringify(value);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

function write(value: unknown, out: string[]): void {
  if (value instanceof WireFloat) {
    out.push(floatToken(value.value));
    return;
  }
  if (value instanceof RawJson) {
    out.push(value.text);
    return;
  }
  if (typeof value === "bigint") {
    out.push(value.toString());
    return;
  }
  if (value === null || typeof value !== "object") {
    out.push(JSON.stringify(value) ?? "null");
    return;
  }
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === "function") {
    write(withToJson.toJSON(), out);
    return;
  }
  if (Array.isArray(value)) {
    out.push("[");
    value.forEach((item, i) => {
      if (i > 0) out.push(",");
      write(item === undefined ? null : item, out);
    });
    out.push("]");
    return;
  }
  out.push("{");
  let first = true;
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || typeof item === "function") continue;
    if (!first) out.push(",");
    first = false;
    out.push(JSON.stringify(key), ":");
    write(item, out);
  }
  out.push("}");
}

/**
 * JSON text of a request body: as `JSON.stringify`, plus {@link WireFloat} (a float token),
 * {@link RawJson} (embedded text) and bigints (exact integer tokens).
 *
 * @example
 * ```ts
 * wireJson({ last_heart_beat: new WireFloat(1700000000), build_configuration: new RawJson('{"scale": 1.0}') });
 * // '{"last_heart_beat":1700000000.0,"build_configuration":{"scale": 1.0}}'
 * ```
 */
export function wireJson(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join("");
}

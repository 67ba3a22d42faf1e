import type { Context } from "hono";
import { HttpError } from "../http-error.js";
import { isObject, type JsonObject, parseJsonBody } from "../wire-codec.js";

/** The JSON body of a request as an object (`{}` when empty); anything else is a 400. */
export async function readObject(c: Context): Promise<JsonObject> {
  const body = await readBody(c);
  if (body === undefined) return {};
  if (!isObject(body))
    throw HttpError.badRequest({ non_field_errors: ["Expected a JSON object."] });
  return body;
}

/** The JSON body of a request as an array; anything else is a 400. */
export async function readArray(c: Context): Promise<unknown[]> {
  const body = await readBody(c);
  if (!Array.isArray(body))
    throw HttpError.badRequest({ non_field_errors: ["Expected a list of items."] });
  return body;
}

async function readBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return undefined;
  try {
    // Exact integers beyond ±(2^53 - 1) (int64 dimension values) come as bigints.
    return parseJsonBody(text);
  } catch (cause) {
    throw HttpError.detail(400, `JSON parse error - ${(cause as Error).message}`);
  }
}

/** A boolean query parameter (`true`/`True`/`1`/`yes`), undefined when absent. */
export function boolParam(c: Context, name: string): boolean | undefined {
  const raw = c.req.query(name);
  if (raw === undefined) return undefined;
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes"].includes(v)) return true;
  if (["0", "false", "no", ""].includes(v)) return false;
  throw HttpError.badRequest({ [name]: ["Must be a valid boolean."] });
}

/** An `__in` query parameter: comma-joined values (repeated keys are joined too). */
export function listParam(c: Context, name: string): string[] | undefined {
  const raw = c.req.queries(name);
  if (raw === undefined) return undefined;
  return raw
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/**
 * A DRF page `{ count, next, previous, results }` of `items`, `limit`/`offset` from the query
 * (default page size `pageSize`); `next` is an absolute URL keeping the other parameters.
 */
export function drfPage(c: Context, items: readonly unknown[], pageSize = 100): JsonObject {
  const limit = positiveInt(c, "limit") ?? pageSize;
  const offset = positiveInt(c, "offset") ?? 0;
  const results = items.slice(offset, offset + limit);
  const link = (at: number) => {
    const url = new URL(c.req.url);
    url.searchParams.set("limit", String(limit));
    url.searchParams.set("offset", String(at));
    return url.toString();
  };
  return {
    count: items.length,
    next: offset + limit < items.length ? link(offset + limit) : null,
    previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
    results,
  };
}

function positiveInt(c: Context, name: string): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw HttpError.badRequest({ [name]: ["Expected a non-negative integer."] });
  }
  return n;
}

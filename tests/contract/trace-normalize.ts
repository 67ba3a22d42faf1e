import { gunzipSync } from "node:zlib";
import type { RequestLogEntry } from "../../src/server/fault-injector.js";

/**
 * Turns requests captured by `tdag serve` (`server.faults.capture = true`) into the notation of
 * the golden traces in tests/fixtures/platform-contract/traces (see `type_notation` in each file):
 * path templates with `{lts_uid}`-style placeholders, query and body values reduced to their
 * shape (`<str>`, `<uuid>`, `<hash>`, `<int>`/`<float>` by the JSON token as written, ...),
 * decoded upload chunks, the four compared request headers and the answer's status and kind.
 */

/** A value in trace notation: a type token or literal, an array `[X]`, or an object of shapes. */
export type Shape = string | number | readonly Shape[] | { readonly [key: string]: Shape };

/** The shape of several different values at one place: `{"<anyOf>": [a, b]}`. */
export const ANY_OF = "<anyOf>";

/** What an upload's `data` holds once decoded (`base64(gzip(JSON))`). */
export type DecodedData =
  | {
      readonly kind: "records";
      readonly rows: number;
      readonly columns: readonly string[];
      readonly column_types: { readonly [column: string]: Shape };
    }
  | { readonly kind: "object"; readonly shape: Shape }
  | { readonly kind: "other"; readonly shape: Shape };

/** The answer, as the traces summarise it. */
export interface TraceResponse {
  readonly status: number;
  readonly kind: "object" | "list" | "drf_page" | "empty" | "text";
  readonly keys?: readonly string[];
  readonly count?: number;
  readonly len?: number;
  readonly item_keys?: readonly string[];
}

/** One request of a trace step (the fields of `traces/*.json` that describe the request). */
export interface TraceRequest {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  readonly query?: { readonly [key: string]: Shape };
  readonly body?: Shape;
  readonly data_decoded?: DecodedData;
  readonly request_headers: { readonly [name: string]: string | null };
  readonly response: TraceResponse;
}

/** The request headers the traces record (authorization reduced to its scheme). */
export const TRACE_HEADERS = [
  "content-type",
  "accept",
  "accept-encoding",
  "authorization",
] as const;

/**
 * Keys whose string values the traces keep literally (dtype tokens, index names, node types,
 * operands, enum-like values). Every value inside `column_dtypes_map` is kept too.
 */
export const LITERAL_KEYS: ReadonlySet<string> = new Set([
  "time_index_name",
  "index_names",
  "node_type",
  "active_update_status",
  "start_date_operand",
  "end_date_operand",
  "embedding_model",
  "op",
  "type",
  "token_type",
  "source_class_name",
]);

/** Collection path → the placeholder of the uid segment that follows it. */
const UID_PLACEHOLDERS: readonly (readonly [string, string])[] = [
  ["/orm/api/pods/projects/", "{project_uid}"],
  ["/orm/api/ts_manager/local_time_serie/", "{lts_uid}"],
  ["/orm/api/ts_manager/dynamic_table/", "{storage_uid}"],
  ["/orm/api/ts_manager/source_table_config/", "{storage_uid}"],
  ["/orm/api/ts_manager/scheduler/", "{scheduler_uid}"],
  ["/orm/api/ts_manager/dynamic_table_data_source/", "{data_source_uid}"],
  ["/orm/api/assets/asset/", "{asset_uid}"],
];

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const UUID_EXACT = new RegExp(`^${UUID.source}$`, "i");
const HASH = /^[A-Za-z0-9_]*_[0-9a-f]{32}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;
/** Asset identifiers of the scenarios (the traces' `PP_ASSET_nnn`). */
const ASSET_ID = /^PP_ASSET_\d+$/;

// ------------------------------------------------------------------ token-preserving JSON

/** A parsed JSON value that keeps each number's token as written (`1.0` is not `1`). */
export type JsonToken =
  | { readonly t: "null" }
  | { readonly t: "bool"; readonly v: boolean }
  | { readonly t: "num"; readonly raw: string }
  | { readonly t: "str"; readonly v: string }
  | { readonly t: "arr"; readonly items: readonly JsonToken[] }
  | { readonly t: "obj"; readonly entries: readonly (readonly [string, JsonToken])[] };

/** Parses JSON text keeping number tokens (`JSON.parse` turns `1.0` into `1`). */
export function parseJsonTokens(text: string): JsonToken {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`invalid JSON at ${i}: ${what}`);
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const value = (): JsonToken => {
    ws();
    const ch = text[i];
    if (ch === "{") {
      i++;
      const entries: [string, JsonToken][] = [];
      ws();
      if (text[i] === "}") {
        i++;
        return { t: "obj", entries };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a key");
        const key = string();
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        entries.push([key, value()]);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return { t: "obj", entries };
        }
        fail("expected ',' or '}'");
      }
    }
    if (ch === "[") {
      i++;
      const items: JsonToken[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return { t: "arr", items };
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return { t: "arr", items };
        }
        fail("expected ',' or ']'");
      }
    }
    if (ch === '"') return { t: "str", v: string() };
    if (text.startsWith("true", i)) {
      i += 4;
      return { t: "bool", v: true };
    }
    if (text.startsWith("false", i)) {
      i += 5;
      return { t: "bool", v: false };
    }
    if (text.startsWith("null", i)) {
      i += 4;
      return { t: "null" };
    }
    // Python's json also writes NaN / Infinity / -Infinity.
    const m = /^(-?(?:\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|Infinity)|NaN)/.exec(text.slice(i, i + 400));
    if (!m) return fail("unexpected token");
    i += m[0].length;
    return { t: "num", raw: m[0] };
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    if (text[i] !== '"') fail("unterminated string");
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const out = value();
  ws();
  if (i !== text.length) fail("trailing text");
  return out;
}

// ------------------------------------------------------------------ shapes

function isPlainShape(s: Shape): s is { readonly [key: string]: Shape } {
  return typeof s === "object" && s !== null && !Array.isArray(s);
}

function isAnyOf(s: Shape): s is { readonly [ANY_OF]: readonly Shape[] } {
  return isPlainShape(s) && Object.keys(s).length === 1 && ANY_OF in s;
}

/** Canonical text of a shape (object keys sorted, `key?` as written): equality and sorting. */
export function shapeKey(s: Shape): string {
  if (typeof s === "string") return JSON.stringify(s);
  if (typeof s === "number") return String(s);
  if (Array.isArray(s)) return `[${s.map(shapeKey).join(",")}]`;
  const obj = s as { readonly [key: string]: Shape };
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${shapeKey(obj[k]!)}`)
    .join(",")}}`;
}

function baseKey(key: string): string {
  return key.endsWith("?") ? key.slice(0, -1) : key;
}

function alternatives(s: Shape): readonly Shape[] {
  return isAnyOf(s) ? s[ANY_OF] : [s];
}

/**
 * Merges two shapes seen at one place: objects merge key by key (`key?` for a key missing on one
 * side), arrays merge their items, anything else becomes `{"<anyOf>": [...]}` (sorted).
 */
export function mergeShapes(a: Shape, b: Shape): Shape {
  if (shapeKey(a) === shapeKey(b)) return a;
  if (isPlainShape(a) && isPlainShape(b) && !isAnyOf(a) && !isAnyOf(b)) {
    const out: Record<string, Shape> = {};
    const bByBase = new Map(Object.keys(b).map((k) => [baseKey(k), k]));
    const aBases = new Set(Object.keys(a).map(baseKey));
    for (const k of Object.keys(a)) {
      const other = bByBase.get(baseKey(k));
      if (other === undefined) out[`${baseKey(k)}?`] = a[k]!;
      else {
        const optional = k.endsWith("?") || other.endsWith("?");
        out[optional ? `${baseKey(k)}?` : baseKey(k)] = mergeShapes(a[k]!, b[other]!);
      }
    }
    for (const k of Object.keys(b)) {
      if (!aBases.has(baseKey(k))) out[`${baseKey(k)}?`] = b[k]!;
    }
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length === 0) return b;
    if (b.length === 0) return a;
    return [mergeShapes(a[0]!, b[0]!)];
  }
  // anyOf: an object (or array) alternative absorbs another object (array) alternative.
  const alts: Shape[] = [...alternatives(a)];
  for (const alt of alternatives(b)) {
    const objectLike = (s: Shape) => (isPlainShape(s) ? "obj" : Array.isArray(s) ? "arr" : null);
    const kind = objectLike(alt);
    const at = kind === null ? -1 : alts.findIndex((x) => objectLike(x) === kind);
    if (at >= 0) alts[at] = mergeShapes(alts[at]!, alt);
    else if (!alts.some((x) => shapeKey(x) === shapeKey(alt))) alts.push(alt);
  }
  if (alts.length === 1) return alts[0]!;
  alts.sort((x, y) => (shapeKey(x) < shapeKey(y) ? -1 : shapeKey(x) > shapeKey(y) ? 1 : 0));
  return { [ANY_OF]: alts };
}

/** Merges the shapes of several values (`[]` when there are none). */
export function mergeAll(shapes: readonly Shape[]): Shape | undefined {
  let out: Shape | undefined;
  for (const s of shapes) out = out === undefined ? s : mergeShapes(out, s);
  return out;
}

/** The shape of one string value found under `key` (or a query value). */
export function stringShape(value: string, key: string | undefined, literal: boolean): Shape {
  if (literal) return value;
  if (UUID_EXACT.test(value)) return "<uuid>";
  if (HASH.test(value)) return "<hash>";
  if (DATETIME.test(value)) return `<datetime:${value.replace(/\d/g, "9")}>`;
  if (ASSET_ID.test(value)) return "<str:asset_id>";
  if (key === "data" && isGzipJson(value)) return "<str:base64(gzip(json))>";
  if (UUID.test(value) && value.length < 60 && !/\s/.test(value)) {
    return `<str:${value.replace(new RegExp(UUID.source, "gi"), "<uuid>")}>`;
  }
  return "<str>";
}

function isGzipJson(value: string): boolean {
  return decodeGzipText(value) !== null;
}

function decodeGzipText(value: string): string | null {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(value) || value.length < 16) return null;
  try {
    return gunzipSync(Buffer.from(value, "base64")).toString("utf8");
  } catch {
    return null;
  }
}

interface ShapeContext {
  /** The key the value sits under (array items inherit their array's key). */
  readonly key: string | undefined;
  /** The key of the enclosing object. */
  readonly parent: string | undefined;
  /** Keep no literal strings (decoded data cells). */
  readonly noLiterals?: boolean;
}

/** The trace shape of a parsed JSON value. */
export function shapeOf(
  token: JsonToken,
  ctx: ShapeContext = { key: undefined, parent: undefined },
): Shape {
  switch (token.t) {
    case "null":
      return "<null>";
    case "bool":
      return `<bool:${token.v}>`;
    case "num":
      return /^-?\d+$/.test(token.raw) ? "<int>" : "<float>";
    case "str": {
      const literal =
        !ctx.noLiterals &&
        ((ctx.key !== undefined && LITERAL_KEYS.has(ctx.key)) ||
          ctx.parent === "column_dtypes_map");
      return stringShape(token.v, ctx.key, literal);
    }
    case "arr": {
      const merged = mergeAll(token.items.map((item) => shapeOf(item, ctx)));
      return merged === undefined ? [] : [merged];
    }
    case "obj": {
      const out: Record<string, Shape> = {};
      let assets: Shape | undefined;
      for (const [k, v] of token.entries) {
        if (ctx.key === "build_configuration_json_schema" && v.t === "obj") {
          out[k] = "<json-schema>";
          continue;
        }
        const child = shapeOf(v, { key: k, parent: ctx.key, noLiterals: ctx.noLiterals ?? false });
        if (ASSET_ID.test(k)) assets = assets === undefined ? child : mergeShapes(assets, child);
        else out[k] = child;
      }
      if (assets !== undefined) out["<asset_id>"] = assets;
      return out;
    }
  }
}

/** The shape of one query value as sent (`<bool-str:True>`, `<csv:...>`, ...). */
export function queryValueShape(key: string, value: string): Shape {
  if (/^(true|false|True|False)$/.test(value)) return `<bool-str:${value}>`;
  if (value.includes(",")) {
    const parts = mergeAll(value.split(",").map((p) => stringShape(p, key, false)));
    return `<csv:${typeof parts === "string" ? parts : JSON.stringify(parts)}>`;
  }
  return stringShape(value, key, LITERAL_KEYS.has(key));
}

/** `/orm/api/ts_manager/dynamic_table/<uid>/get_stats/` → `.../{storage_uid}/get_stats/`. */
export function pathTemplate(path: string): string {
  for (const [prefix, placeholder] of UID_PLACEHOLDERS) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    const slash = rest.indexOf("/");
    const segment = slash === -1 ? rest : rest.slice(0, slash);
    if (UUID_EXACT.test(segment) || /^\d+$/.test(segment)) {
      return `${prefix}${placeholder}${slash === -1 ? "" : rest.slice(slash)}`;
    }
  }
  return path;
}

// ------------------------------------------------------------------ decoded uploads

/** Decodes an upload's `data` (`base64(gzip(JSON))`) into the traces' `data_decoded`. */
export function decodeData(data: string): DecodedData | null {
  const text = decodeGzipText(data);
  if (text === null) return null;
  let token: JsonToken;
  try {
    token = parseJsonTokens(text);
  } catch {
    return null;
  }
  if (token.t === "arr" && token.items.every((r) => r.t === "obj")) {
    const columns: string[] = [];
    const types = new Map<string, Shape>();
    for (const row of token.items) {
      if (row.t !== "obj") continue;
      for (const [column, cell] of row.entries) {
        if (!types.has(column)) columns.push(column);
        const shape = shapeOf(cell, { key: column, parent: undefined, noLiterals: true });
        const seen = types.get(column);
        types.set(column, seen === undefined ? shape : mergeShapes(seen, shape));
      }
    }
    return {
      kind: "records",
      rows: token.items.length,
      columns,
      column_types: Object.fromEntries(columns.map((c) => [c, types.get(c)!])),
    };
  }
  if (token.t === "obj") return { kind: "object", shape: shapeOf(token) };
  return { kind: "other", shape: shapeOf(token) };
}

// ------------------------------------------------------------------ requests

function responseSummary(status: number, body: unknown): TraceResponse {
  if (body === undefined) return { status, kind: "empty" };
  if (typeof body === "string") return { status, kind: "text" };
  if (Array.isArray(body))
    return { status, kind: "list", len: body.length, item_keys: itemKeys(body) };
  if (body !== null && typeof body === "object") {
    const o = body as Record<string, unknown>;
    if (Array.isArray(o["results"]) && "count" in o) {
      const results = o["results"] as unknown[];
      return {
        status,
        kind: "drf_page",
        count: Number(o["count"]),
        len: results.length,
        item_keys: itemKeys(results),
      };
    }
    return { status, kind: "object", keys: Object.keys(o) };
  }
  return { status, kind: "object", keys: [] };
}

function itemKeys(items: readonly unknown[]): string[] {
  const keys = new Set<string>();
  for (const item of items) {
    if (item !== null && typeof item === "object" && !Array.isArray(item)) {
      for (const k of Object.keys(item)) keys.add(k);
    }
  }
  return [...keys].sort();
}

function headerSummary(headers: Readonly<Record<string, string>> | undefined) {
  const get = (name: string): string | null => headers?.[name] ?? null;
  const auth = get("authorization");
  return {
    "content-type": get("content-type"),
    accept: get("accept"),
    "accept-encoding": get("accept-encoding"),
    authorization: auth === null ? null : (auth.trim().split(/\s+/)[0] ?? ""),
  };
}

/** One captured request (a `RequestLogEntry` recorded with `capture` on) in trace notation. */
export function normalizeRequest(entry: RequestLogEntry, seq: number): TraceRequest {
  const out: {
    seq: number;
    method: string;
    path: string;
    query?: Record<string, Shape>;
    body?: Shape;
    data_decoded?: DecodedData;
    request_headers: Record<string, string | null>;
    response: TraceResponse;
  } = {
    seq,
    method: entry.method,
    path: pathTemplate(entry.path),
    request_headers: headerSummary(entry.headers),
    response: responseSummary(entry.status, entry.response),
  };
  const query = entry.query ?? {};
  if (Object.keys(query).length > 0) {
    out.query = Object.fromEntries(
      Object.entries(query).map(([k, values]) => {
        const shapes = values.map((v) => queryValueShape(k, v));
        return [k, shapes.length === 1 ? shapes[0]! : [mergeAll(shapes)!]];
      }),
    );
  }
  const raw = entry.rawBody;
  if (raw !== undefined && raw.trim() !== "") {
    let token: JsonToken | null = null;
    try {
      token = parseJsonTokens(raw);
    } catch {
      out.body = "<text>";
    }
    if (token !== null) {
      out.body = shapeOf(token);
      if (token.t === "obj") {
        const data = token.entries.find(([k]) => k === "data")?.[1];
        if (data?.t === "str") {
          const decoded = decodeData(data.v);
          if (decoded) out.data_decoded = decoded;
        }
      }
    }
  }
  return out;
}

/** Every captured request of a step, numbered from 1. */
export function normalizeRequests(entries: readonly RequestLogEntry[]): TraceRequest[] {
  return entries.map((e, i) => normalizeRequest(e, i + 1));
}

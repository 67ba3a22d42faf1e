import { FilterError } from "../../filters/filter-error.js";

/** A model's declared filters: field → allowed lookups (`exact` means the bare field name). */
export type FilterSet = Readonly<Record<string, readonly string[]>>;

const IN_EXACT = ["in", "exact"] as const;

/**
 * `FILTERSET_FIELDS` of the platform models used by the DataNode workflow (protocol 1.6).
 * `data_source__id` / `remote_table__data_source__id` are deliberately absent: the platform
 * only filters by uid.
 */
export const FILTERSETS = Object.freeze({
  DataNodeStorage: Object.freeze({
    storage_hash: ["in", "exact", "contains"],
    identifier: ["in", "exact", "contains"],
    uid: IN_EXACT,
    data_source__uid: IN_EXACT,
    namespace: ["exact", "contains", "in", "isnull"],
    labels: ["exact", "in", "contains"],
  }),
  DataNodeUpdate: Object.freeze({
    uid: IN_EXACT,
    update_hash: ["exact"],
    remote_table__data_source__uid: ["exact", "in"],
    related_table__namespace: ["contains", "in", "isnull"],
  }),
  Project: Object.freeze({
    project_name: ["in", "exact", "contains"],
    uid: IN_EXACT,
    labels: ["exact", "in", "contains"],
  }),
  Asset: Object.freeze({
    is_custom_by_organization: ["exact"],
    id: IN_EXACT,
    unique_identifier: ["in", "exact", "contains"],
    current_snapshot__ticker: IN_EXACT,
    current_snapshot__name: IN_EXACT,
    current_snapshot__exchange_code: IN_EXACT,
    current_snapshot__asset_ticker_group_id: IN_EXACT,
    figi: IN_EXACT,
    security_type: IN_EXACT,
    security_type_2: IN_EXACT,
    security_market_sector: IN_EXACT,
    isin: IN_EXACT,
  }),
} satisfies Record<string, FilterSet>);

/** A model with a declared filter set. */
export type FilterModel = keyof typeof FILTERSETS;

/**
 * Declared non-filter params per model (read params, delete flags, listing switches): accepted
 * next to the filters and rendered `true`/`false` when boolean.
 */
export const EXTRA_QUERY_PARAMS: Readonly<Record<FilterModel, readonly string[]>> = Object.freeze({
  DataNodeStorage: [
    "include_relations_detail",
    "list_tables",
    "full_delete_selected",
    "full_delete_downstream_tables",
    "delete_with_no_table",
    "override_protection",
  ],
  DataNodeUpdate: ["include_relations_detail"],
  Project: [],
  Asset: [],
});

/** Paging params any list route accepts. */
const PAGING_PARAMS = new Set(["limit", "offset", "page", "page_size"]);

const KNOWN_LOOKUPS = new Set([
  "exact",
  "in",
  "contains",
  "icontains",
  "isnull",
  "gt",
  "gte",
  "lt",
  "lte",
  "startswith",
  "istartswith",
  "endswith",
  "iexact",
  "range",
]);

interface ParsedKey {
  readonly field: string;
  readonly lookup: string;
}

function parseKey(key: string, filterset: FilterSet): ParsedKey | null {
  if (Object.hasOwn(filterset, key)) return { field: key, lookup: "exact" };
  const cut = key.lastIndexOf("__");
  if (cut <= 0) return null;
  const field = key.slice(0, cut);
  const lookup = key.slice(cut + 2);
  if (!KNOWN_LOOKUPS.has(lookup) || !Object.hasOwn(filterset, field)) return null;
  return { field, lookup };
}

function filterError(model: string, message: string): FilterError {
  return new FilterError("invalid_filter", `${model}: ${message}`);
}

function normalizeId(value: unknown, model: string, key: string): number {
  let raw = value;
  if (typeof raw === "object" && raw !== null && "id" in raw) raw = (raw as { id: unknown }).id;
  const n = typeof raw === "string" ? Number(raw.trim()) : raw;
  if (typeof n === "number" && Number.isInteger(n)) return n;
  if (typeof n === "bigint") return Number(n);
  throw filterError(model, `filter ${key} expects an integer id, got ${JSON.stringify(value)}`);
}

function normalizeUid(value: unknown, model: string, key: string): string {
  let raw = value;
  if (typeof raw === "object" && raw !== null && "uid" in raw) raw = (raw as { uid: unknown }).uid;
  if (typeof raw === "string" && raw.trim() !== "") return raw.trim();
  throw filterError(model, `filter ${key} expects a uid string, got ${JSON.stringify(value)}`);
}

function normalizeBool(value: unknown, model: string, key: string): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "number" && (value === 0 || value === 1)) return value === 1;
  if (typeof value === "string") {
    const text = value.trim().toLowerCase();
    if (text === "1" || text === "true" || text === "yes") return true;
    if (text === "0" || text === "false" || text === "no") return false;
  }
  throw filterError(model, `filter ${key} expects a boolean, got ${JSON.stringify(value)}`);
}

function normalizeScalar(value: unknown, parsed: ParsedKey, model: string, key: string): unknown {
  if (parsed.lookup === "isnull") return normalizeBool(value, model, key);
  const last = parsed.field.split("__").at(-1);
  if (last === "id") return normalizeId(value, model, key);
  if (last === "uid") return normalizeUid(value, model, key);
  if (typeof value === "string") return value.trim();
  return value;
}

/**
 * Validates and normalises filters against a model's filter set (protocol 1.6): unknown keys
 * throw `Unsupported <Model> filter(s): …`; `None` values are dropped; `__in` scalars become
 * one-element lists; ids/uids are taken from objects; `__isnull` becomes a boolean; strings
 * are trimmed. `extraKeys` (read params, paging) pass through unchanged.
 *
 * @example
 * ```ts
 * normalizeFilters({ namespace__contains: " x " }, FILTERSETS.DataNodeStorage, "DataNodeStorage");
 * // { namespace__contains: "x" }
 * ```
 */
export function normalizeFilters(
  filters: Readonly<Record<string, unknown>>,
  filterset: FilterSet,
  model = "Model",
  extraKeys: readonly string[] = [],
): Record<string, unknown> {
  const extras = new Set(extraKeys);
  const unknown: string[] = [];
  const parsed = new Map<string, ParsedKey>();
  for (const [key, value] of Object.entries(filters)) {
    // Absent values are dropped before validation, so optional filters can be passed as undefined.
    if (value === undefined || value === null || extras.has(key) || PAGING_PARAMS.has(key))
      continue;
    const p = parseKey(key, filterset);
    const allowed = p !== null && (filterset[p.field] ?? []).includes(p.lookup);
    if (!allowed || p === null) unknown.push(key);
    else parsed.set(key, p);
  }
  if (unknown.length > 0) {
    const allowed = Object.entries(filterset)
      .flatMap(([field, lookups]) => lookups.map((l) => (l === "exact" ? field : `${field}__${l}`)))
      .join(", ");
    throw new FilterError(
      "invalid_filter",
      `Unsupported ${model} filter(s): ${unknown.join(", ")}. Allowed: ${allowed}`,
    );
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(filters)) {
    if (value === undefined || value === null) continue;
    const p = parsed.get(key);
    if (p === undefined) {
      out[key] = value;
    } else if (p.lookup === "in") {
      const list = Array.isArray(value) ? value : [value];
      out[key] = list
        .filter((v) => v !== undefined && v !== null)
        .map((v) => normalizeScalar(v, p, model, key));
    } else {
      out[key] = normalizeScalar(value, p, model, key);
    }
  }
  return out;
}

function renderScalar(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object" && value !== null) {
    if ("uid" in value && typeof (value as { uid: unknown }).uid === "string") {
      return (value as { uid: string }).uid;
    }
    return JSON.stringify(value);
  }
  return String(value);
}

/**
 * Serialises query params as the platform expects (protocol 1.6): `null`/`undefined` dropped;
 * keys ending in `__in` comma-joined into one value (`a%2Cb`); other lists repeated
 * (`q=x&q=y`); booleans `true`/`false`; dates as ISO strings. With a filter set, keys are
 * validated and normalised first (see {@link normalizeFilters}), so an unknown filter throws
 * before any request is sent. Returns the query string without the leading `?`.
 *
 * @example
 * ```ts
 * serializeQuery({ storage_hash__in: ["a", "b"], include_relations_detail: true });
 * // "storage_hash__in=a%2Cb&include_relations_detail=true"
 * ```
 */
export function serializeQuery(
  query: Readonly<Record<string, unknown>>,
  filterset?: FilterSet,
  model?: string,
  options: { extraKeys?: readonly string[] } = {},
): string {
  const name = model ?? "Model";
  const extra =
    options.extraKeys ??
    (model !== undefined && Object.hasOwn(EXTRA_QUERY_PARAMS, model)
      ? EXTRA_QUERY_PARAMS[model as FilterModel]
      : []);
  const values = filterset ? normalizeFilters(query, filterset, name, extra) : query;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === null) continue;
    if (key.endsWith("__in")) {
      const list = Array.isArray(value) ? value : [value];
      params.append(
        key,
        list
          .filter((v) => v !== undefined && v !== null)
          .map(renderScalar)
          .join(","),
      );
    } else if (Array.isArray(value)) {
      for (const item of value) {
        if (item !== undefined && item !== null) params.append(key, renderScalar(item));
      }
    } else {
      params.append(key, renderScalar(value));
    }
  }
  return params.toString();
}

/**
 * Serialises `query` for a named model: validates against {@link FILTERSETS} and its
 * {@link EXTRA_QUERY_PARAMS}.
 *
 * @example
 * ```ts
 * serializeModelQuery("DataNodeUpdate", { update_hash: " h " }); // "update_hash=h"
 * ```
 */
export function serializeModelQuery(
  model: FilterModel,
  query: Readonly<Record<string, unknown>>,
): string {
  return serializeQuery(query, FILTERSETS[model], model, { extraKeys: EXTRA_QUERY_PARAMS[model] });
}

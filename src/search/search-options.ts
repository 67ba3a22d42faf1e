import type { StorageSearchFilters } from "../store/store-types.js";
import { type BlendOptions, DEFAULT_BLEND } from "./ranking.js";
import { SearchError } from "./search-error.js";

/** A validated description search. */
export interface DescriptionSearchRequest {
  /** The trimmed query. */
  readonly q: string;
  readonly blend: BlendOptions;
  /** `"default"` or a model name. */
  readonly embeddingModel: string;
  readonly qEmbedding: readonly number[] | null;
  readonly filters: StorageSearchFilters;
}

/** A validated column search. */
export interface ColumnSearchRequest {
  readonly q: string;
  readonly filters: StorageSearchFilters;
  readonly limit: number | null;
}

const DESCRIPTION_KEYS = new Set([
  "trigramK",
  "embedK",
  "wTrgm",
  "wEmb",
  "embeddingModel",
  "qEmbedding",
  "filters",
  "signal",
]);
const COLUMN_KEYS = new Set(["filters", "limit", "signal"]);
const FILTER_KEYS = [
  "namespace",
  "identifier",
  "identifierContains",
  "storageHash",
  "sourceClassName",
  "dataSourceId",
] as const;

/**
 * The query of either search: trimmed, and non-empty (as the platform client requires).
 *
 * @example
 * ```ts
 * parseSearchQuery("  close "); // "close"
 * ```
 */
export function parseSearchQuery(q: unknown): string {
  if (typeof q !== "string") {
    throw new SearchError("invalid_search_query", `q must be a string, got ${describe(q)}`);
  }
  const trimmed = q.trim();
  if (trimmed === "") throw new SearchError("invalid_search_query", "q must not be blank");
  return trimmed;
}

/**
 * Validates description-search arguments and fills the platform's defaults (`trigramK` 200,
 * `embedK` 200, `wTrgm` 0.65, `wEmb` 0.35, `embeddingModel` `"default"`).
 */
export function parseDescriptionSearch(q: unknown, options: unknown): DescriptionSearchRequest {
  const query = parseSearchQuery(q);
  const o = checkKeys(options, DESCRIPTION_KEYS, "description search option");
  const model = o["embeddingModel"] ?? "default";
  if (typeof model !== "string" || model.trim() === "") {
    throw new SearchError(
      "invalid_search_option",
      `embeddingModel must be a non-empty string, got ${describe(model)}`,
    );
  }
  return {
    q: query,
    blend: {
      trigramK: count(o["trigramK"], "trigramK", DEFAULT_BLEND.trigramK),
      embedK: count(o["embedK"], "embedK", DEFAULT_BLEND.embedK),
      wTrgm: weight(o["wTrgm"], "wTrgm", DEFAULT_BLEND.wTrgm),
      wEmb: weight(o["wEmb"], "wEmb", DEFAULT_BLEND.wEmb),
    },
    embeddingModel: model.trim(),
    qEmbedding: vector(o["qEmbedding"]),
    filters: parseStorageFilters(o["filters"]),
  };
}

/** Validates column-search arguments. */
export function parseColumnSearch(q: unknown, options: unknown): ColumnSearchRequest {
  const query = parseSearchQuery(q);
  const o = checkKeys(options, COLUMN_KEYS, "column search option");
  const limit = o["limit"];
  if (limit !== undefined && (!Number.isSafeInteger(limit) || (limit as number) < 1)) {
    throw new SearchError(
      "invalid_search_option",
      `limit must be a positive integer, got ${describe(limit)}`,
    );
  }
  return {
    q: query,
    filters: parseStorageFilters(o["filters"]),
    limit: (limit as number | undefined) ?? null,
  };
}

/**
 * Validates storage filters: only the keys of {@link StorageSearchFilters}, each of its type.
 * String values are trimmed (the platform's `str` normalizer); `undefined` values are dropped.
 *
 * @example
 * ```ts
 * parseStorageFilters({ bogus: 1 }); // throws SearchError unknown_search_filter
 * ```
 */
export function parseStorageFilters(filters: unknown): StorageSearchFilters {
  const f = checkKeys(filters, new Set<string>(FILTER_KEYS), "search filter");
  const out: { -readonly [K in keyof StorageSearchFilters]: StorageSearchFilters[K] } = {};
  for (const key of FILTER_KEYS) {
    const value = f[key];
    if (value === undefined) continue;
    if (key === "dataSourceId") {
      if (!Number.isSafeInteger(value)) {
        throw new SearchError(
          "invalid_search_option",
          `filter dataSourceId must be an integer, got ${describe(value)}`,
        );
      }
      out.dataSourceId = value as number;
    } else if (key === "namespace" && value === null) {
      out.namespace = null;
    } else {
      if (typeof value !== "string") {
        throw new SearchError(
          "invalid_search_option",
          `filter ${key} must be a string${key === "namespace" ? " or null" : ""}, got ${describe(value)}`,
        );
      }
      out[key] = value.trim();
    }
  }
  return out;
}

function checkKeys(
  value: unknown,
  allowed: ReadonlySet<string>,
  what: string,
): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new SearchError("invalid_search_option", `${what}s must be an object`);
  }
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => record[k] !== undefined && !allowed.has(k));
  if (unknown.length > 0) {
    throw new SearchError(
      "unknown_search_filter",
      `unknown ${what}${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `'${k}'`).join(", ")}; allowed: ${[...allowed].join(", ")}`,
    );
  }
  return record;
}

function count(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new SearchError(
      "invalid_search_option",
      `${name} must be a non-negative integer, got ${describe(value)}`,
    );
  }
  return value as number;
}

function weight(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new SearchError(
      "invalid_search_option",
      `${name} must be a finite number >= 0, got ${describe(value)}`,
    );
  }
  return value;
}

function vector(value: unknown): readonly number[] | null {
  if (value === undefined || value === null) return null;
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((x) => typeof x === "number" && Number.isFinite(x))
  ) {
    throw new SearchError(
      "invalid_search_option",
      "qEmbedding must be a non-empty array of finite numbers",
    );
  }
  return [...(value as number[])];
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) {
    return String(value);
  }
  return Array.isArray(value) ? "an array" : typeof value;
}

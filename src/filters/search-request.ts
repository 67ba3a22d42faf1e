import { type FilterNode, isFilterNode, parseFilter } from "./filter-ast.js";
import { FilterError } from "./filter-error.js";

/** How a joined table is combined with the base table. */
export type JoinType = "inner" | "left" | "full";

const JOIN_TYPES: readonly JoinType[] = ["inner", "left", "full"];

/** Common join keys (the reference's `JoinKey` constants); any index name is allowed. */
export const JoinKey = Object.freeze({
  time_index: "time_index",
  unique_identifier: "unique_identifier",
} as const);

/** A join as the caller writes it: exactly one of `storageHash` / `nodeUniqueIdentifier`. */
export interface JoinSpecInput {
  /** The label of the joined table: its columns come back as `<name>__<column>`. */
  readonly name: string;
  readonly storageHash?: string | null | undefined;
  readonly nodeUniqueIdentifier?: string | null | undefined;
  /** The index columns both tables are matched on, e.g. `["time_index", "unique_identifier"]`. */
  readonly on: readonly string[];
  /** Default `"inner"`. */
  readonly type?: JoinType | undefined;
}

/** A validated, frozen join. */
export interface JoinSpec {
  readonly name: string;
  readonly storageHash?: string;
  readonly nodeUniqueIdentifier?: string;
  readonly on: readonly string[];
  readonly type: JoinType;
}

/** What a {@link SearchRequest} is built from. */
export interface SearchRequestInput {
  readonly storageHash?: string | null | undefined;
  readonly nodeUniqueIdentifier?: string | null | undefined;
  readonly filter?: FilterNode | null | undefined;
  readonly joins?: readonly JoinSpecInput[] | undefined;
  /** Rows per page, 1..500 (default 50). */
  readonly limit?: number | undefined;
  /** Rows to skip, >= 0 (default 0). */
  readonly offset?: number | undefined;
}

function nonBlank(value: unknown): value is string {
  return typeof value === "string" && value.trim() !== "";
}

function checkInteger(name: "limit" | "offset", value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new FilterError("invalid_request", `${name} must be an integer ${range} (got ${value})`, {
      path: name,
    });
  }
  return value;
}

function joinSpec(input: JoinSpecInput, path: string): JoinSpec {
  if (input === null || typeof input !== "object") {
    throw new FilterError("invalid_join", "a join must be an object", { path });
  }
  if (!nonBlank(input.name)) {
    throw new FilterError("invalid_join", "a join needs a non-empty name", {
      path: `${path}.name`,
    });
  }
  const byHash = nonBlank(input.storageHash);
  const byId = nonBlank(input.nodeUniqueIdentifier);
  if (byHash === byId) {
    throw new FilterError(
      "invalid_join",
      "JoinSpec requires exactly one of storage_hash or node_unique_identifier.",
      { path },
    );
  }
  const on = input.on;
  if (!Array.isArray(on) || on.length === 0) {
    throw new FilterError("invalid_join", "JoinSpec.on must include a time-first index vector.", {
      path: `${path}.on`,
    });
  }
  if (on.some((key) => !nonBlank(key))) {
    throw new FilterError("invalid_join", "JoinSpec.on cannot contain empty index names.", {
      path: `${path}.on`,
    });
  }
  if (new Set(on).size !== on.length) {
    throw new FilterError("invalid_join", "JoinSpec.on cannot contain duplicate index names.", {
      path: `${path}.on`,
    });
  }
  const type = input.type ?? "inner";
  if (!JOIN_TYPES.includes(type)) {
    throw new FilterError(
      "invalid_join",
      `a join type must be one of ${JOIN_TYPES.join(", ")} (got ${JSON.stringify(type)})`,
      { path: `${path}.type` },
    );
  }
  const spec: {
    name: string;
    storageHash?: string;
    nodeUniqueIdentifier?: string;
    on: readonly string[];
    type: JoinType;
  } = { name: input.name, on: Object.freeze([...on]), type };
  if (byHash) spec.storageHash = input.storageHash as string;
  else spec.nodeUniqueIdentifier = input.nodeUniqueIdentifier as string;
  return Object.freeze(spec);
}

/**
 * A structured read of one published table, optionally joined with others: the TypeScript form
 * of the platform's `SearchRequest` (protocol section 3.1). Validated and frozen on
 * construction; `with()` returns a new request.
 *
 * Rules: exactly one non-blank `storageHash` / `nodeUniqueIdentifier`; join names unique; each
 * join names exactly one target and a non-empty `on` without blanks or duplicates; `limit`
 * 1..500 (default 50); `offset` >= 0 (default 0).
 *
 * @example
 * ```ts
 * const req = new SearchRequest({
 *   nodeUniqueIdentifier: "daily_prices",
 *   joins: [{ name: "fundamentals", nodeUniqueIdentifier: "fundamentals",
 *             on: ["time_index", "unique_identifier"], type: "left" }],
 *   filter: and_(F.eq("unique_identifier", "AAPL"), F.gt("fundamentals.pe", 10)),
 *   limit: 100,
 * });
 * ```
 */
export class SearchRequest {
  /** The default page size. */
  static readonly DEFAULT_LIMIT = 50;
  /** The largest `limit` a caller may ask for (the reference model's cap). */
  static readonly MAX_LIMIT = 500;
  /**
   * The largest page the paging helpers request (the reference's `batch_limit`, which bypasses
   * the 500 cap); stores accept pages up to this size.
   */
  static readonly MAX_BATCH_LIMIT = 14_000;

  // Set only while `page()` builds a request, to let it exceed MAX_LIMIT.
  static #batch = false;

  declare readonly storageHash?: string;
  declare readonly nodeUniqueIdentifier?: string;
  declare readonly filter?: FilterNode;
  readonly joins: readonly JoinSpec[];
  readonly limit: number;
  readonly offset: number;

  constructor(input: SearchRequestInput) {
    if (input === null || typeof input !== "object") {
      throw new FilterError("invalid_request", "a search request must be an object");
    }
    const byHash = nonBlank(input.storageHash);
    const byId = nonBlank(input.nodeUniqueIdentifier);
    if (byHash === byId) {
      throw new FilterError(
        "invalid_request",
        "Exactly one of storage_hash or node_unique_identifier must be provided.",
      );
    }
    const self = this as {
      storageHash?: string;
      nodeUniqueIdentifier?: string;
      filter?: FilterNode;
    };
    if (byHash) self.storageHash = input.storageHash as string;
    else self.nodeUniqueIdentifier = input.nodeUniqueIdentifier as string;

    const joins = input.joins ?? [];
    if (!Array.isArray(joins)) {
      throw new FilterError("invalid_request", "joins must be a list", { path: "joins" });
    }
    this.joins = Object.freeze(joins.map((j, i) => joinSpec(j, `joins[${i}]`)));
    const names = this.joins.map((j) => j.name);
    if (new Set(names).size !== names.length) {
      throw new FilterError("invalid_join", "Join names must be unique within a request.", {
        path: "joins",
      });
    }

    if (input.filter !== undefined && input.filter !== null) {
      if (!isFilterNode(input.filter) || !Object.isFrozen(input.filter)) {
        throw new FilterError(
          "invalid_filter",
          "filter must be a node built with F, and_, or_ or parseFilter",
          { path: "filter" },
        );
      }
      self.filter = input.filter;
    }
    const cap = SearchRequest.#batch ? SearchRequest.MAX_BATCH_LIMIT : SearchRequest.MAX_LIMIT;
    this.limit = checkInteger("limit", input.limit ?? SearchRequest.DEFAULT_LIMIT, 1, cap);
    this.offset = checkInteger("offset", input.offset ?? 0, 0, Number.MAX_SAFE_INTEGER);
    Object.freeze(this);
  }

  /** Returns `input` when it already is a request, else builds (and validates) one. */
  static from(input: SearchRequest | SearchRequestInput): SearchRequest {
    return input instanceof SearchRequest ? input : new SearchRequest(input);
  }

  /**
   * Reads a request from its wire payload (snake_case, as `model_dump(mode="json")` writes it),
   * given as an object or JSON text. Pages up to {@link SearchRequest.MAX_BATCH_LIMIT} rows are
   * accepted, because the reference client sends `limit = batch_limit` (14000) per page.
   *
   * @example
   * ```ts
   * SearchRequest.fromWire('{"storage_hash":"prices_abc","joins":[],"limit":50,"offset":0}');
   * ```
   */
  static fromWire(payload: unknown): SearchRequest {
    let value = payload;
    if (typeof payload === "string") {
      try {
        value = JSON.parse(payload);
      } catch (cause) {
        throw new FilterError("invalid_request", "the search request is not valid JSON", { cause });
      }
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new FilterError("invalid_request", "a search request must be a JSON object");
    }
    const body = value as Record<string, unknown>;
    const known = ["storage_hash", "node_unique_identifier", "joins", "filter", "limit", "offset"];
    for (const key of Object.keys(body)) {
      if (!known.includes(key)) {
        throw new FilterError("invalid_request", `unknown key ${JSON.stringify(key)}`, {
          path: key,
        });
      }
    }
    const joins = body["joins"] ?? [];
    if (!Array.isArray(joins)) {
      throw new FilterError("invalid_request", "joins must be a list", { path: "joins" });
    }
    const input: SearchRequestInput = {
      storageHash: body["storage_hash"] as string | undefined,
      nodeUniqueIdentifier: body["node_unique_identifier"] as string | undefined,
      joins: joins.map((j: unknown, i) => {
        if (j === null || typeof j !== "object" || Array.isArray(j)) {
          throw new FilterError("invalid_join", "a join must be an object", {
            path: `joins[${i}]`,
          });
        }
        const o = j as Record<string, unknown>;
        return {
          name: o["name"] as string,
          storageHash: o["storage_hash"] as string | undefined,
          nodeUniqueIdentifier: o["node_unique_identifier"] as string | undefined,
          on: o["on"] as string[],
          type: o["type"] as JoinType | undefined,
        };
      }),
      filter:
        body["filter"] === undefined || body["filter"] === null
          ? undefined
          : parseFilter(body["filter"]),
      limit: body["limit"] as number | undefined,
      offset: body["offset"] as number | undefined,
    };
    return SearchRequest.#withBatch(() => new SearchRequest(input));
  }

  /** The fields of this request as input (for `with()` and copies). */
  toInput(): SearchRequestInput {
    return {
      storageHash: this.storageHash,
      nodeUniqueIdentifier: this.nodeUniqueIdentifier,
      filter: this.filter,
      joins: this.joins,
      limit: this.limit,
      offset: this.offset,
    };
  }

  /**
   * A copy with some fields changed (validated again). Setting one target clears the other.
   *
   * @example
   * ```ts
   * req.with({ offset: req.offset + req.limit });
   * ```
   */
  with(changes: Partial<SearchRequestInput>): SearchRequest {
    const base = this.toInput();
    const retarget = "storageHash" in changes || "nodeUniqueIdentifier" in changes;
    return new SearchRequest({
      ...base,
      ...(retarget ? { storageHash: undefined, nodeUniqueIdentifier: undefined } : {}),
      ...changes,
    });
  }

  /**
   * The same request for one page of a paged read: `limit` may go up to
   * {@link SearchRequest.MAX_BATCH_LIMIT} here (the reference's `batch_limit` override).
   */
  page(offset: number, limit: number): SearchRequest {
    return SearchRequest.#withBatch(() => new SearchRequest({ ...this.toInput(), offset, limit }));
  }

  static #withBatch<T>(build: () => T): T {
    SearchRequest.#batch = true;
    try {
      return build();
    } finally {
      SearchRequest.#batch = false;
    }
  }
}

import { FilterError } from "../filters/filter-error.js";
import { SearchRequest, type SearchRequestInput } from "../filters/search-request.js";
import { Frame } from "../frame/frame.js";
import type {
  ColumnSearchOptions,
  DataStore,
  DescriptionSearchOptions,
  FilterResult,
  SearchHit,
  StorageRecord,
} from "../store/data-store.js";
import { getStore } from "../store/store-registry.js";

/** Where and how a filtered read runs. */
export interface FilterReadOptions {
  /** The store to read (default: the configured store, `getStore()`). */
  readonly store?: DataStore;
  readonly signal?: AbortSignal;
}

/** Options of the paging helpers. */
export interface FilterPagingOptions extends FilterReadOptions {
  /**
   * Rows per page, 1..14000. `iterateDataFromFilter` defaults to the request's `limit`;
   * `getAllDataFromFilter` to 14000, the reference's `batch_limit`.
   */
  readonly batchLimit?: number;
}

function checkBatchLimit(value: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > SearchRequest.MAX_BATCH_LIMIT) {
    throw new FilterError(
      "invalid_request",
      `batchLimit must be an integer between 1 and ${SearchRequest.MAX_BATCH_LIMIT} (got ${value})`,
      { path: "batchLimit" },
    );
  }
  return value;
}

function callOptions(options: FilterReadOptions): { signal?: AbortSignal } {
  return options.signal === undefined ? {} : { signal: options.signal };
}

/**
 * Table-level reads of published storages, named after the reference's `DataNodeStorage`
 * class methods. Every method runs on the given store, or on the configured one.
 *
 * @example
 * ```ts
 * const req = new SearchRequest({ nodeUniqueIdentifier: "daily_prices",
 *   filter: and_(F.eq("unique_identifier", "AAPL"), F.gte("time_index", new Date("2024-01-01Z"))) });
 * const { frame, nextOffset } = await DataNodeStorage.getDataFromFilter(req); // first page
 * for await (const page of DataNodeStorage.iterateDataFromFilter(req)) console.log(page.frame.length);
 * const everything = await DataNodeStorage.getAllDataFromFilter(req);
 * ```
 */
export class DataNodeStorage {
  private constructor() {}

  /**
   * Natural-language discovery over published tables: trigram similarity blended with an
   * embedding similarity (`w_trgm * trigram + w_emb * embedding`, the platform's defaults).
   * Pass `store` in the options to search another store than the configured one.
   *
   * @example
   * ```ts
   * const hits = await DataNodeStorage.descriptionSearch("daily close price");
   * hits[0]?.storage.identifier; // "us_equities_daily_close"
   * ```
   */
  static async descriptionSearch(
    q: string,
    options: DescriptionSearchOptions & { readonly store?: DataStore } = {},
  ): Promise<SearchHit[]> {
    const { store, ...rest } = options;
    return (store ?? (await getStore())).descriptionSearch(q, rest);
  }

  /**
   * Schema-oriented discovery: tables with a column whose name, label or description matches
   * `q` (exact names first); `matchedColumns` lists them.
   *
   * @example
   * ```ts
   * const withClose = await DataNodeStorage.columnSearch("close");
   * ```
   */
  static async columnSearch(
    q: string,
    options: ColumnSearchOptions & { readonly store?: DataStore } = {},
  ): Promise<SearchHit[]> {
    const { store, ...rest } = options;
    return (store ?? (await getStore())).columnSearch(q, rest);
  }

  /**
   * Rebuilds a table's search document (metadata, columns, node class and config) and its
   * embedding; run it after improving `getTableMetadata()`/`getColumnMetadata()`.
   *
   * @example
   * ```ts
   * await DataNodeStorage.refreshTableSearchIndex(storage.uid);
   * ```
   */
  static async refreshTableSearchIndex(
    storageUid: string,
    options: FilterReadOptions = {},
  ): Promise<void> {
    return (options.store ?? (await getStore())).refreshTableSearchIndex(
      storageUid,
      callOptions(options),
    );
  }

  /**
   * The organisation's published table identifiers (not asset identifiers), sorted.
   *
   * @example
   * ```ts
   * await DataNodeStorage.orgUniqueIdentifiers(); // ["daily_prices", "fx_ecb_daily_rates"]
   * ```
   */
  static async orgUniqueIdentifiers(options: FilterReadOptions = {}): Promise<string[]> {
    return (options.store ?? (await getStore())).orgUniqueIdentifiers(callOptions(options));
  }

  /** The storage published under `identifier`, or null. */
  static async getByIdentifier(
    identifier: string,
    options: FilterReadOptions = {},
  ): Promise<StorageRecord | null> {
    return (options.store ?? (await getStore())).findStorage({ identifier }, callOptions(options));
  }

  /** One page: `request.limit` rows from `request.offset`, and the next page's offset. */
  static async getDataFromFilter(
    request: SearchRequest | SearchRequestInput,
    options: FilterReadOptions = {},
  ): Promise<FilterResult> {
    const req = SearchRequest.from(request);
    const store = options.store ?? (await getStore());
    return store.getDataFromFilter(req, callOptions(options));
  }

  /**
   * Every page from `request.offset` until the store reports no next page; each row is yielded
   * exactly once (pages follow the index order).
   *
   * @example
   * ```ts
   * for await (const { frame } of DataNodeStorage.iterateDataFromFilter(req, { batchLimit: 1000 })) {
   *   process(frame);
   * }
   * ```
   */
  static async *iterateDataFromFilter(
    request: SearchRequest | SearchRequestInput,
    options: FilterPagingOptions = {},
  ): AsyncGenerator<FilterResult, void, undefined> {
    const req = SearchRequest.from(request);
    const limit = checkBatchLimit(options.batchLimit ?? req.limit);
    const store = options.store ?? (await getStore());
    let offset: number | null = req.offset;
    while (offset !== null) {
      const page: FilterResult = await store.getDataFromFilter(
        req.page(offset, limit),
        callOptions(options),
      );
      yield page;
      const next: number | null = page.nextOffset;
      if (next !== null && next <= offset) {
        throw new FilterError(
          "invalid_request",
          `the store returned next_offset ${next} after offset ${offset}: paging would not advance`,
        );
      }
      offset = next;
    }
  }

  /**
   * All rows of every page in one frame (the reference's `get_data_from_filter`, which loops
   * with `batch_limit = 14000`).
   */
  static async getAllDataFromFilter(
    request: SearchRequest | SearchRequestInput,
    options: FilterPagingOptions = {},
  ): Promise<Frame> {
    const frames: Frame[] = [];
    for await (const page of DataNodeStorage.iterateDataFromFilter(request, {
      ...options,
      batchLimit: options.batchLimit ?? SearchRequest.MAX_BATCH_LIMIT,
    })) {
      frames.push(page.frame);
    }
    const nonEmpty = frames.filter((f) => f.length > 0);
    if (nonEmpty.length === 0) return frames[0] ?? Frame.empty();
    return nonEmpty.length === 1 ? nonEmpty[0]! : Frame.concat(nonEmpty);
  }
}

import { ArgumentError, NotFoundError } from "../errors.js";
import type { Frame } from "../frame/frame.js";
import { API_DATA_NODE_BRAND, isApiDataNodeLike } from "../hashing/brands.js";
import type { DataStore, StorageKey, StorageRecord, TableStatistics } from "../store/data-store.js";
import { getStore } from "../store/store-registry.js";
import {
  type DateRangeOptions,
  type DimensionOptions,
  readBetweenDates,
  readLastObservation,
} from "./read-options.js";

/** Options of the APIDataNode builders. */
export interface APIDataNodeOptions {
  /** Read from this store instead of the configured one. */
  readonly store?: DataStore;
}

/**
 * A read-only handle on a published table. Build it from the table's identifier (or storage
 * hash) anywhere — a notebook, an app, or a DataNode constructor — and read it with the same
 * methods as a DataNode. Building is synchronous; the table is looked up on first use, and a
 * missing table is a `NotFoundError` then.
 *
 * @example
 * ```ts
 * const prices = APIDataNode.buildFromIdentifier("simulated_prices_tutorial");
 * const df = await prices.getDfBetweenDates({
 *   startDate: "2026-01-01",
 *   columns: ["close"],
 *   dimensionFilters: { unique_identifier: ["NVDA", "AAPL"] },
 * });
 * ```
 */
export class APIDataNode {
  readonly [API_DATA_NODE_BRAND] = true;
  /** How the table was named when the node was built. */
  readonly key: StorageKey;
  private storage: StorageRecord | null = null;
  private boundStore: DataStore | null;

  private constructor(key: StorageKey, options: APIDataNodeOptions) {
    this.key = key;
    this.boundStore = options.store ?? null;
  }

  /** A handle on the table published under `identifier` (see `node_metadata.identifier`). */
  static buildFromIdentifier(identifier: string, options: APIDataNodeOptions = {}): APIDataNode {
    if (typeof identifier !== "string" || identifier.trim() === "") {
      throw new ArgumentError(
        "invalid_argument",
        "APIDataNode.buildFromIdentifier requires a non-empty identifier",
      );
    }
    return new APIDataNode({ identifier }, options);
  }

  /** A handle on the table with this storage hash. */
  static buildFromStorageHash(storageHash: string, options: APIDataNodeOptions = {}): APIDataNode {
    if (typeof storageHash !== "string" || storageHash.trim() === "") {
      throw new ArgumentError(
        "invalid_argument",
        "APIDataNode.buildFromStorageHash requires a non-empty storage hash",
      );
    }
    return new APIDataNode({ storageHash }, options);
  }

  /** True for APIDataNode instances, across copies of the package. */
  static isAPIDataNode(value: unknown): value is APIDataNode {
    return isApiDataNodeLike(value);
  }

  /** Human-readable name for logs and errors. */
  get label(): string {
    if ("identifier" in this.key) return `APIDataNode(identifier=${this.key.identifier})`;
    if ("storageHash" in this.key) return `APIDataNode(storage_hash=${this.key.storageHash})`;
    return `APIDataNode(uid=${this.key.uid})`;
  }

  /** The storage hash, once resolved. */
  get storageHash(): string {
    return this.requireResolved().storageHash;
  }

  /** `"API_" + storageHash`, as in the reference, once resolved. */
  get updateHash(): string {
    return `API_${this.requireResolved().storageHash}`;
  }

  /** Uses `store` for this node (the engine binds the run's store). */
  bindStore(store: DataStore): void {
    if (this.boundStore !== store) this.storage = null;
    this.boundStore = store;
  }

  private async store(): Promise<DataStore> {
    return this.boundStore ?? (await getStore());
  }

  private requireResolved(): StorageRecord {
    if (!this.storage) {
      throw new NotFoundError(
        "unresolved",
        `${this.label} is not resolved yet: await node.resolve() first`,
      );
    }
    return this.storage;
  }

  /** Looks the table up (once) and returns its storage record; a missing table throws. */
  async resolve(): Promise<StorageRecord> {
    if (this.storage) return this.storage;
    const found = await (await this.store()).findStorage(this.key);
    if (!found) {
      const what =
        "identifier" in this.key
          ? `no published table has the identifier '${this.key.identifier}'`
          : "storageHash" in this.key
            ? `no table has the storage hash '${this.key.storageHash}'`
            : `no table has the uid '${this.key.uid}'`;
      throw new NotFoundError("storage_not_found", `${this.label}: ${what}`);
    }
    this.storage = found;
    return found;
  }

  /** Rows between two dates, with optional dimension filters and column projection. */
  async getDfBetweenDates(options: DateRangeOptions = {}): Promise<Frame> {
    const storage = await this.resolve();
    return readBetweenDates(await this.store(), storage, options);
  }

  /** The latest row of every coordinate. */
  async getLastObservation(options: DimensionOptions = {}): Promise<Frame> {
    const storage = await this.resolve();
    return readLastObservation(await this.store(), storage, options);
  }

  /** The table's statistics. */
  async getUpdateStatistics(): Promise<TableStatistics> {
    const storage = await this.resolve();
    return (await this.store()).getTableStatistics(storage.uid);
  }
}

import type {
  AssetFilter,
  AssetRecord,
  AssetRegistration,
  DataStore,
} from "../store/data-store.js";
import { getStore } from "../store/store-registry.js";

/** Options of asset calls: a store other than the configured one. */
export interface AssetCallOptions {
  readonly store?: DataStore;
  readonly signal?: AbortSignal;
}

/**
 * Assets are the identities of 2-D tables (`[time_index, unique_identifier]`): every
 * `unique_identifier` a node writes must be a registered asset.
 *
 * @example
 * ```ts
 * // the seed guide's ensure_assets_exist pattern, in one idempotent call
 * const assets = await Asset.batchGetOrRegisterCustomAssets(
 *   ["AAPL", "MSFT"].map((uid) => ({ uniqueIdentifier: uid, snapshot: { name: uid, ticker: uid } })),
 * );
 * const existing = await Asset.filter({ uniqueIdentifier: ["AAPL"] }); // a list means "any of"
 * ```
 */
export const Asset = {
  /**
   * Assets matching a filter, ordered by id: `uniqueIdentifier` and `ticker` take a value or a
   * list (any of), `nameContains`, `exchangeCode`, `securityType` a value; keys AND together.
   */
  async filter(filter: AssetFilter, options: AssetCallOptions = {}): Promise<AssetRecord[]> {
    const store = options.store ?? (await getStore());
    return store.filterAssets(filter, options.signal ? { signal: options.signal } : {});
  },

  /**
   * Registers the given assets, keyed by `uniqueIdentifier`, and returns all of them in request
   * order (those that already existed included). Calling it twice registers nothing new.
   */
  async batchGetOrRegisterCustomAssets(
    assets: readonly AssetRegistration[],
    options: AssetCallOptions = {},
  ): Promise<AssetRecord[]> {
    const store = options.store ?? (await getStore());
    return store.batchGetOrRegisterAssets(assets, options.signal ? { signal: options.signal } : {});
  },
} as const;

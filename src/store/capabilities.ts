import { StoreError } from "../errors.js";
import type { StoreInfo } from "./data-store.js";
import type { StoreCapability } from "./store-types.js";

/**
 * The error a store raises when asked for something it declared it cannot do.
 *
 * @example
 * ```ts
 * if (!this.capabilities.listRuns) throw unsupportedCapability(this, "listRuns", "listRuns()");
 * ```
 */
export function unsupportedCapability(
  store: Pick<StoreInfo, "description">,
  capability: StoreCapability,
  what: string,
): StoreError {
  return new StoreError(
    "unsupported_capability",
    `${what} needs the '${capability}' capability, which ${store.description} does not have: check store.capabilities.${capability} first`,
  );
}

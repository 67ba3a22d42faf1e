/**
 * Brand of every DataNode instance. The hashing layer recognises nodes by this symbol (not by
 * `instanceof`), so it never imports `node/` and two copies of the package still agree.
 */
export const DATA_NODE_BRAND: unique symbol = Symbol.for("tdag.DataNode");

/** Brand of APIDataNode instances (read-only handles; never hashable as arguments). */
export const API_DATA_NODE_BRAND: unique symbol = Symbol.for("tdag.APIDataNode");

/** What hashing needs from a dependency node embedded in a config or a hashed argument. */
export interface DataNodeLike {
  readonly [DATA_NODE_BRAND]: true;
  readonly updateHash: string;
}

/** True for a DataNode instance (by brand). */
export function isDataNodeLike(value: unknown): value is DataNodeLike {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { [DATA_NODE_BRAND]?: unknown })[DATA_NODE_BRAND] === true
  );
}

/** True for an APIDataNode instance (by brand). */
export function isApiDataNodeLike(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { [API_DATA_NODE_BRAND]?: unknown })[API_DATA_NODE_BRAND] === true
  );
}

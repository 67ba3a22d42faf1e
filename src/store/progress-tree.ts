/**
 * Building the per-coordinate statistics trees that stores report (`index_progress`,
 * `index_min`, column stats): one nesting level per identity dimension.
 */

import type { TableStatistics } from "./store-types.js";

/** Statistics of a table that does not exist yet or holds no rows. */
export function emptyStatistics(rowCount: number | null = null): TableStatistics {
  return {
    globalIndexProgress: null,
    indexProgress: null,
    indexMin: null,
    multiIndexColumnStats: null,
    rowCount,
  };
}

/** A tree under construction: identity keys down to leaves. */
export type MutableTree = { [key: string]: MutableTree | unknown };

/** The tree key of an identity value: strings as they are, null as `"null"`, anything else as text. */
export function coordinateKey(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "null";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** Sets the leaf at `keys` to `update(previous leaf)`, creating the levels on the way. */
export function placeLeaf(
  tree: MutableTree,
  keys: readonly string[],
  update: (previous: unknown) => unknown,
): void {
  let node = tree;
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i]!;
    let next = node[key];
    if (typeof next !== "object" || next === null) {
      next = {};
      node[key] = next;
    }
    node = next as MutableTree;
  }
  const last = keys[keys.length - 1]!;
  node[last] = update(node[last]);
}

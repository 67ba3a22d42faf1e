import { parseJsonWithInt64 } from "../../frame/exact-json.js";
import { coordinateKey, emptyStatistics, type MutableTree, placeLeaf } from "../progress-tree.js";
import type { ProgressTree, TableSchema, TableStatistics } from "../store-types.js";

/** One row of `tdag_progress`: a coordinate (JSON array of identity values) and its time range. */
export interface ProgressRow {
  readonly coordinate: string;
  readonly min: number;
  readonly max: number;
}

/**
 * Builds {@link TableStatistics} from the per-coordinate progress rows: `indexProgress` /
 * `indexMin` nest one level per identity dimension (`{}` for a 1-D table) with epoch-micros
 * leaves; `multiIndexColumnStats` repeats the `{min, max}` tree for every value column, as the
 * reference does (its column stats are identical for all columns).
 */
export function buildStatistics(
  schema: TableSchema,
  rows: readonly ProgressRow[],
  rowCount: number | null,
): TableStatistics {
  if (rows.length === 0) return emptyStatistics(rowCount);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  const progress: MutableTree = {};
  const first: MutableTree = {};
  const ranges: MutableTree = {};
  const depth = schema.indexNames.length - 1;
  for (const row of rows) {
    if (row.min < min) min = row.min;
    if (row.max > max) max = row.max;
    if (depth === 0) continue;
    // Exact integers: an int64 identity value beyond ±(2^53 - 1) keeps its digits in the key.
    const keys = (parseJsonWithInt64(row.coordinate) as unknown[]).map(coordinateKey);
    placeLeaf(progress, keys, () => row.max);
    placeLeaf(first, keys, () => row.min);
    placeLeaf(ranges, keys, () => ({ min: row.min, max: row.max }));
  }
  const index = new Set(schema.indexNames);
  const columnStats: Record<string, unknown> = {};
  for (const column of Object.keys(schema.columnDtypes)) {
    if (!index.has(column)) columnStats[column] = depth === 0 ? {} : structuredClone(ranges);
  }
  return {
    globalIndexProgress: { min, max },
    indexProgress: progress as ProgressTree,
    indexMin: first as ProgressTree,
    multiIndexColumnStats: columnStats,
    rowCount,
  };
}

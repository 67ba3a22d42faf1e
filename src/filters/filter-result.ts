import type { Frame } from "../frame/frame.js";
import type { StorageRecord } from "../store/data-store.js";

/**
 * One page of a filtered read (protocol section 3.3, already decoded).
 *
 * The frame is indexed by the base table's index names, which stay unprefixed; every other
 * column is prefixed by the table it comes from: `base__<column>` for the base table and
 * `<join name>__<column>` for a joined one. Dtypes are the tables' own.
 *
 * @example
 * ```ts
 * const { frame, nextOffset } = await store.getDataFromFilter(req);
 * frame.columnNames; // ["time_index", "unique_identifier", "base__close", "fundamentals__pe"]
 * ```
 */
export interface FilterResult {
  /** The rows of this page, ordered by the index. */
  readonly frame: Frame;
  /** The offset of the next page, or `null` when this page is the last. */
  readonly nextOffset: number | null;
  /** The storage behind each prefix: `base` and every join name. */
  readonly storages: Readonly<Record<string, StorageRecord>>;
  /** The frame's index names (the base table's index). */
  readonly indexNames: readonly string[];
}

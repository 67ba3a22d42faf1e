import { UpdateStatisticsError } from "../errors.js";
import type { Column } from "../frame/dtypes.js";
import type { Frame } from "../frame/frame.js";
import { microsToIso } from "../frame/time.js";
import { identityKey, type MicrosMap } from "./update-statistics-tree.js";

/** Separator of joined coordinates; identity values never contain U+0000 in practice. */
const SEP = "\u0000";

/**
 * Keeps the rows of `frame` that are strictly newer than the persisted watermark of their
 * coordinate (datanode-core.md §6.4, the *intended* rule of §5.6):
 * - 1-D index: rows with `time > maxTimeMicros` (all rows when it is null);
 * - N-D index: a row is kept when its coordinate has no numeric leaf at full depth in
 *   `progress` (unseen identity, partial path, null or unparsable leaf) or when its time is
 *   strictly greater than that leaf. Equal times are dropped.
 *
 * Duplicate index tuples are kept on purpose: frame validation rejects them later with a clear
 * error instead of silently choosing one.
 *
 * Watermarks are flattened once into a `Map` keyed by the joined coordinate, so the per-row
 * cost is one key build and one lookup.
 */
export function filterFrameByWatermarks(
  frame: Frame,
  progress: MicrosMap | null,
  maxTimeMicros: number | null,
): Frame {
  if (frame.length === 0) return frame;
  const time = frame.time;
  const dims = frame.identityDimensions;
  if (dims.length === 0) {
    if (maxTimeMicros === null) return frame;
    return keepWhere(frame, (i) => time[i]! > maxTimeMicros);
  }
  if (progress === null || progress.size === 0) return frame;

  const watermarks = new Map<string, number>();
  flatten(progress, 0, dims.length, "", watermarks, dims);
  if (watermarks.size === 0) return frame;

  const keys = dims.map((name) => keyColumn(frame.getColumn(name)));
  if (keys.length === 1) {
    const k0 = keys[0]!;
    return keepWhere(frame, (i) => {
      const k = k0[i];
      if (k === null || k === undefined) return true;
      const wm = watermarks.get(k);
      return wm === undefined || time[i]! > wm;
    });
  }
  return keepWhere(frame, (i) => {
    let joined = "";
    for (let d = 0; d < keys.length; d++) {
      const k = keys[d]![i];
      if (k === null || k === undefined) return true;
      joined = d === 0 ? k : joined + SEP + k;
    }
    const wm = watermarks.get(joined);
    return wm === undefined || time[i]! > wm;
  });
}

/** The joined-coordinate key the filter uses for a path of identity values. */
export function joinCoordinate(values: readonly string[]): string {
  return values.join(SEP);
}

function flatten(
  node: MicrosMap,
  depth: number,
  levels: number,
  prefix: string,
  out: Map<string, number>,
  dims: readonly string[],
): void {
  for (const [key, child] of node) {
    const joined = depth === 0 ? key : prefix + SEP + key;
    if (depth + 1 === levels) {
      if (child instanceof Map) {
        throw new UpdateStatisticsError(
          "identity_dimensions_mismatch",
          `UpdateStatistics: index_progress is nested deeper than the frame's identity dimensions [${dims.join(", ")}] (at key ${JSON.stringify(key)}); the frame's index does not match the table`,
        );
      }
      if (typeof child === "number") out.set(joined, child);
    } else if (child instanceof Map) {
      flatten(child, depth + 1, levels, joined, out, dims);
    }
    // A leaf above full depth (e.g. a scoped fallback) gives no watermark: such rows are kept.
  }
}

function keyColumn(column: Column): readonly (string | null)[] {
  if (column.dtype === "string") return column.values;
  const values = column.values as ArrayLike<unknown>;
  const out = new Array<string | null>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (column.dtype === "timestamptz") {
      out[i] = typeof v === "number" && !Number.isNaN(v) ? microsToIso(v) : null;
    } else {
      out[i] = identityKey(v);
    }
  }
  return out;
}

function keepWhere(frame: Frame, keep: (row: number) => boolean): Frame {
  const n = frame.length;
  const rows = new Uint32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) if (keep(i)) rows[count++] = i;
  return count === n ? frame : frame.take(rows.subarray(0, count));
}

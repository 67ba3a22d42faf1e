import { UpdateStatisticsError } from "../errors.js";
import { microsToDate, microsToIso, parseIsoInstant } from "../frame/time.js";

/**
 * The nested statistics trees of {@link UpdateStatistics} (`index_progress`, `index_min`,
 * `multi_index_column_stats`) and the timestamp normalisation of datanode-core.md §6.2.
 *
 * Internally a tree is a `Map` (insertion order survives integer-like keys such as `"10"`,
 * which plain objects would reorder) whose leaves are epoch microseconds, an unparsable string
 * kept verbatim (as the reference does), or `null`.
 */

/** A normalised leaf: epoch microseconds, an unparsable string kept as given, or null. */
export type MicrosLeaf = number | string | null;
/** A normalised node: a subtree or a leaf. */
export type MicrosNode = MicrosMap | MicrosLeaf;
/** A normalised subtree. */
export type MicrosMap = Map<string, MicrosNode>;

/** A read-only statistics tree as plain objects, one nesting level per identity dimension. */
export interface StatisticsTree<L> {
  readonly [key: string]: StatisticsTree<L> | L;
}

/** A tree whose leaves are `Date`s (unparsable strings and nulls kept as they came). */
export type DateTree = StatisticsTree<Date | string | null>;
/** A tree whose leaves are epoch microseconds (unparsable strings and nulls kept). */
export type MicrosTree = StatisticsTree<number | string | null>;

/** Anything accepted as a timestamp in a statistics payload. */
export type TimestampInput = Date | string | number | bigint | { toMillis(): number };

/** A statistics tree as accepted on input: plain objects (or Maps) with timestamp leaves. */
export interface StatisticsTreeInput {
  readonly [key: string]: StatisticsTreeInput | TimestampInput | null | undefined;
}

/** How plain numbers in an input are read. */
export type NumberMode = "heuristic" | "micros";

/**
 * Reads an epoch number by magnitude, as the reference `_to_utc_datetime` does:
 * `> 1e17` nanoseconds, `> 1e14` microseconds, `> 1e11` milliseconds, otherwise seconds.
 *
 * @example
 * ```ts
 * epochNumberToMicros(1_704_067_200);         // seconds      → 1704067200000000
 * epochNumberToMicros(1_704_067_200_000);     // milliseconds → 1704067200000000
 * ```
 */
export function epochNumberToMicros(value: number): number {
  if (value > 1e17) return Math.round(value / 1e3);
  if (value > 1e14) return Math.round(value);
  if (value > 1e11) return Math.round(value * 1e3);
  return Math.round(value * 1e6);
}

/**
 * Normalises one timestamp to epoch microseconds. Returns the input string unchanged when it
 * is not ISO-8601 (the reference keeps such leaves), and `null` for null/undefined.
 * Throws a {@link TdagError} for values that are not timestamps at all (booleans, arrays, ...).
 */
export function normalizeLeaf(value: unknown, mode: NumberMode, path: string): MicrosLeaf {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw invalid(`${path} is an invalid Date`);
    return ms * 1000;
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw invalid(`${path} is not a finite number (${value})`);
    return mode === "micros" ? Math.round(value) : epochNumberToMicros(value);
  }
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string") {
    // Naive ISO text is read as UTC, like the reference; anything else stays a string.
    const parsed = parseIsoInstant(value, true);
    return parsed.ok ? parsed.micros : value;
  }
  if (typeof value === "object" && "toMillis" in value) {
    const ms = (value as { toMillis(): number }).toMillis();
    if (!Number.isFinite(ms)) throw invalid(`${path} is an invalid instant`);
    return Math.round(ms * 1000);
  }
  throw invalid(`${path} must be a timestamp or a nested object, got ${describe(value)}`);
}

/** Like {@link normalizeLeaf}, but an unparsable string is an error (typed datetime fields). */
export function normalizeInstant(value: unknown, mode: NumberMode, path: string): number | null {
  const leaf = normalizeLeaf(value, mode, path);
  if (typeof leaf === "string") {
    throw invalid(`${path} ${JSON.stringify(leaf)} is not an ISO-8601 timestamp`);
  }
  return leaf;
}

/** Normalises a tree (plain objects or Maps); `null`/`undefined` give `null`. */
export function normalizeTree(value: unknown, mode: NumberMode, path: string): MicrosMap | null {
  if (value === null || value === undefined) return null;
  if (!isBranch(value)) throw invalid(`${path} must be an object, got ${describe(value)}`);
  return normalizeBranch(value, mode, path);
}

function normalizeNode(value: unknown, mode: NumberMode, path: string): MicrosNode {
  return isBranch(value) ? normalizeBranch(value, mode, path) : normalizeLeaf(value, mode, path);
}

function normalizeBranch(
  value: Map<unknown, unknown> | Record<string, unknown>,
  mode: NumberMode,
  path: string,
): MicrosMap {
  const out: MicrosMap = new Map();
  const entries = value instanceof Map ? value.entries() : Object.entries(value);
  for (const [key, child] of entries) {
    const k = String(key);
    out.set(k, normalizeNode(child, mode, `${path}.${k}`));
  }
  return out;
}

function isBranch(value: unknown): value is Map<unknown, unknown> | Record<string, unknown> {
  if (value instanceof Map) return true;
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value) || value instanceof Date || "toMillis" in value) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  return `a ${typeof value}`;
}

function invalid(message: string): UpdateStatisticsError {
  return new UpdateStatisticsError("update_statistics_invalid", `UpdateStatistics: ${message}`);
}

/** Every non-null numeric leaf of a node, depth first. */
export function numericLeaves(node: MicrosNode | undefined, out: number[] = []): number[] {
  if (node instanceof Map) {
    for (const child of node.values()) numericLeaves(child, out);
  } else if (typeof node === "number") {
    out.push(node);
  }
  return out;
}

/** Every non-null leaf (strings included), as the reference's `get_index_progress_leaf_values`. */
export function nonNullLeaves(node: MicrosNode | undefined, out: MicrosLeaf[] = []): MicrosLeaf[] {
  if (node instanceof Map) {
    for (const child of node.values()) nonNullLeaves(child, out);
  } else if (node !== null && node !== undefined) {
    out.push(node);
  }
  return out;
}

/** The largest numeric leaf, or null. */
export function maxLeaf(node: MicrosNode | undefined): number | null {
  let best: number | null = null;
  for (const v of numericLeaves(node)) if (best === null || v > best) best = v;
  return best;
}

/** The smallest numeric leaf, or null. */
export function minLeaf(node: MicrosNode | undefined): number | null {
  let best: number | null = null;
  for (const v of numericLeaves(node)) if (best === null || v < best) best = v;
  return best;
}

/** Converts a normalised node into frozen plain objects, mapping numeric leaves with `leaf`. */
export function toPlain<L>(node: MicrosNode, leaf: (micros: number) => L): StatisticsTree<L> | L {
  if (node instanceof Map) {
    const out: Record<string, StatisticsTree<L> | L> = {};
    for (const [k, child] of node) {
      // defineProperty so a key such as "__proto__" becomes an own property.
      Object.defineProperty(out, k, {
        value: toPlain(child, leaf),
        enumerable: true,
        writable: false,
        configurable: false,
      });
    }
    return Object.freeze(out);
  }
  return typeof node === "number" ? leaf(node) : (node as L);
}

/** A tree with `Date` leaves. */
export function toDateTree(tree: MicrosMap): DateTree {
  return toPlain<Date | string | null>(tree, microsToDate) as DateTree;
}

/** A tree with epoch-micros leaves. */
export function toMicrosTree(tree: MicrosMap): MicrosTree {
  return toPlain<number | string | null>(tree, (m) => m) as MicrosTree;
}

/** The wire form of a node: ISO strings with `Z`. */
export function toWire(node: MicrosNode): unknown {
  return toPlain<string | null>(node, microsToIso);
}

/**
 * The key an identity cell has in a statistics tree. Tree keys are strings (they come from
 * JSON), so numbers and booleans are stringified; `null` means "no key" (never seen).
 *
 * @example
 * ```ts
 * identityKey(10); // "10"
 * identityKey(null); // null
 * ```
 */
export function identityKey(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number") return Number.isNaN(value) ? null : String(value);
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value instanceof Date) return microsToIso(value.getTime() * 1000);
  return JSON.stringify(value);
}

import { ArgumentError } from "../errors.js";
/**
 * The platform's blended ranking: candidates are the `trigramK` best by trigram similarity
 * together with the `embedK` best by embedding similarity; each scores
 * `wTrgm * trigram + wEmb * embedding`; results are sorted by score, best first, ties broken by
 * identifier (tables without one last) and then storage hash, so the order is total.
 */

/** One scored table before blending. */
export interface RankEntry<T> {
  readonly item: T;
  readonly identifier: string | null;
  readonly storageHash: string;
  /** In `[0, 1]`. */
  readonly trigram: number;
  /** Cosine similarity, in `[-1, 1]`. */
  readonly embedding: number;
}

/** One blended result. */
export interface Ranked<T> extends RankEntry<T> {
  readonly score: number;
}

/** Blend parameters (the platform's defaults are 200, 200, 0.65, 0.35). */
export interface BlendOptions {
  readonly trigramK: number;
  readonly embedK: number;
  readonly wTrgm: number;
  readonly wEmb: number;
}

/** The platform's default blend parameters. */
export const DEFAULT_BLEND: BlendOptions = { trigramK: 200, embedK: 200, wTrgm: 0.65, wEmb: 0.35 };

/**
 * The total order used for ties: identifier (present before absent, then by code point), then
 * storage hash.
 */
export function compareTieKeys(
  a: { readonly identifier: string | null; readonly storageHash: string },
  b: { readonly identifier: string | null; readonly storageHash: string },
): number {
  if (a.identifier !== b.identifier) {
    if (a.identifier === null) return 1;
    if (b.identifier === null) return -1;
    return a.identifier < b.identifier ? -1 : 1;
  }
  if (a.storageHash === b.storageHash) return 0;
  return a.storageHash < b.storageHash ? -1 : 1;
}

/**
 * Blends trigram and embedding similarities into one ranking. A table with no signal at all
 * (trigram 0 and embedding at most 0) is never returned.
 *
 * @example
 * ```ts
 * blendRank(entries, DEFAULT_BLEND)[0]?.item; // the best table
 * ```
 */
export function blendRank<T>(entries: readonly RankEntry<T>[], options: BlendOptions): Ranked<T>[] {
  const byTrigram = [...entries].sort((a, b) => b.trigram - a.trigram || compareTieKeys(a, b));
  const byEmbedding = [...entries].sort(
    (a, b) => b.embedding - a.embedding || compareTieKeys(a, b),
  );
  const candidates = new Set<RankEntry<T>>([
    ...byTrigram.slice(0, options.trigramK),
    ...byEmbedding.slice(0, options.embedK),
  ]);
  const ranked: Ranked<T>[] = [];
  for (const entry of candidates) {
    if (entry.trigram <= 0 && entry.embedding <= 0) continue;
    ranked.push({
      ...entry,
      score: options.wTrgm * entry.trigram + options.wEmb * entry.embedding,
    });
  }
  return ranked.sort((a, b) => b.score - a.score || compareTieKeys(a, b));
}

/**
 * Cosine similarity of two vectors of the same length (0 when either is all zeros).
 *
 * @example
 * ```ts
 * cosineSimilarity([1, 0], [1, 1]); // ≈ 0.7071
 * ```
 */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) {
    throw new ArgumentError(
      "invalid_argument",
      `vectors differ in length (${a.length} and ${b.length})`,
    );
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  const c = dot / (Math.sqrt(na) * Math.sqrt(nb));
  // Zero (or underflowing) norms give no signal; rounding can push |cos| a hair past 1.
  if (!Number.isFinite(c)) return 0;
  return Math.max(-1, Math.min(1, c));
}

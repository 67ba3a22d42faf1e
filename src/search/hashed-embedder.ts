import { ArgumentError } from "../errors.js";
import type { Embedder } from "./search-types.js";
import { trigramList, trigramWords } from "./trigram.js";

/** Length of the default embedding vectors. */
export const HASHED_EMBEDDING_DIMENSION = 512;
/** The model name stored next to vectors made by the default embedder. */
export const HASHED_EMBEDDING_MODEL = "tdag-hashed-ngram-512";

/** Options of {@link hashedEmbedding}. */
export interface HashedEmbeddingOptions {
  /** Vector length (default {@link HASHED_EMBEDDING_DIMENSION}). */
  readonly dimension?: number;
}

// Feature weights: whole words count most; character trigrams let "price" meet "prices";
// word pairs reward the same phrase.
const WORD_WEIGHT = 1;
const TRIGRAM_WEIGHT = 0.5;
const BIGRAM_WEIGHT = 0.5;

/**
 * The default embedder: a **lexical** vector, not a semantic model. Features are the text's
 * lower-case words, their pg_trgm character trigrams and adjacent word pairs; each feature is
 * hashed (FNV-1a, 32 bits) to one of `dimension` slots with a hashed sign, weighted by
 * `1 + ln(count)`, and the vector is L2-normalised (all zeros for a text with no letter or digit).
 * Texts sharing words and word fragments get a high cosine; synonyms ("equities" and "stocks")
 * do not. Configure a real model with `configureSearch({ embedder })`.
 *
 * @example
 * ```ts
 * const v = hashedEmbedding("daily close prices"); // 512 numbers, Euclidean norm 1
 * ```
 */
export function hashedEmbedding(text: string, options: HashedEmbeddingOptions = {}): number[] {
  const dimension = options.dimension ?? HASHED_EMBEDDING_DIMENSION;
  if (!Number.isInteger(dimension) || dimension < 1) {
    throw new ArgumentError(
      "invalid_argument",
      `dimension must be a positive integer, got ${String(dimension)}`,
    );
  }
  const counts = new Map<string, number>();
  const add = (feature: string) => counts.set(feature, (counts.get(feature) ?? 0) + 1);
  const words = trigramWords(text);
  for (let i = 0; i < words.length; i++) {
    add(`w:${words[i]!}`);
    if (i > 0) add(`b:${words[i - 1]!} ${words[i]!}`);
  }
  for (const t of trigramList(text)) add(`t:${t}`);

  const vector = new Array<number>(dimension).fill(0);
  for (const [feature, count] of counts) {
    const slot = fnv1a(feature) % dimension;
    const sign = fnv1a(feature, 0x9e3779b9) & 1 ? -1 : 1;
    const weight = feature.startsWith("w:")
      ? WORD_WEIGHT
      : feature.startsWith("b:")
        ? BIGRAM_WEIGHT
        : TRIGRAM_WEIGHT;
    // Sublinear term frequency: a word repeated ten times is not ten times as important.
    vector[slot]! += sign * weight * (1 + Math.log(count));
  }
  let norm = 0;
  for (const x of vector) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm === 0) return vector;
  return vector.map((x) => x / norm);
}

/**
 * An {@link Embedder} of {@link hashedEmbedding} with a fixed dimension.
 *
 * @example
 * ```ts
 * configureSearch({ embedder: createHashedEmbedder(1024), embeddingModel: "hashed-1024" });
 * ```
 */
export function createHashedEmbedder(dimension = HASHED_EMBEDDING_DIMENSION): Embedder {
  return (text) => hashedEmbedding(text, { dimension });
}

/** 32-bit FNV-1a over the UTF-16 code units of a string, with an optional seed. */
function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Trigram similarity as PostgreSQL's `pg_trgm` computes it, so local rankings read like the
 * platform's:
 * - the text is lower-cased and split into words at every character that is not a letter or a
 *   digit (`unique_identifier` is two words);
 * - each word is padded as `"  " + word + " "` and cut into its 3-character substrings;
 * - `similarity(a, b)` is `|A ∩ B| / |A ∪ B|` over the two trigram sets (0 when either is empty).
 *
 * For a short query against a long document, {@link wordSimilarity} is the measure: the best
 * `similarity` between the query's trigram set and any contiguous run of the document's ordered
 * trigrams (pg_trgm's `word_similarity`). pg_trgm searches the runs greedily; this module takes
 * the exact maximum, so it can only be equal or higher.
 */

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * The words of a text as pg_trgm sees them: lower-case runs of letters and digits.
 *
 * @example
 * ```ts
 * trigramWords("Daily close_price!"); // ["daily", "close", "price"]
 * ```
 */
export function trigramWords(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** The trigrams of one (lower-case) word, in order, duplicates kept. */
function wordTrigrams(word: string, out: string[]): void {
  const chars = Array.from(`  ${word} `);
  for (let i = 0; i + 3 <= chars.length; i++) out.push(chars[i]! + chars[i + 1]! + chars[i + 2]!);
}

/**
 * Every trigram of a text in order of appearance, duplicates kept (the "ordered set" that
 * {@link wordSimilarity} scans).
 *
 * @example
 * ```ts
 * trigramList("ab"); // ["  a", " ab", "ab "]
 * ```
 */
export function trigramList(text: string): string[] {
  const out: string[] = [];
  for (const word of trigramWords(text)) wordTrigrams(word, out);
  return out;
}

/**
 * The set of trigrams of a text (pg_trgm's `show_trgm`, unordered).
 *
 * @example
 * ```ts
 * [...trigramSet("cat")].sort(); // ["  c", " ca", "at ", "cat"]
 * ```
 */
export function trigramSet(text: string): Set<string> {
  return new Set(trigramList(text));
}

/**
 * pg_trgm's `similarity(a, b)`: shared trigrams over all distinct trigrams of both texts. In
 * `[0, 1]`, symmetric, 1 for texts with the same words, 0 when either has no letter or digit.
 *
 * @example
 * ```ts
 * trigramSimilarity("word", "words"); // 4 / 7 ≈ 0.571
 * ```
 */
export function trigramSimilarity(a: string, b: string): number {
  return setSimilarity(trigramSet(a), trigramSet(b));
}

/** Jaccard similarity of two trigram sets (0 when either is empty). */
export function setSimilarity(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const t of small) if (large.has(t)) shared++;
  return shared / (a.size + b.size - shared);
}

/**
 * pg_trgm's `word_similarity(query, document)`: the greatest {@link trigramSimilarity} between
 * the query's trigram set and the set of any contiguous run of the document's ordered trigrams.
 * A short query found verbatim inside a long document scores 1; it is never below
 * `trigramSimilarity(query, document)`.
 *
 * @example
 * ```ts
 * wordSimilarity("word", "two words"); // 0.8, as in the pg_trgm documentation
 * ```
 */
export function wordSimilarity(query: string, document: string): number {
  return wordSimilarityOf(trigramSet(query), trigramList(document));
}

/**
 * {@link wordSimilarity} on a prepared query set and document list (reuse them across many
 * documents or queries).
 */
export function wordSimilarityOf(query: ReadonlySet<string>, document: readonly string[]): number {
  const q = query.size;
  if (q === 0 || document.length === 0) return 0;
  // Number the trigrams (the query's first, 0..q-1) so runs are scanned with typed arrays.
  const index = new Map<string, number>();
  let next = 0;
  for (const t of query) index.set(t, next++);
  const ids = new Int32Array(document.length);
  for (let i = 0; i < document.length; i++) {
    const t = document[i]!;
    let id = index.get(t);
    if (id === undefined) {
      id = next++;
      index.set(t, id);
    }
    ids[i] = id;
  }
  const seenInRun = new Int32Array(next).fill(-1);
  let best = 0;
  // The best run starts and ends on a query trigram (trimming anything else only shrinks the
  // union), and a run is never worse for taking in a query trigram just before it: so only runs
  // starting a block of consecutive query trigrams need scanning.
  for (let start = 0; start < ids.length; start++) {
    if (ids[start]! >= q || (start > 0 && ids[start - 1]! < q)) continue;
    let distinct = 0;
    let shared = 0;
    for (let end = start; end < ids.length; end++) {
      const id = ids[end]!;
      if (seenInRun[id] !== start) {
        seenInRun[id] = start;
        distinct++;
        if (id < q) shared++;
      }
      if (id < q) {
        const sim = shared / (q + distinct - shared);
        if (sim > best) {
          best = sim;
          if (best === 1) return 1;
        }
      }
      // No longer run can beat q / |run| (the intersection is at most the whole query).
      if (distinct >= q && q / distinct <= best) break;
    }
  }
  return best;
}

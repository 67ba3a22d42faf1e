import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  setSimilarity,
  trigramList,
  trigramSet,
  trigramSimilarity,
  trigramWords,
  wordSimilarity,
} from "../../src/search/trigram.js";

/** Brute force word similarity: every contiguous run of the document's trigrams. */
function bruteWordSimilarity(query: string, document: string): number {
  const q = trigramSet(query);
  const d = trigramList(document);
  let best = 0;
  for (let i = 0; i < d.length; i++) {
    for (let j = i; j < d.length; j++)
      best = Math.max(best, setSimilarity(q, new Set(d.slice(i, j + 1))));
  }
  return best;
}

const text = fc.string({
  unit: fc.constantFrom("a", "b", "c", "d", "e", " ", "_", "X", "1", "é"),
  maxLength: 24,
});
const hasWord = (s: string) => trigramWords(s).length > 0;

describe("trigrams as pg_trgm makes them", () => {
  it("lower-cases, splits at non-alphanumerics and pads each word '  w '", () => {
    expect(trigramWords("Daily close_PRICE, US-equities 2024")).toEqual([
      "daily",
      "close",
      "price",
      "us",
      "equities",
      "2024",
    ]);
    expect([...trigramSet("cat")].sort()).toEqual(["  c", " ca", "at ", "cat"]);
    expect(trigramList("a b")).toEqual(["  a", " a ", "  b", " b "]);
    expect(trigramSet("!!  --")).toEqual(new Set());
  });

  it("matches pg_trgm's documented values", () => {
    // similarity('word', 'words'): {  w, wo, wor, ord, rd } vs {.. rds, ds } → 4 / 7
    expect(trigramSimilarity("word", "words")).toBeCloseTo(4 / 7, 12);
    // The pg_trgm manual's word_similarity example.
    expect(wordSimilarity("word", "two words")).toBeCloseTo(0.8, 12);
    expect(trigramSimilarity("", "")).toBe(0);
    expect(wordSimilarity("", "anything")).toBe(0);
  });

  it("lets a short query match a long document (word similarity)", () => {
    const doc =
      "identifier: us_eq_close\ndescription: daily close prices of US equities\nclass: Prices";
    expect(wordSimilarity("daily close prices", doc)).toBe(1);
    expect(wordSimilarity("daily close price", doc)).toBeGreaterThan(0.8);
    expect(trigramSimilarity("daily close price", doc)).toBeLessThan(0.5);
  });
});

describe("trigram similarity properties", () => {
  it("is in [0, 1] and symmetric", () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        const s = trigramSimilarity(a, b);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1);
        expect(trigramSimilarity(b, a)).toBe(s);
      }),
    );
  });

  it("is 1 for a text with itself (when it has a word), else 0", () => {
    fc.assert(
      fc.property(text, (a) => {
        expect(trigramSimilarity(a, a)).toBe(hasWord(a) ? 1 : 0);
        expect(trigramSimilarity(a, a.toUpperCase())).toBe(hasWord(a) ? 1 : 0);
      }),
    );
  });

  it("word similarity is in [0, 1], at least the plain similarity, and exact", () => {
    fc.assert(
      fc.property(text, text, (q, d) => {
        const w = wordSimilarity(q, d);
        expect(w).toBeGreaterThanOrEqual(0);
        expect(w).toBeLessThanOrEqual(1);
        expect(w).toBeGreaterThanOrEqual(trigramSimilarity(q, d) - 1e-12);
        expect(w).toBeCloseTo(bruteWordSimilarity(q, d), 12);
      }),
      { numRuns: 500 },
    );
  });

  it("word similarity is 1 when the query's words appear in the document", () => {
    fc.assert(
      fc.property(text, text, text, (q, before, after) => {
        fc.pre(hasWord(q));
        expect(wordSimilarity(q, q)).toBe(1);
        expect(wordSimilarity(q, `${before} ${q} ${after}`)).toBe(1);
      }),
    );
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArgumentError } from "../../src/errors.js";
import {
  createHashedEmbedder,
  HASHED_EMBEDDING_DIMENSION,
  hashedEmbedding,
} from "../../src/search/hashed-embedder.js";
import {
  blendRank,
  compareTieKeys,
  cosineSimilarity,
  DEFAULT_BLEND,
  type RankEntry,
} from "../../src/search/ranking.js";
import { configSearchText } from "../../src/search/search-document.js";
import { SearchError } from "../../src/search/search-error.js";
import {
  parseColumnSearch,
  parseDescriptionSearch,
  parseStorageFilters,
} from "../../src/search/search-options.js";

const norm = (v: readonly number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

function thrown(fn: () => unknown): SearchError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SearchError);
    return error as SearchError;
  }
  throw new Error("expected a SearchError");
}

describe("hashed embedder (lexical, not semantic)", () => {
  it("is deterministic, L2-normalised and 512-dimensional", () => {
    const v = hashedEmbedding("Daily close prices of US equities");
    expect(v).toHaveLength(HASHED_EMBEDDING_DIMENSION);
    expect(norm(v)).toBeCloseTo(1, 12);
    expect(hashedEmbedding("Daily close prices of US equities")).toEqual(v);
    expect(hashedEmbedding("  --  ")).toEqual(new Array(512).fill(0));
    expect(createHashedEmbedder(64)("close")).toHaveLength(64);
  });

  it("ranks lexical neighbours above unrelated text, and knows no synonyms", () => {
    const q = hashedEmbedding("daily close price");
    const near = cosineSimilarity(q, hashedEmbedding("daily close prices of US equities"));
    const far = cosineSimilarity(q, hashedEmbedding("hourly funding rates for crypto perpetuals"));
    expect(near).toBeGreaterThan(0.5);
    expect(near).toBeGreaterThan(far + 0.3);
    // "equities" and "stocks" share no letters' trigrams: no semantic bridge.
    expect(cosineSimilarity(hashedEmbedding("equities"), hashedEmbedding("stocks"))).toBeLessThan(
      0.2,
    );
  });

  it("has unit norm or is all zeros for any text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (t) => {
        const n = norm(hashedEmbedding(t));
        expect(n === 0 || Math.abs(n - 1) < 1e-9).toBe(true);
      }),
    );
  });
});

describe("cosine similarity", () => {
  const vec = fc.array(fc.double({ min: -10, max: 10, noNaN: true }), {
    minLength: 3,
    maxLength: 3,
  });
  it("is in [-1, 1], symmetric and 1 for a non-zero vector with itself", () => {
    fc.assert(
      fc.property(vec, vec, (a, b) => {
        const c = cosineSimilarity(a, b);
        expect(c).toBeGreaterThanOrEqual(-1);
        expect(c).toBeLessThanOrEqual(1);
        expect(cosineSimilarity(b, a)).toBeCloseTo(c, 12);
        if (norm(a) > 1e-3) expect(cosineSimilarity(a, a)).toBeCloseTo(1, 9);
      }),
    );
  });
  it("refuses vectors of different lengths", () => {
    expect(() => cosineSimilarity([1], [1, 2])).toThrow(ArgumentError);
  });
});

describe("blendRank", () => {
  const entry = (
    id: string | null,
    hash: string,
    trigram: number,
    embedding: number,
  ): RankEntry<string> => ({ item: hash, identifier: id, storageHash: hash, trigram, embedding });

  it("scores w_trgm * trgm + w_emb * emb, best first, ties by identifier then hash", () => {
    const ranked = blendRank(
      [
        entry("b", "h2", 0.5, 0.5),
        entry("a", "h3", 0.5, 0.5),
        entry(null, "h0", 0.5, 0.5),
        entry("c", "h1", 1, 0),
        entry("z", "h9", 0, 0),
      ],
      DEFAULT_BLEND,
    );
    expect(ranked.map((r) => r.item)).toEqual(["h1", "h3", "h2", "h0"]);
    expect(ranked[0]!.score).toBeCloseTo(0.65, 12);
    expect(ranked[1]!.score).toBeCloseTo(0.5, 12);
  });

  it("keeps only the top trigram_k by trigram and top embed_k by embedding", () => {
    const entries = [
      entry("t1", "a", 0.9, 0.01),
      entry("t2", "b", 0.8, 0.02),
      entry("e1", "c", 0.01, 0.9),
      entry("x", "d", 0.5, 0.5),
    ];
    const ranked = blendRank(entries, { trigramK: 1, embedK: 1, wTrgm: 0.5, wEmb: 0.5 });
    expect(ranked.map((r) => r.item).sort()).toEqual(["a", "c"]);
    expect(blendRank(entries, { trigramK: 0, embedK: 0, wTrgm: 1, wEmb: 1 })).toEqual([]);
  });

  it("orders ties totally", () => {
    expect(
      compareTieKeys({ identifier: "a", storageHash: "z" }, { identifier: null, storageHash: "a" }),
    ).toBe(-1);
    expect(
      compareTieKeys(
        { identifier: null, storageHash: "a" },
        { identifier: null, storageHash: "b" },
      ),
    ).toBe(-1);
  });
});

describe("search options", () => {
  it("fills the platform's defaults and trims q", () => {
    const r = parseDescriptionSearch("  daily close ", undefined);
    expect(r).toEqual({
      q: "daily close",
      blend: { trigramK: 200, embedK: 200, wTrgm: 0.65, wEmb: 0.35 },
      embeddingModel: "default",
      qEmbedding: null,
      filters: {},
    });
  });

  it("refuses a blank or non-string q", () => {
    expect(thrown(() => parseDescriptionSearch("   ", {})).code).toBe("invalid_search_query");
    expect(thrown(() => parseColumnSearch(42, {})).code).toBe("invalid_search_query");
  });

  it("refuses unknown filter keys and options, naming them", () => {
    const e = thrown(() => parseStorageFilters({ identifier: "x", data_source__uid: "u" }));
    expect(e.code).toBe("unknown_search_filter");
    expect(e.message).toContain("'data_source__uid'");
    expect(thrown(() => parseDescriptionSearch("q", { w_trgrm: 1 })).code).toBe(
      "unknown_search_filter",
    );
    expect(thrown(() => parseColumnSearch("q", { trigram_k: 1 })).code).toBe(
      "unknown_search_filter",
    );
  });

  it("refuses bad values", () => {
    for (const bad of [
      { trigramK: -1 },
      { embedK: 1.5 },
      { wTrgm: Number.NaN },
      { wEmb: -0.1 },
      { embeddingModel: "" },
      { qEmbedding: [] },
      { qEmbedding: [1, Number.POSITIVE_INFINITY] },
      { filters: { dataSourceId: "1" } },
      { filters: { identifier: 3 } },
      { filters: [] },
    ]) {
      expect(thrown(() => parseDescriptionSearch("q", bad)).code).toBe("invalid_search_option");
    }
    expect(thrown(() => parseColumnSearch("q", { limit: 0 })).code).toBe("invalid_search_option");
    expect(
      parseStorageFilters({ namespace: null, identifier: " a ", storage_hash: undefined }),
    ).toEqual({
      namespace: null,
      identifier: "a",
    });
  });
});

describe("configuration search text", () => {
  it("keeps hashed fields, drops runtime-only/update-only ones and bookkeeping", () => {
    const config = {
      config: {
        pydantic_model_import_path: { module: "m", qualname: "PricesConfig" },
        serialized_model: {
          series: "us equities",
          window: 20,
          node_metadata: { identifier: "x" },
          shard: "a",
        },
        runtime_only: ["node_metadata"],
        update_only: ["shard"],
      },
      time_series_class_import_path: { module: "m", qualname: "Prices" },
    };
    expect(configSearchText(config)).toBe("series: us equities; window: 20");
  });
});

import { afterEach, describe, expect, it } from "vitest";
import { NotFoundError, type StoreError } from "../../src/errors.js";
import { Frame } from "../../src/frame/frame.js";
import { HASHED_EMBEDDING_MODEL, hashedEmbedding } from "../../src/search/hashed-embedder.js";
import { configureSearch } from "../../src/search/search-config.js";
import { SearchError } from "../../src/search/search-error.js";
import type { DataStore, SearchHit, StorageRecord } from "../../src/store/data-store.js";
import { rejectionOf, tempStore } from "../helpers/temp-store.js";
import { writeThroughUpdater } from "../helpers/write.js";

interface TableSpec {
  readonly hash: string;
  readonly identifier?: string;
  readonly description?: string;
  readonly cls?: string;
  readonly namespace?: string | null;
  readonly columns?: readonly (readonly [name: string, label: string, description: string])[];
  readonly config?: unknown;
}

/** Registers a storage and publishes its table and column metadata, as a run would. */
async function publish(store: DataStore, spec: TableSpec): Promise<StorageRecord> {
  const storage = await store.registerStorage({
    storageHash: spec.hash,
    namespace: spec.namespace ?? null,
    buildConfiguration: spec.config ?? {},
    sourceClassName: spec.cls ?? "Table",
  });
  await store.setTableMetadata(storage.uid, {
    identifier: spec.identifier ?? null,
    description: spec.description ?? null,
  });
  if (spec.columns) {
    await store.setColumnMetadata(
      storage.uid,
      spec.columns.map(([columnName, label, description]) => ({
        columnName,
        dtype: "float64",
        label,
        description,
      })),
    );
  }
  return (await store.findStorage({ uid: storage.uid }))!;
}

const CATALOGUE: readonly TableSpec[] = [
  {
    hash: "crypto_hourly_1",
    identifier: "crypto_hourly_open",
    description: "hourly open prices of crypto assets",
    cls: "CryptoBars",
    columns: [
      ["open", "Open", "opening price of the hour"],
      ["volume", "Volume", "traded volume"],
    ],
  },
  {
    hash: "fx_ecb_1",
    identifier: "fx_ecb_daily_rates",
    description: "daily FX reference rates published by the ECB",
    cls: "EcbRates",
    columns: [["rate", "Rate", "units of currency per euro"]],
  },
  {
    hash: "weights_1",
    identifier: "portfolio_weights",
    description: "portfolio weights, rebalanced monthly",
    cls: "PortfolioWeights",
    columns: [["weight", "Weight", "share of the portfolio"]],
  },
  {
    hash: "eu_bond_eod_1",
    identifier: "eu_bond_eod",
    description: "end of day prices for European government bonds",
    cls: "BondPrices",
    columns: [
      ["close", "Close", "clean price at the end of the day"],
      ["yield", "Yield", "yield to maturity"],
    ],
  },
  {
    hash: "us_eq_volume_1",
    identifier: "us_equities_daily_volume",
    description: "daily trading volume of US equities",
    cls: "EquityVolume",
    columns: [["volume", "Volume", "shares traded"]],
  },
  {
    hash: "us_eq_adj_1",
    identifier: "us_equities_adjusted",
    description: "split and dividend adjusted series of US equities",
    cls: "EquityAdjusted",
    columns: [["adj_close", "Adjusted close", "close adjusted for splits"]],
  },
  {
    hash: "us_eq_close_1",
    identifier: "us_equities_daily_close",
    description: "daily close prices of US equities",
    cls: "EquityPrices",
    columns: [
      ["close", "Close", "official closing price"],
      ["volume", "Volume", "shares traded"],
    ],
  },
];

async function catalogue(): Promise<DataStore> {
  const { store } = await tempStore();
  for (const spec of CATALOGUE) await publish(store, spec);
  return store;
}

const ids = (hits: readonly { storage: StorageRecord }[]) => hits.map((h) => h.storage.identifier);

async function searchError(promise: Promise<unknown>, code: string): Promise<SearchError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(SearchError);
  expect((error as SearchError).code).toBe(code);
  return error as SearchError;
}

afterEach(() => configureSearch({}));

describe("descriptionSearch", () => {
  it("ranks 'daily close prices of US equities' first for 'daily close price'", async () => {
    const store = await catalogue();
    const hits = await store.descriptionSearch("daily close price");
    expect(hits[0]!.storage.identifier).toBe("us_equities_daily_close");
    expect(hits[0]!.matchedColumns).toEqual(["close"]);
    for (const h of hits) {
      expect(h.score).toBeCloseTo(0.65 * h.trigramScore + 0.35 * h.embeddingScore, 12);
    }
    const scores = hits.map((h) => h.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    // Both signals agree on their own.
    expect(ids(await store.descriptionSearch("daily close price", { wEmb: 0 }))[0]).toBe(
      "us_equities_daily_close",
    );
    expect(ids(await store.descriptionSearch("daily close price", { wTrgm: 0 }))[0]).toBe(
      "us_equities_daily_close",
    );
  });

  it("finds tables by their class name and configuration too", async () => {
    const { store } = await tempStore();
    await publish(store, {
      hash: "a_1",
      identifier: "alpha",
      cls: "ImpliedVolSurface",
      config: { config: { underlying: "SPX options" } },
    });
    await publish(store, { hash: "b_1", identifier: "beta", cls: "Other" });
    expect(ids(await store.descriptionSearch("implied vol surface"))[0]).toBe("alpha");
    expect(ids(await store.descriptionSearch("SPX options"))[0]).toBe("alpha");
  });

  it("shows a metadata change only after refreshTableSearchIndex", async () => {
    const store = await catalogue();
    const fx = (await store.findStorage({ identifier: "fx_ecb_daily_rates" }))!;
    const before = await store.descriptionSearch("credit default swap spreads", { trigramK: 3 });
    expect(ids(before)[0]).not.toBe("fx_ecb_daily_rates");

    await store.setTableMetadata(fx.uid, { description: "sovereign credit default swap spreads" });
    const stale = await store.descriptionSearch("credit default swap spreads", { trigramK: 3 });
    // Same ranking and scores: the index still holds the old document (the hit's storage record
    // is read live, so it already shows the new description).
    const ranking = (hits: readonly SearchHit[]) => hits.map((h) => [h.storage.uid, h.score]);
    expect(ranking(stale)).toEqual(ranking(before));
    expect(stale.find((h) => h.storage.uid === fx.uid)?.storage.description).toBe(
      "sovereign credit default swap spreads",
    );

    await store.refreshTableSearchIndex(fx.uid);
    const fresh = await store.descriptionSearch("credit default swap spreads", { trigramK: 3 });
    expect(ids(fresh)[0]).toBe("fx_ecb_daily_rates");
    expect(fresh[0]!.storage.description).toBe("sovereign credit default swap spreads");
    expect(fresh[0]!.trigramScore).toBe(1);
  });

  it("indexes the first table and the first column metadata automatically", async () => {
    const { store } = await tempStore();
    const s = await store.registerStorage({
      storageHash: "t_1",
      namespace: null,
      buildConfiguration: {},
      sourceClassName: "T",
    });
    // Never indexed: searched by its live document.
    expect(ids(await store.descriptionSearch("T", { embedK: 0, wEmb: 0 }))).toEqual([null]);
    await store.setTableMetadata(s.uid, {
      identifier: "tbl",
      description: "sea surface temperature",
    });
    await store.setColumnMetadata(s.uid, [
      { columnName: "sst", dtype: "float64", label: "SST", description: "kelvin readings" },
    ]);
    expect(ids(await store.descriptionSearch("kelvin readings"))).toEqual(["tbl"]);
    // Later column changes wait for a refresh.
    await store.setColumnMetadata(s.uid, [
      { columnName: "sst", dtype: "float64", label: "SST", description: "celsius readings" },
    ]);
    expect(
      (await store.descriptionSearch("celsius", { wEmb: 0 }))[0]?.trigramScore ?? 0,
    ).toBeLessThan(1);
    await store.refreshTableSearchIndex(s.uid);
    expect((await store.descriptionSearch("celsius", { wEmb: 0 }))[0]?.trigramScore).toBe(1);
  });

  it("refuses a blank q and unknown filters before any work (even on a closed store)", async () => {
    const { store, cleanup } = await tempStore();
    await cleanup();
    await searchError(store.descriptionSearch("   "), "invalid_search_query");
    await searchError(store.columnSearch(""), "invalid_search_query");
    const e = await searchError(
      store.descriptionSearch("close", { filters: { data_source__id: 2 } as never }),
      "unknown_search_filter",
    );
    expect(e.message).toContain("data_source__id");
    await searchError(
      store.columnSearch("close", { filters: { labels: "x" } as never }),
      "unknown_search_filter",
    );
    await searchError(store.descriptionSearch("close", { trigramK: -5 }), "invalid_search_option");
    // A valid search reaches the (closed) store.
    const closed = await rejectionOf(store.descriptionSearch("close"));
    expect((closed as StoreError).code).toBe("closed");
  });

  it("applies filters", async () => {
    const store = await catalogue();
    await publish(store, {
      hash: "ns_close_1",
      identifier: "scratch_daily_close",
      description: "daily close prices of US equities (scratch copy)",
      namespace: "scratch",
      cls: "EquityPrices",
    });
    const q = "daily close price";
    expect(ids(await store.descriptionSearch(q, { filters: { namespace: "scratch" } }))).toEqual([
      "scratch_daily_close",
    ]);
    const noNs = ids(await store.descriptionSearch(q, { filters: { namespace: null } }));
    expect(noNs).not.toContain("scratch_daily_close");
    expect(noNs[0]).toBe("us_equities_daily_close");
    expect(
      ids(
        await store.descriptionSearch(q, { filters: { identifierContains: "us_equities" } }),
      ).sort(),
    ).toEqual(["us_equities_adjusted", "us_equities_daily_close", "us_equities_daily_volume"]);
    expect(
      ids(await store.descriptionSearch(q, { filters: { identifier: "eu_bond_eod" } })),
    ).toEqual(["eu_bond_eod"]);
    expect(
      ids(
        await store.descriptionSearch(q, { filters: { sourceClassName: "EquityPrices" } }),
      ).sort(),
    ).toEqual(["scratch_daily_close", "us_equities_daily_close"]);
    expect(ids(await store.descriptionSearch(q, { filters: { storageHash: "fx_ecb_1" } }))).toEqual(
      ["fx_ecb_daily_rates"],
    );
    expect(ids(await store.descriptionSearch(q, { filters: { dataSourceId: 1 } }))[0]).toBe(
      "us_equities_daily_close",
    );
    expect(await store.descriptionSearch(q, { filters: { dataSourceId: 2 } })).toEqual([]);
    expect(await store.columnSearch("close", { filters: { dataSourceId: 2 } })).toEqual([]);
    expect(ids(await store.columnSearch("close", { filters: { namespace: "scratch" } }))).toEqual(
      [],
    );
  });

  it("uses qEmbedding instead of embedding q, and checks its dimension and the model", async () => {
    const store = await catalogue();
    const q = "daily close price";
    const given = await store.descriptionSearch(q, { qEmbedding: hashedEmbedding(q) });
    expect(given).toEqual(await store.descriptionSearch(q));
    const e = await searchError(
      store.descriptionSearch(q, { qEmbedding: [0.1, 0.2, 0.3] }),
      "embedding_dimension_mismatch",
    );
    expect(e.message).toContain("3 dimensions");
    // Trigram-only searches never compare vectors.
    expect(
      await store.descriptionSearch(q, { qEmbedding: [1, 2, 3], wEmb: 0, embedK: 0 }),
    ).toHaveLength(7);
    await searchError(
      store.descriptionSearch(q, { embeddingModel: "ada-002" }),
      "unknown_embedding_model",
    );
    expect(
      ids(await store.descriptionSearch(q, { embeddingModel: HASHED_EMBEDDING_MODEL }))[0],
    ).toBe("us_equities_daily_close");
  });

  it("takes a pluggable embedder, per store or globally", async () => {
    const store = await catalogue();
    // A toy "semantic" model: equities and stocks mean the same thing.
    const toy = (text: string) => {
      const t = text.toLowerCase();
      return [/equit|stock/.test(t) ? 1 : 0, /bond/.test(t) ? 1 : 0, 0.01];
    };
    (store as unknown as { configureSearch(s: object): void }).configureSearch({
      embedder: toy,
      embeddingModel: "toy-v1",
    });
    // Vectors indexed by the default model are re-embedded with the new one at query time.
    const hits = await store.descriptionSearch("stocks", { wTrgm: 0 });
    expect(ids(hits).slice(0, 3).sort()).toEqual([
      "us_equities_adjusted",
      "us_equities_daily_close",
      "us_equities_daily_volume",
    ]);
    await searchError(
      store.descriptionSearch("stocks", { qEmbedding: [1, 0] }),
      "embedding_dimension_mismatch",
    );
    await searchError(
      store.descriptionSearch("stocks", { embeddingModel: "default", qEmbedding: [1] }),
      "embedding_dimension_mismatch",
    );
    expect(
      ids(
        await store.descriptionSearch("x", { embeddingModel: "toy-v1", qEmbedding: [0, 1, 0] }),
      )[0],
    ).toBe("eu_bond_eod");

    const other = await catalogue();
    configureSearch({ embedder: () => [Number.NaN], embeddingModel: "broken" });
    const broken = await searchError(other.descriptionSearch("stocks"), "invalid_embedding");
    expect(broken.message).toContain("broken");
    // A failing embedder leaves metadata untouched when publishing.
    const s = await other.registerStorage({
      storageHash: "new_1",
      namespace: null,
      buildConfiguration: {},
      sourceClassName: "T",
    });
    await searchError(
      other.setTableMetadata(s.uid, { identifier: "new_table" }),
      "invalid_embedding",
    );
    expect((await other.findStorage({ uid: s.uid }))?.identifier).toBeNull();
    configureSearch({});
    expect((await other.setTableMetadata(s.uid, { identifier: "new_table" })).identifier).toBe(
      "new_table",
    );
  });

  it("refreshTableSearchIndex on an unknown uid is NotFoundError", async () => {
    const { store } = await tempStore();
    const error = await rejectionOf(store.refreshTableSearchIndex("nope"));
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).code).toBe("storage_not_found");
  });
});

describe("columnSearch", () => {
  it("finds the tables with a `close` column, exact matches first, and not the others", async () => {
    const store = await catalogue();
    const hits = await store.columnSearch("close");
    expect(ids(hits)).toEqual(["eu_bond_eod", "us_equities_daily_close", "us_equities_adjusted"]);
    expect(hits.map((h) => h.matchedColumns)).toEqual([["close"], ["close"], ["adj_close"]]);
    expect(hits[0]!.score).toBe(1);
    expect(hits[2]!.score).toBeLessThan(1);
    expect(hits.every((h) => h.embeddingScore === 0 && h.trigramScore === h.score)).toBe(true);
    expect(ids(await store.columnSearch("close", { limit: 1 }))).toEqual(["eu_bond_eod"]);
  });

  it("matches labels, descriptions and physical columns without metadata", async () => {
    const store = await catalogue();
    expect(ids(await store.columnSearch("Yield"))).toEqual(["eu_bond_eod"]);
    expect(ids(await store.columnSearch("per euro"))).toEqual(["fx_ecb_daily_rates"]);
    const s = await store.registerStorage({
      storageHash: "raw_1",
      namespace: null,
      buildConfiguration: {},
      sourceClassName: "Raw",
    });
    await writeThroughUpdater(
      store,
      s.uid,
      Frame.fromRecords([{ time_index: "2024-01-01T00:00:00Z", implied_volatility: 0.2 }]),
    );
    const hits = await store.columnSearch("implied_volatility");
    expect(hits.map((h) => h.storage.storageHash)).toEqual(["raw_1"]);
    expect(hits[0]!.matchedColumns).toEqual(["implied_volatility"]);
    expect(await store.columnSearch("nothing like this")).toEqual([]);
  });
});

describe("orgUniqueIdentifiers", () => {
  it("lists every published identifier, sorted", async () => {
    const store = await catalogue();
    await store.registerStorage({
      storageHash: "unpublished_1",
      namespace: null,
      buildConfiguration: {},
      sourceClassName: "T",
    });
    expect(await store.orgUniqueIdentifiers()).toEqual(CATALOGUE.map((c) => c.identifier!).sort());
  });
});

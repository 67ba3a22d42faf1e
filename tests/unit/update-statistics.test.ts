import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TdagError } from "../../src/errors.js";
import type { Column } from "../../src/frame/dtypes.js";
import { Frame } from "../../src/frame/frame.js";
import { MICROS, microsToIso, toEpochMicros } from "../../src/frame/time.js";
import {
  UPDATE_STATISTICS_FIELDS,
  UpdateStatistics,
  type UpdateStatisticsInit,
} from "../../src/statistics/update-statistics.js";
import type { AssetRecord } from "../../src/store/data-store.js";

const T = (iso: string): number => toEpochMicros(iso);
const D = (iso: string): Date => new Date(iso);
const DAY1 = "2024-01-01T00:00:00Z";
const DAY2 = "2024-01-02T00:00:00Z";
const DAY3 = "2024-01-03T00:00:00Z";
const DAY4 = "2024-01-04T00:00:00Z";
const FALLBACK = "2018-01-01T00:00:00Z";

function asset(uid: string, id = 1): AssetRecord {
  return {
    id,
    uniqueIdentifier: uid,
    securityType: null,
    securityMarketSector: null,
    isin: null,
    isCustomByOrganization: true,
    currentSnapshot: { name: uid, ticker: uid, exchangeCode: null },
  };
}

function thrown(fn: () => unknown): TdagError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TdagError);
    return err as TdagError;
  }
  throw new Error("expected a TdagError");
}

function times(frame: Frame): string[] {
  return [...frame.time].map(microsToIso);
}

describe("UpdateStatistics: shape", () => {
  it("exposes exactly the reference's public fields (wire spelling)", () => {
    expect([...UPDATE_STATISTICS_FIELDS].sort()).toEqual([
      "global_index_progress",
      "index_min",
      "index_progress",
      "is_backfill",
      "limit_update_time",
      "max_time_index_value",
      "multi_index_column_stats",
    ]);
    expect(Object.keys(UpdateStatistics.empty().toJSON()).sort()).toEqual(
      [...UPDATE_STATISTICS_FIELDS].sort(),
    );
  });

  it("empty() has every field null", () => {
    expect(UpdateStatistics.empty().toJSON()).toEqual({
      global_index_progress: null,
      index_progress: null,
      index_min: null,
      max_time_index_value: null,
      limit_update_time: null,
      multi_index_column_stats: null,
      is_backfill: false,
    });
  });

  it.each(["asset_list", "asset_time_statistics", "_PER_ASSET_", "last_time_index_value"])(
    "rejects the legacy key %s (extra=forbid)",
    (key) => {
      const err = thrown(
        () => new UpdateStatistics({ [key]: {} } as unknown as UpdateStatisticsInit),
      );
      expect(err.code).toBe("update_statistics_unknown_field");
      expect(err.message).toContain(JSON.stringify(key));
    },
  );

  it("names the accepted fields in the unknown-key error", () => {
    const err = thrown(
      () => new UpdateStatistics({ asset_list: [] } as unknown as UpdateStatisticsInit),
    );
    expect(err.message).toMatchInlineSnapshot(
      `"UpdateStatistics: unknown field(s) "asset_list"; accepted: global_index_progress, index_progress, index_min, max_time_index_value, limit_update_time, multi_index_column_stats, is_backfill (legacy asset_list / asset_time_statistics / _PER_ASSET_ shapes are not supported)"`,
    );
  });

  it("rejects a non-boolean is_backfill and extra global keys", () => {
    expect(
      thrown(() => new UpdateStatistics({ is_backfill: "yes" } as unknown as UpdateStatisticsInit))
        .code,
    ).toBe("update_statistics_invalid");
    expect(
      thrown(
        () =>
          new UpdateStatistics({
            global_index_progress: { max: DAY1, last: DAY1 },
          } as unknown as UpdateStatisticsInit),
      ).message,
    ).toContain("only min and max");
  });

  it("round-trips through toJSON", () => {
    const stats = new UpdateStatistics({
      global_index_progress: { min: DAY1, max: DAY3 },
      index_progress: { A: { X: "2024-01-02T00:00:00.000001Z" } },
      index_min: { A: { X: DAY1 } },
      limit_update_time: DAY4,
      multi_index_column_stats: { close: { A: { X: { min: DAY1, max: DAY2 } } } },
      is_backfill: true,
    });
    const json = stats.toJSON();
    expect(json.index_progress).toEqual({ A: { X: "2024-01-02T00:00:00.000001Z" } });
    expect(json.max_time_index_value).toBe(DAY3);
    expect(new UpdateStatistics(JSON.parse(JSON.stringify(json))).toJSON()).toEqual(json);
  });
});

describe("UpdateStatistics: normalisation", () => {
  const expected = T("2024-01-01T00:00:00Z");

  it.each<[string, unknown]>([
    ["ISO with Z", "2024-01-01T00:00:00Z"],
    ["ISO with +00:00", "2024-01-01T00:00:00+00:00"],
    ["ISO with an offset", "2024-01-01T05:30:00+05:30"],
    ["naive ISO (UTC)", "2024-01-01T00:00:00"],
    ["naive ISO with a space", "2024-01-01 00:00:00"],
    ["Date", new Date("2024-01-01T00:00:00Z")],
    ["epoch seconds", 1_704_067_200],
    ["epoch milliseconds", 1_704_067_200_000],
    ["epoch microseconds", 1_704_067_200_000_000],
    ["epoch nanoseconds", 1_704_067_200_000_000_000],
    ["bigint microseconds", 1_704_067_200_000_000n],
  ])("reads %s", (_label, value) => {
    const stats = new UpdateStatistics({
      index_progress: { A: value as string },
      max_time_index_value: value as string,
    });
    expect(stats.indexProgressMicros).toEqual({ A: expected });
    expect(stats.maxTimeIndexMicros).toBe(expected);
    expect(stats.maxTimeIndexValue).toEqual(D(DAY1));
  });

  it("applies the magnitude thresholds strictly (> 1e11 ms, > 1e14 µs, > 1e17 ns)", () => {
    const stats = new UpdateStatistics({
      index_progress: { s: 1e11, ms: 1e11 + 1, us: 1e14 + 1, ns: 1e17 + 1000 },
    });
    expect(stats.indexProgressMicros).toEqual({
      s: 1e11 * 1e6,
      ms: (1e11 + 1) * 1e3,
      us: 1e14 + 1,
      ns: 1e14 + 1,
    });
  });

  it("keeps microseconds from ISO text", () => {
    const stats = new UpdateStatistics({ max_time_index_value: "2024-01-01T00:00:00.000001Z" });
    expect(stats.maxTimeIndexMicros).toBe(expected + 1);
    expect(stats.toJSON().max_time_index_value).toBe("2024-01-01T00:00:00.000001Z");
  });

  it("normalises every tree, including column stats and index_min", () => {
    const stats = new UpdateStatistics({
      index_min: { A: { X: 1_704_067_200 } },
      multi_index_column_stats: { close: { A: { min: "2024-01-01", max: 1_704_067_200_000 } } },
    });
    expect(stats.indexMinMicros).toEqual({ A: { X: expected } });
    expect(stats.multiIndexColumnStatsMicros).toEqual({
      close: { A: { min: expected, max: expected } },
    });
    expect(stats.multiIndexColumnStats).toEqual({ close: { A: { min: D(DAY1), max: D(DAY1) } } });
  });

  it("keeps unparsable strings in trees but rejects them in typed datetime fields", () => {
    const stats = new UpdateStatistics({ index_progress: { A: "not a date", B: null } });
    expect(stats.indexProgress).toEqual({ A: "not a date", B: null });
    expect(thrown(() => new UpdateStatistics({ max_time_index_value: "soon" })).code).toBe(
      "update_statistics_invalid",
    );
  });

  it("lets a non-null global max override max_time_index_value", () => {
    const stats = new UpdateStatistics({
      global_index_progress: { min: DAY1, max: DAY3 },
      max_time_index_value: DAY2,
    });
    expect(stats.maxTimeIndexValue).toEqual(D(DAY3));
    expect(stats.globalIndexProgress).toEqual({ min: D(DAY1), max: D(DAY3) });
    const keep = new UpdateStatistics({
      global_index_progress: { min: DAY1, max: null },
      max_time_index_value: DAY2,
    });
    expect(keep.maxTimeIndexValue).toEqual(D(DAY2));
  });

  it("reads store statistics as microseconds without guessing", () => {
    const early = 5_000_000; // 1970-01-01T00:00:05Z in µs: the heuristic would read seconds
    const stats = UpdateStatistics.fromTableStatistics({
      globalIndexProgress: { min: early, max: T(DAY2) },
      indexProgress: { A: early, B: T(DAY2) },
      indexMin: { A: early, B: T(DAY1) },
      multiIndexColumnStats: { v: { A: { min: early, max: early } } },
      rowCount: 3,
    });
    expect(stats.indexProgressMicros).toEqual({ A: early, B: T(DAY2) });
    expect(stats.maxTimeIndexMicros).toBe(T(DAY2));
    expect(stats.toJSON().index_progress).toEqual({ A: "1970-01-01T00:00:05Z", B: DAY2 });
  });
});

describe("UpdateStatistics: fallback and helpers", () => {
  const stats = new UpdateStatistics({
    index_progress: { AAPL: DAY2, MSFT: DAY3, GONE: null },
    max_time_index_value: DAY3,
  });

  it("applies no fallback until one is set", () => {
    expect(stats.initialFallbackDate).toBeNull();
    expect(stats.getEarliestUpdateForIdentity("NEW")).toBeNull();
    const withFb = stats.withFallbackDate(D(FALLBACK));
    expect(withFb.initialFallbackDate).toEqual(D(FALLBACK));
    expect(withFb.getEarliestUpdateForIdentity("NEW")).toEqual(D(FALLBACK));
    expect(withFb.getEarliestUpdateForIdentity("GONE")).toEqual(D(FALLBACK));
    expect(withFb.getStartForIdentity("AAPL", -MICROS.day)).toEqual(D(DAY1));
    expect(stats.initialFallbackDate).toBeNull(); // immutable
  });

  it("gives last updates without fallback", () => {
    const withFb = stats.withFallbackDate(D(FALLBACK));
    expect(withFb.getLastUpdateForIdentity("AAPL")).toEqual(D(DAY2));
    expect(withFb.getLastUpdateForIdentity("NEW")).toBeNull();
    expect(withFb.getLastUpdateMicrosForIdentity("MSFT")).toBe(T(DAY3));
  });

  it("offers mapping-like access over the first level", () => {
    expect(stats.identityValues()).toEqual(["AAPL", "MSFT", "GONE"]);
    expect(stats.size).toBe(3);
    expect(stats.has("AAPL")).toBe(true);
    expect(stats.has("NEW")).toBe(false);
    expect(stats.get("AAPL")).toEqual(D(DAY2));
    expect(stats.get("NEW")).toBeUndefined();
    expect(stats.get("toString")).toBeUndefined();
    expect([...stats.keys()]).toEqual(["AAPL", "MSFT", "GONE"]);
    expect([...stats.values()]).toEqual([D(DAY2), D(DAY3), null]);
    expect(new Map(stats).get("MSFT")).toEqual(D(DAY3));
    expect(UpdateStatistics.empty().size).toBe(0);
    expect([...UpdateStatistics.empty()]).toEqual([]);
  });

  it("edits copies with withIdentityProgress / withoutIdentity", () => {
    const more = stats.withIdentityProgress("NEW", 1_704_067_200);
    expect(more.get("NEW")).toEqual(D(DAY1));
    expect(stats.has("NEW")).toBe(false);
    expect(more.withoutIdentity("NEW").has("NEW")).toBe(false);
    expect(thrown(() => stats.withoutIdentity("NEW")).code).toBe("identity_not_found");
  });

  it("computes the max time and keeps integer-like keys in stored order", () => {
    const s = new UpdateStatistics({ index_progress: { "20": DAY1, "10": DAY2 } });
    expect(s.getMaxTimeInUpdateStatistics()).toEqual(D(DAY2));
    expect(stats.getMaxTimeInUpdateStatistics()).toEqual(D(DAY3));
  });

  it("compares leaves with the fallback date", () => {
    const s = new UpdateStatistics({ index_progress: { A: FALLBACK, B: DAY1 } }).withFallbackDate(
      D(FALLBACK),
    );
    expect(s.isAnyIdentityOnFallbackDate()).toBe(true);
    expect(s.areAllIdentitiesOnFallbackDate()).toBe(false);
    const all = new UpdateStatistics({ index_progress: { A: FALLBACK } }).withFallbackDate(
      D(FALLBACK),
    );
    expect(all.areAllIdentitiesOnFallbackDate()).toBe(true);
  });

  it("computes the 1-D update start", () => {
    const first = UpdateStatistics.empty().withFallbackDate(D(FALLBACK)).getUpdateStart();
    expect(first).toEqual({
      startDate: D(FALLBACK),
      startMicros: T(FALLBACK),
      startDateOperand: ">=",
      isFirstRun: true,
    });
    const next = new UpdateStatistics({ max_time_index_value: DAY2 }).withFallbackDate(D(FALLBACK));
    expect(next.getUpdateStart()).toMatchObject({ startDate: D(DAY2), startDateOperand: ">" });
    expect(next.getUpdateStart({ stepMicros: MICROS.day })).toMatchObject({
      startDate: D(DAY3),
      startDateOperand: ">=",
      isFirstRun: false,
    });
    expect(UpdateStatistics.empty().getUpdateStart().startDate).toBeNull();
  });
});

describe("UpdateStatistics: range maps", () => {
  const nested = new UpdateStatistics({
    index_progress: { ACC1: { AAPL: DAY2, MSFT: DAY3 }, ACC2: { AAPL: null } },
  }).withFallbackDate(D(FALLBACK));
  const dims = ["account_uid", "unique_identifier"];

  it("walks the nested 3-level progress into coordinates", () => {
    expect(nested.iterIndexProgressCoordinates(dims)).toEqual([
      {
        coordinate: { account_uid: "ACC1", unique_identifier: "AAPL" },
        lastUpdate: D(DAY2),
        lastUpdateMicros: T(DAY2),
      },
      {
        coordinate: { account_uid: "ACC1", unique_identifier: "MSFT" },
        lastUpdate: D(DAY3),
        lastUpdateMicros: T(DAY3),
      },
      {
        coordinate: { account_uid: "ACC2", unique_identifier: "AAPL" },
        lastUpdate: null,
        lastUpdateMicros: null,
      },
    ]);
  });

  it("builds the nested dimension range map with fallback and delta", () => {
    expect(nested.getDimensionRangeMapGreatOrEqual(dims, MICROS.day)).toEqual([
      {
        coordinate: { account_uid: "ACC1", unique_identifier: "AAPL" },
        startDate: D(DAY3),
        startDateOperand: ">=",
      },
      {
        coordinate: { account_uid: "ACC1", unique_identifier: "MSFT" },
        startDate: D(DAY4),
        startDateOperand: ">=",
      },
      {
        coordinate: { account_uid: "ACC2", unique_identifier: "AAPL" },
        startDate: D("2018-01-02T00:00:00Z"),
        startDateOperand: ">=",
      },
    ]);
    expect(nested.getDimensionRangeMapGreatOrEqualMicros(dims)[0]).toEqual({
      coordinate: { account_uid: "ACC1", unique_identifier: "AAPL" },
      startDate: T(DAY2),
      startDateOperand: ">=",
    });
  });

  it("requires every nesting level to be named", () => {
    expect(thrown(() => nested.iterIndexProgressCoordinates(["account_uid"])).code).toBe(
      "identity_dimensions_mismatch",
    );
    expect(
      thrown(() => nested.iterIndexProgressCoordinates(undefined as unknown as readonly string[]))
        .code,
    ).toBe("identity_dimensions_required");
    expect(UpdateStatistics.empty().getDimensionRangeMapGreatOrEqual([])).toEqual([]);
  });

  it("builds identity and columnar range maps", () => {
    const ranges = nested.getIdentityRangeMapGreatOrEqual();
    expect(ranges.get("ACC1")).toEqual({ startDate: D(DAY2), startDateOperand: ">=" });
    expect(ranges.get("ACC2")).toEqual({ startDate: D(FALLBACK), startDateOperand: ">=" });

    const cols = new UpdateStatistics({
      multi_index_column_stats: {
        close: { AAPL: { min: DAY1, max: DAY2 }, MSFT: { min: null, max: null } },
        volume: { AAPL: { min: DAY1, max: DAY3 } },
      },
    }).withFallbackDate(D(FALLBACK));
    const map = cols.getColumnarIdentityRangeMapGreatOrEqual(MICROS.day, ["close", "missing"]);
    expect([...map.keys()]).toEqual(["close", "missing"]);
    expect(map.get("close")?.get("AAPL")?.startDate).toEqual(D(DAY3));
    expect(map.get("close")?.get("MSFT")?.startDate).toEqual(D("2018-01-02T00:00:00Z"));
    expect(map.get("missing")?.size).toBe(0);
    expect([...cols.getColumnarIdentityRangeMapGreatOrEqual().keys()]).toEqual(["close", "volume"]);
  });
});

describe("UpdateStatistics: scoping", () => {
  const stats = new UpdateStatistics({
    global_index_progress: { min: DAY1, max: DAY3 },
    index_progress: { AAPL: DAY2, MSFT: DAY3, IBM: DAY1 },
    index_min: { AAPL: DAY1, MSFT: DAY1, IBM: DAY1 },
    multi_index_column_stats: {
      close: { AAPL: { min: DAY1, max: DAY2 }, MSFT: { min: DAY1, max: DAY3 } },
      volume: { AAPL: { min: DAY1, max: DAY2 } },
    },
  });

  it("restricts progress to the scope and gives unseen identities the fallback", () => {
    const scoped = stats.updateIdentityScope(["AAPL", "NEW"], { initFallbackDate: D(FALLBACK) });
    expect(scoped.indexProgress).toEqual({ AAPL: D(DAY2), NEW: D(FALLBACK) });
    expect(scoped.indexMin).toEqual({ AAPL: D(DAY1) });
    expect(scoped.initialFallbackDate).toEqual(D(FALLBACK));
    expect(scoped.getMaxTimeInUpdateStatistics()).toEqual(D(DAY2));
    expect(scoped.maxTimeIndexValue).toEqual(D(DAY3));
    expect(scoped.isAnyIdentityOnFallbackDate()).toBe(true);
  });

  it("keeps multi_index_column_stats, restricted per column (reference defect fixed)", () => {
    const scoped = stats.updateIdentityScope(["AAPL", "NEW"], { initFallbackDate: D(FALLBACK) });
    expect(scoped.multiIndexColumnStats).toEqual({
      close: { AAPL: { min: D(DAY1), max: D(DAY2) }, NEW: { min: null, max: D(FALLBACK) } },
      volume: { AAPL: { min: D(DAY1), max: D(DAY2) }, NEW: { min: null, max: D(FALLBACK) } },
    });
    const cols = scoped.getColumnarIdentityRangeMapGreatOrEqual();
    expect(cols.get("close")?.get("NEW")?.startDate).toEqual(D(FALLBACK));
  });

  it("keeps everything for a null scope", () => {
    const all = stats.updateIdentityScope(null, { initFallbackDate: D(FALLBACK) });
    expect(all.identityValues()).toEqual(["AAPL", "MSFT", "IBM"]);
    expect(all.getMaxTimeInUpdateStatistics()).toEqual(D(DAY3));
    const empty = stats.updateIdentityScope([], { initFallbackDate: D(FALLBACK) });
    expect(empty.size).toBe(0);
    expect(empty.getMaxTimeInUpdateStatistics()).toEqual(D(FALLBACK));
  });

  it("filters identity levels with a deterministic key order", () => {
    const nested = new UpdateStatistics({
      index_progress: { ACC1: { AAPL: DAY2, MSFT: DAY3 }, ACC2: { IBM: DAY1 }, ACC3: null },
    }).withFallbackDate(D(FALLBACK));
    expect(nested.filterIdentityLevel(1, ["ACC2", "ACC1", "NOPE"]).identityValues()).toEqual([
      "ACC1",
      "ACC2",
    ]);
    const level2 = nested.filterIdentityLevel(2, ["ZZZ", "MSFT", "AAPL"]);
    expect(level2.indexProgress).toEqual({
      ACC1: { ZZZ: D(FALLBACK), MSFT: D(DAY3), AAPL: D(DAY2) },
      ACC2: { ZZZ: D(FALLBACK), MSFT: D(FALLBACK), AAPL: D(FALLBACK) },
      ACC3: { ZZZ: D(FALLBACK), MSFT: D(FALLBACK), AAPL: D(FALLBACK) },
    });
    expect(Object.keys(level2.indexProgress!["ACC1"] as object)).toEqual(["ZZZ", "MSFT", "AAPL"]);
    expect(thrown(() => nested.filterIdentityLevel(0, [])).code).toBe("identity_level_invalid");
  });
});

describe("UpdateStatistics.filterFrameByLatestValue", () => {
  it("1-D: keeps rows strictly after the max time, all rows without progress", () => {
    const df = Frame.fromRecords([
      { time_index: DAY1, v: 1 },
      { time_index: DAY2, v: 2 },
      { time_index: DAY3, v: 3 },
    ]);
    const stats = new UpdateStatistics({ max_time_index_value: DAY2 });
    expect(times(stats.filterFrameByLatestValue(df))).toEqual([DAY3]);
    expect(UpdateStatistics.empty().filterFrameByLatestValue(df)).toBe(df);
  });

  it("2-D: drops rows at or before the identity's leaf, keeps unseen identities", () => {
    const df = Frame.fromRecords([
      { time_index: DAY1, unique_identifier: "AAPL", v: 1 },
      { time_index: DAY2, unique_identifier: "AAPL", v: 2 },
      { time_index: DAY3, unique_identifier: "AAPL", v: 3 },
      { time_index: DAY1, unique_identifier: "NEW", v: 4 },
      { time_index: DAY1, unique_identifier: "NULL", v: 5 },
    ]);
    const stats = new UpdateStatistics({ index_progress: { AAPL: DAY2, NULL: null } });
    const out = stats.filterFrameByLatestValue(df);
    expect(out.toRecords({ time: "iso" })).toEqual([
      { time_index: DAY3, unique_identifier: "AAPL", v: 3 },
      { time_index: DAY1, unique_identifier: "NEW", v: 4 },
      { time_index: DAY1, unique_identifier: "NULL", v: 5 },
    ]);
  });

  it("3-D: the reference's example keeps the [30, 20] rows (unseen coordinate)", () => {
    // index [time_index, level_1, level_2] with integer identities; keys are strings in stats.
    const stats = new UpdateStatistics({
      index_progress: { "10": { "20": DAY2, "21": DAY1 }, "30": { "21": DAY3 } },
    });
    const df = Frame.fromRecords(
      [
        { time_index: DAY1, level_1: 10, level_2: 20, v: 1 }, // before → drop
        { time_index: DAY2, level_1: 10, level_2: 20, v: 2 }, // equal → drop
        { time_index: DAY3, level_1: 10, level_2: 20, v: 3 }, // after → keep
        { time_index: DAY2, level_1: 10, level_2: 21, v: 4 }, // after → keep
        { time_index: DAY1, level_1: 30, level_2: 20, v: 5 }, // unseen [30, 20] → keep
        { time_index: DAY2, level_1: 30, level_2: 20, v: 6 }, // unseen [30, 20] → keep
        { time_index: DAY3, level_1: 30, level_2: 21, v: 7 }, // equal → drop
      ],
      {
        indexNames: ["time_index", "level_1", "level_2"],
        dtypes: { level_1: "int64", level_2: "int64" },
      },
    );
    const out = stats.filterFrameByLatestValue(df);
    expect(out.column("v")).toEqual(new Float64Array([3, 4, 5, 6]));
    expect(out.toRecords({ time: "iso" }).filter((r) => r["level_1"] === 30)).toHaveLength(2);
  });

  it("keeps rows under a partial path (scoped fallback leaf above full depth)", () => {
    const stats = new UpdateStatistics({
      index_progress: { ACC1: { AAPL: DAY2 } },
    }).updateIdentityScope(["ACC1", "ACC2"], { initFallbackDate: D(FALLBACK) });
    const df = Frame.fromRecords(
      [
        { time_index: DAY1, account_uid: "ACC2", unique_identifier: "AAPL", v: 1 },
        { time_index: DAY1, account_uid: "ACC1", unique_identifier: "AAPL", v: 2 },
      ],
      { indexNames: ["time_index", "account_uid", "unique_identifier"] },
    );
    expect(stats.filterFrameByLatestValue(df).column("v")).toEqual(new Float64Array([1]));
  });

  it("does not drop duplicate index tuples (validation rejects them later)", () => {
    const df = Frame.fromRecords([
      { time_index: DAY3, unique_identifier: "AAPL", v: 1 },
      { time_index: DAY3, unique_identifier: "AAPL", v: 2 },
    ]);
    const stats = new UpdateStatistics({ index_progress: { AAPL: DAY2 } });
    expect(stats.filterFrameByLatestValue(df).length).toBe(2);
  });

  it("rejects statistics nested deeper than the frame's identity dimensions", () => {
    const stats = new UpdateStatistics({ index_progress: { ACC1: { AAPL: DAY2 } } });
    const df = Frame.fromRecords([{ time_index: DAY3, unique_identifier: "ACC1", v: 1 }]);
    expect(thrown(() => stats.filterFrameByLatestValue(df)).code).toBe(
      "identity_dimensions_mismatch",
    );
  });

  it("equals a naive per-row tree walk on random frames", () => {
    const ids = ["a", "b", "c", "10", "2"];
    const instant = fc.integer({ min: 0, max: 6 }).map((d) => T(DAY1) + d * MICROS.day);
    const arb = fc.integer({ min: 1, max: 3 }).chain((depth) =>
      fc.record({
        depth: fc.constant(depth),
        rows: fc.array(
          fc.record({
            t: instant,
            path: fc.array(fc.constantFrom(...ids), { minLength: depth, maxLength: depth }),
          }),
          { maxLength: 40 },
        ),
        leaves: fc.array(
          fc.record({
            t: fc.option(instant, { nil: null }),
            path: fc.array(fc.constantFrom(...ids), { minLength: depth, maxLength: depth }),
          }),
          { maxLength: 15 },
        ),
        maxTime: fc.option(instant, { nil: null }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ depth, rows, leaves, maxTime }) => {
        const dims = Array.from({ length: depth }, (_, i) => `d${i}`);
        const tree: Record<string, unknown> = {};
        for (const leaf of leaves) {
          let node = tree;
          for (const key of leaf.path.slice(0, -1)) {
            node[key] ??= {};
            node = node[key] as Record<string, unknown>;
          }
          node[leaf.path.at(-1)!] = leaf.t === null ? null : microsToIso(leaf.t);
        }
        const stats = new UpdateStatistics({
          index_progress: tree as UpdateStatisticsInit["index_progress"],
          max_time_index_value: maxTime === null ? null : microsToIso(maxTime),
        });
        const columns: Record<string, unknown[]> = {
          time_index: rows.map((r) => new Date(r.t / 1000)),
        };
        dims.forEach((d, i) => {
          columns[d] = rows.map((r) => r.path[i]);
        });
        columns["row"] = rows.map((_, i) => i);
        for (const indexNames of [["time_index", ...dims], ["time_index"]]) {
          const df = Frame.fromColumns(columns, {
            indexNames,
            dtypes: Object.fromEntries(dims.map((d) => [d, "string" as const])),
          });
          const got = [...(stats.filterFrameByLatestValue(df).column("row") as Float64Array)];
          const want = rows
            .map((r, i) => ({ r, i }))
            .filter(({ r }) => {
              if (indexNames.length === 1) return maxTime === null || r.t > maxTime;
              let node: unknown = tree;
              for (const key of r.path) {
                if (node === null || typeof node !== "object" || !(key in node)) return true;
                node = (node as Record<string, unknown>)[key];
              }
              return node === null || r.t > T(node as string);
            })
            .map(({ i }) => i);
          expect(got).toEqual(want);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("filters 1M rows over 100 identities well under a second", () => {
    const n = 1_000_000;
    const ids = Array.from({ length: 100 }, (_, i) => `ID${i}`);
    const base = T(DAY1);
    const time = new Float64Array(n);
    const uid = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      time[i] = base + Math.floor(i / 100) * MICROS.minute;
      uid[i] = ids[i % 100]!;
    }
    const cols = new Map<string, Column>([
      ["time_index", { dtype: "timestamptz", values: time }],
      ["unique_identifier", { dtype: "string", values: uid }],
    ]);
    const df = Frame.fromTypedColumns(["time_index", "unique_identifier"], cols, n);
    const cutoff = microsToIso(base + 5000 * MICROS.minute);
    const stats = new UpdateStatistics({
      index_progress: Object.fromEntries(ids.map((id) => [id, cutoff])),
    });
    const started = performance.now();
    const out = stats.filterFrameByLatestValue(df);
    const elapsed = performance.now() - started;
    expect(out.length).toBe(n - 5001 * 100);
    expect(elapsed).toBeLessThan(1000);
  });
});

describe("UpdateStatistics: asset conveniences", () => {
  const stats = new UpdateStatistics({
    index_progress: { AAPL: DAY2, MSFT: DAY3, OLD: DAY1 },
    index_min: { AAPL: DAY1, MSFT: DAY1, OLD: DAY1 },
    max_time_index_value: DAY3,
  }).withFallbackDate(D(FALLBACK));

  it("scopes the statistics to the asset list", () => {
    const scoped = stats.withAssetList([asset("AAPL"), asset("MSFT", 2), asset("NEW", 3)]);
    expect(scoped.assetList?.map((a) => a.uniqueIdentifier)).toEqual(["AAPL", "MSFT", "NEW"]);
    expect(scoped.identityValues()).toEqual(["AAPL", "MSFT", "NEW"]);
    expect(scoped.getLastUpdatePerAsset()).toEqual(
      new Map([
        ["AAPL", D(DAY2)],
        ["MSFT", D(DAY3)],
        ["NEW", null],
      ]),
    );
    expect(scoped.getEarliestUpdateAcrossAssets()).toEqual(D(FALLBACK));
    expect(scoped.getStartForIdentity("NEW")).toEqual(D(FALLBACK));
    expect(scoped.getAssetRangeMapGreatOrEqual(-MICROS.day)).toEqual([
      { coordinate: { unique_identifier: "AAPL" }, startDate: D(DAY1), startDateOperand: ">=" },
      { coordinate: { unique_identifier: "MSFT" }, startDate: D(DAY2), startDateOperand: ">=" },
      {
        coordinate: { unique_identifier: "NEW" },
        startDate: D("2017-12-31T00:00:00Z"),
        startDateOperand: ">=",
      },
    ]);
    expect(scoped.getAssetRangeMapGreatOrEqualMicros()[0]).toEqual({
      coordinate: { unique_identifier: "AAPL" },
      startDate: T(DAY2),
      startDateOperand: ">=",
    });
  });

  it("applies a fallback set after the asset list", () => {
    const scoped = new UpdateStatistics({ index_progress: { AAPL: DAY2 } })
      .withAssetList([asset("AAPL"), asset("NEW", 2)])
      .withFallbackDate(D(FALLBACK));
    expect(scoped.getAssetRangeMapGreatOrEqual()[1]?.startDate).toEqual(D(FALLBACK));
    expect(scoped.getEarliestUpdateAcrossAssets()).toEqual(D(FALLBACK));
  });

  it("works without an asset list from the stored identities", () => {
    expect([...stats.getLastUpdatePerAsset().keys()]).toEqual(["AAPL", "MSFT", "OLD"]);
    expect(stats.getEarliestUpdateAcrossAssets()).toEqual(D(DAY1));
    expect(UpdateStatistics.empty().getEarliestUpdateAcrossAssets()).toBeNull();
  });

  it("handles assets at the second identity level", () => {
    const nested = new UpdateStatistics({
      index_progress: { ACC1: { AAPL: DAY3, MSFT: DAY2 }, ACC2: { AAPL: DAY2 } },
    }).withFallbackDate(D(FALLBACK));
    const scoped = nested.withAssetList([asset("AAPL"), asset("NEW", 2)], {
      identityDimensions: ["account_uid", "unique_identifier"],
    });
    expect(scoped.getLastUpdatePerAsset()).toEqual(
      new Map([
        ["AAPL", D(DAY2)],
        ["NEW", null],
      ]),
    );
    expect(scoped.getAssetRangeMapGreatOrEqual().map((r) => r.startDate)).toEqual([
      D(DAY2),
      D(FALLBACK),
    ]);
    expect(
      thrown(() => nested.withAssetList([], { identityDimensions: ["account_uid"] })).code,
    ).toBe("identity_dimensions_mismatch");
  });

  it("filters an asset frame against the scoped statistics", () => {
    const scoped = stats.withAssetList([asset("AAPL"), asset("NEW", 2)]);
    const df = Frame.fromRecords([
      { time_index: DAY2, unique_identifier: "AAPL", close: 1 },
      { time_index: DAY3, unique_identifier: "AAPL", close: 2 },
      { time_index: DAY1, unique_identifier: "NEW", close: 3 },
    ]);
    expect(scoped.filterFrameByLatestValue(df).column("close")).toEqual(new Float64Array([2, 3]));
  });
});

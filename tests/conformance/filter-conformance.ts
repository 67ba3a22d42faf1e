import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NotFoundError } from "../../src/errors.js";
import {
  and_,
  F,
  FilterError,
  type FilterNode,
  type JoinSpecInput,
  or_,
  SearchRequest,
} from "../../src/filters/index.js";
import { Frame, type FrameRecord } from "../../src/frame/frame.js";
import { toEpochMicros } from "../../src/frame/time.js";
import { DataNodeStorage } from "../../src/node/data-node-storage.js";
import type { DataStore, FilterResult, StorageRecord } from "../../src/store/data-store.js";
import type { ConformanceFixture } from "./data-store-conformance.js";

const DAY = 86_400_000_000;
const D0 = toEpochMicros("2024-01-01T00:00:00Z");
const day = (n: number): Date => new Date((D0 + n * DAY) / 1000);

let counter = 0;
function uniqueHash(prefix: string): string {
  counter += 1;
  return `${prefix}_${process.pid}_${counter}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Registers a storage, writes the rows and publishes `identifier`. */
export async function createTable(
  store: DataStore,
  identifier: string | null,
  records: readonly FrameRecord[],
  options: {
    indexNames: readonly string[];
    dtypes: Record<string, "float64" | "int64" | "bool" | "string" | "date" | "json">;
  },
): Promise<StorageRecord> {
  const storage = await store.registerStorage({
    storageHash: uniqueHash(identifier ?? "table"),
    namespace: null,
    buildConfiguration: { identifier },
    sourceClassName: "FilterConformance",
  });
  const writer = await store.registerUpdater({
    updateHash: uniqueHash("writer"),
    storageHash: storage.storageHash,
    buildConfiguration: { writer: true },
    namespace: null,
  });
  await store.writeFrame(storage.uid, Frame.fromRecords(records, options), {
    updaterUid: writer.uid,
  });
  if (identifier !== null) return store.setTableMetadata(storage.uid, { identifier });
  return (await store.findStorage({ uid: storage.uid }))!;
}

const PRICE_ROWS: FrameRecord[] = [
  [0, "A", 10, 100, "Alpha", true, "2024-01-01"],
  [0, "B", 20, null, "beta_1", false, "2024-01-01"],
  [0, "C", null, 300, "100% C", null, null],
  [1, "A", 11, 110, "Alpha", true, "2024-01-02"],
  [1, "B", 21, 210, null, false, "2024-01-02"],
  [1, "C", 31, 310, "gamma", true, "2024-01-02"],
  [2, "A", 12, 120, "alpha", false, "2024-01-03"],
  [2, "B", 22, 220, "beta_2", true, "2024-01-03"],
  [2, "C", 32, null, `O'Brien "q"; --`, false, "2024-01-03"],
].map(([d, u, close, volume, name, active, tradeDate]) => ({
  time_index: day(d as number),
  unique_identifier: u,
  close,
  volume,
  name,
  active,
  trade_date: tradeDate,
}));

const PRICE_OPTIONS = {
  indexNames: ["time_index", "unique_identifier"],
  dtypes: {
    close: "float64",
    volume: "int64",
    name: "string",
    active: "bool",
    trade_date: "date",
  },
} as const;

const FUND_ROWS: FrameRecord[] = [
  [1, "A", 5],
  [1, "B", 6],
  [1, "D", 7],
  [2, "A", 8],
  [2, "D", null],
  [3, "A", 9],
].map(([d, u, pe]) => ({ time_index: day(d as number), unique_identifier: u, pe }));

/** `D<day>|<id>` per row, in result order. */
export function rowKeys(frame: Frame): string[] {
  const time = frame.time;
  const ids = frame.has("unique_identifier") ? frame.column("unique_identifier") : undefined;
  return Array.from({ length: frame.length }, (_, i) => {
    const d = Math.round((time[i]! - D0) / DAY);
    return `D${d}|${ids ? String(ids[i]) : ""}`;
  });
}

/**
 * The filter conformance suite (protocol section 3) every store runs: operators, groups, nulls,
 * joins, paging and typed errors, against real tables written through the store.
 */
export function describeFilterConformance(
  name: string,
  factory: () => Promise<ConformanceFixture>,
): void {
  describe(`filter conformance: ${name}`, () => {
    let fixture: ConformanceFixture | undefined;
    let prices: StorageRecord;
    let fund: StorageRecord;
    const store = (): DataStore => fixture!.store;

    beforeEach(async () => {
      fixture = await factory();
      prices = await createTable(store(), "prices", PRICE_ROWS, PRICE_OPTIONS);
      fund = await createTable(store(), "fundamentals", FUND_ROWS, {
        indexNames: ["time_index", "unique_identifier"],
        dtypes: { pe: "float64" },
      });
    });
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    const test = it;

    const query = (
      filter?: FilterNode,
      more: { joins?: JoinSpecInput[]; limit?: number; offset?: number } = {},
    ) =>
      store().getDataFromFilter(
        new SearchRequest({ nodeUniqueIdentifier: "prices", filter, limit: 500, ...more }),
      );
    const keys = async (filter?: FilterNode): Promise<string[]> =>
      rowKeys((await query(filter)).frame);

    test("no filter: every row, ordered by the index, prefixed columns with the tables' dtypes", async () => {
      const result = await query();
      expect(rowKeys(result.frame)).toEqual([
        "D0|A",
        "D0|B",
        "D0|C",
        "D1|A",
        "D1|B",
        "D1|C",
        "D2|A",
        "D2|B",
        "D2|C",
      ]);
      expect(result.nextOffset).toBeNull();
      expect(result.indexNames).toEqual(["time_index", "unique_identifier"]);
      expect(result.frame.indexNames).toEqual(["time_index", "unique_identifier"]);
      expect(result.frame.dtypes).toEqual({
        time_index: "timestamptz",
        unique_identifier: "string",
        base__close: "float64",
        base__volume: "int64",
        base__name: "string",
        base__active: "bool",
        base__trade_date: "date",
      });
      expect(result.storages["base"]?.uid).toBe(prices.uid);
      expect(result.frame.toRecords({ time: "iso" })[2]).toEqual({
        time_index: "2024-01-01T00:00:00Z",
        unique_identifier: "C",
        base__close: null,
        base__volume: 300,
        base__name: "100% C",
        base__active: null,
        base__trade_date: null,
      });
      // the same table by storage hash
      const byHash = await store().getDataFromFilter(
        new SearchRequest({ storageHash: prices.storageHash }),
      );
      expect(byHash.frame.length).toBe(9);
    });

    test("comparison operators, with nulls never matching", async () => {
      expect(await keys(F.eq("close", 11))).toEqual(["D1|A"]);
      expect(await keys(F.eq("name", "Alpha"))).toEqual(["D0|A", "D1|A"]);
      expect(await keys(F.ne("close", 11))).toEqual([
        "D0|A",
        "D0|B",
        "D1|B",
        "D1|C",
        "D2|A",
        "D2|B",
        "D2|C",
      ]);
      expect(await keys(F.lt("close", 12))).toEqual(["D0|A", "D1|A"]);
      expect(await keys(F.lte("close", 12))).toEqual(["D0|A", "D1|A", "D2|A"]);
      expect(await keys(F.gt("volume", 210))).toEqual(["D0|C", "D1|C", "D2|B"]);
      expect(await keys(F.gte("volume", 210))).toEqual(["D0|C", "D1|B", "D1|C", "D2|B"]);
      expect(await keys(F.gt("close", 21.5))).toEqual(["D1|C", "D2|B", "D2|C"]);
      expect(await keys(F.eq("active", true))).toEqual(["D0|A", "D1|A", "D1|C", "D2|B"]);
      expect(await keys(F.lt("name", "B"))).toEqual(["D0|A", "D0|C", "D1|A"]);
    });

    test("eq/ne null mean IS NULL / IS NOT NULL; is_null true and false", async () => {
      expect(await keys(F.eq("close", null))).toEqual(["D0|C"]);
      expect(await keys(F.ne("name", null))).toHaveLength(8);
      expect(await keys(F.is_null("volume"))).toEqual(["D0|B", "D2|C"]);
      expect(await keys(F.is_null("volume", false))).toHaveLength(7);
      expect(await keys(F.isNull("active"))).toEqual(["D0|C"]);
    });

    test("in / not_in, including empty lists", async () => {
      expect(await keys(F.in_("unique_identifier", ["A", "C"]))).toHaveLength(6);
      expect(await keys(F.in("volume", [100, 310, 999]))).toEqual(["D0|A", "D1|C"]);
      expect(await keys(F.in_("unique_identifier", []))).toEqual([]);
      expect(await keys(F.not_in("unique_identifier", ["A"]))).toHaveLength(6);
      expect(await keys(F.notIn("volume", [100, 110]))).toEqual([
        "D0|C",
        "D1|B",
        "D1|C",
        "D2|A",
        "D2|B",
      ]);
      expect(await keys(F.not_in("volume", []))).toHaveLength(9);
    });

    test("between is inclusive, on values, instants and dates", async () => {
      expect(await keys(F.between("close", 11, 21))).toEqual(["D0|B", "D1|A", "D1|B", "D2|A"]);
      expect(await keys(F.between("time_index", day(1), day(2)))).toHaveLength(6);
      expect(await keys(F.between("trade_date", "2024-01-02", "2024-01-03"))).toHaveLength(6);
    });

    test("time index values: Date, ISO text (naive = UTC) and epoch micros", async () => {
      expect(await keys(F.eq("time_index", day(1)))).toEqual(["D1|A", "D1|B", "D1|C"]);
      expect(await keys(F.gte("time_index", "2024-01-03T00:00:00+00:00"))).toHaveLength(3);
      expect(await keys(F.gte("time_index", "2024-01-03T00:00:00"))).toHaveLength(3);
      expect(await keys(F.lt("time_index", D0 + DAY))).toHaveLength(3);
      expect(await keys(F.lt("time_index", BigInt(D0 + DAY)))).toHaveLength(3);
      expect(await keys(F.eq("trade_date", "2024-01-02"))).toEqual(["D1|A", "D1|B", "D1|C"]);
      expect(await keys(F.gt("trade_date", "2024-01-02"))).toEqual(["D2|A", "D2|B", "D2|C"]);
    });

    test("contains / starts_with / ends_with match % and _ literally, case-sensitively", async () => {
      expect(await keys(F.contains("name", "%"))).toEqual(["D0|C"]);
      expect(await keys(F.contains("name", "_"))).toEqual(["D0|B", "D2|B"]);
      expect(await keys(F.starts_with("name", "Al"))).toEqual(["D0|A", "D1|A"]);
      expect(await keys(F.startsWith("name", "al"))).toEqual(["D2|A"]);
      expect(await keys(F.ends_with("name", "_2"))).toEqual(["D2|B"]);
      expect(await keys(F.endsWith("name", "\\"))).toEqual([]);
    });

    test("a value with quotes and SQL in it is data", async () => {
      const hostile = `O'Brien "q"; --`;
      expect(await keys(F.eq("name", hostile))).toEqual(["D2|C"]);
      expect(await keys(F.contains("name", `'Brien "q"; -`))).toEqual(["D2|C"]);
      expect(await keys(F.eq("name", "x'; DROP TABLE tdag_storages; --"))).toEqual([]);
      expect((await query()).frame.length).toBe(9);
    });

    test("nested and/or groups", async () => {
      const filter = or_(
        and_(F.eq("unique_identifier", "A"), F.gt("close", 10)),
        and_(F.eq("unique_identifier", "B"), F.is_null("name")),
      );
      expect(await keys(filter)).toEqual(["D1|A", "D1|B", "D2|A"]);
      const deeper = and_(
        or_(F.eq("unique_identifier", "A"), F.eq("unique_identifier", "C")),
        or_(F.is_null("close"), and_(F.gte("time_index", day(1)), F.not_in("name", ["gamma"]))),
      );
      expect(await keys(deeper)).toEqual(["D0|C", "D1|A", "D2|A", "D2|C"]);
      expect(await keys(and_(F.eq("unique_identifier", "A")))).toHaveLength(3);
      expect(await keys(or_(F.in_("unique_identifier", []), F.eq("close", 32)))).toEqual(["D2|C"]);
    });

    const FUND_JOIN = (type: "inner" | "left" | "full"): JoinSpecInput => ({
      name: "fund",
      nodeUniqueIdentifier: "fundamentals",
      on: ["time_index", "unique_identifier"],
      type,
    });

    test("inner join on (time_index, unique_identifier)", async () => {
      const result = await query(undefined, { joins: [FUND_JOIN("inner")] });
      expect(rowKeys(result.frame)).toEqual(["D1|A", "D1|B", "D2|A"]);
      expect(result.frame.columnNames).toEqual([
        "time_index",
        "unique_identifier",
        "base__close",
        "base__volume",
        "base__name",
        "base__active",
        "base__trade_date",
        "fund__pe",
      ]);
      expect(result.frame.column("fund__pe")).toEqual(new Float64Array([5, 6, 8]));
      expect(result.frame.column("base__close")).toEqual(new Float64Array([11, 21, 12]));
      expect(result.storages["fund"]?.uid).toBe(fund.uid);
      expect(result.storages["base"]?.uid).toBe(prices.uid);
    });

    test("left join keeps every base row; missing join values are null", async () => {
      const result = await query(undefined, { joins: [FUND_JOIN("left")] });
      expect(result.frame.length).toBe(9);
      const pe = result.frame.toRecords().map((r) => r["fund__pe"]);
      expect(pe).toEqual([null, null, null, 5, 6, null, 8, null, null]);
      const unmatched = await query(F.is_null("fund__pe"), { joins: [FUND_JOIN("left")] });
      expect(unmatched.frame.length).toBe(6);
    });

    test("full join coalesces the index and keeps rows of both sides", async () => {
      const result = await query(undefined, { joins: [FUND_JOIN("full")] });
      expect(rowKeys(result.frame)).toEqual([
        "D0|A",
        "D0|B",
        "D0|C",
        "D1|A",
        "D1|B",
        "D1|C",
        "D1|D",
        "D2|A",
        "D2|B",
        "D2|C",
        "D2|D",
        "D3|A",
      ]);
      const d = result.frame.toRecords().filter((r) => r["unique_identifier"] === "D");
      expect(d.map((r) => [r["base__close"], r["fund__pe"]])).toEqual([
        [null, 7],
        [null, null],
      ]);
      // a bare index name filters the coalesced index
      const onlyD = await query(F.eq("unique_identifier", "D"), { joins: [FUND_JOIN("full")] });
      expect(rowKeys(onlyD.frame)).toEqual(["D1|D", "D2|D"]);
      // a qualified index name filters that table's own column
      const baseMissing = await query(F.is_null("base.unique_identifier"), {
        joins: [FUND_JOIN("full")],
      });
      expect(rowKeys(baseMissing.frame)).toEqual(["D1|D", "D2|D", "D3|A"]);
    });

    test("join columns are addressed as <join>.col or <join>__col", async () => {
      const dotted = await query(F.gt("fund.pe", 5), { joins: [FUND_JOIN("inner")] });
      const prefixed = await query(F.gt("fund__pe", 5), { joins: [FUND_JOIN("inner")] });
      expect(rowKeys(dotted.frame)).toEqual(["D1|B", "D2|A"]);
      expect(rowKeys(prefixed.frame)).toEqual(rowKeys(dotted.frame));
      const baseQualified = await query(and_(F.gt("base__close", 11), F.lt("base.close", 22)), {
        joins: [FUND_JOIN("left")],
      });
      expect(rowKeys(baseQualified.frame)).toEqual(["D0|B", "D1|B", "D2|A"]);
    });

    test("a join on the time index only, with a table indexed by time", async () => {
      await createTable(
        store(),
        "macro",
        [0, 2].map((d) => ({ time_index: day(d), rate: d + 0.5 })),
        { indexNames: ["time_index"], dtypes: { rate: "float64" } },
      );
      const result = await query(undefined, {
        joins: [{ name: "m", nodeUniqueIdentifier: "macro", on: ["time_index"] }],
      });
      expect(rowKeys(result.frame)).toEqual(["D0|A", "D0|B", "D0|C", "D2|A", "D2|B", "D2|C"]);
      expect(result.frame.column("m__rate")).toEqual(
        new Float64Array([0.5, 0.5, 0.5, 2.5, 2.5, 2.5]),
      );
    });

    test("paging returns every row exactly once, in order", async () => {
      const all = rowKeys((await query()).frame);
      const seen: string[] = [];
      let offset: number | null = 0;
      const offsets: (number | null)[] = [];
      while (offset !== null) {
        const page: FilterResult = await query(undefined, { limit: 4, offset });
        seen.push(...rowKeys(page.frame));
        offsets.push(page.nextOffset);
        offset = page.nextOffset;
      }
      expect(offsets).toEqual([4, 8, null]);
      expect(seen).toEqual(all);
      // an exact multiple of the page size ends with nextOffset null, not an empty page
      const exact = await query(undefined, { limit: 9 });
      expect(exact.nextOffset).toBeNull();
      expect((await query(undefined, { offset: 20 })).frame.length).toBe(0);
    });

    test("DataNodeStorage pages through joins and filters", async () => {
      const req = new SearchRequest({
        nodeUniqueIdentifier: "prices",
        joins: [FUND_JOIN("full")],
        filter: F.ne("unique_identifier", "C"),
        limit: 2,
      });
      const first = await DataNodeStorage.getDataFromFilter(req, { store: store() });
      expect(first.frame.length).toBe(2);
      expect(first.nextOffset).toBe(2);
      const pages: string[][] = [];
      for await (const page of DataNodeStorage.iterateDataFromFilter(req, { store: store() })) {
        pages.push(rowKeys(page.frame));
      }
      expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 2, 1]);
      const expected = ["D0|A", "D0|B", "D1|A", "D1|B", "D1|D", "D2|A", "D2|B", "D2|D", "D3|A"];
      expect(pages.flat()).toEqual(expected);
      const everything = await DataNodeStorage.getAllDataFromFilter(req, { store: store() });
      expect(rowKeys(everything)).toEqual(expected);
      const small = await DataNodeStorage.getAllDataFromFilter(req, {
        store: store(),
        batchLimit: 3,
      });
      expect(rowKeys(small)).toEqual(expected);
      expect(small.dtypes).toEqual(everything.dtypes);
      const none = await DataNodeStorage.getAllDataFromFilter(
        req.with({ filter: F.in_("unique_identifier", []) }),
        {
          store: store(),
        },
      );
      expect(none.length).toBe(0);
      expect(none.columnNames).toContain("fund__pe");
    });

    test("typed errors: unknown column, type mismatch, bad join keys, unknown storage", async () => {
      const err = await query(F.eq("nope", 1)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FilterError);
      expect((err as FilterError).code).toBe("unknown_column");
      expect((err as FilterError).message).toContain('"nope"');
      const joinErr = await query(F.gt("other.pe", 1), { joins: [FUND_JOIN("inner")] }).catch(
        (e: unknown) => e,
      );
      expect((joinErr as FilterError).code).toBe("unknown_column");
      await expect(query(F.eq("close", "abc"))).rejects.toMatchObject({ code: "type_mismatch" });
      await expect(query(F.contains("close", "1"))).rejects.toMatchObject({
        code: "type_mismatch",
      });
      await expect(query(F.eq("trade_date", "2024-02-30"))).rejects.toMatchObject({
        code: "type_mismatch",
      });
      await expect(
        query(undefined, { joins: [{ ...FUND_JOIN("inner"), on: ["time_index", "pe"] }] }),
      ).rejects.toMatchObject({ code: "invalid_join" });
      await expect(
        query(undefined, { joins: [{ ...FUND_JOIN("inner"), name: "base" }] }),
      ).rejects.toMatchObject({ code: "invalid_join" });
      await expect(
        store().getDataFromFilter(new SearchRequest({ nodeUniqueIdentifier: "no_such_table" })),
      ).rejects.toBeInstanceOf(NotFoundError);
      await expect(
        query(undefined, {
          joins: [{ name: "x", storageHash: "no_such_hash", on: ["time_index"] }],
        }),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect(() => new SearchRequest({ nodeUniqueIdentifier: "prices", limit: 501 })).toThrow(
        FilterError,
      );
    });

    test("a storage that was never written reads as an empty page", async () => {
      const empty = await store().registerStorage({
        storageHash: uniqueHash("empty"),
        namespace: null,
        buildConfiguration: {},
        sourceClassName: "Empty",
      });
      const result = await store().getDataFromFilter(
        new SearchRequest({ storageHash: empty.storageHash }),
      );
      expect(result.frame.length).toBe(0);
      expect(result.nextOffset).toBeNull();
      expect(result.storages["base"]?.uid).toBe(empty.uid);
    });
  });
}

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DailyRandomAddition,
  DailyRandomAdditionAPI,
  DailyRandomNumber,
  SimulatedPrices,
  seededNormal,
  today,
} from "../../examples/tutorial-nodes.js";
import type { FrameRecord } from "../../src/frame/frame.js";
import { configure } from "../../src/store/store-registry.js";
import { storageUid, updaterUid } from "../helpers/nodes.js";
import { rows, silentLogger, snapshotTable, tempStore } from "../helpers/temp-store.js";

configure({ logger: silentLogger });

const OFFSET = "2026-01-01T00:00:00Z";
const days = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `2026-01-0${from + i}T00:00:00Z`);

let previousToday: string | undefined;
beforeEach(() => {
  previousToday = process.env.TDAG_EXAMPLE_TODAY;
  process.env.TDAG_EXAMPLE_TODAY = "2026-01-05";
});
afterEach(() => {
  if (previousToday === undefined) delete process.env.TDAG_EXAMPLE_TODAY;
  else process.env.TDAG_EXAMPLE_TODAY = previousToday;
});

describe("tutorial nodes (examples/tutorial-nodes.ts)", () => {
  it("today() follows TDAG_EXAMPLE_TODAY", () => {
    expect(today()).toEqual(new Date("2026-01-05T00:00:00Z"));
  });

  it("DailyRandomNumber: two vol updaters share one storage", async () => {
    const { store } = await tempStore();
    const narrow = new DailyRandomNumber({ mean: 0, offset_start: OFFSET });
    const wide = new DailyRandomNumber({
      mean: 0,
      std: { center: 2, skew: false },
      offset_start: OFFSET,
    });
    expect(wide.storageHash).toBe(narrow.storageHash);
    expect(wide.updateHash).not.toBe(narrow.updateHash);

    const first = await narrow.run({ store });
    expect(first.nodes[0]).toMatchObject({ status: "updated", rowsWritten: 5 });
    const second = await wide.run({ store });
    expect(second.nodes[0]!.status).toBe("nothing_new");

    const written = rows(await narrow.getDfBetweenDates());
    expect(written).toEqual(
      days(1, 5).map((t) => ({
        time_index: t,
        random_number: seededNormal(`${narrow.updateHash}|${new Date(t).toISOString()}`),
      })),
    );
    expect((await store.listStorages()).map((s) => s.storageHash)).toEqual([narrow.storageHash]);
    const [u1, u2] = await Promise.all(
      [narrow, wide].map((n) => store.findUpdater({ updateHash: n.updateHash })),
    );
    expect(u1!.storageUid).toBe(u2!.storageUid);
    expect(await store.findStorage({ identifier: "example_random_number_0" })).toMatchObject({
      storageHash: narrow.storageHash,
      dataFrequencyId: "1d",
    });
  });

  it("DailyRandomAddition writes after its dependency, built in its constructor", async () => {
    const { store } = await tempStore();
    const addition = new DailyRandomAddition({ mean: 1, std: 0.5, offset_start: OFFSET });
    const upstream = addition.numberGenerator;
    const result = await addition.run({ store });

    expect(result.nodes.map((n) => [n.name, n.status, n.rowsWritten])).toEqual([
      ["DailyRandomNumber", "updated", 5],
      ["DailyRandomAddition", "updated", 5],
    ]);
    const base = rows(await upstream.getDfBetweenDates());
    const added = rows(await addition.getDfBetweenDates());
    expect(added.map((r) => r.time_index)).toEqual(days(1, 5));
    added.forEach((row, i) => {
      const t = new Date(row.time_index as string).toISOString();
      const expected =
        (base[i]!.random_number as number) + 1 + 0.5 * seededNormal(`${addition.updateHash}|${t}`);
      expect(row.random_number as number).toBeCloseTo(expected, 12);
    });
    expect(await store.listDependencies(await updaterUid(store, addition))).toEqual([
      { kind: "updater", uid: await updaterUid(store, upstream) },
    ]);
  });

  it("DailyRandomAdditionAPI reads its input by published identifier", async () => {
    const { store } = await tempStore();
    const source = new DailyRandomNumber({ mean: 0, offset_start: OFFSET });
    await source.run({ store });
    const api = new DailyRandomAdditionAPI({
      mean: 2,
      std: 1,
      dependency_identifier: "example_random_number_0",
      offset_start: OFFSET,
    });
    const result = await api.run({ store });
    expect(result.nodes.map((n) => n.status)).toEqual(["read_only", "updated"]);

    const base = rows(await source.getDfBetweenDates());
    const added = rows(await api.getDfBetweenDates());
    expect(added).toHaveLength(5);
    added.forEach((row, i) => {
      const t = new Date(row.time_index as string).toISOString();
      const expected =
        (base[i]!.random_number as number) + 2 + seededNormal(`${api.updateHash}|${t}`);
      expect(row.random_number as number).toBeCloseTo(expected, 12);
    });
    expect(await store.listDependencies(await updaterUid(store, api))).toEqual([
      { kind: "storage", uid: await storageUid(store, source) },
    ]);
  });

  it("SimulatedPrices: two universes, one table, assets registered", async () => {
    const { store } = await tempStore();
    const big = new SimulatedPrices({ asset_universe: ["AAPL", "MSFT"], offset_start: OFFSET });
    const small = new SimulatedPrices({ asset_universe: ["NVDA"], offset_start: OFFSET });
    expect(small.storageHash).toBe(big.storageHash);
    expect(small.updateHash).not.toBe(big.updateHash);

    expect((await big.run({ store })).nodes[0]).toMatchObject({ rowsWritten: 10, identities: 2 });
    expect((await small.run({ store })).nodes[0]).toMatchObject({ rowsWritten: 5, identities: 1 });

    const all = rows(await big.getDfBetweenDates());
    expect(all).toHaveLength(15);
    const perAsset = (uid: string) => all.filter((r) => r.unique_identifier === uid);
    for (const uid of ["AAPL", "MSFT", "NVDA"]) {
      expect(perAsset(uid).map((r) => r.time_index)).toEqual(days(1, 5));
      for (const r of perAsset(uid)) expect(r.close as number).toBeGreaterThan(0);
    }
    expect(await store.findUnregisteredAssets(["AAPL", "MSFT", "NVDA"])).toEqual([]);
    expect((await store.findStorage({ identifier: "simulated_prices_tutorial" }))!.uid).toBe(
      await storageUid(store, big),
    );
  });

  it("a later day appends only the new days", async () => {
    const { store } = await tempStore();
    const number = new DailyRandomNumber({ mean: 0, offset_start: OFFSET });
    const big = new SimulatedPrices({ asset_universe: ["AAPL", "MSFT"], offset_start: OFFSET });
    const small = new SimulatedPrices({ asset_universe: ["NVDA"], offset_start: OFFSET });
    for (const node of [number, big, small]) await node.run({ store });
    const numbersBefore = (await snapshotTable(store, number.storageHash))!.rows;
    const pricesBefore = (await snapshotTable(store, big.storageHash))!.rows;

    process.env.TDAG_EXAMPLE_TODAY = "2026-01-07";
    const numbers = await number.run({ store });
    expect(numbers.nodes[0]).toMatchObject({
      rowsWritten: 2,
      window: { start: new Date("2026-01-06T00:00:00Z"), end: new Date("2026-01-07T00:00:00Z") },
    });
    const numbersAfter = (await snapshotTable(store, number.storageHash))!.rows;
    expect(numbersAfter.slice(0, 5)).toEqual(numbersBefore);
    expect(numbersAfter.map((r) => r.time_index)).toEqual(days(1, 7));

    const prices = await big.run({ store });
    expect(prices.nodes[0]).toMatchObject({ rowsWritten: 4, identities: 2 });
    const appended = rows(prices.df!);
    expect(appended.map((r) => `${r.unique_identifier}@${r.time_index}`).sort()).toEqual([
      "AAPL@2026-01-06T00:00:00Z",
      "AAPL@2026-01-07T00:00:00Z",
      "MSFT@2026-01-06T00:00:00Z",
      "MSFT@2026-01-07T00:00:00Z",
    ]);
    // the simulation continues from the last persisted close
    const lastClose = pricesBefore.find(
      (r) => r.unique_identifier === "AAPL" && r.time_index === "2026-01-05T00:00:00Z",
    )!.close as number;
    const shock = seededNormal(`AAPL|${new Date("2026-01-06T00:00:00Z").toISOString()}`);
    const dt = 1 / 252;
    const next = lastClose * Math.exp((0.05 - 0.5 * 0.2 ** 2) * dt + 0.2 * Math.sqrt(dt) * shock);
    const aapl6 = appended.find(
      (r: FrameRecord) => r.unique_identifier === "AAPL" && r.time_index === days(6, 6)[0],
    )!;
    expect(aapl6.close).toBe(Math.round(next * 100) / 100);

    const pricesAfter = (await snapshotTable(store, big.storageHash))!.rows;
    expect(pricesAfter).toHaveLength(19);
    for (const row of pricesBefore) expect(pricesAfter).toContainEqual(row);
    const nvda = pricesAfter.filter((r) => r.unique_identifier === "NVDA");
    expect(nvda.map((r) => r.time_index)).toEqual(days(1, 5));
  });
});

import { describe, expect, it } from "vitest";
import * as z from "zod";
import { DataNodeConfiguration } from "../../src/config/data-node-configuration.js";
import { updateOnly } from "../../src/config/markers.js";
import type { UpdateContext } from "../../src/engine/run-engine.js";
import type { FrameRecord } from "../../src/frame/frame.js";
import { toEpochMicros } from "../../src/frame/time.js";
import { Asset } from "../../src/node/asset.js";
import { DataNode } from "../../src/node/data-node.js";
import type { UpdateStatistics } from "../../src/statistics/update-statistics.js";
import type { AssetRecord } from "../../src/store/data-store.js";
import { configure } from "../../src/store/store-registry.js";
import { assetPayload, updaterUid } from "../helpers/nodes.js";
import { rows, silentLogger, tempStore } from "../helpers/temp-store.js";

configure({ logger: silentLogger });

const DAY_MS = 86_400_000;
const day = (n: number) => new Date(Date.UTC(2024, 0, n));
const iso = (n: number) => day(n).toISOString().replace(".000Z", "Z");

const PricesConfig = DataNodeConfiguration.extend({
  /** Meaning of the table. */
  source: z.string().default("sim"),
  /** Scope of one updater. */
  universe: updateOnly(z.array(z.string()).min(1)),
  /** Whether update() returns its whole history every time (the engine then filters). */
  full_history: updateOnly(z.boolean()).default(false),
});

/** A daily 2-D price table scoped by its asset universe. */
class Prices extends DataNode<typeof PricesConfig> {
  static override configSchema = PricesConfig;
  static override nodeName = "SharedPrices";
  today = day(3);
  readonly seen: UpdateStatistics[] = [];

  override async getAssetList(): Promise<AssetRecord[]> {
    return Asset.batchGetOrRegisterCustomAssets(assetPayload(this.config.universe), {
      store: await this.getStore(),
    });
  }

  override update({ updateStatistics }: UpdateContext): FrameRecord[] {
    this.seen.push(updateStatistics);
    const out: FrameRecord[] = [];
    for (const [uid, last] of updateStatistics.getLastUpdatePerAsset()) {
      const start =
        this.config.full_history || !last
          ? updateStatistics.getStartForIdentity(uid)!
          : new Date(last.getTime() + DAY_MS);
      for (let t = start.getTime(); t <= this.today.getTime(); t += DAY_MS) {
        out.push({ time_index: new Date(t), unique_identifier: uid, close: price(uid, t) });
      }
    }
    return out;
  }
}

function price(uid: string, t: number): number {
  return uid.charCodeAt(0) * 10 + (t - day(1).getTime()) / DAY_MS;
}

function expectedRows(uids: string[], lastDay: number): FrameRecord[] {
  const out: FrameRecord[] = [];
  for (let n = 1; n <= lastDay; n++) {
    for (const uid of [...uids].sort()) {
      out.push({
        time_index: iso(n),
        unique_identifier: uid,
        close: price(uid, day(n).getTime()),
      });
    }
  }
  return out;
}

describe("two updaters sharing one table", () => {
  it.each([
    ["returning only new rows", false],
    ["returning their full history (the engine drops persisted rows)", true],
  ])("each writes incrementally for its own assets, %s", async (_name, fullHistory) => {
    const { store } = await tempStore();
    const offset = { offset_start: iso(1), full_history: fullHistory };
    const a = new Prices({ universe: ["AAPL", "MSFT"], ...offset });
    const b = new Prices({ universe: ["NVDA"], ...offset });
    expect(a.storageHash).toBe(b.storageHash);
    expect(a.updateHash).not.toBe(b.updateHash);

    // A: first run, D1..D3 for its two assets
    const a1 = await a.run({ store });
    expect(a.seen[0]!.identityValues()).toEqual(["AAPL", "MSFT"]);
    expect([...a.seen[0]!.getLastUpdatePerAsset().values()]).toEqual([null, null]);
    expect(a1.nodes[0]).toMatchObject({ rowsWritten: 6, identities: 2 });

    // B: first run; its statistics know nothing of A's assets
    const b1 = await b.run({ store });
    const bStats = b.seen[0]!;
    expect(bStats.identityValues()).toEqual(["NVDA"]);
    expect(bStats.getLastUpdatePerAsset()).toEqual(new Map([["NVDA", null]]));
    expect(bStats.getStartForIdentity("NVDA")).toEqual(day(1));
    expect(b1.nodes[0]).toMatchObject({ rowsWritten: 3, identities: 1 });
    expect(b1.nodes[0]!.window).toEqual({ start: day(1), end: day(3) });

    // a day later: each writes one day for its own assets
    a.today = day(4);
    b.today = day(4);
    const a2 = await a.run({ store });
    const aStats = a.seen[1]!;
    expect(aStats.identityValues()).toEqual(["AAPL", "MSFT"]);
    expect(aStats.getLastUpdatePerAsset()).toEqual(
      new Map([
        ["AAPL", day(3)],
        ["MSFT", day(3)],
      ]),
    );
    expect(aStats.has("NVDA")).toBe(false);
    expect(a2.nodes[0]).toMatchObject({ rowsWritten: 2, identities: 2 });
    expect(a2.nodes[0]!.window).toEqual({ start: day(4), end: day(4) });
    expect(rows(a2.df!).map((r) => r.unique_identifier)).toEqual(["AAPL", "MSFT"]);

    const b2 = await b.run({ store });
    expect(b.seen[1]!.getLastUpdatePerAsset()).toEqual(new Map([["NVDA", day(3)]]));
    expect(b2.nodes[0]).toMatchObject({ rowsWritten: 1, identities: 1 });

    // one table holding both universes, every day once
    const storages = await store.listStorages();
    expect(storages.map((s) => s.storageHash)).toEqual([a.storageHash]);
    const ua = (await store.findUpdater({ updateHash: a.updateHash }))!;
    const ub = (await store.findUpdater({ updateHash: b.updateHash }))!;
    expect(ua.storageUid).toBe(ub.storageUid);
    expect(rows(await a.getDfBetweenDates())).toEqual(expectedRows(["AAPL", "MSFT", "NVDA"], 4));
    const stats = await a.getTableStatistics();
    expect(stats.indexProgress).toEqual({
      AAPL: toEpochMicros(day(4)),
      MSFT: toEpochMicros(day(4)),
      NVDA: toEpochMicros(day(4)),
    });
    expect(stats.globalIndexProgress).toEqual({
      min: toEpochMicros(day(1)),
      max: toEpochMicros(day(4)),
    });

    // each updater has its own run history
    const history = async (n: Prices) =>
      (await store.listRuns(await updaterUid(store, n))).map((r) => r.rowsWritten);
    expect(await history(a)).toEqual([2, 6]);
    expect(await history(b)).toEqual([1, 3]);

    // nothing new on a rerun the same day
    const again = await a.run({ store });
    expect(again.nodes[0]!.status).toBe("nothing_new");
  });

  it("getAssetList scopes statistics when a universe grows: the new asset starts at offset_start", async () => {
    const { store } = await tempStore();
    const small = new Prices({ universe: ["AAPL"], offset_start: iso(2) });
    await small.run({ store });
    const grown = new Prices({ universe: ["AAPL", "TSLA"], offset_start: iso(2) });
    grown.today = day(4);
    const result = await grown.run({ store });
    expect(grown.seen[0]!.getLastUpdatePerAsset()).toEqual(
      new Map([
        ["AAPL", day(3)],
        ["TSLA", null],
      ]),
    );
    expect(result.nodes[0]).toMatchObject({ rowsWritten: 4, identities: 2 });
    const written = rows(result.df!).map((r) => `${r.unique_identifier}@${r.time_index}`);
    expect(written.sort()).toEqual(
      [`AAPL@${iso(4)}`, `TSLA@${iso(2)}`, `TSLA@${iso(3)}`, `TSLA@${iso(4)}`].sort(),
    );
  });
});

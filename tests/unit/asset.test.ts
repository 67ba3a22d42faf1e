import { afterEach, describe, expect, it } from "vitest";
import { Asset } from "../../src/node/asset.js";
import { configure } from "../../src/store/store-registry.js";
import { assetPayload } from "../helpers/nodes.js";
import { silentLogger, tempStore } from "../helpers/temp-store.js";

configure({ logger: silentLogger });
afterEach(() => configure({ store: "duckdb" }));

describe("Asset.batchGetOrRegisterCustomAssets", () => {
  it("registers assets and returns them in request order with their snapshots", async () => {
    const { store } = await tempStore();
    const assets = await Asset.batchGetOrRegisterCustomAssets(
      [
        { uniqueIdentifier: "NVDA", snapshot: { name: "NVIDIA", ticker: "NVDA" } },
        {
          uniqueIdentifier: "AAPL",
          snapshot: { name: "Apple", ticker: "AAPL", exchangeCode: "XNAS" },
          securityType: "Common Stock",
        },
      ],
      { store },
    );
    expect(assets.map((a) => a.uniqueIdentifier)).toEqual(["NVDA", "AAPL"]);
    expect(assets[0]!.currentSnapshot).toMatchObject({ name: "NVIDIA", ticker: "NVDA" });
    expect(assets[1]).toMatchObject({
      securityType: "Common Stock",
      isCustomByOrganization: true,
      currentSnapshot: { name: "Apple", ticker: "AAPL", exchangeCode: "XNAS" },
    });
    expect(new Set(assets.map((a) => a.id)).size).toBe(2);
    for (const a of assets) expect(Number.isInteger(a.id)).toBe(true);
  });

  it("is idempotent: ids are stable, request order is kept, only new ones are added", async () => {
    const { store } = await tempStore();
    const first = await Asset.batchGetOrRegisterCustomAssets(assetPayload(["A1", "B1"]), {
      store,
    });
    const again = await Asset.batchGetOrRegisterCustomAssets(assetPayload(["A1", "B1"]), {
      store,
    });
    expect(again).toEqual(first);

    const mixed = await Asset.batchGetOrRegisterCustomAssets(assetPayload(["C1", "B1", "A1"]), {
      store,
    });
    expect(mixed.map((a) => a.uniqueIdentifier)).toEqual(["C1", "B1", "A1"]);
    const id = (uid: string) => first.find((a) => a.uniqueIdentifier === uid)!.id;
    expect(mixed[1]!.id).toBe(id("B1"));
    expect(mixed[2]!.id).toBe(id("A1"));
    expect([id("A1"), id("B1")]).not.toContain(mixed[0]!.id);

    const all = await Asset.filter({ uniqueIdentifier: ["A1", "B1", "C1"] }, { store });
    expect(all).toHaveLength(3);
  });

  it("filters by unique_identifier__in (unknown identifiers match nothing)", async () => {
    const { store } = await tempStore();
    await Asset.batchGetOrRegisterCustomAssets(assetPayload(["X", "Y", "Z"]), { store });
    const found = await Asset.filter({ uniqueIdentifier: ["Z", "X", "NOPE"] }, { store });
    expect(found.map((a) => a.uniqueIdentifier).sort()).toEqual(["X", "Z"]);
    expect(await Asset.filter({ uniqueIdentifier: ["NOPE"] }, { store })).toEqual([]);
    expect(
      (await Asset.filter({ uniqueIdentifier: "Y" }, { store })).map((a) => a.uniqueIdentifier),
    ).toEqual(["Y"]);
    expect(await store.findUnregisteredAssets(["X", "NOPE"])).toEqual(["NOPE"]);
  });

  it("the seed guide's ensure_assets_exist pattern registers only the missing ones", async () => {
    const { store } = await tempStore();
    const [pre] = await Asset.batchGetOrRegisterCustomAssets(assetPayload(["HAVE"]), { store });
    const wanted = ["HAVE", "NEED"];
    const existing = await Asset.filter({ uniqueIdentifier: wanted }, { store });
    const missing = wanted.filter((uid) => !existing.some((a) => a.uniqueIdentifier === uid));
    expect(missing).toEqual(["NEED"]);
    const created = await Asset.batchGetOrRegisterCustomAssets(assetPayload(missing), { store });
    const all = [...existing, ...created];
    expect(all.map((a) => a.uniqueIdentifier)).toEqual(["HAVE", "NEED"]);
    expect(all[0]!.id).toBe(pre!.id);
  });

  it("uses the configured store by default", async () => {
    const { store } = await tempStore();
    configure({ store });
    await Asset.batchGetOrRegisterCustomAssets(assetPayload(["CFG"]));
    expect((await Asset.filter({ uniqueIdentifier: ["CFG"] })).length).toBe(1);
    expect(await store.findUnregisteredAssets(["CFG"])).toEqual([]);
  });

  it("honours an aborted signal", async () => {
    const { store } = await tempStore();
    await expect(
      Asset.batchGetOrRegisterCustomAssets(assetPayload(["SIG"]), {
        store,
        signal: AbortSignal.abort(),
      }),
    ).rejects.toMatchObject({ code: "aborted" });
    expect(await store.findUnregisteredAssets(["SIG"])).toEqual(["SIG"]);
  });
});

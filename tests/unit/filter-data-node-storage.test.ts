import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.js";
import { F, FilterError, SearchRequest } from "../../src/filters/index.js";
import { Frame } from "../../src/frame/frame.js";
import { DataNodeStorage } from "../../src/node/data-node-storage.js";
import type { DataStore, FilterResult } from "../../src/store/data-store.js";
import { DuckDBStore } from "../../src/store/duckdb/index.js";
import { closeStore, configure } from "../../src/store/store-registry.js";
import { writeThroughUpdater } from "../helpers/write.js";

const root = mkdtempSync(join(tmpdir(), "tdag-dns-"));
afterAll(async () => {
  await closeStore();
  rmSync(root, { recursive: true, force: true });
});

describe("DataNodeStorage", () => {
  it("uses the configured store when none is given, and honours abort signals", async () => {
    const store = await DuckDBStore.open({ path: join(root, "default.duckdb") });
    configure({ store });
    const storage = await store.registerStorage({
      storageHash: "dns_prices",
      namespace: null,
      buildConfiguration: {},
      sourceClassName: "P",
    });
    await writeThroughUpdater(
      store,
      storage.uid,
      Frame.fromRecords(
        Array.from({ length: 7 }, (_, i) => ({
          time_index: new Date(Date.UTC(2024, 0, 1 + i)),
          v: i,
        })),
      ),
    );
    const req = new SearchRequest({ storageHash: "dns_prices", filter: F.gte("v", 1), limit: 3 });
    const first = await DataNodeStorage.getDataFromFilter(req);
    expect(first.frame.column("base__v")).toEqual(new Float64Array([1, 2, 3]));
    expect(first.nextOffset).toBe(3);
    // plain input is validated into a request
    expect(
      (await DataNodeStorage.getDataFromFilter({ storageHash: "dns_prices" })).frame.length,
    ).toBe(7);
    const all = await DataNodeStorage.getAllDataFromFilter(req);
    expect(all.column("base__v")).toEqual(new Float64Array([1, 2, 3, 4, 5, 6]));
    const sizes: number[] = [];
    for await (const page of DataNodeStorage.iterateDataFromFilter(req.with({ offset: 2 }))) {
      sizes.push(page.frame.length);
    }
    expect(sizes).toEqual([3, 1]);
    const controller = new AbortController();
    controller.abort();
    await expect(
      DataNodeStorage.getDataFromFilter(req, { signal: controller.signal }),
    ).rejects.toBeInstanceOf(StoreError);
    await expect(
      DataNodeStorage.getAllDataFromFilter(req, { batchLimit: 14_001 }),
    ).rejects.toBeInstanceOf(FilterError);
  });

  it("stops a store whose next offset does not advance", async () => {
    const page: FilterResult = {
      frame: Frame.empty(),
      nextOffset: 0,
      storages: {},
      indexNames: ["time_index"],
    };
    const stuck = { getDataFromFilter: async () => page } as unknown as DataStore;
    const pages = DataNodeStorage.iterateDataFromFilter(new SearchRequest({ storageHash: "h" }), {
      store: stuck,
    });
    await expect(
      (async () => {
        for await (const _ of pages) {
          // consume
        }
      })(),
    ).rejects.toThrow(/paging would not advance/);
  });
});

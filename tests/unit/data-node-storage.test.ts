import { describe, expect, it } from "vitest";
import { DataNodeStorage } from "../../src/index.js";
import type { DataStore } from "../../src/store/data-store.js";
import { tempStore } from "../helpers/temp-store.js";

async function publish(
  store: DataStore,
  hash: string,
  identifier: string,
  description: string,
  columns: string[],
): Promise<string> {
  const storage = await store.registerStorage({
    storageHash: hash,
    namespace: null,
    buildConfiguration: {},
    sourceClassName: "Published",
  });
  await store.setTableMetadata(storage.uid, { identifier, description });
  await store.setColumnMetadata(
    storage.uid,
    columns.map((c) => ({ columnName: c, dtype: "float64", label: c, description: "" })),
  );
  return storage.uid;
}

describe("DataNodeStorage discovery", () => {
  it("searches, lists identifiers and refreshes through the facade", async () => {
    const { store } = await tempStore();
    const equities = await publish(
      store,
      "equities_hash",
      "us_equities_daily_close",
      "daily close prices of US equities",
      ["close"],
    );
    await publish(store, "fx_hash", "fx_ecb_daily_rates", "ECB reference exchange rates", ["rate"]);
    await publish(store, "weights_hash", "portfolio_weights", "daily portfolio weights", [
      "weight",
    ]);

    const hits = await DataNodeStorage.descriptionSearch("daily close price", { store });
    expect(hits[0]?.storage.identifier).toBe("us_equities_daily_close");

    const byColumn = await DataNodeStorage.columnSearch("close", { store });
    expect(byColumn.map((h) => h.storage.identifier)).toEqual(["us_equities_daily_close"]);
    expect(byColumn[0]?.matchedColumns).toEqual(["close"]);

    expect(await DataNodeStorage.orgUniqueIdentifiers({ store })).toEqual([
      "fx_ecb_daily_rates",
      "portfolio_weights",
      "us_equities_daily_close",
    ]);
    expect(
      (await DataNodeStorage.getByIdentifier("fx_ecb_daily_rates", { store }))?.storageHash,
    ).toBe("fx_hash");
    expect(await DataNodeStorage.getByIdentifier("missing", { store })).toBeNull();

    // The index follows a metadata change only after a refresh.
    const scoreOf = async (q: string) =>
      (await DataNodeStorage.descriptionSearch(q, { store })).find(
        (h) => h.storage.uid === equities,
      )?.score ?? 0;
    const before = await scoreOf("daily close price");
    await store.setTableMetadata(equities, {
      identifier: "us_equities_daily_close",
      description: "intraday order book snapshots",
    });
    expect(await scoreOf("daily close price")).toBe(before);
    await DataNodeStorage.refreshTableSearchIndex(equities, { store });
    expect(await scoreOf("daily close price")).toBeLessThan(before);
    const after = await DataNodeStorage.descriptionSearch("intraday order book", { store });
    expect(after[0]?.storage.identifier).toBe("us_equities_daily_close");
  });
});

import { describe, expect, it } from "vitest";
import { RunError, StoreError } from "../../src/errors.js";
import { APIDataNode } from "../../src/node/api-data-node.js";
import { configure } from "../../src/store/store-registry.js";
import { ScriptedNode } from "../helpers/nodes.js";
import { rejectionOf, rows, silentLogger, tempStore } from "../helpers/temp-store.js";

configure({ logger: silentLogger });

const D1 = "2024-01-01T00:00:00Z";

function node(series: string, identifier: string | null, value: number): ScriptedNode {
  const n = new ScriptedNode({
    series,
    node_metadata: identifier === null ? null : { identifier, description: `${series} prices` },
  });
  n.script = [{ time_index: D1, value }];
  return n;
}

async function storeError(promise: Promise<unknown>, code: string): Promise<StoreError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
  return error as StoreError;
}

describe("published identifiers are unique across the organisation", () => {
  it("refuses an identifier another storage holds, naming the holder", async () => {
    const { store } = await tempStore();
    const a = await store.registerStorage({
      storageHash: "holder_1",
      namespace: null,
      buildConfiguration: {},
      sourceClassName: "A",
    });
    const b = await store.registerStorage({
      storageHash: "other_1",
      namespace: null,
      buildConfiguration: {},
      sourceClassName: "B",
    });
    await store.setTableMetadata(a.uid, { identifier: "daily_prices" });
    const error = await storeError(
      store.setTableMetadata(b.uid, { identifier: "daily_prices", description: "x" }),
      "identifier_taken",
    );
    expect(error.message).toBe(
      `identifier 'daily_prices' is already held by storage holder_1 (uid ${a.uid}); clear it there first`,
    );
    // Nothing of the refused publication was applied.
    expect(await store.findStorage({ uid: b.uid })).toMatchObject({
      identifier: null,
      description: null,
    });
    // Re-publishing the identifier a storage holds is no conflict.
    await store.setTableMetadata(a.uid, { identifier: "daily_prices", description: "again" });
    await storeError(store.setTableMetadata(b.uid, { identifier: "  " }), "invalid_value");
  });

  it("repoints an identifier (clear on A, set on B) without touching a hash", async () => {
    const { store } = await tempStore();
    const a = node("a", "daily_prices", 1);
    const b = node("b", null, 2);
    await a.run({ store });
    await b.run({ store });
    const api = () => APIDataNode.buildFromIdentifier("daily_prices", { store });
    expect(rows(await api().getDfBetweenDates())).toEqual([{ time_index: D1, value: 1 }]);

    const sa = (await store.findStorage({ storageHash: a.storageHash }))!;
    const sb = (await store.findStorage({ storageHash: b.storageHash }))!;
    await storeError(
      store.setTableMetadata(sb.uid, { identifier: "daily_prices" }),
      "identifier_taken",
    );
    await store.setTableMetadata(sa.uid, { identifier: null });
    await store.setTableMetadata(sb.uid, { identifier: "daily_prices" });

    expect((await store.findStorage({ identifier: "daily_prices" }))?.uid).toBe(sb.uid);
    expect(rows(await api().getDfBetweenDates())).toEqual([{ time_index: D1, value: 2 }]);
    expect(await api().resolve()).toMatchObject({ uid: sb.uid, storageHash: b.storageHash });
    const after = await store.listStorages();
    expect(after.map((s) => s.storageHash).sort()).toEqual([a.storageHash, b.storageHash].sort());
    expect(await store.orgUniqueIdentifiers()).toEqual(["daily_prices"]);
  });

  it("migrates a published name between nodes through their hash-excluded metadata", async () => {
    const { store } = await tempStore();
    const a = node("a", "daily_prices", 1);
    await a.run({ store });

    // B claims the name while A holds it: its rows are written, the publication is refused.
    const b = node("b", "daily_prices", 2);
    const failed = await rejectionOf(b.run({ store }));
    expect(failed).toBeInstanceOf(RunError);
    const cause = (failed as RunError).cause as StoreError;
    expect(cause.code).toBe("identifier_taken");
    expect(cause.message).toContain(a.storageHash);
    expect(
      rows(await APIDataNode.buildFromIdentifier("daily_prices", { store }).getDfBetweenDates()),
    ).toEqual([{ time_index: D1, value: 1 }]);

    // A gives the name up: node_metadata is hash-excluded, so it is the same table and updater.
    const a2 = node("a", "daily_prices_v1", 1);
    expect([a2.storageHash, a2.updateHash]).toEqual([a.storageHash, a.updateHash]);
    await a2.run({ store });
    const b2 = node("b", "daily_prices", 2);
    expect(b2.storageHash).toBe(b.storageHash);
    await b2.run({ store });

    expect(
      rows(await APIDataNode.buildFromIdentifier("daily_prices", { store }).getDfBetweenDates()),
    ).toEqual([{ time_index: D1, value: 2 }]);
    expect(await store.orgUniqueIdentifiers()).toEqual(["daily_prices", "daily_prices_v1"]);
    // Filters see the live identifiers; the search document of B was built on its first
    // successful publication.
    const hits = await store.descriptionSearch("b prices", {
      filters: { identifier: "daily_prices" },
    });
    expect(hits.map((h) => h.storage.storageHash)).toEqual([b.storageHash]);
    expect(hits[0]!.trigramScore).toBe(1);
  });
});

import { describe, expect, it } from "vitest";
import { DuckDBStore } from "../../src/store/duckdb/index.js";
import { isStateStore } from "../../src/store/state-store.js";
import { tempStore } from "../helpers/temp-store.js";

describe("the embedded store's durable bookkeeping (StateStore)", () => {
  it("keeps JSON values by kind and key, lists them oldest first, and forgets deleted ones", async () => {
    const { store } = await tempStore();
    expect(isStateStore(store)).toBe(true);
    expect(await store.readState("scheduler", "s1")).toBeNull();
    await store.writeState("scheduler", "s1", { name: "DEBUG_a", tree: ["u1"] });
    await store.writeState("scheduler", "s2", { name: "DEBUG_b", tree: [] });
    await store.writeState("updater", "s1", { other: "kind" });
    await store.writeState("scheduler", "s1", { name: "DEBUG_a", tree: ["u1", "u2"] });
    expect(await store.readState("scheduler", "s1")).toEqual({
      name: "DEBUG_a",
      tree: ["u1", "u2"],
    });
    expect((await store.listState("scheduler")).map((e) => e.key)).toEqual(["s1", "s2"]);
    await store.deleteState("scheduler", "s1");
    await store.deleteState("scheduler", "never");
    expect(await store.listState("scheduler")).toEqual([
      { key: "s2", value: { name: "DEBUG_b", tree: [] } },
    ]);
    expect(await store.readState("updater", "s1")).toEqual({ other: "kind" });
  });

  it("keeps blobs in the order first put; a repeated blob key keeps the first payload", async () => {
    const { store } = await tempStore();
    expect(await store.putBlob("stage", "u1", "k1", "[1]")).toBe(true);
    expect(await store.putBlob("stage", "u1", "k2", "[2]")).toBe(true);
    expect(await store.putBlob("stage", "u1", "k1", "[changed]")).toBe(false);
    expect(await store.putBlob("stage", "u2", "k1", "[other]")).toBe(true);
    expect(await store.listBlobs("stage", "u1")).toEqual([
      { blobKey: "k1", payload: "[1]" },
      { blobKey: "k2", payload: "[2]" },
    ]);
    await store.deleteBlobs("stage", "u1");
    expect(await store.listBlobs("stage", "u1")).toEqual([]);
    expect(await store.listBlobs("stage", "u2")).toHaveLength(1);
  });

  it("survives closing and reopening the file", async () => {
    const { store, path } = await tempStore();
    await store.writeState("extras", "st1", { protect_from_deletion: true });
    await store.putBlob("stage", "u1", "k", "x".repeat(4_000_000));
    await store.close();
    const again = await DuckDBStore.open({ path });
    try {
      expect(await again.readState("extras", "st1")).toEqual({ protect_from_deletion: true });
      expect((await again.listBlobs("stage", "u1"))[0]?.payload.length).toBe(4_000_000);
    } finally {
      await again.close();
    }
  });
});

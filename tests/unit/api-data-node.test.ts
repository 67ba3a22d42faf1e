import { afterEach, describe, expect, it } from "vitest";
import * as z from "zod";
import { DataNodeConfiguration } from "../../src/config/data-node-configuration.js";
import { ArgumentError, NotFoundError } from "../../src/errors.js";
import type { FrameRecord } from "../../src/frame/frame.js";
import { APIDataNode } from "../../src/node/api-data-node.js";
import { Asset } from "../../src/node/asset.js";
import { DataNode } from "../../src/node/data-node.js";
import type { DataStore } from "../../src/store/data-store.js";
import { configure } from "../../src/store/store-registry.js";
import { assetPayload, storageUid, updaterUid } from "../helpers/nodes.js";
import { rejectionOf, rows, silentLogger, tempStore } from "../helpers/temp-store.js";

configure({ logger: silentLogger });
afterEach(() => configure({ store: "duckdb" }));

const D1 = "2024-01-01T00:00:00Z";
const D2 = "2024-01-02T00:00:00Z";
const D3 = "2024-01-03T00:00:00Z";

const PublishedConfig = DataNodeConfiguration.extend({ name: z.string() });

/** A 2-D table published under `node_metadata.identifier`. */
class Published extends DataNode<typeof PublishedConfig> {
  static override configSchema = PublishedConfig;
  static override nodeName = "Published";
  data: FrameRecord[] = [
    { time_index: D1, unique_identifier: "AAA", close: 1 },
    { time_index: D2, unique_identifier: "AAA", close: 2 },
    { time_index: D1, unique_identifier: "BBB", close: 10 },
    { time_index: D3, unique_identifier: "BBB", close: 30 },
  ];
  override update(): FrameRecord[] {
    return this.data;
  }
}

async function publish(store: DataStore, identifier = "unit_published"): Promise<Published> {
  await Asset.batchGetOrRegisterCustomAssets(assetPayload(["AAA", "BBB"]), { store });
  const node = new Published({ name: identifier, node_metadata: { identifier } });
  await node.run({ store });
  return node;
}

describe("APIDataNode: building and resolving", () => {
  it("buildFromIdentifier reads the published table", async () => {
    const { store } = await tempStore();
    const published = await publish(store);
    const api = APIDataNode.buildFromIdentifier("unit_published", { store });
    expect(rows(await api.getDfBetweenDates())).toEqual(rows(await published.getDfBetweenDates()));
    expect(
      rows(
        await api.getDfBetweenDates({
          startDate: D2,
          dimensionFilters: { unique_identifier: ["BBB"] },
          columns: ["close"],
        }),
      ),
    ).toEqual([{ time_index: D3, unique_identifier: "BBB", close: 30 }]);
  });

  it("uses the configured store when none is given", async () => {
    const { store } = await tempStore();
    await publish(store, "configured_published");
    configure({ store });
    const api = APIDataNode.buildFromIdentifier("configured_published");
    expect((await api.getDfBetweenDates()).length).toBe(4);
  });

  it("a missing identifier fails at read time with storage_not_found naming it", async () => {
    const { store } = await tempStore();
    const api = APIDataNode.buildFromIdentifier("no_such_table", { store }); // no throw here
    expect(api.label).toBe("APIDataNode(identifier=no_such_table)");
    const err = await rejectionOf(api.getDfBetweenDates());
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).code).toBe("storage_not_found");
    expect((err as Error).message).toContain("'no_such_table'");
    await expect(api.resolve()).rejects.toMatchObject({ code: "storage_not_found" });
    await expect(api.getLastObservation()).rejects.toMatchObject({ code: "storage_not_found" });
  });

  it("a table published after a failed lookup is found on the next read", async () => {
    const { store } = await tempStore();
    const api = APIDataNode.buildFromIdentifier("late_table", { store });
    await expect(api.resolve()).rejects.toBeInstanceOf(NotFoundError);
    await publish(store, "late_table");
    expect((await api.getDfBetweenDates()).length).toBe(4);
  });

  it("rejects empty identifiers and storage hashes at build time", () => {
    expect(() => APIDataNode.buildFromIdentifier("  ")).toThrow(ArgumentError);
    expect(() => APIDataNode.buildFromStorageHash("")).toThrow(ArgumentError);
  });

  it("buildFromStorageHash reads the table; updateHash is API_<storageHash> once resolved", async () => {
    const { store } = await tempStore();
    const published = await publish(store);
    const api = APIDataNode.buildFromStorageHash(published.storageHash, { store });
    expect(() => api.updateHash).toThrow(NotFoundError);
    expect(() => api.storageHash).toThrow(/not resolved/);
    const storage = await api.resolve();
    expect(storage.uid).toBe(await storageUid(store, published));
    expect(api.storageHash).toBe(published.storageHash);
    expect(api.updateHash).toBe(`API_${published.storageHash}`);
    expect((await api.getDfBetweenDates()).length).toBe(4);

    const missing = APIDataNode.buildFromStorageHash("nothing_here_abc", { store });
    const err = await rejectionOf(missing.getDfBetweenDates());
    expect((err as NotFoundError).code).toBe("storage_not_found");
    expect((err as Error).message).toContain("nothing_here_abc");
  });

  it("getLastObservation returns the latest row of each coordinate", async () => {
    const { store } = await tempStore();
    await publish(store);
    const api = APIDataNode.buildFromIdentifier("unit_published", { store });
    expect(rows(await api.getLastObservation())).toEqual([
      { time_index: D2, unique_identifier: "AAA", close: 2 },
      { time_index: D3, unique_identifier: "BBB", close: 30 },
    ]);
    expect(
      rows(await api.getLastObservation({ dimensionFilters: { unique_identifier: ["AAA"] } })),
    ).toEqual([{ time_index: D2, unique_identifier: "AAA", close: 2 }]);
  });

  it("getUpdateStatistics returns the table's statistics", async () => {
    const { store } = await tempStore();
    const published = await publish(store);
    const api = APIDataNode.buildFromIdentifier("unit_published", { store });
    expect(await api.getUpdateStatistics()).toEqual(await published.getTableStatistics());
  });

  it.each(["unique_identifier_list", "unique_identifier_range_map", "uniqueIdentifierList"])(
    "the removed %s read option is an ArgumentError (removed_option)",
    async (option) => {
      const { store } = await tempStore();
      const published = await publish(store);
      const api = APIDataNode.buildFromIdentifier("unit_published", { store });
      const options = { [option]: ["AAA"] } as object;
      await expect(api.getDfBetweenDates(options)).rejects.toThrow(ArgumentError);
      await expect(api.getDfBetweenDates(options)).rejects.toThrow(/dimensionFilters/);
      await expect(api.getLastObservation(options)).rejects.toThrow(ArgumentError);
      await expect(published.getDfBetweenDates(options)).rejects.toThrow(ArgumentError);
    },
  );

  it("date-only and naive string bounds are UTC, whatever the machine's time zone", async () => {
    const { store } = await tempStore();
    await Asset.batchGetOrRegisterCustomAssets(assetPayload(["AAA"]), { store });
    const node = new Published({ name: "tz", node_metadata: { identifier: "tz_table" } });
    node.data = [
      { time_index: "2024-01-01T23:00:00Z", unique_identifier: "AAA", close: 1 },
      { time_index: "2024-01-02T00:00:00Z", unique_identifier: "AAA", close: 2 },
      { time_index: "2024-01-02T04:00:00Z", unique_identifier: "AAA", close: 3 },
      { time_index: "2024-01-03T00:00:00Z", unique_identifier: "AAA", close: 4 },
    ];
    await node.run({ store });
    const api = APIDataNode.buildFromIdentifier("tz_table", { store });
    const previous = process.env.TZ;
    process.env.TZ = "America/New_York"; // UTC-5: local midnight would be 05:00Z
    try {
      expect(new Date(2024, 0, 2).getTimezoneOffset()).toBe(300);
      const closes = async (startDate: string, endDate: string) =>
        rows(await api.getDfBetweenDates({ startDate, endDate })).map((r) => r.close);
      expect(await closes("2024-01-02", "2024-01-02")).toEqual([2]);
      expect(await closes("2024-01-02", "2024-01-03")).toEqual([2, 3, 4]);
      expect(await closes("2024-01-02T00:00:00", "2024-01-02T04:00:00")).toEqual([2, 3]);
      // an explicit offset is honoured
      expect(await closes("2024-01-01T19:00:00-05:00", "2024-01-02")).toEqual([2]);
    } finally {
      if (previous === undefined) delete process.env.TZ;
      else process.env.TZ = previous;
    }
  });
});

// ------------------------------------------------------------------------- as a dependency

const ConsumerConfig = DataNodeConfiguration.extend({ identifier: z.string() });

class Consumer extends DataNode<typeof ConsumerConfig> {
  static override configSchema = ConsumerConfig;
  static override nodeName = "Consumer";
  readonly source: APIDataNode;
  constructor(config: z.input<typeof ConsumerConfig>) {
    super(config);
    this.source = APIDataNode.buildFromIdentifier(config.identifier);
  }
  override dependencies() {
    return { source: this.source };
  }
  override async update(): Promise<FrameRecord[]> {
    const df = await this.source.getDfBetweenDates({
      dimensionFilters: { unique_identifier: ["AAA"] },
    });
    return df
      .toRecords()
      .map((r) => ({ time_index: r.time_index, doubled: (r.close as number) * 2 }));
  }
}

describe("APIDataNode as a dependency", () => {
  it("a DataNode depending on an APIDataNode runs, reads it and records a storage edge", async () => {
    const { store } = await tempStore();
    const published = await publish(store);
    const consumer = new Consumer({ identifier: "unit_published" });
    const result = await consumer.run({ store });

    expect(rows(await consumer.getDfBetweenDates())).toEqual([
      { time_index: D1, doubled: 2 },
      { time_index: D2, doubled: 4 },
    ]);
    expect(result.nodes.map((n) => [n.status, n.updateHash])).toEqual([
      ["read_only", `API_${published.storageHash}`],
      ["updated", consumer.updateHash],
    ]);
    expect(await store.listDependencies(await updaterUid(store, consumer))).toEqual([
      { kind: "storage", uid: await storageUid(store, published) },
    ]);
    // the API node never registers an updater of its own
    expect(await store.findUpdater({ updateHash: `API_${published.storageHash}` })).toBeNull();
    // rerunning links nothing twice
    await consumer.run({ store });
    expect(await store.listDependencies(await updaterUid(store, consumer))).toHaveLength(1);
  });

  it("a missing published dependency fails the run before anything is registered or written", async () => {
    const { store } = await tempStore();
    const consumer = new Consumer({ identifier: "not_published_yet" });
    const err = await rejectionOf(consumer.run({ store }));
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toContain("not_published_yet");
    expect(await store.findUpdater({ updateHash: consumer.updateHash })).toBeNull();
    expect(await store.listStorages()).toEqual([]);
  });
});

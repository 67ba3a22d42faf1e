import { describe, expect, it } from "vitest";
import * as z from "zod";
import { DataNodeConfiguration } from "../../src/config/data-node-configuration.js";
import type { UpdateContext } from "../../src/engine/run-engine.js";
import { FrameValidationError, RunError } from "../../src/errors.js";
import { Frame, type FrameInput, type FrameRecord } from "../../src/frame/frame.js";
import { MICROS } from "../../src/frame/time.js";
import { Asset } from "../../src/node/asset.js";
import { DataNode } from "../../src/node/data-node.js";
import type { UpdateStart, UpdateStatistics } from "../../src/statistics/update-statistics.js";
import type { AssetRecord } from "../../src/store/data-store.js";
import { configure } from "../../src/store/store-registry.js";
import { assetPayload, ScriptedNode, storageUid, updaterUid } from "../helpers/nodes.js";
import {
  rejectionOf,
  rows,
  silentLogger,
  snapshotTable,
  tempStore,
} from "../helpers/temp-store.js";

configure({ logger: silentLogger });

const D1 = "2024-01-01T00:00:00Z";
const D2 = "2024-01-02T00:00:00Z";
const D3 = "2024-01-03T00:00:00Z";
const D4 = "2024-01-04T00:00:00Z";

describe("run(): first and repeated runs", () => {
  it("writes the rows of a first run, readable back exactly (microseconds kept)", async () => {
    const { store } = await tempStore();
    const node = new ScriptedNode({ series: "first" });
    node.script = [
      { time_index: "2024-01-01T00:00:00.000001Z", value: 1.5, label: "a" },
      { time_index: "2024-01-01T12:30:45.123456Z", value: -2.25, label: "b" },
      { time_index: "2024-01-02T00:00:00Z", value: 1e-9, label: null },
    ];
    const result = await node.run({ store });

    expect(result.error).toBe(false);
    expect(result.df && rows(result.df)).toEqual([
      { time_index: "2024-01-01T00:00:00.000001Z", value: 1.5, label: "a" },
      { time_index: "2024-01-01T12:30:45.123456Z", value: -2.25, label: "b" },
      { time_index: "2024-01-02T00:00:00Z", value: 1e-9, label: null },
    ]);
    const read = await node.getDfBetweenDates();
    expect(rows(read)).toEqual(rows(result.df!));
    expect([...read.time]).toEqual([1704067200000001, 1704112245123456, 1704153600000000]);
    expect(read.dtypes).toEqual({ time_index: "timestamptz", value: "float64", label: "string" });

    // bounds are inclusive and keep microseconds
    const window = await node.getDfBetweenDates({
      startDate: "2024-01-01T00:00:00.000001Z",
      endDate: "2024-01-01T12:30:45.123456Z",
      greatOrEqual: false,
    });
    expect(rows(window).map((r) => r.label)).toEqual(["b"]);

    expect(result.nodes).toHaveLength(1);
    expect(result.nodes[0]).toMatchObject({
      name: "ScriptedNode",
      updateHash: node.updateHash,
      storageHash: node.storageHash,
      status: "updated",
      rowsWritten: 3,
      identities: 1,
      window: { start: new Date("2024-01-01T00:00:00.000Z"), end: new Date(D2) },
    });
    const runs = await store.listRuns(await updaterUid(store, node));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ error: false, errorMessage: null, rowsWritten: 3 });
    expect(runs[0]!.endedAt).not.toBeNull();
  });

  it("a second run with nothing new writes nothing and leaves the table unchanged", async () => {
    const { store } = await tempStore();
    const node = new ScriptedNode({ series: "again" });
    node.script = ({ updateStatistics }) => {
      const { startDate } = updateStatistics.getUpdateStart({ stepMicros: MICROS.day });
      return startDate && startDate <= new Date(D2)
        ? [
            { time_index: D1, value: 1 },
            { time_index: D2, value: 2 },
          ].filter((r) => new Date(r.time_index) >= startDate)
        : [];
    };
    await node.run({ store });
    const before = await snapshotTable(store, node.storageHash);
    expect(before!.rows).toHaveLength(2);

    const second = await node.run({ store });
    expect(node.calls).toBe(2);
    expect(node.lastSeen.maxTimeIndexValue).toEqual(new Date(D2));
    expect(second.error).toBe(false);
    expect(second.df!.length).toBe(0);
    expect(second.nodes[0]).toMatchObject({
      status: "nothing_new",
      rowsWritten: 0,
      window: null,
      identities: 0,
    });
    expect(await snapshotTable(store, node.storageHash)).toEqual(before);
    const runs = await store.listRuns(await updaterUid(store, node));
    expect(runs.map((r) => [r.error, r.rowsWritten])).toEqual([
      [false, 0],
      [false, 2],
    ]);
  });

  it("drops returned rows at or below the watermark and writes only strictly newer ones", async () => {
    const { store } = await tempStore();
    const node = new ScriptedNode({ series: "watermark" });
    node.script = [
      { time_index: D1, value: 1 },
      { time_index: D2, value: 2 },
    ];
    await node.run({ store });

    // the whole history again, with changed values for persisted days
    node.script = [
      { time_index: D1, value: 100 },
      { time_index: D2, value: 200 },
      { time_index: D3, value: 3 },
    ];
    const result = await node.run({ store });
    expect(result.nodes[0]).toMatchObject({
      status: "updated",
      rowsWritten: 1,
      window: { start: new Date(D3), end: new Date(D3) },
    });
    expect(rows(result.df!)).toEqual([{ time_index: D3, value: 3 }]);
    expect(rows(await node.getDfBetweenDates())).toEqual([
      { time_index: D1, value: 1 },
      { time_index: D2, value: 2 },
      { time_index: D3, value: 3 },
    ]);

    // only rows at or below: nothing new
    node.script = [{ time_index: D3, value: 33 }];
    const third = await node.run({ store });
    expect(third.nodes[0]!.status).toBe("nothing_new");
    expect(rows(await node.getDfBetweenDates({ startDate: D3 }))).toEqual([
      { time_index: D3, value: 3 },
    ]);
  });

  it("drops rows per identity in a 2-D table (each asset's own watermark)", async () => {
    const { store } = await tempStore();
    await Asset.batchGetOrRegisterCustomAssets(assetPayload(["AAA", "BBB"]), { store });
    const node = new ScriptedNode({ series: "per_identity" });
    node.script = [
      { time_index: D1, unique_identifier: "AAA", value: 1 },
      { time_index: D3, unique_identifier: "AAA", value: 3 },
      { time_index: D1, unique_identifier: "BBB", value: 10 },
    ];
    await node.run({ store });
    node.script = [
      { time_index: D2, unique_identifier: "AAA", value: 2 }, // below AAA's D3: dropped
      { time_index: D3, unique_identifier: "AAA", value: 33 }, // at: dropped
      { time_index: D4, unique_identifier: "AAA", value: 4 },
      { time_index: D2, unique_identifier: "BBB", value: 20 }, // above BBB's D1: kept
    ];
    const result = await node.run({ store });
    expect(result.nodes[0]).toMatchObject({ rowsWritten: 2, identities: 2 });
    expect(rows(await node.getDfBetweenDates())).toEqual([
      { time_index: D1, unique_identifier: "AAA", value: 1 },
      { time_index: D1, unique_identifier: "BBB", value: 10 },
      { time_index: D2, unique_identifier: "BBB", value: 20 },
      { time_index: D3, unique_identifier: "AAA", value: 3 },
      { time_index: D4, unique_identifier: "AAA", value: 4 },
    ]);
  });
});

describe("run(): the watermark is what is persisted", () => {
  class ScopedByConfig extends ScriptedNode {
    // the reference's scoping pattern: unseen identities get the fallback date as progress
    override prepareUpdateStatistics(stats: UpdateStatistics): UpdateStatistics {
      return stats.updateIdentityScope(["AAA"], { initFallbackDate: this.getOffsetStart() });
    }
  }

  it("a fallback date given by updateIdentityScope does not drop the first row at offset_start", async () => {
    const { store } = await tempStore();
    await Asset.batchGetOrRegisterCustomAssets(assetPayload(["AAA", "BBB"]), { store });
    const node = new ScopedByConfig({ series: "scoped", offset_start: D1 });
    node.script = ({ updateStatistics }) => {
      const start = updateStatistics.getStartForIdentity("AAA")!;
      return [
        { time_index: start, unique_identifier: "AAA", v: 1 },
        { time_index: new Date(start.getTime() + 86_400_000), unique_identifier: "AAA", v: 2 },
      ];
    };
    const first = await node.run({ store });
    expect(node.lastSeen.getLastUpdateForIdentity("AAA")).toEqual(new Date(D1));
    expect(first.nodes[0]).toMatchObject({ rowsWritten: 2 });
    expect(rows(await node.getDfBetweenDates()).map((r) => r.v)).toEqual([1, 2]);
  });

  it("rows outside the updater's scope are still filtered by their persisted watermark", async () => {
    const { store } = await tempStore();
    await Asset.batchGetOrRegisterCustomAssets(assetPayload(["AAA", "BBB"]), { store });
    const writer = new ScopedByConfig({ series: "scoped", shard: "bbb" });
    writer.script = [{ time_index: D2, unique_identifier: "BBB", v: 20 }];
    await writer.run({ store });

    const node = new ScopedByConfig({ series: "scoped", offset_start: D1 });
    expect(node.storageHash).toBe(writer.storageHash);
    node.script = [
      { time_index: D1, unique_identifier: "AAA", v: 1 },
      { time_index: D2, unique_identifier: "BBB", v: 99 }, // persisted by the other updater
      { time_index: D3, unique_identifier: "BBB", v: 30 },
    ];
    const result = await node.run({ store });
    expect(result.nodes[0]).toMatchObject({ rowsWritten: 2 });
    expect(rows(await node.getDfBetweenDates())).toEqual([
      { time_index: D1, unique_identifier: "AAA", v: 1 },
      { time_index: D2, unique_identifier: "BBB", v: 20 },
      { time_index: D3, unique_identifier: "BBB", v: 30 },
    ]);
  });
});

describe("run(): what update() may return", () => {
  const expected = [
    { time_index: D1, value: 1.5, flag: true },
    { time_index: D2, value: 2.5, flag: false },
  ];
  const shapes: [string, () => FrameInput][] = [
    ["a Frame", () => Frame.fromRecords(expected)],
    ["an array of records", () => expected.map((r) => ({ ...r }))],
    ["a columns object", () => ({ time_index: [D1, D2], value: [1.5, 2.5], flag: [true, false] })],
  ];

  it.each(shapes)("accepts %s", async (_name, make) => {
    const { store } = await tempStore();
    const node = new ScriptedNode({ series: "shape" });
    node.script = make();
    const result = await node.run({ store });
    expect(result.nodes[0]).toMatchObject({ status: "updated", rowsWritten: 2 });
    expect(rows(await node.getDfBetweenDates())).toEqual(expected);
  });

  const empties: [string, FrameInput][] = [
    ["[]", []],
    ["{}", {}],
    ["null", null],
    ["undefined", undefined],
    ["Frame.empty()", Frame.empty()],
    ["an empty columns object", { time_index: [], value: [] }],
  ];

  it.each(empties)("treats %s as nothing new", async (_name, value) => {
    const { store } = await tempStore();
    const node = new ScriptedNode({ series: "empty" });
    node.script = value;
    const result = await node.run({ store });
    expect(result.error).toBe(false);
    expect(result.df!.length).toBe(0);
    expect(result.nodes[0]).toMatchObject({ status: "nothing_new", rowsWritten: 0 });
    const storage = await store.findStorage({ storageHash: node.storageHash });
    expect(storage!.schema).toBeNull();
    expect((await node.getDfBetweenDates()).length).toBe(0);
    const runs = await store.listRuns(await updaterUid(store, node));
    expect(runs[0]).toMatchObject({ error: false, rowsWritten: 0 });
  });

  it("accepts an async update()", async () => {
    const { store } = await tempStore();
    const node = new ScriptedNode({ series: "async" });
    node.script = async () => {
      await new Promise((r) => setTimeout(r, 5));
      return [{ time_index: D1, value: 7 }];
    };
    await node.run({ store });
    expect(rows(await node.getDfBetweenDates())).toEqual([{ time_index: D1, value: 7 }]);
  });
});

describe("run(): summaries", () => {
  it("reports rows written, the window and the identities of a 2-D write", async () => {
    const { store } = await tempStore();
    await Asset.batchGetOrRegisterCustomAssets(assetPayload(["X1", "X2", "X3"]), { store });
    const node = new ScriptedNode({ series: "summary" });
    node.script = [
      { time_index: D2, unique_identifier: "X1", v: 1 },
      { time_index: D1, unique_identifier: "X2", v: 2 },
      { time_index: D3, unique_identifier: "X2", v: 3 },
      { time_index: D2, unique_identifier: "X3", v: 4 },
      { time_index: D2, unique_identifier: "X2", v: 5 },
    ];
    const result = await node.run({ store });
    const summary = result.nodes[0]!;
    expect(summary.status).toBe("updated");
    expect(summary.rowsWritten).toBe(5);
    expect(summary.identities).toBe(3);
    expect(summary.window).toEqual({ start: new Date(D1), end: new Date(D3) });
    expect(summary.durationMs).toBeGreaterThanOrEqual(0);
    expect((await store.listRuns(await updaterUid(store, node)))[0]!.rowsWritten).toBe(5);
    // the node's statistics are refreshed from the write
    expect(node.updateStatistics.getLastUpdateForIdentity("X2")).toEqual(new Date(D3));
    expect(node.updateStatistics.maxTimeIndexValue).toEqual(new Date(D3));
  });
});

// ------------------------------------------------------------------------- metadata and records

const MetaConfig = DataNodeConfiguration.extend({ name: z.string() });

class CountsNode extends DataNode<typeof MetaConfig> {
  static override configSchema = MetaConfig;
  static override nodeName = "CountsNode";
  data: FrameRecord[] = [];
  override update(): FrameRecord[] {
    return this.data;
  }
}

describe("run(): metadata and records", () => {
  it("publishes node_metadata as table metadata (findable by identifier)", async () => {
    const { store } = await tempStore();
    const node = new CountsNode({
      name: "meta",
      node_metadata: {
        identifier: "unit_counts_table",
        description: "Counts for the unit test",
        data_frequency_id: "1d",
      },
    });
    node.data = [{ time_index: D1, count: 1 }];
    await node.run({ store });
    const found = await store.findStorage({ identifier: "unit_counts_table" });
    expect(found).toMatchObject({
      storageHash: node.storageHash,
      identifier: "unit_counts_table",
      description: "Counts for the unit test",
      dataFrequencyId: "1d",
    });
  });

  it("publishes metadata even when nothing was new", async () => {
    const { store } = await tempStore();
    const node = new CountsNode({
      name: "meta_empty",
      node_metadata: { identifier: "unit_empty_table" },
    });
    await node.run({ store });
    expect((await store.findStorage({ identifier: "unit_empty_table" }))!.storageHash).toBe(
      node.storageHash,
    );
  });

  it("publishes column metadata from records and types an int record as int64", async () => {
    const { store } = await tempStore();
    const node = new CountsNode({
      name: "records",
      records: [
        { column_name: "count", dtype: "int64", label: "Count", description: "How many" },
        { column_name: "ratio", dtype: "float64" },
      ],
    });
    node.data = [
      { time_index: D1, count: 3, ratio: 1 },
      { time_index: D2, count: 4, ratio: 0.5 },
    ];
    const result = await node.run({ store });
    expect(result.df!.dtypes).toMatchObject({ count: "int64", ratio: "float64" });

    const storage = await store.findStorage({ storageHash: node.storageHash });
    expect(storage!.schema!.columnDtypes).toEqual({
      time_index: "timestamptz",
      count: "int64",
      ratio: "float64",
    });
    const read = await node.getDfBetweenDates();
    expect(read.dtypes["count"]).toBe("int64");
    expect(rows(read)).toEqual([
      { time_index: D1, count: 3, ratio: 1 },
      { time_index: D2, count: 4, ratio: 0.5 },
    ]);
    expect(await store.getColumnMetadata(await storageUid(store, node))).toEqual([
      { columnName: "count", dtype: "int64", label: "Count", description: "How many" },
      { columnName: "ratio", dtype: "float64", label: "ratio", description: "" },
    ]);
  });

  it("without records the same integers are float64", async () => {
    const { store } = await tempStore();
    const node = new CountsNode({ name: "no_records" });
    node.data = [{ time_index: D1, count: 3 }];
    const result = await node.run({ store });
    expect(result.df!.dtypes["count"]).toBe("float64");
    expect(await store.getColumnMetadata(await storageUid(store, node))).toEqual([]);
  });

  const badRecords: [string, FrameRecord[], { column_name: string; dtype: string }[], string][] = [
    [
      "a non-integer in an int64 record",
      [{ time_index: D1, count: 1.5 }],
      [{ column_name: "count", dtype: "int64" }],
      "wrong_dtype",
    ],
    [
      "text in an int64 record",
      [{ time_index: D1, count: "3" }],
      [{ column_name: "count", dtype: "int64" }],
      "wrong_dtype",
    ],
    [
      "a non-UUID in a uuid record",
      [{ time_index: D1, id: "abc" }],
      [{ column_name: "id", dtype: "uuid" }],
      "invalid_record_value",
    ],
    [
      "a declared column missing from the frame",
      [{ time_index: D1, count: 2 }],
      [{ column_name: "absent", dtype: "float64" }],
      "missing_record_column",
    ],
    [
      "an unknown dtype token",
      [{ time_index: D1, count: 2 }],
      [{ column_name: "count", dtype: "int65" }],
      "unknown_dtype",
    ],
  ];

  it.each(badRecords)(
    "fails validation on %s, writing nothing",
    async (_name, data, records, code) => {
      const { store } = await tempStore();
      const node = new CountsNode({ name: "bad_record", records });
      node.data = data;
      const err = await rejectionOf(node.run({ store }));
      expect(err).toBeInstanceOf(RunError);
      const cause = (err as RunError).cause;
      expect(cause).toBeInstanceOf(FrameValidationError);
      expect((cause as FrameValidationError).issues.map((i) => i.code)).toEqual([code]);
      expect(await snapshotTable(store, node.storageHash)).toMatchObject({ rows: [] });
      const runs = await store.listRuns(await updaterUid(store, node));
      expect(runs[0]!.error).toBe(true);
    },
  );
});

// ------------------------------------------------------------------------- offset_start

describe("run(): offset_start is where a first run starts", () => {
  it("1-D: getUpdateStart() is offset_start on the first run, last + step afterwards", async () => {
    const { store } = await tempStore();
    const node = new ScriptedNode({ series: "offset", offset_start: "2024-03-01T00:00:00Z" });
    const starts: UpdateStart[] = [];
    node.script = ({ updateStatistics }) => {
      const start = updateStatistics.getUpdateStart({ stepMicros: MICROS.day });
      starts.push(start);
      if (!start.isFirstRun) return [];
      return [
        { time_index: start.startDate!, value: 1 },
        { time_index: new Date(start.startDate!.getTime() + 86_400_000), value: 2 },
      ];
    };
    await node.run({ store });
    await node.run({ store });
    expect(starts[0]).toMatchObject({
      startDate: new Date("2024-03-01T00:00:00Z"),
      startDateOperand: ">=",
      isFirstRun: true,
    });
    expect(starts[1]).toMatchObject({
      startDate: new Date("2024-03-03T00:00:00Z"),
      isFirstRun: false,
    });
    expect(rows(await node.getDfBetweenDates()).map((r) => r.time_index)).toEqual([
      "2024-03-01T00:00:00Z",
      "2024-03-02T00:00:00Z",
    ]);
  });

  it("without offset_start the class OFFSET_START is used", async () => {
    const { store } = await tempStore();
    const node = new ScriptedNode({ series: "default_offset" });
    await node.run({ store });
    expect(node.lastSeen.getUpdateStart().startDate).toEqual(new Date("2018-01-01T00:00:00Z"));
  });

  it("2-D: an asset never written starts at offset_start, a written one at its last update", async () => {
    const { store } = await tempStore();
    const assets = await Asset.batchGetOrRegisterCustomAssets(assetPayload(["OLD", "NEW"]), {
      store,
    });
    class Scoped extends ScriptedNode {
      universe: AssetRecord[] = [];
      override getAssetList(): AssetRecord[] {
        return this.universe;
      }
    }
    const node = new Scoped({ series: "offset_2d", offset_start: "2024-02-01T00:00:00Z" });
    node.universe = [assets[0]!];
    node.script = [{ time_index: D3, unique_identifier: "OLD", v: 1 }];
    await node.run({ store });
    expect(node.lastSeen.getStartForIdentity("OLD")).toEqual(new Date("2024-02-01T00:00:00Z"));

    node.universe = [...assets];
    node.script = [];
    await node.run({ store });
    const stats = node.lastSeen;
    expect(stats.getStartForIdentity("NEW")).toEqual(new Date("2024-02-01T00:00:00Z"));
    expect(stats.getStartForIdentity("OLD")).toEqual(new Date(D3));
    expect(stats.getLastUpdatePerAsset()).toEqual(
      new Map([
        ["OLD", new Date(D3)],
        ["NEW", null],
      ]),
    );
  });
});

// ------------------------------------------------------------------------- stores

describe("run(): which store", () => {
  it("run({ store }) writes there and binds the node; configure({ store }) is the default", async () => {
    const a = await tempStore();
    const b = await tempStore();
    configure({ store: b.store });
    try {
      const explicit = new ScriptedNode({ series: "explicit_store" });
      explicit.script = [{ time_index: D1, value: 1 }];
      await explicit.run({ store: a.store });
      expect(await a.store.findStorage({ storageHash: explicit.storageHash })).not.toBeNull();
      expect(await b.store.findStorage({ storageHash: explicit.storageHash })).toBeNull();
      // reads after the run go to the run's store
      expect(rows(await explicit.getDfBetweenDates())).toEqual([{ time_index: D1, value: 1 }]);

      const configured = new ScriptedNode({ series: "configured_store" });
      configured.script = [{ time_index: D2, value: 2 }];
      await configured.run();
      expect((await snapshotTable(b.store, configured.storageHash))!.rows).toEqual([
        { time_index: D2, value: 2 },
      ]);
      expect(await a.store.findStorage({ storageHash: configured.storageHash })).toBeNull();
    } finally {
      configure({ store: "duckdb" });
    }
  });

  it("forceUpdate is accepted and updates", async () => {
    const { store } = await tempStore();
    const node = new ScriptedNode({ series: "force" });
    node.script = [{ time_index: D1, value: 1 }];
    const result = await node.run({ store, forceUpdate: true, debugMode: true });
    expect(result.nodes[0]!.status).toBe("updated");
    expect((await node.getDfBetweenDates()).length).toBe(1);
  });
});

describe("run(): updateTree", () => {
  it("updateTree: false updates only the root", async () => {
    const { store } = await tempStore();
    const dep = new ScriptedNode({ series: "tree_dep" });
    dep.script = [{ time_index: D1, value: 1 }];
    const root = new ScriptedNode({ series: "tree_root" });
    root.deps = { dep };
    root.script = [{ time_index: D1, value: 2 }];

    const only = await root.run({ store, updateTree: false });
    expect(dep.calls).toBe(0);
    expect(root.calls).toBe(1);
    expect(only.nodes.map((n) => n.updateHash)).toEqual([root.updateHash]);
    expect((await snapshotTable(store, dep.storageHash))!.rows).toEqual([]);
    expect((await snapshotTable(store, root.storageHash))!.rows).toHaveLength(1);
    // the edge is still recorded
    expect(await store.listDependencies(await updaterUid(store, root))).toEqual([
      { kind: "updater", uid: await updaterUid(store, dep) },
    ]);

    const full = await root.run({ store });
    expect(dep.calls).toBe(1);
    expect(full.nodes.map((n) => [n.updateHash, n.status])).toEqual([
      [dep.updateHash, "updated"],
      [root.updateHash, "nothing_new"],
    ]);
  });

  it("a dependency's rows are committed before its dependent's update() reads them", async () => {
    const { store } = await tempStore();
    const dep = new ScriptedNode({ series: "upstream" });
    dep.script = [
      { time_index: D1, value: 1 },
      { time_index: D2, value: 2 },
    ];
    const root = new ScriptedNode({ series: "downstream" });
    root.deps = { dep };
    root.script = async (_ctx: UpdateContext) => {
      const upstream = await dep.getDfBetweenDates();
      return upstream.toRecords().map((r) => ({
        time_index: r.time_index,
        doubled: (r.value as number) * 2,
      }));
    };
    await root.run({ store });
    expect(rows(await root.getDfBetweenDates())).toEqual([
      { time_index: D1, doubled: 2 },
      { time_index: D2, doubled: 4 },
    ]);
  });
});

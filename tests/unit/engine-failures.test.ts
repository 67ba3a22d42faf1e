import { describe, expect, it } from "vitest";
import {
  FrameValidationError,
  RunError,
  StoreError,
  TdagError,
  UnknownAssetError,
} from "../../src/errors.js";
import { Frame, type FrameInput } from "../../src/frame/frame.js";
import { Asset } from "../../src/node/asset.js";
import type { ColumnMetadata, DataStore } from "../../src/store/data-store.js";
import type { DuckDBStore } from "../../src/store/duckdb/index.js";
import { configure } from "../../src/store/store-registry.js";
import { assetPayload, ScriptedNode, updaterUid } from "../helpers/nodes.js";
import {
  rejectionOf,
  rows,
  silentLogger,
  snapshotTable,
  type TableSnapshot,
  tempStore,
} from "../helpers/temp-store.js";

configure({ logger: silentLogger });

const D1 = "2024-01-01T00:00:00Z";
const D2 = "2024-01-02T00:00:00Z";
const D3 = "2024-01-03T00:00:00Z";

/** Every table of a store: statistics and rows, keyed by storage hash. */
async function snapshotAll(store: DataStore): Promise<Record<string, TableSnapshot | null>> {
  const out: Record<string, TableSnapshot | null> = {};
  for (const storage of await store.listStorages()) {
    out[storage.storageHash] = await snapshotTable(store, storage.storageHash);
  }
  return out;
}

interface World {
  readonly store: DuckDBStore;
  /** A 2-D table with data, depended upon by `target`. */
  readonly other: ScriptedNode;
  /** The node that will fail; it already has rows for AAA and BBB on D1..D2. */
  readonly target: ScriptedNode;
  /** Set to make the next write fail just before COMMIT. */
  failCommit: boolean;
}

/** A store with two populated 2-D tables; `target` depends on `other`. */
async function world(): Promise<World> {
  const state = { failCommit: false };
  const { store } = await tempStore({
    testHooks: {
      beforeCommit: () => {
        if (state.failCommit) throw new Error("disk full (injected)");
      },
    },
  });
  await Asset.batchGetOrRegisterCustomAssets(assetPayload(["AAA", "BBB", "CCC"]), { store });
  const other = new ScriptedNode({ series: "other" });
  other.script = [
    { time_index: D1, unique_identifier: "CCC", px: 1 },
    { time_index: D2, unique_identifier: "CCC", px: 2 },
  ];
  const target = new ScriptedNode({ series: "target" });
  target.deps = { other };
  target.script = [
    { time_index: D1, unique_identifier: "AAA", px: 10 },
    { time_index: D2, unique_identifier: "AAA", px: 11 },
    { time_index: D1, unique_identifier: "BBB", px: 20 },
  ];
  await target.run({ store });
  // the next run of `other` has nothing new
  other.script = [];
  return Object.assign(state, { store, other, target });
}

const goodRows = [
  { time_index: D3, unique_identifier: "AAA", px: 12 },
  { time_index: D2, unique_identifier: "BBB", px: 21 },
];

const failures: [
  string,
  (w: World) => FrameInput | Promise<FrameInput>,
  (cause: unknown) => void,
][] = [
  [
    "update() throws",
    () => {
      throw new Error("upstream API down");
    },
    (cause) => expect((cause as Error).message).toBe("upstream API down"),
  ],
  [
    "an uppercase column",
    () => goodRows.map((r) => ({ ...r, Close: 1 })),
    (cause) => expectIssue(cause, "uppercase_column"),
  ],
  [
    "a naive time index",
    () => [{ time_index: "2024-01-03T00:00:00", unique_identifier: "AAA", px: 1 }],
    (cause) => expect(cause).toBeInstanceOf(FrameValidationError),
  ],
  [
    "duplicate index keys",
    () => [...goodRows, { time_index: D3, unique_identifier: "AAA", px: 99 }],
    (cause) => expectIssue(cause, "duplicate_index"),
  ],
  [
    "a datetime value column",
    () => goodRows.map((r) => ({ ...r, traded_at: new Date(D3) })),
    (cause) => expectIssue(cause, "datetime_value_column"),
  ],
  [
    "unregistered assets",
    () => [
      ...goodRows,
      { time_index: D3, unique_identifier: "ZZZ", px: 1 },
      { time_index: D3, unique_identifier: "YYY", px: 1 },
    ],
    (cause) => {
      expect(cause).toBeInstanceOf(UnknownAssetError);
      expect([...(cause as UnknownAssetError).identifiers].sort()).toEqual(["YYY", "ZZZ"]);
      expect((cause as Error).message).toMatch(/ZZZ/);
      expect((cause as Error).message).toMatch(/batchGetOrRegisterCustomAssets/);
    },
  ],
  [
    "a failure inside the write transaction (with a new column)",
    (w) => {
      w.failCommit = true;
      return goodRows.map((r) => ({ ...r, volume: 5 }));
    },
    (cause) => {
      expect(cause).toBeInstanceOf(StoreError);
      expect((cause as Error).message).toContain("disk full (injected)");
    },
  ],
];

function expectIssue(cause: unknown, code: string): void {
  expect(cause).toBeInstanceOf(FrameValidationError);
  expect((cause as FrameValidationError).issues.map((i) => i.code)).toContain(code);
}

describe("a failed run leaves every table as it was", () => {
  it.each(failures)("%s", async (_name, script, checkCause) => {
    const w = await world();
    const { store, target } = w;
    const before = await snapshotAll(store);
    const schemaBefore = (await store.findStorage({ storageHash: target.storageHash }))!.schema;
    const runsBefore = await store.listRuns(await updaterUid(store, target));
    target.script = () => script(w);

    const err = await rejectionOf(target.run({ store }));
    w.failCommit = false;

    expect(err).toBeInstanceOf(RunError);
    const runError = err as RunError;
    expect(runError.code).toBe("run_failed");
    expect(runError.updateHash).toBe(target.updateHash);
    checkCause(runError.cause);
    expect(runError.message).toContain(target.updateHash);

    // data, statistics and schema untouched, for every table
    expect(await snapshotAll(store)).toEqual(before);
    expect((await store.findStorage({ storageHash: target.storageHash }))!.schema).toEqual(
      schemaBefore,
    );

    // the run record is closed as errored with the message
    const runs = await store.listRuns(await updaterUid(store, target));
    expect(runs).toHaveLength(runsBefore.length + 1);
    expect(runs[0]!.error).toBe(true);
    expect(runs[0]!.endedAt).not.toBeNull();
    expect(runs[0]!.errorMessage).toContain((runError.cause as Error).message.split("\n")[0]!);

    // and the store is still usable: a good run after the failure writes
    target.script = goodRows;
    const ok = await target.run({ store });
    expect(ok.nodes.at(-1)).toMatchObject({ status: "updated", rowsWritten: 2 });
  });
});

describe("errors: throwOnError, RunError and skipped dependents", () => {
  it("keeps the original error as cause", async () => {
    const { store } = await tempStore();
    const node = new ScriptedNode({ series: "cause" });
    const boom = new TypeError("boom");
    node.script = () => {
      throw boom;
    };
    const err = await rejectionOf(node.run({ store }));
    expect(err).toBeInstanceOf(RunError);
    expect(err).toBeInstanceOf(TdagError);
    expect((err as RunError).cause).toBe(boom);
    expect((err as RunError).message).toContain("boom");
    const runs = await store.listRuns(await updaterUid(store, node));
    expect(runs[0]).toMatchObject({ error: true });
    expect(runs[0]!.errorMessage).toContain("boom");
  });

  it("throwOnError: false resolves { error: RunError, df: null } with a failed summary", async () => {
    const { store } = await tempStore();
    const node = new ScriptedNode({ series: "no_throw" });
    const boom = new Error("boom");
    node.script = () => {
      throw boom;
    };
    const result = await node.run({ store, throwOnError: false });
    expect(result.error).toBeInstanceOf(RunError);
    expect((result.error as RunError).code).toBe("run_failed");
    expect((result.error as RunError).cause).toBe(boom);
    expect(result.df).toBeNull();
    expect(result.nodes).toHaveLength(1);
    expect(result.nodes[0]).toMatchObject({
      updateHash: node.updateHash,
      status: "failed",
      rowsWritten: 0,
    });
    expect(result.nodes[0]!.error).toContain("boom");
  });

  it("a failing dependency skips its dependents, which write nothing", async () => {
    const { store } = await tempStore();
    const bad = new ScriptedNode({ series: "bad_dep" });
    const good = new ScriptedNode({ series: "good_dep" });
    const root = new ScriptedNode({ series: "root" });
    const top = new ScriptedNode({ series: "top" });
    root.deps = { bad, good };
    top.deps = { root };
    bad.script = [{ time_index: D1, v: 1 }];
    good.script = [{ time_index: D1, v: 1 }];
    root.script = [{ time_index: D1, v: 1 }];
    top.script = [{ time_index: D1, v: 1 }];
    await top.run({ store });

    bad.script = () => {
      throw new Error("bad dependency");
    };
    good.script = [{ time_index: D2, v: 2 }];
    root.script = [{ time_index: D2, v: 2 }];
    top.script = [{ time_index: D2, v: 2 }];
    const result = await top.run({ store, throwOnError: false });

    expect(result.error).toBeInstanceOf(RunError);
    expect((result.error as RunError).updateHash).toBe(bad.updateHash);
    expect(result.nodes.map((n) => [n.updateHash, n.status])).toEqual([
      [bad.updateHash, "failed"],
      [good.updateHash, "updated"],
      [root.updateHash, "skipped"],
      [top.updateHash, "skipped"],
    ]);
    expect([root.calls, top.calls]).toEqual([1, 1]);
    for (const node of [root, top]) {
      expect((await snapshotTable(store, node.storageHash))!.rows).toEqual([
        { time_index: D1, v: 1 },
      ]);
      // a skipped node gets no run record
      expect(await store.listRuns(await updaterUid(store, node))).toHaveLength(1);
    }
    expect((await snapshotTable(store, good.storageHash))!.rows).toHaveLength(2);

    // rejects by default, naming the failed node
    const err = await rejectionOf(top.run({ store }));
    expect((err as RunError).updateHash).toBe(bad.updateHash);
    expect((err as RunError).message).toContain("bad dependency");
  });
});

describe("assets", () => {
  it("registered assets pass and are written", async () => {
    const { store } = await tempStore();
    await Asset.batchGetOrRegisterCustomAssets(assetPayload(["R1", "R2"]), { store });
    const node = new ScriptedNode({ series: "registered" });
    node.script = [
      { time_index: D1, unique_identifier: "R1", px: 1 },
      { time_index: D1, unique_identifier: "R2", px: 2 },
    ];
    await node.run({ store });
    expect(rows(await node.getDfBetweenDates())).toEqual([
      { time_index: D1, unique_identifier: "R1", px: 1 },
      { time_index: D1, unique_identifier: "R2", px: 2 },
    ]);
  });

  it("unknown assets fail a first run: UnknownAssetError listing them, no table created", async () => {
    const { store } = await tempStore();
    await Asset.batchGetOrRegisterCustomAssets(assetPayload(["R1"]), { store });
    const node = new ScriptedNode({ series: "unknown" });
    node.script = [
      { time_index: D1, unique_identifier: "R1", px: 1 },
      { time_index: D1, unique_identifier: "NOPE", px: 2 },
    ];
    const err = await rejectionOf(node.run({ store }));
    const cause = (err as RunError).cause as UnknownAssetError;
    expect(cause).toBeInstanceOf(UnknownAssetError);
    expect(cause.code).toBe("unknown_asset");
    expect(cause.identifiers).toEqual(["NOPE"]);
    const storage = await store.findStorage({ storageHash: node.storageHash });
    expect(storage!.schema).toBeNull();
    expect((await store.getTableStatistics(storage!.uid)).globalIndexProgress).toBeNull();
  });

  it("1-D tables are not checked against assets", async () => {
    const { store } = await tempStore();
    const node = new ScriptedNode({ series: "one_d" });
    node.script = [{ time_index: D1, symbol: "NOT_AN_ASSET", px: 1 }];
    await node.run({ store });
    expect((await node.getDfBetweenDates()).length).toBe(1);
  });
});

describe("cancellation", () => {
  it("an abort during update() rejects and writes nothing", async () => {
    const { store } = await tempStore();
    const controller = new AbortController();
    const node = new ScriptedNode({ series: "abort_in_update" });
    node.script = [{ time_index: D1, v: 1 }];
    await node.run({ store });
    const before = await snapshotTable(store, node.storageHash);

    let sawSignal: AbortSignal | undefined;
    node.script = ({ signal }) => {
      sawSignal = signal;
      controller.abort(new Error("user cancelled"));
      return [{ time_index: D2, v: 2 }];
    };
    const err = await rejectionOf(node.run({ store, signal: controller.signal }));
    expect(sawSignal).toBe(controller.signal);
    expect(err).toBeInstanceOf(RunError);
    expect(((err as RunError).cause as Error).message).toBe("user cancelled");
    expect(await snapshotTable(store, node.storageHash)).toEqual(before);
    expect((await store.listRuns(await updaterUid(store, node)))[0]!.error).toBe(true);
  });

  it("an abort between nodes stops the run: run_aborted, dependents skipped and unwritten", async () => {
    const { store } = await tempStore();
    const controller = new AbortController();
    class AbortsAfterUpdate extends ScriptedNode {
      // called after the node's own write: the abort lands between two nodes
      override getColumnMetadata(): readonly ColumnMetadata[] | null {
        controller.abort();
        return null;
      }
    }
    const dep = new AbortsAfterUpdate({ series: "first_step" });
    dep.script = [{ time_index: D1, v: 1 }];
    const root = new ScriptedNode({ series: "second_step" });
    root.deps = { dep };
    root.script = [{ time_index: D1, v: 2 }];

    const result = await root.run({ store, signal: controller.signal, throwOnError: false });
    expect(result.error).toBeInstanceOf(RunError);
    expect((result.error as RunError).code).toBe("run_aborted");
    expect(result.df).toBeNull();
    expect(result.nodes.map((n) => n.status)).toEqual(["updated", "skipped"]);
    expect(root.calls).toBe(0);
    expect((await snapshotTable(store, root.storageHash))!.rows).toEqual([]);
    expect((await snapshotTable(store, dep.storageHash))!.rows).toHaveLength(1);

    await expect(root.run({ store, signal: controller.signal })).rejects.toMatchObject({
      code: "run_aborted",
    });
  });

  it("an already aborted signal runs nothing", async () => {
    const { store } = await tempStore();
    const node = new ScriptedNode({ series: "pre_aborted" });
    node.script = [{ time_index: D1, v: 1 }];
    const err = await rejectionOf(node.run({ store, signal: AbortSignal.abort() }));
    expect((err as RunError).code).toBe("run_aborted");
    expect(node.calls).toBe(0);
    expect(await store.listRuns(await updaterUid(store, node))).toEqual([]);
    expect((await snapshotTable(store, node.storageHash))!.rows).toEqual([]);
  });

  it("an abort landing during the last commit: the write is whole and the run says so", async () => {
    const controller = new AbortController();
    const { store } = await tempStore({
      testHooks: {
        beforeCommit: () => {
          controller.abort();
        },
      },
    });
    const node = new ScriptedNode({ series: "abort_in_write" });
    node.script = Frame.fromColumns({
      time_index: Array.from(
        { length: 500 },
        (_, i) => new Date(Date.UTC(2024, 0, 1) + i * 60_000),
      ),
      v: Array.from({ length: 500 }, (_, i) => i),
    });
    const result = await node.run({ store, signal: controller.signal, throwOnError: false });
    expect(controller.signal.aborted).toBe(true);
    const written = (await snapshotTable(store, node.storageHash))!.rows.length;
    const [run] = await store.listRuns(await updaterUid(store, node));
    // never partial, and the result agrees with the table and the run record
    if (result.error) {
      expect(written).toBe(0);
      expect(run!.error).toBe(true);
    } else {
      expect(written).toBe(500);
      expect(run).toMatchObject({ error: false, rowsWritten: 500 });
      expect(result.nodes[0]).toMatchObject({ status: "updated", rowsWritten: 500 });
    }
  });
});

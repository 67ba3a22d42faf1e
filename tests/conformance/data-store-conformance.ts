import { afterEach, beforeEach, describe, expect, it, type TestContext } from "vitest";
import { NotFoundError, StoreError } from "../../src/errors.js";
import type { DType } from "../../src/frame/dtypes.js";
import { Frame, type FrameRecord } from "../../src/frame/frame.js";
import { toEpochMicros } from "../../src/frame/time.js";
import { configureSearch } from "../../src/search/search-config.js";
import type {
  DataStore,
  StorageRecord,
  StoreCapability,
  TableSchema,
  TableStatistics,
  UpdaterRecord,
  WriteOptions,
  WriteResult,
} from "../../src/store/data-store.js";
import { STORE_CAPABILITIES } from "../../src/store/store-types.js";

/** What a store's conformance run provides per test: a fresh, empty store and its cleanup. */
export interface ConformanceFixture {
  readonly store: DataStore;
  /**
   * Another instance of the same store over the same data (the first may be closed by the
   * call): proves that nothing a test relies on lives in one instance's memory.
   */
  reopen(): Promise<DataStore>;
  cleanup(): Promise<void>;
}

/**
 * A test that needs a store capability: it runs when the store declares the capability and is
 * skipped, naming the capability, when the store declares it lacks it (the suite skips by
 * capability, never by test name).
 */
function capabilityTest(
  capability: StoreCapability,
  store: () => DataStore,
): (title: string, body: () => Promise<void>) => void {
  return (title, body) => {
    it(`${title} [capability ${capability}]`, async (ctx: TestContext) => {
      ctx.skip(
        !store().capabilities[capability],
        `${store().description} declares it lacks ${capability}`,
      );
      await body();
    });
  };
}

/** ISO text → epoch micros. */
const T = (iso: string): number => toEpochMicros(iso);
const DAY = 86_400_000_000;
const D0 = T("2024-01-01T00:00:00Z");

let hashCounter = 0;
function uniqueHash(prefix: string): string {
  hashCounter += 1;
  return `${prefix}_${process.pid}_${hashCounter}_${Math.random().toString(36).slice(2, 8)}`;
}

async function register(store: DataStore, prefix = "table"): Promise<StorageRecord> {
  return store.registerStorage({
    storageHash: uniqueHash(prefix),
    namespace: null,
    buildConfiguration: { prefix },
    sourceClassName: "ConformanceNode",
  });
}

/** Registers an updater (a job identity) writing the given storage. */
async function updaterOf(
  store: DataStore,
  storage: StorageRecord,
  prefix = "u",
): Promise<UpdaterRecord> {
  return store.registerUpdater({
    updateHash: uniqueHash(prefix),
    storageHash: storage.storageHash,
    buildConfiguration: {},
    namespace: null,
  });
}

/** Rows of a 2-D price table: `days` days × the given assets, close = day * 10 + asset position. */
function priceRecords(days: number, assets: readonly string[], start = D0): FrameRecord[] {
  const rows: FrameRecord[] = [];
  for (let d = 0; d < days; d++) {
    assets.forEach((asset, i) => {
      rows.push({
        time_index: new Date((start + d * DAY) / 1000),
        unique_identifier: asset,
        close: d * 10 + i,
        volume: d * 100 + i,
      });
    });
  }
  return rows;
}

function priceFrame(days: number, assets: readonly string[], start = D0): Frame {
  return Frame.fromRecords(priceRecords(days, assets, start), {
    indexNames: ["time_index", "unique_identifier"],
    dtypes: { close: "float64", volume: "int64" },
  });
}

const PRICE_SCHEMA: TableSchema = {
  timeIndexName: "time_index",
  indexNames: ["time_index", "unique_identifier"],
  columnDtypes: {
    time_index: "timestamptz",
    unique_identifier: "string",
    close: "float64",
    volume: "int64",
  },
};

/** `[iso time, unique_identifier]` pairs of a frame, for compact assertions. */
function keys(frame: Frame): string[] {
  return frame.toRecords({ time: "iso" }).map((r) => {
    const dims = frame.identityDimensions.map((d) => String(r[d]));
    return [String(r[frame.timeIndexName]).slice(0, 10), ...dims].join("|");
  });
}

async function expectStoreError(promise: Promise<unknown>, code: string): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected a StoreError with code ${code}`).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
  return error as StoreError;
}

function expectEmptyStatistics(stats: TableStatistics): void {
  expect(stats.globalIndexProgress).toBeNull();
  expect(stats.indexProgress).toBeNull();
  expect(stats.indexMin).toBeNull();
  expect(stats.multiIndexColumnStats).toBeNull();
}

/**
 * The one suite every {@link DataStore} passes (embedded DuckDB, the remote store against the
 * local server, PostgreSQL). `factory` gives a fresh empty store per test; a store skips what it
 * cannot do by test name, with a reason.
 *
 * @example
 * ```ts
 * describeDataStoreConformance("duckdb", async () => {
 *   const store = await DuckDBStore.open({ path: tmpFile() });
 *   return { store, cleanup: () => store.close() };
 * });
 * ```
 */
export function describeDataStoreConformance(
  name: string,
  factory: () => Promise<ConformanceFixture>,
): void {
  describe(`DataStore conformance: ${name}`, () => {
    let fixture: ConformanceFixture | undefined;
    let current: DataStore | undefined;
    /** One updater per storage, registered the first time a test writes to it. */
    let writers = new Map<string, Promise<string>>();
    const store = (): DataStore => current ?? fixture!.store;

    beforeEach(async () => {
      fixture = await factory();
      current = undefined;
      writers = new Map();
    });
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    /**
     * Writes through an updater of the storage, as the contract requires (every write goes
     * through an updater, as on the platform): registers one writer updater per storage.
     */
    async function write(
      storageUid: string,
      frame: Frame,
      options: Omit<WriteOptions, "updaterUid"> = {},
    ): Promise<WriteResult> {
      let writer = writers.get(storageUid);
      if (!writer) {
        writer = (async () => {
          const storage = await store().findStorage({ uid: storageUid });
          const updater = await store().registerUpdater({
            updateHash: uniqueHash("writer"),
            storageHash: storage!.storageHash,
            buildConfiguration: { writer: true },
            namespace: storage!.namespace,
          });
          return updater.uid;
        })();
        writers.set(storageUid, writer);
      }
      return store().writeFrame(storageUid, frame, { ...options, updaterUid: await writer });
    }

    const test = it;
    const withCapability = (capability: StoreCapability) => capabilityTest(capability, store);

    test("declares its kind and every capability as a boolean", async () => {
      expect(typeof store().kind).toBe("string");
      expect(store().description).toMatch(new RegExp(`^${store().kind}:`));
      expect(store().projectUid === null || typeof store().projectUid === "string").toBe(true);
      expect(Object.keys(store().capabilities).sort()).toEqual([...STORE_CAPABILITIES].sort());
      for (const capability of STORE_CAPABILITIES) {
        expect(typeof store().capabilities[capability]).toBe("boolean");
      }
    });

    // ------------------------------------------------------------ registration

    describe("registration", () => {
      test("registerStorage is idempotent by storageHash and does not overwrite", async () => {
        const hash = uniqueHash("idem");
        const first = await store().registerStorage({
          storageHash: hash,
          namespace: "ns",
          buildConfiguration: { window: 5, nested: { a: [1, 2] } },
          sourceClassName: "First",
        });
        const second = await store().registerStorage({
          storageHash: hash,
          namespace: "other",
          buildConfiguration: { window: 99 },
          sourceClassName: "Second",
          openToPublic: true,
        });
        expect(second.uid).toBe(first.uid);
        expect(second.namespace).toBe("ns");
        expect(second.sourceClassName).toBe("First");
        expect(second.buildConfiguration).toEqual({ window: 5, nested: { a: [1, 2] } });
        expect(second.openToPublic).toBe(false);
        expect(first.schema).toBeNull();
        expect(first.identifier).toBeNull();
        expect(first.createdAt).toBeInstanceOf(Date);
        expect((await store().findStorage({ storageHash: hash }))?.uid).toBe(first.uid);
        expect((await store().findStorage({ uid: first.uid }))?.storageHash).toBe(hash);
      });

      test("registerUpdater is idempotent and attached to its storage", async () => {
        const storage = await register(store());
        const input = {
          updateHash: uniqueHash("upd"),
          storageHash: storage.storageHash,
          buildConfiguration: { x: 1 },
          namespace: null,
          projectUid: "proj-1",
        };
        const first = await store().registerUpdater(input);
        const second = await store().registerUpdater({ ...input, buildConfiguration: { x: 2 } });
        expect(second.uid).toBe(first.uid);
        expect(second.buildConfiguration).toEqual({ x: 1 });
        expect(first.storageUid).toBe(storage.uid);
        expect(first.storageHash).toBe(storage.storageHash);
        expect(first.namespace).toBeNull();
        expect((await store().findUpdater({ updateHash: input.updateHash }))?.uid).toBe(first.uid);
        expect((await store().findUpdater({ uid: first.uid }))?.updateHash).toBe(input.updateHash);
      });

      test("registerUpdater for an unknown storage hash throws NotFoundError", async () => {
        await expect(
          store().registerUpdater({
            updateHash: uniqueHash("upd"),
            storageHash: "no_such_storage",
            buildConfiguration: {},
            namespace: null,
          }),
        ).rejects.toBeInstanceOf(NotFoundError);
      });

      test("lookups of unknown keys return null", async () => {
        expect(
          await store().findStorage({ uid: "00000000-0000-0000-0000-000000000000" }),
        ).toBeNull();
        expect(await store().findStorage({ storageHash: "missing" })).toBeNull();
        expect(await store().findStorage({ identifier: "missing" })).toBeNull();
        expect(await store().findUpdater({ updateHash: "missing" })).toBeNull();
        expect(
          await store().findUpdater({ uid: "00000000-0000-0000-0000-000000000000" }),
        ).toBeNull();
      });

      withCapability("listUpdaters")(
        "listUpdaters lists the updaters of one storage, oldest first",
        async () => {
          const s = await register(store());
          const other = await register(store(), "other");
          const a = await updaterOf(store(), s, "a");
          const b = await updaterOf(store(), s, "b");
          await updaterOf(store(), other, "c");
          expect((await store().listUpdaters(s.uid)).map((u) => u.uid)).toEqual([a.uid, b.uid]);
          expect(await store().listUpdaters((await register(store(), "none")).uid)).toEqual([]);
          await expect(
            store().listUpdaters("00000000-0000-0000-0000-000000000000"),
          ).rejects.toBeInstanceOf(NotFoundError);
        },
      );

      test("a store without listUpdaters says so and rejects it with unsupported_capability", async () => {
        const s = await register(store());
        if (store().capabilities.listUpdaters) return;
        const error = await expectStoreError(store().listUpdaters(s.uid), "unsupported_capability");
        expect(error.message).toContain("listUpdaters");
      });

      test("deleteStorage removes the storage, its table, updaters and edges; others stay", async () => {
        const s = await register(store());
        const kept = await register(store(), "kept");
        await write(s.uid, priceFrame(2, ["A"]));
        await write(kept.uid, priceFrame(2, ["A"]));
        const reader = await updaterOf(store(), kept, "reader");
        await store().linkDependency(reader.uid, { kind: "storage", uid: s.uid });
        const u = await updaterOf(store(), s, "u");
        await store().linkDependency(reader.uid, { kind: "updater", uid: u.uid });
        await store().deleteStorage(s.uid);
        expect(await store().findStorage({ uid: s.uid })).toBeNull();
        expect(await store().findStorage({ storageHash: s.storageHash })).toBeNull();
        expect(await store().findUpdater({ uid: u.uid })).toBeNull();
        expect(await store().listDependencies(reader.uid)).toEqual([]);
        expect((await store().readFrame(kept.uid)).length).toBe(2);
        await expect(store().readFrame(s.uid)).rejects.toBeInstanceOf(NotFoundError);
        await expect(store().deleteStorage(s.uid)).rejects.toBeInstanceOf(NotFoundError);
        // The hash is free again: a new storage under it starts empty.
        const again = await store().registerStorage({
          storageHash: s.storageHash,
          namespace: s.namespace,
          buildConfiguration: {},
          sourceClassName: "Again",
        });
        expect(again.uid).not.toBe(s.uid);
        expect(again.schema).toBeNull();
      });

      test("listStorages lists every storage", async () => {
        const a = await register(store(), "a");
        const b = await register(store(), "b");
        const uids = (await store().listStorages()).map((s) => s.uid);
        expect(uids).toEqual(expect.arrayContaining([a.uid, b.uid]));
      });
    });

    // ------------------------------------------------------------ edges

    describe("dependencies", () => {
      test("linkDependency is idempotent and listDependencies returns direct edges", async () => {
        const s1 = await register(store());
        const s2 = await register(store());
        const api = await register(store(), "api");
        const u1 = await updaterOf(store(), s1, "u1");
        const u2 = await updaterOf(store(), s2, "u2");
        expect(await store().listDependencies(u1.uid)).toEqual([]);
        await store().linkDependency(u1.uid, { kind: "updater", uid: u2.uid });
        await store().linkDependency(u1.uid, { kind: "updater", uid: u2.uid });
        await store().linkDependency(u1.uid, { kind: "storage", uid: api.uid });
        const deps = await store().listDependencies(u1.uid);
        expect(deps).toHaveLength(2);
        expect(deps).toEqual(
          expect.arrayContaining([
            { kind: "updater", uid: u2.uid },
            { kind: "storage", uid: api.uid },
          ]),
        );
        expect(await store().listDependencies(u2.uid)).toEqual([]);
      });

      test("linkDependency with an unknown updater throws NotFoundError", async () => {
        const s = await register(store());
        await expect(
          store().linkDependency("00000000-0000-0000-0000-000000000000", {
            kind: "storage",
            uid: s.uid,
          }),
        ).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    // ------------------------------------------------------------ runs

    describe("runs", () => {
      test("openRun says an update is due and carries the table statistics", async () => {
        const s = await register(store());
        const u = await updaterOf(store(), s, "u");
        const run = await store().openRun(u.uid);
        expect(run.mustUpdate).toBe(true);
        expect(run.updaterUid).toBe(u.uid);
        expect(run.startedAt).toBeInstanceOf(Date);
        expectEmptyStatistics(run.statistics);
        await write(s.uid, priceFrame(2, ["A"]));
        const next = await store().openRun(u.uid);
        expect(next.uid).not.toBe(run.uid);
        expect(next.statistics.globalIndexProgress).toEqual({ min: D0, max: D0 + DAY });
        expect(next.statistics.indexProgress).toEqual({ A: D0 + DAY });
      });

      withCapability("listRuns")(
        "closeRun records the outcome and listRuns returns runs newest first",
        async () => {
          const s = await register(store());
          const u = await updaterOf(store(), s, "u");
          const r1 = await store().openRun(u.uid);
          await store().closeRun(r1, { error: false, rowsWritten: 10 });
          const r2 = await store().openRun(u.uid);
          await store().closeRun(r2, { error: true, errorMessage: "boom" });
          const r3 = await store().openRun(u.uid);
          const runs = await store().listRuns(u.uid);
          expect(runs.map((r) => r.uid)).toEqual([r3.uid, r2.uid, r1.uid]);
          expect(runs[0]).toMatchObject({ endedAt: null, error: null, errorMessage: null });
          expect(runs[1]).toMatchObject({ error: true, errorMessage: "boom" });
          expect(runs[1]?.endedAt).toBeInstanceOf(Date);
          expect(runs[2]).toMatchObject({ error: false, rowsWritten: 10 });
          expect((await store().listRuns(u.uid, { limit: 2 })).map((r) => r.uid)).toEqual([
            r3.uid,
            r2.uid,
          ]);
        },
      );

      test("a store without listRuns says so and rejects listRuns with unsupported_capability", async () => {
        const s = await register(store());
        const u = await updaterOf(store(), s, "u");
        if (store().capabilities.listRuns) {
          expect(await store().listRuns(u.uid)).toEqual([]);
          return;
        }
        const error = await expectStoreError(store().listRuns(u.uid), "unsupported_capability");
        expect(error.message).toContain("listRuns");
      });

      test("a run opened by one store instance is closed by another", async () => {
        const s = await register(store());
        const u = await updaterOf(store(), s, "u");
        const run = await store().openRun(u.uid);
        current = await fixture!.reopen();
        // Only the run's uid and its updater cross over: nothing of the first instance's memory.
        await store().closeRun({ uid: run.uid, updaterUid: run.updaterUid }, { error: false });
        if (store().capabilities.listRuns) {
          const [last] = await store().listRuns(u.uid, { limit: 1 });
          expect(last).toMatchObject({ uid: run.uid, error: false });
          expect(last?.endedAt).toBeInstanceOf(Date);
        }
        const next = await store().openRun(u.uid);
        expect(next.uid).not.toBe(run.uid);
      });

      test("closeRun of an unknown run throws NotFoundError", async () => {
        const s = await register(store());
        const u = await updaterOf(store(), s, "u");
        await expect(
          store().closeRun(
            { uid: "00000000-0000-0000-0000-000000000000", updaterUid: u.uid },
            { error: false },
          ),
        ).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    // ------------------------------------------------------------ schema

    describe("table schema", () => {
      test("ensureTableSchema creates the table and records the schema", async () => {
        const s = await register(store());
        const schema = await store().ensureTableSchema(s.uid, PRICE_SCHEMA);
        expect(schema).toEqual(PRICE_SCHEMA);
        expect((await store().findStorage({ uid: s.uid }))?.schema).toEqual(PRICE_SCHEMA);
        const empty = await store().readFrame(s.uid);
        expect(empty.length).toBe(0);
        expect(empty.indexNames).toEqual(["time_index", "unique_identifier"]);
        expect(await store().ensureTableSchema(s.uid, PRICE_SCHEMA)).toEqual(PRICE_SCHEMA);
      });

      test("ensureTableSchema adds new columns", async () => {
        const s = await register(store());
        await write(s.uid, priceFrame(1, ["A"]), { schema: PRICE_SCHEMA });
        const extended = await store().ensureTableSchema(s.uid, {
          ...PRICE_SCHEMA,
          columnDtypes: { ...PRICE_SCHEMA.columnDtypes, note: "string" },
        });
        expect(extended.columnDtypes["note"]).toBe("string");
        expect(extended.columnDtypes["close"]).toBe("float64");
        const back = await store().readFrame(s.uid);
        expect(back.column("note")).toEqual([null]);
        await write(
          s.uid,
          Frame.fromRecords(
            [{ time_index: new Date(D0 / 1000), unique_identifier: "A", note: "hello" }],
            { indexNames: ["time_index", "unique_identifier"] },
          ),
        );
        const after = await store().readFrame(s.uid);
        expect(after.toRecords({ time: "micros" })).toEqual([
          { time_index: D0, unique_identifier: "A", close: 0, volume: 0, note: "hello" },
        ]);
      });

      test("ensureTableSchema rejects a dtype conflict naming the column", async () => {
        const s = await register(store());
        await store().ensureTableSchema(s.uid, PRICE_SCHEMA);
        const error = await expectStoreError(
          store().ensureTableSchema(s.uid, {
            ...PRICE_SCHEMA,
            columnDtypes: { ...PRICE_SCHEMA.columnDtypes, close: "string" },
          }),
          "schema_conflict",
        );
        expect(error.message).toContain("close");
        expect((await store().findStorage({ uid: s.uid }))?.schema).toEqual(PRICE_SCHEMA);
      });

      test("ensureTableSchema rejects a different index", async () => {
        const s = await register(store());
        await store().ensureTableSchema(s.uid, PRICE_SCHEMA);
        await expectStoreError(
          store().ensureTableSchema(s.uid, {
            timeIndexName: "time_index",
            indexNames: ["time_index"],
            columnDtypes: { time_index: "timestamptz", close: "float64" },
          }),
          "schema_conflict",
        );
      });
    });

    // ------------------------------------------------------------ writes and statistics

    describe("writes and statistics", () => {
      test("writeFrame inserts a 1-D table and reports its statistics", async () => {
        const s = await register(store());
        const frame = Frame.fromRecords([
          { time_index: "2024-01-02T00:00:00Z", value: 2 },
          { time_index: "2024-01-01T00:00:00Z", value: 1 },
          { time_index: "2024-01-03T00:00:00Z", value: 3 },
        ]);
        const result = await write(s.uid, frame);
        expect(result.rowsWritten).toBe(3);
        expect(result.statistics.globalIndexProgress).toEqual({ min: D0, max: D0 + 2 * DAY });
        expect(result.statistics.indexProgress).toEqual({});
        expect(result.statistics.indexMin).toEqual({});
        expect(result.statistics.multiIndexColumnStats).toEqual({ value: {} });
        const back = await store().readFrame(s.uid);
        expect(back.indexNames).toEqual(["time_index"]);
        expect(Array.from(back.column("value") as Float64Array)).toEqual([1, 2, 3]);
        expect((await store().findStorage({ uid: s.uid }))?.schema).toEqual({
          timeIndexName: "time_index",
          indexNames: ["time_index"],
          columnDtypes: { time_index: "timestamptz", value: "float64" },
        });
        expect(await store().getTableStatistics(s.uid)).toEqual(result.statistics);
      });

      test("writeFrame upserts: rows with the same index are replaced", async () => {
        const s = await register(store());
        await write(s.uid, priceFrame(3, ["A", "B"]));
        const update = Frame.fromRecords(
          [
            {
              time_index: new Date((D0 + DAY) / 1000),
              unique_identifier: "A",
              close: 111,
              volume: 7,
            },
            {
              time_index: new Date((D0 + DAY) / 1000),
              unique_identifier: "B",
              close: null,
              volume: null,
            },
            {
              time_index: new Date((D0 + 5 * DAY) / 1000),
              unique_identifier: "C",
              close: 5,
              volume: 5,
            },
          ],
          { dtypes: { close: "float64", volume: "int64" } },
        );
        const result = await write(s.uid, update);
        expect(result.rowsWritten).toBe(3);
        const back = await store().readFrame(s.uid);
        expect(back.length).toBe(7);
        const rows = back.toRecords({ time: "micros" });
        expect(
          rows.find((r) => r["time_index"] === D0 + DAY && r["unique_identifier"] === "A"),
        ).toEqual({
          time_index: D0 + DAY,
          unique_identifier: "A",
          close: 111,
          volume: 7,
        });
        expect(
          rows.find((r) => r["time_index"] === D0 + DAY && r["unique_identifier"] === "B"),
        ).toEqual({
          time_index: D0 + DAY,
          unique_identifier: "B",
          close: null,
          volume: null,
        });
        const stats = result.statistics;
        expect(stats.globalIndexProgress).toEqual({ min: D0, max: D0 + 5 * DAY });
        expect(stats.indexProgress).toEqual({ A: D0 + 2 * DAY, B: D0 + 2 * DAY, C: D0 + 5 * DAY });
        expect(stats.indexMin).toEqual({ A: D0, B: D0, C: D0 + 5 * DAY });
        const range = {
          A: { min: D0, max: D0 + 2 * DAY },
          B: { min: D0, max: D0 + 2 * DAY },
          C: { min: D0 + 5 * DAY, max: D0 + 5 * DAY },
        };
        expect(stats.multiIndexColumnStats).toEqual({ close: range, volume: range });
        expect(stats.rowCount === null || stats.rowCount === 7).toBe(true);
      });

      test("statistics of a 3-level index nest per identity dimension", async () => {
        const s = await register(store());
        const frame = Frame.fromRecords(
          [
            { time_index: "2024-01-01T00:00:00Z", account: "acc1", unique_identifier: "A", w: 0.5 },
            { time_index: "2024-01-03T00:00:00Z", account: "acc1", unique_identifier: "A", w: 0.6 },
            { time_index: "2024-01-02T00:00:00Z", account: "acc1", unique_identifier: "B", w: 0.4 },
            { time_index: "2024-01-02T00:00:00Z", account: "acc2", unique_identifier: "A", w: 1 },
          ],
          { indexNames: ["time_index", "account", "unique_identifier"] },
        );
        const { statistics } = await write(s.uid, frame);
        expect(statistics.indexProgress).toEqual({
          acc1: { A: D0 + 2 * DAY, B: D0 + DAY },
          acc2: { A: D0 + DAY },
        });
        expect(statistics.indexMin).toEqual({
          acc1: { A: D0, B: D0 + DAY },
          acc2: { A: D0 + DAY },
        });
        expect(statistics.multiIndexColumnStats).toEqual({
          w: {
            acc1: { A: { min: D0, max: D0 + 2 * DAY }, B: { min: D0 + DAY, max: D0 + DAY } },
            acc2: { A: { min: D0 + DAY, max: D0 + DAY } },
          },
        });
        const back = await store().readFrame(s.uid, {
          indexCoordinates: [{ account: "acc1", unique_identifier: "B" }],
        });
        expect(keys(back)).toEqual(["2024-01-02|acc1|B"]);
      });

      test("writing an empty frame writes nothing", async () => {
        const s = await register(store());
        const result = await write(s.uid, Frame.empty(["time_index", "unique_identifier"]), {
          schema: PRICE_SCHEMA,
        });
        expect(result.rowsWritten).toBe(0);
        expectEmptyStatistics(result.statistics);
        expect((await store().readFrame(s.uid)).length).toBe(0);
      });

      test("statistics of an unwritten storage are empty", async () => {
        const s = await register(store());
        expectEmptyStatistics(await store().getTableStatistics(s.uid));
      });

      test("operations on an unknown storage throw NotFoundError", async () => {
        const uid = "00000000-0000-0000-0000-000000000000";
        await expect(
          store().writeFrame(uid, priceFrame(1, ["A"]), { updaterUid: uid }),
        ).rejects.toBeInstanceOf(NotFoundError);
        await expect(store().readFrame(uid)).rejects.toBeInstanceOf(NotFoundError);
        await expect(store().getTableStatistics(uid)).rejects.toBeInstanceOf(NotFoundError);
        await expect(store().setTableMetadata(uid, { description: "x" })).rejects.toBeInstanceOf(
          NotFoundError,
        );
      });

      test("a write names an updater of the storage it writes to", async () => {
        const s = await register(store());
        const other = await register(store(), "other");
        const foreign = await updaterOf(store(), other, "foreign");
        const error = await expectStoreError(
          store().writeFrame(s.uid, priceFrame(1, ["A"]), { updaterUid: foreign.uid }),
          "invalid_value",
        );
        expect(error.message).toContain(foreign.uid);
        await expect(
          store().writeFrame(s.uid, priceFrame(1, ["A"]), {
            updaterUid: "00000000-0000-0000-0000-000000000000",
          }),
        ).rejects.toBeInstanceOf(NotFoundError);
        expect((await store().findStorage({ uid: s.uid }))?.schema).toBeNull();
        expect((await store().readFrame(s.uid)).length).toBe(0);
      });

      test("concurrent writes queue and all land", async () => {
        const s = await register(store());
        const frames = Array.from({ length: 6 }, (_, i) => priceFrame(2, [`A${i}`]));
        await Promise.all(frames.map((f) => write(s.uid, f)));
        expect((await store().readFrame(s.uid)).length).toBe(12);
        const stats = await store().getTableStatistics(s.uid);
        expect(Object.keys(stats.indexProgress ?? {}).sort()).toEqual([
          "A0",
          "A1",
          "A2",
          "A3",
          "A4",
          "A5",
        ]);
      });
    });

    // ------------------------------------------------------------ atomicity

    describe("atomicity", () => {
      test("a frame with duplicate index keys fails and changes nothing", async () => {
        const s = await register(store());
        await write(s.uid, priceFrame(2, ["A", "B"]));
        const before = await store().readFrame(s.uid);
        const statsBefore = await store().getTableStatistics(s.uid);
        const dup = Frame.fromRecords(
          [
            { time_index: new Date(D0 / 1000), unique_identifier: "A", close: 1, volume: 1 },
            {
              time_index: new Date((D0 + 9 * DAY) / 1000),
              unique_identifier: "Z",
              close: 2,
              volume: 2,
            },
            {
              time_index: new Date((D0 + 9 * DAY) / 1000),
              unique_identifier: "Z",
              close: 3,
              volume: 3,
            },
          ],
          { dtypes: { close: "float64", volume: "int64" } },
        );
        await expectStoreError(write(s.uid, dup), "duplicate_index");
        expect((await store().readFrame(s.uid)).toRecords()).toEqual(before.toRecords());
        expect(await store().getTableStatistics(s.uid)).toEqual(statsBefore);
      });

      test("a frame whose column dtype conflicts fails and changes nothing", async () => {
        const s = await register(store());
        await write(s.uid, priceFrame(2, ["A"]));
        const schemaBefore = (await store().findStorage({ uid: s.uid }))?.schema;
        const statsBefore = await store().getTableStatistics(s.uid);
        const bad = Frame.fromRecords([
          {
            time_index: new Date((D0 + 9 * DAY) / 1000),
            unique_identifier: "A",
            close: "not a number",
            extra: 1,
          },
        ]);
        const error = await expectStoreError(write(s.uid, bad), "schema_conflict");
        expect(error.message).toContain("close");
        expect((await store().findStorage({ uid: s.uid }))?.schema).toEqual(schemaBefore);
        expect((await store().readFrame(s.uid)).columnNames).not.toContain("extra");
        expect(await store().getTableStatistics(s.uid)).toEqual(statsBefore);
      });

      test("a first write that fails leaves no table behind", async () => {
        const s = await register(store());
        const dup = Frame.fromRecords([
          { time_index: "2024-01-01T00:00:00Z", value: 1 },
          { time_index: "2024-01-01T00:00:00Z", value: 2 },
        ]);
        await expectStoreError(write(s.uid, dup), "duplicate_index");
        expect((await store().findStorage({ uid: s.uid }))?.schema).toBeNull();
        expectEmptyStatistics(await store().getTableStatistics(s.uid));
        await write(s.uid, Frame.fromRecords([{ time_index: "2024-01-01T00:00:00Z", value: 1 }]));
        expect((await store().readFrame(s.uid)).length).toBe(1);
      });
    });

    // ------------------------------------------------------------ reads

    describe("reads", () => {
      async function seeded(): Promise<StorageRecord> {
        const s = await register(store());
        await write(s.uid, priceFrame(5, ["A", "B", "C"]));
        return s;
      }

      test("readFrame of a storage without a table is empty", async () => {
        const s = await register(store());
        const frame = await store().readFrame(s.uid);
        expect(frame.length).toBe(0);
        expect((await store().readLastObservation(s.uid)).length).toBe(0);
      });

      test("start and end bounds are inclusive by default", async () => {
        const s = await seeded();
        const frame = await store().readFrame(s.uid, { start: D0 + DAY, end: D0 + 2 * DAY });
        expect(keys(frame)).toEqual([
          "2024-01-02|A",
          "2024-01-02|B",
          "2024-01-02|C",
          "2024-01-03|A",
          "2024-01-03|B",
          "2024-01-03|C",
        ]);
        const open = await store().readFrame(s.uid, { start: D0 + 3 * DAY });
        expect(keys(open)).toHaveLength(6);
        const upTo = await store().readFrame(s.uid, { end: D0 });
        expect(keys(upTo)).toEqual(["2024-01-01|A", "2024-01-01|B", "2024-01-01|C"]);
      });

      test("greatOrEqual and lessOrEqual false make the bounds exclusive", async () => {
        const s = await seeded();
        const frame = await store().readFrame(s.uid, {
          start: D0 + DAY,
          end: D0 + 3 * DAY,
          greatOrEqual: false,
          lessOrEqual: false,
        });
        expect(keys(frame)).toEqual(["2024-01-03|A", "2024-01-03|B", "2024-01-03|C"]);
        const mixed = await store().readFrame(s.uid, {
          start: D0 + DAY,
          end: D0 + 2 * DAY,
          greatOrEqual: true,
          lessOrEqual: false,
        });
        expect(keys(mixed)).toEqual(["2024-01-02|A", "2024-01-02|B", "2024-01-02|C"]);
      });

      test("dimensionFilters select values per dimension", async () => {
        const s = await seeded();
        const frame = await store().readFrame(s.uid, {
          end: D0 + DAY,
          dimensionFilters: { unique_identifier: ["A", "C", "nope"] },
        });
        expect(keys(frame)).toEqual([
          "2024-01-01|A",
          "2024-01-01|C",
          "2024-01-02|A",
          "2024-01-02|C",
        ]);
      });

      test("dimensionFilters AND across dimensions", async () => {
        const s = await register(store());
        await write(
          s.uid,
          Frame.fromRecords(
            [
              { time_index: "2024-01-01T00:00:00Z", account: "x", unique_identifier: "A", w: 1 },
              { time_index: "2024-01-01T00:00:00Z", account: "x", unique_identifier: "B", w: 2 },
              { time_index: "2024-01-01T00:00:00Z", account: "y", unique_identifier: "A", w: 3 },
            ],
            { indexNames: ["time_index", "account", "unique_identifier"] },
          ),
        );
        const frame = await store().readFrame(s.uid, {
          dimensionFilters: { account: ["x"], unique_identifier: ["A"] },
        });
        expect(Array.from(frame.column("w") as Float64Array)).toEqual([1]);
      });

      test("dimensionFilters with an empty list match nothing", async () => {
        const s = await seeded();
        const frame = await store().readFrame(s.uid, {
          dimensionFilters: { unique_identifier: [] },
        });
        expect(frame.length).toBe(0);
        expect(frame.indexNames).toEqual(["time_index", "unique_identifier"]);
      });

      test("dimensionFilters with an unknown dimension throw unknown_dimension", async () => {
        const s = await seeded();
        const error = await expectStoreError(
          store().readFrame(s.uid, { dimensionFilters: { ticker: ["A"] } }),
          "unknown_dimension",
        );
        expect(error.message).toContain("ticker");
        await expectStoreError(
          store().readFrame(s.uid, { dimensionFilters: { time_index: [D0] } }),
          "unknown_dimension",
        );
      });

      test("indexCoordinates select exact coordinates (OR)", async () => {
        const s = await seeded();
        const frame = await store().readFrame(s.uid, {
          end: D0 + DAY,
          indexCoordinates: [{ unique_identifier: "B" }, { unique_identifier: "C" }],
        });
        expect(keys(frame)).toEqual([
          "2024-01-01|B",
          "2024-01-01|C",
          "2024-01-02|B",
          "2024-01-02|C",
        ]);
      });

      test("indexCoordinates compare null values null-safely", async () => {
        const s = await seeded();
        const none = await store().readFrame(s.uid, {
          indexCoordinates: [{ unique_identifier: null }],
        });
        expect(none.length).toBe(0);
        const some = await store().readFrame(s.uid, {
          end: D0,
          indexCoordinates: [{ unique_identifier: null }, { unique_identifier: "A" }],
        });
        expect(keys(some)).toEqual(["2024-01-01|A"]);
        await expectStoreError(
          store().readFrame(s.uid, { indexCoordinates: [{ nope: "A" }] }),
          "unknown_dimension",
        );
      });

      test("dimensionRangeMap applies per-coordinate windows with default inclusive operands", async () => {
        const s = await seeded();
        const frame = await store().readFrame(s.uid, {
          dimensionRangeMap: [
            { coordinate: { unique_identifier: "A" }, startDate: D0 + 3 * DAY },
            { coordinate: { unique_identifier: "B" }, startDate: D0 + DAY, endDate: D0 + 2 * DAY },
          ],
        });
        expect(keys(frame)).toEqual([
          "2024-01-02|B",
          "2024-01-03|B",
          "2024-01-04|A",
          "2024-01-05|A",
        ]);
      });

      test("dimensionRangeMap honours exclusive operands", async () => {
        const s = await seeded();
        const frame = await store().readFrame(s.uid, {
          dimensionRangeMap: [
            {
              coordinate: { unique_identifier: "A" },
              startDate: D0 + DAY,
              startDateOperand: ">",
              endDate: D0 + 3 * DAY,
              endDateOperand: "<",
            },
            {
              coordinate: { unique_identifier: "C" },
              startDate: D0 + 3 * DAY,
              startDateOperand: ">=",
              endDate: D0 + 4 * DAY,
              endDateOperand: "<=",
            },
          ],
        });
        expect(keys(frame)).toEqual(["2024-01-03|A", "2024-01-04|C", "2024-01-05|C"]);
      });

      test("all filters combine with AND", async () => {
        const s = await seeded();
        const frame = await store().readFrame(s.uid, {
          start: D0 + DAY,
          end: D0 + 3 * DAY,
          dimensionFilters: { unique_identifier: ["A", "B"] },
          indexCoordinates: [{ unique_identifier: "B" }, { unique_identifier: "C" }],
          dimensionRangeMap: [
            { coordinate: { unique_identifier: "B" }, startDate: D0 + 2 * DAY },
            { coordinate: { unique_identifier: "C" } },
          ],
        });
        expect(keys(frame)).toEqual(["2024-01-03|B", "2024-01-04|B"]);
      });

      test("columns projects value columns and always keeps the index", async () => {
        const s = await seeded();
        const frame = await store().readFrame(s.uid, { end: D0, columns: ["volume"] });
        expect(frame.columnNames).toEqual(["time_index", "unique_identifier", "volume"]);
        expect(frame.column("volume")).toEqual([0, 1, 2]);
        const indexOnly = await store().readFrame(s.uid, { end: D0, columns: [] });
        expect(indexOnly.columnNames).toEqual(["time_index", "unique_identifier"]);
      });

      test("an unknown projected column throws unknown_column", async () => {
        const s = await seeded();
        const error = await expectStoreError(
          store().readFrame(s.uid, { columns: ["close", "nope"] }),
          "unknown_column",
        );
        expect(error.message).toContain("nope");
      });

      test("rows are ordered by the index whatever the write order", async () => {
        const s = await register(store());
        const records = priceRecords(3, ["C", "A", "B"]).reverse();
        await write(s.uid, Frame.fromRecords(records));
        const frame = await store().readFrame(s.uid);
        expect(keys(frame)).toEqual([
          "2024-01-01|A",
          "2024-01-01|B",
          "2024-01-01|C",
          "2024-01-02|A",
          "2024-01-02|B",
          "2024-01-02|C",
          "2024-01-03|A",
          "2024-01-03|B",
          "2024-01-03|C",
        ]);
      });

      test("readLastObservation returns the latest row of every coordinate", async () => {
        const s = await register(store());
        await write(s.uid, priceFrame(3, ["A", "B"]));
        await write(s.uid, priceFrame(1, ["C"], D0 + 10 * DAY));
        const last = await store().readLastObservation(s.uid);
        expect(keys(last)).toEqual(["2024-01-03|A", "2024-01-03|B", "2024-01-11|C"]);
        expect(Array.from(last.column("close") as Float64Array)).toEqual([20, 21, 0]);
        const filtered = await store().readLastObservation(s.uid, {
          dimensionFilters: { unique_identifier: ["B"] },
        });
        expect(keys(filtered)).toEqual(["2024-01-03|B"]);
        const windowed = await store().readLastObservation(s.uid, {
          dimensionRangeMap: [{ coordinate: { unique_identifier: "A" }, endDate: D0 + DAY }],
        });
        expect(keys(windowed)).toEqual(["2024-01-02|A"]);
        const oneD = await register(store());
        await write(
          oneD.uid,
          Frame.fromRecords([
            { time_index: "2024-01-01T00:00:00Z", v: 1 },
            { time_index: "2024-01-05T00:00:00Z", v: 5 },
          ]),
        );
        expect((await store().readLastObservation(oneD.uid)).toRecords({ time: "micros" })).toEqual(
          [{ time_index: D0 + 4 * DAY, v: 5 }],
        );
      });
    });

    // ------------------------------------------------------------ deletes

    describe("deleteAfterDate", () => {
      test("deletes rows at or after the cutoff and recomputes statistics", async () => {
        const s = await register(store());
        await write(s.uid, priceFrame(5, ["A", "B"]));
        const { deletedCount } = await store().deleteAfterDate(s.uid, D0 + 3 * DAY);
        expect(deletedCount).toBe(4);
        const frame = await store().readFrame(s.uid);
        expect(frame.length).toBe(6);
        const stats = await store().getTableStatistics(s.uid);
        expect(stats.globalIndexProgress).toEqual({ min: D0, max: D0 + 2 * DAY });
        expect(stats.indexProgress).toEqual({ A: D0 + 2 * DAY, B: D0 + 2 * DAY });
        expect(stats.indexMin).toEqual({ A: D0, B: D0 });
      });

      test("a restricted delete only touches the selected coordinates", async () => {
        const s = await register(store());
        await write(s.uid, priceFrame(5, ["A", "B", "C"]));
        const { deletedCount } = await store().deleteAfterDate(s.uid, D0 + 2 * DAY, {
          dimensionFilters: { unique_identifier: ["A"] },
        });
        expect(deletedCount).toBe(3);
        const gone = await store().deleteAfterDate(s.uid, D0, {
          indexCoordinates: [{ unique_identifier: "C" }],
        });
        expect(gone.deletedCount).toBe(5);
        const stats = await store().getTableStatistics(s.uid);
        expect(stats.indexProgress).toEqual({ A: D0 + DAY, B: D0 + 4 * DAY });
        expect(stats.indexMin).toEqual({ A: D0, B: D0 });
        expect(stats.globalIndexProgress).toEqual({ min: D0, max: D0 + 4 * DAY });
        expect(keys(await store().readLastObservation(s.uid))).toEqual([
          "2024-01-02|A",
          "2024-01-05|B",
        ]);
      });

      test("deleting every row leaves empty statistics", async () => {
        const s = await register(store());
        await write(s.uid, priceFrame(2, ["A"]));
        expect((await store().deleteAfterDate(s.uid, D0)).deletedCount).toBe(2);
        expectEmptyStatistics(await store().getTableStatistics(s.uid));
        expect((await store().deleteAfterDate(s.uid, D0)).deletedCount).toBe(0);
      });
    });

    // ------------------------------------------------------------ metadata

    describe("metadata", () => {
      test("setTableMetadata sets and clears fields", async () => {
        const s = await register(store());
        const updated = await store().setTableMetadata(s.uid, {
          identifier: "prices_daily",
          description: "Daily prices",
          dataFrequencyId: "1d",
        });
        expect(updated).toMatchObject({
          identifier: "prices_daily",
          description: "Daily prices",
          dataFrequencyId: "1d",
        });
        expect((await store().findStorage({ identifier: "prices_daily" }))?.uid).toBe(s.uid);
        const partial = await store().setTableMetadata(s.uid, { description: null });
        expect(partial).toMatchObject({ identifier: "prices_daily", description: null });
        const cleared = await store().setTableMetadata(s.uid, { identifier: null });
        expect(cleared.identifier).toBeNull();
        expect(await store().findStorage({ identifier: "prices_daily" })).toBeNull();
      });

      test("an identifier held by another storage is identifier_taken", async () => {
        const a = await register(store(), "holder");
        const b = await register(store(), "other");
        await store().setTableMetadata(a.uid, { identifier: "shared_id" });
        const error = await expectStoreError(
          store().setTableMetadata(b.uid, { identifier: "shared_id" }),
          "identifier_taken",
        );
        expect(error.message).toContain(a.storageHash);
        expect((await store().findStorage({ identifier: "shared_id" }))?.uid).toBe(a.uid);
        expect((await store().findStorage({ uid: b.uid }))?.identifier).toBeNull();
        // Setting the identifier a storage already holds is not a conflict.
        await store().setTableMetadata(a.uid, { identifier: "shared_id" });
      });

      test("an identifier can be repointed by clearing it first", async () => {
        const a = await register(store());
        const b = await register(store());
        await store().setTableMetadata(a.uid, { identifier: "moving" });
        await store().setTableMetadata(a.uid, { identifier: null });
        await store().setTableMetadata(b.uid, { identifier: "moving" });
        expect((await store().findStorage({ identifier: "moving" }))?.uid).toBe(b.uid);
        expect((await store().findStorage({ uid: a.uid }))?.identifier).toBeNull();
      });

      test("setColumnMetadata replaces the column metadata", async () => {
        const s = await register(store());
        await write(s.uid, priceFrame(1, ["A"]));
        expect(await store().getColumnMetadata(s.uid)).toEqual([]);
        const first = [
          { columnName: "close", dtype: "float64", label: "Close", description: "Closing price" },
          { columnName: "volume", dtype: "int64", label: "Volume", description: "Shares traded" },
        ];
        await store().setColumnMetadata(s.uid, first);
        expect(await store().getColumnMetadata(s.uid)).toEqual(first);
        const second = [{ columnName: "close", dtype: "float64", label: "C", description: "d" }];
        await store().setColumnMetadata(s.uid, second);
        expect(await store().getColumnMetadata(s.uid)).toEqual(second);
      });

      withCapability("columnMetadataBeforeWrite")(
        "column metadata set before the first write reads back",
        async () => {
          const s = await register(store());
          const columns = [
            { columnName: "close", dtype: "float64", label: "Close", description: "Closing price" },
          ];
          await store().setColumnMetadata(s.uid, columns);
          expect(await store().getColumnMetadata(s.uid)).toEqual(columns);
        },
      );
    });

    // ------------------------------------------------------------ catalog search

    describe("catalog search", () => {
      async function published(): Promise<StorageRecord> {
        const s = await register(store(), "closes");
        await write(s.uid, priceFrame(2, ["A"]));
        await store().setTableMetadata(s.uid, {
          identifier: "conformance_daily_closes",
          description: "Daily close prices of listed equities",
        });
        const other = await register(store(), "weather");
        await store().setTableMetadata(other.uid, {
          identifier: "conformance_rainfall",
          description: "Hourly rainfall in millimetres",
        });
        return s;
      }

      test("description search ranks the matching table first; scores say whether the store reports them", async () => {
        const s = await published();
        const hits = await store().descriptionSearch("daily close prices");
        expect(hits[0]?.storage.uid).toBe(s.uid);
        if (store().capabilities.searchScores) {
          expect(hits[0]!.score).toBeGreaterThan(0);
          expect(hits[0]!.trigramScore).toBeGreaterThan(0);
          expect(hits[0]!.score).toBeGreaterThanOrEqual(hits[1]?.score ?? 0);
        } else {
          expect(hits.every((h) => h.score === 0 && h.trigramScore === 0)).toBe(true);
        }
        const byColumn = await store().columnSearch("close");
        expect(byColumn.map((h) => h.storage.uid)).toContain(s.uid);
        expect(await store().orgUniqueIdentifiers()).toEqual([
          "conformance_daily_closes",
          "conformance_rainfall",
        ]);
      });

      withCapability("localSearchEmbedder")(
        "description search embeds with this process's embedder",
        async () => {
          const s = await published();
          const seen: string[] = [];
          configureSearch({
            embedder: (text) => {
              seen.push(text);
              return text.includes("close") ? [1, 0] : [0, 1];
            },
            embeddingModel: "conformance-embedder",
          });
          try {
            const hits = await store().descriptionSearch("close", {
              embeddingModel: "conformance-embedder",
              wTrgm: 0,
              wEmb: 1,
            });
            expect(seen).toContain("close");
            expect(hits[0]?.storage.uid).toBe(s.uid);
            expect(hits[0]?.embeddingScore).toBeCloseTo(1);
          } finally {
            configureSearch({});
          }
        },
      );
    });

    // ------------------------------------------------------------ assets

    describe("assets", () => {
      test("batchGetOrRegisterAssets is idempotent and keeps the request order", async () => {
        const first = await store().batchGetOrRegisterAssets([
          {
            uniqueIdentifier: "AAPL_US",
            snapshot: { name: "Apple Inc", ticker: "AAPL", exchangeCode: "XNAS" },
          },
          {
            uniqueIdentifier: "MSFT_US",
            snapshot: { name: "Microsoft", ticker: "MSFT" },
            securityType: "Common Stock",
          },
        ]);
        expect(first.map((a) => a.uniqueIdentifier)).toEqual(["AAPL_US", "MSFT_US"]);
        expect(first[0]).toMatchObject({
          currentSnapshot: { name: "Apple Inc", ticker: "AAPL", exchangeCode: "XNAS" },
          isCustomByOrganization: true,
        });
        expect(first[1]?.securityType).toBe("Common Stock");
        const again = await store().batchGetOrRegisterAssets([
          { uniqueIdentifier: "NVDA_US", snapshot: { name: "Nvidia", ticker: "NVDA" } },
          { uniqueIdentifier: "AAPL_US", snapshot: { name: "Renamed", ticker: "XXX" } },
        ]);
        expect(again.map((a) => a.uniqueIdentifier)).toEqual(["NVDA_US", "AAPL_US"]);
        expect(again[1]).toEqual(first[0]);
        expect(new Set([...first, ...again].map((a) => a.id)).size).toBe(3);
      });

      test("filterAssets supports every filter key", async () => {
        await store().batchGetOrRegisterAssets([
          {
            uniqueIdentifier: "A1",
            snapshot: { name: "Alpha Corp", ticker: "ALP", exchangeCode: "XNYS" },
            securityType: "ETF",
          },
          {
            uniqueIdentifier: "B1",
            snapshot: { name: "Beta Corp", ticker: "BET", exchangeCode: "XNAS" },
          },
          {
            uniqueIdentifier: "G1",
            snapshot: { name: "Gamma", ticker: "GAM", exchangeCode: "XNAS" },
          },
        ]);
        const ids = async (filter: Parameters<DataStore["filterAssets"]>[0]) =>
          (await store().filterAssets(filter)).map((a) => a.uniqueIdentifier).sort();
        expect(await ids({})).toEqual(["A1", "B1", "G1"]);
        expect(await ids({ uniqueIdentifier: "B1" })).toEqual(["B1"]);
        expect(await ids({ uniqueIdentifier: ["A1", "G1", "Z"] })).toEqual(["A1", "G1"]);
        expect(await ids({ uniqueIdentifier: [] })).toEqual([]);
        expect(await ids({ ticker: "BET" })).toEqual(["B1"]);
        expect(await ids({ ticker: ["ALP", "GAM"] })).toEqual(["A1", "G1"]);
        expect(await ids({ ticker: [] })).toEqual([]);
        expect(await ids({ nameContains: "Corp" })).toEqual(["A1", "B1"]);
        expect(await ids({ exchangeCode: "XNAS" })).toEqual(["B1", "G1"]);
        expect(await ids({ securityType: "ETF" })).toEqual(["A1"]);
        expect(await ids({ exchangeCode: "XNAS", nameContains: "Beta" })).toEqual(["B1"]);
        expect(await ids({ uniqueIdentifier: ["A1", "B1"], ticker: "BET" })).toEqual(["B1"]);
      });

      test("findUnregisteredAssets returns unknown identifiers among thousands", async () => {
        const registered = Array.from({ length: 3000 }, (_, i) => ({
          uniqueIdentifier: `ID${i}`,
          snapshot: { name: `Asset ${i}`, ticker: `T${i}` },
        }));
        await store().batchGetOrRegisterAssets(registered);
        const asked = [...registered.map((a) => a.uniqueIdentifier), "NEW1", "ID5", "NEW2"];
        expect(await store().findUnregisteredAssets(asked)).toEqual(["NEW1", "NEW2"]);
        expect(await store().findUnregisteredAssets([])).toEqual([]);
      });
    });

    // ------------------------------------------------------------ round trips

    describe("value round trips", () => {
      test("microseconds survive a round trip", async () => {
        const s = await register(store());
        const times = [
          "2024-01-01T00:00:00.000001Z",
          "2024-01-01T00:00:00.999999Z",
          "1969-12-31T23:59:59.999999Z",
          "2200-06-30T12:00:00.000001Z",
        ];
        await write(
          s.uid,
          Frame.fromRecords(times.map((t, i) => ({ time_index: t, at: T(t), i }))),
        );
        const frame = await store().readFrame(s.uid);
        const expected = times.map(T).sort((a, b) => a - b);
        expect(Array.from(frame.time)).toEqual(expected);
        const stats = await store().getTableStatistics(s.uid);
        expect(stats.globalIndexProgress).toEqual({ min: expected[0], max: expected[3] });
        const exact = await store().readFrame(s.uid, {
          start: T("2024-01-01T00:00:00.000001Z"),
          end: T("2024-01-01T00:00:00.000001Z"),
        });
        expect(exact.length).toBe(1);
      });

      test("NaN and null survive a round trip", async () => {
        const s = await register(store());
        const dtypes: Record<string, DType> = {
          f: "float64",
          i: "int64",
          b: "bool",
          s: "string",
          ts: "timestamptz",
          d: "date",
          j: "json",
        };
        const frame = Frame.fromRecords(
          [
            {
              time_index: "2024-01-01T00:00:00Z",
              f: Number.NaN,
              i: null,
              b: null,
              s: null,
              ts: null,
              d: null,
              j: null,
            },
            {
              time_index: "2024-01-02T00:00:00Z",
              f: 1.5,
              i: 1,
              b: true,
              s: "x",
              ts: "2024-01-01T00:00:00Z",
              d: "2024-01-01",
              j: { a: 1 },
            },
          ],
          { dtypes },
        );
        await write(s.uid, frame);
        const back = await store().readFrame(s.uid);
        expect(back.dtypes).toEqual({ time_index: "timestamptz", ...dtypes });
        const rows = back.toRecords({ time: "micros" });
        expect(rows[0]).toEqual({
          time_index: D0,
          f: null,
          i: null,
          b: null,
          s: null,
          ts: null,
          d: null,
          j: null,
        });
        expect(Number.isNaN((back.column("f") as Float64Array)[0])).toBe(true);
        expect(Number.isNaN((back.column("ts") as Float64Array)[0])).toBe(true);
      });

      test("json, date, bool, int64, string and timestamptz values round trip", async () => {
        const s = await register(store());
        const dtypes: Record<string, DType> = {
          i: "int64",
          b: "bool",
          s: "string",
          ts: "timestamptz",
          d: "date",
          j: "json",
          f: "float64",
        };
        const records = [
          {
            time_index: "2024-01-01T00:00:00Z",
            i: Number.MAX_SAFE_INTEGER,
            b: true,
            s: "héllo 🌍 \"quoted\" 'single' \\ back",
            ts: "2024-03-01T12:34:56.123456Z",
            d: "1999-12-31",
            j: { nested: { list: [1, "two", null, true], n: 1.5 }, "key with space": "v" },
            f: -0.1,
          },
          {
            time_index: "2024-01-02T00:00:00Z",
            i: Number.MIN_SAFE_INTEGER,
            b: false,
            s: "",
            ts: "1970-01-01T00:00:00Z",
            d: "2024-02-29",
            j: [1, 2, 3],
            f: 1e300,
          },
          {
            time_index: "2024-01-03T00:00:00Z",
            i: 0,
            b: false,
            s: "line\nbreak",
            ts: "2000-01-01T00:00:00Z",
            d: "0001-01-01",
            j: "just a string",
            f: 5e-324,
          },
        ];
        await write(s.uid, Frame.fromRecords(records, { dtypes }));
        const back = await store().readFrame(s.uid);
        const rows = back.toRecords({ time: "micros" });
        records.forEach((r, k) => {
          expect(rows[k]).toEqual({ ...r, time_index: T(r.time_index), ts: T(r.ts) });
        });
        const last = await store().readLastObservation(s.uid);
        expect(last.toRecords({ time: "micros" })[0]?.["j"]).toBe("just a string");
      });

      test("non-string identity dimensions round trip and filter by their type", async () => {
        const s = await register(store());
        const frame = Frame.fromRecords(
          [
            { time_index: "2024-01-01T00:00:00Z", bucket: 1, v: 1 },
            { time_index: "2024-01-01T00:00:00Z", bucket: 2, v: 2 },
            { time_index: "2024-01-02T00:00:00Z", bucket: 2, v: 3 },
          ],
          { indexNames: ["time_index", "bucket"], dtypes: { bucket: "int64" } },
        );
        const { statistics } = await write(s.uid, frame);
        expect(statistics.indexProgress).toEqual({ "1": D0, "2": D0 + DAY });
        const back = await store().readFrame(s.uid, { dimensionFilters: { bucket: [2] } });
        expect(back.column("bucket")).toEqual([2, 2]);
        const coords = await store().readFrame(s.uid, { indexCoordinates: [{ bucket: 1 }] });
        expect(Array.from(coords.column("v") as Float64Array)).toEqual([1]);
      });

      test("int64 values of the full range and nulls round trip", async () => {
        const s = await register(store());
        const MIN = -(2n ** 63n);
        const MAX = 2n ** 63n - 1n;
        const ABOVE_SAFE = 2n ** 53n + 1n;
        const SAFE = 2 ** 53 - 1;
        // Safe integers stay numbers, the others are bigints (one representation per value).
        const values: (number | bigint)[] = [MIN, MAX, ABOVE_SAFE, 0, -1, SAFE];
        const records: FrameRecord[] = values.map((v) => ({
          time_index: "2024-01-01T00:00:00Z",
          k: v,
          n: v,
        }));
        // The latest row of MAX has a null value: last observations must carry it.
        records.push({ time_index: "2024-01-02T00:00:00Z", k: MAX, n: null });
        const frame = Frame.fromRecords(records, {
          indexNames: ["time_index", "k"],
          dtypes: { k: "int64", n: "int64" },
        });
        const { statistics } = await write(s.uid, frame);

        const sorted: (number | bigint)[] = [MIN, -1, 0, SAFE, ABOVE_SAFE, MAX];
        const back = await store().readFrame(s.uid);
        expect(back.dtypes).toEqual({ time_index: "timestamptz", k: "int64", n: "int64" });
        expect(back.column("k")).toEqual([...sorted, MAX]);
        expect(back.column("n")).toEqual([...sorted, null]);
        expect(back.toRecords({ time: "micros" })[4]).toEqual({
          time_index: D0,
          k: ABOVE_SAFE,
          n: ABOVE_SAFE,
        });

        const last = await store().readLastObservation(s.uid);
        const lastByKey = new Map(
          last.toRecords({ time: "micros" }).map((r) => [r["k"], [r["time_index"], r["n"]]]),
        );
        expect(lastByKey.size).toBe(6);
        expect(lastByKey.get(MAX)).toEqual([D0 + DAY, null]);
        expect(lastByKey.get(MIN)).toEqual([D0, MIN]);
        expect(lastByKey.get(ABOVE_SAFE)).toEqual([D0, ABOVE_SAFE]);
        expect(lastByKey.get(SAFE)).toEqual([D0, SAFE]);

        const filtered = await store().readFrame(s.uid, { dimensionFilters: { k: [MAX] } });
        expect(filtered.column("k")).toEqual([MAX, MAX]);
        expect(filtered.column("n")).toEqual([MAX, null]);
        const pair = await store().readFrame(s.uid, {
          dimensionFilters: { k: [MIN, ABOVE_SAFE] },
        });
        expect(pair.column("n")).toEqual([MIN, ABOVE_SAFE]);
        const coordinate = await store().readLastObservation(s.uid, {
          indexCoordinates: [{ k: ABOVE_SAFE }],
        });
        expect(coordinate.column("n")).toEqual([ABOVE_SAFE]);
        // A number beyond 2^53 is already rounded: refused in every store, a bigint is needed.
        const rounded = await expectStoreError(
          store().readFrame(s.uid, { dimensionFilters: { k: [2 ** 60] } }),
          "invalid_value",
        );
        expect(rounded.message).toMatch(/pass the value as a bigint/);

        // Statistics keys are the exact decimal text of each identity value.
        const expectedProgress = Object.fromEntries(
          sorted.map((v) => [String(v), v === MAX ? D0 + DAY : D0]),
        );
        expect(statistics.indexProgress).toEqual(expectedProgress);
        expect((await store().getTableStatistics(s.uid)).indexProgress).toEqual(expectedProgress);
      });
    });
  });
}

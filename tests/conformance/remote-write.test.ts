import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArgumentError } from "../../src/errors.js";
import { Frame } from "../../src/frame/frame.js";
import { toEpochMicros } from "../../src/frame/time.js";
import type { StorageRecord, UpdaterRecord } from "../../src/store/data-store.js";
import { RemoteApiError } from "../../src/store/remote/remote-errors.js";
import { RemoteStore } from "../../src/store/remote/remote-store.js";
import { type RemoteFixture, remoteStoreFactory } from "./remote-factory.js";

/**
 * The write and read paths of the remote store over real HTTP against the local server, with
 * the server's fault mode: route order, chunking, 413 splitting, retries without duplicates,
 * and all-or-nothing outcomes.
 */
const DAY = 86_400_000_000;
const D0 = toEpochMicros("2024-01-01T00:00:00Z");
const factory = remoteStoreFactory("write", { chunkRows: 10 });

function prices(days: number, assets: readonly string[], start = D0, bump = 0): Frame {
  const rows = [];
  for (let d = 0; d < days; d++) {
    for (const [i, asset] of assets.entries()) {
      rows.push({
        time_index: new Date((start + d * DAY) / 1000),
        unique_identifier: asset,
        close: d * 10 + i + bump,
      });
    }
  }
  return Frame.fromRecords(rows, { dtypes: { close: "float64" } });
}

let fx: RemoteFixture;
let storage: StorageRecord;
let updater: UpdaterRecord;

beforeEach(async () => {
  fx = await factory();
  storage = await fx.store.registerStorage({
    storageHash: "prices_write_test",
    namespace: null,
    buildConfiguration: {},
    sourceClassName: "Prices",
  });
  updater = await fx.store.registerUpdater({
    updateHash: "prices_write_test_updater",
    storageHash: storage.storageHash,
    buildConfiguration: {},
    namespace: null,
  });
  fx.server.faults.clear();
});
afterEach(async () => {
  await fx.cleanup();
});

const paths = () =>
  fx.server.faults.requests.map(
    (r) => `${r.method} ${r.path.replace(/^\/orm\/api\//, "").replace(/[0-9a-f-]{36}/g, "{uid}")}`,
  );

describe("RemoteStore writes over HTTP", () => {
  it("sends initialize-source-table, 10-row chunks, the progress commit, then get_stats", async () => {
    const frame = prices(7, ["A", "B", "C", "D", "E"]); // 35 rows → 4 chunks of ≤ 10
    const result = await fx.store.writeFrame(storage.uid, frame, { updaterUid: updater.uid });
    expect(result.rowsWritten).toBe(35);
    // The updater (known from its registration) is read back by hash with its storage, as the
    // platform's client does before a write; then the table is initialized.
    expect(paths()).toEqual([
      "GET ts_manager/local_time_serie/",
      "POST ts_manager/dynamic_table/{uid}/initialize-source-table/",
      "POST ts_manager/local_time_serie/{uid}/insert_data_into_table/",
      "POST ts_manager/local_time_serie/{uid}/insert_data_into_table/",
      "POST ts_manager/local_time_serie/{uid}/insert_data_into_table/",
      "POST ts_manager/local_time_serie/{uid}/insert_data_into_table/",
      "POST ts_manager/local_time_serie/{uid}/set_last_update_index_time_from_update_stats/",
      "GET ts_manager/source_table_config/{uid}/get_stats/",
    ]);
    expect(result.statistics.globalIndexProgress).toEqual({ min: D0, max: D0 + 6 * DAY });
    expect((await fx.store.readFrame(storage.uid)).length).toBe(35);
  });

  it("a 413 splits the chunk in halves recursively and every row lands exactly once", async () => {
    fx.server.faults.add({
      method: "POST",
      path: /insert_data_into_table\/$/,
      action: { tooLargeOverRows: 3 },
    });
    const frame = prices(7, ["A", "B", "C", "D", "E"]);
    await fx.store.writeFrame(storage.uid, frame, { updaterUid: updater.uid });
    expect(fx.server.faults.count({ path: /insert_data_into_table/, status: 413 })).toBeGreaterThan(
      3,
    );
    const back = await fx.store.readFrame(storage.uid);
    expect(back.toRecords({ time: "micros" })).toEqual(
      frame.sortByIndex().toRecords({ time: "micros" }),
    );
  });

  it("a connection dropped after a chunk was applied is retried without duplicates", async () => {
    fx.server.faults.add({
      method: "POST",
      path: /insert_data_into_table\/$/,
      times: 2,
      action: { drop: "after" },
    });
    const frame = prices(5, ["A", "B", "C"]);
    await fx.store.writeFrame(storage.uid, frame, { updaterUid: updater.uid });
    const back = await fx.store.readFrame(storage.uid);
    expect(back.length).toBe(15);
    expect(fx.server.faults.count({ path: /insert_data_into_table/, status: 0 })).toBe(2);
  });

  it("a chunk that keeps failing leaves the old rows only, once the run closes with the error", async () => {
    await fx.store.writeFrame(storage.uid, prices(2, ["A"]), { updaterUid: updater.uid });
    const before = (await fx.store.readFrame(storage.uid)).toRecords({ time: "micros" });
    const statsBefore = await fx.store.getTableStatistics(storage.uid);
    const run = await fx.store.openRun(updater.uid);
    fx.server.faults.clear();
    // the first chunk goes through, every later one fails: the failure happens between chunks
    fx.server.faults.add({
      method: "POST",
      path: /insert_data_into_table\/$/,
      times: 1,
      action: { delayMs: 0 },
    });
    fx.server.faults.add({
      method: "POST",
      path: /insert_data_into_table\/$/,
      action: { status: 500, detail: "boom" },
    });
    const error = await fx.store
      .writeFrame(storage.uid, prices(5, ["A", "B", "C"], D0, 1000), { updaterUid: updater.uid })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(fx.server.faults.count({ path: /insert_data_into_table/, status: 200 })).toBe(1);
    expect(error).toBeInstanceOf(RemoteApiError);
    expect((error as RemoteApiError).status).toBe(500);
    await fx.store.closeRun(run, { error: true, errorMessage: "upload failed" });
    fx.server.faults.clear();
    expect((await fx.store.readFrame(storage.uid)).toRecords({ time: "micros" })).toEqual(before);
    expect(await fx.store.getTableStatistics(storage.uid)).toEqual(statsBefore);
    // the next write commits only its own rows
    await fx.store.writeFrame(storage.uid, prices(1, ["Z"], D0 + 9 * DAY), {
      updaterUid: updater.uid,
    });
    expect((await fx.store.readFrame(storage.uid)).length).toBe(before.length + 1);
  });

  it("writeFrame without updaterUid is a typed error naming the option; listRuns is unsupported", async () => {
    // A JavaScript caller can omit what the types require.
    const untyped = fx.store.writeFrame as (uid: string, frame: Frame) => Promise<unknown>;
    const error = await untyped
      .call(fx.store, storage.uid, prices(1, ["A"]))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as ArgumentError).code).toBe("invalid_argument");
    expect((error as ArgumentError).message).toContain("updaterUid");
    expect(fx.store.capabilities.listRuns).toBe(false);
    await expect(fx.store.listRuns(updater.uid)).rejects.toMatchObject({
      code: "unsupported_capability",
    });
  });
});

describe("RemoteStore reads over HTTP", () => {
  it("a failed read throws: it never returns an empty frame", async () => {
    await fx.store.writeFrame(storage.uid, prices(3, ["A"]), { updaterUid: updater.uid });
    fx.server.faults.add({
      method: "POST",
      path: /get_data_between_dates_from_remote\/$/,
      action: { status: 500, detail: "read failed" },
    });
    const error = await fx.store.readFrame(storage.uid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteApiError);
    expect((error as RemoteApiError).status).toBe(500);
    expect((error as RemoteApiError).attempts).toBe(3);
    fx.server.faults.clear();
    fx.server.faults.add({
      method: "POST",
      path: /get_last_observation\/$/,
      action: { status: 503 },
    });
    await expect(fx.store.readLastObservation(storage.uid)).rejects.toBeInstanceOf(RemoteApiError);
  });

  it("reads page by next_offset and a large range map is sent in batches of 100", async () => {
    const assets = Array.from({ length: 150 }, (_, i) => `A${String(i).padStart(3, "0")}`);
    const frame = prices(40, assets); // 6,000 rows: more than one server page (5,000)
    // default 50,000-row chunks: one upload
    const store = new RemoteStore({ client: fx.store.client, projectUid: fx.store.projectUid });
    await store.writeFrame(storage.uid, frame, { updaterUid: updater.uid });
    fx.server.faults.clear();
    const all = await fx.store.readFrame(storage.uid);
    expect(all.length).toBe(6000);
    expect(fx.server.faults.count({ path: /get_data_between_dates_from_remote/ })).toBe(2);
    fx.server.faults.clear();
    const ranged = await fx.store.readFrame(storage.uid, {
      dimensionRangeMap: assets.map((a) => ({
        coordinate: { unique_identifier: a },
        startDate: D0 + 38 * DAY,
      })),
    });
    expect(ranged.length).toBe(300);
    expect(fx.server.faults.count({ path: /get_data_between_dates_from_remote/ })).toBe(2);
    expect(ranged.toRecords({ time: "micros" })).toEqual(
      all.filterRows((i) => all.time[i]! >= D0 + 38 * DAY).toRecords({ time: "micros" }),
    );
  });
});

describe("RemoteStore search routes over HTTP", () => {
  it("description search, column search, index refresh and org identifiers", async () => {
    await fx.store.writeFrame(storage.uid, prices(2, ["A"]), { updaterUid: updater.uid });
    await fx.store.setTableMetadata(storage.uid, {
      identifier: "daily_close_prices",
      description: "Daily close prices of listed equities",
    });
    await fx.store.setColumnMetadata(storage.uid, [
      { columnName: "close", dtype: "float64", label: "Close", description: "Closing price" },
    ]);
    expect(await fx.store.getColumnMetadata(storage.uid)).toEqual([
      { columnName: "close", dtype: "float64", label: "Close", description: "Closing price" },
    ]);
    await fx.store.refreshTableSearchIndex(storage.uid);
    const hits = await fx.store.descriptionSearch("daily close prices");
    expect(hits.map((h) => h.storage.uid)).toContain(storage.uid);
    const byNamespace = await fx.store.descriptionSearch("daily close prices", {
      filters: { namespace: null },
    });
    expect(byNamespace.map((h) => h.storage.uid)).toContain(storage.uid);
    const columns = await fx.store.columnSearch("close");
    expect(columns.map((h) => h.storage.uid)).toEqual([storage.uid]);
    expect(await fx.store.orgUniqueIdentifiers()).toEqual(["daily_close_prices"]);
    await expect(fx.store.descriptionSearch("  ")).rejects.toMatchObject({
      code: "invalid_search_query",
    });
  });
});

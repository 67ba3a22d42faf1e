import { describe, expect, it } from "vitest";
import {
  COMMIT_BODY,
  chunkBody,
  encode,
  LTS,
  readAll,
  row,
  setupTable,
  startServer,
  upload,
} from "./server-fixture.js";

describe("chunk staging and atomic commit", () => {
  it("a run that ends with an error leaves the table unchanged", async () => {
    const f = await startServer();
    const { storageUid, updaterUid } = await setupTable(f);
    await upload(f, updaterUid, [[row(0, "AAPL", 1)]]);
    const before = await readAll(f, storageUid);

    // Chunks uploaded, then the run fails before its commit: nothing lands, even if a late
    // commit arrives after the end.
    const start = await f.call("PATCH", `${LTS}/${updaterUid}/set_start_of_execution/`, {});
    await f.call(
      "POST",
      `${LTS}/${updaterUid}/insert_data_into_table/`,
      chunkBody([row(0, "AAPL", 99), row(1, "AAPL", 2)]),
    );
    const end = await f.call("PATCH", `${LTS}/${updaterUid}/set_end_of_execution/`, {
      historical_update_uid: start.body.historical_update.uid,
      error_on_update: true,
    });
    expect(end.status).toBe(200);
    const late = await f.call(
      "POST",
      `${LTS}/${updaterUid}/set_last_update_index_time_from_update_stats/`,
      COMMIT_BODY,
    );
    expect(late.status).toBe(200);
    expect(await readAll(f, storageUid)).toEqual(before);
  });

  it("a new set_start_of_execution discards rows staged by an unfinished run", async () => {
    const f = await startServer();
    const { storageUid, updaterUid } = await setupTable(f);
    await f.call("PATCH", `${LTS}/${updaterUid}/set_start_of_execution/`, {});
    await f.call(
      "POST",
      `${LTS}/${updaterUid}/insert_data_into_table/`,
      chunkBody([row(0, "AAPL", 1)]),
    );
    await f.call("PATCH", `${LTS}/${updaterUid}/set_start_of_execution/`, {});
    await f.call(
      "POST",
      `${LTS}/${updaterUid}/insert_data_into_table/`,
      chunkBody([row(5, "MSFT", 5)]),
    );
    await f.call(
      "POST",
      `${LTS}/${updaterUid}/set_last_update_index_time_from_update_stats/`,
      COMMIT_BODY,
    );
    expect(await readAll(f, storageUid)).toEqual([row(5, "MSFT", 5)]);
    const runs = await f.store.listRuns(updaterUid);
    expect(runs.at(-1)).toMatchObject({ error: true, errorMessage: "superseded by a new run" });
  });

  it("a re-sent or overlapping chunk replaces identical index keys: last wins, no duplicates", async () => {
    const f = await startServer();
    const { storageUid, updaterUid } = await setupTable(f);
    await f.call("PATCH", `${LTS}/${updaterUid}/set_start_of_execution/`, {});
    const rows = [row(0, "AAPL", 1), row(1, "AAPL", 2)];
    for (let i = 0; i < 3; i++) {
      const res = await f.call(
        "POST",
        `${LTS}/${updaterUid}/insert_data_into_table/`,
        chunkBody(rows),
      );
      expect(res.status).toBe(200);
    }
    // The same instant spelled differently is the same key.
    await f.call(
      "POST",
      `${LTS}/${updaterUid}/insert_data_into_table/`,
      chunkBody([
        { time_index: "2026-05-01T01:00:00.000+00:00", unique_identifier: "AAPL", close: 20 },
      ]),
    );
    const commit = await f.call(
      "POST",
      `${LTS}/${updaterUid}/set_last_update_index_time_from_update_stats/`,
      COMMIT_BODY,
    );
    expect(commit.status).toBe(200);
    // A re-sent commit writes nothing twice.
    const again = await f.call(
      "POST",
      `${LTS}/${updaterUid}/set_last_update_index_time_from_update_stats/`,
      COMMIT_BODY,
    );
    expect(again.status).toBe(200);
    expect(await readAll(f, storageUid)).toEqual([row(0, "AAPL", 1), row(1, "AAPL", 20)]);
  });

  it("a commit the store refuses leaves the table unchanged and keeps the stage for a retry", async () => {
    const f = await startServer();
    const { storageUid, updaterUid } = await setupTable(f);
    await upload(f, updaterUid, [[row(0, "AAPL", 1)]]);
    const start = await f.call("PATCH", `${LTS}/${updaterUid}/set_start_of_execution/`, {});
    await f.call(
      "POST",
      `${LTS}/${updaterUid}/insert_data_into_table/`,
      chunkBody([row(1, "AAPL", 2)]),
    );
    await f.call(
      "POST",
      `${LTS}/${updaterUid}/insert_data_into_table/`,
      chunkBody([
        { time_index: "2026-05-01T02:00:00Z", unique_identifier: "AAPL", close: "not a number" },
      ]),
    );
    const commit = await f.call(
      "POST",
      `${LTS}/${updaterUid}/set_last_update_index_time_from_update_stats/`,
      COMMIT_BODY,
    );
    expect(commit.status).toBe(400);
    expect(await readAll(f, storageUid)).toEqual([row(0, "AAPL", 1)]);
    const retry = await f.call(
      "POST",
      `${LTS}/${updaterUid}/set_last_update_index_time_from_update_stats/`,
      COMMIT_BODY,
    );
    expect(retry.status).toBe(400);
    await f.call("PATCH", `${LTS}/${updaterUid}/set_end_of_execution/`, {
      historical_update_uid: start.body.historical_update.uid,
      error_on_update: true,
    });
    expect(await readAll(f, storageUid)).toEqual([row(0, "AAPL", 1)]);
  });

  it("rejects chunks with a missing index column or a naive time (400), staging nothing", async () => {
    const f = await startServer();
    const { storageUid, updaterUid } = await setupTable(f);
    await f.call("PATCH", `${LTS}/${updaterUid}/set_start_of_execution/`, {});
    const missing = await f.call(
      "POST",
      `${LTS}/${updaterUid}/insert_data_into_table/`,
      chunkBody([row(0, "AAPL", 1), { time_index: "2026-05-01T01:00:00Z", close: 1 }]),
    );
    expect(missing.status).toBe(400);
    expect(missing.body.data[0]).toMatch(/unique_identifier/);
    const naive = await f.call(
      "POST",
      `${LTS}/${updaterUid}/insert_data_into_table/`,
      chunkBody([{ time_index: "2026-05-01T01:00:00", unique_identifier: "AAPL", close: 1 }]),
    );
    expect(naive.status).toBe(400);
    const notRows = await f.call("POST", `${LTS}/${updaterUid}/insert_data_into_table/`, {
      data: encode({ a: 1 }),
    });
    expect(notRows.status).toBe(400);
    await f.call(
      "POST",
      `${LTS}/${updaterUid}/set_last_update_index_time_from_update_stats/`,
      COMMIT_BODY,
    );
    expect(await readAll(f, storageUid)).toEqual([]);
  });
});

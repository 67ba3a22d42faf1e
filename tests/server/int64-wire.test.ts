import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DT, LTS, type ServerFixture, STC, startServer, TOKEN } from "./server-fixture.js";

const MAX = 2n ** 63n - 1n;
const MIN = -(2n ** 63n);
const ABOVE = 2n ** 53n + 1n;

/** A request with a raw JSON body, as the Python client writes it; the answer's raw text. */
async function rawCall(
  f: ServerFixture,
  method: string,
  path: string,
  body: string,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${f.server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    body,
  });
  return { status: res.status, text: await res.text() };
}

/** A table indexed by an int64 account with int64 and float values, and its updater. */
async function accountTable(f: ServerFixture): Promise<{ storageUid: string; updaterUid: string }> {
  const storage = await f.call("POST", `${DT}/get_or_create/`, {
    storage_hash: "accounts_0123456789abcdef0123456789abcdef",
    namespace: null,
    build_configuration: {},
  });
  const updater = await f.call("POST", `${LTS}/get_or_create/`, {
    update_hash: "accounts_fedcba9876543210fedcba9876543210",
    build_configuration: {},
    remote_table__hash_id: "accounts_0123456789abcdef0123456789abcdef",
    current_project_uid: f.server.projectUid,
  });
  const init = await f.call("POST", `${DT}/${storage.body.uid}/initialize-source-table/`, {
    time_index_name: "time_index",
    index_names: ["time_index", "account_id"],
    column_dtypes_map: {
      time_index: "datetime64[ns, UTC]",
      account_id: "int64",
      qty: "int64",
      px: "float64",
    },
  });
  expect(init.status).toBe(201);
  return { storageUid: storage.body.uid, updaterUid: updater.body.uid };
}

describe("tdag serve: int64 cells of the full range on the wire (exact JSON integers)", () => {
  it("stores uploaded int64 tokens exactly and answers them as exact tokens", async () => {
    const f = await startServer();
    const { storageUid, updaterUid } = await accountTable(f);
    const start = await f.call("PATCH", `${LTS}/${updaterUid}/set_start_of_execution/`, {});
    // The chunk as the Python client writes it: plain integer tokens, floats as `100.0`.
    const chunk = `[
      {"time_index": "2026-05-01T00:00:00Z", "account_id": 9223372036854775807, "qty": -9223372036854775808, "px": 100.0},
      {"time_index": "2026-05-01T00:00:00Z", "account_id": 9007199254740993, "qty": 9007199254740993, "px": 1.5},
      {"time_index": "2026-05-01T00:00:00Z", "account_id": 9007199254740992, "qty": null, "px": 2.0},
      {"time_index": "2026-05-01T01:00:00Z", "account_id": -1, "qty": 3, "px": 1e-7}
    ]`;
    const data = gzipSync(Buffer.from(chunk)).toString("base64");
    const staged = await f.call("POST", `${LTS}/${updaterUid}/insert_data_into_table/`, {
      data,
      chunk_stats: {},
      overwrite: true,
      chunk_index: 0,
      total_chunks: 1,
    });
    expect(staged.status).toBe(200);
    const commit = await f.call(
      "POST",
      `${LTS}/${updaterUid}/set_last_update_index_time_from_update_stats/`,
      {
        data: gzipSync(
          Buffer.from('{"multi_index_stats": {"_GLOBAL_": {}}, "multi_index_column_stats": {}}'),
        ).toString("base64"),
      },
    );
    expect(commit.status).toBe(200);
    await f.call("PATCH", `${LTS}/${updaterUid}/set_end_of_execution/`, {
      historical_update_uid: start.body.historical_update.uid,
      error_on_update: false,
    });

    // The store holds the exact values.
    const stored = await f.store.readFrame(storageUid);
    expect(stored.column("account_id")).toEqual([2n ** 53n, ABOVE, MAX, -1]);
    expect(stored.column("qty")).toEqual([null, ABOVE, MIN, 3]);

    // Pages write them as exact integer tokens (JSON.stringify would throw on a bigint).
    const page = await rawCall(
      f,
      "POST",
      `${DT}/${storageUid}/get_data_between_dates_from_remote/`,
      '{"start_date": null, "end_date": null, "offset": 0}',
    );
    expect(page.status).toBe(200);
    expect(page.text).toContain('"account_id":9223372036854775807,"qty":-9223372036854775808');
    expect(page.text).toContain('"account_id":9007199254740993,"qty":9007199254740993');
    expect(page.text).toContain('"account_id":9007199254740992,"qty":null');

    // A dimension filter on a value beyond 2^53 matches that value only, not its double.
    const last = await rawCall(
      f,
      "POST",
      `${DT}/${storageUid}/get_last_observation/`,
      '{"dimension_filters": {"account_id": [9007199254740993]}}',
    );
    expect(last.status).toBe(200);
    expect(last.text).toBe(
      '[{"time_index":"2026-05-01T00:00:00Z","account_id":9007199254740993,"qty":9007199254740993,"px":1.5}]',
    );
    const filtered = await rawCall(
      f,
      "POST",
      `${DT}/${storageUid}/get_data_between_dates_from_remote/`,
      '{"offset": 0, "dimension_filters": {"account_id": [9223372036854775807]}, "columns": ["qty"]}',
    );
    expect(filtered.text).toBe(
      '{"results":[{"time_index":"2026-05-01T00:00:00Z","account_id":9223372036854775807,"qty":-9223372036854775808}],"next_offset":null}',
    );

    // Statistics are keyed by each account's exact digits.
    const stats = await f.call("GET", `${STC}/${storageUid}/get_stats/`);
    expect(Object.keys(stats.body.multi_index_stats.index_progress).sort()).toEqual(
      ["-1", "9007199254740992", "9007199254740993", "9223372036854775807"].sort(),
    );
  });
});

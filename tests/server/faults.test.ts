import { describe, expect, it } from "vitest";
import { FaultInjector } from "../../src/server/fault-injector.js";
import { createPlatformServer, startPlatformServer } from "../../src/server/platform-server.js";
import {
  COMMIT_BODY,
  chunkBody,
  DT,
  LTS,
  readAll,
  row,
  STORAGE_HASH,
  setupTable,
  startServer,
  TOKEN,
} from "./server-fixture.js";

const CONSTANTS = "/orm/api/ts_manager/api/constants";

describe("fault injection", () => {
  it("answers 429 with Retry-After, then 500/502/503, `times` times, then the real route", async () => {
    const f = await startServer();
    f.server.faults
      .add({ method: "GET", path: /constants$/, times: 1, action: { status: 429, retryAfter: 2 } })
      .add({ method: "GET", path: /constants$/, times: 1, action: { status: 500 } })
      .add({ method: "GET", path: /constants$/, times: 1, action: { status: 502 } })
      .add({ method: "GET", path: /constants$/, times: 1, action: { status: 503, retryAfter: 0 } });
    const first = await f.call("GET", CONSTANTS);
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("2");
    expect(first.body.detail).toMatch(/429/);
    expect((await f.call("GET", CONSTANTS)).status).toBe(500);
    expect((await f.call("GET", CONSTANTS)).status).toBe(502);
    const unavailable = await f.call("GET", CONSTANTS);
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get("retry-after")).toBe("0");
    expect((await f.call("GET", CONSTANTS)).status).toBe(200);
    expect(f.server.faults.count({ method: "GET", path: /constants$/ })).toBe(5);
    expect(f.server.faults.requests.map((r) => r.status)).toEqual([429, 500, 502, 503, 200]);
    // Faults come before auth: the POST below is not matched by the GET-only rules.
    f.server.faults.clear();
    expect(f.server.faults.requests).toEqual([]);
  });

  it("413 for chunks over N rows: nothing staged; the halves land exactly once", async () => {
    const f = await startServer();
    const { storageUid, updaterUid } = await setupTable(f);
    f.server.faults.add({
      method: "POST",
      path: /insert_data_into_table\/$/,
      action: { tooLargeOverRows: 2 },
    });
    await f.call("PATCH", `${LTS}/${updaterUid}/set_start_of_execution/`, {});
    const rows = [row(0, "AAPL", 1), row(1, "AAPL", 2), row(2, "AAPL", 3), row(3, "AAPL", 4)];
    const big = await f.call(
      "POST",
      `${LTS}/${updaterUid}/insert_data_into_table/`,
      chunkBody(rows),
    );
    expect(big.status).toBe(413);
    for (const half of [rows.slice(0, 2), rows.slice(2)]) {
      expect(
        (await f.call("POST", `${LTS}/${updaterUid}/insert_data_into_table/`, chunkBody(half)))
          .status,
      ).toBe(200);
    }
    await f.call(
      "POST",
      `${LTS}/${updaterUid}/set_last_update_index_time_from_update_stats/`,
      COMMIT_BODY,
    );
    expect(await readAll(f, storageUid)).toEqual(rows);
    expect(f.server.faults.count({ path: /insert_data_into_table/, status: 413 })).toBe(1);
    expect(f.server.faults.count({ path: /insert_data_into_table/, status: 200 })).toBe(2);
  });

  it("slow responses wait delayMs, then answer normally", async () => {
    const f = await startServer();
    f.server.faults.add({ path: /constants$/, times: 1, action: { delayMs: 250 } });
    const t0 = performance.now();
    expect((await f.call("GET", CONSTANTS)).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(240);
  });

  it("drops the connection before the route runs: nothing is applied", async () => {
    const f = await startServer();
    f.server.faults.add({
      method: "POST",
      path: /get_or_create\/$/,
      times: 1,
      action: { drop: "before" },
    });
    await expect(
      f.call("POST", `${DT}/get_or_create/`, { storage_hash: STORAGE_HASH }),
    ).rejects.toThrow();
    expect(await f.store.listStorages()).toEqual([]);
    expect(f.server.faults.requests).toEqual([
      { method: "POST", path: `${DT}/get_or_create/`, status: 0, fault: { drop: "before" } },
    ]);
    expect(
      (await f.call("POST", `${DT}/get_or_create/`, { storage_hash: STORAGE_HASH })).status,
    ).toBe(201);
  });

  it("drops the connection after the route ran: re-sent writes duplicate nothing", async () => {
    const f = await startServer();
    f.server.faults.add({
      method: "POST",
      path: /get_or_create\/$/,
      times: 1,
      action: { drop: "after" },
    });
    await expect(
      f.call("POST", `${DT}/get_or_create/`, { storage_hash: STORAGE_HASH }),
    ).rejects.toThrow();
    expect(await f.store.listStorages()).toHaveLength(1);
    const resent = await f.call("POST", `${DT}/get_or_create/`, { storage_hash: STORAGE_HASH });
    expect(resent.status).toBe(200);
    expect(await f.store.listStorages()).toHaveLength(1);

    f.server.faults.clear();
    const { storageUid, updaterUid } = await setupTable(f);
    f.server.faults
      .add({
        method: "POST",
        path: /insert_data_into_table\/$/,
        times: 1,
        action: { drop: "after" },
      })
      .add({
        method: "POST",
        path: /set_last_update_index_time_from_update_stats\/$/,
        times: 1,
        action: { drop: "after" },
      });
    await f.call("PATCH", `${LTS}/${updaterUid}/set_start_of_execution/`, {});
    const rows = [row(0, "AAPL", 1), row(1, "MSFT", 2)];
    const path = `${LTS}/${updaterUid}/insert_data_into_table/`;
    await expect(f.call("POST", path, chunkBody(rows))).rejects.toThrow();
    expect((await f.call("POST", path, chunkBody(rows))).status).toBe(200);
    const commit = `${LTS}/${updaterUid}/set_last_update_index_time_from_update_stats/`;
    await expect(f.call("POST", commit, COMMIT_BODY)).rejects.toThrow();
    expect((await f.call("POST", commit, COMMIT_BODY)).status).toBe(200);
    expect(await readAll(f, storageUid)).toEqual(rows);
    expect(f.server.faults.count({ method: "POST", path: /insert_data_into_table/ })).toBe(2);
    expect(f.server.faults.count({ status: 0 })).toBe(2);
  });

  it("createPlatformServer takes initial rules and serves without listening", async () => {
    const { DuckDBStore } = await import("../../src/store/duckdb/index.js");
    const store = await DuckDBStore.open({ path: ":memory:" });
    try {
      const faults = new FaultInjector();
      const server = createPlatformServer({
        store,
        token: TOKEN,
        faults: [{ path: /constants$/, times: 1, action: { status: 503 } }],
      });
      const shared = createPlatformServer({ store, token: TOKEN, faults });
      expect(shared.faults).toBe(faults);
      const headers = { Authorization: `Bearer ${TOKEN}` };
      expect((await server.app.request(CONSTANTS, { headers })).status).toBe(503);
      expect((await server.app.request(CONSTANTS, { headers })).status).toBe(200);
      expect(server.faults.count({ path: /constants/ })).toBe(2);
    } finally {
      await store.close();
    }
  });

  it("listens on loopback only", async () => {
    const { DuckDBStore } = await import("../../src/store/duckdb/index.js");
    const store = await DuckDBStore.open({ path: ":memory:" });
    try {
      await expect(startPlatformServer({ store, host: "0.0.0.0" })).rejects.toThrow(/loopback/);
    } finally {
      await store.close();
    }
  });
});

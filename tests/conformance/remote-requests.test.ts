import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.js";
import { F } from "../../src/filters/filter-builders.js";
import { SearchRequest } from "../../src/filters/search-request.js";
import { toWireJson } from "../../src/filters/wire-filter-compiler.js";
import { Frame } from "../../src/frame/frame.js";
import { toEpochMicros } from "../../src/frame/time.js";
import type { RequestLogEntry } from "../../src/server/fault-injector.js";
import type { StorageRecord, UpdaterRecord } from "../../src/store/data-store.js";
import { RemoteApiError } from "../../src/store/remote/remote-errors.js";
import { RemoteStore } from "../../src/store/remote/remote-store.js";
import { rejectionOf } from "../helpers/temp-store.js";
import { API, DT, LTS, PRJ, SCH } from "../server/server-fixture.js";
import { type RemoteFixture, remoteStoreFactory } from "./remote-factory.js";

/**
 * Pins the exact method, path, payload and status of each route the remote store calls
 * (protocol section 2, appendix B) against the real local server over HTTP, with request capture
 * on: the bodies are read from the server's request log (`rawBody` keeps the number tokens as
 * sent), the answers are the server's own. The server's read pages hold 2 rows, so reads page.
 */
const factory = remoteStoreFactory("requests", { pageSize: 2 });

const CONSTANTS = `${API}/ts_manager/api/constants`;
const INDEX = ["time_index", "account_uid", "unique_identifier"];
const HOUR = 3_600_000_000;
const T0 = toEpochMicros("2026-05-01T00:00:00Z");
const T0_SECONDS = 1_777_593_600;

let fx: RemoteFixture;

/** The requests logged since the last `clear()` with this method and path (exact, or a pattern). */
function sent(method: string, path: string | RegExp): RequestLogEntry[] {
  return fx.server.faults.requests.filter(
    (r) => r.method === method && (typeof path === "string" ? r.path === path : path.test(r.path)),
  );
}

/** The one request logged for the method and path. */
function sentOnce(method: string, path: string | RegExp): RequestLogEntry {
  const found = sent(method, path);
  expect(found.map((r) => `${r.method} ${r.path}`)).toHaveLength(1);
  return found[0]!;
}

/** `METHOD path status` of every logged request, in order. */
function routes(): string[] {
  return fx.server.faults.requests.map((r) => `${r.method} ${r.path} ${r.status}`);
}

// biome-ignore lint/suspicious/noExplicitAny: the server's answers are read as arbitrary JSON
const answer = (entry: RequestLogEntry): any => entry.response;

/** The data source uid of the project, from the server's answer to the one project lookup. */
function projectDataSource(): string {
  const uid = answer(sentOnce("GET", `${PRJ}/${fx.server.projectUid}/`)).data_source.uid;
  expect(uid).toEqual(expect.any(String));
  return uid;
}

/** A storage of hash `hash` and, unless told not to, its updater `<hash>_updater`. */
async function register(hash: string, withUpdater = true) {
  const storage = await fx.store.registerStorage({
    storageHash: hash,
    namespace: null,
    buildConfiguration: {},
    sourceClassName: "Prices",
  });
  const updater = withUpdater
    ? await fx.store.registerUpdater({
        updateHash: `${hash}_updater`,
        storageHash: hash,
        buildConfiguration: {},
        namespace: null,
      })
    : null;
  return { storage, updater };
}

/**
 * A storage indexed by (time_index, account_uid, unique_identifier) holding BTC and ETH of
 * account-a at hours 0..4, `value` a float64 holding whole values (100 + hour); the log is
 * cleared after.
 */
async function seeded(): Promise<{ storage: StorageRecord; updater: UpdaterRecord }> {
  const { storage, updater } = await register("prices_requests");
  const records = [];
  for (let h = 0; h < 5; h++) {
    for (const id of ["BTC", "ETH"]) {
      records.push({
        time_index: new Date((T0 + h * HOUR) / 1000),
        account_uid: "account-a",
        unique_identifier: id,
        value: 100 + h,
      });
    }
  }
  const frame = Frame.fromRecords(records, { indexNames: INDEX, dtypes: { value: "float64" } });
  await fx.store.writeFrame(storage.uid, frame, { updaterUid: updater!.uid });
  fx.server.faults.clear();
  return { storage, updater: updater! };
}

const BTC = { account_uid: "account-a", unique_identifier: "BTC" };
const row = (hour: number, id: string) => ({
  time_index: `2026-05-01T0${hour}:00:00Z`,
  account_uid: "account-a",
  unique_identifier: id,
  value: 100 + hour,
});

describe("RemoteStore requests, as the local server received them", () => {
  beforeEach(async () => {
    fx = await factory();
    fx.server.faults.capture = true;
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  describe("RemoteStore registration payloads", () => {
    it("DT get_or_create carries the project's data source, the source code, the config schema and the Python-typed build configuration", async () => {
      const input = {
        storageHash: "prices_abc",
        namespace: "ns",
        buildConfiguration: { scale: 1, window: 5 },
        buildConfigurationJson: '{"scale": 1.0, "window": 5}',
        sourceClassName: "Prices",
        sourceCode: { text: "class Prices(DataNode): ...", gitHash: "0123abcd" },
        buildConfigurationJsonSchema: { config: { type: "object", title: "PricesConfig" } },
      };
      const record = await fx.store.registerStorage(input);
      const dataSourceUid = projectDataSource();
      const post = sentOnce("POST", `${DT}/get_or_create/`);
      expect(post.status).toBe(201);
      expect(post.headers?.["content-type"]).toBe("application/json");
      expect(post.body).toEqual({
        storage_hash: "prices_abc",
        namespace: "ns",
        time_serie_source_code_git_hash: "0123abcd",
        time_serie_source_code: "class Prices(DataNode): ...",
        build_configuration: { scale: 1, window: 5 },
        data_source_uid: dataSourceUid,
        build_configuration_json_schema: { config: { type: "object", title: "PricesConfig" } },
        open_to_public: false,
        source_class_name: "Prices",
      });
      // The build configuration goes out as the text it was given: `1.0` stays a float.
      expect(post.rawBody).toContain('"build_configuration":{"scale": 1.0, "window": 5}');
      expect(record).toMatchObject({
        uid: answer(post).uid,
        storageHash: "prices_abc",
        namespace: "ns",
        sourceClassName: "Prices",
        schema: null,
      });

      // Get-or-create of a storage that exists (200) gives its table's schema; the data source
      // uid is read once per store.
      await fx.store.ensureTableSchema(record.uid, {
        timeIndexName: "time_index",
        indexNames: INDEX,
        columnDtypes: {
          time_index: "timestamptz",
          account_uid: "string",
          unique_identifier: "string",
          value: "float64",
        },
      });
      fx.server.faults.clear();
      const again = await fx.store.registerStorage({
        storageHash: "prices_abc",
        namespace: "ns",
        buildConfiguration: { scale: 1, window: 5 },
        sourceClassName: "Prices",
      });
      expect(routes()).toEqual([`POST ${DT}/get_or_create/ 200`]);
      expect(sentOnce("POST", `${DT}/get_or_create/`).body).toMatchObject({
        build_configuration: { scale: 1, window: 5 },
        time_serie_source_code_git_hash: null,
        time_serie_source_code: null,
        build_configuration_json_schema: null,
        data_source_uid: dataSourceUid,
      });
      expect(again.uid).toBe(record.uid);
      expect(again.schema?.indexNames).toEqual(INDEX);
    });

    it("B35: LTS get_or_create sends current_project_uid (the store's project), not current_project_id", async () => {
      const { storage } = await register("prices_abc", false);
      const dataSourceUid = projectDataSource();
      fx.server.faults.clear();
      const updater = await fx.store.registerUpdater({
        updateHash: "abc123",
        storageHash: "prices_abc",
        buildConfiguration: { scale: 1 },
        buildConfigurationJson: '{"scale": 1.0}',
        namespace: null,
        // Only enters the update hash: the body names the project this process works for.
        projectUid: "another-project",
      });
      const post = sentOnce("POST", `${LTS}/get_or_create/`);
      expect(post.status).toBe(201);
      expect(post.body).toEqual({
        update_hash: "abc123",
        build_configuration: { scale: 1 },
        data_source_uid: dataSourceUid,
        remote_table__hash_id: "prices_abc",
        current_project_uid: fx.server.projectUid,
      });
      expect(post.body).not.toHaveProperty("current_project_id");
      expect(post.rawBody).toContain('"build_configuration":{"scale": 1.0}');
      expect(updater).toMatchObject({
        uid: answer(post).uid,
        updateHash: "abc123",
        storageUid: storage.uid,
        storageHash: "prices_abc",
      });
    });
  });

  describe("RemoteStore read and delete payloads", () => {
    it("B19: range read body (float epoch seconds), paged by next_offset", async () => {
      const { storage } = await seeded();
      const start = T0;
      const end = T0 + 4 * HOUR;
      const frame = await fx.store.readFrame(storage.uid, {
        start,
        end,
        columns: ["value"],
        dimensionRangeMap: [{ coordinate: BTC, startDate: start, endDate: end }],
      });
      expect(frame.columnNames).toEqual([...INDEX, "value"]);
      expect(frame.toRecords({ time: "iso" })).toEqual([0, 1, 2, 3, 4].map((h) => row(h, "BTC")));

      const reads = sent("POST", `${DT}/${storage.uid}/get_data_between_dates_from_remote/`);
      const body = (offset: number) =>
        `{"start_date":${T0_SECONDS}.0,"end_date":${T0_SECONDS + 4 * 3600}.0,"great_or_equal":true,` +
        `"less_or_equal":true,"columns":["value"],"offset":${offset},"dimension_range_map":[{"coordinate":` +
        `{"account_uid":"account-a","unique_identifier":"BTC"},"start_date":${T0_SECONDS},` +
        `"end_date":${T0_SECONDS + 4 * 3600}}]}`;
      // Five rows in pages of two: each request asks for the offset the previous answer named.
      expect(reads.map((r) => r.rawBody)).toEqual([body(0), body(2), body(4)]);
      expect(reads.map((r) => answer(r).next_offset)).toEqual([2, 4, null]);
      expect(reads.map((r) => r.status)).toEqual([200, 200, 200]);
    });

    it("B18 / B21: last observation and delete_after_date bodies", async () => {
      const { storage } = await seeded();
      const query = {
        dimensionFilters: { account_uid: ["account-a"], unique_identifier: ["BTC"] },
        indexCoordinates: [BTC],
      };
      const last = await fx.store.readLastObservation(storage.uid, query);
      expect(last.toRecords({ time: "iso" })).toEqual([row(4, "BTC")]);
      const lastCall = sentOnce("POST", `${DT}/${storage.uid}/get_last_observation/`);
      expect(lastCall.body).toEqual({
        dimension_filters: query.dimensionFilters,
        index_coordinates: [BTC],
      });

      const deleted = await fx.store.deleteAfterDate(storage.uid, T0 + 2 * HOUR, {
        dimensionFilters: { unique_identifier: ["ETH"] },
      });
      const deleteCall = sentOnce("POST", `${DT}/${storage.uid}/delete_after_date/`);
      expect(deleteCall.body).toEqual({
        after_date: "2026-05-01T02:00:00Z",
        dimension_filters: { unique_identifier: ["ETH"] },
      });
      expect(deleteCall.status).toBe(200);
      // Hours 2, 3 and 4 of ETH (inclusive); the count is the server's.
      expect(deleted.deletedCount).toBe(3);
      expect(answer(deleteCall).deleted_count).toBe(3);
      const left = await fx.store.readFrame(storage.uid, {
        dimensionFilters: { unique_identifier: ["ETH"] },
      });
      expect(left.toRecords({ time: "iso" })).toEqual([row(0, "ETH"), row(1, "ETH")]);
    });

    it("a failed read throws the client's error after its retries, never an empty frame", async () => {
      const { storage } = await seeded();
      const path = `${DT}/${storage.uid}/get_data_between_dates_from_remote/`;
      fx.server.faults.add({
        path: /get_data_between_dates_from_remote\/$/,
        action: { status: 502 },
      });
      const error = await rejectionOf(fx.store.readFrame(storage.uid));
      expect(error).toBeInstanceOf(RemoteApiError);
      expect(error).toMatchObject({ status: 502, code: "server_error", attempts: 3 });
      // The factory's client makes 3 attempts: each reached the server and failed.
      expect(sent("POST", path).map((r) => r.status)).toEqual([502, 502, 502]);

      // Two failures and then an answer: the retries are invisible, every row comes back.
      fx.server.faults.clear();
      fx.server.faults.add({
        path: /get_data_between_dates_from_remote\/$/,
        times: 2,
        action: { status: 502 },
      });
      const frame = await fx.store.readFrame(storage.uid);
      expect(frame.length).toBe(10);
      expect(
        sent("POST", path).map((r) => [r.status, (r.body as { offset: number }).offset]),
      ).toEqual([
        [502, 0],
        [502, 0],
        [200, 0],
        [200, 2],
        [200, 4],
        [200, 6],
        [200, 8],
      ]);
    });
  });

  describe("RemoteStore runs", () => {
    it("runs: the scheduler built once per updater across runs, heartbeat, active tree, queue, start 201, end with the historical update uid", async () => {
      const { storage, updater } = await seeded();
      const u = updater.uid;
      const run = await fx.store.openRun(u);

      const build = sentOnce("POST", `${SCH}/build_and_assign_to_update_nodes/`);
      const sch = answer(build).uid as string;
      expect(routes()).toEqual([
        `GET ${CONSTANTS} 200`,
        `POST ${SCH}/build_and_assign_to_update_nodes/ 201`,
        `PATCH ${SCH}/${sch}/ 200`,
        `GET ${LTS}/ 200`,
        `PATCH ${LTS}/${u}/ 200`,
        `GET ${LTS}/${u}/get_all_dependencies_update_priority/ 200`,
        `PATCH ${SCH}/${sch}/in-active-tree/ 200`,
        `POST ${LTS}/get_metadatas_and_set_updates/ 200`,
        `PATCH ${LTS}/${u}/set_start_of_execution/ 201`,
      ]);
      expect(build.body).toEqual({
        scheduler_name: `DEBUG_${u}`,
        delink_all_update_nodes: false,
        remove_from_other_schedulers: true,
        scheduler_kwargs: { running_in_debug_mode: true },
        update_node_uids: [u],
      });
      const beat = sentOnce("PATCH", `${SCH}/${sch}/`);
      expect(beat.body).toEqual({
        is_running: true,
        running_process_pid: process.pid,
        running_in_debug_mode: true,
        last_heart_beat: expect.closeTo(Date.now() / 1000, -1),
      });
      // Epoch seconds as a float token, even when whole.
      expect(beat.rawBody).toMatch(/"last_heart_beat":\d+\.\d+}$/);
      expect(sentOnce("GET", `${LTS}/`).query).toEqual({
        update_hash: [updater.updateHash],
        remote_table__data_source__uid: [expect.any(String)],
        include_relations_detail: ["true"],
      });
      expect(sentOnce("PATCH", `${LTS}/${u}/`).body).toEqual({ ogm_dependencies_linked: true });
      expect(sentOnce("PATCH", `${SCH}/${sch}/in-active-tree/`).body).toEqual({
        update_node_uids: [u],
      });
      expect(sentOnce("POST", `${LTS}/get_metadatas_and_set_updates/`).body).toEqual({
        update_nodes: [
          {
            node_type: "local_time_serie",
            update_hash: updater.updateHash,
            remote_table_hash_id: storage.storageHash,
            uid: u,
          },
        ],
        update_details_kwargs: {
          error_on_last_update: false,
          active_update_scheduler_uid: sch,
          active_update_status: "Q",
        },
        update_priority_dict: null,
      });
      const start = sentOnce("PATCH", `${LTS}/${u}/set_start_of_execution/`);
      expect(start.body).toEqual({ active_update_scheduler_uid: sch });
      expect(run).toMatchObject({
        uid: answer(start).historical_update.uid,
        updaterUid: u,
        mustUpdate: true,
      });
      expect(run.statistics.globalIndexProgress).toEqual({ min: T0, max: T0 + 4 * HOUR });
      expect(run.statistics.indexProgress).toEqual({
        "account-a": { BTC: T0 + 4 * HOUR, ETH: T0 + 4 * HOUR },
      });

      // Closed by the run's uid and updater: no memory of the store that opened it is needed.
      fx.server.faults.clear();
      await fx.store.closeRun({ uid: run.uid, updaterUid: u }, { error: true, errorMessage: "x" });
      expect(routes()).toEqual([`PATCH ${LTS}/${u}/set_end_of_execution/ 200`]);
      expect(sentOnce("PATCH", `${LTS}/${u}/set_end_of_execution/`).body).toEqual({
        historical_update_uid: run.uid,
        error_on_update: true,
      });

      // The next run reuses the scheduler and the constants; the edges are already linked.
      fx.server.faults.clear();
      const next = await fx.store.openRun(u);
      expect(routes()).toEqual([
        `PATCH ${SCH}/${sch}/ 200`,
        `GET ${LTS}/ 200`,
        `GET ${LTS}/${u}/get_all_dependencies_update_priority/ 200`,
        `PATCH ${SCH}/${sch}/in-active-tree/ 200`,
        `POST ${LTS}/get_metadatas_and_set_updates/ 200`,
        `PATCH ${LTS}/${u}/set_start_of_execution/ 201`,
      ]);
      expect(next.uid).not.toBe(run.uid);
      await fx.store.closeRun(next, { error: false, errorMessage: null });
      expect(sent("PATCH", `${LTS}/${u}/set_end_of_execution/`).at(-1)?.body).toEqual({
        historical_update_uid: next.uid,
        error_on_update: false,
      });
    });

    it("dependency edges: PATCH with 204, direct deps from the priority list", async () => {
      const a = await register("prices_a");
      const b = await register("prices_b");
      const c = await register("prices_c");
      const table = await register("prices_table", false); // nothing writes it: an API table
      const u1 = a.updater!.uid;
      const u2 = b.updater!.uid;
      fx.server.faults.clear();
      await fx.store.linkDependency(u1, { kind: "updater", uid: u2 });
      await fx.store.linkDependency(u1, { kind: "storage", uid: table.storage.uid });
      expect(
        fx.server.faults.requests.map((r) => [
          r.method,
          r.path,
          r.body,
          r.status,
          r.headers?.["content-type"],
        ]),
      ).toEqual([
        [
          "PATCH",
          `${LTS}/${u1}/depends_on_connect/`,
          { target_update_node_uid: u2 },
          204,
          "application/json",
        ],
        [
          "PATCH",
          `${LTS}/${u1}/depends_on_connect_to_api_table/`,
          { target_table_uid: table.storage.uid },
          204,
          "application/json",
        ],
      ]);
      // u3 is upstream of u2: listed by the server at depth 2, not a direct dependency of u1.
      await fx.store.linkDependency(u2, { kind: "updater", uid: c.updater!.uid });
      fx.server.faults.clear();
      expect(await fx.store.listDependencies(u1)).toEqual([
        { kind: "updater", uid: u2 },
        { kind: "storage", uid: table.storage.uid },
      ]);
      const list = sentOnce("GET", `${LTS}/${u1}/get_all_dependencies_update_priority/`);
      expect(list.query).toEqual({ include_unwritten_tables: ["true"] });
      expect(
        // biome-ignore lint/suspicious/noExplicitAny: rows of the server's answer
        answer(list).map((r: any) => [r.node_type, r.update_node_uid, r.depth, r.is_direct]),
      ).toEqual([
        ["local_time_serie", u1, 0, false],
        ["local_time_serie", u2, 1, true],
        ["local_time_serie", c.updater!.uid, 2, false],
        ["api_table", null, 1, true],
      ]);
    });
  });

  describe("RemoteStore metadata and filtered reads", () => {
    it("PATCH DT metadata; a 409 is identifier_taken naming the holder", async () => {
      const holder = (await register("prices_holder", false)).storage;
      const other = (await register("prices_other", false)).storage;
      fx.server.faults.clear();
      const updated = await fx.store.setTableMetadata(holder.uid, {
        identifier: "daily_prices",
        description: "Daily prices",
      });
      expect(updated).toMatchObject({ uid: holder.uid, identifier: "daily_prices" });
      const patch = sentOnce("PATCH", `${DT}/${holder.uid}/`);
      expect(patch.body).toEqual({ identifier: "daily_prices", description: "Daily prices" });
      expect(patch.status).toBe(200);

      fx.server.faults.clear();
      const error = await rejectionOf(
        fx.store.setTableMetadata(other.uid, { identifier: "daily_prices" }),
      );
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe("identifier_taken");
      expect((error as StoreError).message).toContain(`storage prices_holder (${holder.uid})`);
      // The 409 is not retried; the holder is then looked up by the identifier.
      expect(routes()).toEqual([`PATCH ${DT}/${other.uid}/ 409`, `GET ${DT}/ 200`]);
      expect(sentOnce("PATCH", `${DT}/${other.uid}/`).body).toEqual({ identifier: "daily_prices" });
      expect(sentOnce("GET", `${DT}/`).query).toMatchObject({ identifier: ["daily_prices"] });
      expect((await fx.store.findStorage({ uid: other.uid }))?.identifier).toBeNull();
    });

    it("get-data-from-filter sends the exact wire JSON and restores dtypes (B43)", async () => {
      const { storage } = await seeded();
      await fx.store.setTableMetadata(storage.uid, { identifier: "base_prices" });
      fx.server.faults.clear();
      const request = new SearchRequest({
        nodeUniqueIdentifier: "base_prices",
        filter: F.gt("value", 102),
        limit: 3,
      });
      const result = await fx.store.getDataFromFilter(request);
      const call = sentOnce("POST", `${DT}/get-data-from-filter/`);
      expect(call.rawBody).toBe(toWireJson(request));
      expect(call.headers?.["content-type"]).toBe("application/json");
      expect(result.indexNames).toEqual(INDEX);
      // The cells come as bare JSON numbers (`103`): the dtypes are the table's.
      expect(answer(call).results[0].base__value).toBe(103);
      expect(result.frame.dtypes).toEqual({
        time_index: "timestamptz",
        account_uid: "string",
        unique_identifier: "string",
        base__value: "float64",
      });
      const prefixed = (h: number, id: string) => {
        const { value, ...index } = row(h, id);
        return { ...index, base__value: value };
      };
      expect(result.frame.toRecords({ time: "iso" })).toEqual([
        prefixed(3, "BTC"),
        prefixed(3, "ETH"),
        prefixed(4, "BTC"),
      ]);
      expect(result.nextOffset).toBe(3);
      expect(result.storages["base"]?.uid).toBe(storage.uid);
    });
  });
});

describe("store selection", () => {
  it("configure({ store: 'remote' }) opens RemoteStore.fromEnv lazily; the project enters hashes", async () => {
    const { closeStore, configure, getStore } = await import("../../src/store/store-registry.js");
    const { resolveProjectUid } = await import("../../src/hashing/project-uid.js");
    const keys = [
      "MAINSEQUENCE_ENDPOINT",
      "MAINSEQUENCE_ACCESS_TOKEN",
      "MAIN_SEQUENCE_PROJECT_UID",
    ];
    const saved = keys.map((k) => process.env[k]);
    Object.assign(process.env, {
      MAINSEQUENCE_ENDPOINT: "http://127.0.0.1:9/",
      MAINSEQUENCE_ACCESS_TOKEN: "t0ken",
      MAIN_SEQUENCE_PROJECT_UID: "project-7",
    });
    try {
      expect(resolveProjectUid()).toBeUndefined();
      configure({ store: "remote" });
      expect(resolveProjectUid()).toBe("project-7");
      const opened = await getStore();
      expect(opened).toBeInstanceOf(RemoteStore);
      expect(opened.description).toBe("remote:http://127.0.0.1:9/orm/api");
      expect((opened as RemoteStore).projectUid).toBe("project-7");
      await closeStore();
      configure({ store: "duckdb" });
      expect(resolveProjectUid()).toBeUndefined();
    } finally {
      keys.forEach((k, i) => {
        if (saved[i] === undefined) delete process.env[k];
        else process.env[k] = saved[i];
      });
    }
  });
});

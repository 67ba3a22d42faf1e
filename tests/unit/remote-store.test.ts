import { describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.js";
import { F } from "../../src/filters/filter-builders.js";
import { SearchRequest } from "../../src/filters/search-request.js";
import { toWireJson } from "../../src/filters/wire-filter-compiler.js";
import { toEpochMicros } from "../../src/frame/time.js";
import type { HttpMethod, RequestOptions } from "../../src/store/remote/http-client.js";
import { RemoteApiError } from "../../src/store/remote/remote-errors.js";
import { type PlatformClientLike, RemoteStore } from "../../src/store/remote/remote-store.js";

/** Pins the exact method, path and payload of each route (protocol section 2, appendix B). */

interface Call {
  readonly method: HttpMethod;
  readonly path: string;
  readonly options: RequestOptions;
}
type Handler = (call: Call) => unknown;

class FakeClient implements PlatformClientLike {
  readonly apiRoot = "http://platform.test/orm/api";
  readonly calls: Call[] = [];
  constructor(private readonly handler: Handler) {}
  async request<T>(method: HttpMethod, path: string, options: RequestOptions = {}) {
    const call = { method, path, options };
    this.calls.push(call);
    const data = this.handler(call) as T;
    return { status: 200, data, requestId: null, attempts: 1 };
  }
  async *paginate<T>(path: string, options: RequestOptions = {}) {
    const { data } = await this.request<unknown>("GET", path, options);
    const list = Array.isArray(data) ? data : ((data as { results: unknown[] }).results ?? []);
    yield* list as T[];
  }
  async close() {}
}

const PROJECT = "P-1";
const STC = {
  related_table_uid: "storage-714",
  time_index_name: "time_index",
  index_names: ["time_index", "account_uid", "unique_identifier"],
  column_dtypes_map: {
    time_index: "timestamp with time zone",
    account_uid: "string",
    unique_identifier: "string",
    value: "float64",
  },
};
const STORAGE = {
  uid: "storage-714",
  storage_hash: "prices_abc",
  namespace: null,
  source_class_name: "Prices",
  build_configuration: {},
  creation_date: "2026-05-01T00:00:00Z",
  identifier: null,
  description: null,
  data_frequency_id: null,
  open_for_everyone: false,
  sourcetableconfiguration: STC,
};

function routes(extra: Record<string, (call: Call) => unknown> = {}): Handler {
  return (call) => {
    const key = `${call.method} ${call.path}`;
    for (const [pattern, fn] of Object.entries(extra)) {
      if (new RegExp(`^${pattern}$`).test(key)) return fn(call);
    }
    if (key === `GET pods/projects/${PROJECT}/`)
      return { uid: PROJECT, data_source: { uid: "dtds-1" } };
    if (key === "GET ts_manager/dynamic_table/") return [STORAGE];
    throw new Error(`unexpected ${key}`);
  };
}

const store = (handler: Handler) => {
  const client = new FakeClient(handler);
  return { client, remote: new RemoteStore({ client, projectUid: PROJECT }) };
};

describe("RemoteStore route payloads", () => {
  it("DT get_or_create carries the data source of the project", async () => {
    const { client, remote } = store(
      routes({ "POST ts_manager/dynamic_table/get_or_create/": () => STORAGE }),
    );
    const record = await remote.registerStorage({
      storageHash: "prices_abc",
      namespace: "ns",
      buildConfiguration: { a: 1 },
      sourceClassName: "Prices",
    });
    expect(record.schema?.indexNames).toEqual(STC.index_names);
    const post = client.calls.find((c) => c.path.endsWith("get_or_create/"))!;
    expect(post.options.json).toEqual({
      storage_hash: "prices_abc",
      namespace: "ns",
      time_serie_source_code_git_hash: null,
      time_serie_source_code: null,
      build_configuration: { a: 1 },
      data_source_uid: "dtds-1",
      build_configuration_json_schema: null,
      open_to_public: false,
      source_class_name: "Prices",
    });
    expect(post.options.expectedStatus).toEqual([200, 201]);
  });

  it("B35: LTS get_or_create sends current_project_uid, not current_project_id", async () => {
    const { client, remote } = store(
      routes({
        "POST ts_manager/local_time_serie/get_or_create/": () => ({
          uid: "u-1",
          update_hash: "abc123",
          build_configuration: {},
          data_node_storage: STORAGE,
        }),
      }),
    );
    const u = await remote.registerUpdater({
      updateHash: "abc123",
      storageHash: "prices_abc",
      buildConfiguration: {},
      namespace: null,
    });
    expect(u).toMatchObject({ uid: "u-1", storageUid: "storage-714", storageHash: "prices_abc" });
    const body = client.calls.find((c) => c.path.endsWith("get_or_create/"))!.options.json;
    expect(body).toEqual({
      update_hash: "abc123",
      build_configuration: {},
      data_source_uid: "dtds-1",
      remote_table__hash_id: "prices_abc",
      current_project_uid: PROJECT,
    });
  });

  it("B19: range read body, paged by next_offset", async () => {
    const start = toEpochMicros("2026-05-01T00:00:00Z");
    const end = toEpochMicros("2026-05-01T03:00:00Z");
    const row = {
      time_index: "2026-05-01T01:00:00Z",
      account_uid: "account-a",
      unique_identifier: "BTC",
      value: 101.5,
    };
    const { client, remote } = store(
      routes({
        "POST ts_manager/dynamic_table/storage-714/get_data_between_dates_from_remote/": (c) =>
          (c.options.json as { offset: number }).offset === 0
            ? { results: [row], next_offset: 1 }
            : { results: [{ ...row, unique_identifier: "ETH" }], next_offset: null },
      }),
    );
    const frame = await remote.readFrame("storage-714", {
      start,
      end,
      columns: ["value"],
      dimensionRangeMap: [
        {
          coordinate: { account_uid: "account-a", unique_identifier: "BTC" },
          startDate: start,
          endDate: end,
        },
      ],
    });
    expect(frame.length).toBe(2);
    expect(frame.columnNames).toEqual(["time_index", "account_uid", "unique_identifier", "value"]);
    const reads = client.calls.filter((c) =>
      c.path.endsWith("get_data_between_dates_from_remote/"),
    );
    expect(JSON.stringify(reads[0]!.options.json)).toBe(
      JSON.stringify({
        start_date: 1777593600,
        end_date: 1777604400,
        great_or_equal: true,
        less_or_equal: true,
        columns: ["value"],
        offset: 0,
        dimension_range_map: [
          {
            coordinate: { account_uid: "account-a", unique_identifier: "BTC" },
            start_date: 1777593600,
            end_date: 1777604400,
          },
        ],
      }),
    );
    expect((reads[1]!.options.json as { offset: number }).offset).toBe(1);
  });

  it("B18 / B21: last observation and delete_after_date bodies", async () => {
    const { client, remote } = store(
      routes({
        "POST ts_manager/dynamic_table/storage-714/get_last_observation/": () => [
          {
            time_index: "2026-05-01T03:00:00Z",
            account_uid: "account-a",
            unique_identifier: "BTC",
            value: 101.5,
          },
        ],
        "POST ts_manager/dynamic_table/storage-714/delete_after_date/": () => ({
          ok: true,
          deleted_count: 4,
        }),
      }),
    );
    const query = {
      dimensionFilters: { account_uid: ["account-a"], unique_identifier: ["BTC"] },
      indexCoordinates: [{ account_uid: "account-a", unique_identifier: "BTC" }],
    };
    const last = await remote.readLastObservation("storage-714", query);
    expect(last.toRecords({ time: "iso" })).toEqual([
      {
        time_index: "2026-05-01T03:00:00Z",
        account_uid: "account-a",
        unique_identifier: "BTC",
        value: 101.5,
      },
    ]);
    expect(client.calls.at(-1)!.options.json).toEqual({
      dimension_filters: query.dimensionFilters,
      index_coordinates: query.indexCoordinates,
    });
    const deleted = await remote.deleteAfterDate(
      "storage-714",
      toEpochMicros("2026-04-01T00:00:00Z"),
      {
        dimensionFilters: { unique_identifier: ["AAPL", "MSFT"] },
      },
    );
    expect(deleted.deletedCount).toBe(4);
    expect(client.calls.at(-1)!.options.json).toEqual({
      after_date: "2026-04-01T00:00:00Z",
      dimension_filters: { unique_identifier: ["AAPL", "MSFT"] },
    });
  });

  it("a failed read throws the client's error, never an empty frame", async () => {
    const { remote } = store(
      routes({
        "POST ts_manager/dynamic_table/storage-714/get_data_between_dates_from_remote/": () => {
          throw new RemoteApiError("boom", { status: 502, attempts: 4 });
        },
      }),
    );
    await expect(remote.readFrame("storage-714")).rejects.toMatchObject({
      status: 502,
      attempts: 4,
    });
  });

  it("runs: the scheduler once per updater, start 201, end with the historical update uid", async () => {
    const { client, remote } = store(
      routes({
        "POST ts_manager/scheduler/build_and_assign_to_update_nodes/": () => ({ uid: "sch-1" }),
        "PATCH ts_manager/local_time_serie/u-1/set_start_of_execution/": () => ({
          historical_update: { uid: "hu-1", update_time_start: "2026-05-01T03:00:00Z" },
          must_update: true,
          global_index_progress: { min: "2026-05-01T00:00:00Z", max: "2026-05-01T03:00:00Z" },
          index_progress: { "account-a": { "asset-1": "2026-05-01T02:00:00Z" } },
          index_min: { "account-a": { "asset-1": "2026-05-01T00:00:00Z" } },
          multi_index_column_stats: {},
          direct_dependency_uids: ["dependency-1"],
        }),
        "PATCH ts_manager/local_time_serie/u-1/set_end_of_execution/": () => ({}),
      }),
    );
    const run = await remote.openRun("u-1");
    await remote.openRun("u-1");
    expect(run).toMatchObject({ uid: "hu-1", updaterUid: "u-1", mustUpdate: true });
    expect(run.statistics.globalIndexProgress?.max).toBe(toEpochMicros("2026-05-01T03:00:00Z"));
    expect(run.statistics.indexProgress).toEqual({
      "account-a": { "asset-1": toEpochMicros("2026-05-01T02:00:00Z") },
    });
    const scheduler = client.calls.filter((c) => c.path.includes("scheduler"));
    expect(scheduler).toHaveLength(1);
    expect(scheduler[0]!.options.json).toEqual({
      scheduler_name: "DEBUG_u-1",
      delink_all_update_nodes: false,
      remove_from_other_schedulers: true,
      scheduler_kwargs: { running_in_debug_mode: true },
      update_node_uids: ["u-1"],
    });
    const start = client.calls.find((c) => c.path.endsWith("set_start_of_execution/"))!;
    expect(start.options).toMatchObject({
      json: { active_update_scheduler_uid: "sch-1" },
      expectedStatus: [201],
    });
    // Closed by the run's uid and updater: no memory of the store that opened it is needed.
    await remote.closeRun({ uid: "hu-1", updaterUid: "u-1" }, { error: true, errorMessage: "x" });
    expect(client.calls.at(-1)!.options).toMatchObject({
      json: { historical_update_uid: "hu-1", error_on_update: true },
      expectedStatus: [200],
    });
    expect(client.calls.at(-1)!.path).toBe("ts_manager/local_time_serie/u-1/set_end_of_execution/");
  });

  it("dependency edges: PATCH with 204, direct deps from the priority list", async () => {
    const { client, remote } = store(
      routes({
        "PATCH ts_manager/local_time_serie/u-1/depends_on_connect(_to_api_table)?/": () => null,
        "GET ts_manager/local_time_serie/u-1/get_all_dependencies_update_priority/": () => [
          { update_node_uid: "u-1", node_type: "local_time_serie", depth: 0, is_direct: false },
          { update_node_uid: "u-2", node_type: "local_time_serie", depth: 1, is_direct: true },
          { update_node_uid: "u-3", node_type: "local_time_serie", depth: 2, is_direct: false },
          {
            update_node_uid: null,
            node_type: "api_table",
            target_table_uid: "s-9",
            depth: 1,
            is_direct: true,
          },
        ],
      }),
    );
    await remote.linkDependency("u-1", { kind: "updater", uid: "u-2" });
    await remote.linkDependency("u-1", { kind: "storage", uid: "s-9" });
    expect(
      client.calls.map((c) => [c.method, c.path, c.options.json, c.options.expectedStatus]),
    ).toEqual([
      [
        "PATCH",
        "ts_manager/local_time_serie/u-1/depends_on_connect/",
        { target_update_node_uid: "u-2" },
        [204],
      ],
      [
        "PATCH",
        "ts_manager/local_time_serie/u-1/depends_on_connect_to_api_table/",
        { target_table_uid: "s-9" },
        [204],
      ],
    ]);
    expect(await remote.listDependencies("u-1")).toEqual([
      { kind: "updater", uid: "u-2" },
      { kind: "storage", uid: "s-9" },
    ]);
  });

  it("PATCH DT metadata; a 409 is identifier_taken naming the holder", async () => {
    const { remote } = store(
      routes({
        "PATCH ts_manager/dynamic_table/storage-714/": () => {
          throw new RemoteApiError("conflict", {
            status: 409,
            body: { detail: "identifier taken" },
          });
        },
        "GET ts_manager/dynamic_table/": () => [
          { ...STORAGE, uid: "other", storage_hash: "holder_hash", identifier: "x" },
        ],
      }),
    );
    const error = await remote
      .setTableMetadata("storage-714", { identifier: "x" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe("identifier_taken");
    expect((error as StoreError).message).toContain("holder_hash");
  });

  it("get-data-from-filter sends the exact wire JSON and restores dtypes (B43)", async () => {
    const request = new SearchRequest({ nodeUniqueIdentifier: "base", filter: F.gt("value", 1) });
    const { client, remote } = store(
      routes({
        "POST ts_manager/dynamic_table/get-data-from-filter/": () => ({
          data_node_storage_map: { base: STORAGE },
          index_names: { "0": "time_index", "1": "account_uid", "2": "unique_identifier" },
          results: [
            {
              time_index: "2026-05-01T03:00:00Z",
              account_uid: "account-a",
              unique_identifier: "BTC",
              base__value: "101.5",
            },
          ],
          next_offset: null,
        }),
      }),
    );
    const result = await remote.getDataFromFilter(request);
    const call = client.calls.at(-1)!;
    expect(call.options.body).toBe(toWireJson(request));
    expect(call.options.contentType).toBe("application/json");
    expect(result.indexNames).toEqual(["time_index", "account_uid", "unique_identifier"]);
    expect(result.frame.dtypes).toEqual({
      time_index: "timestamptz",
      account_uid: "string",
      unique_identifier: "string",
      base__value: "float64",
    });
    expect(result.frame.toRecords({ time: "iso" })[0]?.["base__value"]).toBe(101.5);
    expect(result.nextOffset).toBeNull();
    expect(result.storages["base"]?.uid).toBe("storage-714");
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

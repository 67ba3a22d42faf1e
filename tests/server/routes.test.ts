import { describe, expect, it } from "vitest";
import {
  AST,
  DT,
  LTS,
  PRJ,
  readAll,
  row,
  SCH,
  SCHEMA_BODY,
  STC,
  STORAGE_HASH,
  setupTable,
  startServer,
  UPDATE_HASH,
  upload,
} from "./server-fixture.js";

// Protocol 2.8: the only fields a response may carry (the Python client forbids others).
const STORAGE_KEYS = [
  "uid",
  "storage_hash",
  "namespace",
  "build_configuration_json_schema",
  "identifier",
  "protect_from_deletion",
  "description",
  "labels",
  "creation_date",
  "created_by_user_uid",
  "organization_owner_uid",
  "open_for_everyone",
  "data_source_open_for_everyone",
  "build_configuration",
  "time_serie_source_code_git_hash",
  "time_serie_source_code",
  "data_source",
  "source_class_name",
  "sourcetableconfiguration",
  "table_index_names",
  "compression_policy_config",
  "retention_policy_config",
  "data_frequency_id",
].sort();
const STC_KEYS = [
  "related_table_uid",
  "time_index_name",
  "index_names",
  "column_dtypes_map",
  "foreign_keys",
  "last_time_index_value",
  "earliest_index_value",
  "storage_layout",
  "physical_index_plan",
  "foreign_key_projections",
  "multi_index_stats",
  "multi_index_column_stats",
  "open_for_everyone",
  "columns_metadata",
  "column_index_names",
].sort();
const UPDATER_KEYS = [
  "uid",
  "update_hash",
  "build_configuration",
  "ogm_dependencies_linked",
  "data_node_storage",
  "tags",
  "labels",
  "description",
  "update_details",
  "run_configuration",
  "open_for_everyone",
].sort();
const DETAILS_KEYS = [
  "active_update",
  "update_pid",
  "error_on_last_update",
  "last_update",
  "next_update",
  "update_statistics",
  "active_update_status",
  "active_update_scheduler_uid",
  "update_priority",
  "last_updated_by_user_uid",
  "related_table_uid",
  "run_configuration",
].sort();
const SCHEDULER_KEYS = [
  "uid",
  "name",
  "is_running",
  "running_process_pid",
  "running_in_debug_mode",
  "updates_halted",
  "host",
  "api_address",
  "api_port",
  "last_heart_beat",
  "pre_loads_in_tree",
  "in_active_tree",
  "schedules_to",
].sort();
const keys = (o: object) => Object.keys(o).sort();
const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe("bootstrap (protocol 2.1)", () => {
  it("GET constants and GET PRJ/{uid}/ with its remote data source", async () => {
    const f = await startServer({ projectUid: "11111111-1111-4111-8111-111111111111" });
    const constants = await f.call("GET", `/orm/api/ts_manager/api/constants`);
    expect(constants.status).toBe(200);
    expect(constants.body.DATA_SOURCE_TYPE_TIMESCALEDB).toContain("timescale_db");
    expect(constants.body.SCHEDULER_HEART_BEAT_FREQUENCY_SECONDS).toBeTypeOf("number");

    const project = await f.call("GET", `${PRJ}/11111111-1111-4111-8111-111111111111/`);
    expect(project.status).toBe(200);
    expect(keys(project.body)).toEqual(
      [
        "uid",
        "project_name",
        "data_source",
        "git_ssh_url",
        "created_by",
        "labels",
        "is_initialized",
      ].sort(),
    );
    const ds = project.body.data_source;
    expect(keys(ds)).toEqual(["id", "related_resource", "related_resource_class_type", "uid"]);
    expect(ds.related_resource_class_type).toBe("timescale_db");
    expect(ds.related_resource).toMatchObject({ class_type: "timescale_db", status: "AVAILABLE" });

    expect((await f.call("GET", `${PRJ}/someone-else/`)).status).toBe(404);
    const unknown = await f.call("GET", "/orm/api/ts_manager/no_such_thing/");
    expect(unknown).toMatchObject({ status: 404, body: { detail: "Not found." } });
  });
});

describe("DataNodeStorage routes (protocol 2.2)", () => {
  it("get_or_create is idempotent by hash: 201 then 200 with the same uid, only 2.8 fields", async () => {
    const f = await startServer();
    const body = {
      storage_hash: STORAGE_HASH,
      namespace: null,
      time_serie_source_code_git_hash: "abc",
      time_serie_source_code: "class X: ...",
      build_configuration: { window: 5 },
      data_source_uid: "00000000-0000-4000-8000-0000000000d5",
      build_configuration_json_schema: null,
      open_to_public: false,
    };
    const first = await f.call("POST", `${DT}/get_or_create/`, body);
    expect(first.status).toBe(201);
    expect(keys(first.body)).toEqual(STORAGE_KEYS);
    expect(first.body).toMatchObject({
      storage_hash: STORAGE_HASH,
      build_configuration: { window: 5 },
      time_serie_source_code_git_hash: "abc",
      source_class_name: "prices",
      sourcetableconfiguration: null,
    });
    expect(first.body.creation_date).toMatch(ISO_Z);
    expect(first.body.data_source.related_resource.class_type).toBe("timescale_db");
    const again = await f.call("POST", `${DT}/get_or_create/`, body);
    expect(again.status).toBe(200);
    expect(again.body.uid).toBe(first.body.uid);
    expect((await f.store.listStorages()).length).toBe(1);
  });

  it("rejects bad payloads with DRF field errors (400)", async () => {
    const f = await startServer();
    const missing = await f.call("POST", `${DT}/get_or_create/`, { namespace: null });
    expect(missing).toMatchObject({
      status: 400,
      body: { storage_hash: ["This field is required."] },
    });
    const long = await f.call("POST", `${DT}/get_or_create/`, { storage_hash: "x".repeat(64) });
    expect(long.status).toBe(400);
    const ds = await f.call("POST", `${DT}/get_or_create/`, {
      storage_hash: STORAGE_HASH,
      data_source_uid: "not-ours",
    });
    expect(ds.status).toBe(400);
    expect(ds.body.data_source_uid).toHaveLength(1);
    const notJson = await f.call("POST", `${DT}/get_or_create/`, undefined, { raw: "{nope" });
    expect(notJson.status).toBe(400);
    expect(notJson.body.detail).toMatch(/JSON parse error/);
  });

  it("lists by storage_hash / identifier / uid as a DRF page; PATCH metadata 200, identifier taken 409", async () => {
    const f = await startServer();
    const { storageUid } = await setupTable(f);
    const other = await f.call("POST", `${DT}/get_or_create/`, {
      storage_hash: "other_0123456789abcdef0123456789abcdef",
    });
    const byHash = await f.call(
      "GET",
      `${DT}/?storage_hash=${STORAGE_HASH}&include_relations_detail=true`,
    );
    expect(byHash.status).toBe(200);
    expect(keys(byHash.body)).toEqual(["count", "next", "previous", "results"]);
    expect(byHash.body.results.map((s: { uid: string }) => s.uid)).toEqual([storageUid]);
    expect(keys(byHash.body.results[0].sourcetableconfiguration)).toEqual(STC_KEYS);
    const byUid = await f.call("GET", `${DT}/?uid=${other.body.uid}`);
    expect(byUid.body.count).toBe(1);
    const inList = await f.call("GET", `${DT}/?storage_hash__in=${STORAGE_HASH},nope`);
    expect(inList.body.count).toBe(1);
    const all = await f.call("GET", `${DT}/?limit=1`);
    expect(all.body.count).toBe(2);
    expect(all.body.next).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/orm\/api\/.*offset=1/);

    const patched = await f.call("PATCH", `${DT}/${storageUid}/`, {
      identifier: "daily_prices",
      description: "Daily prices",
      data_frequency_id: "1d",
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ identifier: "daily_prices", data_frequency_id: "1d" });
    expect(keys(patched.body)).toEqual(STORAGE_KEYS);
    const byId = await f.call("GET", `${DT}/?identifier=daily_prices`);
    expect(byId.body.results[0].uid).toBe(storageUid);
    const taken = await f.call("PATCH", `${DT}/${other.body.uid}/`, { identifier: "daily_prices" });
    expect(taken.status).toBe(409);
    expect(taken.body.detail).toBeTypeOf("string");
    expect((await f.call("PATCH", `${DT}/no-such-uid/`, { description: "x" })).status).toBe(404);
  });

  it("initialize-source-table: 201 creates, 200 confirms, 409 on conflict, 400 on bad dtypes", async () => {
    const f = await startServer();
    const storage = await f.call("POST", `${DT}/get_or_create/`, { storage_hash: STORAGE_HASH });
    const path = `${DT}/${storage.body.uid}/initialize-source-table/`;
    const created = await f.call("POST", path, SCHEMA_BODY);
    expect(created.status).toBe(201);
    expect(keys(created.body)).toEqual([
      "created_physical_table",
      "created_source_table_configuration",
      "source_table_configuration",
    ]);
    expect(created.body.source_table_configuration).toMatchObject({
      related_table_uid: storage.body.uid,
      time_index_name: "time_index",
      index_names: ["time_index", "unique_identifier"],
      column_dtypes_map: {
        time_index: "timestamp with time zone",
        unique_identifier: "string",
        close: "float64",
      },
    });
    const again = await f.call("POST", path, SCHEMA_BODY);
    expect(again.status).toBe(200);
    expect(again.body.created_physical_table).toBe(false);
    const conflict = await f.call("POST", path, {
      ...SCHEMA_BODY,
      column_dtypes_map: { ...SCHEMA_BODY.column_dtypes_map, close: "string" },
    });
    expect(conflict.status).toBe(409);
    expect(conflict.body.detail).toMatch(/conflict/);
    const naive = await f.call("POST", path, {
      ...SCHEMA_BODY,
      column_dtypes_map: { ...SCHEMA_BODY.column_dtypes_map, seen: "timestamp" },
    });
    expect(naive.status).toBe(400);
    expect(naive.body.column_dtypes_map[0]).toMatch(/naive/);
    const missing = await f.call("POST", path, {
      ...SCHEMA_BODY,
      column_dtypes_map: { time_index: "datetime" },
    });
    expect(missing.status).toBe(400);
  });
});

describe("DataNodeUpdate and scheduler routes (protocol 2.4, 2.5)", () => {
  it("get_or_create 201 then 200; list by update_hash; detail nests the storage with include_relations_detail", async () => {
    const f = await startServer();
    await f.call("POST", `${DT}/get_or_create/`, { storage_hash: STORAGE_HASH });
    const body = {
      update_hash: UPDATE_HASH,
      build_configuration: { window: 5 },
      data_source_uid: "00000000-0000-4000-8000-0000000000d5",
      remote_table__hash_id: STORAGE_HASH,
      current_project_uid: f.server.projectUid,
    };
    const first = await f.call("POST", `${LTS}/get_or_create/`, body);
    expect(first.status).toBe(201);
    expect(keys(first.body)).toEqual(UPDATER_KEYS);
    expect(keys(first.body.update_details)).toEqual(DETAILS_KEYS);
    expect(first.body.data_node_storage).toBeTypeOf("string");
    const again = await f.call("POST", `${LTS}/get_or_create/`, body);
    expect(again).toMatchObject({ status: 200, body: { uid: first.body.uid } });

    const list = await f.call(
      "GET",
      `${LTS}/?update_hash=${UPDATE_HASH}&remote_table__data_source__uid=00000000-0000-4000-8000-0000000000d5&include_relations_detail=true`,
    );
    expect(list.body.results).toHaveLength(1);
    expect(list.body.results[0].data_node_storage.storage_hash).toBe(STORAGE_HASH);
    const detail = await f.call("GET", `${LTS}/${first.body.uid}/?include_relations_detail=false`);
    expect(detail.body.data_node_storage).toBe(list.body.results[0].data_node_storage.uid);

    const badProject = await f.call("POST", `${LTS}/get_or_create/`, {
      ...body,
      current_project_uid: "x",
    });
    expect(badProject.status).toBe(400);
    const noStorage = await f.call("POST", `${LTS}/get_or_create/`, {
      ...body,
      update_hash: "other",
      remote_table__hash_id: "missing",
    });
    expect(noStorage.status).toBe(400);
    expect(noStorage.body.remote_table__hash_id).toHaveLength(1);
  });

  it("scheduler build (201, then 200 by name), heartbeat PATCH 200, in-active-tree", async () => {
    const f = await startServer();
    const { updaterUid } = await setupTable(f);
    const body = {
      scheduler_name: `DEBUG_${updaterUid}`,
      delink_all_update_nodes: false,
      remove_from_other_schedulers: true,
      scheduler_kwargs: { running_in_debug_mode: true },
      update_node_uids: [updaterUid],
    };
    const created = await f.call("POST", `${SCH}/build_and_assign_to_update_nodes/`, body);
    expect(created.status).toBe(201);
    expect(keys(created.body)).toEqual(SCHEDULER_KEYS);
    // Tree items are TableUpdateNode objects, never uid strings (the client validates them).
    expect(created.body).toMatchObject({
      running_in_debug_mode: true,
      schedules_to: [{ uid: updaterUid, update_hash: UPDATE_HASH, ogm_dependencies_linked: false }],
    });
    expect(created.body.schedules_to[0].build_configuration).toBeTypeOf("object");
    const again = await f.call("POST", `${SCH}/build_and_assign_to_update_nodes/`, body);
    expect(again).toMatchObject({ status: 200, body: { uid: created.body.uid } });
    expect(again.body.schedules_to).toHaveLength(1);
    const found = await f.call("GET", `${SCH}/for-update-node/?update_node_uid=${updaterUid}`);
    expect(found).toMatchObject({ status: 200, body: { uid: created.body.uid } });
    const none = await f.call("GET", `${SCH}/for-update-node/?update_node_uid=nobody`);
    expect(none.status).toBe(404);
    expect(none.body.detail).toContain("nobody");
    // Assigning to another scheduler moves the node there.
    const other = await f.call("POST", `${SCH}/build_and_assign_to_update_nodes/`, {
      ...body,
      scheduler_name: "other",
      update_node_uids: [],
    });
    const moved = await f.call("PATCH", `${SCH}/${other.body.uid}/assign/`, {
      update_node_uids: [updaterUid],
    });
    expect(moved.body.schedules_to.map((n: { uid: string }) => n.uid)).toEqual([updaterUid]);
    const left = await f.call("GET", `${SCH}/${created.body.uid}/`);
    expect(left.body.schedules_to).toEqual([]);
    const beat = await f.call("PATCH", `${SCH}/${created.body.uid}/`, {
      is_running: true,
      running_process_pid: 42,
      running_in_debug_mode: true,
      last_heart_beat: 1777593600.5,
    });
    expect(beat.status).toBe(200);
    expect(beat.body).toMatchObject({ is_running: true, running_process_pid: 42 });
    expect(beat.body.last_heart_beat).toBe("2026-05-01T00:00:00.500Z");
    const tree = await f.call("PATCH", `${SCH}/${created.body.uid}/in-active-tree/`, {
      update_node_uids: [updaterUid, updaterUid],
    });
    expect(tree.status).toBe(200);
    expect(tree.body.in_active_tree.map((n: { uid: string }) => n.uid)).toEqual([updaterUid]);
    expect((await f.call("PATCH", `${SCH}/nope/`, { is_running: true })).status).toBe(404);
  });

  it("dependency edges (204), PATCH flags (200), priorities and get_metadatas_and_set_updates", async () => {
    const f = await startServer();
    const { updaterUid } = await setupTable(f);
    const up = await f.call("POST", `${DT}/get_or_create/`, {
      storage_hash: "up_0123456789abcdef0123456789abcdef",
    });
    const upUpdater = await f.call("POST", `${LTS}/get_or_create/`, {
      update_hash: "up_u",
      build_configuration: {},
      remote_table__hash_id: up.body.storage_hash,
      current_project_uid: f.server.projectUid,
    });
    const api = await f.call("POST", `${DT}/get_or_create/`, {
      storage_hash: "api_0123456789abcdef0123456789abcdef",
    });
    const apiWriter = await f.call("POST", `${LTS}/get_or_create/`, {
      update_hash: "api_writer",
      build_configuration: {},
      remote_table__hash_id: api.body.storage_hash,
      current_project_uid: f.server.projectUid,
    });
    // A table nothing writes cannot be sent back as an update node: it is left out.
    const orphan = await f.call("POST", `${DT}/get_or_create/`, {
      storage_hash: "orphan_0123456789abcdef0123456789abcdef",
    });
    const edge = await f.call("PATCH", `${LTS}/${updaterUid}/depends_on_connect/`, {
      target_update_node_uid: upUpdater.body.uid,
    });
    expect(edge.status).toBe(204);
    expect(edge.body).toBeNull();
    const again = await f.call("PATCH", `${LTS}/${updaterUid}/depends_on_connect/`, {
      target_update_node_uid: upUpdater.body.uid,
    });
    expect(again.status).toBe(204);
    const apiEdge = await f.call("PATCH", `${LTS}/${updaterUid}/depends_on_connect_to_api_table/`, {
      target_table_uid: api.body.uid,
    });
    expect(apiEdge.status).toBe(204);
    await f.call("PATCH", `${LTS}/${updaterUid}/depends_on_connect_to_api_table/`, {
      target_table_uid: orphan.body.uid,
    });
    expect(await f.store.listDependencies(updaterUid)).toEqual([
      { kind: "updater", uid: upUpdater.body.uid },
      { kind: "storage", uid: api.body.uid },
      { kind: "storage", uid: orphan.body.uid },
    ]);

    const linked = await f.call("PATCH", `${LTS}/${updaterUid}/`, {
      ogm_dependencies_linked: true,
    });
    expect(linked).toMatchObject({ status: 200, body: { ogm_dependencies_linked: true } });
    // The client merges this answer into an instance holding the storage object (M3).
    expect(linked.body.data_node_storage).toMatchObject({ storage_hash: STORAGE_HASH });

    const priorities = await f.call(
      "GET",
      `${LTS}/${updaterUid}/get_all_dependencies_update_priority/`,
    );
    expect(priorities.status).toBe(200);
    expect(priorities.body).toEqual([
      expect.objectContaining({
        update_node_uid: updaterUid,
        update_priority: 1,
        number_of_upstreams: 1,
        depth: 0,
      }),
      expect.objectContaining({
        update_node_uid: upUpdater.body.uid,
        node_type: "local_time_serie",
        update_hash: "up_u",
        update_priority: 0,
        is_direct: true,
      }),
      expect.objectContaining({
        node_type: "api_table",
        target_table_uid: api.body.uid,
        update_node_uid: apiWriter.body.uid,
        update_hash: "api_writer",
        remote_table_hash_id: api.body.storage_hash,
        is_direct: true,
      }),
    ]);
    const withUnwritten = await f.call(
      "GET",
      `${LTS}/${updaterUid}/get_all_dependencies_update_priority/?include_unwritten_tables=true`,
    );
    expect(withUnwritten.body[3]).toMatchObject({
      node_type: "api_table",
      target_table_uid: orphan.body.uid,
      update_node_uid: null,
    });

    const meta = await f.call("POST", `${LTS}/get_metadatas_and_set_updates/`, {
      update_nodes: [
        {
          uid: updaterUid,
          update_hash: UPDATE_HASH,
          remote_table_hash_id: STORAGE_HASH,
          node_type: "local_time_serie",
        },
      ],
      update_details_kwargs: {
        error_on_last_update: false,
        active_update_scheduler_uid: "sch-1",
        active_update_status: "Q",
      },
      update_priority_dict: null,
    });
    expect(meta.status).toBe(200);
    expect(keys(meta.body)).toEqual([
      "all_index_stats",
      "local_metadatas",
      "source_table_config_map",
      "state_data",
    ]);
    expect(keys(meta.body.source_table_config_map[updaterUid])).toEqual(STC_KEYS);
    expect(meta.body.state_data[updaterUid]).toMatchObject({
      active_update_status: "Q",
      active_update_scheduler_uid: "sch-1",
    });
    expect(meta.body.local_metadatas[0].uid).toBe(updaterUid);
  });

  it("runs: set_start_of_execution 201 with statistics, chunks 200, commit 200, end 200, get_stats", async () => {
    const f = await startServer();
    const { storageUid, updaterUid } = await setupTable(f);
    const start = await f.call("PATCH", `${LTS}/${updaterUid}/set_start_of_execution/`, {
      active_update_scheduler_uid: null,
    });
    expect(start.status).toBe(201);
    expect(keys(start.body)).toEqual(
      [
        "historical_update",
        "must_update",
        "direct_dependency_uids",
        "global_index_progress",
        "index_progress",
        "index_min",
        "multi_index_column_stats",
        "time_index_name",
        "index_names",
      ].sort(),
    );
    expect(start.body).toMatchObject({
      must_update: true,
      global_index_progress: null,
      index_progress: {},
      time_index_name: "time_index",
      index_names: ["time_index", "unique_identifier"],
    });
    expect(start.body.historical_update).toMatchObject({ related_table_uid: updaterUid });
    expect(start.body.historical_update.update_time_start).toMatch(ISO_Z);
    await f.call("PATCH", `${LTS}/${updaterUid}/set_end_of_execution/`, {
      historical_update_uid: start.body.historical_update.uid,
      error_on_update: false,
    });

    await upload(f, updaterUid, [[row(0, "AAPL", 1.5), row(2, "AAPL", 2.5)], [row(1, "MSFT", 10)]]);
    const stats = await f.call("GET", `${STC}/${storageUid}/get_stats/`);
    expect(stats.status).toBe(200);
    expect(stats.body).toEqual({
      multi_index_stats: {
        _GLOBAL_: { min: "2026-05-01T00:00:00Z", max: "2026-05-01T02:00:00Z" },
        index_progress: { AAPL: "2026-05-01T02:00:00Z", MSFT: "2026-05-01T01:00:00Z" },
        index_min: { AAPL: "2026-05-01T00:00:00Z", MSFT: "2026-05-01T01:00:00Z" },
      },
      multi_index_column_stats: {
        close: {
          AAPL: { min: "2026-05-01T00:00:00Z", max: "2026-05-01T02:00:00Z" },
          MSFT: { min: "2026-05-01T01:00:00Z", max: "2026-05-01T01:00:00Z" },
        },
      },
    });
    const next = await f.call("PATCH", `${LTS}/${updaterUid}/set_start_of_execution/`, {});
    expect(next.body.global_index_progress).toEqual({
      min: "2026-05-01T00:00:00Z",
      max: "2026-05-01T02:00:00Z",
    });
    expect(next.body.index_progress).toEqual({
      AAPL: "2026-05-01T02:00:00Z",
      MSFT: "2026-05-01T01:00:00Z",
    });
    const updater = await f.call("GET", `${LTS}/${updaterUid}/`);
    expect(updater.body.update_details).toMatchObject({
      active_update: true,
      error_on_last_update: false,
    });
    expect(updater.body.update_details.last_update).toMatch(ISO_Z);

    const end = await f.call("PATCH", `${LTS}/${updaterUid}/set_end_of_execution/`, {
      historical_update_uid: next.body.historical_update.uid,
      error_on_update: true,
    });
    expect(end.status).toBe(200);
    expect(keys(end.body)).toEqual(UPDATER_KEYS);
    expect(end.body.update_details.error_on_last_update).toBe(true);
    const runs = await f.store.listRuns(updaterUid);
    expect(runs.map((r) => r.error)).toEqual([true, false, false]);

    const badCommit = await f.call(
      "POST",
      `${LTS}/${updaterUid}/set_last_update_index_time_from_update_stats/`,
      {
        data: "not base64 gzip",
      },
    );
    expect(badCommit.status).toBe(400);
    expect(badCommit.body.data).toHaveLength(1);
  });

  it("uploads before initialize-source-table are refused with 404", async () => {
    const f = await startServer();
    await f.call("POST", `${DT}/get_or_create/`, { storage_hash: STORAGE_HASH });
    const updater = await f.call("POST", `${LTS}/get_or_create/`, {
      update_hash: UPDATE_HASH,
      build_configuration: {},
      remote_table__hash_id: STORAGE_HASH,
      current_project_uid: f.server.projectUid,
    });
    const res = await f.call("POST", `${LTS}/${updater.body.uid}/insert_data_into_table/`, {
      data: "H4sIAAAAAAAAA4uOBQApu0wNAgAAAA==",
      chunk_stats: {},
      overwrite: true,
      chunk_index: 0,
      total_chunks: 1,
    });
    expect(res.status).toBe(404);
    expect(res.body.detail).toMatch(/initialize-source-table/);
    const stats = await f.call("GET", `${STC}/${updater.body.data_node_storage}/get_stats/`);
    expect(stats.status).toBe(404);
  });
});

describe("reads (protocol 2.11)", () => {
  it("pages by next_offset, epoch-second bounds, columns, dimension payloads", async () => {
    const f = await startServer({ pageSize: 2 });
    const { storageUid, updaterUid } = await setupTable(f);
    await upload(f, updaterUid, [
      [
        row(0, "AAPL", 1),
        row(1, "AAPL", 2),
        row(2, "AAPL", 3),
        row(0, "MSFT", 10),
        row(1, "MSFT", 11),
      ],
    ]);
    const path = `${DT}/${storageUid}/get_data_between_dates_from_remote/`;
    const first = await f.call("POST", path, {
      start_date: null,
      end_date: null,
      great_or_equal: null,
      less_or_equal: null,
      columns: null,
      offset: 0,
    });
    expect(first.status).toBe(200);
    expect(keys(first.body)).toEqual(["next_offset", "results"]);
    expect(first.body.results).toEqual([row(0, "AAPL", 1), row(0, "MSFT", 10)]);
    expect(first.body.next_offset).toBe(2);
    expect(await readAll(f, storageUid)).toHaveLength(5);

    const t1 = Date.parse("2026-05-01T01:00:00Z") / 1000;
    const bounded = await f.call("POST", path, {
      start_date: t1,
      end_date: t1 + 3600,
      great_or_equal: false,
      less_or_equal: true,
      columns: ["close"],
      offset: 0,
      dimension_filters: { unique_identifier: ["AAPL"] },
    });
    expect(bounded.body).toEqual({ results: [row(2, "AAPL", 3)], next_offset: null });
    const ranged = await f.call("POST", path, {
      start_date: null,
      end_date: null,
      columns: ["close"],
      offset: 0,
      dimension_range_map: [
        { coordinate: { unique_identifier: "MSFT" }, start_date: t1, start_date_operand: ">=" },
      ],
    });
    expect(ranged.body.results).toEqual([row(1, "MSFT", 11)]);
    const coords = await f.call("POST", path, {
      offset: 0,
      index_coordinates: [{ unique_identifier: "MSFT" }],
    });
    expect(coords.body.results.map((r: { close: number }) => r.close)).toEqual([10, 11]);

    const last = await f.call("POST", `${DT}/${storageUid}/get_last_observation/`, {});
    expect(last.status).toBe(200);
    expect(last.body).toEqual([row(1, "MSFT", 11), row(2, "AAPL", 3)]);
    const lastOne = await f.call("POST", `${DT}/${storageUid}/get_last_observation/`, {
      dimension_filters: { unique_identifier: ["MSFT"] },
    });
    expect(lastOne.body).toEqual([row(1, "MSFT", 11)]);

    await f.call("PATCH", `${DT}/${storageUid}/`, { identifier: "prices" });
    const byNode = await f.call("POST", `${DT}/get_data_between_dates_from_node_identifier/`, {
      start_date: null,
      end_date: null,
      great_or_equal: true,
      less_or_equal: true,
      columns: null,
      offset: 0,
      node_identifier: "prices",
      dimension_filters: { unique_identifier: ["MSFT"] },
    });
    expect(keys(byNode.body)).toEqual(["next_offset", "results", "storage_node"]);
    expect(byNode.body.results).toEqual([row(0, "MSFT", 10), row(1, "MSFT", 11)]);
    expect(byNode.body.storage_node.uid).toBe(storageUid);
    const noNode = await f.call("POST", `${DT}/get_data_between_dates_from_node_identifier/`, {
      offset: 0,
      node_identifier: "nope",
    });
    expect(noNode.status).toBe(404);
    const bad = await f.call("POST", path, { offset: -1 });
    expect(bad.status).toBe(400);
  });

  it("delete_after_date deletes inclusively and reports the new stats", async () => {
    const f = await startServer();
    const { storageUid, updaterUid } = await setupTable(f);
    await upload(f, updaterUid, [[row(0, "AAPL", 1), row(1, "AAPL", 2), row(2, "MSFT", 3)]]);
    const res = await f.call("POST", `${DT}/${storageUid}/delete_after_date/`, {
      after_date: "2026-05-01T01:00:00+00:00",
      dimension_filters: { unique_identifier: ["AAPL"] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      ok: true,
      deleted_count: 1,
      table_empty: false,
      stats: {
        last_time_index_value: "2026-05-01T02:00:00Z",
        earliest_index_value: "2026-05-01T00:00:00Z",
      },
    });
    expect(keys(res.body.stats)).toEqual([
      "earliest_index_value",
      "last_time_index_value",
      "multi_index_column_stats",
      "multi_index_stats",
    ]);
    expect(await readAll(f, storageUid)).toEqual([row(0, "AAPL", 1), row(2, "MSFT", 3)]);
  });
});

describe("search and filter routes (protocol 2.2, 3)", () => {
  it("get-data-from-filter answers the 3.3 shape and accepts limit 14000; bad requests are 400", async () => {
    const f = await startServer();
    const { updaterUid } = await setupTable(f);
    await upload(f, updaterUid, [[row(0, "AAPL", 1), row(1, "MSFT", 2)]]);
    const res = await f.call("POST", `${DT}/get-data-from-filter/`, {
      storage_hash: STORAGE_HASH,
      joins: [],
      filter: { type: "condition", field: "unique_identifier", op: "eq", value: "MSFT" },
      limit: 14000,
      offset: 0,
    });
    expect(res.status).toBe(200);
    expect(keys(res.body)).toEqual([
      "data_node_storage_map",
      "index_names",
      "next_offset",
      "results",
    ]);
    expect(keys(res.body.data_node_storage_map.base)).toEqual(STORAGE_KEYS);
    expect(res.body.index_names).toEqual(["time_index", "unique_identifier"]);
    expect(res.body.results).toEqual([
      { time_index: "2026-05-01T01:00:00Z", unique_identifier: "MSFT", base__close: 2 },
    ]);
    expect(res.body.next_offset).toBeNull();
    const bad = await f.call("POST", `${DT}/get-data-from-filter/`, {
      joins: [],
      limit: 50,
      offset: 0,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/Exactly one of storage_hash or node_unique_identifier/);
    const unknown = await f.call("POST", `${DT}/get-data-from-filter/`, {
      node_unique_identifier: "nope",
      joins: [],
      limit: 50,
      offset: 0,
    });
    expect(unknown.status).toBe(404);
  });

  it("description-search (POST), column-search (GET), refresh-table-search-index, get-org-unique-identifiers", async () => {
    const f = await startServer();
    const { storageUid } = await setupTable(f);
    await f.call("PATCH", `${DT}/${storageUid}/`, {
      identifier: "daily_close_prices",
      description: "Daily close prices of equities",
    });
    const columns = await f.call("POST", `${STC}/${storageUid}/set_or_update_columns_metadata/`, {
      columns_metadata: [
        { column_name: "close", dtype: "float64", label: "Close", description: "Closing price" },
      ],
    });
    expect(columns.status).toBe(200);
    const refresh = await f.call("POST", `${DT}/${storageUid}/refresh-table-search-index/`);
    expect(refresh.status).toBe(200);
    const search = await f.call("POST", `${DT}/description-search/`, {
      q: "daily close prices",
      trigram_k: 200,
      embed_k: 200,
      w_trgm: 0.65,
      w_emb: 0.35,
      embedding_model: "default",
    });
    expect(search.status).toBe(200);
    expect(keys(search.body)).toEqual(["count", "next", "previous", "results"]);
    expect(search.body.results[0].uid).toBe(storageUid);
    expect(keys(search.body.results[0])).toEqual(STORAGE_KEYS);
    expect(search.body.results[0].sourcetableconfiguration.columns_metadata).toEqual([
      {
        column_name: "close",
        dtype: "float64",
        label: "Close",
        description: "Closing price",
        source_config_id: null,
      },
    ]);
    const byColumn = await f.call("GET", `${DT}/column-search/?q=close`);
    expect(byColumn.status).toBe(200);
    expect(byColumn.body.results.map((s: { uid: string }) => s.uid)).toEqual([storageUid]);
    // The client's spelling of "storages without a namespace".
    const noNamespace = await f.call("GET", `${DT}/column-search/?q=close&namespace__isnull=true`);
    expect(noNamespace.status).toBe(200);
    expect(noNamespace.body.results.map((s: { uid: string }) => s.uid)).toEqual([storageUid]);
    const notNull = await f.call("GET", `${DT}/column-search/?q=close&namespace__isnull=false`);
    expect(notNull.status).toBe(400);
    const badFilter = await f.call("POST", `${DT}/description-search/`, {
      q: "x",
      no_such_filter: 1,
    });
    expect(badFilter.status).toBe(400);
    const noQ = await f.call("POST", `${DT}/description-search/`, { q: "  " });
    expect(noQ.status).toBe(400);
    const ids = await f.call("GET", `${DT}/get-org-unique-identifiers/`);
    expect(ids).toMatchObject({ status: 200, body: ["daily_close_prices"] });
    const stc = await f.call("PATCH", `${STC}/${storageUid}/`, { open_for_everyone: true });
    expect(stc).toMatchObject({ status: 200, body: { open_for_everyone: true } });
    expect(keys(stc.body)).toEqual(STC_KEYS);
  });
});

describe("assets (protocol 2.7)", () => {
  it("batch_get_or_register_custom_assets answers 200 with an array, idempotently; filter by unique_identifier__in", async () => {
    const f = await startServer();
    const assets = [
      {
        unique_identifier: "AAPL",
        snapshot: { name: "Apple", ticker: "AAPL", exchange_code: "XNAS" },
      },
      { unique_identifier: "MSFT", snapshot: { name: "Microsoft", ticker: "MSFT" } },
    ];
    const first = await f.call("POST", `${AST}/batch_get_or_register_custom_assets/`, assets);
    expect(first.status).toBe(200);
    expect(first.body).toHaveLength(2);
    expect(first.body[0]).toMatchObject({
      unique_identifier: "AAPL",
      current_snapshot: { name: "Apple", ticker: "AAPL", exchange_code: "XNAS" },
    });
    const again = await f.call("POST", `${AST}/batch_get_or_register_custom_assets/`, assets);
    expect(again.body.map((a: { id: number }) => a.id)).toEqual(
      first.body.map((a: { id: number }) => a.id),
    );
    const filtered = await f.call("GET", `${AST}/?unique_identifier__in=MSFT,NOPE`);
    expect(filtered.status).toBe(200);
    expect(
      filtered.body.results.map((a: { unique_identifier: string }) => a.unique_identifier),
    ).toEqual(["MSFT"]);
    const byTicker = await f.call("GET", `${AST}/?current_snapshot__ticker=AAPL`);
    expect(byTicker.body.count).toBe(1);
    const bad = await f.call("POST", `${AST}/batch_get_or_register_custom_assets/`, {
      not: "a list",
    });
    expect(bad.status).toBe(400);
  });
});

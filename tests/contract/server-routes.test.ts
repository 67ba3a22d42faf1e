import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { type ApiResponse, startServer } from "../server/server-fixture.js";
import { checkAnswer, ROUTES } from "./contract-schemas.js";

/**
 * Every route of the platform contract (ROUTES.md) that `tdag serve` serves, called at least once
 * the way the real Python client calls it, and every answer checked against the schema the client
 * validates it with: a 2xx answer the real client would reject is a failure here.
 */

const API = "/orm/api";
const DT = `${API}/ts_manager/dynamic_table`;
const LTS = `${API}/ts_manager/local_time_serie`;
const STC = `${API}/ts_manager/source_table_config`;
const SCH = `${API}/ts_manager/scheduler`;

/** Routes of ROUTES.md the server does not answer (yet), with the reason; the test keeps this honest. */
const NOT_SERVED: Readonly<Record<string, string>> = {
  "POST /orm/api/ts_manager/dynamic_table/{storage_uid}/run_query/":
    "arbitrary SQL against a table: not offered by the local server",
};

function gz(value: unknown): string {
  return gzipSync(Buffer.from(JSON.stringify(value))).toString("base64");
}

describe("tdag serve answers every contract route as the real client validates it", () => {
  it("each served route, called once or more, answers valid under its schema", async () => {
    const fx = await startServer();
    const seen = new Set<string>();
    const violations: string[] = [];
    const call = async (
      method: string,
      template: string,
      path: string,
      body?: unknown,
      token?: string | null,
    ): Promise<ApiResponse> => {
      const res = await fx.call(method, path, body, token === undefined ? {} : { token });
      seen.add(`${method} ${template}`);
      const problems = checkAnswer(method, path.split("?")[0]!, res.status, res.body ?? undefined);
      violations.push(...problems.map((p) => `${p} <- ${JSON.stringify(res.body)?.slice(0, 300)}`));
      return res;
    };
    const project = fx.server.projectUid;
    const ds = (
      await call("GET", `${API}/pods/projects/{project_uid}/`, `${API}/pods/projects/${project}/`)
    ).body.data_source.uid as string;
    await call("GET", `${API}/ts_manager/api/constants`, `${API}/ts_manager/api/constants`);

    // Registration, as the client does it: look up, then create what is missing.
    const hash = (name: string, n: number) => `${name}_${String(n).padStart(32, "0")}`;
    const storageHash = hash("prices", 1);
    const updateHash = hash("prices", 2);
    const lookup = `${LTS}/?update_hash=${updateHash}&remote_table__data_source__uid=${ds}`;
    await call("GET", `${LTS}/`, `${lookup}&include_relations_detail=true`);
    const config = { config: { mean: 1.5, scale: 1.0 } };
    const storage = (
      await call("POST", `${DT}/get_or_create/`, `${DT}/get_or_create/`, {
        storage_hash: storageHash,
        namespace: null,
        time_serie_source_code_git_hash: "0".repeat(40),
        time_serie_source_code: "class Prices: ...",
        build_configuration: config,
        data_source_uid: ds,
        build_configuration_json_schema: { config: { type: "object" } },
        open_to_public: false,
      })
    ).body;
    await call("GET", `${LTS}/`, `${lookup}&include_relations_detail=false`);
    const lts = (
      await call("POST", `${LTS}/get_or_create/`, `${LTS}/get_or_create/`, {
        update_hash: updateHash,
        build_configuration: config,
        data_source_uid: ds,
        remote_table__hash_id: storageHash,
        current_project_uid: project,
      })
    ).body;
    // A second, API-read table the node depends on.
    const apiHash = hash("apitable", 3);
    const api = (
      await call("POST", `${DT}/get_or_create/`, `${DT}/get_or_create/`, {
        storage_hash: apiHash,
        namespace: null,
        build_configuration: {},
        data_source_uid: ds,
        open_to_public: false,
      })
    ).body;
    await call(
      "GET",
      `${DT}/`,
      `${DT}/?storage_hash=${apiHash}&data_source__uid=${ds}&include_relations_detail=true`,
    );
    await call(
      "PATCH",
      `${LTS}/{lts_uid}/depends_on_connect_to_api_table/`,
      `${LTS}/${lts.uid}/depends_on_connect_to_api_table/`,
      { target_table_uid: api.uid },
    );
    const dep = (
      await call("POST", `${LTS}/get_or_create/`, `${LTS}/get_or_create/`, {
        update_hash: hash("apitable", 4),
        build_configuration: {},
        data_source_uid: ds,
        remote_table__hash_id: apiHash,
        current_project_uid: project,
      })
    ).body;
    await call(
      "PATCH",
      `${LTS}/{lts_uid}/depends_on_connect/`,
      `${LTS}/${lts.uid}/depends_on_connect/`,
      {
        target_update_node_uid: dep.uid,
      },
    );

    // Scheduling and the update tree.
    const scheduler = (
      await call(
        "POST",
        `${SCH}/build_and_assign_to_update_nodes/`,
        `${SCH}/build_and_assign_to_update_nodes/`,
        {
          scheduler_name: `DEBUG_${lts.uid}`,
          delink_all_update_nodes: false,
          remove_from_other_schedulers: true,
          scheduler_kwargs: { running_in_debug_mode: true },
          update_node_uids: [lts.uid],
        },
      )
    ).body;
    await call("PATCH", `${SCH}/{scheduler_uid}/`, `${SCH}/${scheduler.uid}/`, {
      is_running: true,
      running_process_pid: 4242,
      running_in_debug_mode: true,
      last_heart_beat: Date.now() / 1000,
    });
    await call("PATCH", `${LTS}/{lts_uid}/`, `${LTS}/${lts.uid}/`, {
      ogm_dependencies_linked: true,
    });
    const priorities = (
      await call(
        "GET",
        `${LTS}/{lts_uid}/get_all_dependencies_update_priority/`,
        `${LTS}/${lts.uid}/get_all_dependencies_update_priority/`,
      )
    ).body as {
      update_node_uid: string;
      update_hash: string;
      remote_table_hash_id: string;
      node_type: string;
    }[];
    expect(priorities.length).toBeGreaterThanOrEqual(2);
    await call(
      "PATCH",
      `${SCH}/{scheduler_uid}/in-active-tree/`,
      `${SCH}/${scheduler.uid}/in-active-tree/`,
      {
        update_node_uids: [...priorities.map((p) => p.update_node_uid), lts.uid],
      },
    );
    await call(
      "POST",
      `${LTS}/get_metadatas_and_set_updates/`,
      `${LTS}/get_metadatas_and_set_updates/`,
      {
        update_nodes: priorities.map((p) => ({
          node_type: p.node_type,
          update_hash: p.update_hash,
          remote_table_hash_id: p.remote_table_hash_id,
          uid: p.update_node_uid,
        })),
        update_details_kwargs: {
          error_on_last_update: false,
          active_update_scheduler_uid: scheduler.uid,
          active_update_status: "Q",
        },
        update_priority_dict: null,
      },
    );
    await call(
      "GET",
      `${SCH}/for-update-node/`,
      `${SCH}/for-update-node/?update_node_uid=${lts.uid}`,
    );
    await call("PATCH", `${SCH}/{scheduler_uid}/assign/`, `${SCH}/${scheduler.uid}/assign/`, {
      update_node_uids: [lts.uid],
    });

    // A run: start, table, chunks, progress commit, stats, end.
    const start = (
      await call(
        "PATCH",
        `${LTS}/{lts_uid}/set_start_of_execution/`,
        `${LTS}/${lts.uid}/set_start_of_execution/`,
        { active_update_scheduler_uid: scheduler.uid },
      )
    ).body;
    await call(
      "GET",
      `${LTS}/{lts_uid}/verify_if_direct_dependencies_are_updated/`,
      `${LTS}/${lts.uid}/verify_if_direct_dependencies_are_updated/`,
    );
    await call(
      "POST",
      `${DT}/{storage_uid}/initialize-source-table/`,
      `${DT}/${storage.uid}/initialize-source-table/`,
      {
        time_index_name: "time_index",
        index_names: ["time_index", "unique_identifier"],
        column_dtypes_map: {
          time_index: "timestamp with time zone",
          unique_identifier: "string",
          close: "float64",
          volume: "int64",
          ratio: "float32",
        },
        open_for_everyone: false,
      },
    );
    const rows = [0, 1, 2].flatMap((d) =>
      ["AAA", "BBB"].map((u, i) => ({
        time_index: `2024-01-0${d + 1}T00:00:00Z`,
        unique_identifier: u,
        close: 100.0 + d + i / 2,
        volume: 1000 * d + i,
        ratio: 0.5,
      })),
    );
    await call(
      "POST",
      `${LTS}/{lts_uid}/insert_data_into_table/`,
      `${LTS}/${lts.uid}/insert_data_into_table/`,
      {
        data: gz(rows),
        chunk_stats: {
          _GLOBAL_: { max: "2024-01-03T00:00:00Z", min: "2024-01-01T00:00:00Z" },
          index_progress: {},
          index_min: {},
        },
        overwrite: true,
        chunk_index: 0,
        total_chunks: 1,
      },
    );
    await call(
      "POST",
      `${LTS}/{lts_uid}/set_last_update_index_time_from_update_stats/`,
      `${LTS}/${lts.uid}/set_last_update_index_time_from_update_stats/`,
      {
        data: gz({
          multi_index_stats: {
            _GLOBAL_: { max: "2024-01-03T00:00:00Z", min: "2024-01-01T00:00:00Z" },
            index_progress: { AAA: "2024-01-03T00:00:00Z", BBB: "2024-01-03T00:00:00Z" },
            index_min: { AAA: "2024-01-01T00:00:00Z", BBB: "2024-01-01T00:00:00Z" },
          },
          multi_index_column_stats: { close: {}, volume: {}, ratio: {} },
        }),
      },
    );
    await call("GET", `${STC}/{storage_uid}/get_stats/`, `${STC}/${storage.uid}/get_stats/`);
    await call(
      "PATCH",
      `${LTS}/{lts_uid}/set_end_of_execution/`,
      `${LTS}/${lts.uid}/set_end_of_execution/`,
      { error_on_update: false, historical_update_uid: start.historical_update.uid },
    );
    await call(
      "PATCH",
      `${LTS}/batch_set_end_of_execution/`,
      `${LTS}/batch_set_end_of_execution/`,
      {
        update_map: { [lts.uid]: { error_on_update: false } },
      },
    );
    await call("PATCH", `${LTS}/{lts_uid}/add_tags/`, `${LTS}/${lts.uid}/add_tags/`, {
      tags: ["contract"],
    });
    await call("POST", `${LTS}/filter_by_hash_id/`, `${LTS}/filter_by_hash_id/`, {
      local_hash_id__in: [updateHash],
    });

    // Table metadata, column metadata, configuration.
    await call("PATCH", `${DT}/{storage_uid}/`, `${DT}/${storage.uid}/`, {
      identifier: "contract_prices",
      description: "Daily close prices for the contract test",
      data_frequency_id: null,
    });
    await call(
      "POST",
      `${STC}/{storage_uid}/set_or_update_columns_metadata/`,
      `${STC}/${storage.uid}/set_or_update_columns_metadata/`,
      {
        columns_metadata: [
          { column_name: "close", dtype: "float64", label: "Close", description: "Close price" },
        ],
      },
    );
    await call("PATCH", `${STC}/{storage_uid}/`, `${STC}/${storage.uid}/`, {
      open_for_everyone: false,
    });
    await call(
      "GET",
      `${STC}/{storage_uid}/get_time_scale_extra_table_indices/`,
      `${STC}/${storage.uid}/get_time_scale_extra_table_indices/`,
    );
    await call(
      "PATCH",
      `${DT}/{storage_uid}/build_or_update_update_details/`,
      `${DT}/${storage.uid}/build_or_update_update_details/`,
      {},
    );
    await call(
      "GET",
      `${API}/ts_manager/dynamic_table_data_source/{uid}/`,
      `${API}/ts_manager/dynamic_table_data_source/${ds}/`,
    );

    // Reads, as an APIDataNode does them.
    await call("GET", `${DT}/`, `${DT}/?identifier=contract_prices`);
    await call(
      "GET",
      `${DT}/`,
      `${DT}/?storage_hash=${storageHash}&data_source__uid=${ds}&include_relations_detail=true`,
    );
    await call(
      "POST",
      `${DT}/{storage_uid}/get_data_between_dates_from_remote/`,
      `${DT}/${storage.uid}/get_data_between_dates_from_remote/`,
      {
        start_date: 1704067200.0,
        end_date: 1704240000.0,
        great_or_equal: true,
        less_or_equal: true,
        columns: null,
        offset: 0,
        dimension_filters: { unique_identifier: ["AAA"] },
      },
    );
    await call(
      "POST",
      `${DT}/get_data_between_dates_from_node_identifier/`,
      `${DT}/get_data_between_dates_from_node_identifier/`,
      {
        node_identifier: "contract_prices",
        start_date: null,
        end_date: null,
        great_or_equal: true,
        less_or_equal: true,
        columns: null,
        offset: 0,
      },
    );
    await call(
      "POST",
      `${DT}/{storage_uid}/get_last_observation/`,
      `${DT}/${storage.uid}/get_last_observation/`,
      { dimension_filters: { unique_identifier: ["AAA", "BBB"] } },
    );
    await call("POST", `${DT}/get-data-from-filter/`, `${DT}/get-data-from-filter/`, {
      node_unique_identifier: "contract_prices",
      storage_hash: null,
      filter: { type: "condition", field: "close", op: "gt", value: 100.0 },
      joins: [],
      limit: 10,
      offset: 0,
    });
    await call("POST", `${DT}/description-search/`, `${DT}/description-search/`, {
      q: "daily close prices",
      trigram_k: 200,
      embed_k: 200,
      w_trgm: 0.65,
      w_emb: 0.35,
      embedding_model: "default",
    });
    await call("GET", `${DT}/column-search/`, `${DT}/column-search/?q=close`);
    await call(
      "POST",
      `${DT}/{storage_uid}/refresh-table-search-index/`,
      `${DT}/${storage.uid}/refresh-table-search-index/`,
    );
    await call(
      "POST",
      `${DT}/{storage_uid}/delete_after_date/`,
      `${DT}/${storage.uid}/delete_after_date/`,
      { after_date: "2024-01-03T00:00:00Z" },
    );
    await call(
      "DELETE",
      `${DT}/{storage_uid}/`,
      `${DT}/${api.uid}/?full_delete_selected=True&full_delete_downstream_tables=False&delete_with_no_table=True&override_protection=False`,
    );

    // Authentication routes.
    const login = (
      await call(
        "POST",
        "/auth/jwt-token/token/",
        "/auth/jwt-token/token/",
        {
          username: "tdag",
          password: fx.server.token,
        },
        null,
      )
    ).body;
    await call(
      "POST",
      "/auth/jwt-token/token/refresh/",
      "/auth/jwt-token/token/refresh/",
      { refresh: login.refresh },
      null,
    );
    await call(
      "POST",
      `${API}/pods/runtime-credentials/token/`,
      `${API}/pods/runtime-credentials/token/`,
      { credential_id: "tdag", credential_secret: fx.server.token },
      null,
    );

    expect(violations).toEqual([]);
    const missing = ROUTES.map((r) => `${r.method} ${r.path}`).filter(
      (r) => !seen.has(r) && !(r in NOT_SERVED),
    );
    expect(missing).toEqual([]);
    for (const route of Object.keys(NOT_SERVED)) expect(seen.has(route)).toBe(false);
  });
});

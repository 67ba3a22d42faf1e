import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { compareStep, describe as describeDiff, loadGolden } from "./trace-compare.js";
import {
  decodeData,
  mergeShapes,
  normalizeRequest,
  parseJsonTokens,
  pathTemplate,
  queryValueShape,
  shapeOf,
} from "./trace-normalize.js";

/**
 * The trace normaliser and comparison used by client-trace.test.ts. The normaliser was also
 * calibrated by running the harness on the client of f983bb8 (the one traces/ts/ recorded): it
 * reproduced traces/ts request by request, except where the TS twins' own values differ.
 */

const UID = "0f1e2d3c-4b5a-4697-8899-aabbccddeeff";
const HASH = "rand1d_d51919cf5e974451c7dd6f11dc73ab7f";
const gz = (text: string) => gzipSync(Buffer.from(text)).toString("base64");

describe("trace notation", () => {
  it("types values by the JSON token as written (1.0 is a float) and keeps enum-like literals", () => {
    const raw = `{"mean": 1.5, "scale": 1.0, "n": 1, "big": 1e3, "none": null, "on": true,
      "t": "2024-01-02T03:04:05Z", "d": "2024-01-02T03:04:05.123456+00:00", "a": "PP_ASSET_001",
      "h": "${HASH}", "u": "${UID}", "scheduler_name": "DEBUG_${UID}", "q": "close",
      "index_names": ["time_index", "unique_identifier"], "op": "gt", "type": "condition",
      "column_dtypes_map": {"time_index": "timestamp with time zone", "x": "float64"},
      "source_class_name": "Rand1D", "build_configuration_json_schema": {"config": {"type": "object"}},
      "index_progress": {"PP_ASSET_000": "2024-01-01T00:00:00Z", "PP_ASSET_001": "2024-01-01T00:00:00Z"},
      "empty": [], "rows": [{"a": 1}, {"a": 2.5, "b": "x"}]}`;
    expect(shapeOf(parseJsonTokens(raw))).toEqual({
      mean: "<float>",
      scale: "<float>",
      n: "<int>",
      big: "<float>",
      none: "<null>",
      on: "<bool:true>",
      t: "<datetime:9999-99-99T99:99:99Z>",
      d: "<datetime:9999-99-99T99:99:99.999999+99:99>",
      a: "<str:asset_id>",
      h: "<hash>",
      u: "<uuid>",
      scheduler_name: "<str:DEBUG_<uuid>>",
      q: "<str>",
      index_names: [{ "<anyOf>": ["time_index", "unique_identifier"] }],
      op: "gt",
      type: "condition",
      column_dtypes_map: { time_index: "timestamp with time zone", x: "float64" },
      source_class_name: "Rand1D",
      build_configuration_json_schema: { config: "<json-schema>" },
      index_progress: { "<asset_id>": "<datetime:9999-99-99T99:99:99Z>" },
      empty: [],
      rows: [{ a: { "<anyOf>": ["<float>", "<int>"] }, "b?": "<str>" }],
    });
  });

  it("merges shapes: optional keys, sorted anyOf, array items", () => {
    expect(mergeShapes({ a: "<int>" }, { a: "<int>", b: "<str>" })).toEqual({
      a: "<int>",
      "b?": "<str>",
    });
    expect(mergeShapes("<null>", "<float>")).toEqual({ "<anyOf>": ["<float>", "<null>"] });
    expect(mergeShapes(["<str>"], [])).toEqual(["<str>"]);
    expect(mergeShapes("<null>", { x: "<int>" })).toEqual({
      "<anyOf>": ["<null>", { x: "<int>" }],
    });
  });

  it("templates paths by what the uid is, and shapes query values as sent", () => {
    expect(
      pathTemplate(`/orm/api/ts_manager/local_time_serie/${UID}/set_start_of_execution/`),
    ).toBe("/orm/api/ts_manager/local_time_serie/{lts_uid}/set_start_of_execution/");
    expect(pathTemplate(`/orm/api/ts_manager/source_table_config/${UID}/get_stats/`)).toBe(
      "/orm/api/ts_manager/source_table_config/{storage_uid}/get_stats/",
    );
    expect(pathTemplate(`/orm/api/ts_manager/scheduler/${UID}/`)).toBe(
      "/orm/api/ts_manager/scheduler/{scheduler_uid}/",
    );
    expect(pathTemplate(`/orm/api/pods/projects/${UID}/`)).toBe(
      "/orm/api/pods/projects/{project_uid}/",
    );
    expect(pathTemplate("/orm/api/ts_manager/dynamic_table/get_or_create/")).toBe(
      "/orm/api/ts_manager/dynamic_table/get_or_create/",
    );
    expect(queryValueShape("full_delete_selected", "True")).toBe("<bool-str:True>");
    expect(queryValueShape("include_relations_detail", "false")).toBe("<bool-str:false>");
    expect(queryValueShape("unique_identifier__in", "PP_ASSET_000,PP_ASSET_001")).toBe(
      "<csv:<str:asset_id>>",
    );
    expect(queryValueShape("update_hash", HASH)).toBe("<hash>");
    expect(queryValueShape("identifier", "pyparity_prices2d")).toBe("<str>");
  });

  it("decodes upload chunks (base64(gzip(JSON))) keeping number tokens", () => {
    const rows =
      '[{"time_index":"2024-01-01T00:00:00Z","unique_identifier":"PP_ASSET_000","open":100.0,"n":1},' +
      '{"time_index":"2024-01-01T01:00:00Z","unique_identifier":"PP_ASSET_000","open":100,"n":2}]';
    expect(decodeData(gz(rows))).toEqual({
      kind: "records",
      rows: 2,
      columns: ["time_index", "unique_identifier", "open", "n"],
      column_types: {
        time_index: "<datetime:9999-99-99T99:99:99Z>",
        unique_identifier: "<str:asset_id>",
        open: { "<anyOf>": ["<float>", "<int>"] },
        n: "<int>",
      },
    });
  });

  it("normalises a captured request from its raw body and headers", () => {
    const rawBody = `{"data": "${gz('{"multi_index_stats": {"_GLOBAL_": {"max": "2024-01-01T00:00:00Z"}}}')}"}`;
    const r = normalizeRequest(
      {
        method: "POST",
        path: `/orm/api/ts_manager/local_time_serie/${UID}/set_last_update_index_time_from_update_stats/`,
        status: 200,
        fault: null,
        query: {},
        body: JSON.parse(rawBody),
        rawBody,
        headers: {
          "content-type": "application/json",
          accept: "*/*",
          authorization: "Bearer abc",
          host: "x",
        },
        response: { uid: UID },
      },
      1,
    );
    expect(r).toEqual({
      seq: 1,
      method: "POST",
      path: "/orm/api/ts_manager/local_time_serie/{lts_uid}/set_last_update_index_time_from_update_stats/",
      body: { data: "<str:base64(gzip(json))>" },
      data_decoded: {
        kind: "object",
        shape: { multi_index_stats: { _GLOBAL_: { max: "<datetime:9999-99-99T99:99:99Z>" } } },
      },
      request_headers: {
        "content-type": "application/json",
        accept: "*/*",
        "accept-encoding": null,
        authorization: "Bearer",
      },
      response: { status: 200, kind: "object", keys: ["uid"] },
    });
  });
});

describe("trace comparison", () => {
  it("finds nothing between a trace and itself", () => {
    for (const step of loadGolden("d-datanode-and-api-deps")) {
      expect(compareStep(step.requests, step.requests)).toEqual([]);
    }
  });

  it("finds ts-vs-py.md's differences between the recorded Python and f983bb8 traces", () => {
    const py = loadGolden("a-1d-run-twice")[0]!.requests;
    const ts = loadGolden("a-1d-run-twice", "traces/ts")[0]!.requests;
    const found = compareStep(py, ts).map(describeDiff);
    const DT = "/orm/api/ts_manager/dynamic_table";
    expect(found).toEqual(
      expect.arrayContaining([
        "route-only-py GET /orm/api/ts_manager/api/constants",
        "route-only-py POST /orm/api/ts_manager/local_time_serie/get_metadatas_and_set_updates/",
        `route-only-ts GET ${DT}/?uid`,
        `body-key POST ${DT}/get_or_create/ at source_class_name: python absent / tdag present`,
        `body-type POST ${DT}/get_or_create/ at build_configuration.config.serialized_model.scale: python <float> / tdag <int>`,
        `body-type POST ${DT}/get_or_create/ at build_configuration_json_schema: python {"config":"<json-schema>"} / tdag <null>`,
        `body-key POST ${DT}/{storage_uid}/initialize-source-table/ at open_for_everyone: python present / tdag absent`,
        `body-key PATCH ${DT}/{storage_uid}/ at data_frequency_id: python present / tdag absent`,
        "header * at accept: python */* / tdag application/json",
        `order PATCH /orm/api/ts_manager/local_time_serie/{lts_uid}/set_end_of_execution/ at PATCH ${DT}/{storage_uid}/`,
      ]),
    );
    const b = compareStep(
      loadGolden("b-2d-asset-run-twice")[0]!.requests,
      loadGolden("b-2d-asset-run-twice", "traces/ts")[0]!.requests,
    ).map(describeDiff);
    expect(b).toContain(
      'data POST /orm/api/ts_manager/local_time_serie/{lts_uid}/insert_data_into_table/ at column_types.open: python <float> / tdag {"<anyOf>":["<float>","<int>"]}',
    );
  });
});

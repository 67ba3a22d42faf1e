import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, afterEach } from "vitest";
import {
  type RunningPlatformServer,
  type StartPlatformServerOptions,
  startPlatformServer,
} from "../../src/server/platform-server.js";
import { DuckDBStore } from "../../src/store/duckdb/index.js";

export const API = "/orm/api";
export const DT = `${API}/ts_manager/dynamic_table`;
export const LTS = `${API}/ts_manager/local_time_serie`;
export const STC = `${API}/ts_manager/source_table_config`;
export const SCH = `${API}/ts_manager/scheduler`;
export const PRJ = `${API}/pods/projects`;
export const AST = `${API}/assets/asset`;

export const TOKEN = "test-token";

/** A response: status, parsed JSON body (null when empty) and headers. */
export interface ApiResponse {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
  readonly body: any;
  readonly headers: Headers;
}

/** A running server over a fresh DuckDB file, with a `fetch`-based caller. */
export interface ServerFixture {
  readonly server: RunningPlatformServer;
  readonly store: DuckDBStore;
  call(
    method: string,
    path: string,
    body?: unknown,
    options?: { token?: string | null; raw?: string; headers?: Readonly<Record<string, string>> },
  ): Promise<ApiResponse>;
}

const root = mkdtempSync(join(tmpdir(), "tdag-server-test-"));
const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A server fixture its test stops itself. */
export interface OwnedServerFixture extends ServerFixture {
  close(): Promise<void>;
}

/** Starts the real server on 127.0.0.1:0 over a temp DuckDB file (closed after the test). */
export async function startServer(
  options: Omit<StartPlatformServerOptions, "store" | "dbPath"> = {},
): Promise<ServerFixture> {
  const fx = await openServer(options);
  open.push(fx.close);
  return fx;
}

/**
 * {@link startServer} without the stop after the test: the caller `close`s it. For concurrent
 * tests, where the `afterEach` of one would stop the servers of the others.
 */
export async function openServer(
  options: Omit<StartPlatformServerOptions, "store" | "dbPath"> = {},
): Promise<OwnedServerFixture> {
  const store = await DuckDBStore.open({ path: join(root, `${randomUUID()}.duckdb`) });
  const server = await startPlatformServer({ token: TOKEN, ...options, store });
  return {
    server,
    store,
    async close() {
      await server.close();
      await store.close();
    },
    async call(method, path, body, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      const token = opts.token === undefined ? TOKEN : opts.token;
      if (token !== null) headers["Authorization"] = `Bearer ${token}`;
      let payload: string | undefined = opts.raw;
      if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        payload = JSON.stringify(body);
      }
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
      });
      const text = await res.text();
      return {
        status: res.status,
        body: text === "" ? null : JSON.parse(text),
        headers: res.headers,
      };
    },
  };
}

/** `base64(gzip(JSON))`, the upload encoding. */
export function encode(value: unknown): string {
  return gzipSync(Buffer.from(JSON.stringify(value))).toString("base64");
}

export function decode(data: string): unknown {
  return JSON.parse(gunzipSync(Buffer.from(data, "base64")).toString("utf8"));
}

export const STORAGE_HASH = "prices_0123456789abcdef0123456789abcdef";
export const UPDATE_HASH = "prices_fedcba9876543210fedcba9876543210";
export const SCHEMA_BODY = {
  time_index_name: "time_index",
  index_names: ["time_index", "unique_identifier"],
  column_dtypes_map: {
    time_index: "datetime64[ns, UTC]",
    unique_identifier: "object",
    close: "float64",
  },
};

/** A row of the test table. */
export function row(hour: number, id: string, close: number): Record<string, unknown> {
  return {
    time_index: `2026-05-01T${String(hour).padStart(2, "0")}:00:00Z`,
    unique_identifier: id,
    close,
  };
}

/** A storage with its source table and an updater, ready for runs. */
export async function setupTable(
  f: ServerFixture,
): Promise<{ storageUid: string; updaterUid: string }> {
  const storage = await f.call("POST", `${DT}/get_or_create/`, {
    storage_hash: STORAGE_HASH,
    namespace: null,
    build_configuration: { window: 5 },
  });
  const updater = await f.call("POST", `${LTS}/get_or_create/`, {
    update_hash: UPDATE_HASH,
    build_configuration: { window: 5 },
    remote_table__hash_id: STORAGE_HASH,
    current_project_uid: f.server.projectUid,
  });
  await f.call("POST", `${DT}/${storage.body.uid}/initialize-source-table/`, SCHEMA_BODY);
  return { storageUid: storage.body.uid, updaterUid: updater.body.uid };
}

/** The body of one `insert_data_into_table` chunk. */
export function chunkBody(rows: Record<string, unknown>[], index = 0, total = 1) {
  return {
    data: encode(rows),
    chunk_stats: {},
    overwrite: true,
    chunk_index: index,
    total_chunks: total,
  };
}

/** A `set_last_update_index_time_from_update_stats` body with empty statistics. */
export const COMMIT_BODY = {
  data: encode({ multi_index_stats: {}, multi_index_column_stats: {} }),
};

/** Runs one full upload (start, chunks, commit, end) and returns the run's historical uid. */
export async function upload(
  f: ServerFixture,
  updaterUid: string,
  chunks: Record<string, unknown>[][],
  options: { commit?: boolean; error?: boolean } = {},
): Promise<string> {
  const start = await f.call("PATCH", `${LTS}/${updaterUid}/set_start_of_execution/`, {
    active_update_scheduler_uid: null,
  });
  const runUid = start.body.historical_update.uid as string;
  for (const [i, rows] of chunks.entries()) {
    await f.call(
      "POST",
      `${LTS}/${updaterUid}/insert_data_into_table/`,
      chunkBody(rows, i, chunks.length),
    );
  }
  if (options.commit ?? true) {
    await f.call("POST", `${LTS}/${updaterUid}/set_last_update_index_time_from_update_stats/`, {
      data: encode({ multi_index_stats: { _GLOBAL_: {} }, multi_index_column_stats: {} }),
    });
  }
  await f.call("PATCH", `${LTS}/${updaterUid}/set_end_of_execution/`, {
    historical_update_uid: runUid,
    error_on_update: options.error ?? false,
  });
  return runUid;
}

/** Every row of the table, through the read route. */
export async function readAll(
  f: ServerFixture,
  storageUid: string,
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let offset: number | null = 0;
  while (offset !== null) {
    const res: ApiResponse = await f.call(
      "POST",
      `${DT}/${storageUid}/get_data_between_dates_from_remote/`,
      {
        start_date: null,
        end_date: null,
        great_or_equal: null,
        less_or_equal: null,
        columns: null,
        offset,
      },
    );
    out.push(...res.body.results);
    offset = res.body.next_offset || null;
  }
  return out;
}

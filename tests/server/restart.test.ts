/**
 * `tdag serve` as a real process, killed (SIGKILL) and started again on the same DuckDB file in
 * the middle of a run: the platform state it answers with (updater flags, schedulers, storage
 * extras, the open run and the chunks it staged) lives in the file, so the run goes on.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  type ApiResponse,
  COMMIT_BODY,
  chunkBody,
  DT,
  encode,
  LTS,
  row,
  SCH,
  STC,
  STORAGE_HASH,
  UPDATE_HASH,
} from "./server-fixture.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const TOKEN = "restart-token";
const PROJECT = "33333333-3333-4333-8333-333333333333";
const root = mkdtempSync(join(tmpdir(), "tdag-restart-"));
const running = new Set<ChildProcess>();

afterEach(() => {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Served {
  readonly child: ChildProcess;
  readonly call: (method: string, path: string, body?: unknown) => Promise<ApiResponse>;
}

/** Starts `tdag serve` on `db` (port 0) and waits for the endpoint it prints. */
async function serve(db: string): Promise<Served> {
  const env: Record<string, string | undefined> = { ...process.env, TDAG_LOG_LEVEL: "" };
  for (const name of ["TDAG_STORE", "TDAG_DUCKDB_PATH", "MAINSEQUENCE_ENDPOINT"]) delete env[name];
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      MAIN,
      "serve",
      "--port",
      "0",
      "--db",
      db,
      "--token",
      TOKEN,
      "--project-uid",
      PROJECT,
    ],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  running.add(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => {
    out += d;
  });
  child.stderr!.on("data", (d) => {
    err += d;
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tdag serve did not start: ${err}`)), 20_000);
    const check = () => {
      const m = /^export MAINSEQUENCE_ENDPOINT=(.*)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!.trim());
      }
    };
    child.stdout!.on("data", check);
    child.on("exit", (code) => reject(new Error(`tdag serve exited ${code}: ${err}`)));
  });
  const call = async (method: string, path: string, body?: unknown): Promise<ApiResponse> => {
    const res = await fetch(`${endpoint}${path}`, {
      method,
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text === "" ? null : JSON.parse(text),
      headers: res.headers,
    };
  };
  return { child, call };
}

async function kill(served: Served): Promise<void> {
  const exited = new Promise((resolve) => served.child.once("exit", resolve));
  served.child.kill("SIGKILL");
  await exited;
  running.delete(served.child);
}

const SCHEMA = {
  time_index_name: "time_index",
  index_names: ["time_index", "unique_identifier"],
  column_dtypes_map: {
    time_index: "datetime64[ns, UTC]",
    unique_identifier: "object",
    close: "float32",
  },
};

/** Storage, updater, source table, scheduler and an open run with one staged chunk. */
async function openRunWithOneChunk(s: Served) {
  const storage = await s.call("POST", `${DT}/get_or_create/`, {
    storage_hash: STORAGE_HASH,
    build_configuration: { window: 5 },
    time_serie_source_code_git_hash: "abc123",
    time_serie_source_code: "class Prices {}",
  });
  const updater = await s.call("POST", `${LTS}/get_or_create/`, {
    update_hash: UPDATE_HASH,
    build_configuration: { window: 5 },
    remote_table__hash_id: STORAGE_HASH,
    current_project_uid: PROJECT,
  });
  const lts = updater.body.uid as string;
  await s.call("POST", `${DT}/${storage.body.uid}/initialize-source-table/`, SCHEMA);
  await s.call("PATCH", `${LTS}/${lts}/`, { ogm_dependencies_linked: true });
  const scheduler = await s.call("POST", `${SCH}/build_and_assign_to_update_nodes/`, {
    scheduler_name: `DEBUG_${lts}`,
    scheduler_kwargs: { running_in_debug_mode: true },
    update_node_uids: [lts],
  });
  const start = await s.call("PATCH", `${LTS}/${lts}/set_start_of_execution/`, {
    active_update_scheduler_uid: scheduler.body.uid,
  });
  expect(start.status).toBe(201);
  const first = [row(0, "AAPL", 1.5), row(1, "AAPL", 2.5)];
  expect(
    (await s.call("POST", `${LTS}/${lts}/insert_data_into_table/`, chunkBody(first, 0, 2))).status,
  ).toBe(200);
  return {
    storageUid: storage.body.uid as string,
    lts,
    schedulerUid: scheduler.body.uid as string,
    runUid: start.body.historical_update.uid as string,
    first,
  };
}

async function rows(s: Served, storageUid: string): Promise<unknown[]> {
  const res = await s.call("POST", `${DT}/${storageUid}/get_data_between_dates_from_remote/`, {
    start_date: null,
    end_date: null,
    great_or_equal: null,
    less_or_equal: null,
    columns: null,
    offset: 0,
  });
  expect(res.status).toBe(200);
  return res.body.results;
}

describe("tdag serve killed between two chunks of a run", () => {
  it("keeps the run, its staged chunk and the platform state; the run completes after restart", async () => {
    const db = join(root, "complete.duckdb");
    let s = await serve(db);
    const run = await openRunWithOneChunk(s);
    await kill(s);

    s = await serve(db);
    // The state the Python client reads back is as it was.
    const lts = await s.call("GET", `${LTS}/${run.lts}/?include_relations_detail=true`);
    expect(lts.body).toMatchObject({
      ogm_dependencies_linked: true,
      update_details: {
        active_update: true,
        active_update_status: "R",
        active_update_scheduler_uid: run.schedulerUid,
      },
      data_node_storage: {
        time_serie_source_code_git_hash: "abc123",
        time_serie_source_code: "class Prices {}",
      },
    });
    const stc = await s.call("GET", `${STC}/${run.storageUid}/`);
    expect(stc.body.column_dtypes_map.close).toBe("float32");
    const scheduler = await s.call("GET", `${SCH}/${run.schedulerUid}/`);
    expect(scheduler.body.schedules_to.map((n: { uid: string }) => n.uid)).toEqual([run.lts]);

    // The same run's next chunk, a re-sent first chunk (its answer was lost), the commit, the end.
    const second = [row(2, "AAPL", 3.5), row(3, "MSFT", 4.5)];
    const next = await s.call(
      "POST",
      `${LTS}/${run.lts}/insert_data_into_table/`,
      chunkBody(second, 1, 2),
    );
    expect(next.status).toBe(200);
    const again = await s.call(
      "POST",
      `${LTS}/${run.lts}/insert_data_into_table/`,
      chunkBody(run.first, 0, 2),
    );
    expect(again.body).toMatchObject({ duplicate_chunk: true });
    expect(await rows(s, run.storageUid)).toEqual([]);
    const commit = await s.call(
      "POST",
      `${LTS}/${run.lts}/set_last_update_index_time_from_update_stats/`,
      {
        data: encode({ multi_index_stats: { _GLOBAL_: {} }, multi_index_column_stats: {} }),
      },
    );
    expect(commit.status).toBe(200);
    const end = await s.call("PATCH", `${LTS}/${run.lts}/set_end_of_execution/`, {
      historical_update_uid: run.runUid,
      error_on_update: false,
    });
    expect(end.status).toBe(200);
    expect(end.body.update_details).toMatchObject({
      active_update: false,
      error_on_last_update: false,
    });

    expect(await rows(s, run.storageUid)).toEqual([...run.first, ...second]);
    await kill(s);
  }, 60_000);

  it("a paging read goes on after a restart: the next page is the same as without one", async () => {
    const db = join(root, "paging.duckdb");
    let s = await serve(db);
    const run = await openRunWithOneChunk(s);
    // 5,200 rows: two pages of the server's 5,000.
    const many = Array.from({ length: 2600 }, (_, h) => [
      { ...row(0, "AAPL", h), time_index: new Date(Date.UTC(2026, 0, 1, h)).toISOString() },
      { ...row(0, "MSFT", h), time_index: new Date(Date.UTC(2026, 0, 1, h)).toISOString() },
    ]).flat();
    await s.call("POST", `${LTS}/${run.lts}/insert_data_into_table/`, chunkBody(many, 1, 2));
    await s.call(
      "POST",
      `${LTS}/${run.lts}/set_last_update_index_time_from_update_stats/`,
      COMMIT_BODY,
    );
    await s.call("PATCH", `${LTS}/${run.lts}/set_end_of_execution/`, {
      historical_update_uid: run.runUid,
      error_on_update: false,
    });
    const read = (offset: number) =>
      s.call("POST", `${DT}/${run.storageUid}/get_data_between_dates_from_remote/`, {
        start_date: null,
        end_date: null,
        great_or_equal: null,
        less_or_equal: null,
        columns: null,
        offset,
      });
    const first = await read(0);
    expect(first.body.next_offset).toBe(5000);
    await kill(s);

    s = await serve(db);
    const second = await read(5000);
    expect(second.status).toBe(200);
    expect(second.body.next_offset).toBeNull();
    const again = await read(0);
    const all = [...again.body.results, ...(await read(5000)).body.results];
    expect([...first.body.results, ...second.body.results]).toEqual(all);
    expect(all).toHaveLength(5202);
    await kill(s);
  }, 60_000);

  it("a run that fails after the restart leaves the table exactly as it was", async () => {
    const db = join(root, "fail.duckdb");
    let s = await serve(db);
    const run = await openRunWithOneChunk(s);
    await kill(s);

    s = await serve(db);
    await s.call(
      "POST",
      `${LTS}/${run.lts}/insert_data_into_table/`,
      chunkBody([row(4, "AAPL", 9)], 1, 2),
    );
    const end = await s.call("PATCH", `${LTS}/${run.lts}/set_end_of_execution/`, {
      historical_update_uid: run.runUid,
      error_on_update: true,
    });
    expect(end.body.update_details).toMatchObject({
      active_update: false,
      error_on_last_update: true,
    });
    const late = await s.call(
      "POST",
      `${LTS}/${run.lts}/set_last_update_index_time_from_update_stats/`,
      COMMIT_BODY,
    );
    expect(late.status).toBe(200);
    expect(await rows(s, run.storageUid)).toEqual([]);
    await kill(s);
  }, 60_000);
});

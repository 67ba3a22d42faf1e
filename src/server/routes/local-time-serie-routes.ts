import type { Context, Hono } from "hono";
import { Frame, type FrameRecord } from "../../frame/frame.js";
import { parseInstant } from "../../frame/time.js";
import type { DependencyTarget, TableSchema, UpdaterRecord } from "../../store/data-store.js";
import { fieldError, HttpError } from "../http-error.js";
import { DATA_SOURCE_UID, type PlatformContext } from "../platform-context.js";
import {
  decodeGzipJson,
  isObject,
  type JsonObject,
  optionalString,
  requiredString,
  statisticsToWire,
  statsPayload,
} from "../wire-codec.js";
import { boolParam, drfPage, listParam, readObject } from "./route-helpers.js";

/** `{API}/ts_manager/local_time_serie`: DataNodeUpdate routes (protocol 2.4). */
export const LTS = "/orm/api/ts_manager/local_time_serie";

/**
 * Registers the DataNodeUpdate routes. Uploads are atomic per run: `insert_data_into_table`
 * stages rows keyed by the full index (a re-sent or split chunk replaces identical keys), the
 * progress commit writes them with one `writeFrame`, and an error end or a new start discards
 * them, so a table never holds part of a run's rows.
 */
export function registerLocalTimeSerieRoutes(app: Hono, ctx: PlatformContext): void {
  const commits = new Map<string, Promise<void>>();

  app.get(`${LTS}/`, async (c) => {
    const updaters = await filterUpdaters(c, ctx);
    const detail = boolParam(c, "include_relations_detail") ?? false;
    return c.json(drfPage(c, await Promise.all(updaters.map((u) => ctx.updater(u, detail)))));
  });

  app.post(`${LTS}/get_or_create/`, async (c) => {
    const body = await readObject(c);
    const updateHash = requiredString(body, "update_hash");
    if (updateHash.length > 63) {
      throw fieldError("update_hash", "Ensure this field has no more than 63 characters.");
    }
    const storageHash = requiredString(body, "remote_table__hash_id");
    const project = optionalString(body, "current_project_uid");
    if (project !== undefined && project !== null && project !== ctx.projectUid) {
      throw fieldError("current_project_uid", `Unknown project '${project}'.`);
    }
    const existing = await ctx.store.findUpdater({ updateHash });
    if (existing) return c.json(await ctx.updater(ctx.rememberUpdater(existing)), 200);
    const storage = await ctx.store.findStorage({ storageHash });
    if (!storage) {
      throw fieldError(
        "remote_table__hash_id",
        `No DataNodeStorage has the hash '${storageHash}'.`,
      );
    }
    const namespace =
      "namespace" in body ? (optionalString(body, "namespace") ?? null) : storage.namespace;
    const updater = await ctx.store.registerUpdater({
      updateHash,
      storageHash,
      buildConfiguration: body["build_configuration"] ?? {},
      namespace,
      projectUid: project ?? ctx.projectUid,
    });
    return c.json(await ctx.updater(ctx.rememberUpdater(updater)), 201);
  });

  app.post(`${LTS}/get_metadatas_and_set_updates/`, async (c) => {
    const body = await readObject(c);
    const nodes = body["update_nodes"];
    if (!Array.isArray(nodes)) throw fieldError("update_nodes", "Expected a list.");
    const kwargs = isObject(body["update_details_kwargs"]) ? body["update_details_kwargs"] : {};
    const priorities = isObject(body["update_priority_dict"]) ? body["update_priority_dict"] : {};
    const stcMap: JsonObject = {};
    const stateData: JsonObject = {};
    const indexStats: JsonObject = {};
    const metadatas: JsonObject[] = [];
    for (const node of nodes) {
      const uid = isObject(node) && typeof node["uid"] === "string" ? node["uid"] : null;
      if (uid === null) throw fieldError("update_nodes", "Every update node needs a uid.");
      const updater = await ctx.requireUpdater(uid);
      const state = ctx.state(uid);
      if (typeof kwargs["active_update_status"] === "string") {
        state.activeUpdateStatus = kwargs["active_update_status"];
      }
      if (typeof kwargs["active_update_scheduler_uid"] === "string") {
        state.activeSchedulerUid = kwargs["active_update_scheduler_uid"];
      }
      const priority = priorities[uid];
      if (typeof priority === "number") state.updatePriority = priority;
      const storage = await ctx.store.findStorage({ uid: updater.storageUid });
      stcMap[uid] = storage ? await ctx.sourceTableConfiguration(storage) : null;
      stateData[uid] = await ctx.updateDetails(updater);
      indexStats[uid] = statsPayload(await ctx.store.getTableStatistics(updater.storageUid));
      metadatas.push(await ctx.updater(updater));
    }
    return c.json({
      source_table_config_map: stcMap,
      state_data: stateData,
      all_index_stats: indexStats,
      local_metadatas: metadatas,
    });
  });

  app.get(`${LTS}/:uid/`, async (c) => {
    const updater = await ctx.requireUpdater(c.req.param("uid"));
    return c.json(await ctx.updater(updater, boolParam(c, "include_relations_detail") ?? false));
  });

  app.patch(`${LTS}/:uid/`, async (c) => {
    const updater = await ctx.requireUpdater(c.req.param("uid"));
    const body = await readObject(c);
    const linked = body["ogm_dependencies_linked"];
    if (linked !== undefined) {
      if (typeof linked !== "boolean")
        throw fieldError("ogm_dependencies_linked", "Must be a valid boolean.");
      ctx.state(updater.uid).ogmDependenciesLinked = linked;
    }
    return c.json(await ctx.updater(updater), 200);
  });

  app.patch(`${LTS}/:uid/depends_on_connect/`, async (c) => {
    const updater = await ctx.requireUpdater(c.req.param("uid"));
    const target = requiredString(await readObject(c), "target_update_node_uid");
    await ctx.store.linkDependency(updater.uid, { kind: "updater", uid: target });
    return c.body(null, 204);
  });

  app.patch(`${LTS}/:uid/depends_on_connect_to_api_table/`, async (c) => {
    const updater = await ctx.requireUpdater(c.req.param("uid"));
    const target = requiredString(await readObject(c), "target_table_uid");
    await ctx.store.linkDependency(updater.uid, { kind: "storage", uid: target });
    return c.body(null, 204);
  });

  app.get(`${LTS}/:uid/get_all_dependencies_update_priority/`, async (c) => {
    const updater = await ctx.requireUpdater(c.req.param("uid"));
    return c.json(await dependencyPriorities(ctx, updater));
  });

  app.get(`${LTS}/:uid/verify_if_direct_dependencies_are_updated/`, async (c) => {
    await ctx.requireUpdater(c.req.param("uid"));
    return c.json({ error_on_update_dependencies: false, updated: true });
  });

  app.patch(`${LTS}/:uid/set_start_of_execution/`, async (c) => {
    const updater = await ctx.requireUpdater(c.req.param("uid"));
    const body = await readObject(c);
    const state = ctx.state(updater.uid);
    // A new start discards what an unfinished run staged; a start re-sent after a lost answer
    // supersedes the run it opened.
    ctx.stages.delete(updater.uid);
    if (state.activeRunUid !== null) {
      await ctx.store
        .closeRun(
          { uid: state.activeRunUid, updaterUid: updater.uid },
          { error: true, errorMessage: "superseded by a new run" },
        )
        .catch(() => undefined);
    }
    const run = await ctx.store.openRun(updater.uid);
    state.activeRunUid = run.uid;
    state.activeUpdateStatus = "R";
    const scheduler = body["active_update_scheduler_uid"];
    if (typeof scheduler === "string") state.activeSchedulerUid = scheduler;
    const storage = await ctx.store.findStorage({ uid: updater.storageUid });
    const deps = await ctx.store.listDependencies(updater.uid);
    const stats = statisticsToWire(run.statistics);
    return c.json(
      {
        historical_update: {
          uid: run.uid,
          related_table_uid: updater.uid,
          update_time_start: run.startedAt.toISOString(),
          update_time_end: null,
          error_on_update: null,
        },
        must_update: run.mustUpdate,
        direct_dependency_uids: deps.filter((d) => d.kind === "updater").map((d) => d.uid),
        ...stats,
        time_index_name: storage?.schema?.timeIndexName ?? null,
        index_names: storage?.schema ? [...storage.schema.indexNames] : null,
      },
      201,
    );
  });

  app.post(`${LTS}/:uid/insert_data_into_table/`, async (c) => {
    const updater = await ctx.requireUpdater(c.req.param("uid"));
    const body = await readObject(c);
    const rows = decodeGzipJson(body["data"]);
    if (!Array.isArray(rows) || rows.some((r) => !isObject(r))) {
      throw fieldError("data", "The decoded data must be a JSON array of row objects.");
    }
    const storage = await ctx.requireStorage(updater.storageUid);
    if (!storage.schema) {
      throw HttpError.notFound(
        `DataNodeStorage '${storage.uid}' has no source table configuration: call initialize-source-table first.`,
      );
    }
    const runUid = ctx.state(updater.uid).activeRunUid;
    let stage = ctx.stages.get(updater.uid);
    if (!stage || stage.runUid !== runUid) {
      stage = { runUid, storageUid: storage.uid, rows: new Map() };
      ctx.stages.set(updater.uid, stage);
    }
    const indexNames = storage.schema.indexNames;
    const staged: [string, FrameRecord][] = rows.map((row, i) => [
      rowKey(row as FrameRecord, indexNames, i),
      row as FrameRecord,
    ]);
    for (const [key, row] of staged) stage.rows.set(key, row);
    return c.json({ staged_rows: stage.rows.size }, 200);
  });

  app.post(`${LTS}/:uid/set_last_update_index_time_from_update_stats/`, async (c) => {
    const updater = await ctx.requireUpdater(c.req.param("uid"));
    const decoded = decodeGzipJson((await readObject(c))["data"]);
    if (!isObject(decoded) || !isObject(decoded["multi_index_stats"])) {
      throw fieldError("data", "Expected {multi_index_stats, multi_index_column_stats}.");
    }
    const previous = commits.get(updater.uid);
    if (previous) await previous.catch(() => undefined);
    const storage = await ctx.requireStorage(updater.storageUid);
    const stage = ctx.stages.get(updater.uid);
    if (!storage.schema && !stage) {
      throw HttpError.notFound(`DataNodeStorage '${storage.uid}' has no source table config.`);
    }
    if (stage && stage.rows.size > 0) {
      // The stage is dropped only once written: a commit that failed can be re-sent.
      const commit = commitStage(ctx, updater, stage.rows, storage.schema);
      commits.set(updater.uid, commit);
      try {
        await commit;
        if (ctx.stages.get(updater.uid) === stage) ctx.stages.delete(updater.uid);
      } finally {
        commits.delete(updater.uid);
      }
    }
    return c.json(await ctx.updater(updater), 200);
  });

  app.patch(`${LTS}/:uid/set_end_of_execution/`, async (c) => {
    const updater = await ctx.requireUpdater(c.req.param("uid"));
    const body = await readObject(c);
    const error = body["error_on_update"] === true;
    const state = ctx.state(updater.uid);
    const runUid = optionalString(body, "historical_update_uid") ?? state.activeRunUid;
    // Rows of this run not committed by now are never written (an error end, or no commit).
    const stage = ctx.stages.get(updater.uid);
    if (stage && (stage.runUid === null || stage.runUid === runUid)) ctx.stages.delete(updater.uid);
    if (runUid !== null) {
      await ctx.store.closeRun(
        { uid: runUid, updaterUid: updater.uid },
        { error, errorMessage: error ? "error_on_update" : null },
      );
    }
    if (runUid === state.activeRunUid) state.activeRunUid = null;
    state.activeUpdateStatus = error ? "E" : "S";
    return c.json(await ctx.updater(updater), 200);
  });
}

async function commitStage(
  ctx: PlatformContext,
  updater: UpdaterRecord,
  rows: Map<string, FrameRecord>,
  schema: TableSchema | null,
): Promise<void> {
  const frame = Frame.fromRecords([...rows.values()], {
    ...(schema ? { indexNames: schema.indexNames, dtypes: schema.columnDtypes } : {}),
  });
  try {
    await ctx.store.writeFrame(updater.storageUid, frame, {
      ...(schema ? { schema } : {}),
      updaterUid: updater.uid,
    });
  } finally {
    ctx.invalidateReads(updater.storageUid);
  }
}

/** The staging key of a row: its full index, the time index as epoch micros. */
function rowKey(row: FrameRecord, indexNames: readonly string[], i: number): string {
  return JSON.stringify(
    indexNames.map((name, level) => {
      const value = row[name];
      if (value === undefined) throw fieldError("data", `Row ${i} has no index column '${name}'.`);
      if (level > 0) return value;
      const parsed = parseInstant(value);
      if (!parsed.ok) {
        throw fieldError(
          "data",
          `Row ${i}: '${name}' must be an ISO-8601 UTC instant (Z or offset).`,
        );
      }
      return parsed.micros;
    }),
  );
}

/**
 * The upstream DAG of an updater, the updater itself first, then breadth-first in edge order.
 * `update_priority` puts dependencies first (leaves 0); `depth` is the distance from the root
 * and `is_direct` marks its direct edges. Edges to tables read through an API node are rows of
 * `node_type` `api_table` carrying `target_table_uid`.
 */
async function dependencyPriorities(
  ctx: PlatformContext,
  root: UpdaterRecord,
): Promise<JsonObject[]> {
  const upstreams = new Map<string, DependencyTarget[]>();
  const depthOf = new Map<string, number>([[root.uid, 0]]);
  const tables: { uid: string; depth: number }[] = [];
  const queue = [root.uid];
  while (queue.length > 0) {
    const uid = queue.shift()!;
    if (upstreams.has(uid)) continue;
    const deps = await ctx.store.listDependencies(uid).catch(() => [] as DependencyTarget[]);
    upstreams.set(uid, deps);
    const depth = depthOf.get(uid)! + 1;
    for (const dep of deps) {
      if (dep.kind === "storage") {
        if (!tables.some((t) => t.uid === dep.uid)) tables.push({ uid: dep.uid, depth });
        continue;
      }
      if (!depthOf.has(dep.uid)) depthOf.set(dep.uid, depth);
      queue.push(dep.uid);
    }
  }
  const updaterDeps = (uid: string) =>
    (upstreams.get(uid) ?? []).filter((d) => d.kind === "updater").map((d) => d.uid);
  const priority = new Map<string, number>();
  const level = (uid: string, seen: ReadonlySet<string>): number => {
    const known = priority.get(uid);
    if (known !== undefined) return known;
    if (seen.has(uid)) return 0;
    const deps = updaterDeps(uid);
    const inner = new Set(seen).add(uid);
    const p = deps.length === 0 ? 0 : 1 + Math.max(...deps.map((d) => level(d, inner)));
    priority.set(uid, p);
    return p;
  };
  const countUpstreams = (uid: string): number => {
    const out = new Set<string>();
    const stack = updaterDeps(uid);
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (out.has(next) || next === uid) continue;
      out.add(next);
      stack.push(...updaterDeps(next));
    }
    return out.size;
  };
  const rows: JsonObject[] = [...upstreams.keys()].map((uid) => {
    const updater = ctx.updaters.get(uid);
    const depth = depthOf.get(uid) ?? 0;
    return {
      update_node_uid: uid,
      node_type: "local_time_serie",
      update_hash: updater?.updateHash ?? null,
      remote_table_hash_id: updater?.storageHash ?? null,
      data_source_uid: DATA_SOURCE_UID,
      update_priority: level(uid, new Set()),
      number_of_upstreams: countUpstreams(uid),
      depth,
      is_direct: depth === 1,
    };
  });
  for (const table of tables) {
    rows.push({
      update_node_uid: null,
      node_type: "api_table",
      target_table_uid: table.uid,
      data_source_uid: DATA_SOURCE_UID,
      update_priority: 0,
      number_of_upstreams: 0,
      depth: table.depth,
      is_direct: table.depth === 1,
    });
  }
  return rows;
}

/** `LTS/?...`: updaters by `update_hash` (looked up in the store) or by `uid` (known to the server). */
async function filterUpdaters(c: Context, ctx: PlatformContext): Promise<UpdaterRecord[]> {
  const updateHash = c.req.query("update_hash");
  let found: UpdaterRecord[];
  if (updateHash !== undefined) {
    const u = await ctx.store.findUpdater({ updateHash });
    found = u ? [ctx.rememberUpdater(u)] : [];
  } else {
    found = [...ctx.updaters.values()];
  }
  const uid = c.req.query("uid");
  if (uid !== undefined) found = found.filter((u) => u.uid === uid);
  const uids = listParam(c, "uid__in");
  if (uids) found = found.filter((u) => uids.includes(u.uid));
  const ds = c.req.query("remote_table__data_source__uid");
  if (ds !== undefined && ds !== DATA_SOURCE_UID) found = [];
  const dsIn = listParam(c, "remote_table__data_source__uid__in");
  if (dsIn && !dsIn.includes(DATA_SOURCE_UID)) found = [];
  return found;
}

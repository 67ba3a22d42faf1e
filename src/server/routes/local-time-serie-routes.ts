import { createHash } from "node:crypto";
import type { Context, Hono } from "hono";
import { Frame, type FrameRecord } from "../../frame/frame.js";
import { parseInstant } from "../../frame/time.js";
import type { DependencyTarget, TableSchema, UpdaterRecord } from "../../store/data-store.js";
import { KeyedQueue } from "../../store/keyed-queue.js";
import { fieldError, HttpError } from "../http-error.js";
import { DATA_SOURCE_UID, type PlatformContext } from "../platform-context.js";
import {
  decodeGzipJson,
  int64Cells,
  isObject,
  type JsonObject,
  jsonText,
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
 * stages each chunk (durably when the store is: a restarted server keeps an open run's chunks;
 * the same chunk re-sent is staged once), the progress commit writes the staged rows with one
 * `writeFrame` (a row re-sent in a later chunk replaces the earlier one, by full index), and an
 * error end or a new start discards them, so a table never holds part of a run's rows.
 */
export function registerLocalTimeSerieRoutes(app: Hono, ctx: PlatformContext): void {
  const commits = new KeyedQueue();

  app.get(`${LTS}/`, async (c) => {
    const updaters = await filterUpdaters(c, ctx);
    const detail = boolParam(c, "include_relations_detail") ?? false;
    return c.json(drfPage(c, await Promise.all(updaters.map((u) => ctx.updater(u, detail)))));
  });

  app.post(`${LTS}/filter_by_hash_id/`, async (c) => {
    const body = await readObject(c);
    const hashes = body["local_hash_id__in"] ?? body["update_hash__in"];
    if (!Array.isArray(hashes) || hashes.some((h) => typeof h !== "string")) {
      throw fieldError("local_hash_id__in", "Expected a list of update hashes.");
    }
    const found = await Promise.all(
      (hashes as string[]).map((updateHash) => ctx.store.findUpdater({ updateHash })),
    );
    const updaters = found.filter((u): u is UpdaterRecord => u !== null);
    return c.json(await Promise.all(updaters.map((u) => ctx.updater(u))));
  });

  app.patch(`${LTS}/batch_set_end_of_execution/`, async (c) => {
    const map = (await readObject(c))["update_map"];
    if (!isObject(map)) {
      throw fieldError("update_map", "Expected {update node uid: {error_on_update, …}}.");
    }
    const ended: string[] = [];
    for (const [uid, raw] of Object.entries(map)) {
      const entry = isObject(raw) ? raw : {};
      const updater = await ctx.requireUpdater(uid);
      await endRun(
        ctx,
        updater,
        entry["error_on_update"] === true,
        optionalString(entry, "historical_update_uid") ?? null,
      );
      ended.push(uid);
    }
    return c.json({ ended_update_node_uids: ended }, 200);
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
    if (existing) return c.json(await ctx.updater(existing), 200);
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
    return c.json(await ctx.updater(updater), 201);
  });

  app.post(`${LTS}/get_metadatas_and_set_updates/`, async (c) => {
    const body = await readObject(c);
    const nodes = body["update_nodes"];
    if (!Array.isArray(nodes)) throw fieldError("update_nodes", "Expected a list.");
    // Rows of `get_all_dependencies_update_priority` come back here; API tables have no uid.
    const updateNodes = nodes.filter((n) => !(isObject(n) && n["node_type"] === "api_table"));
    const kwargs = isObject(body["update_details_kwargs"]) ? body["update_details_kwargs"] : {};
    const priorities = isObject(body["update_priority_dict"]) ? body["update_priority_dict"] : {};
    const stcMap: JsonObject = {};
    const stateData: JsonObject = {};
    const indexStats: JsonObject = {};
    const metadatas: JsonObject[] = [];
    for (const node of updateNodes) {
      const uid = isObject(node) ? nodeUid(node) : null;
      if (uid === null) throw fieldError("update_nodes", "Every update node needs a uid.");
      const updater = await ctx.requireUpdater(uid);
      await ctx.state.editUpdater(uid, (state) => {
        const status = kwargs["active_update_status"];
        if (typeof status === "string") state.activeUpdateStatus = status.slice(0, 20);
        const scheduler = kwargs["active_update_scheduler_uid"];
        if (typeof scheduler === "string" || scheduler === null)
          state.activeSchedulerUid = scheduler;
        if (typeof kwargs["error_on_last_update"] === "boolean") {
          state.errorOnLastUpdate = kwargs["error_on_last_update"];
        }
        const priority = priorities[uid];
        if (Number.isSafeInteger(priority)) state.updatePriority = priority as number;
      });
      const storage = await ctx.store.findStorage({ uid: updater.storageUid });
      stcMap[uid] = storage ? await ctx.sourceTableConfiguration(storage) : null;
      stateData[uid] = await ctx.updateDetails(updater);
      indexStats[uid] = statsPayload(await ctx.store.getTableStatistics(updater.storageUid));
      metadatas.push(await ctx.updater(updater, true));
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
      await ctx.state.editUpdater(updater.uid, (state) => {
        state.ogmDependenciesLinked = linked;
      });
    }
    // The client merges this answer into an instance holding the storage object (M3).
    return c.json(await ctx.updater(updater, true), 200);
  });

  app.patch(`${LTS}/:uid/add_tags/`, async (c) => {
    const updater = await ctx.requireUpdater(c.req.param("uid"));
    const tags = (await readObject(c))["tags"];
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== "string" || t === "")) {
      throw fieldError("tags", "Expected a list of non-empty strings.");
    }
    const state = await ctx.state.editUpdater(updater.uid, (s) => {
      s.tags = [...new Set([...s.tags, ...(tags as string[])])];
    });
    return c.json({ tags: state.tags }, 200);
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
    const unwritten = boolParam(c, "include_unwritten_tables") ?? false;
    return c.json(await dependencyPriorities(ctx, updater, unwritten));
  });

  app.get(`${LTS}/:uid/verify_if_direct_dependencies_are_updated/`, async (c) => {
    await ctx.requireUpdater(c.req.param("uid"));
    return c.json({ error_on_update_dependencies: false, updated: true });
  });

  app.patch(`${LTS}/:uid/set_start_of_execution/`, async (c) => {
    const updater = await ctx.requireUpdater(c.req.param("uid"));
    const body = await readObject(c);
    const scheduler = body["active_update_scheduler_uid"];
    const run = await commits.run(updater.uid, async () => {
      // A new start discards what an unfinished run staged; a start re-sent after a lost
      // answer supersedes the run it opened.
      await ctx.state.dropStage(updater.uid);
      const previous = (await ctx.state.updater(updater.uid)).activeRunUid;
      if (previous !== null) {
        await ctx.store
          .closeRun(
            { uid: previous, updaterUid: updater.uid },
            { error: true, errorMessage: "superseded by a new run" },
          )
          .catch(() => undefined);
      }
      const opened = await ctx.store.openRun(updater.uid);
      await ctx.state.editUpdater(updater.uid, (state) => {
        state.activeRunUid = opened.uid;
        state.activeUpdateStatus = "R";
        if (typeof scheduler === "string") state.activeSchedulerUid = scheduler;
      });
      return opened;
    });
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
          error_on_update: false,
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
    const storage = await ctx.requireStorage(updater.storageUid);
    if (!storage.schema) {
      throw HttpError.notFound(
        `DataNodeStorage '${storage.uid}' has no source table configuration: call initialize-source-table first.`,
      );
    }
    const data = body["data"];
    // Decoded now so a bad chunk is refused at once, naming its row; staged as sent.
    const rows = decodeChunk(data, storage.schema);
    const indexNames = storage.schema.indexNames;
    for (const [i, row] of rows.entries()) rowKey(row, indexNames, i);
    const chunkKey = createHash("sha256").update(String(data)).digest("hex");
    const fresh = await ctx.state.stageChunk(updater.uid, chunkKey, data as string);
    return c.json({ staged_rows: rows.length, duplicate_chunk: !fresh }, 200);
  });

  app.post(`${LTS}/:uid/set_last_update_index_time_from_update_stats/`, async (c) => {
    const updater = await ctx.requireUpdater(c.req.param("uid"));
    const decoded = decodeGzipJson((await readObject(c))["data"]);
    if (!isObject(decoded) || !isObject(decoded["multi_index_stats"])) {
      throw fieldError("data", "Expected {multi_index_stats, multi_index_column_stats}.");
    }
    await commits.run(updater.uid, async () => {
      const storage = await ctx.requireStorage(updater.storageUid);
      if (!storage.schema) {
        throw HttpError.notFound(`DataNodeStorage '${storage.uid}' has no source table config.`);
      }
      const chunks = await ctx.state.stagedChunks(updater.uid);
      if (chunks.length === 0) return;
      // The stage is dropped only once written: a commit that failed can be re-sent.
      await commitStage(ctx, updater, chunks, storage.schema);
      await ctx.state.dropStage(updater.uid);
    });
    return c.json(await ctx.updater(updater, true), 200);
  });

  app.patch(`${LTS}/:uid/set_end_of_execution/`, async (c) => {
    const updater = await ctx.requireUpdater(c.req.param("uid"));
    const body = await readObject(c);
    const error = body["error_on_update"] === true;
    await commits.run(updater.uid, () =>
      endRun(ctx, updater, error, optionalString(body, "historical_update_uid") ?? null),
    );
    return c.json(await ctx.updater(updater, true), 200);
  });
}

/**
 * Ends an updater's run (`runUid`, or its open one): rows of it not committed by now are never
 * written (an error end, or no commit), the run is closed and the update details say how it went.
 */
async function endRun(
  ctx: PlatformContext,
  updater: UpdaterRecord,
  error: boolean,
  runUid: string | null,
): Promise<void> {
  const active = (await ctx.state.updater(updater.uid)).activeRunUid;
  const ending = runUid ?? active;
  if (ending === active) await ctx.state.dropStage(updater.uid);
  if (ending !== null) {
    await ctx.store.closeRun(
      { uid: ending, updaterUid: updater.uid },
      { error, errorMessage: error ? "error_on_update" : null },
    );
  }
  await ctx.state.editUpdater(updater.uid, (state) => {
    if (ending === state.activeRunUid) state.activeRunUid = null;
    state.activeUpdateStatus = error ? "E" : "S";
    state.errorOnLastUpdate = error;
  });
}

/** The row records of one upload chunk (`data`: base64(gzip(JSON array of row objects))). */
function decodeChunk(data: unknown, schema: TableSchema): FrameRecord[] {
  // The table's int64 columns are read exactly (bigints beyond ±(2^53 - 1)).
  const rows = decodeGzipJson(data, "data", int64Cells(schema));
  if (!Array.isArray(rows) || rows.some((r) => !isObject(r))) {
    throw fieldError("data", "The decoded data must be a JSON array of row objects.");
  }
  return rows as FrameRecord[];
}

/** Writes the rows of the staged chunks with one `writeFrame`; a later row replaces an earlier one with its index. */
async function commitStage(
  ctx: PlatformContext,
  updater: UpdaterRecord,
  chunks: readonly string[],
  schema: TableSchema,
): Promise<void> {
  const rows = new Map<string, FrameRecord>();
  for (const chunk of chunks) {
    for (const [i, row] of decodeChunk(chunk, schema).entries()) {
      rows.set(rowKey(row, schema.indexNames, i), row);
    }
  }
  const frame = Frame.fromRecords([...rows.values()], {
    indexNames: schema.indexNames,
    dtypes: schema.columnDtypes,
  });
  try {
    await ctx.store.writeFrame(updater.storageUid, frame, { schema, updaterUid: updater.uid });
  } finally {
    ctx.invalidateReads(updater.storageUid);
  }
}

/**
 * The staging key of a row: its full index, the time index as epoch micros (an int64 dimension
 * beyond ±(2^53 - 1) is a bigint, written exactly).
 */
function rowKey(row: FrameRecord, indexNames: readonly string[], i: number): string {
  return jsonText(
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
  includeUnwritten: boolean,
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
  const rows: JsonObject[] = [];
  for (const uid of upstreams.keys()) {
    const updater = uid === root.uid ? root : await ctx.store.findUpdater({ uid });
    if (!updater) continue;
    const depth = depthOf.get(uid) ?? 0;
    rows.push({
      update_node_uid: uid,
      node_type: "local_time_serie",
      update_hash: updater.updateHash,
      remote_table_hash_id: updater.storageHash,
      data_source_uid: DATA_SOURCE_UID,
      update_priority: level(uid, new Set()),
      number_of_upstreams: countUpstreams(uid),
      depth,
      is_direct: depth === 1,
    });
  }
  // The Python client sends every row back as an update node, which needs a uid and a hash: a
  // table read through an API node is listed by the updater that writes it, and left out when
  // nothing writes it, unless `include_unwritten_tables` (tdag's client, which lists edges) asks.
  for (const table of tables) {
    const storage = await ctx.store.findStorage({ uid: table.uid });
    const writer =
      storage && ctx.store.capabilities.listUpdaters
        ? (await ctx.store.listUpdaters(storage.uid))[0]
        : undefined;
    if (!storage || (!writer && !includeUnwritten)) continue;
    rows.push({
      update_node_uid: writer?.uid ?? null,
      node_type: "api_table",
      target_table_uid: table.uid,
      update_hash: writer?.updateHash ?? storage.storageHash,
      remote_table_hash_id: storage.storageHash,
      data_source_uid: DATA_SOURCE_UID,
      update_priority: 0,
      number_of_upstreams: 0,
      depth: table.depth,
      is_direct: table.depth === 1,
    });
  }
  return rows;
}

/** `LTS/?...`: updaters by `update_hash`, `uid` or `uid__in`, else every updater of the store. */
async function filterUpdaters(c: Context, ctx: PlatformContext): Promise<UpdaterRecord[]> {
  const updateHash = c.req.query("update_hash");
  const uid = c.req.query("uid");
  const uids = listParam(c, "uid__in");
  let found: UpdaterRecord[];
  if (updateHash !== undefined) found = maybe(await ctx.store.findUpdater({ updateHash }));
  else if (uid !== undefined) found = maybe(await ctx.store.findUpdater({ uid }));
  else if (uids) {
    found = (await Promise.all(uids.map((u) => ctx.store.findUpdater({ uid: u })))).filter(
      (u): u is UpdaterRecord => u !== null,
    );
  } else found = await ctx.allUpdaters();
  if (uid !== undefined) found = found.filter((u) => u.uid === uid);
  if (uids) found = found.filter((u) => uids.includes(u.uid));
  const storageHash = c.req.query("remote_table__hash_id");
  if (storageHash !== undefined) found = found.filter((u) => u.storageHash === storageHash);
  const ds = c.req.query("remote_table__data_source__uid");
  if (ds !== undefined && ds !== DATA_SOURCE_UID) found = [];
  const dsIn = listParam(c, "remote_table__data_source__uid__in");
  if (dsIn && !dsIn.includes(DATA_SOURCE_UID)) found = [];
  return found;
}

function maybe<T>(value: T | null): T[] {
  return value === null ? [] : [value];
}

/** The uid of an update node sent back by the client (it may use the dependency-row aliases). */
function nodeUid(node: JsonObject): string | null {
  for (const key of ["uid", "update_node_uid", "local_time_serie_uid", "data_node_update_uid"]) {
    if (typeof node[key] === "string" && node[key] !== "") return node[key] as string;
  }
  return null;
}

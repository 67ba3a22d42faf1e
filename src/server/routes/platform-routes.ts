import { randomUUID } from "node:crypto";
import type { Hono } from "hono";
import type { AssetFilter, AssetRegistration } from "../../store/data-store.js";
import { fieldError, HttpError } from "../http-error.js";
import {
  assetToWire,
  columnMetadataToWire,
  DATA_SOURCE_UID,
  type PlatformContext,
} from "../platform-context.js";
import type { SchedulerState } from "../server-state.js";
import { isObject, type JsonObject, requiredString, statsPayload } from "../wire-codec.js";
import { drfPage, listParam, readArray, readObject } from "./route-helpers.js";

const API = "/orm/api";
/** `{API}/ts_manager/source_table_config` (detail key: the storage uid). */
export const STC = `${API}/ts_manager/source_table_config`;
/** `{API}/ts_manager/scheduler`. */
export const SCH = `${API}/ts_manager/scheduler`;
/** `{API}/pods/projects`. */
export const PRJ = `${API}/pods/projects`;
/** `{API}/assets/asset` (legacy asset routes). */
export const AST = `${API}/assets/asset`;
/** `{API}/ts_manager/dynamic_table_data_source`. */
export const DTDS = `${API}/ts_manager/dynamic_table_data_source`;

/** Heartbeat period the constants route announces (seconds). */
const HEART_BEAT_SECONDS = 30;

/** Bootstrap, project, data source, source table config, scheduler and asset routes. */
export function registerPlatformRoutes(app: Hono, ctx: PlatformContext): void {
  app.get(`${API}/ts_manager/api/constants`, (c) =>
    c.json({
      DATA_SOURCE_TYPE_TIMESCALEDB: ["timescale_db", "timescale_db_remote"],
      SCHEDULER_HEART_BEAT_FREQUENCY_SECONDS: HEART_BEAT_SECONDS,
      DATA_SOURCE_TYPE_LOCAL_DISK_LAKE: "local_disk_lake",
    }),
  );

  app.get(`${PRJ}/:uid/`, (c) => {
    if (c.req.param("uid") !== ctx.projectUid) throw HttpError.notFound();
    return c.json(ctx.project());
  });
  app.get(`${PRJ}/`, (c) => c.json(drfPage(c, [ctx.project()])));

  app.get(`${DTDS}/:uid/`, (c) => {
    if (c.req.param("uid") !== DATA_SOURCE_UID) throw HttpError.notFound();
    return c.json(ctx.dataSource());
  });

  // ---------------------------------------------------------------- source table config

  app.get(`${STC}/:uid/get_stats/`, async (c) => {
    const storage = await ctx.requireStorage(c.req.param("uid"));
    if (!storage.schema) throw HttpError.notFound("No source table configuration.");
    return c.json(statsPayload(await ctx.store.getTableStatistics(storage.uid)));
  });

  app.post(`${STC}/:uid/set_or_update_columns_metadata/`, async (c) => {
    const uid = c.req.param("uid");
    const list = (await readObject(c))["columns_metadata"];
    if (!Array.isArray(list)) throw fieldError("columns_metadata", "Expected a list.");
    const columns = list.map((raw, i) => {
      if (!isObject(raw)) throw fieldError(`columns_metadata[${i}]`, "Expected an object.");
      return {
        columnName: requiredString(raw, "column_name"),
        dtype: requiredString(raw, "dtype"),
        label: typeof raw["label"] === "string" ? raw["label"] : "",
        description: typeof raw["description"] === "string" ? raw["description"] : "",
      };
    });
    await ctx.requireStorage(uid);
    await ctx.store.setColumnMetadata(uid, columns);
    return c.json({ columns_metadata: columns.map(columnMetadataToWire) }, 200);
  });

  app.get(`${STC}/:uid/get_time_scale_extra_table_indices/`, async (c) => {
    const storage = await ctx.requireStorage(c.req.param("uid"));
    if (!storage.schema) throw HttpError.notFound("No source table configuration.");
    // The physical indexes beside the primary key; tdag keys a table by its full index only.
    return c.json({});
  });

  app.get(`${STC}/:uid/`, async (c) => {
    const stc = await ctx.sourceTableConfiguration(await ctx.requireStorage(c.req.param("uid")));
    if (!stc) throw HttpError.notFound();
    return c.json(stc);
  });

  app.patch(`${STC}/:uid/`, async (c) => {
    const uid = c.req.param("uid");
    const body = await readObject(c);
    const storage = await ctx.requireStorage(uid);
    if ("open_for_everyone" in body) {
      await ctx.state.editExtras(uid, (e) => {
        e.stc_open_for_everyone = body["open_for_everyone"] === true;
      });
    }
    const stc = await ctx.sourceTableConfiguration(storage);
    if (!stc) throw HttpError.notFound("No source table configuration.");
    return c.json(stc, 200);
  });

  // ---------------------------------------------------------------- scheduler

  app.post(`${SCH}/build_and_assign_to_update_nodes/`, async (c) => {
    const body = await readObject(c);
    const name = requiredString(body, "scheduler_name");
    const uids = uidList(body, "update_node_uids");
    const kwargs = isObject(body["scheduler_kwargs"]) ? body["scheduler_kwargs"] : {};
    const existing = (await ctx.state.schedulers()).find((s) => s.name === name);
    const uid = existing?.uid ?? randomUUID();
    if (body["remove_from_other_schedulers"] === true) await unassignElsewhere(ctx, uid, uids);
    const assign = (s: SchedulerState) => {
      s.schedules_to = union(body["delink_all_update_nodes"] === true ? [] : s.schedules_to, uids);
    };
    let scheduler = existing ? await ctx.state.editScheduler(uid, assign) : null;
    if (!scheduler) {
      scheduler = newScheduler(uid, name, kwargs["running_in_debug_mode"] === true);
      assign(scheduler);
      await ctx.state.saveScheduler(scheduler);
    }
    return c.json(await ctx.scheduler(scheduler), existing ? 200 : 201);
  });

  app.get(`${SCH}/for-update-node/`, async (c) => {
    const uid = c.req.query("update_node_uid");
    if (uid === undefined || uid === "")
      throw fieldError("update_node_uid", "This field is required.");
    const scheduler = (await ctx.state.schedulers()).find((s) => s.schedules_to.includes(uid));
    if (!scheduler) throw HttpError.notFound(`No Scheduler is assigned DataNodeUpdate '${uid}'.`);
    return c.json(await ctx.scheduler(scheduler));
  });

  app.patch(`${SCH}/:uid/assign/`, async (c) => {
    const uids = uidList(await readObject(c), "update_node_uids");
    const uid = c.req.param("uid");
    await requireScheduler(ctx, uid);
    await unassignElsewhere(ctx, uid, uids);
    const scheduler = await ctx.state.editScheduler(uid, (s) => {
      s.schedules_to = union(s.schedules_to, uids);
    });
    return c.json(await ctx.scheduler(scheduler ?? (await requireScheduler(ctx, uid))), 200);
  });

  app.patch(`${SCH}/:uid/in-active-tree/`, async (c) => {
    const uids = uidList(await readObject(c), "update_node_uids");
    const scheduler = await ctx.state.editScheduler(c.req.param("uid"), (s) => {
      s.in_active_tree = union([], uids);
    });
    if (!scheduler) throw notFoundScheduler(c.req.param("uid"));
    return c.json(await ctx.scheduler(scheduler), 200);
  });

  app.patch(`${SCH}/:uid/`, async (c) => {
    const body = await readObject(c);
    const beat = body["last_heart_beat"];
    const pid = body["running_process_pid"];
    if (pid !== undefined && pid !== null && !Number.isSafeInteger(pid)) {
      throw fieldError("running_process_pid", "A valid integer is required.");
    }
    const scheduler = await ctx.state.editScheduler(c.req.param("uid"), (s) => {
      if (typeof body["is_running"] === "boolean") s.is_running = body["is_running"];
      if (pid !== undefined) s.running_process_pid = pid as number | null;
      if (typeof body["running_in_debug_mode"] === "boolean") {
        s.running_in_debug_mode = body["running_in_debug_mode"];
      }
      if (typeof body["updates_halted"] === "boolean") s.updates_halted = body["updates_halted"];
      if (typeof beat === "number" && Number.isFinite(beat)) {
        s.last_heart_beat = new Date(beat * 1000).toISOString();
      } else if (typeof beat === "string") s.last_heart_beat = beat;
    });
    if (!scheduler) throw notFoundScheduler(c.req.param("uid"));
    return c.json(await ctx.scheduler(scheduler), 200);
  });

  app.get(`${SCH}/:uid/`, async (c) =>
    c.json(await ctx.scheduler(await requireScheduler(ctx, c.req.param("uid")))),
  );

  // ---------------------------------------------------------------- assets (legacy)

  app.get(`${AST}/`, async (c) => {
    const filter: { -readonly [K in keyof AssetFilter]: AssetFilter[K] } = {};
    const q = (name: string) => c.req.query(name) ?? c.req.query(`current_snapshot__${name}`);
    const unique = exactOrAny(
      c.req.query("unique_identifier"),
      listParam(c, "unique_identifier__in"),
    );
    if (unique !== undefined) filter.uniqueIdentifier = unique;
    const ticker = exactOrAny(
      q("ticker"),
      listParam(c, "ticker__in") ?? listParam(c, "current_snapshot__ticker__in"),
    );
    if (ticker !== undefined) filter.ticker = ticker;
    const name = q("name__contains");
    if (name !== undefined) filter.nameContains = name;
    const exchange = q("exchange_code");
    if (exchange !== undefined) filter.exchangeCode = exchange;
    const type = c.req.query("security_type");
    if (type !== undefined) filter.securityType = type;
    const assets = await ctx.store.filterAssets(filter);
    return c.json(drfPage(c, assets.map(assetToWire), 1000));
  });

  app.post(`${AST}/batch_get_or_register_custom_assets/`, async (c) => {
    const items = await readArray(c);
    const registrations = items.map((raw, i): AssetRegistration => {
      if (!isObject(raw) || !isObject(raw["snapshot"])) {
        throw HttpError.badRequest({
          [`${i}`]: ["Expected {unique_identifier, snapshot: {name, ticker}}."],
        });
      }
      const snapshot = raw["snapshot"];
      return {
        uniqueIdentifier: requiredString(raw, "unique_identifier"),
        snapshot: {
          name: typeof snapshot["name"] === "string" ? snapshot["name"] : "",
          ticker: typeof snapshot["ticker"] === "string" ? snapshot["ticker"] : "",
          exchangeCode:
            typeof snapshot["exchange_code"] === "string" ? snapshot["exchange_code"] : null,
        },
        securityType: typeof raw["security_type"] === "string" ? raw["security_type"] : null,
        securityMarketSector:
          typeof raw["security_market_sector"] === "string" ? raw["security_market_sector"] : null,
        isin: typeof raw["isin"] === "string" ? raw["isin"] : null,
      };
    });
    const assets = await ctx.store.batchGetOrRegisterAssets(registrations);
    return c.json(assets.map(assetToWire), 200);
  });
}

/** `field=x` and `field__in=a,b` together: both must hold (x, if it is in the list). */
function exactOrAny(
  exact: string | undefined,
  any: readonly string[] | undefined,
): string | readonly string[] | undefined {
  if (exact === undefined) return any;
  if (any === undefined) return exact;
  return any.includes(exact) ? exact : [];
}

async function requireScheduler(ctx: PlatformContext, uid: string): Promise<SchedulerState> {
  const scheduler = await ctx.state.scheduler(uid);
  if (!scheduler) throw notFoundScheduler(uid);
  return scheduler;
}

function notFoundScheduler(uid: string): HttpError {
  return HttpError.notFound(`No Scheduler matches uid '${uid}'.`);
}

function newScheduler(uid: string, name: string, debug: boolean): SchedulerState {
  return {
    uid,
    name,
    is_running: false,
    running_process_pid: null,
    running_in_debug_mode: debug,
    updates_halted: false,
    host: null,
    api_address: null,
    api_port: null,
    last_heart_beat: null,
    pre_loads_in_tree: [],
    in_active_tree: [],
    schedules_to: [],
  };
}

/** A list of uid strings in a body field; anything else is a 400 naming the field. */
function uidList(body: JsonObject, field: string): string[] {
  const value = body[field];
  if (!Array.isArray(value) || value.some((u) => typeof u !== "string")) {
    throw fieldError(field, "Expected a list of uids.");
  }
  return value as string[];
}

/** `a` followed by the items of `b` it lacks (order kept, no duplicates). */
function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

/** Removes `uids` from the `schedules_to` of every scheduler but `keep`. */
async function unassignElsewhere(
  ctx: PlatformContext,
  keep: string,
  uids: readonly string[],
): Promise<void> {
  for (const other of await ctx.state.schedulers()) {
    if (other.uid === keep || !other.schedules_to.some((u) => uids.includes(u))) continue;
    await ctx.state.editScheduler(other.uid, (s) => {
      s.schedules_to = s.schedules_to.filter((u) => !uids.includes(u));
    });
  }
}

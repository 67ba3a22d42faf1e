import type { Hono } from "hono";
import type { AssetFilter, AssetRegistration } from "../../store/data-store.js";
import { fieldError, HttpError } from "../http-error.js";
import {
  assetToWire,
  columnMetadataToWire,
  DATA_SOURCE_UID,
  type PlatformContext,
  type SchedulerState,
} from "../platform-context.js";
import { isObject, requiredString, statsPayload } from "../wire-codec.js";
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
      ctx.extras(uid).stc_open_for_everyone = body["open_for_everyone"] === true;
    }
    const stc = await ctx.sourceTableConfiguration(storage);
    if (!stc) throw HttpError.notFound("No source table configuration.");
    return c.json(stc, 200);
  });

  // ---------------------------------------------------------------- scheduler

  app.post(`${SCH}/build_and_assign_to_update_nodes/`, async (c) => {
    const body = await readObject(c);
    const name = requiredString(body, "scheduler_name");
    const uids = body["update_node_uids"];
    if (!Array.isArray(uids) || uids.some((u) => typeof u !== "string")) {
      throw fieldError("update_node_uids", "Expected a list of uids.");
    }
    const kwargs = isObject(body["scheduler_kwargs"]) ? body["scheduler_kwargs"] : {};
    const debug = kwargs["running_in_debug_mode"] === true;
    const existing = [...ctx.schedulers.values()].find((s) => s.name === name);
    if (existing) {
      for (const uid of uids as string[]) {
        if (!existing.schedules_to.includes(uid)) existing.schedules_to.push(uid);
      }
      return c.json(existing, 200);
    }
    return c.json(ctx.newScheduler(name, debug, [...(uids as string[])]), 201);
  });

  app.patch(`${SCH}/:uid/in-active-tree/`, async (c) => {
    const scheduler = requireScheduler(ctx, c.req.param("uid"));
    const uids = (await readObject(c))["update_node_uids"];
    if (!Array.isArray(uids)) throw fieldError("update_node_uids", "Expected a list of uids.");
    scheduler.in_active_tree = uids.filter((u): u is string => typeof u === "string");
    return c.json(scheduler, 200);
  });

  app.patch(`${SCH}/:uid/`, async (c) => {
    const scheduler = requireScheduler(ctx, c.req.param("uid"));
    const body = await readObject(c);
    if (typeof body["is_running"] === "boolean") scheduler.is_running = body["is_running"];
    if (typeof body["running_process_pid"] === "number" || body["running_process_pid"] === null) {
      scheduler.running_process_pid = body["running_process_pid"] as number | null;
    }
    if (typeof body["running_in_debug_mode"] === "boolean") {
      scheduler.running_in_debug_mode = body["running_in_debug_mode"];
    }
    const beat = body["last_heart_beat"];
    if (typeof beat === "number") scheduler.last_heart_beat = new Date(beat * 1000).toISOString();
    else if (typeof beat === "string") scheduler.last_heart_beat = beat;
    return c.json(scheduler, 200);
  });

  app.get(`${SCH}/:uid/`, (c) => c.json(requireScheduler(ctx, c.req.param("uid"))));

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

function requireScheduler(ctx: PlatformContext, uid: string): SchedulerState {
  const scheduler = ctx.schedulers.get(uid);
  if (!scheduler) throw HttpError.notFound(`No Scheduler matches uid '${uid}'.`);
  return scheduler;
}

import type { Context, Hono } from "hono";
import { ConfigError } from "../../errors.js";
import { SearchRequest } from "../../filters/search-request.js";
import {
  frameDTypeToToken,
  normalizeDtypeToken,
  tokenToFrameDType,
} from "../../frame/dtype-tokens.js";
import type { DType } from "../../frame/dtypes.js";
import type { FrameRecord } from "../../frame/frame.js";
import type {
  DataFrequencyValue,
  StorageRecord,
  StorageSearchFilters,
  TableMetadata,
  TableSchema,
} from "../../store/data-store.js";
import { fieldError, HttpError } from "../http-error.js";
import { DATA_SOURCE_UID, type PlatformContext } from "../platform-context.js";
import {
  frameToRows,
  isObject,
  type JsonObject,
  jsonText,
  offsetField,
  optionalString,
  parseAfterDate,
  parseDimensionQuery,
  parseReadQuery,
  requiredString,
  statsPayload,
  timeBounds,
} from "../wire-codec.js";
import { boolParam, drfPage, listParam, readObject } from "./route-helpers.js";

/** `{API}/ts_manager/dynamic_table`: DataNodeStorage routes (protocol 2.2). */
export const DT = "/orm/api/ts_manager/dynamic_table";

/** Description-search options: the platform's spelling → the store contract's. */
const SEARCH_OPTIONS: Readonly<Record<string, string>> = {
  trigram_k: "trigramK",
  embed_k: "embedK",
  w_trgm: "wTrgm",
  w_emb: "wEmb",
  embedding_model: "embeddingModel",
  q_embedding: "qEmbedding",
};

/** Storage filters of both searches: the platform's spelling → the store contract's. */
const SEARCH_FILTERS: Readonly<Record<string, string>> = {
  namespace: "namespace",
  identifier: "identifier",
  identifier__contains: "identifierContains",
  storage_hash: "storageHash",
  source_class_name: "sourceClassName",
  data_source_id: "dataSourceId",
};

/** Registers the DataNodeStorage routes. */
export function registerDynamicTableRoutes(app: Hono, ctx: PlatformContext): void {
  app.get(`${DT}/`, async (c) => {
    const storages = await filterStorages(c, ctx);
    return c.json(drfPage(c, await Promise.all(storages.map((s) => ctx.storage(s)))));
  });

  app.post(`${DT}/get_or_create/`, async (c) => {
    const body = await readObject(c);
    const storageHash = requiredString(body, "storage_hash");
    if (storageHash.length > 63) {
      throw fieldError("storage_hash", "Ensure this field has no more than 63 characters.");
    }
    const dataSourceUid = body["data_source_uid"];
    if (
      dataSourceUid !== undefined &&
      dataSourceUid !== null &&
      dataSourceUid !== DATA_SOURCE_UID
    ) {
      throw fieldError("data_source_uid", `Unknown data source '${String(dataSourceUid)}'.`);
    }
    const existing = await ctx.store.findStorage({ storageHash });
    if (existing) return c.json(await ctx.storage(existing), 200);
    const openToPublic = body["open_to_public"];
    const storage = await ctx.store.registerStorage({
      storageHash,
      namespace: optionalString(body, "namespace") ?? null,
      buildConfiguration: body["build_configuration"] ?? {},
      sourceClassName:
        optionalString(body, "source_class_name") ?? storageHash.replace(/_[0-9a-f]{32}$/, ""),
      openToPublic: openToPublic === true,
    });
    await ctx.state.editExtras(storage.uid, (extras) => {
      extras.time_serie_source_code_git_hash =
        optionalString(body, "time_serie_source_code_git_hash") ?? null;
      extras.time_serie_source_code = optionalString(body, "time_serie_source_code") ?? null;
      extras.build_configuration_json_schema = body["build_configuration_json_schema"] ?? null;
    });
    return c.json(await ctx.storage(storage), 201);
  });

  app.get(`${DT}/get-org-unique-identifiers/`, async (c) =>
    c.json(await ctx.store.orgUniqueIdentifiers()),
  );

  app.post(`${DT}/get-data-from-filter/`, async (c) => {
    const request = SearchRequest.fromWire(await readObject(c));
    const result = await ctx.store.getDataFromFilter(request);
    const map: JsonObject = {};
    for (const [name, storage] of Object.entries(result.storages)) {
      map[name] = await ctx.storage(storage);
    }
    return c.json({
      data_node_storage_map: map,
      index_names: [...result.indexNames],
      results: frameToRows(result.frame),
      next_offset: result.nextOffset,
    });
  });

  app.post(`${DT}/description-search/`, async (c) => {
    const body = await readObject(c);
    const q = requiredString(body, "q");
    const options: Record<string, unknown> = {};
    const filters: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(body)) {
      if (key === "q") continue;
      const option = SEARCH_OPTIONS[key];
      if (option !== undefined) options[option] = value;
      else addSearchFilter(filters, key, value);
    }
    if (Object.keys(filters).length > 0) options["filters"] = filters;
    const hits = await ctx.store.descriptionSearch(q, options);
    const results = await Promise.all(hits.map((h) => ctx.storage(h.storage)));
    return c.json({ count: results.length, next: null, previous: null, results });
  });

  app.get(`${DT}/column-search/`, async (c) => {
    const q = c.req.query("q");
    if (q === undefined || q.trim() === "") throw fieldError("q", "This field is required.");
    const filters: Record<string, unknown> = {};
    let limit: number | undefined;
    for (const [key, value] of Object.entries(c.req.query())) {
      if (key === "q") continue;
      if (key === "limit") limit = Number(value);
      else addSearchFilter(filters, key, value);
    }
    const hits = await ctx.store.columnSearch(q, {
      filters: filters as StorageSearchFilters,
      ...(limit === undefined ? {} : { limit }),
    });
    const results = await Promise.all(hits.map((h) => ctx.storage(h.storage)));
    return c.json({ count: results.length, next: null, previous: null, results });
  });

  app.post(`${DT}/get_data_between_dates_from_node_identifier/`, async (c) => {
    const body = await readObject(c);
    const identifier = requiredString(body, "node_identifier");
    const storage = await ctx.store.findStorage({ identifier });
    if (!storage)
      throw HttpError.notFound(`No DataNodeStorage has the identifier '${identifier}'.`);
    const page = await readPage(ctx, storage.uid, body);
    return c.json({ ...page, storage_node: await ctx.storage(storage) });
  });

  app.get(`${DT}/:uid/`, async (c) =>
    c.json(await ctx.storage(await ctx.requireStorage(c.req.param("uid")))),
  );

  app.patch(`${DT}/:uid/`, async (c) => {
    const uid = c.req.param("uid");
    const body = await readObject(c);
    let storage = await ctx.requireStorage(uid);
    const metadata: { -readonly [K in keyof TableMetadata]: TableMetadata[K] } = {};
    if ("identifier" in body) metadata.identifier = optionalString(body, "identifier") ?? null;
    if ("description" in body) metadata.description = optionalString(body, "description") ?? null;
    if ("data_frequency_id" in body) {
      metadata.dataFrequencyId = (optionalString(body, "data_frequency_id") ??
        null) as DataFrequencyValue | null;
    }
    const flags: Partial<Record<"protect_from_deletion" | "open_for_everyone", boolean>> = {};
    for (const flag of ["protect_from_deletion", "open_for_everyone"] as const) {
      if (!(flag in body)) continue;
      if (typeof body[flag] !== "boolean") throw fieldError(flag, "Must be a valid boolean.");
      flags[flag] = body[flag] as boolean;
    }
    if (Object.keys(metadata).length > 0) storage = await ctx.store.setTableMetadata(uid, metadata);
    await ctx.state.editExtras(uid, (extras) => {
      if ("time_serie_source_code_git_hash" in body) {
        extras.time_serie_source_code_git_hash =
          optionalString(body, "time_serie_source_code_git_hash") ?? null;
      }
      if ("time_serie_source_code" in body) {
        extras.time_serie_source_code = optionalString(body, "time_serie_source_code") ?? null;
      }
      Object.assign(extras, flags);
    });
    return c.json(await ctx.storage(storage), 200);
  });

  app.post(`${DT}/:uid/initialize-source-table/`, async (c) => {
    const uid = c.req.param("uid");
    const body = await readObject(c);
    const before = await ctx.requireStorage(uid);
    const { schema, declaredTokens } = parseSchema(body);
    const foreignKeys = parseForeignKeys(body["foreign_keys"]);
    const extras = await ctx.state.extras(uid);
    if (
      foreignKeys !== undefined &&
      extras.foreign_keys &&
      JSON.stringify(extras.foreign_keys) !== JSON.stringify(foreignKeys)
    ) {
      throw HttpError.detail(
        409,
        "The existing source table configuration conflicts with requested foreign key metadata.",
      );
    }
    await ctx.store.ensureTableSchema(uid, schema);
    await ctx.state.editExtras(uid, (e) => {
      if (foreignKeys !== undefined) e.foreign_keys = foreignKeys;
      if (body["open_for_everyone"] === true) e.stc_open_for_everyone = true;
      // The first declaration names the table's tokens (`float32` stays `float32`).
      if (before.schema === null) e.column_dtype_tokens = declaredTokens;
    });
    const after = await ctx.requireStorage(uid);
    const created = before.schema === null;
    return c.json(
      {
        source_table_configuration: await ctx.sourceTableConfiguration(after),
        created_source_table_configuration: created,
        created_physical_table: created,
      },
      created ? 201 : 200,
    );
  });

  app.post(`${DT}/:uid/get_last_observation/`, async (c) => {
    const uid = c.req.param("uid");
    const query = parseDimensionQuery(await readObject(c));
    await ctx.requireStorage(uid);
    return c.json(frameToRows(await ctx.store.readLastObservation(uid, query)));
  });

  app.post(`${DT}/:uid/get_data_between_dates_from_remote/`, async (c) => {
    const uid = c.req.param("uid");
    const body = await readObject(c);
    await ctx.requireStorage(uid);
    return c.json(await readPage(ctx, uid, body));
  });

  app.post(`${DT}/:uid/delete_after_date/`, async (c) => {
    const uid = c.req.param("uid");
    const body = await readObject(c);
    const after = parseAfterDate(body["after_date"]);
    const query = parseDimensionQuery(body);
    await ctx.requireStorage(uid);
    const { deletedCount } = await ctx.store.deleteAfterDate(uid, after, query);
    ctx.invalidateReads(uid);
    const stats = await ctx.store.getTableStatistics(uid);
    const payload = statsPayload(stats);
    return c.json({
      ok: true,
      dynamic_table_id: uid,
      deleted_count: deletedCount,
      table_empty: stats.globalIndexProgress === null,
      stats: {
        ...timeBounds(stats),
        ...payload,
      },
    });
  });

  app.patch(`${DT}/:uid/build_or_update_update_details/`, async (c) => {
    const uid = c.req.param("uid");
    const body = await readObject(c);
    await ctx.requireStorage(uid);
    optionalString(body, "source_class_name");
    // The platform rebuilds its update-details cache here; tdag computes them on every read.
    return c.json({ detail: "accepted" }, 202);
  });

  app.delete(`${DT}/:uid/`, async (c) => {
    const uid = c.req.param("uid");
    const storage = await ctx.requireStorage(uid);
    const override = boolParam(c, "override_protection") ?? false;
    const downstream = boolParam(c, "full_delete_downstream_tables") ?? false;
    if ((await ctx.state.extras(uid)).protect_from_deletion === true && !override) {
      throw HttpError.detail(
        409,
        `DataNodeStorage '${uid}' is protected from deletion (send override_protection=True).`,
      );
    }
    const deleted = [storage.uid];
    if (downstream) deleted.push(...(await downstreamStorages(ctx, storage.uid)));
    for (const target of deleted.reverse()) {
      for (const updater of await ctx.store.listUpdaters(target).catch(() => [])) {
        await ctx.state.forgetUpdater(updater.uid);
      }
      await ctx.store.deleteStorage(target);
      await ctx.state.forgetStorage(target);
      ctx.invalidateReads(target);
    }
    return c.json({ ok: true, deleted_storage_uids: deleted.reverse() }, 200);
  });

  app.post(`${DT}/:uid/refresh-table-search-index/`, async (c) => {
    await ctx.store.refreshTableSearchIndex(c.req.param("uid"));
    return c.json({ ok: true });
  });
}

/**
 * The storages written by updaters that depend, directly or not, on `storageUid` (through an
 * updater of it or an API-table edge to it), nearest first.
 */
async function downstreamStorages(ctx: PlatformContext, storageUid: string): Promise<string[]> {
  const updaters = await ctx.allUpdaters();
  const edges = await Promise.all(
    updaters.map(async (u) => ({ updater: u, deps: await ctx.store.listDependencies(u.uid) })),
  );
  const storageOf = new Map(updaters.map((u) => [u.uid, u.storageUid]));
  const found: string[] = [];
  const reached = new Set([storageUid]);
  let frontier = [storageUid];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const { updater, deps } of edges) {
      if (reached.has(updater.storageUid)) continue;
      const hit = deps.some((d) =>
        frontier.includes(d.kind === "storage" ? d.uid : (storageOf.get(d.uid) ?? "")),
      );
      if (!hit) continue;
      reached.add(updater.storageUid);
      found.push(updater.storageUid);
      next.push(updater.storageUid);
    }
    frontier = next;
  }
  return found;
}

/** One page of a range read; the first page reads a snapshot that later offsets page through. */
async function readPage(
  ctx: PlatformContext,
  storageUid: string,
  body: JsonObject,
): Promise<{ results: FrameRecord[]; next_offset: number | null }> {
  const offset = offsetField(body);
  const query = parseReadQuery(body);
  const { offset: _ignored, ...rest } = body;
  const key = `${storageUid}\u0000${jsonText(rest)}`;
  let entry = offset === 0 ? undefined : ctx.readCache.get(key);
  if (!entry) {
    const frame = await ctx.store.readFrame(storageUid, query);
    entry = { storageUid, rows: frameToRows(frame) };
    ctx.readCache.set(key, entry);
    // Keep a handful of snapshots: paging clients read one query at a time.
    while (ctx.readCache.size > 16) ctx.readCache.delete(ctx.readCache.keys().next().value!);
  }
  const results = entry.rows.slice(offset, offset + ctx.pageSize);
  const next = offset + ctx.pageSize;
  if (next >= entry.rows.length) ctx.readCache.delete(key);
  return { results, next_offset: next < entry.rows.length ? next : null };
}

/**
 * The schema an `initialize-source-table` body declares, and the tokens it declares that the
 * store's dtypes would spell differently (kept so answers repeat them).
 */
function parseSchema(body: JsonObject): {
  schema: TableSchema;
  declaredTokens: Record<string, string>;
} {
  const timeIndexName = requiredString(body, "time_index_name");
  const indexNames = body["index_names"];
  if (
    !Array.isArray(indexNames) ||
    indexNames.length === 0 ||
    indexNames.some((n) => typeof n !== "string" || n === "")
  ) {
    throw fieldError("index_names", "Expected a non-empty list of column names.");
  }
  if (indexNames[0] !== timeIndexName) {
    throw fieldError("index_names", "The first index name must be time_index_name.");
  }
  const map = body["column_dtypes_map"];
  if (!isObject(map)) throw fieldError("column_dtypes_map", "Expected an object {column: dtype}.");
  const columnDtypes: Record<string, DType> = {};
  const declaredTokens: Record<string, string> = {};
  for (const [column, token] of Object.entries(map)) {
    if (typeof token !== "string")
      throw fieldError("column_dtypes_map", `Column '${column}': expected a dtype token.`);
    let normalized: string;
    try {
      normalized = normalizeDtypeToken(token, { remote: true });
    } catch (error) {
      if (error instanceof ConfigError)
        throw fieldError("column_dtypes_map", `Column '${column}': ${error.message}`);
      throw error;
    }
    const dtype = tokenToFrameDType(normalized);
    if (dtype === undefined) {
      throw fieldError("column_dtypes_map", `Column '${column}': unsupported dtype '${token}'.`);
    }
    columnDtypes[column] = dtype;
    if (frameDTypeToToken(dtype) !== normalized) declaredTokens[column] = normalized;
  }
  for (const name of indexNames as string[]) {
    if (!(name in columnDtypes)) {
      throw fieldError("column_dtypes_map", `Index column '${name}' has no dtype.`);
    }
  }
  if (columnDtypes[timeIndexName] !== "timestamptz") {
    throw fieldError(
      "column_dtypes_map",
      `The time index '${timeIndexName}' must be 'timestamp with time zone'.`,
    );
  }
  return {
    schema: { timeIndexName, indexNames: indexNames as string[], columnDtypes },
    declaredTokens,
  };
}

function parseForeignKeys(raw: unknown): JsonObject[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw) || raw.some((fk) => !isObject(fk))) {
    throw fieldError("foreign_keys", "Expected a list of foreign key objects.");
  }
  return (raw as JsonObject[]).map((fk) => ({ on_delete: "restrict", ...fk }));
}

/** `DT/?...`: storages matching the DRF filters of protocol 1.6 (unknown keys are ignored, as DRF does). */
async function filterStorages(c: Context, ctx: PlatformContext): Promise<StorageRecord[]> {
  const storageHash = c.req.query("storage_hash");
  const identifier = c.req.query("identifier");
  const uid = c.req.query("uid");
  let candidates: StorageRecord[];
  if (storageHash !== undefined) candidates = maybe(await ctx.store.findStorage({ storageHash }));
  else if (identifier !== undefined)
    candidates = maybe(await ctx.store.findStorage({ identifier }));
  else if (uid !== undefined) candidates = maybe(await ctx.store.findStorage({ uid }));
  else candidates = await ctx.store.listStorages();

  const tests: ((s: StorageRecord) => boolean)[] = [];
  const inList = (name: string, get: (s: StorageRecord) => string | null) => {
    const values = listParam(c, `${name}__in`);
    if (values) tests.push((s) => values.includes(get(s) ?? ""));
  };
  const contains = (name: string, get: (s: StorageRecord) => string | null) => {
    const value = c.req.query(`${name}__contains`);
    if (value !== undefined) tests.push((s) => (get(s) ?? "").includes(value));
  };
  const exact = (name: string, get: (s: StorageRecord) => string | null) => {
    const value = c.req.query(name);
    if (value !== undefined) tests.push((s) => get(s) === value);
  };
  const fields: [string, (s: StorageRecord) => string | null][] = [
    ["storage_hash", (s) => s.storageHash],
    ["identifier", (s) => s.identifier],
    ["uid", (s) => s.uid],
    ["namespace", (s) => s.namespace],
  ];
  for (const [name, get] of fields) {
    exact(name, get);
    inList(name, get);
    contains(name, get);
  }
  const isNull = boolParam(c, "namespace__isnull");
  if (isNull !== undefined) tests.push((s) => (s.namespace === null) === isNull);
  const ds = c.req.query("data_source__uid");
  if (ds !== undefined) tests.push(() => ds === DATA_SOURCE_UID);
  const dsIn = listParam(c, "data_source__uid__in");
  if (dsIn) tests.push(() => dsIn.includes(DATA_SOURCE_UID));
  return candidates.filter((s) => tests.every((t) => t(s)));
}

function maybe<T>(value: T | null): T[] {
  return value === null ? [] : [value];
}

/**
 * One DRF search filter into the store's filter shape: `namespace__isnull=true` (what the client
 * sends for "no namespace") becomes `namespace: null`, `data_source_id` a number; other keys pass
 * through and the store rejects unknown ones.
 */
function addSearchFilter(filters: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "namespace__isnull") {
    const isNull = value === true || value === "true" || value === "True";
    if (!isNull) {
      throw fieldError(
        key,
        "Only namespace__isnull=true (storages without a namespace) is supported.",
      );
    }
    filters["namespace"] = null;
  } else if (key === "data_source_id") {
    filters["dataSourceId"] = Number(value);
  } else {
    // An unknown key reaches the search as given, which rejects it naming that key.
    filters[SEARCH_FILTERS[key] ?? key] = value;
  }
}

import {
  DATA_FREQUENCY_VALUES,
  type DataFrequencyValue,
} from "../../config/data-node-configuration.js";
import {
  ConfigError,
  NotFoundError,
  STORE_ERROR_CODES,
  StoreError,
  type StoreErrorCode,
} from "../../errors.js";
import {
  FILTER_ERROR_CODES,
  FilterError,
  type FilterErrorCode,
} from "../../filters/filter-error.js";
import type { SearchRequest } from "../../filters/search-request.js";
import { toWireJson } from "../../filters/wire-filter-compiler.js";
import type { DType } from "../../frame/dtypes.js";
import { stringifyJson } from "../../frame/exact-json.js";
import { Frame } from "../../frame/frame.js";
import { microsToIso } from "../../frame/time.js";
import { getLogger } from "../../logger.js";
import {
  SEARCH_ERROR_CODES,
  SearchError,
  type SearchErrorCode,
} from "../../search/search-error.js";
import { parseColumnSearch, parseDescriptionSearch } from "../../search/search-options.js";
import { unsupportedCapability } from "../capabilities.js";
import type {
  AssetFilter,
  AssetRecord,
  AssetRegistration,
  CallOptions,
  ColumnMetadata,
  ColumnSearchOptions,
  DataStore,
  DependencyTarget,
  DescriptionSearchOptions,
  DimensionQuery,
  FilterResult,
  ListRunsOptions,
  ReadQuery,
  RegisterStorageInput,
  RegisterUpdaterInput,
  RunOutcome,
  RunRecord,
  RunRef,
  RunSummary,
  SearchHit,
  StorageKey,
  StorageRecord,
  StorageSearchFilters,
  StoreCapabilities,
  TableMetadata,
  TableSchema,
  TableStatistics,
  UpdaterKey,
  UpdaterRecord,
  WriteOptions,
  WriteResult,
} from "../data-store.js";
import { KeyedQueue } from "../keyed-queue.js";
import {
  checkDimensions,
  checkNoDuplicateKeys,
  checkWriter,
  matchesNothing,
  mergeSchema,
  projectColumns,
  sameSchema,
  schemaForFrame,
  writerUid,
} from "../table-rules.js";
import {
  type HttpMethod,
  PlatformClient,
  type PlatformResponse,
  type RequestOptions,
} from "./http-client.js";
import {
  chunkStats,
  columnDtypesMap,
  encodeGzipBase64Json,
  exactPageParsing,
  frameToWireRows,
  microsToEpochSeconds,
  microsToRangeSeconds,
  schemaFromStc,
  statisticsFromWire,
  updateStatsPayload,
  type WireRow,
  wireRowsToFrame,
} from "./remote-encoding.js";
import { RemoteApiError } from "./remote-errors.js";
import { RawJson, WireFloat, wireJson } from "./wire-json.js";

/** What the remote store needs from the HTTP layer (the {@link PlatformClient} provides it). */
export interface PlatformClientLike {
  readonly apiRoot: string;
  request<T = unknown>(
    method: HttpMethod,
    path: string,
    options?: RequestOptions,
  ): Promise<PlatformResponse<T>>;
  paginate<T = unknown>(path: string, options?: RequestOptions): AsyncGenerator<T, void, undefined>;
  close(): Promise<void>;
}

/** Options of {@link RemoteStore}. */
export interface RemoteStoreOptions {
  readonly client: PlatformClientLike;
  /**
   * The project (`MAIN_SEQUENCE_PROJECT_UID`): its data source goes into every get-or-create and
   * its uid is the `current_project_uid` of updaters registered without one.
   */
  readonly projectUid?: string | null;
  /** Rows per upload chunk (protocol 2.10: 50,000). */
  readonly chunkRows?: number;
}

// Route prefixes, relative to `{MAINSEQUENCE_ENDPOINT}/orm/api` (protocol table of prefixes).
const DT = "ts_manager/dynamic_table";
const LTS = "ts_manager/local_time_serie";
const STC = "ts_manager/source_table_config";
const SCH = "ts_manager/scheduler";
const PRJ = "pods/projects";
const AST = "assets/asset";
const CONSTANTS = "ts_manager/api/constants";

/** The heartbeat period when the platform's constants do not say (seconds). */
const DEFAULT_HEART_BEAT_SECONDS = 30;

/** `dimension_range_map` entries per request batch (protocol 2.11). */
const RANGE_MAP_BATCH = 100;
/** Identifiers per `unique_identifier__in` query (keeps URLs well under server header limits). */
const ID_BATCH = 200;

const FILTER_CODES: ReadonlySet<string> = new Set(FILTER_ERROR_CODES);
const SEARCH_CODES: ReadonlySet<string> = new Set(SEARCH_ERROR_CODES);
const STORE_CODES: ReadonlySet<string> = new Set(STORE_ERROR_CODES);

/** What the platform store can do: the REST protocol lists no runs and answers no scores. */
const REMOTE_CAPABILITIES: StoreCapabilities = Object.freeze({
  listRuns: false,
  listUpdaters: false,
  columnMetadataBeforeWrite: false,
  searchScores: false,
  localSearchEmbedder: false,
});

/** The platform answered 2xx with a body the client cannot use. */
function invalidResponse(message: string): StoreError {
  return new StoreError("invalid_response", message);
}

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Json)
    : {};
}

function str(value: unknown): string | null {
  return typeof value === "string"
    ? value
    : value === null || value === undefined
      ? null
      : String(value);
}

function listOf(data: unknown): unknown[] {
  if (Array.isArray(data)) return data;
  const results = obj(data)["results"];
  return Array.isArray(results) ? results : [];
}

function dateOf(value: unknown): Date {
  if (typeof value === "string" || typeof value === "number") {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return d;
  }
  return new Date(0);
}

function uidOf(path: string, uid: string): string {
  if (uid.trim() === "")
    throw new NotFoundError("not_found", `${path}: an empty uid names nothing`);
  return encodeURIComponent(uid);
}

/** The body code and message of a platform error response. */
function errorBody(error: RemoteApiError): { code: string | null; message: string } {
  const body = obj(error.body);
  const nested = obj(body["error"]);
  const code = str(body["code"]) ?? str(nested["kind"]) ?? null;
  const message =
    str(body["detail"]) ??
    (typeof body["error"] === "string" ? body["error"] : null) ??
    str(nested["message"]) ??
    str(body["message"]) ??
    error.message;
  return { code, message };
}

/**
 * Maps a platform error to tdag's typed errors: 404 → `NotFoundError`; a filter or search error
 * code in the body → `FilterError` / `SearchError`; 409 → `StoreError` (`conflict` unless the
 * body names a store code); 400 with a store code → `StoreError` with that code. Anything else
 * is the client's `RemoteApiError` (status, request id, attempts), returned as it is.
 */
export function mapRemoteError(error: unknown, conflictCode?: StoreErrorCode): unknown {
  if (!(error instanceof RemoteApiError)) return error;
  const { code, message } = errorBody(error);
  if (code !== null && FILTER_CODES.has(code)) {
    return new FilterError(code as FilterErrorCode, message, { cause: error });
  }
  if (code !== null && SEARCH_CODES.has(code)) {
    return new SearchError(code as SearchErrorCode, message, { cause: error });
  }
  const storeCode = code !== null && STORE_CODES.has(code) ? (code as StoreErrorCode) : null;
  if (error.status === 404) return new NotFoundError("not_found", message, { cause: error });
  if (error.status === 409) {
    return new StoreError(conflictCode ?? storeCode ?? "conflict", message, { cause: error });
  }
  if (error.status === 400 && storeCode !== null) {
    return new StoreError(storeCode, message, { cause: error });
  }
  return error;
}

/**
 * The {@link DataStore} of the Main Sequence platform: every operation is a REST call of
 * `platform-protocol.md` section 2, sent through a {@link PlatformClient} (auth, retries,
 * paging, error mapping). Use it with `TDAG_STORE=remote` (plus `MAINSEQUENCE_ENDPOINT`, a token
 * and `MAIN_SEQUENCE_PROJECT_UID`), or pass it to `configure({ store })`.
 *
 * Capabilities: the protocol has no route listing an updater's runs (`listRuns` is false), keeps
 * column metadata on the table's configuration (`columnMetadataBeforeWrite` is false), and ranks
 * searches on the server without reporting scores.
 *
 * @example
 * ```ts
 * import { configure } from "tdag";
 * import { RemoteStore } from "./store/remote/index.js"; // the `tdag/remote` entry point
 * configure({ store: RemoteStore.fromEnv() });
 * ```
 */
export class RemoteStore implements DataStore {
  readonly kind = "remote";
  readonly description: string;
  readonly capabilities: StoreCapabilities = REMOTE_CAPABILITIES;
  readonly client: PlatformClientLike;
  readonly projectUid: string | null;
  private readonly chunkRows: number;
  private dataSourceUid: Promise<string> | null = null;
  private readonly schedulers = new Map<string, Promise<string>>();
  private readonly writes = new KeyedQueue();
  private readonly writers = new Map<string, UpdaterRecord>();
  private heartBeatSeconds: Promise<number> | null = null;
  /** Scheduler heartbeats of the runs this instance has open, by run uid. */
  private readonly heartbeats = new Map<string, NodeJS.Timeout>();
  /**
   * Storages that came with an updater answer (`include_relations_detail`), by uid: the next
   * lookup of that storage is answered from here once, instead of reading it again.
   */
  private readonly storageHints = new Map<string, Json>();

  constructor(options: RemoteStoreOptions) {
    this.client = options.client;
    this.projectUid = options.projectUid?.trim() || null;
    this.chunkRows = options.chunkRows ?? 50_000;
    if (!Number.isSafeInteger(this.chunkRows) || this.chunkRows < 1) {
      throw new ConfigError("invalid_setting", "chunkRows must be a positive integer");
    }
    this.description = `remote:${this.client.apiRoot}`;
  }

  /**
   * A store over `PlatformClient.fromEnv()` (endpoint and auth from the `MAINSEQUENCE_*`
   * variables) for the project `MAIN_SEQUENCE_PROJECT_UID`.
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): RemoteStore {
    return new RemoteStore({
      client: PlatformClient.fromEnv(),
      projectUid: env["MAIN_SEQUENCE_PROJECT_UID"] ?? null,
    });
  }

  // ---------------------------------------------------------------- plumbing

  private async call<T>(
    method: HttpMethod,
    path: string,
    options: RequestOptions & { conflictCode?: StoreErrorCode } = {},
  ): Promise<T> {
    const { conflictCode, ...rest } = options;
    try {
      return (await this.client.request<T>(method, path, rest)).data;
    } catch (error) {
      throw mapRemoteError(error, conflictCode);
    }
  }

  private signal(options?: CallOptions): { signal?: AbortSignal } {
    return options?.signal ? { signal: options.signal } : {};
  }

  private requireProject(what: string): string {
    if (!this.projectUid) {
      throw new StoreError(
        "missing_project",
        `${what} needs the project uid: set MAIN_SEQUENCE_PROJECT_UID or pass projectUid to new RemoteStore()`,
      );
    }
    return this.projectUid;
  }

  /** The project's data source uid (`GET pods/projects/{uid}/` → `data_source.uid`), cached. */
  async projectDataSourceUid(options?: CallOptions): Promise<string> {
    const project = this.requireProject("registering a storage");
    if (!this.dataSourceUid) {
      this.dataSourceUid = this.call<Json>("GET", `${PRJ}/${uidOf(PRJ, project)}/`, {
        ...this.signal(options),
      }).then((body) => {
        const uid = str(obj(body["data_source"])["uid"]);
        if (!uid) {
          throw new StoreError(
            "store_unavailable",
            `project ${project} has no data source: the platform cannot store its tables`,
          );
        }
        return uid;
      });
      this.dataSourceUid.catch(() => {
        this.dataSourceUid = null;
      });
    }
    return this.dataSourceUid;
  }

  private async storageJson(uid: string, options?: CallOptions): Promise<Json | null> {
    if (uid.trim() === "") return null;
    const hint = this.storageHints.get(uid);
    if (hint) {
      this.storageHints.delete(uid);
      return hint;
    }
    const data = await this.call<unknown>("GET", `${DT}/`, {
      query: { uid, include_relations_detail: true },
      ...this.signal(options),
    });
    const row = listOf(data).find((r) => obj(r)["uid"] === uid);
    return row === undefined ? null : obj(row);
  }

  private async requireStorageJson(uid: string, options?: CallOptions): Promise<Json> {
    const row = await this.storageJson(uid, options);
    if (!row) throw new NotFoundError("storage_not_found", `no storage with uid ${uid}`);
    return row;
  }

  // ---------------------------------------------------------------- registration

  async registerStorage(
    input: RegisterStorageInput,
    options?: CallOptions,
  ): Promise<StorageRecord> {
    const dataSourceUid = await this.projectDataSourceUid(options);
    const body = await this.call<Json>("POST", `${DT}/get_or_create/`, {
      ...jsonBody({
        storage_hash: input.storageHash,
        namespace: input.namespace,
        time_serie_source_code_git_hash: input.sourceCode?.gitHash ?? null,
        time_serie_source_code: input.sourceCode?.text ?? null,
        build_configuration: buildConfigurationBody(input),
        data_source_uid: dataSourceUid,
        build_configuration_json_schema: input.buildConfigurationJsonSchema ?? null,
        open_to_public: input.openToPublic ?? false,
        // Not in the reference body (the platform derives the class from the hash prefix); sent
        // so the storage records the real class name. Servers ignore unknown body fields.
        source_class_name: input.sourceClassName,
      }),
      expectedStatus: [200, 201],
      ...this.signal(options),
    });
    return toStorageRecord(body);
  }

  async registerUpdater(
    input: RegisterUpdaterInput,
    options?: CallOptions,
  ): Promise<UpdaterRecord> {
    // As the reference: `current_project_uid` is the project this process works for
    // (MAIN_SEQUENCE_PROJECT_UID); the input's project uid only entered the update hash.
    const projectUid = this.projectUid ?? input.projectUid?.trim() ?? null;
    if (!projectUid) this.requireProject("registering an updater");
    const dataSourceUid = await this.projectDataSourceUid(options);
    let body: Json;
    try {
      body = (
        await this.client.request<Json>("POST", `${LTS}/get_or_create/`, {
          ...jsonBody({
            update_hash: input.updateHash,
            build_configuration: buildConfigurationBody(input),
            data_source_uid: dataSourceUid,
            remote_table__hash_id: input.storageHash,
            current_project_uid: projectUid,
          }),
          expectedStatus: [200, 201],
          ...this.signal(options),
        })
      ).data;
    } catch (error) {
      // The platform answers an unknown storage hash with a field error on remote_table__hash_id.
      if (
        error instanceof RemoteApiError &&
        error.status === 400 &&
        "remote_table__hash_id" in obj(error.body)
      ) {
        throw new NotFoundError(
          "storage_not_found",
          `no storage with hash ${input.storageHash}: register the storage before its updater`,
        );
      }
      throw mapRemoteError(error);
    }
    return this.toUpdaterRecord(obj(body), input, options);
  }

  private async toUpdaterRecord(
    body: Json,
    input: { storageHash?: string; namespace?: string | null } | null,
    options?: CallOptions,
  ): Promise<UpdaterRecord> {
    const ref = body["data_node_storage"] ?? body["remote_table"];
    let storage: Json | null = typeof ref === "object" && ref !== null ? obj(ref) : null;
    const storageUidOfRef = storage ? str(storage["uid"]) : null;
    if (storage && storageUidOfRef) this.storageHints.set(storageUidOfRef, storage);
    if (!storage && typeof ref === "string") {
      storage = input?.storageHash ? null : await this.storageJson(ref, options);
    }
    const storageUid = storage ? (str(storage["uid"]) ?? "") : (str(ref) ?? "");
    const record: UpdaterRecord = {
      uid: str(body["uid"]) ?? "",
      updateHash: str(body["update_hash"]) ?? "",
      storageUid,
      storageHash: storage
        ? (str(storage["storage_hash"]) ?? "")
        : (input?.storageHash ?? str(body["remote_table_hash_id"]) ?? ""),
      namespace: storage ? str(storage["namespace"]) : (input?.namespace ?? null),
      buildConfiguration: body["build_configuration"] ?? null,
      createdAt: dateOf(body["creation_date"] ?? body["created_at"]),
    };
    // An updater never moves to another storage: what later writes look up is a fact.
    if (record.uid !== "" && record.storageUid !== "" && record.storageHash !== "") {
      this.writers.set(record.uid, record);
    }
    return record;
  }

  async linkDependency(
    updaterUid: string,
    target: DependencyTarget,
    options?: CallOptions,
  ): Promise<void> {
    const base = `${LTS}/${uidOf(LTS, updaterUid)}`;
    if (target.kind === "updater") {
      await this.call("PATCH", `${base}/depends_on_connect/`, {
        json: { target_update_node_uid: target.uid },
        expectedStatus: [204],
        ...this.signal(options),
      });
    } else {
      await this.call("PATCH", `${base}/depends_on_connect_to_api_table/`, {
        json: { target_table_uid: target.uid },
        expectedStatus: [204],
        ...this.signal(options),
      });
    }
  }

  /**
   * The direct dependencies, from `get_all_dependencies_update_priority` (which lists the whole
   * upstream tree): the node itself is dropped, and so is every row the server marks as not
   * direct (`is_direct: false` or `depth > 1`). A server that marks nothing returns the whole
   * upstream tree, which for the DataNode workflow (one level of declared dependencies) is the
   * same set. Rows naming a table without an updater (`node_type` `api_table`, or no updater
   * uid) are `{ kind: "storage" }` edges.
   */
  async listDependencies(updaterUid: string, options?: CallOptions): Promise<DependencyTarget[]> {
    const data = await this.call<unknown>(
      "GET",
      `${LTS}/${uidOf(LTS, updaterUid)}/get_all_dependencies_update_priority/`,
      // tdag serve leaves out tables nothing writes unless asked (the platform ignores it).
      { query: { include_unwritten_tables: "true" }, ...this.signal(options) },
    );
    const out: DependencyTarget[] = [];
    const seen = new Set<string>();
    for (const raw of listOf(data)) {
      const row = obj(raw);
      if (row["is_direct"] === false || row["direct"] === false) continue;
      if (typeof row["depth"] === "number" && row["depth"] > 1) continue;
      const nodeType = str(row["node_type"]) ?? "";
      const updater =
        str(row["update_node_uid"]) ??
        str(row["local_time_serie_uid"]) ??
        str(row["data_node_update_uid"]);
      let target: DependencyTarget | null = null;
      if (updater && !/api|table|storage/i.test(nodeType)) {
        if (updater !== updaterUid) target = { kind: "updater", uid: updater };
      } else {
        const table =
          str(row["target_table_uid"]) ??
          str(row["data_node_storage_uid"]) ??
          str(row["remote_table_uid"]) ??
          str(row["table_uid"]) ??
          str(row["storage_uid"]) ??
          str(row["uid"]);
        if (table) target = { kind: "storage", uid: table };
      }
      if (!target) continue;
      const key = `${target.kind}:${target.uid}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(target);
    }
    return out;
  }

  // ---------------------------------------------------------------- runs

  private scheduler(updaterUid: string, options?: CallOptions): Promise<string> {
    let pending = this.schedulers.get(updaterUid);
    if (!pending) {
      pending = this.call<Json>("POST", `${SCH}/build_and_assign_to_update_nodes/`, {
        json: {
          scheduler_name: `DEBUG_${updaterUid}`,
          delink_all_update_nodes: false,
          remove_from_other_schedulers: true,
          scheduler_kwargs: { running_in_debug_mode: true },
          update_node_uids: [updaterUid],
        },
        expectedStatus: [200, 201],
        ...this.signal(options),
      }).then((body) => {
        const uid = str(body["uid"]);
        if (!uid) throw invalidResponse("the scheduler has no uid");
        return uid;
      });
      this.schedulers.set(updaterUid, pending);
      pending.catch(() => this.schedulers.delete(updaterUid));
    }
    return pending;
  }

  /**
   * Opens a run as the platform's client does (protocol 2.9): the updater's debug scheduler
   * (`build_and_assign_to_update_nodes`) and its first heartbeat (then one every
   * `SCHEDULER_HEART_BEAT_FREQUENCY_SECONDS` until the run closes), the updater read back with
   * its storage, `ogm_dependencies_linked` set once its edges are linked, the dependency tree
   * marked active on the scheduler and queued (`get_metadatas_and_set_updates`), and finally
   * `set_start_of_execution`, which answers the run uid and the table's statistics.
   */
  async openRun(updaterUid: string, options?: CallOptions): Promise<RunRecord> {
    const call = this.signal(options);
    const period = await this.heartBeatPeriod(options);
    const updater = await this.updaterOf(updaterUid, call);
    const schedulerUid = await this.scheduler(updaterUid, options);
    await this.heartBeat(schedulerUid, options);
    const current = await this.lookUpUpdaterJson(updater.updateHash, options);
    if (current && current["ogm_dependencies_linked"] !== true) {
      await this.call("PATCH", `${LTS}/${uidOf(LTS, updaterUid)}/`, {
        json: { ogm_dependencies_linked: true },
        expectedStatus: [200],
        ...call,
      });
    }
    const tree = listOf(
      await this.call<unknown>(
        "GET",
        `${LTS}/${uidOf(LTS, updaterUid)}/get_all_dependencies_update_priority/`,
        call,
      ),
    )
      .map(obj)
      .filter((row) => str(row["node_type"]) !== "api_table" && nodeUidOf(row) !== null);
    const treeUids = [...new Set([...tree.map((row) => nodeUidOf(row)!), updaterUid])];
    await this.call("PATCH", `${SCH}/${uidOf(SCH, schedulerUid)}/in-active-tree/`, {
      json: { update_node_uids: treeUids },
      expectedStatus: [200, 204],
      ...call,
    });
    const nodes =
      tree.length > 0
        ? tree
        : [
            {
              update_node_uid: updaterUid,
              update_hash: updater.updateHash,
              remote_table_hash_id: updater.storageHash,
              node_type: "local_time_serie",
            },
          ];
    await this.call("POST", `${LTS}/get_metadatas_and_set_updates/`, {
      json: {
        update_nodes: nodes.map((row) => ({
          node_type: str(row["node_type"]) ?? "local_time_serie",
          update_hash: str(row["update_hash"]),
          remote_table_hash_id: str(row["remote_table_hash_id"]),
          uid: nodeUidOf(row),
        })),
        update_details_kwargs: {
          error_on_last_update: false,
          active_update_scheduler_uid: schedulerUid,
          active_update_status: "Q",
        },
        update_priority_dict: null,
      },
      expectedStatus: [200],
      ...call,
    });
    const body = await this.call<Json>(
      "PATCH",
      `${LTS}/${uidOf(LTS, updaterUid)}/set_start_of_execution/`,
      {
        json: { active_update_scheduler_uid: schedulerUid },
        expectedStatus: [201],
        ...call,
      },
    );
    const historical = obj(body["historical_update"]);
    const uid = str(historical["uid"]);
    if (!uid) throw invalidResponse("set_start_of_execution gave no run uid");
    this.startHeartBeat(uid, schedulerUid, period);
    return {
      uid,
      updaterUid,
      startedAt: dateOf(historical["update_time_start"]),
      mustUpdate: body["must_update"] !== false,
      statistics: statisticsFromWire(body),
    };
  }

  /** `PATCH SCH/{uid}/`: the scheduler is running in this process (a heartbeat). */
  private async heartBeat(schedulerUid: string, options?: CallOptions): Promise<void> {
    await this.call("PATCH", `${SCH}/${uidOf(SCH, schedulerUid)}/`, {
      ...jsonBody({
        is_running: true,
        running_process_pid: process.pid,
        running_in_debug_mode: true,
        last_heart_beat: new WireFloat(Date.now() / 1000),
      }),
      expectedStatus: [200],
      ...this.signal(options),
    });
  }

  /** Beats every `seconds` while the run is open; a failed beat is only logged, as the reference does. */
  private startHeartBeat(runUid: string, schedulerUid: string, seconds: number): void {
    const timer = setInterval(() => {
      this.heartBeat(schedulerUid).catch((error) => {
        getLogger().warn("scheduler heartbeat failed", {
          scheduler: schedulerUid,
          error: error instanceof Error ? error.message : String(error),
        });
      });
    }, seconds * 1000);
    timer.unref();
    this.heartbeats.set(runUid, timer);
  }

  /** `PATCH LTS/{updater}/set_end_of_execution/` with the run's uid; the heartbeat stops. */
  async closeRun(run: RunRef, outcome: RunOutcome, options?: CallOptions): Promise<void> {
    const timer = this.heartbeats.get(run.uid);
    if (timer) clearInterval(timer);
    this.heartbeats.delete(run.uid);
    await this.call("PATCH", `${LTS}/${uidOf(LTS, run.updaterUid)}/set_end_of_execution/`, {
      json: { historical_update_uid: run.uid, error_on_update: outcome.error },
      expectedStatus: [200],
      ...this.signal(options),
    });
  }

  /**
   * Not in the protocol (capability `listRuns` is false): no route lists the historical updates
   * of an updater. Rejects with `unsupported_capability`.
   */
  async listRuns(_updaterUid: string, _options?: ListRunsOptions): Promise<RunSummary[]> {
    throw unsupportedCapability(
      this,
      "listRuns",
      "listing runs (the platform's REST protocol has no route for an updater's historical updates)",
    );
  }

  // ---------------------------------------------------------------- schema and writes

  async ensureTableSchema(
    storageUid: string,
    schema: TableSchema,
    options?: CallOptions,
  ): Promise<TableSchema> {
    return this.writes.run(storageUid, async () => {
      const storage = await this.requireStorageJson(storageUid, options);
      const existing = schemaFromStc(storage["sourcetableconfiguration"]);
      if (existing) mergeSchema(existing, schema);
      return this.initializeSourceTable(storageUid, schema, options);
    });
  }

  private async initializeSourceTable(
    storageUid: string,
    schema: TableSchema,
    options?: CallOptions,
  ): Promise<TableSchema> {
    const body = await this.call<Json>(
      "POST",
      `${DT}/${uidOf(DT, storageUid)}/initialize-source-table/`,
      {
        json: {
          time_index_name: schema.timeIndexName,
          index_names: schema.indexNames,
          column_dtypes_map: columnDtypesMap(schema.columnDtypes),
          open_for_everyone: false,
        },
        conflictCode: "schema_conflict",
        ...this.signal(options),
      },
    );
    return schemaFromStc(body["source_table_configuration"]) ?? schema;
  }

  /**
   * Writes a frame the way `DataNode.run()` persists (protocol 2.9 step 8):
   * `initialize-source-table` (when a schema is given or the frame brings columns or dtypes the
   * table does not have yet), the rows as gzip+base64 JSON chunks of 50,000 rows to
   * `insert_data_into_table` (a 413 halves the chunk recursively), then the progress commit
   * `set_last_update_index_time_from_update_stats`, and finally `get_stats`.
   *
   * The platform stages the chunks and applies them on the commit, so the upload is atomic; a
   * failure between chunks leaves them staged until the run is closed with an error, which
   * discards them. The routes are keyed by the updater (`options.updaterUid`). Duplicate index
   * keys and dtype conflicts are rejected before any request.
   */
  async writeFrame(storageUid: string, frame: Frame, options: WriteOptions): Promise<WriteResult> {
    return this.writes.run(storageUid, async () => {
      const call = this.signal(options);
      const updaterUid = writerUid(options);
      const known = this.writers.has(updaterUid);
      const writer = await this.updaterOf(updaterUid, call);
      checkWriter(writer, storageUid);
      // The updater read back with its storage (as the platform's client does before a write),
      // unless it was just read: the storage comes with it.
      if (known) await this.lookUpUpdaterJson(writer.updateHash, call);
      const storage = await this.requireStorageJson(storageUid, call);
      const existing = schemaFromStc(storage["sourcetableconfiguration"]);
      if (options.schema && existing) mergeSchema(existing, options.schema);
      const wanted = schemaForFrame(frame, options.schema ?? existing);
      checkNoDuplicateKeys(frame);
      // Only a table without a schema, or one the frame adds columns to, is (re)initialized.
      if (!existing || !sameSchema(existing, wanted)) {
        await this.initializeSourceTable(storageUid, wanted, call);
      }
      if (frame.length > 0) {
        const sorted = frame.sortByIndex();
        const lts = `${LTS}/${uidOf(LTS, updaterUid)}`;
        const total = Math.ceil(sorted.length / this.chunkRows);
        for (let k = 0; k < total; k++) {
          const start = k * this.chunkRows;
          const end = Math.min(sorted.length, start + this.chunkRows);
          await this.uploadChunk(lts, sorted, start, end, k, total, call);
        }
        await this.call("POST", `${lts}/set_last_update_index_time_from_update_stats/`, {
          json: { data: encodeGzipBase64Json(updateStatsPayload(sorted)) },
          expectedStatus: [200],
          ...call,
        });
      }
      const statistics = await this.getTableStatistics(storageUid, call);
      return { rowsWritten: frame.length, statistics };
    });
  }

  /**
   * The updater a write goes through, looked up once per instance: an updater never moves to
   * another storage, so what is cached is a fact, not state a second instance would miss.
   */
  private async updaterOf(uid: string, call: CallOptions): Promise<UpdaterRecord> {
    const known = this.writers.get(uid);
    if (known) return known;
    const updater = await this.findUpdater({ uid }, call);
    if (!updater) throw new NotFoundError("updater_not_found", `no updater with uid ${uid}`);
    this.writers.set(uid, updater);
    return updater;
  }

  /** One `insert_data_into_table` upload; on 413 the rows are split in halves, recursively. */
  private async uploadChunk(
    lts: string,
    frame: Frame,
    start: number,
    end: number,
    chunkIndex: number,
    totalChunks: number,
    call: { signal?: AbortSignal },
  ): Promise<void> {
    try {
      await this.client.request("POST", `${lts}/insert_data_into_table/`, {
        json: {
          data: encodeGzipBase64Json(frameToWireRows(frame, start, end)),
          chunk_stats: chunkStats(frame, start, end),
          overwrite: true,
          chunk_index: chunkIndex,
          total_chunks: totalChunks,
        },
        expectedStatus: [200, 201, 204],
        ...call,
      });
    } catch (error) {
      if (error instanceof RemoteApiError && error.status === 413 && end - start > 1) {
        const mid = start + Math.floor((end - start) / 2);
        await this.uploadChunk(lts, frame, start, mid, 0, 1, call);
        await this.uploadChunk(lts, frame, mid, end, 0, 1, call);
        return;
      }
      throw mapRemoteError(error);
    }
  }

  async getTableStatistics(storageUid: string, options?: CallOptions): Promise<TableStatistics> {
    try {
      const body = await this.client.request<unknown>(
        "GET",
        `${STC}/${uidOf(STC, storageUid)}/get_stats/`,
        this.signal(options),
      );
      return statisticsFromWire(body.data);
    } catch (error) {
      // A storage without a source table has no STC: 404 here, but the storage exists.
      if (error instanceof RemoteApiError && error.status === 404) {
        if (await this.storageJson(storageUid, options)) return statisticsFromWire(null);
        throw new NotFoundError("storage_not_found", `no storage with uid ${storageUid}`);
      }
      throw mapRemoteError(error);
    }
  }

  // ---------------------------------------------------------------- reads and deletes

  /**
   * `get_data_between_dates_from_remote`, paged by `next_offset`, dtypes restored from the
   * table's `column_dtypes_map`. Top-level bounds are float epoch seconds (exact to the
   * microsecond for any date before 2255); `dimension_range_map` bounds are whole seconds when
   * whole (as the reference sends them) and keep their microseconds otherwise. A range map is
   * sent in batches of 100 entries; the batches' rows are merged, de-duplicated and re-sorted.
   */
  async readFrame(
    storageUid: string,
    query: ReadQuery = {},
    options?: CallOptions,
  ): Promise<Frame> {
    const call = this.signal(options);
    const storage = await this.requireStorageJson(storageUid, call);
    const schema = schemaFromStc(storage["sourcetableconfiguration"]);
    if (!schema) return Frame.empty();
    checkDimensions(schema, query);
    const columns = query.columns ? [...query.columns] : undefined;
    if (columns) projectColumns(schema, columns);
    const empty = () => wireRowsToFrame([], schema.indexNames, schema.columnDtypes, columns);
    if (matchesNothing(query)) return empty();
    const base: Json = {
      // Float epoch seconds, as the platform's client sends them (`1704110400.0`).
      start_date:
        query.start === undefined || query.start === null
          ? null
          : new WireFloat(microsToEpochSeconds(query.start)),
      end_date:
        query.end === undefined || query.end === null
          ? null
          : new WireFloat(microsToEpochSeconds(query.end)),
      great_or_equal: query.greatOrEqual ?? true,
      less_or_equal: query.lessOrEqual ?? true,
      columns: columns ?? null,
      offset: 0,
      ...dimensionPayload(query),
    };
    const path = `${DT}/${uidOf(DT, storageUid)}/get_data_between_dates_from_remote/`;
    const ranges = query.dimensionRangeMap;
    const batches: (Json | undefined)[] = [];
    if (ranges && ranges.length > 0) {
      for (let i = 0; i < ranges.length; i += RANGE_MAP_BATCH) {
        batches.push({
          dimension_range_map: ranges.slice(i, i + RANGE_MAP_BATCH).map(rangeToWire),
        });
      }
    } else batches.push(undefined);
    const rows: WireRow[] = [];
    for (const extra of batches) {
      let offset = 0;
      for (;;) {
        const page = obj(
          await this.call<unknown>("POST", path, {
            ...jsonBody({ ...base, ...extra, offset }),
            expectedStatus: [200],
            ...exactPageParsing(schema.columnDtypes, "results"),
            ...call,
          }),
        );
        const results = page["results"];
        if (!Array.isArray(results)) {
          throw invalidResponse(`${path}: the response has no results list`);
        }
        for (const r of results) rows.push(obj(r));
        const next = page["next_offset"];
        if (typeof next !== "number" || next === 0) break;
        if (next <= offset) {
          throw invalidResponse(`${path}: next_offset ${next} does not advance past ${offset}`);
        }
        offset = next;
      }
    }
    if (rows.length === 0) return empty();
    const frame = wireRowsToFrame(rows, schema.indexNames, schema.columnDtypes, columns);
    return batches.length > 1 ? dedupe(frame).sortByIndex() : frame.sortByIndex();
  }

  async readLastObservation(
    storageUid: string,
    query: DimensionQuery = {},
    options?: CallOptions,
  ): Promise<Frame> {
    const call = this.signal(options);
    const storage = await this.requireStorageJson(storageUid, call);
    const schema = schemaFromStc(storage["sourcetableconfiguration"]);
    if (!schema) return Frame.empty();
    checkDimensions(schema, query);
    const empty = () => wireRowsToFrame([], schema.indexNames, schema.columnDtypes);
    if (matchesNothing(query)) return empty();
    const data = await this.call<unknown>(
      "POST",
      `${DT}/${uidOf(DT, storageUid)}/get_last_observation/`,
      {
        json: {
          ...dimensionPayload(query),
          ...(query.dimensionRangeMap && query.dimensionRangeMap.length > 0
            ? { dimension_range_map: query.dimensionRangeMap.map(rangeToWire) }
            : {}),
        },
        expectedStatus: [200],
        ...exactPageParsing(schema.columnDtypes),
        ...call,
      },
    );
    if (!Array.isArray(data)) {
      throw invalidResponse("get_last_observation did not return a list");
    }
    if (data.length === 0) return empty();
    return wireRowsToFrame(data.map(obj), schema.indexNames, schema.columnDtypes).sortByIndex();
  }

  async deleteAfterDate(
    storageUid: string,
    afterMicros: number,
    query: DimensionQuery = {},
    options?: CallOptions,
  ): Promise<{ deletedCount: number }> {
    return this.writes.run(storageUid, async () => {
      const call = this.signal(options);
      const storage = await this.requireStorageJson(storageUid, call);
      const schema = schemaFromStc(storage["sourcetableconfiguration"]);
      if (!schema) return { deletedCount: 0 };
      checkDimensions(schema, query);
      if (matchesNothing(query)) return { deletedCount: 0 };
      const body = await this.call<Json>(
        "POST",
        `${DT}/${uidOf(DT, storageUid)}/delete_after_date/`,
        {
          json: {
            after_date: microsToIso(afterMicros),
            ...dimensionPayload(query),
            ...(query.dimensionRangeMap && query.dimensionRangeMap.length > 0
              ? { dimension_range_map: query.dimensionRangeMap.map(rangeToWire) }
              : {}),
          },
          ...call,
        },
      );
      const count = Number(obj(body)["deleted_count"] ?? 0);
      return { deletedCount: Number.isFinite(count) ? count : 0 };
    });
  }

  // ---------------------------------------------------------------- lookups and metadata

  async findStorage(key: StorageKey, options?: CallOptions): Promise<StorageRecord | null> {
    let query: Json;
    let match: (row: Json) => boolean;
    if ("uid" in key) {
      if (key.uid.trim() === "") return null;
      const hint = this.storageHints.get(key.uid);
      if (hint) {
        this.storageHints.delete(key.uid);
        return toStorageRecord(hint);
      }
      query = { uid: key.uid };
      match = (r) => r["uid"] === key.uid;
    } else if ("storageHash" in key) {
      // Scoped to the project's data source, as the platform's client looks storages up.
      query = {
        storage_hash: key.storageHash,
        ...(await this.dataSourceScope("data_source__uid", options)),
      };
      match = (r) => r["storage_hash"] === key.storageHash;
    } else {
      query = { identifier: key.identifier };
      match = (r) => r["identifier"] === key.identifier;
    }
    const data = await this.call<unknown>("GET", `${DT}/`, {
      query: { ...query, include_relations_detail: true },
      model: "DataNodeStorage",
      ...this.signal(options),
    });
    const row = listOf(data).map(obj).find(match);
    return row ? toStorageRecord(row) : null;
  }

  /** By hash: `GET LTS/?update_hash=…`; by uid: `GET LTS/{uid}/` (404 → `null`). */
  async findUpdater(key: UpdaterKey, options?: CallOptions): Promise<UpdaterRecord | null> {
    if ("uid" in key) {
      if (key.uid.trim() === "") return null;
      try {
        const body = await this.client.request<unknown>("GET", `${LTS}/${uidOf(LTS, key.uid)}/`, {
          query: { include_relations_detail: true },
          ...this.signal(options),
        });
        return this.toUpdaterRecord(obj(body.data), null, options);
      } catch (error) {
        if (error instanceof RemoteApiError && error.status === 404) return null;
        throw mapRemoteError(error);
      }
    }
    // As the platform's client: the project, then the constants (read once), then the lookup.
    await this.dataSourceScope("remote_table__data_source__uid", options);
    await this.heartBeatPeriod(options);
    return this.lookUpUpdater(key.updateHash, options);
  }

  /**
   * `GET LTS/?update_hash=…&remote_table__data_source__uid=…&include_relations_detail=true`:
   * the updater with its storage (kept as a hint for the next lookup of that storage).
   */
  private async lookUpUpdater(
    updateHash: string,
    options?: CallOptions,
  ): Promise<UpdaterRecord | null> {
    const row = await this.lookUpUpdaterJson(updateHash, options);
    return row ? this.toUpdaterRecord(row, null, options) : null;
  }

  private async lookUpUpdaterJson(updateHash: string, options?: CallOptions): Promise<Json | null> {
    const data = await this.call<unknown>("GET", `${LTS}/`, {
      query: {
        update_hash: updateHash,
        ...(await this.dataSourceScope("remote_table__data_source__uid", options)),
        include_relations_detail: true,
      },
      model: "DataNodeUpdate",
      ...this.signal(options),
    });
    const row = listOf(data)
      .map(obj)
      .find((r) => r["update_hash"] === updateHash);
    if (!row) return null;
    const storage = row["data_node_storage"];
    const storageUid =
      storage !== null && typeof storage === "object" ? str(obj(storage)["uid"]) : null;
    if (storageUid) this.storageHints.set(storageUid, obj(storage));
    return row;
  }

  /** `{ [param]: <the project's data source uid> }`, or nothing without a project. */
  private async dataSourceScope(param: string, options?: CallOptions): Promise<Json> {
    if (!this.projectUid) return {};
    return { [param]: await this.projectDataSourceUid(options) };
  }

  /** The scheduler heartbeat period from the platform's constants (read once). */
  private heartBeatPeriod(options?: CallOptions): Promise<number> {
    if (!this.heartBeatSeconds) {
      this.heartBeatSeconds = this.call<unknown>("GET", CONSTANTS, this.signal(options)).then(
        (body) => {
          const seconds = Number(obj(body)["SCHEDULER_HEART_BEAT_FREQUENCY_SECONDS"]);
          return Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_HEART_BEAT_SECONDS;
        },
      );
      this.heartBeatSeconds.catch(() => {
        this.heartBeatSeconds = null;
      });
    }
    return this.heartBeatSeconds;
  }

  async listStorages(options?: CallOptions): Promise<StorageRecord[]> {
    return this.collectPages(
      `${DT}/`,
      { query: { include_relations_detail: true }, model: "DataNodeStorage" },
      toStorageRecord,
      options,
    );
  }

  /**
   * Not in the protocol (capability `listUpdaters` is false): the platform's DataNodeUpdate
   * filters name no storage. Rejects with `unsupported_capability`.
   */
  async listUpdaters(_storageUid: string, _options?: CallOptions): Promise<UpdaterRecord[]> {
    throw unsupportedCapability(
      this,
      "listUpdaters",
      "listing a storage's updaters (the platform filters updaters by hash and uid only)",
    );
  }

  /**
   * `DELETE DT/{uid}/` with the flags the Python client sends (`full_delete_selected=True`, the
   * others `False`), capitalised as Python's requests writes them. Unknown uid: `NotFoundError`.
   */
  async deleteStorage(storageUid: string, options?: CallOptions): Promise<void> {
    const flags =
      "full_delete_selected=True&full_delete_downstream_tables=False&delete_with_no_table=False&override_protection=False";
    await this.call("DELETE", `${DT}/${uidOf(DT, storageUid)}/?${flags}`, {
      expectedStatus: [200, 202, 204],
      ...this.signal(options),
    });
  }

  /** Every item of a listing route (bare list or DRF pages), mapped; errors mapped once. */
  private async collectPages<T>(
    path: string,
    request: { query: Json; model?: "DataNodeStorage" | "Asset" },
    map: (row: Json) => T,
    options?: CallOptions,
  ): Promise<T[]> {
    const out: T[] = [];
    try {
      for await (const row of this.client.paginate<unknown>(path, {
        ...request,
        ...this.signal(options),
      })) {
        out.push(map(obj(row)));
      }
    } catch (error) {
      throw mapRemoteError(error);
    }
    return out;
  }

  async setTableMetadata(
    storageUid: string,
    metadata: TableMetadata,
    options?: CallOptions,
  ): Promise<StorageRecord> {
    const patch: Json = {};
    if (metadata.identifier !== undefined) patch["identifier"] = metadata.identifier;
    if (metadata.description !== undefined) patch["description"] = metadata.description;
    if (metadata.dataFrequencyId !== undefined)
      patch["data_frequency_id"] = metadata.dataFrequencyId;
    try {
      const body = await this.client.request<Json>("PATCH", `${DT}/${uidOf(DT, storageUid)}/`, {
        json: patch,
        expectedStatus: [200],
        ...this.signal(options),
      });
      return toStorageRecord(obj(body.data));
    } catch (error) {
      if (error instanceof RemoteApiError && error.status === 409 && metadata.identifier) {
        const holder = await this.findStorage({ identifier: metadata.identifier }, options).catch(
          () => null,
        );
        const who = holder ? `storage ${holder.storageHash} (${holder.uid})` : "another storage";
        throw new StoreError(
          "identifier_taken",
          `identifier '${metadata.identifier}' is already held by ${who}: ${errorBody(error).message}`,
          { cause: error },
        );
      }
      throw mapRemoteError(error, "identifier_taken");
    }
  }

  async setColumnMetadata(
    storageUid: string,
    columns: readonly ColumnMetadata[],
    options?: CallOptions,
  ): Promise<void> {
    await this.call("POST", `${STC}/${uidOf(STC, storageUid)}/set_or_update_columns_metadata/`, {
      json: {
        columns_metadata: columns.map((c) => ({
          column_name: c.columnName,
          dtype: c.dtype,
          label: c.label,
          description: c.description,
        })),
      },
      expectedStatus: [200, 201],
      ...this.signal(options),
    });
  }

  /** The `columns_metadata` of the storage's source table configuration (`[]` when none). */
  async getColumnMetadata(storageUid: string, options?: CallOptions): Promise<ColumnMetadata[]> {
    const storage = await this.requireStorageJson(storageUid, options);
    const stc = obj(storage["sourcetableconfiguration"]);
    const raw = stc["columns_metadata"] ?? storage["columns_metadata"];
    if (!Array.isArray(raw)) return [];
    return raw.map((c) => {
      const o = obj(c);
      return {
        columnName: str(o["column_name"]) ?? "",
        dtype: str(o["dtype"]) ?? "",
        label: str(o["label"]) ?? "",
        description: str(o["description"]) ?? "",
      };
    });
  }

  // ---------------------------------------------------------------- assets

  /**
   * `GET assets/asset/` with the platform's filter spellings; a list of unique identifiers is
   * sent in batches of 200 (`unique_identifier__in`), keeping URLs short.
   */
  async filterAssets(filter: AssetFilter, options?: CallOptions): Promise<AssetRecord[]> {
    const query: Json = {};
    const list = (values: readonly string[]) => values.join(",");
    if (typeof filter.ticker === "string") query["current_snapshot__ticker"] = filter.ticker;
    else if (filter.ticker !== undefined) {
      if (filter.ticker.length === 0) return [];
      query["current_snapshot__ticker__in"] = list(filter.ticker);
    }
    if (filter.nameContains !== undefined) {
      query["current_snapshot__name__contains"] = filter.nameContains;
    }
    if (filter.exchangeCode !== undefined) {
      query["current_snapshot__exchange_code"] = filter.exchangeCode;
    }
    if (filter.securityType !== undefined) query["security_type"] = filter.securityType;
    const ids = filter.uniqueIdentifier;
    if (typeof ids === "string")
      return this.assetPages({ ...query, unique_identifier: ids }, options);
    if (ids === undefined) return this.assetPages(query, options);
    if (ids.length === 0) return [];
    const out: AssetRecord[] = [];
    for (let i = 0; i < ids.length; i += ID_BATCH) {
      const batch = list(ids.slice(i, i + ID_BATCH));
      out.push(...(await this.assetPages({ ...query, unique_identifier__in: batch }, options)));
    }
    return out;
  }

  private assetPages(query: Json, options?: CallOptions): Promise<AssetRecord[]> {
    return this.collectPages(`${AST}/`, { query }, toAssetRecord, options);
  }

  async batchGetOrRegisterAssets(
    assets: readonly AssetRegistration[],
    options?: CallOptions,
  ): Promise<AssetRecord[]> {
    if (assets.length === 0) return [];
    const data = await this.call<unknown>("POST", `${AST}/batch_get_or_register_custom_assets/`, {
      json: assets.map(assetRegistrationToWire),
      expectedStatus: [200],
      ...this.signal(options),
    });
    if (!Array.isArray(data)) {
      throw invalidResponse("batch_get_or_register_custom_assets did not return a list");
    }
    const byId = new Map(
      data.map((a) => [str(obj(a)["unique_identifier"]), toAssetRecord(obj(a))]),
    );
    return assets.map((a) => {
      const record = byId.get(a.uniqueIdentifier);
      if (!record) throw invalidResponse(`the platform did not return asset ${a.uniqueIdentifier}`);
      return record;
    });
  }

  async findUnregisteredAssets(
    uniqueIdentifiers: readonly string[],
    options?: CallOptions,
  ): Promise<string[]> {
    const asked = [...new Set(uniqueIdentifiers)];
    if (asked.length === 0) return [];
    const known = new Set(
      (await this.filterAssets({ uniqueIdentifier: asked }, options)).map(
        (a) => a.uniqueIdentifier,
      ),
    );
    return asked.filter((id) => !known.has(id));
  }

  // ---------------------------------------------------------------- filtered reads and search

  /**
   * One page of `DT/get-data-from-filter/`: the body is the exact wire JSON of the request
   * (`toWireJson`); the columns come back named by the platform (unprefixed index,
   * `base__col`, `<join>__col`) and are cast with the dtypes of their table's
   * `column_dtypes_map` (protocol 3.3).
   */
  async getDataFromFilter(request: SearchRequest, options?: CallOptions): Promise<FilterResult> {
    const body = obj(
      await this.call<unknown>("POST", `${DT}/get-data-from-filter/`, {
        body: toWireJson(request),
        contentType: "application/json",
        expectedStatus: [200],
        // The dtypes come with the page (its storage map), so any cell may be int64.
        ...exactPageParsing("any", "results"),
        ...this.signal(options),
      }),
    );
    const map = obj(body["data_node_storage_map"]);
    const storages: Record<string, StorageRecord> = {};
    const schemas: Record<string, TableSchema | null> = {};
    for (const [prefix, raw] of Object.entries(map)) {
      storages[prefix] = toStorageRecord(obj(raw));
      schemas[prefix] = schemaFromStc(obj(raw)["sourcetableconfiguration"]);
    }
    const baseSchema = schemas["base"] ?? null;
    const indexNames =
      readIndexNames(body) ??
      (request.joins.length > 0 && request.joins.every((j) => sameList(j.on, request.joins[0]!.on))
        ? [...request.joins[0]!.on]
        : null) ??
      (baseSchema ? [...baseSchema.indexNames] : ["time_index"]);
    const results = Array.isArray(body["results"]) ? body["results"].map(obj) : [];
    const next = body["next_offset"];
    const nextOffset = typeof next === "number" && next > 0 ? next : null;

    // Column order: the index, then every prefix's value columns in the map's order.
    const dtypes: Record<string, DType> = {};
    const timeNames = new Set<string>(["time_index"]);
    for (const s of Object.values(schemas)) if (s) timeNames.add(s.timeIndexName);
    for (const name of indexNames) {
      dtypes[name] = timeNames.has(name)
        ? "timestamptz"
        : (baseSchema?.columnDtypes[name] ??
          Object.values(schemas).find((s) => s?.columnDtypes[name])?.columnDtypes[name] ??
          "string");
    }
    const index = new Set(indexNames);
    for (const [prefix, schema] of Object.entries(schemas)) {
      if (!schema) continue;
      for (const [column, dtype] of Object.entries(schema.columnDtypes)) {
        if (!schema.indexNames.includes(column)) dtypes[`${prefix}__${column}`] = dtype;
      }
    }
    // Columns the rows carry that no schema names (cast as text, like the reference's default).
    for (const row of results) {
      for (const key of Object.keys(row)) {
        if (!(key in dtypes)) {
          const [prefix, ...rest] = key.split("__");
          const column = rest.join("__");
          dtypes[key] =
            (prefix !== undefined && column && schemas[prefix]?.columnDtypes[column]) || "string";
        }
      }
    }
    const valueColumns = Object.keys(dtypes).filter((c) => !index.has(c));
    const frame = wireRowsToFrame(results, indexNames, dtypes, valueColumns);
    return { frame, nextOffset, storages, indexNames };
  }

  /**
   * `POST DT/description-search/` with the platform's parameters; the hits are the returned
   * storages in the server's order, with the scores the server reports (`score`,
   * `trigram_score`, `embedding_score`, `matched_columns` when present, else 0 / `[]`).
   */
  async descriptionSearch(query: string, options?: DescriptionSearchOptions): Promise<SearchHit[]> {
    const request = parseDescriptionSearch(query, options);
    const data = await this.call<unknown>("POST", `${DT}/description-search/`, {
      json: {
        q: request.q,
        trigram_k: request.blend.trigramK,
        embed_k: request.blend.embedK,
        w_trgm: request.blend.wTrgm,
        w_emb: request.blend.wEmb,
        embedding_model: request.embeddingModel,
        ...(request.qEmbedding ? { q_embedding: request.qEmbedding } : {}),
        // JSON can say `namespace: null` (storages without a namespace).
        ...request.filters,
      },
      ...this.signal(options),
    });
    return listOf(data).map((row) => toSearchHit(obj(row)));
  }

  /** `GET DT/column-search/?q=…&<filters>` (and `limit` when given). */
  async columnSearch(query: string, options?: ColumnSearchOptions): Promise<SearchHit[]> {
    const request = parseColumnSearch(query, options);
    const data = await this.call<unknown>("GET", `${DT}/column-search/`, {
      query: {
        q: request.q,
        ...searchFilters(request.filters),
        ...(request.limit !== null ? { limit: request.limit } : {}),
      },
      ...this.signal(options),
    });
    const hits = listOf(data).map((row) => toSearchHit(obj(row)));
    return request.limit !== null ? hits.slice(0, request.limit) : hits;
  }

  async refreshTableSearchIndex(storageUid: string, options?: CallOptions): Promise<void> {
    await this.call("POST", `${DT}/${uidOf(DT, storageUid)}/refresh-table-search-index/`, {
      ...this.signal(options),
    });
  }

  /** `GET DT/get-org-unique-identifiers/` (a list, `{results}` or `{unique_identifiers}`), sorted. */
  async orgUniqueIdentifiers(options?: CallOptions): Promise<string[]> {
    const data = await this.call<unknown>("GET", `${DT}/get-org-unique-identifiers/`, {
      ...this.signal(options),
    });
    const list = Array.isArray(data)
      ? data
      : Array.isArray(obj(data)["unique_identifiers"])
        ? (obj(data)["unique_identifiers"] as unknown[])
        : listOf(data);
    return list
      .filter((v): v is string => typeof v === "string")
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Stops the heartbeats of runs still open in this instance and closes the HTTP client. */
  async close(): Promise<void> {
    for (const timer of this.heartbeats.values()) clearInterval(timer);
    this.heartbeats.clear();
    await this.client.close();
  }
}

// ---------------------------------------------------------------- record mapping

/** A DataNodeStorage JSON object (protocol 2.8) to a {@link StorageRecord}. */
export function toStorageRecord(row: Json): StorageRecord {
  const frequency = str(row["data_frequency_id"]);
  const dataFrequencyId = (DATA_FREQUENCY_VALUES as readonly string[]).includes(frequency ?? "")
    ? (frequency as DataFrequencyValue)
    : null;
  return {
    uid: str(row["uid"]) ?? "",
    storageHash: str(row["storage_hash"]) ?? "",
    namespace: str(row["namespace"]),
    sourceClassName: str(row["source_class_name"]) ?? "",
    buildConfiguration: row["build_configuration"] ?? null,
    openToPublic: row["open_for_everyone"] === true || row["open_to_public"] === true,
    identifier: str(row["identifier"]),
    description: str(row["description"]),
    dataFrequencyId,
    createdAt: dateOf(row["creation_date"]),
    schema: schemaFromStc(row["sourcetableconfiguration"]),
  };
}

function toAssetRecord(row: Json): AssetRecord {
  const snap = obj(row["current_snapshot"]);
  return {
    id: Number(row["id"]),
    uniqueIdentifier: str(row["unique_identifier"]) ?? "",
    securityType: str(row["security_type"]),
    securityMarketSector: str(row["security_market_sector"]),
    isin: str(row["isin"]),
    isCustomByOrganization: row["is_custom_by_organization"] === true,
    currentSnapshot: {
      name: str(snap["name"]) ?? "",
      ticker: str(snap["ticker"]) ?? "",
      exchangeCode: str(snap["exchange_code"]),
    },
  };
}

/** An asset registration in the platform's spelling (`batch_get_or_register_custom_assets`). */
function assetRegistrationToWire(a: AssetRegistration): Json {
  const out: Json = {
    unique_identifier: a.uniqueIdentifier,
    snapshot: {
      name: a.snapshot.name,
      ticker: a.snapshot.ticker,
      ...(a.snapshot.exchangeCode !== undefined ? { exchange_code: a.snapshot.exchangeCode } : {}),
    },
  };
  if (a.securityType !== undefined) out["security_type"] = a.securityType;
  if (a.securityMarketSector !== undefined) out["security_market_sector"] = a.securityMarketSector;
  if (a.isin !== undefined) out["isin"] = a.isin;
  return out;
}

function toSearchHit(row: Json): SearchHit {
  const storageJson = row["storage"] !== undefined ? obj(row["storage"]) : row;
  const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  const matched = row["matched_columns"];
  return {
    storage: toStorageRecord(storageJson),
    score: num(row["score"]),
    trigramScore: num(row["trigram_score"]),
    embeddingScore: num(row["embedding_score"]),
    matchedColumns: Array.isArray(matched) ? matched.map(String) : [],
  };
}

/** Filters as query parameters: `namespace: null` becomes the DRF lookup `namespace__isnull=true`. */
function searchFilters(filters: StorageSearchFilters): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    if (key === "namespace" && value === null) out["namespace__isnull"] = true;
    else out[key] = value;
  }
  return out;
}

function readIndexNames(body: Json): string[] | null {
  for (const key of ["index_names", "join_keys", "join_index_names", "index_columns"]) {
    const value = body[key];
    if (Array.isArray(value) && value.length > 0) return value.map(String);
    if (value && typeof value === "object") {
      const entries = Object.entries(value as Json).sort((a, b) => Number(a[0]) - Number(b[0]));
      if (entries.length > 0) return entries.map(([, v]) => String(v));
    }
  }
  return null;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function dimensionPayload(query: DimensionQuery): Json {
  const out: Json = {};
  if (query.dimensionFilters !== undefined) out["dimension_filters"] = query.dimensionFilters;
  if (query.indexCoordinates !== undefined) out["index_coordinates"] = query.indexCoordinates;
  return out;
}

/** A JSON request body written by {@link wireJson} (floats and embedded JSON as the platform's client writes them). */
function jsonBody(value: Json): { body: string; contentType: string } {
  return { body: wireJson(value), contentType: "application/json" };
}

/** The build configuration of a registration: its Python-typed text when given (`1.0` stays a float). */
function buildConfigurationBody(input: {
  readonly buildConfiguration: unknown;
  readonly buildConfigurationJson?: string;
}): unknown {
  return input.buildConfigurationJson === undefined
    ? input.buildConfiguration
    : new RawJson(input.buildConfigurationJson);
}

/** The updater uid of a dependency row (the platform spells it three ways). */
function nodeUidOf(row: Json): string | null {
  return (
    str(row["update_node_uid"]) ??
    str(row["local_time_serie_uid"]) ??
    str(row["data_node_update_uid"])
  );
}

function rangeToWire(range: NonNullable<DimensionQuery["dimensionRangeMap"]>[number]): Json {
  const out: Json = { coordinate: range.coordinate };
  if (range.startDate !== undefined && range.startDate !== null) {
    out["start_date"] = microsToRangeSeconds(range.startDate);
  }
  if (range.startDateOperand !== undefined) out["start_date_operand"] = range.startDateOperand;
  if (range.endDate !== undefined && range.endDate !== null) {
    out["end_date"] = microsToRangeSeconds(range.endDate);
  }
  if (range.endDateOperand !== undefined) out["end_date_operand"] = range.endDateOperand;
  return out;
}

/** Drops rows whose full index repeats an earlier row (range-map batches may overlap). */
function dedupe(frame: Frame): Frame {
  const cols = frame.indexNames.map((n) => frame.getColumn(n).values);
  const seen = new Set<string>();
  const keep: number[] = [];
  for (let i = 0; i < frame.length; i++) {
    const key = stringifyJson(cols.map((c) => c[i] ?? null));
    if (seen.has(key)) continue;
    seen.add(key);
    keep.push(i);
  }
  return keep.length === frame.length ? frame : frame.take(keep);
}

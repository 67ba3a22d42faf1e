import { frameDTypeToToken } from "../frame/dtype-tokens.js";
import type { FrameRecord } from "../frame/frame.js";
import type {
  AssetRecord,
  ColumnMetadata,
  DataStore,
  StorageRecord,
  TableStatistics,
  UpdaterRecord,
} from "../store/data-store.js";
import { HttpError } from "./http-error.js";
import { type SchedulerState, ServerState } from "./server-state.js";
import { isObject, type JsonObject, timeBounds } from "./wire-codec.js";

/** The default project uid of the local server. */
export const DEFAULT_PROJECT_UID = "00000000-0000-4000-8000-000000000001";
/** The uid of the server's one DynamicTableDataSource. */
export const DATA_SOURCE_UID = "00000000-0000-4000-8000-0000000000d5";
/** The uid of the physical DataSource behind it. */
export const PHYSICAL_DATA_SOURCE_UID = "00000000-0000-4000-8000-0000000000d6";
/**
 * The `class_type` the server reports. `timescale_db` is in the platform's
 * `DATA_SOURCE_TYPE_TIMESCALEDB` constant, so clients treat the source as remote (all I/O
 * through these routes) instead of opening a local DuckDB file (`duck_db`).
 */
export const DATA_SOURCE_CLASS_TYPE = "timescale_db";

/**
 * What the routes share: the store, the in-memory platform bookkeeping (open runs and their
 * staged rows, schedulers, updater flags), and the builders of the wire objects of protocol
 * 2.8, which emit only the fields listed there (the Python client forbids unknown keys).
 */
export class PlatformContext {
  readonly store: DataStore;
  readonly projectUid: string;
  readonly pageSize: number;
  /** Updater states, storage extras, schedulers and staged chunks (durable when the store is). */
  readonly state: ServerState;
  /**
   * Read snapshots for paging (`next_offset`), invalidated by writes to their storage. Kept in
   * memory: after a restart a page past the first is read again from the table.
   */
  readonly readCache = new Map<string, { storageUid: string; rows: FrameRecord[] }>();

  constructor(store: DataStore, projectUid: string, pageSize: number) {
    this.store = store;
    this.projectUid = projectUid;
    this.pageSize = pageSize;
    this.state = ServerState.for(store);
  }

  // ------------------------------------------------------------------ lookups

  /** An updater by uid, from the store. */
  async requireUpdater(uid: string): Promise<UpdaterRecord> {
    const updater = uid.trim() === "" ? null : await this.store.findUpdater({ uid });
    if (!updater) throw HttpError.notFound(`No DataNodeUpdate matches uid '${uid}'.`);
    return updater;
  }

  async requireStorage(uid: string): Promise<StorageRecord> {
    const storage = await this.store.findStorage({ uid });
    if (!storage) throw HttpError.notFound(`No DataNodeStorage matches uid '${uid}'.`);
    return storage;
  }

  /** Every updater the store knows (the updaters of every storage). */
  async allUpdaters(): Promise<UpdaterRecord[]> {
    if (!this.store.capabilities.listUpdaters) return [];
    const storages = await this.store.listStorages();
    const lists = await Promise.all(storages.map((s) => this.store.listUpdaters(s.uid)));
    return lists.flat();
  }

  invalidateReads(storageUid: string): void {
    for (const [key, entry] of this.readCache) {
      if (entry.storageUid === storageUid) this.readCache.delete(key);
    }
  }

  // ------------------------------------------------------------------ shapes (protocol 2.8)

  physicalDataSource(): JsonObject {
    return {
      uid: PHYSICAL_DATA_SOURCE_UID,
      id: 1,
      data_source_uid: PHYSICAL_DATA_SOURCE_UID,
      display_name: `tdag local server (${this.store.description})`,
      organization_uid: null,
      class_type: DATA_SOURCE_CLASS_TYPE,
      status: "AVAILABLE",
      extra_arguments: null,
    };
  }

  dataSource(): JsonObject {
    return {
      uid: DATA_SOURCE_UID,
      id: 1,
      related_resource: this.physicalDataSource(),
      related_resource_class_type: DATA_SOURCE_CLASS_TYPE,
    };
  }

  project(): JsonObject {
    return {
      uid: this.projectUid,
      project_name: "tdag-local",
      data_source: this.dataSource(),
      git_ssh_url: null,
      created_by: null,
      labels: [],
      is_initialized: true,
    };
  }

  async sourceTableConfiguration(
    storage: StorageRecord,
    statistics?: TableStatistics,
  ): Promise<JsonObject | null> {
    const schema = storage.schema;
    if (!schema) return null;
    const [stats, columns, extras] = await Promise.all([
      statistics ?? this.store.getTableStatistics(storage.uid),
      this.store.getColumnMetadata(storage.uid),
      this.state.extras(storage.uid),
    ]);
    const declared = extras.column_dtype_tokens ?? {};
    const dtypes: Record<string, string> = {};
    for (const [name, dtype] of Object.entries(schema.columnDtypes)) {
      dtypes[name] = declared[name] ?? frameDTypeToToken(dtype);
    }
    return {
      related_table_uid: storage.uid,
      time_index_name: schema.timeIndexName,
      index_names: [...schema.indexNames],
      column_dtypes_map: dtypes,
      foreign_keys: extras.foreign_keys ?? [],
      ...timeBounds(stats),
      storage_layout: {
        time_index: schema.timeIndexName,
        identity_dimensions: schema.indexNames.slice(1),
      },
      physical_index_plan: {
        uniqueness: { columns: [...schema.indexNames] },
        lookup: { columns: [...schema.indexNames.slice(1), schema.timeIndexName] },
      },
      foreign_key_projections: [],
      multi_index_stats: null,
      multi_index_column_stats: null,
      open_for_everyone: extras.stc_open_for_everyone ?? false,
      columns_metadata: columns.length === 0 ? null : columns.map(columnMetadataToWire),
      column_index_names: [...schema.indexNames],
    };
  }

  /** A storage as the platform's `DataNodeStorage`. */
  async storage(storage: StorageRecord): Promise<JsonObject> {
    const [extras, stc] = await Promise.all([
      this.state.extras(storage.uid),
      this.sourceTableConfiguration(storage),
    ]);
    return {
      uid: storage.uid,
      storage_hash: storage.storageHash,
      namespace: storage.namespace,
      build_configuration_json_schema: extras.build_configuration_json_schema ?? null,
      identifier: storage.identifier,
      protect_from_deletion: extras.protect_from_deletion ?? false,
      description: storage.description,
      labels: [],
      creation_date: storage.createdAt.toISOString(),
      created_by_user_uid: null,
      organization_owner_uid: null,
      open_for_everyone: extras.open_for_everyone ?? storage.openToPublic,
      data_source_open_for_everyone: false,
      build_configuration: storage.buildConfiguration,
      time_serie_source_code_git_hash: extras.time_serie_source_code_git_hash ?? null,
      time_serie_source_code: extras.time_serie_source_code ?? null,
      data_source: this.dataSource(),
      source_class_name: storage.sourceClassName,
      sourcetableconfiguration: stc,
      // An object (or null) on the platform; tdag keeps no separate table-index plan.
      table_index_names: null,
      compression_policy_config: null,
      retention_policy_config: null,
      data_frequency_id: storage.dataFrequencyId,
    };
  }

  /** The platform's `DataNodeUpdateDetails` of an updater. */
  async updateDetails(updater: UpdaterRecord): Promise<JsonObject> {
    const [state, runs] = await Promise.all([
      this.state.updater(updater.uid),
      this.store.capabilities.listRuns
        ? this.store.listRuns(updater.uid, { limit: 5 })
        : Promise.resolve([]),
    ]);
    const last = runs.find((r) => r.endedAt !== null) ?? null;
    return {
      active_update: state.activeRunUid !== null,
      update_pid: state.updatePid,
      error_on_last_update: last?.error ?? state.errorOnLastUpdate,
      last_update: last?.endedAt?.toISOString() ?? null,
      next_update: null,
      update_statistics: null,
      active_update_status: state.activeUpdateStatus,
      active_update_scheduler_uid: state.activeSchedulerUid,
      update_priority: state.updatePriority,
      last_updated_by_user_uid: null,
      related_table_uid: updater.uid,
      run_configuration: null,
    };
  }

  /**
   * An updater as the platform's `DataNodeUpdate`; `data_node_storage` is the storage uid, or the
   * full `DataNodeStorage` with `includeRelationsDetail` (what PATCH answers need: the client
   * merges them into an instance holding the object).
   */
  async updater(updater: UpdaterRecord, includeRelationsDetail = false): Promise<JsonObject> {
    const [state, details, storage] = await Promise.all([
      this.state.updater(updater.uid),
      this.updateDetails(updater),
      includeRelationsDetail
        ? this.store
            .findStorage({ uid: updater.storageUid })
            .then(
              async (record): Promise<JsonObject | string> =>
                record ? this.storage(record) : updater.storageUid,
            )
        : Promise.resolve<JsonObject | string>(updater.storageUid),
    ]);
    return {
      uid: updater.uid,
      update_hash: updater.updateHash,
      build_configuration: buildConfigurationObject(updater.buildConfiguration),
      ogm_dependencies_linked: state.ogmDependenciesLinked,
      data_node_storage: storage,
      tags: [...state.tags],
      labels: [],
      description: null,
      update_details: details,
      run_configuration: { update_schedule: "*/1 * * * *", local_time_serie_update_details: null },
      open_for_everyone: false,
    };
  }

  /** An updater as a scheduler tree item (`TableUpdateNode`); `null` when it is gone. */
  async tableUpdateNode(uid: string): Promise<JsonObject | null> {
    const updater = await this.store.findUpdater({ uid });
    if (!updater) return null;
    const state = await this.state.updater(uid);
    return {
      uid: updater.uid,
      update_hash: updater.updateHash,
      build_configuration: buildConfigurationObject(updater.buildConfiguration),
      ogm_dependencies_linked: state.ogmDependenciesLinked,
    };
  }

  /** A scheduler as the platform's `Scheduler`: its trees expanded into `TableUpdateNode`s. */
  async scheduler(scheduler: SchedulerState): Promise<JsonObject> {
    const tree = async (uids: readonly string[]) =>
      (await Promise.all(uids.map((uid) => this.tableUpdateNode(uid)))).filter(
        (node): node is JsonObject => node !== null,
      );
    return {
      uid: scheduler.uid,
      name: scheduler.name,
      is_running: scheduler.is_running,
      running_process_pid: scheduler.running_process_pid,
      running_in_debug_mode: scheduler.running_in_debug_mode,
      updates_halted: scheduler.updates_halted,
      host: scheduler.host,
      api_address: scheduler.api_address,
      api_port: scheduler.api_port,
      last_heart_beat: scheduler.last_heart_beat,
      pre_loads_in_tree: await tree(scheduler.pre_loads_in_tree),
      in_active_tree: await tree(scheduler.in_active_tree),
      schedules_to: await tree(scheduler.schedules_to),
    };
  }
}

/** `build_configuration` is an object on the platform; anything else is wrapped. */
function buildConfigurationObject(value: unknown): JsonObject {
  return isObject(value) ? value : { value: value ?? null };
}

/** A column metadata record in the wire spelling. */
export function columnMetadataToWire(c: ColumnMetadata): JsonObject {
  return {
    column_name: c.columnName,
    dtype: c.dtype,
    label: c.label,
    description: c.description,
    source_config_id: null,
  };
}

/** An asset with every field of the platform's Asset shape (protocol 2.7); unknown ones null. */
export function assetToWire(a: AssetRecord): JsonObject {
  return {
    id: a.id,
    unique_identifier: a.uniqueIdentifier,
    figi: null,
    composite: null,
    share_class: null,
    isin: a.isin,
    security_type: a.securityType,
    security_type_2: null,
    security_market_sector: a.securityMarketSector,
    is_tradable: true,
    is_custom_by_organization: a.isCustomByOrganization,
    current_snapshot: {
      id: a.id,
      asset: a.id,
      effective_from: null,
      effective_to: null,
      name: a.currentSnapshot.name,
      ticker: a.currentSnapshot.ticker,
      exchange_code: a.currentSnapshot.exchangeCode,
      asset_ticker_group_id: null,
      venue_specific_properties: null,
    },
    current_pricing_detail: null,
  };
}

import { randomUUID } from "node:crypto";
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
import { type JsonObject, timeBounds } from "./wire-codec.js";

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

/** Rows staged by `insert_data_into_table` for one updater's open run, keyed by the full index. */
export interface Stage {
  readonly runUid: string | null;
  readonly storageUid: string;
  readonly rows: Map<string, FrameRecord>;
}

/** Per-updater state the DataStore interface does not hold (platform bookkeeping). */
export interface UpdaterState {
  ogmDependenciesLinked: boolean;
  activeRunUid: string | null;
  activeUpdateStatus: string | null;
  activeSchedulerUid: string | null;
  updatePriority: number | null;
}

/** Storage fields the DataStore does not keep (source code, flags): kept in memory. */
export interface StorageExtras {
  time_serie_source_code_git_hash?: string | null;
  time_serie_source_code?: string | null;
  build_configuration_json_schema?: unknown;
  protect_from_deletion?: boolean;
  open_for_everyone?: boolean;
  stc_open_for_everyone?: boolean;
  foreign_keys?: unknown[] | null;
}

export interface SchedulerState {
  uid: string;
  name: string;
  is_running: boolean;
  running_process_pid: number | null;
  running_in_debug_mode: boolean;
  updates_halted: boolean;
  host: string | null;
  api_address: string | null;
  api_port: number | null;
  last_heart_beat: string | null;
  pre_loads_in_tree: string[];
  in_active_tree: string[];
  schedules_to: string[];
}

/**
 * What the routes share: the store, the in-memory platform bookkeeping (open runs and their
 * staged rows, schedulers, updater flags), and the builders of the wire objects of protocol
 * 2.8, which emit only the fields listed there (the Python client forbids unknown keys).
 */
export class PlatformContext {
  readonly store: DataStore;
  readonly projectUid: string;
  readonly pageSize: number;
  readonly updaters = new Map<string, UpdaterRecord>();
  readonly updaterState = new Map<string, UpdaterState>();
  readonly storageExtras = new Map<string, StorageExtras>();
  readonly stages = new Map<string, Stage>();
  readonly schedulers = new Map<string, SchedulerState>();
  /** Read snapshots for paging (`next_offset`), invalidated by writes to their storage. */
  readonly readCache = new Map<string, { storageUid: string; rows: FrameRecord[] }>();

  constructor(store: DataStore, projectUid: string, pageSize: number) {
    this.store = store;
    this.projectUid = projectUid;
    this.pageSize = pageSize;
  }

  // ------------------------------------------------------------------ lookups

  rememberUpdater(updater: UpdaterRecord): UpdaterRecord {
    this.updaters.set(updater.uid, updater);
    return updater;
  }

  /** An updater by uid, from the store (remembered, so listings know it). */
  async requireUpdater(uid: string): Promise<UpdaterRecord> {
    const known = this.updaters.get(uid);
    if (known) return known;
    const updater = uid.trim() === "" ? null : await this.store.findUpdater({ uid });
    if (!updater) throw HttpError.notFound(`No DataNodeUpdate matches uid '${uid}'.`);
    return this.rememberUpdater(updater);
  }

  async requireStorage(uid: string): Promise<StorageRecord> {
    const storage = await this.store.findStorage({ uid });
    if (!storage) throw HttpError.notFound(`No DataNodeStorage matches uid '${uid}'.`);
    return storage;
  }

  state(updaterUid: string): UpdaterState {
    let s = this.updaterState.get(updaterUid);
    if (!s) {
      s = {
        ogmDependenciesLinked: false,
        activeRunUid: null,
        activeUpdateStatus: null,
        activeSchedulerUid: null,
        updatePriority: null,
      };
      this.updaterState.set(updaterUid, s);
    }
    return s;
  }

  extras(storageUid: string): StorageExtras {
    let e = this.storageExtras.get(storageUid);
    if (!e) {
      e = {};
      this.storageExtras.set(storageUid, e);
    }
    return e;
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
    const stats = statistics ?? (await this.store.getTableStatistics(storage.uid));
    const columns = await this.store.getColumnMetadata(storage.uid);
    const extras = this.extras(storage.uid);
    const dtypes: Record<string, string> = {};
    for (const [name, dtype] of Object.entries(schema.columnDtypes)) {
      dtypes[name] = frameDTypeToToken(dtype);
    }
    return {
      related_table_uid: storage.uid,
      time_index_name: schema.timeIndexName,
      index_names: [...schema.indexNames],
      column_dtypes_map: dtypes,
      foreign_keys: extras.foreign_keys ?? null,
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

  async storage(storage: StorageRecord): Promise<JsonObject> {
    const extras = this.extras(storage.uid);
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
      sourcetableconfiguration: await this.sourceTableConfiguration(storage),
      table_index_names: storage.schema ? [...storage.schema.indexNames] : null,
      compression_policy_config: null,
      retention_policy_config: null,
      data_frequency_id: storage.dataFrequencyId,
    };
  }

  async updateDetails(updater: UpdaterRecord): Promise<JsonObject> {
    const state = this.state(updater.uid);
    const runs = this.store.capabilities.listRuns
      ? await this.store.listRuns(updater.uid, { limit: 5 })
      : [];
    const last = runs.find((r) => r.endedAt !== null) ?? null;
    return {
      active_update: state.activeRunUid !== null,
      update_pid: null,
      error_on_last_update: last?.error ?? false,
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

  async updater(updater: UpdaterRecord, includeRelationsDetail = false): Promise<JsonObject> {
    let storage: unknown = updater.storageUid;
    if (includeRelationsDetail) {
      const record = await this.store.findStorage({ uid: updater.storageUid });
      storage = record ? await this.storage(record) : updater.storageUid;
    }
    return {
      uid: updater.uid,
      update_hash: updater.updateHash,
      build_configuration: updater.buildConfiguration,
      ogm_dependencies_linked: this.state(updater.uid).ogmDependenciesLinked,
      data_node_storage: storage,
      tags: [],
      labels: [],
      description: null,
      update_details: await this.updateDetails(updater),
      run_configuration: { update_schedule: "*/1 * * * *", local_time_serie_update_details: null },
      open_for_everyone: false,
    };
  }

  newScheduler(name: string, debug: boolean, updateNodeUids: string[]): SchedulerState {
    const scheduler: SchedulerState = {
      uid: randomUUID(),
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
      schedules_to: updateNodeUids,
    };
    this.schedulers.set(scheduler.uid, scheduler);
    return scheduler;
  }
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

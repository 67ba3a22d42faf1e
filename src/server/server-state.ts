import type { DataStore } from "../store/data-store.js";
import { KeyedQueue } from "../store/keyed-queue.js";
import { isStateStore, type StateStore } from "../store/state-store.js";
import type { JsonObject } from "./wire-codec.js";

/**
 * What the platform keeps about an updater beyond the store's registry (its `update_details`
 * and flags). Every field is optional on disk: a missing one has the platform's default.
 */
export interface UpdaterState {
  ogmDependenciesLinked: boolean;
  /** The run opened by `set_start_of_execution` and not ended yet. */
  activeRunUid: string | null;
  /** `Q` queued, `R` running, `S` succeeded, `E` failed (the platform's letters). */
  activeUpdateStatus: string;
  activeSchedulerUid: string | null;
  updatePriority: number;
  updatePid: number;
  errorOnLastUpdate: boolean;
  tags: string[];
}

/** Storage fields the store's registry does not keep (source code, flags, foreign keys, tokens). */
export interface StorageExtras {
  time_serie_source_code_git_hash?: string | null;
  time_serie_source_code?: string | null;
  build_configuration_json_schema?: unknown;
  protect_from_deletion?: boolean;
  open_for_everyone?: boolean;
  stc_open_for_everyone?: boolean;
  foreign_keys?: JsonObject[];
  /** The dtype tokens the table was declared with (`float32` stays `float32`), by column. */
  column_dtype_tokens?: Record<string, string>;
}

/** A scheduler as the platform keeps it; its trees hold updater uids (answers expand them). */
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

function defaultUpdaterState(): UpdaterState {
  return {
    ogmDependenciesLinked: false,
    activeRunUid: null,
    activeUpdateStatus: "Q",
    activeSchedulerUid: null,
    updatePriority: 0,
    updatePid: 0,
    errorOnLastUpdate: false,
    tags: [],
  };
}

/** A {@link StateStore} in memory, for stores that offer none (state then ends with the process). */
export class MemoryStateStore implements StateStore {
  private readonly values = new Map<string, Map<string, unknown>>();
  private readonly blobs = new Map<string, Map<string, string>>();

  async readState<T>(kind: string, key: string): Promise<T | null> {
    const value = this.values.get(kind)?.get(key);
    return value === undefined ? null : (structuredClone(value) as T);
  }

  async writeState(kind: string, key: string, value: unknown): Promise<void> {
    let map = this.values.get(kind);
    if (!map) {
      map = new Map();
      this.values.set(kind, map);
    }
    map.set(key, structuredClone(value));
  }

  async deleteState(kind: string, key: string): Promise<void> {
    this.values.get(kind)?.delete(key);
  }

  async listState<T>(kind: string): Promise<{ key: string; value: T }[]> {
    return [...(this.values.get(kind) ?? new Map()).entries()].map(([key, value]) => ({
      key,
      value: structuredClone(value) as T,
    }));
  }

  async putBlob(kind: string, key: string, blobKey: string, payload: string): Promise<boolean> {
    const id = `${kind}\u0000${key}`;
    let map = this.blobs.get(id);
    if (!map) {
      map = new Map();
      this.blobs.set(id, map);
    }
    if (map.has(blobKey)) return false;
    map.set(blobKey, payload);
    return true;
  }

  async listBlobs(kind: string, key: string): Promise<{ blobKey: string; payload: string }[]> {
    const map = this.blobs.get(`${kind}\u0000${key}`) ?? new Map<string, string>();
    return [...map.entries()].map(([blobKey, payload]) => ({ blobKey, payload }));
  }

  async deleteBlobs(kind: string, key: string): Promise<void> {
    this.blobs.delete(`${kind}\u0000${key}`);
  }
}

const UPDATER = "server.updater";
const EXTRAS = "server.storage_extras";
const SCHEDULER = "server.scheduler";
const STAGE = "server.stage";

/**
 * The platform bookkeeping of `tdag serve` that the store's registry does not hold: updater
 * states (update details, flags, tags), storage extras, schedulers and their trees, and the upload
 * chunks staged by open runs. Kept in the store's {@link StateStore} when it has one (the
 * embedded store: it survives a restart and commits with the data), in memory otherwise.
 * Read-modify-write edits of one record are serialized.
 */
export class ServerState {
  readonly durable: boolean;
  private readonly queue = new KeyedQueue();

  private constructor(
    private readonly kv: StateStore,
    durable: boolean,
  ) {
    this.durable = durable;
  }

  /** The state of a server over `store`: durable when the store is a {@link StateStore}. */
  static for(store: DataStore): ServerState {
    return isStateStore(store)
      ? new ServerState(store, true)
      : new ServerState(new MemoryStateStore(), false);
  }

  private edit<T>(
    kind: string,
    key: string,
    fallback: () => T,
    change: (value: T) => void,
  ): Promise<T> {
    return this.queue.run(`${kind}\u0000${key}`, async () => {
      const value = { ...fallback(), ...((await this.kv.readState<Partial<T>>(kind, key)) ?? {}) };
      change(value);
      await this.kv.writeState(kind, key, value);
      return value;
    });
  }

  // ---------------------------------------------------------------- updaters

  async updater(uid: string): Promise<UpdaterState> {
    return {
      ...defaultUpdaterState(),
      ...((await this.kv.readState<Partial<UpdaterState>>(UPDATER, uid)) ?? {}),
    };
  }

  editUpdater(uid: string, change: (state: UpdaterState) => void): Promise<UpdaterState> {
    return this.edit(UPDATER, uid, defaultUpdaterState, change);
  }

  /** Forgets an updater's state and staged chunks (its storage was deleted). */
  async forgetUpdater(uid: string): Promise<void> {
    await this.kv.deleteState(UPDATER, uid);
    await this.kv.deleteBlobs(STAGE, uid);
  }

  // ---------------------------------------------------------------- storages

  async extras(storageUid: string): Promise<StorageExtras> {
    return (await this.kv.readState<StorageExtras>(EXTRAS, storageUid)) ?? {};
  }

  editExtras(storageUid: string, change: (extras: StorageExtras) => void): Promise<StorageExtras> {
    return this.edit<StorageExtras>(EXTRAS, storageUid, () => ({}), change);
  }

  async forgetStorage(storageUid: string): Promise<void> {
    await this.kv.deleteState(EXTRAS, storageUid);
  }

  // ---------------------------------------------------------------- schedulers

  scheduler(uid: string): Promise<SchedulerState | null> {
    return this.kv.readState<SchedulerState>(SCHEDULER, uid);
  }

  async schedulers(): Promise<SchedulerState[]> {
    return (await this.kv.listState<SchedulerState>(SCHEDULER)).map((e) => e.value);
  }

  async saveScheduler(scheduler: SchedulerState): Promise<void> {
    await this.kv.writeState(SCHEDULER, scheduler.uid, scheduler);
  }

  /** Edits a scheduler that exists (`null` when it does not). */
  editScheduler(
    uid: string,
    change: (scheduler: SchedulerState) => void,
  ): Promise<SchedulerState | null> {
    return this.queue.run(`${SCHEDULER}\u0000${uid}`, async () => {
      const scheduler = await this.kv.readState<SchedulerState>(SCHEDULER, uid);
      if (!scheduler) return null;
      change(scheduler);
      await this.kv.writeState(SCHEDULER, uid, scheduler);
      return scheduler;
    });
  }

  // ---------------------------------------------------------------- staged upload chunks

  /**
   * Stages one upload chunk for an updater's open run, named by `chunkKey` (the same chunk sent
   * twice is kept once). `false` when that chunk was already staged.
   */
  stageChunk(updaterUid: string, chunkKey: string, rows: string): Promise<boolean> {
    return this.kv.putBlob(STAGE, updaterUid, chunkKey, rows);
  }

  /** The staged chunks of an updater, in the order they arrived. */
  async stagedChunks(updaterUid: string): Promise<string[]> {
    return (await this.kv.listBlobs(STAGE, updaterUid)).map((b) => b.payload);
  }

  /** Discards an updater's staged chunks. */
  async dropStage(updaterUid: string): Promise<void> {
    await this.kv.deleteBlobs(STAGE, updaterUid);
  }
}

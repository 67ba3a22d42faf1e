import type { CallOptions } from "./store-types.js";

/**
 * A small durable key-value and blob store a database store offers beside the data tables, for
 * bookkeeping that must survive a restart and commit with the data: `tdag serve` keeps its
 * schedulers, updater states, storage extras and the staged upload chunks of open runs there.
 * Values are JSON; blobs are text (an upload chunk's rows). Keys are `(kind, key)`; a blob is one
 * of a key's payloads, named by `blobKey` (putting the same `blobKey` twice keeps the first).
 *
 * The embedded store implements it (tables `tdag_state` and `tdag_state_blobs`); a store without
 * it (the platform store) leaves the server to keep its state in memory.
 *
 * @example
 * ```ts
 * if (isStateStore(store)) await store.writeState("scheduler", uid, { name: "DEBUG_x" });
 * ```
 */
export interface StateStore {
  /** The value at `(kind, key)`, or `null`. */
  readState<T = unknown>(kind: string, key: string, options?: CallOptions): Promise<T | null>;
  /** Sets the value at `(kind, key)`. */
  writeState(kind: string, key: string, value: unknown, options?: CallOptions): Promise<void>;
  /** Removes the value at `(kind, key)` (nothing when absent). */
  deleteState(kind: string, key: string, options?: CallOptions): Promise<void>;
  /** Every value of a kind, oldest first. */
  listState<T = unknown>(
    kind: string,
    options?: CallOptions,
  ): Promise<{ readonly key: string; readonly value: T }[]>;
  /** Adds a payload under `(kind, key)`; `false` when `blobKey` was already there (kept as is). */
  putBlob(
    kind: string,
    key: string,
    blobKey: string,
    payload: string,
    options?: CallOptions,
  ): Promise<boolean>;
  /** The payloads under `(kind, key)`, in the order they were first put. */
  listBlobs(
    kind: string,
    key: string,
    options?: CallOptions,
  ): Promise<{ readonly blobKey: string; readonly payload: string }[]>;
  /** Removes every payload under `(kind, key)`. */
  deleteBlobs(kind: string, key: string, options?: CallOptions): Promise<void>;
}

/** True when a store also offers a {@link StateStore}. */
export function isStateStore(value: unknown): value is StateStore {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as StateStore).readState === "function" &&
    typeof (value as StateStore).putBlob === "function"
  );
}

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, expect } from "vitest";
import type { Frame, FrameRecord } from "../../src/frame/frame.js";
import type { Logger } from "../../src/logger.js";
import type { DataStore, TableStatistics } from "../../src/store/data-store.js";
import { DuckDBStore, type DuckDBStoreOptions } from "../../src/store/duckdb/index.js";

/** A logger that drops every line (tests assert on data, not on logs). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A real DuckDB store on a fresh file in the OS temp directory. */
export interface TempStore {
  readonly store: DuckDBStore;
  readonly path: string;
  /** Closes the store and removes its file (idempotent). */
  cleanup(): Promise<void>;
}

const root = mkdtempSync(join(tmpdir(), "tdag-test-"));
const open: TempStore[] = [];
let hooksInstalled = false;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  afterEach(async () => {
    for (const t of open.splice(0)) await t.cleanup();
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
}

/**
 * Opens a DuckDB store on a new file under `os.tmpdir()`. Stores opened by a test are closed and
 * their files removed after it (the hooks are registered on first use, so call it from a test or
 * import this module at the top level of a test file).
 */
export async function tempStore(
  options: Omit<DuckDBStoreOptions, "path"> = {},
): Promise<TempStore> {
  installHooks();
  const path = join(root, `${randomUUID()}.duckdb`);
  const store = await DuckDBStore.open({ ...options, path });
  let closed = false;
  const handle: TempStore = {
    store,
    path,
    async cleanup() {
      if (closed) return;
      closed = true;
      await store.close();
      rmSync(path, { force: true });
      rmSync(`${path}.wal`, { force: true });
    },
  };
  open.push(handle);
  return handle;
}

// Register the cleanup hooks when a test file imports this module.
installHooks();

/** The rejection of `promise` (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  let resolved = false;
  const error = await promise.then(
    () => {
      resolved = true;
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(resolved, "expected the promise to reject").toBe(false);
  return error;
}

/** Rows of a frame with instants as ISO text (microseconds kept), for exact comparisons. */
export function rows(frame: Frame): FrameRecord[] {
  return frame.toRecords({ time: "iso" });
}

/** Everything observable about one table: its statistics and every row. */
export interface TableSnapshot {
  readonly statistics: TableStatistics;
  readonly rows: FrameRecord[];
}

/** Snapshots a storage by hash (`null` when the storage does not exist). */
export async function snapshotTable(
  store: DataStore,
  storageHash: string,
): Promise<TableSnapshot | null> {
  const storage = await store.findStorage({ storageHash });
  if (!storage) return null;
  return {
    statistics: await store.getTableStatistics(storage.uid),
    rows: rows(await store.readFrame(storage.uid, {})),
  };
}

/** A promise with its resolve/reject exposed, to control when async work finishes. */
export interface Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending promise callbacks run (a few macrotask turns). */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

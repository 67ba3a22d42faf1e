import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import {
  type RunningPlatformServer,
  startPlatformServer,
} from "../../src/server/platform-server.js";
import type { DataStore, UpdaterRecord, WriteOptions } from "../../src/store/data-store.js";
import { DuckDBStore } from "../../src/store/duckdb/index.js";
import { staticTokenAuth } from "../../src/store/remote/auth.js";
import { PlatformClient } from "../../src/store/remote/http-client.js";
import { RemoteStore } from "../../src/store/remote/remote-store.js";

export interface RemoteFixture {
  readonly store: DataStore;
  readonly remote: RemoteStore;
  readonly server: RunningPlatformServer;
  readonly backing: DuckDBStore;
  cleanup(): Promise<void>;
}

/**
 * The remote store as the conformance suites see it. The platform uploads rows through an
 * updater (`LTS/{uid}/insert_data_into_table/`), so `writeFrame` needs `options.updaterUid`,
 * which the run engine always passes. The suites write without one (they test the store, not
 * the engine): for those calls this wrapper registers one writer updater per storage and passes
 * its uid, exactly what the engine does. Every other call goes to the store untouched.
 */
export function withWriterUpdaters(store: RemoteStore): DataStore {
  const writers = new Map<string, Promise<UpdaterRecord>>();
  const writer = async (storageUid: string): Promise<UpdaterRecord | null> => {
    let pending = writers.get(storageUid);
    if (!pending) {
      const storage = await store.findStorage({ uid: storageUid });
      if (!storage) return null;
      pending = store.registerUpdater({
        updateHash: `w_${storage.storageHash}`.slice(0, 63),
        storageHash: storage.storageHash,
        buildConfiguration: { writer: true },
        namespace: storage.namespace,
      });
      writers.set(storageUid, pending);
      pending.catch(() => writers.delete(storageUid));
    }
    return pending;
  };
  const writeFrame: DataStore["writeFrame"] = async (storageUid, frame, options?: WriteOptions) => {
    if (options?.updaterUid) return store.writeFrame(storageUid, frame, options);
    const updater = await writer(storageUid);
    return store.writeFrame(
      storageUid,
      frame,
      updater ? { ...options, updaterUid: updater.uid } : options,
    );
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "writeFrame") return writeFrame;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * A factory for the conformance suites: per test, a fresh DuckDB file behind a fresh local
 * platform server on 127.0.0.1 (real HTTP), and a {@link RemoteStore} talking to it.
 */
export function remoteStoreFactory(
  label: string,
  options: { chunkRows?: number } = {},
): () => Promise<RemoteFixture> {
  const root = mkdtempSync(join(tmpdir(), `tdag-remote-${label}-`));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return async () => {
    const path = join(root, `${randomUUID()}.duckdb`);
    const backing = await DuckDBStore.open({ path });
    const token = `token-${randomUUID()}`;
    const server = await startPlatformServer({ port: 0, store: backing, token });
    const client = new PlatformClient({
      endpoint: server.url,
      auth: staticTokenAuth(token),
      retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    });
    const remote = new RemoteStore({
      client,
      projectUid: server.projectUid,
      ...(options.chunkRows ? { chunkRows: options.chunkRows } : {}),
    });
    return {
      store: withWriterUpdaters(remote),
      remote,
      server,
      backing,
      async cleanup() {
        await remote.close();
        await server.close();
        await backing.close();
        rmSync(path, { force: true });
        rmSync(`${path}.wal`, { force: true });
      },
    };
  };
}

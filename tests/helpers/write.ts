import { randomUUID } from "node:crypto";
import type { Frame } from "../../src/frame/frame.js";
import type { DataStore, WriteOptions, WriteResult } from "../../src/store/data-store.js";

const writers = new WeakMap<DataStore, Map<string, Promise<string>>>();

/**
 * The uid of a writer updater of a storage: registered on first use (once per store and
 * storage), as every write goes through an updater of the storage it writes to.
 */
export function writerOf(store: DataStore, storageUid: string): Promise<string> {
  let byStorage = writers.get(store);
  if (!byStorage) {
    byStorage = new Map();
    writers.set(store, byStorage);
  }
  let writer = byStorage.get(storageUid);
  if (!writer) {
    writer = (async () => {
      const storage = await store.findStorage({ uid: storageUid });
      if (!storage) throw new Error(`no storage ${storageUid} to write to`);
      const updater = await store.registerUpdater({
        updateHash: `writer_${randomUUID().replaceAll("-", "")}`,
        storageHash: storage.storageHash,
        buildConfiguration: { writer: true },
        namespace: storage.namespace,
      });
      return updater.uid;
    })();
    byStorage.set(storageUid, writer);
  }
  return writer;
}

/** `store.writeFrame` through the storage's writer updater (see {@link writerOf}). */
export async function writeThroughUpdater(
  store: DataStore,
  storageUid: string,
  frame: Frame,
  options: Omit<WriteOptions, "updaterUid"> = {},
): Promise<WriteResult> {
  return store.writeFrame(storageUid, frame, {
    ...options,
    updaterUid: await writerOf(store, storageUid),
  });
}

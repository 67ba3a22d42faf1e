import * as z from "zod";
import { DataNodeConfiguration } from "../../src/config/data-node-configuration.js";
import { updateOnly } from "../../src/config/markers.js";
import type { UpdateContext } from "../../src/engine/run-engine.js";
import type { FrameInput } from "../../src/frame/frame.js";
import { DataNode } from "../../src/node/data-node.js";
import type { UpdateStatistics } from "../../src/statistics/update-statistics.js";
import type { AssetRecord, DataStore } from "../../src/store/data-store.js";

/** What a {@link ScriptedNode} returns from `update()`: a value or a function of the context. */
export type Script = FrameInput | ((context: UpdateContext) => FrameInput | Promise<FrameInput>);

export const ScriptedConfig = DataNodeConfiguration.extend({
  /** Meaning: which table. */
  series: z.string(),
  /** Scope: which updater (update-only, so two values share a table). */
  shard: updateOnly(z.string()).default("main"),
});

/**
 * A node whose `update()` output is set by the test (`node.script = ...`). It records the
 * statistics it was handed and how often it ran; dependencies are assigned through `deps`.
 */
export class ScriptedNode extends DataNode<typeof ScriptedConfig> {
  static override configSchema = ScriptedConfig;
  static override nodeName = "ScriptedNode";
  script: Script = [];
  deps: Record<string, unknown> = {};
  calls = 0;
  readonly seen: UpdateStatistics[] = [];

  override dependencies(): Record<string, unknown> {
    return this.deps;
  }

  override async update(context: UpdateContext): Promise<FrameInput> {
    this.calls++;
    this.seen.push(context.updateStatistics);
    return typeof this.script === "function" ? this.script(context) : this.script;
  }

  /** The statistics handed to the last `update()`. */
  get lastSeen(): UpdateStatistics {
    const last = this.seen.at(-1);
    if (!last) throw new Error(`${this.config.series}: update() was never called`);
    return last;
  }
}

/** The updater uid of a node in a store (throws when it was never registered). */
export async function updaterUid(store: DataStore, node: DataNode): Promise<string> {
  const updater = await store.findUpdater({ updateHash: node.updateHash });
  if (!updater) throw new Error(`no updater ${node.updateHash}`);
  return updater.uid;
}

/** The storage uid of a node in a store (throws when it was never registered). */
export async function storageUid(store: DataStore, node: DataNode): Promise<string> {
  const storage = await store.findStorage({ storageHash: node.storageHash });
  if (!storage) throw new Error(`no storage ${node.storageHash}`);
  return storage.uid;
}

/** Registration payloads for custom assets named by their identifiers. */
export function assetPayload(uids: readonly string[]) {
  return uids.map((uid) => ({ uniqueIdentifier: uid, snapshot: { name: uid, ticker: uid } }));
}

export type { AssetRecord };

import { describe, expect, it } from "vitest";
import * as z from "zod";
import { DataNodeConfiguration } from "../../src/config/data-node-configuration.js";
import { currentHashNamespace, hashNamespace } from "../../src/hashing/namespace.js";
import { DataNode } from "../../src/node/data-node.js";
import type { DataNodeOptions } from "../../src/node/node-options.js";
import type { DataStore } from "../../src/store/data-store.js";
import { configure } from "../../src/store/store-registry.js";
import { rows, silentLogger, snapshotTable, tempStore } from "../helpers/temp-store.js";

configure({ logger: silentLogger });

const D1 = "2024-01-01T00:00:00Z";
const KeyConfig = DataNodeConfiguration.extend({ key: z.string() });

class Leaf extends DataNode<typeof KeyConfig> {
  static override configSchema = KeyConfig;
  static override nodeName = "NsLeaf";
  override update() {
    return [{ time_index: D1, v: 1 }];
  }
}

/** Builds its dependency in the constructor (the recommended pattern). */
class Parent extends DataNode<typeof KeyConfig> {
  static override configSchema = KeyConfig;
  static override nodeName = "NsParent";
  readonly leaf: Leaf;
  constructor(config: z.input<typeof KeyConfig>, options: DataNodeOptions = {}) {
    super(config, options);
    this.leaf = new Leaf({ key: "leaf" });
  }
  override dependencies() {
    return { leaf: this.leaf };
  }
  override async update() {
    const upstream = await this.leaf.getDfBetweenDates();
    return upstream.toRecords().map((r) => ({ time_index: r.time_index, v: (r.v as number) + 1 }));
  }
}

/** Builds its dependency lazily, in dependencies(), and another node inside update(). */
class Lazy extends DataNode<typeof KeyConfig> {
  static override configSchema = KeyConfig;
  static override nodeName = "NsLazy";
  dep: Leaf | undefined;
  seenInUpdate: { ambient: string; built: Leaf } | undefined;
  override dependencies() {
    this.dep ??= new Leaf({ key: "lazy_dep" });
    return { dep: this.dep };
  }
  override update() {
    this.seenInUpdate = { ambient: currentHashNamespace(), built: new Leaf({ key: "in_update" }) };
    return [{ time_index: D1, v: 3 }];
  }
}

async function namespaceOf(store: DataStore, node: DataNode): Promise<string | null | undefined> {
  return (await store.findStorage({ storageHash: node.storageHash }))?.namespace;
}

describe("hash namespaces in runs", () => {
  it("hashNamespace(...) runs write to other tables than un-namespaced runs, dependencies included", async () => {
    const { store } = await tempStore();
    const plain = new Parent({ key: "p" });
    const spaced = hashNamespace("t1", () => new Parent({ key: "p" }));

    expect(spaced.hashNamespace).toBe("t1");
    expect(spaced.leaf.hashNamespace).toBe("t1");
    expect(plain.leaf.hashNamespace).toBe("");
    expect(spaced.storageHash).not.toBe(plain.storageHash);
    expect(spaced.updateHash).not.toBe(plain.updateHash);
    expect(spaced.leaf.storageHash).not.toBe(plain.leaf.storageHash);

    await spaced.run({ store });
    // only the namespaced tables exist so far
    expect(await namespaceOf(store, spaced)).toBe("t1");
    expect(await namespaceOf(store, spaced.leaf)).toBe("t1");
    expect(await namespaceOf(store, plain)).toBeUndefined();
    expect(await namespaceOf(store, plain.leaf)).toBeUndefined();
    expect((await snapshotTable(store, spaced.storageHash))!.rows).toEqual([
      { time_index: D1, v: 2 },
    ]);

    await plain.run({ store });
    expect(await namespaceOf(store, plain)).toBeNull();
    expect(await namespaceOf(store, plain.leaf)).toBeNull();
    expect((await store.listStorages()).length).toBe(4);
    // the namespaced updater depends on the namespaced leaf, not on the plain one
    const uid = async (n: DataNode) => (await store.findUpdater({ updateHash: n.updateHash }))!.uid;
    expect(await store.listDependencies(await uid(spaced))).toEqual([
      { kind: "updater", uid: await uid(spaced.leaf) },
    ]);
    expect((await store.findUpdater({ updateHash: spaced.updateHash }))!.namespace).toBe("t1");
  });

  it("the hashNamespace option and testNode reach dependencies built in the constructor", async () => {
    const { store } = await tempStore();
    const explicit = new Parent({ key: "p" }, { hashNamespace: "t2" });
    const test = new Parent({ key: "p" }, { testNode: true });
    expect(explicit.leaf.hashNamespace).toBe("t2");
    expect(test.hashNamespace).toBe("test");
    expect(test.leaf.hashNamespace).toBe("test");
    await explicit.run({ store });
    await test.run({ store });
    expect(await namespaceOf(store, explicit.leaf)).toBe("t2");
    expect(await namespaceOf(store, test.leaf)).toBe("test");
    expect(rows(await test.getDfBetweenDates())).toEqual([{ time_index: D1, v: 2 }]);
  });

  it("run() activates the node's namespace: nodes built in dependencies() and update() inherit it", async () => {
    const { store } = await tempStore();
    const node = new Lazy({ key: "lazy" }, { hashNamespace: "t3" });
    expect(node.dep).toBeUndefined();
    expect(currentHashNamespace()).toBe("");

    await node.run({ store });

    expect(node.dep!.hashNamespace).toBe("t3");
    expect(node.seenInUpdate!.ambient).toBe("t3");
    expect(node.seenInUpdate!.built.hashNamespace).toBe("t3");
    expect(await namespaceOf(store, node.dep!)).toBe("t3");
    expect((await snapshotTable(store, node.dep!.storageHash))!.rows).toEqual([
      { time_index: D1, v: 1 },
    ]);
    // the un-namespaced twin of the lazy dependency was never touched
    const twin = new Leaf({ key: "lazy_dep" });
    expect(twin.storageHash).not.toBe(node.dep!.storageHash);
    expect(await store.findStorage({ storageHash: twin.storageHash })).toBeNull();
    // and the namespace does not leak out of the run
    expect(currentHashNamespace()).toBe("");
  });

  it("an un-namespaced node built and run normally gets no namespace", async () => {
    const { store } = await tempStore();
    const node = new Lazy({ key: "plain_lazy" });
    await node.run({ store });
    expect(node.dep!.hashNamespace).toBe("");
    expect(node.seenInUpdate!.ambient).toBe("");
    expect(await namespaceOf(store, node.dep!)).toBeNull();
  });
});

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import * as z from "zod";
import { DataNodeConfiguration } from "../../src/config/data-node-configuration.js";
import { hashExcluded, runtimeOnly, updateOnly } from "../../src/config/markers.js";
import { pythonIdentity, tsIdentity } from "../../src/config/model-identity.js";
import { ConfigError, HashingError } from "../../src/errors.js";
import { API_DATA_NODE_BRAND, DATA_NODE_BRAND, isDataNodeLike } from "../../src/hashing/brands.js";
import { setProjectUidResolver } from "../../src/hashing/project-uid.js";
import { DataNode } from "../../src/node/data-node.js";
import { diffHashes, explainHash } from "../../src/node/explain-hash.js";

const Leg = tsIdentity(
  z.strictObject({
    ticker: z.string(),
    weight: z.number(),
    note: hashExcluded(z.string()).optional(),
    scope: updateOnly(z.string().default("all")),
  }),
  "Leg",
);

const ShardConfig = DataNodeConfiguration.extend({
  ticker: z.string(),
  window: z.int().default(20),
  shard_id: updateOnly(z.string()),
  comment: runtimeOnly(z.string()).default(""),
  legs: z.array(Leg).default([]),
  tag: hashExcluded(z.string().nullable()).optional(),
});

class ShardNode extends DataNode<typeof ShardConfig> {
  static override configSchema = ShardConfig;
}

const base = { ticker: "NVDA", shard_id: "A" };

describe("DataNode identity", () => {
  afterEach(() => setProjectUidResolver(null));

  it("exposes config, hashes, namespace and build configuration", () => {
    const node = new ShardNode(base);
    expect(node.config.window).toBe(20);
    expect(node.updateHash).toMatch(/^shardnode_[0-9a-f]{32}$/);
    expect(node.storageHash).toMatch(/^shardnode_[0-9a-f]{32}$/);
    expect(node.hashNamespace).toBe("");
    expect(node.testNode).toBe(false);
    expect(node.dependencies()).toEqual({});
    expect(isDataNodeLike(node)).toBe(true);
    expect((node as unknown as Record<symbol, unknown>)[Symbol.for("tdag.DataNode")]).toBe(true);
    expect(DATA_NODE_BRAND).toBe(Symbol.for("tdag.DataNode"));
    const build = node.buildConfiguration as {
      config: { serialized_model: Record<string, unknown> };
    };
    expect(build.config.serialized_model["shard_id"]).toBe("A");
    expect(JSON.parse(node.buildConfigurationJson)).toEqual(node.buildConfiguration);
    expect(node.buildConfigurationJson).toContain(
      '"time_series_class_import_path": {"module": "ts", "qualname": "ShardNode"}',
    );
  });

  it("exposes nodeName, the explicitly given config keys, and freezes the config", () => {
    const node = new ShardNode({
      ...base,
      open_to_public: false,
      legs: [{ ticker: "A", weight: 1 }],
    });
    expect(node.nodeName).toBe("ShardNode");
    expect([...node.configFieldsSet].sort()).toEqual([
      "legs",
      "open_to_public",
      "shard_id",
      "ticker",
    ]);
    expect(Object.isFrozen(node.config)).toBe(true);
    expect(() => {
      (node.config as { window: number }).window = 1;
    }).toThrow(TypeError);
  });

  it("uses static nodeName for the TS identity and the prefix", () => {
    class Minified extends DataNode<typeof ShardConfig> {
      static override configSchema = ShardConfig;
      static override nodeName = "Prices_Daily";
    }
    const node = new Minified(base);
    expect(node.updateHash.startsWith("prices_daily_")).toBe(true);
    expect(explainHash(node).updateCanonicalJson).toContain(
      '{"module": "ts", "qualname": "Prices_Daily"}',
    );
  });

  it("does not inherit pythonIdentity/nodeName from a parent class", () => {
    class Parent extends DataNode<typeof ShardConfig> {
      static override configSchema = ShardConfig;
      static override pythonIdentity = { module: "pkg.nodes", qualname: "Parent" };
    }
    class Child extends Parent {}
    expect(new Child(base).updateHash).not.toBe(new Parent(base).updateHash);
    expect(new Child(base).updateHash.startsWith("child_")).toBe(true);
  });

  it("prefix comes from the last qualname segment and is cropped to 30", () => {
    class Nested extends DataNode<typeof ShardConfig> {
      static override configSchema = ShardConfig;
      static override pythonIdentity = {
        module: "m",
        qualname: "Outer.A_Very_Long_Inner_Class_Name_Here_",
      };
    }
    const hash = new Nested(base).updateHash;
    expect(hash.startsWith("a_very_long_inner_class_name_h_")).toBe(true);
    expect(hash.length).toBeLessThanOrEqual(63);
  });

  it("is independent of the key order of the input config", () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(["ticker", "shard_id", "window", "comment", "legs"], { minLength: 5 }),
        (keys) => {
          const full: Record<string, unknown> = {
            ...base,
            window: 5,
            comment: "c",
            legs: [{ weight: 0.5, ticker: "A" }],
          };
          const shuffled = Object.fromEntries(keys.map((k) => [k, full[k]]));
          const a = new ShardNode(full as z.input<typeof ShardConfig>);
          const b = new ShardNode(shuffled as z.input<typeof ShardConfig>);
          expect(b.updateHash).toBe(a.updateHash);
          expect(b.storageHash).toBe(a.storageHash);
        },
      ),
      { numRuns: 30 },
    );
  });

  it("is identical across runs and processes", () => {
    const here = new ShardNode({ ...base, legs: [{ ticker: "A", weight: 0.5 }] });
    const dir = mkdtempSync(join(tmpdir(), "tdag-hash-"));
    try {
      const src = (p: string) =>
        pathToFileURL(fileURLToPath(new URL(`../../src/${p}`, import.meta.url))).href;
      // an ES module outside the repo: import zod by URL, the same module instance src/ resolves to
      const zod = pathToFileURL(
        fileURLToPath(new URL("../../node_modules/zod/index.js", import.meta.url)),
      ).href;
      const script = join(dir, "child.mts");
      writeFileSync(
        script,
        `import * as z from ${JSON.stringify(zod)};
import { DataNodeConfiguration } from ${JSON.stringify(src("config/data-node-configuration.ts"))};
import { hashExcluded, runtimeOnly, updateOnly } from ${JSON.stringify(src("config/markers.ts"))};
import { tsIdentity } from ${JSON.stringify(src("config/model-identity.ts"))};
import { DataNode } from ${JSON.stringify(src("node/data-node.ts"))};
const Leg = tsIdentity(z.strictObject({ ticker: z.string(), weight: z.number(), note: hashExcluded(z.string()).optional(), scope: updateOnly(z.string().default("all")) }), "Leg");
const ShardConfig = DataNodeConfiguration.extend({ ticker: z.string(), window: z.int().default(20), shard_id: updateOnly(z.string()), comment: runtimeOnly(z.string()).default(""), legs: z.array(Leg).default([]), tag: hashExcluded(z.string().nullable()).optional() });
class ShardNode extends DataNode<typeof ShardConfig> { static override configSchema = ShardConfig; }
const n = new ShardNode({ legs: [{ weight: 0.5, ticker: "A" }], shard_id: "A", ticker: "NVDA" });
console.log(JSON.stringify([n.updateHash, n.storageHash]));
`,
      );
      const cwd = fileURLToPath(new URL("../..", import.meta.url));
      const result = spawnSync(process.execPath, ["--import", "tsx", script], {
        cwd,
        encoding: "utf8",
      });
      expect(result.status, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout.trim())).toEqual([here.updateHash, here.storageHash]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(new ShardNode({ ...base, legs: [{ ticker: "A", weight: 0.5 }] }).updateHash).toBe(
      here.updateHash,
    );
  });

  it("update-only fields change only the update hash; runtime-only/hash-excluded change neither", () => {
    const a = new ShardNode(base);
    const shard = new ShardNode({ ...base, shard_id: "B" });
    expect(shard.storageHash).toBe(a.storageHash);
    expect(shard.updateHash).not.toBe(a.updateHash);
    expect(diffHashes(a, shard)).toEqual({ update: ["config.shard_id"], storage: [] });

    const offset = new ShardNode({ ...base, offset_start: "2024-01-01T00:00:00Z" });
    expect(diffHashes(a, offset)).toEqual({ update: ["config.offset_start"], storage: [] });

    for (const variant of [
      { comment: "other" },
      { open_to_public: true },
      { tag: "x" },
      { tag: null },
      {
        node_metadata: {
          identifier: "published_name",
          description: "d",
          data_frequency_id: "1d" as const,
        },
      },
    ]) {
      const v = new ShardNode({ ...base, ...variant });
      expect(v.updateHash).toBe(a.updateHash);
      expect(v.storageHash).toBe(a.storageHash);
    }
    const window = new ShardNode({ ...base, window: 5 });
    expect(diffHashes(a, window)).toEqual({
      update: ["config.window"],
      storage: ["config.window"],
    });
  });

  it("markers work inside nested models in arrays (with optional/default wrappers)", () => {
    const one = new ShardNode({ ...base, legs: [{ ticker: "A", weight: 0.5 }] });
    const noted = new ShardNode({ ...base, legs: [{ ticker: "A", weight: 0.5, note: "n" }] });
    const scoped = new ShardNode({ ...base, legs: [{ ticker: "A", weight: 0.5, scope: "eu" }] });
    expect(noted.updateHash).toBe(one.updateHash);
    expect(noted.storageHash).toBe(one.storageHash);
    expect(scoped.storageHash).toBe(one.storageHash);
    expect(diffHashes(one, scoped)).toEqual({ update: ["config.legs[0].scope"], storage: [] });
    const weighted = new ShardNode({ ...base, legs: [{ ticker: "A", weight: 0.75 }] });
    expect(diffHashes(one, weighted)).toEqual({
      update: ["config.legs[0].weight"],
      storage: ["config.legs[0].weight"],
    });
  });

  it("explainHash gives the md5 pre-images", async () => {
    const { createHash } = await import("node:crypto");
    const node = new ShardNode(base);
    const e = explainHash(node);
    expect(node.updateHash).toBe(
      `shardnode_${createHash("md5").update(e.updateCanonicalJson).digest("hex")}`,
    );
    expect(node.storageHash).toBe(
      `shardnode_${createHash("md5").update(e.storageCanonicalJson).digest("hex")}`,
    );
    expect(e.storageCanonicalJson).not.toContain("shard_id");
    expect(e.updateCanonicalJson).toContain('"shard_id": "A"');
  });

  it("adds project_uid to the update hash only (option or resolver hook)", () => {
    const plain = new ShardNode(base);
    const withOption = new ShardNode(base, { projectUid: "p-1" });
    setProjectUidResolver(() => " p-1 ");
    const withHook = new ShardNode(base);
    const disabled = new ShardNode(base, { projectUid: null });
    expect(withOption.storageHash).toBe(plain.storageHash);
    expect(withOption.updateHash).not.toBe(plain.updateHash);
    expect(withHook.updateHash).toBe(withOption.updateHash);
    expect(disabled.updateHash).toBe(plain.updateHash);
    expect(diffHashes(plain, withOption)).toEqual({ update: ["project_uid"], storage: [] });
  });

  it("configKey renames the hashed config key; hashed args and nodes enter both hashes", () => {
    class Keyed extends DataNode<typeof ShardConfig> {
      static override configSchema = ShardConfig;
      static override configKey = "node_configuration";
    }
    expect(
      explainHash(new Keyed(base)).storageCanonicalJson.startsWith('{"node_configuration": '),
    ).toBe(true);

    class WithArgs extends DataNode<typeof ShardConfig> {
      static override configSchema = ShardConfig;
      constructor(
        config: z.input<typeof ShardConfig>,
        readonly upstream: ShardNode,
      ) {
        super(config, {}, { upstream, lookback: 3 });
      }
    }
    const upA = new ShardNode(base);
    const upB = new ShardNode({ ...base, shard_id: "B" });
    const a = new WithArgs(base, upA);
    const b = new WithArgs(base, upB);
    expect(explainHash(a).storageCanonicalJson).toContain(
      `"upstream": {"is_time_serie_instance": true, "update_hash": "${upA.updateHash}"}`,
    );
    // the dependency's update hash (with its update-only shard) moves the parent's storage hash
    expect(diffHashes(a, b)).toEqual({
      update: ["upstream.update_hash"],
      storage: ["upstream.update_hash"],
    });
    expect(() => new (class X extends ShardNode {})(base, {}, { config: 1 })).toThrow(ConfigError);
  });

  it("rejects an APIDataNode inside a config like Python's TypeError", () => {
    const Cfg = DataNodeConfiguration.extend({ source: z.custom<object>(() => true) });
    class N extends DataNode<typeof Cfg> {
      static override configSchema = Cfg;
    }
    class APIDataNode {
      readonly [API_DATA_NODE_BRAND] = true;
    }
    expect(() => new N({ source: new APIDataNode() })).toThrow(
      new HashingError(
        "hash_unserializable",
        "Object of type APIDataNode is not JSON serializable",
      ),
    );
    expect(() => new N({ source: new Set([1]) })).toThrow(
      "Object of type set is not JSON serializable",
    );
    expect(() => new N({ source: new (class Custom {})() })).toThrow(
      "Object of type Custom is not JSON serializable",
    );
  });

  it("fails with a ConfigError naming the field for a misspelled key or a wrong type", () => {
    expect(() => new ShardNode({ ...base, shard_idd: "A" } as never)).toThrow(ConfigError);
    let err: unknown;
    try {
      new ShardNode({ ...base, window: "20", shard_idd: "x" } as never);
    } catch (caught) {
      err = caught;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.path).sort()).toEqual(["shard_idd", "window"]);
    expect((err as ConfigError).message).toMatch(/^Invalid configuration for ShardNode: /);
    expect(() => new ShardNode(base, { hash_namespace: "x" } as never)).toThrow(
      /Unknown DataNode option/,
    );
  });

  it("identity of Python twins: the SDK models carry the reference import path", () => {
    const Cfg = pythonIdentity(DataNodeConfiguration.extend({}), { module: "m", qualname: "C" });
    class N extends DataNode<typeof Cfg> {
      static override configSchema = Cfg;
    }
    const node = new N({
      records: [{ column_name: "close", dtype: "float64", label: "Close" }],
      foreign_keys: [
        {
          target: "uid-1",
          source_columns: [{ column_name: "asset_uid", dtype: "uuid" }],
          target_columns: ["uid"],
          on_delete: "CASCADE",
        },
      ],
      node_metadata: { identifier: "x" },
    });
    const text = explainHash(node).storageCanonicalJson;
    expect(text).toContain(
      '{"module": "mainsequence.tdag.data_nodes.models", "qualname": "RecordDefinition"}',
    );
    expect(text).toContain(
      '"serialized_model": {"on_delete": "cascade", "source_columns": ["asset_uid"], "target": "uid-1", "target_columns": ["uid"]}',
    );
    expect(text).not.toContain("node_metadata");
    expect(node.buildConfigurationJson).toContain(
      '"DataNodeMetaData"}, "serialized_model": {"identifier": "x"',
    );
  });
});

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { DataNodeConfiguration } from "../../src/config/data-node-configuration.js";
import { hashExcluded, runtimeOnly, updateOnly } from "../../src/config/markers.js";
import { pythonIdentity } from "../../src/config/model-identity.js";
import { ConfigError, HashingError } from "../../src/errors.js";
import { isDataNodeLike } from "../../src/hashing/brands.js";
import { hashConfiguration } from "../../src/hashing/configuration-hash.js";
import { parsePythonJson } from "../../src/hashing/lexeme-json.js";
import { hashNamespace } from "../../src/hashing/namespace.js";
import { isPyDict, type PyDict, type PyValue } from "../../src/hashing/py-value.js";
import { pythonJsonDumps } from "../../src/hashing/python-json.js";
import { DataNode } from "../../src/node/data-node.js";
import { explainHash } from "../../src/node/explain-hash.js";
import type { DataNodeOptions } from "../../src/node/node-options.js";

// The fixture is a copy of the shared spec vectors; read it lexeme-preserving so `1.0` stays a float.
const FIXTURE = fileURLToPath(new URL("../fixtures/hash-vectors.json", import.meta.url));
const file = parsePythonJson(readFileSync(FIXTURE, "utf8")) as PyDict;
const plain = JSON.parse(readFileSync(FIXTURE, "utf8")) as {
  relations: { a: string; b: string; field: "update_hash" | "storage_hash"; equal: boolean }[];
  vectors: Vector[];
};

interface Vector {
  id: string;
  kind: "node" | "create_config" | "error";
  node_class?: { name: string; module: string; qualname: string };
  ts_class_name?: string;
  constructor_call?: Record<string, unknown>;
  context_namespace?: string | null;
  namespace?: string;
  project_uid?: string | null;
  config_class?: { module: string; qualname: string };
  config_json?: Record<string, unknown> | null;
  config_fields?: Record<string, { annotation: string } & Record<string, unknown>>;
  update_canonical_json?: string;
  storage_canonical_json?: string;
  update_hash?: string;
  storage_hash?: string;
  error_message?: string;
  internal_dependency?: { namespace: string; update_hash: string; storage_hash: string };
}

const typedVectors = new Map<string, PyDict>();
for (const v of (file["vectors"] as PyValue[]).filter(isPyDict))
  typedVectors.set(v["id"] as string, v);
const vectors = plain.vectors;

// ---- the vector classes of Python module `vector_nodes`, declared in TS ---------------------

const vn = (qualname: string) => ({ module: "vector_nodes", qualname });

/** `class VolSettings(BaseModel)`: center float, skew bool, batch_size int (update_only), display_name (hash_excluded). */
const VolSettings = pythonIdentity(
  z.strictObject({
    center: z.number(),
    skew: z.boolean(),
    batch_size: updateOnly(z.int()),
    display_name: hashExcluded(z.string()),
  }),
  vn("VolSettings"),
);

/** `class Leg(BaseModel)`: ticker str, weight float, comment (hash_excluded). */
const Leg = pythonIdentity(
  z.strictObject({ ticker: z.string(), weight: z.number(), comment: hashExcluded(z.string()) }),
  vn("Leg"),
);

const dataNodeField = z.custom<DataNode>((v) => isDataNodeLike(v), {
  message: "expected a DataNode",
});

const BASE_FIELDS = new Set([
  "open_to_public",
  "offset_start",
  "records",
  "foreign_keys",
  "node_metadata",
]);

/** Zod schema of a `config_fields` annotation (float vs int as annotated). */
function schemaOfAnnotation(annotation: string): z.ZodType {
  switch (annotation) {
    case "<class 'int'>":
      return z.int();
    case "<class 'float'>":
      return z.number();
    case "<class 'str'>":
      return z.string();
    case "<class 'bool'>":
      return z.boolean();
    case "<class 'vector_nodes.VolSettings'>":
      return VolSettings;
    case "vector_nodes.VolSettings | None":
      return VolSettings.nullable();
    case "list[vector_nodes.Leg]":
      return z.array(Leg);
    case "<class 'mainsequence.tdag.data_nodes.data_nodes.DataNode'>":
      return dataNodeField;
    default:
      throw new Error(`no TS schema for annotation ${annotation}`);
  }
}

/** The TS config schema of a vector, built from its `config_fields` (annotations + markers). */
function configSchemaOf(v: Vector): z.ZodObject {
  const cls = v.config_class as { module: string; qualname: string };
  if (cls.qualname === "DataNodeConfiguration") return DataNodeConfiguration;
  const shape: Record<string, z.ZodType> = {};
  for (const [field, spec] of Object.entries(v.config_fields ?? {})) {
    if (BASE_FIELDS.has(field)) continue;
    let schema = schemaOfAnnotation(spec.annotation);
    if (spec["update_only"] === true) schema = updateOnly(schema);
    if (spec["runtime_only"] === true) schema = runtimeOnly(schema);
    if (spec["hash_excluded"] === true) schema = hashExcluded(schema);
    shape[field] = schema;
  }
  return pythonIdentity(DataNodeConfiguration.extend(shape), cls);
}

type AnyConfig = Record<string, unknown>;

function nodeClassOf(v: Vector, configKey: string) {
  const schema = configSchemaOf(v);
  const identity = v.node_class as { module: string; qualname: string };
  return class VectorNode extends DataNode<z.ZodObject> {
    static override configSchema = schema;
    static override pythonIdentity = { module: identity.module, qualname: identity.qualname };
    static override configKey = configKey;
  };
}

const upstreamVector = vectors.find((v) => v.id === "dependency_upstream") as Vector;
const UpstreamNode = nodeClassOf(upstreamVector, "config");
const upstream = new UpstreamNode({ a: 1 });

/**
 * Python signature-binding behaviour has no TS equivalent (TS has no runtime parameter names):
 * these vectors are reproduced by stating the hashed arguments explicitly, as a TS node would.
 */
const EXPLICIT_HASHED_ARGS: Record<string, Record<string, unknown>> = {
  // `def __init__(self, config, window: int = 10, label: str = "x")`: defaults are hashed too
  extra_init_args: { window: 10, label: "x" },
  // no own __init__: DataNode.__init__'s defaults (hash_namespace=None, test_node=False) are bound
  no_own_init: { hash_namespace: null, test_node: false },
  no_own_init_test_node: { hash_namespace: null, test_node: false },
  intermediate_base_without_init: { hash_namespace: null, test_node: false },
  // a node passed as a constructor argument
  dependency_as_init_arg: { upstream },
};

interface Built {
  node: DataNode<z.ZodObject>;
  internal?: DataNode<z.ZodObject>;
}

function build(v: Vector): Built {
  const call = v.constructor_call ?? {};
  const configKey = Object.keys(call).find((k) => {
    const value = call[k];
    return typeof value === "object" && value !== null && "<pydantic>" in value;
  }) as string;
  const Node = nodeClassOf(v, configKey);
  const config: AnyConfig = { ...(v.config_json ?? {}) };
  for (const [k, value] of Object.entries(config)) {
    if (typeof value === "object" && value !== null && "<DataNode>" in value) config[k] = upstream;
  }
  const options: { -readonly [K in keyof DataNodeOptions]: DataNodeOptions[K] } = {};
  if (typeof call["hash_namespace"] === "string") options.hashNamespace = call["hash_namespace"];
  // the reference's alias kwarg (`_HASH_NAMESPACE_ALIASES = ("namespace",)`) is a plain option in TS
  if (typeof call["namespace"] === "string") options.hashNamespace = call["namespace"];
  if (call["test_node"] === true) options.testNode = true;
  options.projectUid = v.project_uid ?? null;
  const hashedArgs = EXPLICIT_HASHED_ARGS[v.id];
  const construct = (): Built => {
    if (v.id === "dependency_internal_namespaced") {
      // `DownstreamInternalNode.__init__` builds `UpstreamNode(PlainConfig(a=config.a + 100))`
      class DownstreamInternalNode extends Node {
        // identity statics are per class: a subclass declares its own
        static override pythonIdentity = vn("DownstreamInternalNode");
        internal: DataNode<z.ZodObject>;
        constructor(cfg: AnyConfig, opts: DataNodeOptions) {
          super(cfg, opts);
          this.internal = new UpstreamNode({ a: (cfg["a"] as number) + 100 });
        }
      }
      const node = new DownstreamInternalNode(config, options);
      return { node, internal: node.internal };
    }
    return { node: new Node(config, options, hashedArgs) };
  };
  const ctx = v.context_namespace;
  return typeof ctx === "string" ? hashNamespace(ctx, construct) : construct();
}

const nodeVectors = vectors.filter((v) => v.kind === "node");
const builtNodes = new Map<string, Built>();
const nodeOf = (id: string): Built => {
  let built = builtNodes.get(id);
  if (built === undefined) {
    built = build(vectors.find((v) => v.id === id) as Vector);
    builtNodes.set(id, built);
  }
  return built;
};

/** Node vectors that TS cannot reproduce, with the reason. None: see EXPLICIT_HASHED_ARGS. */
const EXCLUDED_NODE_VECTORS: Record<string, string> = {};

describe("hash vectors: node", () => {
  it("covers every node vector except the documented exclusions", () => {
    const covered = nodeVectors.filter((v) => !(v.id in EXCLUDED_NODE_VECTORS)).map((v) => v.id);
    expect(covered.length + Object.keys(EXCLUDED_NODE_VECTORS).length).toBe(nodeVectors.length);
    expect(covered.length).toBeGreaterThanOrEqual(32);
  });

  for (const v of nodeVectors.filter((x) => !(x.id in EXCLUDED_NODE_VECTORS))) {
    it(`${v.id}: ${v.kind}`, () => {
      const { node, internal } = nodeOf(v.id);
      const explained = explainHash(node);
      expect(explained.updateCanonicalJson).toBe(v.update_canonical_json);
      expect(explained.storageCanonicalJson).toBe(v.storage_canonical_json);
      expect(node.updateHash).toBe(v.update_hash);
      expect(node.storageHash).toBe(v.storage_hash);
      expect(node.hashNamespace).toBe(v.namespace);
      const typed = typedVectors.get(v.id) as PyDict;
      expect(node.buildConfigurationJson).toBe(
        pythonJsonDumps(typed["build_configuration"] as PyValue),
      );
      if (v.internal_dependency !== undefined) {
        expect(internal?.hashNamespace).toBe(v.internal_dependency.namespace);
        expect(internal?.updateHash).toBe(v.internal_dependency.update_hash);
        expect(internal?.storageHash).toBe(v.internal_dependency.storage_hash);
      }
    });
  }
});

describe("hash vectors: create_config", () => {
  for (const v of vectors.filter((x) => x.kind === "create_config")) {
    it(v.id, () => {
      const typed = typedVectors.get(v.id) as PyDict;
      const result = hashConfiguration(
        v.ts_class_name as string,
        typed["build_configuration"] as PyDict,
        { projectUid: v.project_uid ?? null },
      );
      expect(result.updateCanonicalJson).toBe(v.update_canonical_json);
      expect(result.storageCanonicalJson).toBe(v.storage_canonical_json);
      expect(result.updateHash).toBe(v.update_hash);
      expect(result.storageHash).toBe(v.storage_hash);
    });
  }

  it("accepts plain JSON (integral numbers are ints)", () => {
    const v = vectors.find((x) => x.id === "raw_pydantic_lookalike_dict") as Vector & {
      build_configuration: PyDict;
    };
    expect(hashConfiguration("RawNode", v.build_configuration).updateHash).toBe(v.update_hash);
  });
});

describe("hash vectors: relations", () => {
  for (const r of plain.relations) {
    it(`${r.a} ${r.equal ? "==" : "!="} ${r.b} (${r.field})`, () => {
      const pick = (id: string) => {
        const { node } = nodeOf(id);
        return r.field === "update_hash" ? node.updateHash : node.storageHash;
      };
      expect(pick(r.a) === pick(r.b)).toBe(r.equal);
      const va = vectors.find((v) => v.id === r.a) as Vector;
      const vb = vectors.find((v) => v.id === r.b) as Vector;
      expect(va[r.field] === vb[r.field]).toBe(r.equal);
    });
  }
});

// ---- error vectors ----------------------------------------------------------------------------

const PlainConfig = pythonIdentity(
  DataNodeConfiguration.extend({ a: z.int().default(1) }),
  vn("PlainConfig"),
);

function nodeWith(schema: z.ZodObject, qualname = "ErrorNode") {
  return class extends DataNode<z.ZodObject> {
    static override configSchema = schema;
    static override pythonIdentity = vn(qualname);
  };
}

const ERROR_CASES: Record<
  string,
  { run: () => unknown; type: typeof ConfigError | typeof HashingError }
> = {
  error_legacy_ignore_from_storage_hash: {
    type: ConfigError,
    run: () => {
      const Cfg = pythonIdentity(
        DataNodeConfiguration.extend({
          shard_id: z.string().meta({ ignore_from_storage_hash: true }),
        }),
        vn("LegacyIgnoreConfig"),
      );
      return new (nodeWith(Cfg))({ shard_id: "A" });
    },
  },
  error_legacy_args_ignore_class_attribute: {
    type: ConfigError,
    run: () => {
      class LegacyDataNode extends DataNode<typeof PlainConfig> {
        static override configSchema = PlainConfig;
        static _ARGS_IGNORE_IN_STORAGE_HASH = ["a"];
      }
      return new LegacyDataNode({ a: 1 });
    },
  },
  error_update_only_and_hash_excluded: {
    type: ConfigError,
    run: () => {
      const Cfg = pythonIdentity(
        DataNodeConfiguration.extend({ shard_id: updateOnly(hashExcluded(z.string())) }),
        vn("ConflictingMarkersConfig"),
      );
      return new (nodeWith(Cfg))({ shard_id: "A" });
    },
  },
  error_non_bool_marker: {
    type: ConfigError,
    run: () => {
      const Cfg = pythonIdentity(
        DataNodeConfiguration.extend({ shard_id: z.string().meta({ update_only: "yes" }) }),
        vn("NonBoolMarkerConfig"),
      );
      return new (nodeWith(Cfg))({ shard_id: "A" });
    },
  },
  error_init_meta_kwarg: {
    type: ConfigError,
    run: () => new (nodeWith(PlainConfig))({ a: 1 }, { init_meta: {} } as DataNodeOptions),
  },
  error_unserializable_date: {
    type: HashingError,
    run: () => {
      // a date-only value (Temporal.PlainDate-like): Python's json.dumps cannot write a `date`
      const plainDate = {
        [Symbol.toStringTag]: "Temporal.PlainDate",
        toString: () => "2024-01-01",
      };
      const Cfg = DataNodeConfiguration.extend({ day: z.custom<object>(() => true) });
      return new (nodeWith(Cfg))({ day: plainDate });
    },
  },
};

describe("hash vectors: errors", () => {
  const errorVectors = vectors.filter((v) => v.kind === "error");

  it("has a TS case for every error vector", () => {
    expect(errorVectors.map((v) => v.id).sort()).toEqual(Object.keys(ERROR_CASES).sort());
  });

  for (const v of errorVectors) {
    it(v.id, () => {
      const c = ERROR_CASES[v.id];
      if (c === undefined) throw new Error(`no case for ${v.id}`);
      let thrown: unknown;
      try {
        c.run();
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(c.type);
      expect((thrown as Error).message).toBe(v.error_message);
    });
  }
});

import type * as z from "zod";
import { TS_MODULE } from "../config/model-identity.js";
import { ConfigError } from "../errors.js";
import type { DataNodeLike } from "../hashing/brands.js";
import { type ConfigurationHash, hashConfiguration } from "../hashing/configuration-hash.js";
import { type JsonValue, type PyDict, toPlainJson } from "../hashing/py-value.js";
import { pythonJsonDumps } from "../hashing/python-json.js";
import { serializeArguments } from "../hashing/serialize-argument.js";

/** Python `module` + `__qualname__` of a node class (`time_series_class_import_path`). */
export interface PythonClassIdentity {
  readonly module: string;
  readonly qualname: string;
}

/** The static side of a DataNode class that identity reads. */
export interface NodeClassStatics {
  readonly name: string;
  readonly configSchema: z.ZodObject;
  readonly configKey?: string;
  readonly nodeName?: string;
  readonly pythonIdentity?: PythonClassIdentity;
}

/** How a node class is named in its hashes. */
export interface ResolvedClassIdentity {
  /** `time_series_class_import_path`. */
  readonly importPath: PythonClassIdentity;
  /** Name the hash prefix is made from. */
  readonly prefixName: string;
  /** Hashed key of the config (`config` unless `static configKey`). */
  readonly configKey: string;
}

/**
 * Resolves a node class's hash identity. `static pythonIdentity` and `static nodeName` are read
 * only when declared on the class itself (a subclass is a different node):
 * - with `pythonIdentity`: that import path; prefix = last segment of the qualname (Python's
 *   `__name__`);
 * - otherwise the TS-native identity `{module: "ts", qualname: nodeName ?? class name}`; prefix =
 *   the same name.
 */
export function resolveClassIdentity(ctor: NodeClassStatics): ResolvedClassIdentity {
  const configKey = ctor.configKey ?? "config";
  const py = Object.hasOwn(ctor, "pythonIdentity") ? ctor.pythonIdentity : undefined;
  if (py !== undefined) {
    const prefixName = py.qualname.split(".").at(-1) ?? py.qualname;
    return { importPath: { module: py.module, qualname: py.qualname }, prefixName, configKey };
  }
  const declared = Object.hasOwn(ctor, "nodeName") ? ctor.nodeName : undefined;
  const name = declared ?? ctor.name;
  if (!name) {
    throw new ConfigError(
      "node_identity_missing",
      "an anonymous DataNode class needs `static nodeName` (its name is part of both hashes)",
    );
  }
  return { importPath: { module: TS_MODULE, qualname: name }, prefixName: name, configKey };
}

/** Everything the identity of one node instance is computed from. */
export interface NodeIdentityInput {
  readonly ctor: NodeClassStatics;
  /** The parsed config. */
  readonly config: unknown;
  readonly hashedArgs: Readonly<Record<string, unknown>> | undefined;
  readonly namespace: string;
  readonly projectUid: string | undefined;
}

/** The identity of one node: hashes, pre-images and the build configuration. */
export interface NodeIdentity extends ConfigurationHash {
  /** The serialized, unstripped configuration `S` (typed value model). */
  readonly buildConfigurationValue: PyDict;
  /** `S` as plain JSON (float-ness dropped). */
  readonly buildConfiguration: { [key: string]: JsonValue };
  /** `S` as Python's `json.dumps` writes it (key order kept, floats as `1.0`). */
  readonly buildConfigurationJson: string;
  /** Nodes embedded in the hashes (their update hashes are hash material). */
  readonly embeddedNodes: readonly DataNodeLike[];
  readonly projectUid: string | undefined;
}

const RESERVED_ARGS = new Set(["time_series_class_import_path"]);

/**
 * Computes a node's identity (datanode-core.md §3.2–§3.8): the hashed arguments are the config
 * under `configKey`, the extra `hashedArgs`, `hash_namespace` when non-empty (it overrides a
 * `hash_namespace` extra argument, as in the reference) and `time_series_class_import_path`.
 */
export function computeNodeIdentity(input: NodeIdentityInput): NodeIdentity {
  const identity = resolveClassIdentity(input.ctor);
  const args: Record<string, { value: unknown; schema?: z.ZodType }> = {};
  for (const [key, value] of Object.entries(input.hashedArgs ?? {})) {
    if (key === identity.configKey || RESERVED_ARGS.has(key)) {
      throw new ConfigError(
        "config_invalid",
        `hashed argument '${key}' of ${input.ctor.name} collides with a key the node hashes itself`,
        { issues: [{ path: key, message: "reserved hashed argument" }] },
      );
    }
    args[key] = { value };
  }
  args[identity.configKey] = { value: input.config, schema: input.ctor.configSchema };
  if (input.namespace !== "") args["hash_namespace"] = { value: input.namespace };
  args["time_series_class_import_path"] = { value: { ...identity.importPath } };
  const embeddedNodes: DataNodeLike[] = [];
  const build = serializeArguments(args, embeddedNodes);
  const hash = hashConfiguration(identity.prefixName, build, { projectUid: input.projectUid });
  return {
    ...hash,
    buildConfigurationValue: build,
    buildConfiguration: toPlainJson(build) as { [key: string]: JsonValue },
    buildConfigurationJson: pythonJsonDumps(build),
    embeddedNodes,
    projectUid: input.projectUid,
  };
}

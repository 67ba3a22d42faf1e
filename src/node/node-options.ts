import { ConfigError } from "../errors.js";

/**
 * Construction options of a DataNode.
 *
 * @example
 * ```ts
 * new PricesNode(config, { hashNamespace: "experiment_7" });
 * new PricesNode(config, { testNode: true }); // namespace "test"
 * ```
 */
export interface DataNodeOptions {
  /**
   * Namespace of this node's hashes (trimmed). Wins over `testNode` and over any ambient
   * `hashNamespace(...)` scope; `""` switches an ambient one off.
   */
  readonly hashNamespace?: string;
  /** Shorthand for `hashNamespace: "test"` (ignored when `hashNamespace` is given). */
  readonly testNode?: boolean;
  /**
   * Project uid for the update hash (`null`: none). Default: {@link resolveProjectUid}.
   */
  readonly projectUid?: string | null;
}

const KNOWN_OPTIONS = new Set(["hashNamespace", "testNode", "projectUid"]);

const INIT_META_MESSAGE =
  "init_meta has been removed from DataNode construction; remove this keyword argument.";

/** Message of the reference for a class defining `_ARGS_IGNORE_IN_STORAGE_HASH`. */
export function legacyArgsIgnoreMessage(className: string): string {
  return `${className} uses removed class attribute _ARGS_IGNORE_IN_STORAGE_HASH; move those fields into DataNodeConfiguration and mark them with json_schema_extra={"update_only": True}.`;
}

/**
 * Validates the options and hashed arguments of a construction and returns the namespace fixed by
 * them (`hashNamespace`, else `"test"` for `testNode`), or undefined when it is to be inherited.
 *
 * @throws ConfigError for the removed `init_meta` option and for unknown option keys.
 */
export function checkNodeOptions(
  options: DataNodeOptions,
  hashedArgs: Readonly<Record<string, unknown>> | undefined,
): string | undefined {
  if (typeof options !== "object" || options === null) {
    throw new ConfigError("node_options_invalid", "DataNode options must be an object");
  }
  for (const bag of [options, hashedArgs ?? {}]) {
    if (Object.hasOwn(bag, "init_meta") || Object.hasOwn(bag, "initMeta")) {
      throw new ConfigError("init_meta_removed", INIT_META_MESSAGE, {
        issues: [{ path: "init_meta", message: "removed" }],
      });
    }
  }
  const unknown = Object.keys(options).filter((k) => !KNOWN_OPTIONS.has(k));
  if (unknown.length > 0) {
    throw new ConfigError(
      "node_options_invalid",
      `Unknown DataNode option(s): ${unknown.join(", ")} (known: ${[...KNOWN_OPTIONS].join(", ")})`,
      { issues: unknown.map((path) => ({ path, message: "unknown option" })) },
    );
  }
  const explicit = options.hashNamespace as string | null | undefined;
  if (explicit !== undefined && explicit !== null) return String(explicit).trim();
  if (options.testNode) return "test";
  return undefined;
}

/** Rejects a class chain where some class defines the removed `_ARGS_IGNORE_IN_STORAGE_HASH`. */
export function checkLegacyClassAttributes(target: unknown, base: unknown): void {
  let c: unknown = target;
  while (typeof c === "function" && c !== base) {
    if (Object.hasOwn(c, "_ARGS_IGNORE_IN_STORAGE_HASH")) {
      throw new ConfigError("legacy_class_attribute", legacyArgsIgnoreMessage(c.name));
    }
    c = Object.getPrototypeOf(c);
  }
}

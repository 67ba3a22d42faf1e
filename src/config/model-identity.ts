import * as z from "zod";
import { schemaLayers } from "./schema-layers.js";

/**
 * Where a config model "lives": the reference hashes the Python `module` and `__qualname__` of
 * every pydantic model (`pydantic_model_import_path`). For a TS model these are declared strings.
 */
export interface ModelIdentity {
  readonly module: string;
  readonly qualname: string;
}

/** Registry entry: the identity, plus an optional dedicated serializer of the model's fields. */
export interface ModelIdentityMeta extends ModelIdentity {
  /**
   * Replaces the generic field-by-field serialization (the reference does so for
   * `SourceTableForeignKey`). Receives the parsed value, returns the `serialized_model` dict.
   */
  readonly serializeModel?: (value: unknown) => Record<string, unknown>;
}

/** The typed zod registry holding model identities. */
export const modelIdentities = z.registry<ModelIdentityMeta>();

/** Module of the SDK models in the reference: `mainsequence.tdag.data_nodes.models`. */
export const SDK_MODELS_MODULE = "mainsequence.tdag.data_nodes.models";

/** Module used by {@link tsIdentity} when none is given. */
export const TS_MODULE = "ts";

/**
 * Identity of an object schema registered nowhere: every unregistered model hashes with
 * `{"module": "ts", "qualname": "AnonymousModel"}` (its fields are hashed anyway; only registered
 * identities can tell two models with the same fields apart).
 */
export const ANONYMOUS_MODEL_IDENTITY: ModelIdentity = Object.freeze({
  module: TS_MODULE,
  qualname: "AnonymousModel",
});

/**
 * Declares the Python identity of a config (or nested) model schema so that it hashes exactly like
 * its pydantic twin. Registers the schema in place and returns it; identities are inherited by
 * `.describe()`/`.meta()` clones but not by `.extend()` (an extended schema is a new model).
 *
 * @example
 * ```ts
 * const PlainConfig = pythonIdentity(DataNodeConfiguration.extend({ a: z.int().default(1) }), {
 *   module: "vector_nodes",
 *   qualname: "PlainConfig",
 * });
 * ```
 */
export function pythonIdentity<T extends z.ZodType>(schema: T, identity: ModelIdentity): T {
  return registerModel(schema, { module: identity.module, qualname: identity.qualname });
}

/**
 * Registers a model schema in place with its identity and, optionally, a dedicated serializer.
 * Most code wants {@link pythonIdentity} or {@link tsIdentity}.
 */
export function registerModel<T extends z.ZodType>(schema: T, meta: ModelIdentityMeta): T {
  if (modelIdentities.has(schema)) modelIdentities.remove(schema);
  modelIdentities.add(schema, meta);
  return schema;
}

/**
 * Gives a model schema a stable TS-native identity (`{module: "ts", qualname}` unless a module is
 * given), so that two models with the same fields hash differently and error messages name it.
 *
 * @example
 * ```ts
 * const VolSettings = tsIdentity(z.strictObject({ center: z.number() }), "VolSettings");
 * ```
 */
export function tsIdentity<T extends z.ZodType>(
  schema: T,
  qualname: string,
  module = TS_MODULE,
): T {
  return pythonIdentity(schema, { module, qualname });
}

/** The registered identity (with serializer) of a model schema, looked up through its wrappers. */
export function getModelIdentity(schema: z.ZodType): ModelIdentityMeta | undefined {
  for (const layer of schemaLayers(schema)) {
    const meta = modelIdentities.get(layer);
    if (meta !== undefined) return meta;
  }
  return undefined;
}

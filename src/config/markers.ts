import * as z from "zod";
import { ConfigError } from "../errors.js";
import { schemaLayers } from "./schema-layers.js";

/**
 * Hash markers of a config field (the reference's `json_schema_extra` keys):
 * - `update_only`: hashed into `updateHash`, left out of `storageHash` (updater scope: shards, …);
 * - `runtime_only` / `hash_excluded` (same effect): left out of both hashes (descriptive data).
 */
export interface HashMarkers {
  readonly update_only?: boolean;
  readonly runtime_only?: boolean;
  readonly hash_excluded?: boolean;
}

/**
 * The typed zod registry holding field markers. Prefer {@link updateOnly}, {@link runtimeOnly} and
 * {@link hashExcluded}; markers given through `.meta({ update_only: true })` are read too.
 */
export const hashMarkers = z.registry<HashMarkers>();

function mark<T extends z.ZodType>(schema: T, marker: keyof HashMarkers): T {
  // A clone, so marking a shared schema (`const Ticker = z.string()`) does not mark every use.
  const marked = schema.clone();
  hashMarkers.add(marked, { ...(hashMarkers.get(schema) ?? {}), [marker]: true });
  return marked;
}

/**
 * Marks a config field as update-only: it changes `updateHash` (one updater job) but not
 * `storageHash` (the table), e.g. a shard id or an asset universe.
 *
 * @example
 * ```ts
 * const Config = DataNodeConfiguration.extend({ shard_id: updateOnly(z.string()) });
 * ```
 */
export function updateOnly<T extends z.ZodType>(schema: T): T {
  return mark(schema, "update_only");
}

/**
 * Marks a config field as runtime-only: it is left out of both hashes (descriptive or operational
 * data that must not create a new table or updater).
 *
 * @example
 * ```ts
 * const Config = DataNodeConfiguration.extend({ note: runtimeOnly(z.string().default("")) });
 * ```
 */
export function runtimeOnly<T extends z.ZodType>(schema: T): T {
  return mark(schema, "runtime_only");
}

/**
 * Marks a config field as hash-excluded: same effect as {@link runtimeOnly} (the reference's newer
 * spelling).
 *
 * @example
 * ```ts
 * const Config = DataNodeConfiguration.extend({ label: hashExcluded(z.string()) });
 * ```
 */
export function hashExcluded<T extends z.ZodType>(schema: T): T {
  return mark(schema, "hash_excluded");
}

/** The markers of one field after validation: what the pydantic wrapper lists record. */
export interface FieldMarkers {
  readonly updateOnly: boolean;
  /** `runtime_only` or `hash_excluded`. */
  readonly runtimeOnly: boolean;
}

const MARKER_KEYS = ["update_only", "runtime_only", "hash_excluded"] as const;
const LEGACY_KEY = "ignore_from_storage_hash";

/**
 * Reads and validates the markers of field `field` of model `model` from every layer of its
 * schema (registry and `.meta()`), with the reference's error messages.
 *
 * @throws ConfigError legacy `ignore_from_storage_hash`, a non-boolean marker, or update-only
 * combined with runtime-only/hash-excluded.
 */
export function readFieldMarkers(schema: z.ZodType, model: string, field: string): FieldMarkers {
  const found: Record<(typeof MARKER_KEYS)[number], boolean> = {
    update_only: false,
    runtime_only: false,
    hash_excluded: false,
  };
  const where = `${model}.${field}`;
  for (const layer of schemaLayers(schema)) {
    for (const meta of [hashMarkers.get(layer), z.globalRegistry.get(layer)]) {
      if (meta === undefined) continue;
      const record = meta as Record<string, unknown>;
      if (Object.hasOwn(record, LEGACY_KEY)) {
        throw markerError(
          `${where} uses removed metadata '${LEGACY_KEY}'; use json_schema_extra={"update_only": True} instead.`,
          where,
        );
      }
      for (const key of MARKER_KEYS) {
        if (!Object.hasOwn(record, key)) continue;
        const value = record[key];
        if (typeof value !== "boolean") {
          throw markerError(`${where} metadata '${key}' must be bool`, where);
        }
        found[key] ||= value;
      }
    }
  }
  const runtime = found.runtime_only || found.hash_excluded;
  if (found.update_only && runtime) {
    throw markerError(`${where} cannot be both update_only and hash-excluded metadata.`, where);
  }
  return { updateOnly: found.update_only, runtimeOnly: runtime };
}

function markerError(message: string, path: string): ConfigError {
  return new ConfigError("config_markers_invalid", message, { issues: [{ path, message }] });
}

import * as z from "zod";
import { zDateTime } from "./date-time.js";
import { hashExcluded, runtimeOnly, updateOnly } from "./markers.js";
import { pythonIdentity, registerModel, SDK_MODELS_MODULE } from "./model-identity.js";

const sdk = (qualname: string) => ({ module: SDK_MODELS_MODULE, qualname });

/**
 * Publication frequencies of a node (the reference's `DataFrequency` enum values). `one_min` is an
 * alias of `one_m`, as in the reference.
 *
 * @example
 * ```ts
 * DataFrequency.one_d; // "1d"
 * ```
 */
export const DataFrequency = Object.freeze({
  one_m: "1m",
  one_min: "1m",
  five_m: "5m",
  one_d: "1d",
  one_w: "1w",
  one_year: "1y",
  one_month: "1mo",
  one_quarter: "1q",
} as const);

/** Every publication frequency id, shortest first: the one list the config, stores and server use. */
export const DATA_FREQUENCY_VALUES = ["1m", "5m", "1d", "1w", "1mo", "1q", "1y"] as const;

/** One value of {@link DataFrequency}. */
export type DataFrequencyValue = (typeof DATA_FREQUENCY_VALUES)[number];

/** Schema of a {@link DataFrequency} value. */
export const DataFrequencySchema = z.enum(DATA_FREQUENCY_VALUES);

/**
 * A declared column of the node's table. Only `column_name` (at most 63 characters, the
 * PostgreSQL identifier limit) and `dtype` reach the hashes; `label` and `description` are
 * hash-excluded. List order is kept.
 *
 * @example
 * ```ts
 * RecordDefinition.parse({ column_name: "close", dtype: "float64", label: "Close" });
 * ```
 */
export const RecordDefinition = pythonIdentity(
  z.strictObject({
    column_name: z.string().max(63),
    dtype: z.string(),
    label: hashExcluded(z.string()).nullable().default(null),
    description: hashExcluded(z.string()).nullable().default(null),
  }),
  sdk("RecordDefinition"),
);

/** Parsed {@link RecordDefinition}. */
export type RecordDefinition = z.output<typeof RecordDefinition>;

const columnName = (column: string | { column_name: string }): string =>
  typeof column === "string" ? column : column.column_name;

/**
 * A foreign key from this node's table to another table. Its hash material is
 * `{target, source_columns: [names], target_columns: [names], on_delete: lower-cased}`; the target
 * is given as the uid of the target table.
 *
 * @example
 * ```ts
 * SourceTableForeignKey.parse({ target: "asset-table-uid", source_columns: ["asset_uid"], target_columns: ["uid"] });
 * ```
 */
export const SourceTableForeignKey = z.strictObject({
  target: z.string().min(1),
  source_columns: z.array(z.union([RecordDefinition, z.string().min(1)])).min(1),
  target_columns: z.array(z.string().min(1)).min(1),
  on_delete: z.string().default("restrict"),
});
// The reference serializes foreign keys with a dedicated serializer (column objects → names).
registerModel(SourceTableForeignKey, {
  ...sdk("SourceTableForeignKey"),
  serializeModel: (value) => {
    const fk = value as z.output<typeof SourceTableForeignKey>;
    return {
      target: fk.target,
      source_columns: fk.source_columns.map(columnName),
      target_columns: [...fk.target_columns],
      on_delete: fk.on_delete.toLowerCase(),
    };
  },
});

/** Parsed {@link SourceTableForeignKey}. */
export type SourceTableForeignKey = z.output<typeof SourceTableForeignKey>;

/**
 * Publication metadata of a node: the published `identifier`, a `description` and the
 * `data_frequency_id`. All hash-excluded, so a table can be renamed without new hashes.
 *
 * @example
 * ```ts
 * DataNodeMetaData.parse({ identifier: "daily_prices", data_frequency_id: "1d" });
 * ```
 */
export const DataNodeMetaData = pythonIdentity(
  z.strictObject({
    identifier: hashExcluded(z.string()),
    description: hashExcluded(z.string()).nullable().default(null),
    data_frequency_id: hashExcluded(DataFrequencySchema).nullable().default(null),
  }),
  sdk("DataNodeMetaData"),
);

/** Parsed {@link DataNodeMetaData}. */
export type DataNodeMetaData = z.output<typeof DataNodeMetaData>;

/**
 * The base config of every node (the reference's `DataNodeConfiguration`): a strict object, so
 * misspelled keys are rejected. Extend it with your own fields; every field is hashed into both
 * hashes unless marked with {@link updateOnly}, {@link runtimeOnly} or {@link hashExcluded}.
 *
 * | field | default | hashed in update / storage |
 * | --- | --- | --- |
 * | `open_to_public` | false | no / no (runtime-only) |
 * | `offset_start` | null | yes / no (update-only) |
 * | `records` | null | yes / yes |
 * | `foreign_keys` | null | yes / yes |
 * | `node_metadata` | null | no / no (hash-excluded) |
 *
 * `z.number()` fields hash as Python floats (`1.0`), `z.int()` / `z.number().int()` as ints.
 *
 * @example
 * ```ts
 * const PricesConfig = DataNodeConfiguration.extend({
 *   ticker: z.string(),
 *   window: z.int().default(20),
 *   shard_id: updateOnly(z.string().default("A")),
 * });
 * ```
 */
export const DataNodeConfiguration = pythonIdentity(
  z.strictObject({
    open_to_public: runtimeOnly(z.boolean()).default(false),
    offset_start: updateOnly(zDateTime()).nullable().default(null),
    records: z.array(RecordDefinition).nullable().default(null),
    foreign_keys: z.array(SourceTableForeignKey).nullable().default(null),
    node_metadata: hashExcluded(DataNodeMetaData).nullable().default(null),
  }),
  sdk("DataNodeConfiguration"),
);

/** Parsed {@link DataNodeConfiguration}. */
export type DataNodeConfiguration = z.output<typeof DataNodeConfiguration>;

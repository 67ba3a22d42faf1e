import * as z from "zod";
import { DateTimeValue } from "../config/date-time.js";
import { readFieldMarkers } from "../config/markers.js";
import { ANONYMOUS_MODEL_IDENTITY, getModelIdentity } from "../config/model-identity.js";
import { outputSchema } from "../config/schema-layers.js";
import { HashingError } from "../errors.js";
import { type DataNodeLike, isApiDataNodeLike, isDataNodeLike } from "./brands.js";
import {
  dictFromEntries,
  isPyDict,
  type PyDict,
  PyFloat,
  PyIntKeyDict,
  type PyValue,
} from "./py-value.js";
import { compareCodePoints } from "./python-json.js";

/** Where a value sits in the configuration, and what serializing it met on the way. */
export interface SerializeContext {
  /** Dotted path of the value (`config.vol.center`), used in error messages. */
  readonly path: string;
  /** Every DataNode embedded in the serialized value (their update hashes are hash material). */
  readonly dependencies: DataNodeLike[];
}

/**
 * The reference's `serialize_argument` (datanode-core.md §3.4): turns a parsed config value into
 * the typed value model, by runtime type first (nodes, datetimes) and then guided by its zod
 * schema (models → pydantic wrappers with marker lists, `z.number()` → float, `z.int()` → int,
 * tuples, int-keyed records). Without a schema, integral numbers are ints and others floats.
 *
 * @throws HashingError for values Python could not serialize either (date-only values, sets,
 * bytes, class instances, APIDataNodes).
 * @throws ConfigError for invalid field markers.
 *
 * @example
 * ```ts
 * serializeArgument(1, z.number(), { path: "x", dependencies: [] }); // PyFloat(1) → "1.0"
 * ```
 */
export function serializeArgument(
  value: unknown,
  schema: z.ZodType | undefined,
  ctx: SerializeContext,
): PyValue {
  if (value === null || value === undefined) return null;
  const special = serializeSpecial(value, ctx);
  if (special !== undefined) return special;
  const core = schema === undefined ? undefined : outputSchema(schema);
  if (core !== undefined && schema !== undefined) {
    const guided = serializeBySchema(value, schema, core, ctx);
    if (guided !== undefined) return guided;
  }
  return serializeByRuntimeType(value, ctx);
}

function child(ctx: SerializeContext, key: string | number): SerializeContext {
  const path =
    typeof key === "number" ? `${ctx.path}[${key}]` : ctx.path ? `${ctx.path}.${key}` : key;
  return { path, dependencies: ctx.dependencies };
}

/** Python's `TypeError` text from `json.dumps`, verbatim (the path is not part of it). */
function unserializable(name: string, _ctx: SerializeContext): HashingError {
  return new HashingError("hash_unserializable", `Object of type ${name} is not JSON serializable`);
}

const TEMPORAL_UNSERIALIZABLE: Readonly<Record<string, string>> = {
  "Temporal.PlainDate": "date",
  "Temporal.PlainTime": "time",
  "Temporal.Duration": "timedelta",
  "Temporal.PlainYearMonth": "date",
  "Temporal.PlainMonthDay": "date",
};

/** Values whose serialization does not depend on the schema; undefined when not special. */
function serializeSpecial(value: unknown, ctx: SerializeContext): PyValue | undefined {
  if (typeof value === "bigint" || value instanceof PyFloat || value instanceof PyIntKeyDict) {
    return value;
  }
  if (typeof value !== "object" || value === null) return undefined;
  if (isDataNodeLike(value)) {
    ctx.dependencies.push(value);
    return { is_time_serie_instance: true, update_hash: value.updateHash };
  }
  if (isApiDataNodeLike(value)) throw unserializable(className(value), ctx);
  if (value instanceof DateTimeValue) return value.isoformat();
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime()))
      throw new HashingError("hash_unserializable", `Invalid Date at ${ctx.path}`);
    return DateTimeValue.from(value).isoformat();
  }
  const tag = (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
  if (typeof tag === "string" && tag.startsWith("Temporal.")) {
    const pyType = TEMPORAL_UNSERIALIZABLE[tag];
    if (pyType !== undefined) throw unserializable(pyType, ctx);
    // PlainDateTime (naive), Instant (Z) and ZonedDateTime (offset; the [zone] annotation dropped)
    const text = String(value).replace(/\[.*\]$/, "");
    return DateTimeValue.from(text).isoformat();
  }
  return undefined;
}

function serializeBySchema(
  value: unknown,
  schema: z.ZodType,
  core: z.ZodType,
  ctx: SerializeContext,
): PyValue | undefined {
  if (core instanceof z.ZodObject && isPlainObject(value)) {
    return serializeModel(value, schema, core, ctx);
  }
  if (core instanceof z.ZodNumber && typeof value === "number") {
    return core.isInt && Number.isInteger(value) ? value : new PyFloat(value);
  }
  if (core instanceof z.ZodArray && Array.isArray(value)) {
    const element = core.element as z.ZodType;
    return value.map((item: unknown, i) => serializeArgument(item, element, child(ctx, i)));
  }
  if (core instanceof z.ZodTuple && Array.isArray(value)) {
    const items = core._zod.def.items as readonly z.ZodType[];
    const rest = (core._zod.def.rest ?? undefined) as z.ZodType | undefined;
    const serialized = value.map((item: unknown, i) =>
      serializeArgument(item, items[i] ?? rest, child(ctx, i)),
    );
    return { __type__: "tuple", items: serialized };
  }
  if (core instanceof z.ZodRecord && isPlainObject(value)) {
    const keySchema = outputSchema(core.keyType as z.ZodType);
    const valueSchema = core.valueType as z.ZodType;
    const entries = Object.entries(value);
    if (keySchema instanceof z.ZodNumber && keySchema.isInt) {
      return new PyIntKeyDict(
        entries.map(([k, v]) => [BigInt(k), serializeArgument(v, valueSchema, child(ctx, k))]),
      );
    }
    return dictFromEntries(
      entries.map(([k, v]) => [k, serializeArgument(v, valueSchema, child(ctx, k))]),
    );
  }
  if (core instanceof z.ZodMap && value instanceof Map) {
    return serializeMap(value, core.valueType as z.ZodType, ctx);
  }
  if (core instanceof z.ZodUnion) {
    const option = pickUnionOption(core.options as readonly z.ZodType[], value);
    return option === undefined ? undefined : serializeArgument(value, option, ctx);
  }
  return undefined;
}

/** The union member a parsed value belongs to (ints prefer an int member, as pydantic's smart mode). */
function pickUnionOption(options: readonly z.ZodType[], value: unknown): z.ZodType | undefined {
  if (typeof value === "number") {
    const numbers = options.filter((o) => outputSchema(o) instanceof z.ZodNumber);
    const ints = numbers.filter((o) => (outputSchema(o) as z.ZodNumber).isInt);
    if (Number.isInteger(value) && ints.length > 0) return ints[0];
    const floats = numbers.filter((o) => !(outputSchema(o) as z.ZodNumber).isInt);
    if (floats.length > 0) return floats[0];
  }
  return options.find((o) => o.safeParse(value).success);
}

function serializeModel(
  value: Record<string, unknown>,
  schema: z.ZodType,
  core: z.ZodObject,
  ctx: SerializeContext,
): PyValue {
  const identity = getModelIdentity(schema) ?? getModelIdentity(core);
  const importPath = {
    module: (identity ?? ANONYMOUS_MODEL_IDENTITY).module,
    qualname: (identity ?? ANONYMOUS_MODEL_IDENTITY).qualname,
  };
  if (identity?.serializeModel !== undefined) {
    const fields = identity.serializeModel(value);
    return {
      pydantic_model_import_path: importPath,
      serialized_model: serializeArgument(fields, undefined, ctx),
      update_only: [],
      runtime_only: [],
    };
  }
  const modelName = identity?.qualname ?? (ctx.path || "config");
  const serialized: [string, PyValue][] = [];
  const updateOnly: string[] = [];
  const runtimeOnly: string[] = [];
  const shape = core.shape as Record<string, z.ZodType>;
  for (const [field, fieldSchema] of Object.entries(shape)) {
    const markers = readFieldMarkers(fieldSchema, modelName, field);
    if (markers.updateOnly) updateOnly.push(field);
    if (markers.runtimeOnly) runtimeOnly.push(field);
    const fieldValue = Object.hasOwn(value, field) ? value[field] : undefined;
    serialized.push([field, serializeArgument(fieldValue, fieldSchema, child(ctx, field))]);
  }
  return {
    pydantic_model_import_path: importPath,
    serialized_model: dictFromEntries(serialized),
    update_only: updateOnly.sort(compareCodePoints),
    runtime_only: runtimeOnly.sort(compareCodePoints),
  };
}

function serializeMap(
  map: ReadonlyMap<unknown, unknown>,
  valueSchema: z.ZodType | undefined,
  ctx: SerializeContext,
): PyValue {
  const keys = [...map.keys()];
  const intKey = (k: unknown) =>
    typeof k === "bigint" || (typeof k === "number" && Number.isInteger(k));
  if (keys.every(intKey)) {
    return new PyIntKeyDict(
      [...map].map(([k, v]) => [
        BigInt(k as number | bigint),
        serializeArgument(v, valueSchema, child(ctx, String(k))),
      ]),
    );
  }
  if (keys.every((k) => typeof k === "string")) {
    return dictFromEntries(
      [...map].map(([k, v]) => [
        k as string,
        serializeArgument(v, valueSchema, child(ctx, k as string)),
      ]),
    );
  }
  throw new HashingError(
    "hash_unserializable",
    `Map keys at ${ctx.path || "<root>"} mix types: Python cannot sort them ('<' not supported between instances of 'str' and 'int')`,
  );
}

function serializeByRuntimeType(value: unknown, ctx: SerializeContext): PyValue {
  switch (typeof value) {
    case "boolean":
    case "string":
    case "number":
      return value;
    case "function":
      throw unserializable("function", ctx);
    case "symbol":
      throw unserializable("symbol", ctx);
    default:
      break;
  }
  if (Array.isArray(value)) {
    return value.map((item: unknown, i) => serializeArgument(item, undefined, child(ctx, i)));
  }
  if (value instanceof Map) return serializeMap(value, undefined, ctx);
  if (value instanceof Set) throw unserializable("set", ctx);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) throw unserializable("bytes", ctx);
  if (isPlainObject(value)) {
    if (value["is_time_series_config"] === true) {
      // a nested "time series config" dict: its config_data is hashed separately (§3.5)
      const data = isPlainObject(value["config_data"]) ? value["config_data"] : {};
      return {
        is_time_series_config: true,
        config_data: serializeByRuntimeType(data, child(ctx, "config_data")),
      };
    }
    return dictFromEntries(
      Object.entries(value).map(([k, v]) => [k, serializeArgument(v, undefined, child(ctx, k))]),
    );
  }
  throw unserializable(className(value), ctx);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return isPyDict(value);
}

function className(value: unknown): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name ? name : "object";
}

/** Sorted top-level dict of serialized arguments: the build configuration `S` of §3.3. */
export function serializeArguments(
  args: Readonly<
    Record<string, { readonly value: unknown; readonly schema?: z.ZodType | undefined }>
  >,
  dependencies: DataNodeLike[] = [],
): PyDict {
  const keys = Object.keys(args).sort(compareCodePoints);
  return dictFromEntries(
    keys.map((key) => {
      const arg = args[key] as { readonly value: unknown; readonly schema?: z.ZodType | undefined };
      return [key, serializeArgument(arg.value, arg.schema, { path: key, dependencies })];
    }),
  );
}

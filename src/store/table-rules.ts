/**
 * Store-neutral rules about tables, written once for every store: what schema a frame needs,
 * when a schema conflicts with a table's, which dimensions a query may name, which columns a
 * read may project. Each throws a `StoreError` whose message names the table, column or
 * dimension.
 */
import { ArgumentError, StoreError } from "../errors.js";
import { type DType, isDType } from "../frame/dtypes.js";
import type { Frame } from "../frame/frame.js";
import { duplicateIndexIssue } from "../frame/validate-frame.js";
import type { DimensionQuery, TableSchema, UpdaterRecord } from "./store-types.js";

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function conflict(table: string | undefined, message: string): StoreError {
  const on = table === undefined ? "" : ` on table ${table}`;
  return new StoreError("schema_conflict", `schema conflict${on}: ${message}`);
}

/**
 * Checks that a schema is usable: a non-empty index starting with the time index, no repeated
 * index name, a timestamptz time index, known dtypes and non-empty names. Throws
 * `invalid_schema` naming every problem.
 *
 * @example
 * ```ts
 * checkSchema({ timeIndexName: "t", indexNames: ["x"], columnDtypes: {} }); // throws invalid_schema
 * ```
 */
export function checkSchema(schema: TableSchema): void {
  const problems: string[] = [];
  if (schema.indexNames.length === 0) problems.push("indexNames is empty");
  if (schema.indexNames[0] !== schema.timeIndexName) {
    problems.push(
      `the first index name must be the time index '${schema.timeIndexName}', got '${String(schema.indexNames[0])}'`,
    );
  }
  if (new Set(schema.indexNames).size !== schema.indexNames.length) {
    problems.push(`indexNames has duplicates: [${schema.indexNames.join(", ")}]`);
  }
  const timeDtype = schema.columnDtypes[schema.timeIndexName];
  if (timeDtype !== undefined && timeDtype !== "timestamptz") {
    problems.push(`the time index '${schema.timeIndexName}' must be timestamptz, got ${timeDtype}`);
  }
  for (const [name, dtype] of Object.entries(schema.columnDtypes)) {
    if (!isDType(dtype)) problems.push(`column '${name}' has unknown dtype '${String(dtype)}'`);
    if (name.length === 0 || name.includes("\u0000")) {
      problems.push(`invalid column name ${JSON.stringify(name)}`);
    }
  }
  if (problems.length > 0) {
    throw new StoreError("invalid_schema", `invalid table schema: ${problems.join("; ")}`);
  }
}

/**
 * Orders a schema's columns: the index first (a missing index dtype defaults to timestamptz for
 * the time index, string for a dimension), then the value columns in their given order.
 */
export function normalizeSchema(schema: TableSchema): TableSchema {
  const dtypes: Record<string, DType> = {};
  for (const name of schema.indexNames) {
    dtypes[name] =
      schema.columnDtypes[name] ?? (name === schema.timeIndexName ? "timestamptz" : "string");
  }
  for (const [name, dtype] of Object.entries(schema.columnDtypes)) {
    if (!(name in dtypes)) dtypes[name] = dtype;
  }
  return {
    timeIndexName: schema.timeIndexName,
    indexNames: [...schema.indexNames],
    columnDtypes: dtypes,
  };
}

/**
 * Merges a wanted schema into a table's current one: the index must be the same and every
 * column both name must have the same dtype; columns only the wanted schema has are added.
 * Returns the merged schema and the added columns. `table` names the table in messages.
 */
export function mergeSchema(
  current: TableSchema,
  wanted: TableSchema,
  table?: string,
): { readonly schema: TableSchema; readonly added: readonly (readonly [string, DType])[] } {
  if (
    current.timeIndexName !== wanted.timeIndexName ||
    !sameList(current.indexNames, wanted.indexNames)
  ) {
    throw conflict(
      table,
      `its index is [${current.indexNames.join(", ")}], the new data is indexed by [${wanted.indexNames.join(", ")}]`,
    );
  }
  const added: [string, DType][] = [];
  for (const [name, dtype] of Object.entries(wanted.columnDtypes)) {
    const existing = current.columnDtypes[name];
    if (existing === undefined) added.push([name, dtype]);
    else if (existing !== dtype) {
      throw conflict(
        table,
        `column '${name}' is ${existing} in the table but ${dtype} in the new data`,
      );
    }
  }
  if (added.length === 0) return { schema: current, added };
  return {
    schema: { ...current, columnDtypes: { ...current.columnDtypes, ...Object.fromEntries(added) } },
    added,
  };
}

/**
 * The schema a frame is written with: the declared (or the table's) schema when there is one —
 * the frame's index must match it and a column both name must have the same dtype — extended by
 * the frame's extra columns; else the frame's own schema.
 */
export function schemaForFrame(frame: Frame, declared: TableSchema | null): TableSchema {
  const own: TableSchema = {
    timeIndexName: frame.timeIndexName,
    indexNames: frame.indexNames,
    columnDtypes: frame.dtypes,
  };
  if (!declared) return own;
  return mergeSchema(declared, own).schema;
}

/** True when both schemas have the same index and the same dtype for the same columns. */
export function sameSchema(a: TableSchema | null, b: TableSchema): boolean {
  if (!a || !sameList(a.indexNames, b.indexNames)) return false;
  const ka = Object.keys(a.columnDtypes);
  const kb = Object.keys(b.columnDtypes);
  return ka.length === kb.length && kb.every((k) => a.columnDtypes[k] === b.columnDtypes[k]);
}

/** Duplicate full-index keys are a `duplicate_index` error naming the first repeated row. */
export function checkNoDuplicateKeys(frame: Frame): void {
  if (frame.length < 2) return;
  const issue = duplicateIndexIssue(frame);
  if (issue) {
    throw new StoreError(
      "duplicate_index",
      `the frame has duplicate index keys over [${frame.indexNames.join(", ")}]: ${issue.message}`,
    );
  }
}

/**
 * Checks that a query names only the table's identity dimensions (in `dimensionFilters`,
 * `indexCoordinates` and `dimensionRangeMap`); throws `unknown_dimension` naming every other.
 */
export function checkDimensions(schema: TableSchema, query: DimensionQuery): void {
  const dims = new Set(schema.indexNames.slice(1));
  const bad = new Set<string>();
  for (const key of Object.keys(query.dimensionFilters ?? {})) if (!dims.has(key)) bad.add(key);
  for (const coordinate of query.indexCoordinates ?? []) {
    for (const key of Object.keys(coordinate)) if (!dims.has(key)) bad.add(key);
  }
  for (const range of query.dimensionRangeMap ?? []) {
    for (const key of Object.keys(range.coordinate)) if (!dims.has(key)) bad.add(key);
  }
  if (bad.size > 0) {
    throw new StoreError(
      "unknown_dimension",
      `unknown identity dimension(s) ${[...bad].map((d) => `'${d}'`).join(", ")}: the table's dimensions are [${[...dims].join(", ")}]`,
    );
  }
  checkInt64DimensionValues(schema, query);
}

/**
 * An int64 dimension value given as a number beyond ±(2^53 - 1) is refused (`invalid_value`),
 * in every store alike: the number is already rounded, so it would match a neighbour of the
 * value meant (or nothing); such values are bigints (docs/frame.md).
 */
function checkInt64DimensionValues(schema: TableSchema, query: DimensionQuery): void {
  const check = (dim: string, value: unknown) => {
    if (
      schema.columnDtypes[dim] === "int64" &&
      typeof value === "number" &&
      Number.isInteger(value) &&
      !Number.isSafeInteger(value)
    ) {
      throw new StoreError(
        "invalid_value",
        `int64 dimension '${dim}': ${value} is a number beyond ±(2^53 - 1), which is not exact; pass the value as a bigint`,
      );
    }
  };
  for (const [dim, values] of Object.entries(query.dimensionFilters ?? {})) {
    for (const value of values) check(dim, value);
  }
  for (const coordinate of query.indexCoordinates ?? []) {
    for (const [dim, value] of Object.entries(coordinate)) check(dim, value);
  }
  for (const range of query.dimensionRangeMap ?? []) {
    for (const [dim, value] of Object.entries(range.coordinate)) check(dim, value);
  }
}

/** True when a query is certain to match no row (a dimension filter with an empty list). */
export function matchesNothing(query: DimensionQuery): boolean {
  return Object.values(query.dimensionFilters ?? {}).some((values) => values.length === 0);
}

/**
 * The columns a read returns: the index, then the requested (or all) value columns. An unknown
 * requested column is `unknown_column`, naming the table's columns.
 */
export function projectColumns(schema: TableSchema, columns?: readonly string[]): string[] {
  const index = schema.indexNames;
  if (columns === undefined) return Object.keys(schema.columnDtypes);
  const unknown = columns.filter((c) => !Object.hasOwn(schema.columnDtypes, c));
  if (unknown.length > 0) {
    throw new StoreError(
      "unknown_column",
      `unknown column(s) ${unknown.map((c) => `'${c}'`).join(", ")}: the table has [${Object.keys(schema.columnDtypes).join(", ")}]`,
    );
  }
  return [...index, ...columns.filter((c) => !index.includes(c))];
}

/**
 * The updater a write names (`WriteOptions.updaterUid`), checked at run time too: a JavaScript
 * caller can omit what the types require.
 */
export function writerUid(options: { readonly updaterUid?: unknown } | undefined): string {
  const uid = options?.updaterUid;
  if (typeof uid !== "string" || uid.trim() === "") {
    throw new ArgumentError(
      "invalid_argument",
      "writeFrame needs options.updaterUid: rows are written through an updater of the storage (register one with registerUpdater)",
    );
  }
  return uid;
}

/** Rows are written through an updater of the storage they go to (as on the platform). */
export function checkWriter(updater: UpdaterRecord, storageUid: string): void {
  if (updater.storageUid !== storageUid) {
    throw new StoreError(
      "invalid_value",
      `updater ${updater.uid} (${updater.updateHash}) writes storage ${updater.storageUid}, not ${storageUid}: write through an updater of the storage`,
    );
  }
}

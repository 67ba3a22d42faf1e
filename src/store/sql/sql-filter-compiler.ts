import { NotFoundError } from "../../errors.js";
import type {
  ConditionNode,
  FilterNode,
  FilterScalar,
  GroupNode,
} from "../../filters/filter-ast.js";
import { FilterCompiler } from "../../filters/filter-compiler.js";
import { FilterError } from "../../filters/filter-error.js";
import {
  type JoinSpec,
  SearchRequest,
  type SearchRequestInput,
} from "../../filters/search-request.js";
import type { DType } from "../../frame/dtypes.js";
import { Frame } from "../../frame/frame.js";
import { isInt64Range } from "../../frame/int64.js";
import { parseIsoInstant } from "../../frame/time.js";
import { PyFloat } from "../../hashing/py-value.js";
import type { FilterResult, StorageRecord, TableSchema } from "../store-types.js";
import type { SqlDialect } from "./sql-dialect.js";
import { SqlParams } from "./sql-params.js";
import type { SqlSession, TypedColumn } from "./sql-session.js";

/** A column a condition can name: its SQL expression, dtype and a name for messages. */
export interface FilterColumn {
  readonly sql: string;
  readonly dtype: DType;
  readonly name: string;
}

/** Maps a condition's field to a column, throwing `FilterError("unknown_column")` when none. */
export type FilterColumnResolver = (field: string, path: string) => FilterColumn;

const COMPARISONS = { eq: "=", ne: "<>", lt: "<", lte: "<=", gt: ">", gte: ">=" } as const;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, "\\$&");
}

function mismatch(column: FilterColumn, value: unknown, path: string, why = ""): FilterError {
  const shown =
    value instanceof Date
      ? value.toISOString()
      : typeof value === "bigint"
        ? `${value}n`
        : JSON.stringify(value);
  return new FilterError(
    "type_mismatch",
    `value ${shown} cannot be compared with column '${column.name}' (${column.dtype})${why}`,
    { path },
  );
}

function calendarDate(text: string): string | undefined {
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]) ? text : undefined;
}

/**
 * Compiles the filter AST to a SQL boolean expression. Column names come only from the resolver
 * (checked against the table schemas, quoted by the dialect); every value is a bound parameter
 * of the column's type, so no value ever reaches the SQL text.
 *
 * Semantics (documented in docs/filters.md): a NULL cell matches no comparison, pattern or list
 * (SQL's rule), except `is_null`, `eq`/`ne` with a null value (IS NULL / IS NOT NULL) and an
 * empty `not_in` (TRUE); an empty `in` is FALSE; `between` is inclusive; `contains`,
 * `starts_with`, `ends_with` are case-sensitive LIKE patterns with `%` and `_` escaped.
 *
 * @example
 * ```ts
 * const params = new SqlParams();
 * const where = new SqlFilterCompiler(resolver, params).compile(F.in_("unique_identifier", ["A"]));
 * // where: `"unique_identifier" IN ($1)`, params.values: ["A"]
 * ```
 */
export class SqlFilterCompiler extends FilterCompiler<string> {
  constructor(
    private readonly resolve: FilterColumnResolver,
    readonly params: SqlParams = new SqlParams(),
  ) {
    super();
  }

  protected compileGroup(node: GroupNode, items: readonly string[]): string {
    return items.length === 1
      ? items[0]!
      : `(${items.join(node.logic === "and" ? " AND " : " OR ")})`;
  }

  protected compileCondition(node: ConditionNode): string {
    const path = this.currentPath;
    const column = this.resolve(node.field, `${path}.field`);
    const c = column.sql;
    const value = node.value;
    const at = `${path}.value`;
    switch (node.op) {
      case "is_null":
        return value === false ? `(${c} IS NOT NULL)` : `(${c} IS NULL)`;
      case "eq":
      case "ne":
        if (value === undefined || value === null) {
          return node.op === "eq" ? `(${c} IS NULL)` : `(${c} IS NOT NULL)`;
        }
        return `(${c} ${COMPARISONS[node.op]} ${this.operand(column, value as FilterScalar, at)})`;
      case "lt":
      case "lte":
      case "gt":
      case "gte":
        this.checkOrdered(column, at);
        return `(${c} ${COMPARISONS[node.op]} ${this.operand(column, value as FilterScalar, at)})`;
      case "in":
      case "not_in": {
        const values = value as readonly FilterScalar[];
        if (values.length === 0) return node.op === "in" ? "FALSE" : "TRUE";
        const operands = values.map((v, i) => this.operand(column, v, `${at}[${i}]`));
        return `(${c} ${node.op === "in" ? "IN" : "NOT IN"} (${operands.join(", ")}))`;
      }
      case "between": {
        this.checkOrdered(column, at);
        const [lo, hi] = value as readonly FilterScalar[];
        const a = this.operand(column, lo!, `${at}[0]`);
        const b = this.operand(column, hi!, `${at}[1]`);
        return `(${c} BETWEEN ${a} AND ${b})`;
      }
      case "contains":
      case "starts_with":
      case "ends_with": {
        if (column.dtype !== "string") {
          throw new FilterError(
            "type_mismatch",
            `${node.op} needs a string column, but '${column.name}' is ${column.dtype}`,
            { path },
          );
        }
        const text = escapeLike(value as string);
        const pattern =
          node.op === "contains"
            ? `%${text}%`
            : node.op === "starts_with"
              ? `${text}%`
              : `%${text}`;
        return `(${c} LIKE ${this.params.bind(pattern, "text", value)} ESCAPE '\\')`;
      }
    }
  }

  private checkOrdered(column: FilterColumn, path: string): void {
    if (column.dtype === "json") {
      throw new FilterError(
        "type_mismatch",
        `json column '${column.name}' can only be tested with is_null, eq null or ne null`,
        { path },
      );
    }
  }

  /** Binds `value` as the column's type and returns the SQL operand. */
  private operand(column: FilterColumn, value: FilterScalar, path: string): string {
    const p = this.params;
    const number =
      value instanceof PyFloat ? value.value : typeof value === "number" ? value : undefined;
    switch (column.dtype) {
      case "string":
        if (typeof value === "string") return p.text(value);
        break;
      case "float64":
        if (number !== undefined) return p.double(number);
        if (typeof value === "bigint") return p.bind(Number(value), "double", value);
        break;
      case "int64":
        if (typeof value === "bigint") {
          if (!isInt64Range(value))
            throw mismatch(column, value, path, ": outside the int64 range");
          return p.bigint(value);
        }
        if (typeof value === "number" && Number.isSafeInteger(value)) return p.bigint(value);
        if (number !== undefined) return p.double(number);
        break;
      case "bool":
        if (typeof value === "boolean") return p.bool(value);
        break;
      case "timestamptz": {
        const micros = this.instant(value);
        if (micros === "naive") throw mismatch(column, value, path, ": give a time zone");
        if (micros !== undefined) return p.instant(micros, column.name);
        break;
      }
      case "date": {
        let text: string | undefined;
        if (value instanceof Date) text = value.toISOString().slice(0, 10);
        else if (typeof value === "string") text = calendarDate(value);
        else if (typeof value === "object" && !(value instanceof PyFloat)) {
          text = calendarDate(value.isoformat());
        }
        if (text !== undefined) return `CAST(${p.bind(text, "text", value)} AS DATE)`;
        throw mismatch(column, value, path, ": give a YYYY-MM-DD date");
      }
      case "json":
        throw new FilterError(
          "type_mismatch",
          `json column '${column.name}' can only be tested with is_null, eq null or ne null`,
          { path },
        );
    }
    throw mismatch(column, value, path);
  }

  /** Epoch micros of an instant-like value: Date, ISO text (naive = UTC), micros as number/bigint. */
  private instant(value: FilterScalar): number | "naive" | undefined {
    if (value instanceof Date) return value.getTime() * 1000;
    if (typeof value === "number") return Math.round(value);
    if (typeof value === "bigint") {
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : undefined;
    }
    if (value instanceof PyFloat || typeof value === "boolean") return undefined;
    const text = typeof value === "string" ? value : value.isoformat();
    // Python's naive isoformat() carries no zone: the platform stores UTC, so read it as UTC.
    const parsed = parseIsoInstant(text, true);
    return parsed.ok ? parsed.micros : undefined;
  }
}

/** One table of a filtered read, with the alias the SQL gives it. */
interface BoundTable {
  readonly prefix: string;
  readonly alias: string;
  readonly schema: TableSchema;
  readonly table: string;
  readonly join?: JoinSpec;
}

/** A storage and its schema, as the executor resolved them. */
export interface FilterTable {
  readonly storage: StorageRecord;
  readonly schema: TableSchema;
}

/** The tables of a request: the base and one per join, in the request's join order. */
export interface FilterTables {
  readonly base: FilterTable;
  readonly joins: readonly FilterTable[];
}

/** A compiled filtered read: SQL, bound parameters, and how to decode the result. */
export interface CompiledFilterQuery {
  readonly sql: string;
  readonly params: SqlParams;
  readonly indexNames: readonly string[];
  readonly columns: readonly TypedColumn[];
  readonly limit: number;
  readonly offset: number;
}

function columnOf(t: BoundTable, column: string, dialect: SqlDialect): FilterColumn {
  const c = dialect.quoteIdent(column);
  return {
    sql: t.alias === "" ? c : `${t.alias}.${c}`,
    dtype: t.schema.columnDtypes[column]!,
    name: `${t.prefix}.${column}`,
  };
}

/**
 * The field-naming rules of filters on SQL stores:
 * 1. a base index name (`time_index`, `unique_identifier`) is the result's index column
 *    (coalesced across full joins);
 * 2. `<prefix>__<column>` or `<prefix>.<column>`, with `prefix` = `base` or a join name, is
 *    that table's column (its raw value, index columns included);
 * 3. any other bare name is a column of the base table.
 */
function fieldResolver(
  tables: readonly BoundTable[],
  indexColumns: ReadonlyMap<string, FilterColumn>,
  dialect: SqlDialect,
): FilterColumnResolver {
  return (field, path) => {
    const index = indexColumns.get(field);
    if (index) return index;
    let best: { table: BoundTable; column: string } | undefined;
    for (const t of tables) {
      for (const sep of ["__", "."]) {
        const head = t.prefix + sep;
        if (!field.startsWith(head)) continue;
        const column = field.slice(head.length);
        if (!Object.hasOwn(t.schema.columnDtypes, column)) continue;
        if (!best || t.prefix.length > best.table.prefix.length) best = { table: t, column };
      }
    }
    if (best) return columnOf(best.table, best.column, dialect);
    const base = tables[0]!;
    if (Object.hasOwn(base.schema.columnDtypes, field)) return columnOf(base, field, dialect);
    const known = [
      ...indexColumns.keys(),
      ...Object.keys(base.schema.columnDtypes).filter((c) => !indexColumns.has(c)),
      ...tables
        .slice(1)
        .flatMap((t) => Object.keys(t.schema.columnDtypes).map((c) => `${t.prefix}.${c}`)),
    ];
    const shown = known.slice(0, 30).join(", ") + (known.length > 30 ? ", ..." : "");
    throw new FilterError(
      "unknown_column",
      `unknown column ${JSON.stringify(field)}: the request has [${shown}]`,
      { path },
    );
  };
}

/**
 * Compiles a single-table filter to a WHERE expression against the bare table (no aliases):
 * the form other store code can embed. Field names follow the same rules as joined reads.
 *
 * @example
 * ```ts
 * const { sql, params } = compileTableFilter(schema, F.gt("close", 10), dialect);
 * // sql: `("close" > $1)`
 * ```
 */
export function compileTableFilter(
  schema: TableSchema,
  filter: FilterNode,
  dialect: SqlDialect,
  params: SqlParams = new SqlParams(),
): { readonly sql: string; readonly params: SqlParams } {
  const table: BoundTable = { prefix: "base", alias: "", schema, table: "" };
  const indexColumns = new Map(
    schema.indexNames.map((c) => [c, columnOf(table, c, dialect)] as const),
  );
  const resolve = fieldResolver([table], indexColumns, dialect);
  const sql = new SqlFilterCompiler(resolve, params).compile(filter);
  return { sql, params };
}

/**
 * Compiles a whole `get-data-from-filter` read: the SELECT with `base__`/`<join>__` prefixed
 * columns and the unprefixed index, the joins on their `on` keys (full joins coalesce the
 * keys), the WHERE of the filter, ORDER BY the index, and LIMIT `limit + 1` (to learn whether
 * a next page exists) OFFSET `offset`, all values bound.
 */
export function compileFilterQuery(
  input: SearchRequest | SearchRequestInput,
  tables: FilterTables,
  dialect: SqlDialect,
): CompiledFilterQuery {
  const q = (name: string) => dialect.quoteIdent(name);
  const request = SearchRequest.from(input);
  if (tables.joins.length !== request.joins.length) {
    throw new FilterError("invalid_join", "one resolved table is needed per join");
  }
  const base: BoundTable = {
    prefix: "base",
    alias: "t0",
    schema: tables.base.schema,
    table: tables.base.storage.storageHash,
  };
  const joined: BoundTable[] = request.joins.map((join, i) => ({
    prefix: join.name,
    alias: `t${i + 1}`,
    schema: tables.joins[i]!.schema,
    table: tables.joins[i]!.storage.storageHash,
    join,
  }));

  // The result's index: the base index, each key coalesced with the joins that bring it.
  const indexSql = new Map<string, string>(base.schema.indexNames.map((c) => [c, `t0.${q(c)}`]));
  const joinSql: string[] = [];
  for (const t of joined) {
    const join = t.join!;
    if (join.name === "base") {
      throw new FilterError("invalid_join", `the join name "base" is reserved for the base table`);
    }
    const on: string[] = [];
    for (const key of join.on) {
      const baseDtype = base.schema.columnDtypes[key];
      const joinDtype = t.schema.columnDtypes[key];
      if (!base.schema.indexNames.includes(key) || !t.schema.indexNames.includes(key)) {
        throw new FilterError(
          "invalid_join",
          `join '${join.name}': key '${key}' must be an index column of both tables (base index [${base.schema.indexNames.join(", ")}], '${join.name}' index [${t.schema.indexNames.join(", ")}])`,
        );
      }
      if (baseDtype !== joinDtype) {
        throw new FilterError(
          "invalid_join",
          `join '${join.name}': key '${key}' is ${baseDtype} in the base table but ${joinDtype} in '${join.name}'`,
        );
      }
      const right = `${t.alias}.${q(key)}`;
      on.push(`${indexSql.get(key)!} = ${right}`);
      if (join.type === "full") indexSql.set(key, `COALESCE(${indexSql.get(key)!}, ${right})`);
    }
    const kind =
      join.type === "inner" ? "INNER JOIN" : join.type === "left" ? "LEFT JOIN" : "FULL OUTER JOIN";
    joinSql.push(` ${kind} ${q(t.table)} AS ${t.alias} ON ${on.join(" AND ")}`);
  }

  const columns: TypedColumn[] = [];
  const select: string[] = [];
  const seen = new Set<string>();
  const add = (name: string, expr: string, dtype: DType) => {
    if (seen.has(name)) {
      throw new FilterError(
        "invalid_join",
        `two result columns would both be named '${name}': rename a join`,
      );
    }
    seen.add(name);
    columns.push({ name, dtype });
    select.push(`${dialect.readExpression(expr, dtype)} AS ${q(name)}`);
  };
  for (const c of base.schema.indexNames) add(c, indexSql.get(c)!, base.schema.columnDtypes[c]!);
  for (const [c, dtype] of Object.entries(base.schema.columnDtypes)) {
    if (!base.schema.indexNames.includes(c)) add(`base__${c}`, `t0.${q(c)}`, dtype);
  }
  const order = [...indexSql.values()];
  for (const t of joined) {
    for (const [c, dtype] of Object.entries(t.schema.columnDtypes)) {
      if (t.join!.on.includes(c)) continue;
      const expr = `${t.alias}.${q(c)}`;
      add(`${t.prefix}__${c}`, expr, dtype);
      // The join's own index columns make the order total, so pages never overlap.
      if (t.schema.indexNames.includes(c)) order.push(expr);
    }
  }

  const params = new SqlParams();
  const indexColumns = new Map(
    base.schema.indexNames.map(
      (c) => [c, { sql: indexSql.get(c)!, dtype: base.schema.columnDtypes[c]!, name: c }] as const,
    ),
  );
  const where =
    request.filter === undefined
      ? ""
      : ` WHERE ${new SqlFilterCompiler(fieldResolver([base, ...joined], indexColumns, dialect), params).compile(request.filter)}`;
  const limit = params.bigint(request.limit + 1);
  const offset = params.bigint(request.offset);
  const sql =
    `SELECT ${select.join(", ")} FROM ${q(base.table)} AS t0${joinSql.join("")}${where}` +
    ` ORDER BY ${order.join(", ")} LIMIT ${limit} OFFSET ${offset}`;
  return {
    sql,
    params,
    indexNames: base.schema.indexNames,
    columns,
    limit: request.limit,
    offset: request.offset,
  };
}

/** What the executor needs from the store: storage lookups and a reading session. */
export interface FilterStoreAccess {
  /** The storage with that hash or published identifier, or null. */
  storage(key: { storageHash: string } | { identifier: string }): Promise<StorageRecord | null>;
  /** The session the page is read on. */
  readonly session: SqlSession;
  readonly dialect: SqlDialect;
}

async function resolveStorage(
  access: FilterStoreAccess,
  target: { readonly storageHash?: string; readonly nodeUniqueIdentifier?: string },
  what: string,
): Promise<StorageRecord> {
  const found =
    target.storageHash !== undefined
      ? await access.storage({ storageHash: target.storageHash })
      : await access.storage({ identifier: target.nodeUniqueIdentifier! });
  if (found) return found;
  const key =
    target.storageHash !== undefined
      ? `storage_hash '${target.storageHash}'`
      : `node_unique_identifier '${target.nodeUniqueIdentifier}'`;
  throw new NotFoundError("storage_not_found", `${what}: no storage with ${key}`);
}

/**
 * Runs one page of a `get-data-from-filter` read on a SQL store: resolves the base and
 * joined storages (by hash or published identifier), compiles the query against their schemas,
 * and decodes the rows with the tables' dtypes. A base table that was never written gives an
 * empty page.
 */
export async function runFilterRequest(
  input: SearchRequest | SearchRequestInput,
  access: FilterStoreAccess,
): Promise<FilterResult> {
  const request = SearchRequest.from(input);
  const baseStorage = await resolveStorage(access, request, "base table");
  const storages: Record<string, StorageRecord> = { base: baseStorage };
  const joins: FilterTable[] = [];
  for (const join of request.joins) {
    const storage = await resolveStorage(access, join, `join '${join.name}'`);
    storages[join.name] = storage;
    if (!storage.schema) {
      throw new FilterError(
        "invalid_join",
        `join '${join.name}': storage ${storage.storageHash} has no table yet (nothing was written to it)`,
      );
    }
    joins.push({ storage, schema: storage.schema });
  }
  if (!baseStorage.schema) {
    return { frame: Frame.empty(), nextOffset: null, storages, indexNames: ["time_index"] };
  }
  const compiled = compileFilterQuery(
    request,
    { base: { storage: baseStorage, schema: baseStorage.schema }, joins },
    access.dialect,
  );
  const all = await access.session.selectFrame(
    compiled.sql,
    compiled.params,
    compiled.indexNames,
    compiled.columns,
  );
  const more = all.length > compiled.limit;
  return {
    frame: more ? all.head(compiled.limit) : all,
    nextOffset: more ? compiled.offset + compiled.limit : null,
    storages,
    indexNames: compiled.indexNames,
  };
}

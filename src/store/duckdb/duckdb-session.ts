import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBConnection,
  type DuckDBMaterializedResult,
  type DuckDBType,
  type DuckDBValue,
  LIST,
  listValue,
  TIMESTAMPTZ,
  timestampTZValue,
  VARCHAR,
} from "@duckdb/node-api";
import { StoreError } from "../../errors.js";
import type { DType } from "../../frame/dtypes.js";
import type { Frame } from "../../frame/frame.js";
import { KeyedQueue } from "../keyed-queue.js";
import type { SqlParams, SqlParamType } from "../sql/sql-params.js";
import type { Row, SqlDriver, SqlSession, StagedFrame, TypedColumn } from "../sql/sql-session.js";
import type { CallOptions } from "../store-types.js";
import { type DuckDBDialect, quoteIdent } from "./duckdb-dialect.js";
import { wrapDuckDBError } from "./duckdb-errors.js";
import { appendFrame, frameFromResult, stagingType } from "./duckdb-frame-io.js";

const PARAM_TYPES: Readonly<Record<SqlParamType, DuckDBType>> = {
  text: VARCHAR,
  double: DOUBLE,
  bigint: BIGINT,
  bool: BOOLEAN,
  instant: TIMESTAMPTZ,
  textList: LIST(VARCHAR),
};

function toDuckDBValue(value: unknown, type: SqlParamType): DuckDBValue {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "instant":
      return timestampTZValue(BigInt(value as number));
    case "textList":
      return listValue(value as (string | null)[]);
    default:
      return value as DuckDBValue;
  }
}

/**
 * The SQL expression turning a staged column into the table's type. `staged` is the column's
 * staging type: an int64 column is staged as DOUBLE (safe integers, the fast path) or, when it
 * holds a bigint, as BIGINT (already the table's type).
 */
function fromStaging(column: string, dtype: DType, staged: DuckDBType, jsonType: boolean): string {
  const c = quoteIdent(column);
  switch (dtype) {
    case "timestamptz":
      return `make_timestamptz(CAST(${c} AS BIGINT))`;
    case "int64":
      return staged.typeId === BIGINT.typeId ? c : `CAST(${c} AS BIGINT)`;
    case "date":
      return `CAST(${c} AS DATE)`;
    case "json":
      return jsonType ? `CAST(${c} AS JSON)` : c;
    default:
      return c;
  }
}

/** Integers come back from DuckDB as BigInt; metadata rows want plain numbers. */
function plainRow(row: Record<string, unknown>): Row {
  for (const key in row) {
    const value = row[key];
    if (typeof value === "bigint") row[key] = Number(value);
  }
  return row;
}

/**
 * A {@link SqlSession} over one DuckDB connection. Parameters are bound with their DuckDB
 * types; errors become `StoreError`s keeping the SQL and the parameters; frames are staged
 * through the data-chunk appender and read straight from result vectors into typed arrays.
 */
export class DuckDBSession implements SqlSession {
  constructor(
    readonly connection: DuckDBConnection,
    private readonly dialect: DuckDBDialect,
  ) {}

  private async execute(sql: string, params?: SqlParams): Promise<DuckDBMaterializedResult> {
    try {
      if (!params || params.values.length === 0) return await this.connection.run(sql);
      const values = params.values.map((v, i) => toDuckDBValue(v, params.types[i]!));
      const types = params.types.map((t) => PARAM_TYPES[t]);
      return await this.connection.run(sql, values, types);
    } catch (error) {
      throw wrapDuckDBError(error, sql, params?.shown);
    }
  }

  async run(sql: string, params?: SqlParams): Promise<number> {
    return Number((await this.execute(sql, params)).rowsChanged);
  }

  async rows(sql: string, params?: SqlParams): Promise<Row[]> {
    const result = await this.execute(sql, params);
    return ((await result.getRowObjectsJS()) as Record<string, unknown>[]).map(plainRow);
  }

  async selectFrame(
    sql: string,
    params: SqlParams | undefined,
    indexNames: readonly string[],
    columns: readonly TypedColumn[],
  ): Promise<Frame> {
    const result = await this.execute(sql, params);
    return frameFromResult(result, indexNames, columns);
  }

  async stageFrame(
    name: string,
    frame: Frame,
    columns: readonly TypedColumn[],
  ): Promise<StagedFrame> {
    const table = quoteIdent(name);
    const types = columns.map((c) => stagingType(c.dtype, frame.getColumn(c.name).values));
    const defs = columns.map((c, k) => `${quoteIdent(c.name)} ${types[k]!.toString()}`);
    await this.run(`CREATE OR REPLACE TEMP TABLE ${table} (${defs.join(", ")})`);
    const appender = await this.connection.createAppender(name, "main", "temp");
    try {
      appendFrame(appender, frame, columns, types);
    } catch (error) {
      throw wrapDuckDBError(error, undefined, undefined, `append to ${name}`);
    } finally {
      appender.closeSync();
    }
    const jsonType = this.dialect.jsonType;
    const stagedType = new Map(columns.map((c, k) => [c.name, types[k]!]));
    return {
      table,
      valueOf: (c) => fromStaging(c.name, c.dtype, stagedType.get(c.name) ?? DOUBLE, jsonType),
      microsOf: (c) => `CAST(${quoteIdent(c)} AS BIGINT)`,
    };
  }

  async transaction<T>(body: () => Promise<T>): Promise<T> {
    await this.run("BEGIN TRANSACTION");
    try {
      const result = await body();
      await this.run("COMMIT");
      return result;
    } catch (error) {
      await this.connection.run("ROLLBACK").catch(() => undefined);
      throw wrapDuckDBError(error);
    }
  }
}

/**
 * DuckDB's {@link SqlDriver}: one writing and one reading connection on one instance. A DuckDB
 * connection runs one statement at a time and the database has one writer, so jobs queue per
 * connection; reads run beside writes and see committed data. An aborted job's statement is
 * interrupted.
 */
export class DuckDBDriver implements SqlDriver {
  private readonly queue = new KeyedQueue();
  private readonly writer: DuckDBSession;
  private readonly reader: DuckDBSession;
  private closed = false;

  constructor(
    readonly dialect: DuckDBDialect,
    writer: DuckDBConnection,
    reader: DuckDBConnection,
    private readonly description: string,
    private readonly onClose: () => void,
  ) {
    this.writer = new DuckDBSession(writer, dialect);
    this.reader = new DuckDBSession(reader, dialect);
  }

  write<T>(job: (session: SqlSession) => Promise<T>, options?: CallOptions): Promise<T> {
    return this.queue.run("writer", () => this.guard(this.writer, job, options));
  }

  read<T>(job: (session: SqlSession) => Promise<T>, options?: CallOptions): Promise<T> {
    return this.queue.run("reader", () => this.guard(this.reader, job, options));
  }

  /** Checks the store is open and the call not aborted; an abort mid-query interrupts DuckDB. */
  private async guard<T>(
    session: DuckDBSession,
    job: (session: SqlSession) => Promise<T>,
    options: CallOptions | undefined,
  ): Promise<T> {
    if (this.closed) throw new StoreError("closed", `${this.description} is closed`);
    const signal = options?.signal;
    if (signal?.aborted) {
      throw new StoreError("aborted", "the store call was aborted", { cause: signal.reason });
    }
    if (!signal) return job(session);
    const onAbort = () => session.connection.interrupt();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await job(session);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.drain();
    this.writer.connection.closeSync();
    this.reader.connection.closeSync();
    this.onClose();
  }
}

import type { DType } from "../../frame/dtypes.js";
import type { Frame } from "../../frame/frame.js";
import type { CallOptions } from "../store-types.js";
import type { SqlDialect } from "./sql-dialect.js";
import type { SqlParams } from "./sql-params.js";

/** A row of a metadata query, as plain JS values. */
export type Row = Record<string, unknown>;

/** A column of a frame with its dtype, as a session moves it. */
export interface TypedColumn {
  readonly name: string;
  readonly dtype: DType;
}

/** A frame loaded into a temporary staging table by {@link SqlSession.stageFrame}. */
export interface StagedFrame {
  /** The staging table, quoted. */
  readonly table: string;
  /** The SQL expression turning a staged column into the data table's type. */
  valueOf(column: TypedColumn): string;
  /** The SQL expression of a staged instant column as BIGINT epoch microseconds. */
  microsOf(column: string): string;
}

/**
 * One connection's worth of SQL (a DuckDB connection, a PostgreSQL client): statements, queries,
 * typed frame reads, bulk loads and transactions. Errors are `StoreError`s keeping the SQL and
 * the parameters. The store's SQL core talks only to this interface and to a {@link SqlDialect}.
 */
export interface SqlSession {
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: SqlParams): Promise<number>;
  /** Runs a query; integers come back as JS numbers, text as strings, booleans as booleans. */
  rows(sql: string, params?: SqlParams): Promise<Row[]>;
  /**
   * Runs a query whose columns were selected with `dialect.readExpression`, in `columns` order,
   * and decodes it into a frame indexed by `indexNames`.
   */
  selectFrame(
    sql: string,
    params: SqlParams | undefined,
    indexNames: readonly string[],
    columns: readonly TypedColumn[],
  ): Promise<Frame>;
  /**
   * Loads a frame's columns (in `columns` order) into a fresh temporary table named `name`, the
   * fastest way the database offers (DuckDB's appender, PostgreSQL's COPY). Inside a transaction.
   */
  stageFrame(name: string, frame: Frame, columns: readonly TypedColumn[]): Promise<StagedFrame>;
  /** Runs `body` in a transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(body: () => Promise<T>): Promise<T>;
}

/**
 * A database a SQL store runs on: the dialect, and sessions lent to jobs. A driver decides how
 * jobs share connections (DuckDB: one writing and one reading connection, each running one job
 * at a time; a pool elsewhere), cancels a job's statement when its signal aborts, and refuses
 * jobs once closed.
 */
export interface SqlDriver {
  readonly dialect: SqlDialect;
  /** Runs a job that may write (one at a time where the database has one writer). */
  write<T>(job: (session: SqlSession) => Promise<T>, options?: CallOptions): Promise<T>;
  /** Runs a read-only job; it sees committed data. */
  read<T>(job: (session: SqlSession) => Promise<T>, options?: CallOptions): Promise<T>;
  /** Waits for running jobs, then releases connections and file locks. */
  close(): Promise<void>;
}

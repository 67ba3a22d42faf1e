import { StoreError } from "../../errors.js";
import { TDAG_VERSION } from "../../version.js";
import type { SqlDialect } from "./sql-dialect.js";
import { SqlParams } from "./sql-params.js";
import type { SqlSession } from "./sql-session.js";

/**
 * One step of the store's own schema (its `tdag_` tables). Steps are applied in order, each
 * exactly once, inside one transaction per open; the applied versions are recorded in
 * `tdag_schema_migrations`.
 */
export interface Migration {
  readonly version: number;
  /** What the step changes, as recorded. */
  readonly description: string;
  /**
   * Whether a file at the previous version can be read without applying this step (it only adds
   * tables or columns readers do not need). A read-only open applies nothing: it reads an older
   * file only when every pending step is read-compatible.
   */
  readonly readCompatible: boolean;
  /** The statements, portable SQL or spelled by the dialect. */
  statements(dialect: SqlDialect): readonly string[];
}

/** The table that records applied versions (created by version 2). */
export const MIGRATIONS_TABLE = "tdag_schema_migrations";

/** Version 1: the tables of tdag 0.1.0, which had no version record. */
const V1_TABLES: readonly string[] = [
  `CREATE SEQUENCE IF NOT EXISTS tdag_seq`,
  `CREATE TABLE IF NOT EXISTS tdag_storages (
    uid VARCHAR PRIMARY KEY,
    storage_hash VARCHAR NOT NULL UNIQUE,
    namespace VARCHAR,
    source_class_name VARCHAR NOT NULL,
    build_configuration VARCHAR NOT NULL,
    open_to_public BOOLEAN NOT NULL DEFAULT false,
    identifier VARCHAR UNIQUE,
    description VARCHAR,
    data_frequency_id VARCHAR,
    created_at TIMESTAMPTZ NOT NULL,
    time_index_name VARCHAR,
    index_names VARCHAR,
    column_dtypes VARCHAR
  )`,
  `CREATE TABLE IF NOT EXISTS tdag_updaters (
    uid VARCHAR PRIMARY KEY,
    update_hash VARCHAR NOT NULL UNIQUE,
    storage_uid VARCHAR NOT NULL,
    namespace VARCHAR,
    build_configuration VARCHAR NOT NULL,
    project_uid VARCHAR,
    created_at TIMESTAMPTZ NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS tdag_edges (
    updater_uid VARCHAR NOT NULL,
    target_kind VARCHAR NOT NULL,
    target_uid VARCHAR NOT NULL,
    seq BIGINT NOT NULL DEFAULT nextval('tdag_seq'),
    UNIQUE (updater_uid, target_kind, target_uid)
  )`,
  `CREATE TABLE IF NOT EXISTS tdag_runs (
    uid VARCHAR PRIMARY KEY,
    updater_uid VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ,
    error BOOLEAN,
    error_message VARCHAR,
    rows_written BIGINT,
    seq BIGINT NOT NULL DEFAULT nextval('tdag_seq')
  )`,
  `CREATE TABLE IF NOT EXISTS tdag_column_metadata (
    storage_uid VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL,
    dtype VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    description VARCHAR NOT NULL,
    seq BIGINT NOT NULL DEFAULT nextval('tdag_seq')
  )`,
  `CREATE SEQUENCE IF NOT EXISTS tdag_asset_ids`,
  `CREATE TABLE IF NOT EXISTS tdag_assets (
    id BIGINT PRIMARY KEY DEFAULT nextval('tdag_asset_ids'),
    unique_identifier VARCHAR NOT NULL UNIQUE,
    name VARCHAR NOT NULL,
    ticker VARCHAR NOT NULL,
    exchange_code VARCHAR,
    security_type VARCHAR,
    security_market_sector VARCHAR,
    isin VARCHAR,
    is_custom_by_organization BOOLEAN NOT NULL DEFAULT true
  )`,
  // One row per (table, coordinate): the coordinate is the JSON array of the identity values
  // ('[]' for a 1-D table). Kept incrementally by every write; recomputed for the coordinates a
  // delete touches.
  `CREATE TABLE IF NOT EXISTS tdag_progress (
    storage_uid VARCHAR NOT NULL,
    coordinate VARCHAR NOT NULL,
    min_micros BIGINT NOT NULL,
    max_micros BIGINT NOT NULL,
    PRIMARY KEY (storage_uid, coordinate)
  )`,
  // The description-search index (sql-search.ts): one search document per storage, its vector
  // as JSON text, the embedding model that made it, and which metadata it includes.
  `CREATE TABLE IF NOT EXISTS tdag_search_index (
    storage_uid VARCHAR PRIMARY KEY,
    document VARCHAR NOT NULL,
    embedding_model VARCHAR NOT NULL,
    embedding VARCHAR NOT NULL,
    table_metadata_indexed BOOLEAN NOT NULL,
    column_metadata_indexed BOOLEAN NOT NULL,
    indexed_at TIMESTAMPTZ NOT NULL
  )`,
];

/**
 * Every version of the store's schema, oldest first. Append a step for any change to a `tdag_`
 * table; never edit a released one (files in the wild were made by it).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description:
      "tdag 0.1.0 tables: storages, updaters, edges, runs, column metadata, assets, progress, search index",
    readCompatible: false,
    statements: () => V1_TABLES,
  },
  {
    version: 2,
    description: "record the schema version in tdag_schema_migrations",
    readCompatible: true,
    statements: () => [
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
        version INTEGER PRIMARY KEY,
        description VARCHAR NOT NULL,
        tdag_version VARCHAR NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL
      )`,
    ],
  },
  {
    version: 3,
    description:
      "durable bookkeeping: tdag_state (JSON values) and tdag_state_blobs (text payloads)",
    readCompatible: true,
    statements: () => [
      `CREATE TABLE IF NOT EXISTS tdag_state (
        kind VARCHAR NOT NULL,
        key VARCHAR NOT NULL,
        value VARCHAR NOT NULL,
        seq BIGINT NOT NULL DEFAULT nextval('tdag_seq'),
        PRIMARY KEY (kind, key)
      )`,
      `CREATE TABLE IF NOT EXISTS tdag_state_blobs (
        kind VARCHAR NOT NULL,
        key VARCHAR NOT NULL,
        blob_key VARCHAR NOT NULL,
        payload VARCHAR NOT NULL,
        seq BIGINT NOT NULL DEFAULT nextval('tdag_seq'),
        PRIMARY KEY (kind, key, blob_key)
      )`,
    ],
  },
];

/** The schema version this release of tdag reads and writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

async function tableExists(session: SqlSession, name: string): Promise<boolean> {
  const p = new SqlParams();
  const rows = await session.rows(
    `SELECT 1 AS found FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_name = ${p.text(name)}`,
    p,
  );
  return rows.length > 0;
}

/**
 * The schema version of an open database: the highest recorded version; `1` for a database of
 * tdag 0.1.0 (its tables, no record); `0` for an empty one.
 */
export async function readSchemaVersion(session: SqlSession): Promise<number> {
  if (await tableExists(session, MIGRATIONS_TABLE)) {
    const rows = await session.rows(`SELECT max(version) AS version FROM ${MIGRATIONS_TABLE}`);
    const version = rows[0]?.["version"];
    if (typeof version === "number") return version;
  }
  return (await tableExists(session, "tdag_storages")) ? 1 : 0;
}

/** What {@link migrate} found and did. */
export interface MigrationResult {
  /** The version found on open. */
  readonly from: number;
  /** The version after the open (equal to `from` when nothing was applied). */
  readonly to: number;
  /** The versions applied by this open. */
  readonly applied: readonly number[];
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** Names the database in errors (`"duckdb:/path/to/file"`). */
  readonly description: string;
  /** Apply nothing; an older database is readable only if every pending step is read-compatible. */
  readonly readOnly?: boolean;
  /** The steps (default {@link MIGRATIONS}); tests pass their own. */
  readonly migrations?: readonly Migration[];
}

/**
 * Brings a database's `tdag_` tables to this release's schema version, in one transaction: a
 * failing step rolls every step of this open back (`migration_failed`, the database is as it
 * was). A database newer than this release is `schema_too_new`, naming both versions; an older
 * one opened read-only that needs a step readers cannot skip is `schema_migration_required`.
 *
 * @example
 * ```ts
 * const { from, to } = await migrate(session, dialect, { description: store.description });
 * ```
 */
export async function migrate(
  session: SqlSession,
  dialect: SqlDialect,
  options: MigrateOptions,
): Promise<MigrationResult> {
  const migrations = options.migrations ?? MIGRATIONS;
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  const from = await readSchemaVersion(session);
  if (from > latest) {
    throw new StoreError(
      "schema_too_new",
      `${options.description} has store schema version ${from}, newer than version ${latest} that tdag ${TDAG_VERSION} knows: upgrade tdag to open it`,
    );
  }
  const pending = migrations.filter((m) => m.version > from);
  if (pending.length === 0) return { from, to: from, applied: [] };
  if (options.readOnly) {
    const blocking = pending.find((m) => !m.readCompatible);
    if (blocking) {
      throw new StoreError(
        "schema_migration_required",
        `${options.description} has store schema version ${from}; tdag ${TDAG_VERSION} needs version ${latest} (${blocking.description}). Open it once read-write to migrate it.`,
      );
    }
    return { from, to: from, applied: [] };
  }
  try {
    await session.transaction(async () => {
      for (const migration of pending) {
        for (const statement of migration.statements(dialect)) await session.run(statement);
      }
      // A database of 0.1.0 gets its version 1 recorded too: the history starts where it was found.
      const recorded = migrations.filter((m) => m.version > 0 && (m.version > from || from === 1));
      for (const migration of recorded) {
        const p = new SqlParams();
        await session.run(
          `INSERT INTO ${MIGRATIONS_TABLE} (version, description, tdag_version, applied_at)
            VALUES (${p.bigint(migration.version)}, ${p.text(migration.description)}, ${p.text(TDAG_VERSION)}, now())
            ON CONFLICT (version) DO NOTHING`,
          p,
        );
      }
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new StoreError(
      "migration_failed",
      `migrating ${options.description} from store schema version ${from} to ${latest} failed, nothing was changed: ${message}`,
      { cause: error },
    );
  }
  return { from, to: latest, applied: pending.map((m) => m.version) };
}

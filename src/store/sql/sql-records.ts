import { NotFoundError } from "../../errors.js";
import type { DType } from "../../frame/dtypes.js";
import type {
  AssetRecord,
  DataFrequencyValue,
  StorageKey,
  StorageRecord,
  TableSchema,
  UpdaterKey,
  UpdaterRecord,
} from "../store-types.js";
import type { SqlDialect } from "./sql-dialect.js";
import { SqlParams } from "./sql-params.js";
import type { Row, SqlSession } from "./sql-session.js";

/**
 * Reading the registry's rows (`tdag_storages`, `tdag_updaters`, `tdag_assets`) into contract
 * records, for every SQL store.
 */

function storageSelect(dialect: SqlDialect): string {
  return `SELECT uid, storage_hash, namespace, source_class_name, build_configuration,
    open_to_public, identifier, description, data_frequency_id,
    ${dialect.epochMillis("created_at")} AS created_ms, time_index_name, index_names, column_dtypes
    FROM tdag_storages`;
}

function updaterSelect(dialect: SqlDialect): string {
  return `SELECT u.uid, u.update_hash, u.storage_uid, s.storage_hash, u.namespace,
    u.build_configuration, ${dialect.epochMillis("u.created_at")} AS created_ms
    FROM tdag_updaters u JOIN tdag_storages s ON s.uid = u.storage_uid`;
}

/** The columns of `tdag_assets` as {@link toAssetRecord} reads them. */
export const ASSET_SELECT = `SELECT id, unique_identifier, name, ticker, exchange_code,
  security_type, security_market_sector, isin, is_custom_by_organization FROM tdag_assets`;

/** Reads a schema back from the storage row's three columns (`null` when never set). */
export function schemaFromRow(
  timeIndexName: unknown,
  indexNames: unknown,
  columnDtypes: unknown,
): TableSchema | null {
  if (typeof timeIndexName !== "string" || typeof indexNames !== "string") return null;
  return {
    timeIndexName,
    indexNames: JSON.parse(indexNames) as string[],
    columnDtypes: JSON.parse(typeof columnDtypes === "string" ? columnDtypes : "{}") as Record<
      string,
      DType
    >,
  };
}

/** A `tdag_storages` row as a {@link StorageRecord}. */
export function toStorageRecord(r: Row): StorageRecord {
  return {
    uid: r["uid"] as string,
    storageHash: r["storage_hash"] as string,
    namespace: (r["namespace"] as string | null) ?? null,
    sourceClassName: r["source_class_name"] as string,
    buildConfiguration: JSON.parse(r["build_configuration"] as string),
    openToPublic: Boolean(r["open_to_public"]),
    identifier: (r["identifier"] as string | null) ?? null,
    description: (r["description"] as string | null) ?? null,
    dataFrequencyId: (r["data_frequency_id"] as DataFrequencyValue | null) ?? null,
    createdAt: new Date(Number(r["created_ms"])),
    schema: schemaFromRow(r["time_index_name"], r["index_names"], r["column_dtypes"]),
  };
}

/** A `tdag_assets` row as an {@link AssetRecord}. */
export function toAssetRecord(r: Row): AssetRecord {
  return {
    id: Number(r["id"]),
    uniqueIdentifier: r["unique_identifier"] as string,
    securityType: (r["security_type"] as string | null) ?? null,
    securityMarketSector: (r["security_market_sector"] as string | null) ?? null,
    isin: (r["isin"] as string | null) ?? null,
    isCustomByOrganization: Boolean(r["is_custom_by_organization"]),
    currentSnapshot: {
      name: r["name"] as string,
      ticker: r["ticker"] as string,
      exchangeCode: (r["exchange_code"] as string | null) ?? null,
    },
  };
}

function toUpdaterRecord(r: Row): UpdaterRecord {
  return {
    uid: r["uid"] as string,
    updateHash: r["update_hash"] as string,
    storageUid: r["storage_uid"] as string,
    storageHash: r["storage_hash"] as string,
    namespace: (r["namespace"] as string | null) ?? null,
    buildConfiguration: JSON.parse(r["build_configuration"] as string),
    createdAt: new Date(Number(r["created_ms"])),
  };
}

/** Every storage, oldest first. */
export async function listStorageRecords(
  session: SqlSession,
  dialect: SqlDialect,
): Promise<StorageRecord[]> {
  const rows = await session.rows(`${storageSelect(dialect)} ORDER BY created_at, storage_hash`);
  return rows.map(toStorageRecord);
}

/** The storage with that key, or `null`. */
export async function findStorageRecord(
  session: SqlSession,
  dialect: SqlDialect,
  key: StorageKey,
): Promise<StorageRecord | null> {
  const p = new SqlParams();
  const where =
    "identifier" in key
      ? `identifier = ${p.text(key.identifier)}`
      : "storageHash" in key
        ? `storage_hash = ${p.text(key.storageHash)}`
        : `uid = ${p.text(key.uid)}`;
  const rows = await session.rows(`${storageSelect(dialect)} WHERE ${where}`, p);
  return rows[0] ? toStorageRecord(rows[0]) : null;
}

/** The storage with that uid; `storage_not_found` when there is none. */
export async function requireStorageRecord(
  session: SqlSession,
  dialect: SqlDialect,
  uid: string,
): Promise<StorageRecord> {
  const storage = await findStorageRecord(session, dialect, { uid });
  if (!storage) throw new NotFoundError("storage_not_found", `no storage with uid '${uid}'`);
  return storage;
}

/** The updater with that key, or `null`. */
export async function findUpdaterRecord(
  session: SqlSession,
  dialect: SqlDialect,
  key: UpdaterKey,
): Promise<UpdaterRecord | null> {
  const p = new SqlParams();
  const where =
    "uid" in key ? `u.uid = ${p.text(key.uid)}` : `u.update_hash = ${p.text(key.updateHash)}`;
  const rows = await session.rows(`${updaterSelect(dialect)} WHERE ${where}`, p);
  return rows[0] ? toUpdaterRecord(rows[0]) : null;
}

/** The updaters of a storage, oldest first. */
export async function listUpdaterRecords(
  session: SqlSession,
  dialect: SqlDialect,
  storageUid: string,
): Promise<UpdaterRecord[]> {
  const p = new SqlParams();
  const rows = await session.rows(
    `${updaterSelect(dialect)} WHERE u.storage_uid = ${p.text(storageUid)} ORDER BY u.created_at, u.update_hash`,
    p,
  );
  return rows.map(toUpdaterRecord);
}

/** The updater with that uid; `updater_not_found` when there is none. */
export async function requireUpdaterRecord(
  session: SqlSession,
  dialect: SqlDialect,
  uid: string,
): Promise<UpdaterRecord> {
  const updater = await findUpdaterRecord(session, dialect, { uid });
  if (!updater) throw new NotFoundError("updater_not_found", `no updater with uid '${uid}'`);
  return updater;
}

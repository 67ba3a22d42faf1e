import { createHash } from "node:crypto";
import { HashingError } from "../errors.js";
import { dictFromEntries, isPyDict, type PyDict, PyIntKeyDict, type PyValue } from "./py-value.js";
import { pythonJsonDumps } from "./python-json.js";

/** Options of {@link hashConfiguration} / {@link hashSignature}. */
export interface HashOptions {
  /** Uid of the project: added as top-level `project_uid` to the update dict only. */
  readonly projectUid?: string | null | undefined;
}

/** Both canonical pre-images of a configuration, the dicts they were written from, and their md5s. */
export interface HashSignature {
  readonly updateDict: PyDict;
  readonly storageDict: PyDict;
  readonly updateCanonicalJson: string;
  readonly storageCanonicalJson: string;
  readonly updateMd5: string;
  readonly storageMd5: string;
}

/** {@link HashSignature} plus the prefixed identities. */
export interface ConfigurationHash extends HashSignature {
  /** `<prefix>_<update md5>`: identifies one updater job. */
  readonly updateHash: string;
  /** `<prefix>_<storage md5>`: identifies the table (dataset contract). */
  readonly storageHash: string;
}

/** Lowercase hex md5 of a string's UTF-8 bytes. */
export function md5Hex(text: string): string {
  return createHash("md5").update(text, "utf8").digest("hex");
}

/**
 * The hash prefix: lowercased name cut to 30 characters, trailing `_` stripped, `"hash"` if empty
 * (30 + `_` + 32 hex digits = 63, the PostgreSQL identifier limit).
 *
 * @example
 * ```ts
 * cropHashPrefix("PricesBars"); // "pricesbars"
 * ```
 */
export function cropHashPrefix(name: string): string {
  const cropped = Array.from(name.toLowerCase()).slice(0, 30).join("").replace(/_+$/, "");
  return cropped === "" ? "hash" : cropped;
}

function isDict(value: PyValue): value is PyDict | PyIntKeyDict {
  return value instanceof PyIntKeyDict || isPyDict(value);
}

function mapDictValues(
  d: PyDict | PyIntKeyDict,
  fn: (v: PyValue) => PyValue,
): PyDict | PyIntKeyDict {
  if (d instanceof PyIntKeyDict) return new PyIntKeyDict(d.entries.map(([k, v]) => [k, fn(v)]));
  return dictFromEntries(Object.entries(d).map(([k, v]) => [k, fn(v)]));
}

/**
 * §3.5 `parse_dictionary_before_hashing`: descends into dict values only (never into lists);
 * ORM-like dicts collapse to their `unique_identifier`, nested time-series configs to the update
 * md5 of their `config_data`, ORM lists to their identifiers.
 */
export function parseBeforeHashing(
  d: PyDict | PyIntKeyDict,
  options: HashOptions = {},
): PyDict | PyIntKeyDict {
  return mapDictValues(d, (value) => {
    if (value instanceof PyIntKeyDict) return parseBeforeHashing(value, options);
    if (!isPyDict(value)) return value;
    if (Object.hasOwn(value, "orm_class")) return value["unique_identifier"] ?? null;
    if (Object.hasOwn(value, "is_time_series_config")) {
      const data = value["config_data"];
      if (!isDict(data ?? null))
        throw new HashingError(
          "hash_unserializable",
          "is_time_series_config dict without a config_data dict",
        );
      return {
        is_time_series_config: value["is_time_series_config"] ?? null,
        config_data: hashSignature(data as PyDict, options).updateMd5,
      };
    }
    if (value["__type__"] === "orm_model_list") {
      const items = value["items"];
      if (!Array.isArray(items))
        throw new HashingError("hash_unserializable", "orm_model_list without items");
      return items.map((item: PyValue) =>
        isPyDict(item) ? (item["unique_identifier"] ?? null) : null,
      );
    }
    return parseBeforeHashing(value, options);
  });
}

const WRAPPER_KEYS = new Set([
  "pydantic_model_import_path",
  "serialized_model",
  "update_only",
  "runtime_only",
]);

function isStringList(value: PyValue | undefined): value is readonly string[] {
  return Array.isArray(value) && value.every((v: PyValue) => typeof v === "string");
}

/** §3.6: is this dict a pydantic wrapper (and not a look-alike with extra keys)? */
export function isPydanticWrapper(value: PyValue): value is PyDict {
  if (!isPyDict(value)) return false;
  if (
    !Object.hasOwn(value, "pydantic_model_import_path") ||
    !Object.hasOwn(value, "serialized_model")
  ) {
    return false;
  }
  if (Object.keys(value).some((k) => !WRAPPER_KEYS.has(k))) return false;
  const path = value["pydantic_model_import_path"] ?? null;
  if (!isPyDict(path)) return false;
  const pathKeys = Object.keys(path);
  if (pathKeys.length !== 2 || !pathKeys.includes("module") || !pathKeys.includes("qualname"))
    return false;
  if (!isPyDict(value["serialized_model"] ?? null)) return false;
  if (Object.hasOwn(value, "update_only") && !isStringList(value["update_only"])) return false;
  if (Object.hasOwn(value, "runtime_only") && !isStringList(value["runtime_only"])) return false;
  return true;
}

/**
 * §3.6 `strip_pydantic_hash_exclusions`: inside every pydantic wrapper drop the `runtime_only`
 * fields (and the `update_only` ones for the storage hash) and the marker lists themselves.
 */
export function stripHashExclusions(value: PyValue, forStorageHash: boolean): PyValue {
  if (Array.isArray(value))
    return value.map((v: PyValue) => stripHashExclusions(v, forStorageHash));
  if (value instanceof PyIntKeyDict) {
    return new PyIntKeyDict(
      value.entries.map(([k, v]) => [k, stripHashExclusions(v, forStorageHash)]),
    );
  }
  if (!isPyDict(value)) return value;
  if (isPydanticWrapper(value)) {
    const drop = new Set<string>(value["runtime_only"] as readonly string[] | undefined);
    if (forStorageHash)
      for (const f of (value["update_only"] as readonly string[] | undefined) ?? []) drop.add(f);
    const model = value["serialized_model"] as PyDict;
    const kept = Object.entries(model)
      .filter(([k]) => !drop.has(k))
      .map(([k, v]) => [k, stripHashExclusions(v, forStorageHash)] as const);
    return {
      pydantic_model_import_path: value["pydantic_model_import_path"] as PyDict,
      serialized_model: dictFromEntries(kept),
    };
  }
  return dictFromEntries(
    Object.entries(value as PyDict).map(([k, v]) => [k, stripHashExclusions(v, forStorageHash)]),
  );
}

/**
 * The reference's `hash_signature` (§3.5–§3.8): parse, strip per hash, add `project_uid` to the
 * update dict when a project is known, write Python canonical JSON, md5 both.
 */
export function hashSignature(
  buildConfiguration: PyDict | PyIntKeyDict,
  options: HashOptions = {},
): HashSignature {
  const parsed = parseBeforeHashing(buildConfiguration, options);
  let updateDict = stripHashExclusions(parsed, false) as PyDict;
  const storageDict = stripHashExclusions(parsed, true) as PyDict;
  const projectUid = options.projectUid?.trim();
  if (projectUid && !(updateDict instanceof PyIntKeyDict)) {
    updateDict = dictFromEntries([...Object.entries(updateDict), ["project_uid", projectUid]]);
  }
  const updateCanonicalJson = pythonJsonDumps(updateDict, { sortKeys: true });
  const storageCanonicalJson = pythonJsonDumps(storageDict, { sortKeys: true });
  return {
    updateDict,
    storageDict,
    updateCanonicalJson,
    storageCanonicalJson,
    updateMd5: md5Hex(updateCanonicalJson),
    storageMd5: md5Hex(storageCanonicalJson),
  };
}

/**
 * Hashes a serialized build configuration `S` the way the reference's `create_config` does after
 * serialization: both canonical strings, both md5s and the prefixed `updateHash`/`storageHash`.
 * Accepts the typed value model or plain JSON (where integral numbers are ints: wrap floats in
 * `PyFloat`, or read Python-written JSON with `parsePythonJson`).
 *
 * @example
 * ```ts
 * hashConfiguration("RawNode", { identifier: "prices" }).updateHash;
 * // "rawnode_1defda21074554f82e5dff82bf53430a"
 * ```
 */
export function hashConfiguration(
  className: string,
  buildConfiguration: PyDict,
  options: HashOptions = {},
): ConfigurationHash {
  if (!isPyDict(buildConfiguration)) {
    throw new HashingError(
      "hash_unserializable",
      "a build configuration is a dict of hashed arguments",
    );
  }
  const signature = hashSignature(buildConfiguration, options);
  const prefix = cropHashPrefix(className);
  return {
    ...signature,
    updateHash: `${prefix}_${signature.updateMd5}`.toLowerCase(),
    storageHash: `${prefix}_${signature.storageMd5}`.toLowerCase(),
  };
}

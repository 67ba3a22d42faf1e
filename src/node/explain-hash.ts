import { isPydanticWrapper } from "../hashing/configuration-hash.js";
import { isPyDict, type PyDict, PyFloat, PyIntKeyDict, type PyValue } from "../hashing/py-value.js";
import { pythonJsonDumps } from "../hashing/python-json.js";
import { NODE_IDENTITY } from "./data-node.js";
import type { NodeIdentity } from "./identity.js";

/** Something with a node identity: a DataNode, or an identity itself. */
export type HasIdentity = { readonly [NODE_IDENTITY]: NodeIdentity } | NodeIdentity;

/** What {@link explainHash} returns. */
export interface HashExplanation {
  readonly updateHash: string;
  readonly storageHash: string;
  /** The exact string whose md5 is the update hash. */
  readonly updateCanonicalJson: string;
  /** The exact string whose md5 is the storage hash. */
  readonly storageCanonicalJson: string;
  /** The unstripped build configuration, Python JSON text. */
  readonly buildConfigurationJson: string;
}

function identityOf(source: HasIdentity): NodeIdentity {
  return NODE_IDENTITY in source ? source[NODE_IDENTITY] : source;
}

/**
 * Shows what a node's hashes are made of: both canonical pre-images (the exact md5 inputs).
 *
 * @example
 * ```ts
 * const { updateCanonicalJson, storageCanonicalJson } = explainHash(node);
 * ```
 */
export function explainHash(node: HasIdentity): HashExplanation {
  const identity = identityOf(node);
  return {
    updateHash: identity.updateHash,
    storageHash: identity.storageHash,
    updateCanonicalJson: identity.updateCanonicalJson,
    storageCanonicalJson: identity.storageCanonicalJson,
    buildConfigurationJson: identity.buildConfigurationJson,
  };
}

/** What {@link diffHashes} returns: dotted paths of the hashed values that differ, per hash. */
export interface HashDiff {
  readonly update: readonly string[];
  readonly storage: readonly string[];
}

/**
 * Names the fields that make two nodes' hashes differ, as dotted paths through the hashed dicts
 * (model wrappers are transparent: `config.shard_id`, `config.legs[1].weight`; a different model
 * identity shows as `config.<model>`). Empty lists mean equal hashes.
 *
 * @example
 * ```ts
 * diffHashes(shardA, shardB); // { update: ["config.shard_id"], storage: [] }
 * ```
 */
export function diffHashes(a: HasIdentity, b: HasIdentity): HashDiff {
  const ia = identityOf(a);
  const ib = identityOf(b);
  const update: string[] = [];
  const storage: string[] = [];
  diffValues(ia.updateDict, ib.updateDict, "", update);
  diffValues(ia.storageDict, ib.storageDict, "", storage);
  return { update, storage };
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function canonical(value: PyValue | undefined): string {
  return value === undefined ? "<absent>" : pythonJsonDumps(value, { sortKeys: true });
}

function diffValues(
  a: PyValue | undefined,
  b: PyValue | undefined,
  path: string,
  out: string[],
): void {
  if (canonical(a) === canonical(b)) return;
  if (a !== undefined && b !== undefined && isPydanticWrapper(a) && isPydanticWrapper(b)) {
    const pa = a["pydantic_model_import_path"] as PyValue;
    const pb = b["pydantic_model_import_path"] as PyValue;
    if (canonical(pa) !== canonical(pb)) out.push(join(path, "<model>"));
    diffDicts(a["serialized_model"] as PyDict, b["serialized_model"] as PyDict, path, out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) diffValues(a[i], b[i], `${path}[${i}]`, out);
    return;
  }
  if (a instanceof PyIntKeyDict && b instanceof PyIntKeyDict) {
    const ma = new Map(a.entries.map(([k, v]) => [k.toString(), v]));
    const mb = new Map(b.entries.map(([k, v]) => [k.toString(), v]));
    for (const key of new Set([...ma.keys(), ...mb.keys()])) {
      diffValues(ma.get(key), mb.get(key), join(path, key), out);
    }
    return;
  }
  if (isPyDict(a) && isPyDict(b) && !(a instanceof PyFloat) && !(b instanceof PyFloat)) {
    diffDicts(a, b, path, out);
    return;
  }
  out.push(path === "" ? "<root>" : path);
}

function diffDicts(a: PyDict, b: PyDict, path: string, out: string[]): void {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const key of keys) {
    diffValues(
      Object.hasOwn(a, key) ? a[key] : undefined,
      Object.hasOwn(b, key) ? b[key] : undefined,
      join(path, key),
      out,
    );
  }
}

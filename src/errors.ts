/**
 * One error family: every error a user can catch from tdag is a {@link TdagError} subclass with a
 * `code` from its family's `as const` list, immutable once constructed, and recognisable across
 * copies of the package (`instanceof` checks a brand, not the prototype chain), so a CLI or an
 * app that bundles another copy of tdag still classifies the errors of the user's copy.
 *
 * @example
 * ```ts
 * import { FrameValidationError, isTdagError, StoreError } from "tdag";
 * try { await node.run(); } catch (err) {
 *   if (err instanceof FrameValidationError) console.error(err.issues);
 *   else if (err instanceof StoreError && err.code === "schema_conflict") console.error(err.message);
 *   else if (isTdagError(err)) console.error(err.code, err.message);
 * }
 * ```
 */

/** The brand every tdag error carries: the names of its families, base first. */
const FAMILIES: unique symbol = Symbol.for("tdag.error.families");
/** A hook the test suite installs to audit every error constructed (never set in production). */
const AUDIT = Symbol.for("tdag.error.audit");

/** What every error constructor accepts besides its code and message. */
export interface TdagErrorOptions {
  /** The error this one wraps (a driver error, a user's error, a transport failure). */
  readonly cause?: unknown;
}

/** A constructor of a tdag error family: its name and the codes it may carry. */
export interface ErrorFamilyInfo {
  readonly family: string;
  readonly codes: readonly string[];
}

type Audit = (error: TdagError, family: ErrorFamilyInfo) => void;

function familiesOf(ctor: unknown): readonly string[] {
  const names: string[] = [];
  let current: unknown = ctor;
  while (typeof current === "function") {
    if (Object.hasOwn(current, "family"))
      names.unshift((current as unknown as ErrorFamilyInfo).family);
    current = Object.getPrototypeOf(current);
  }
  return Object.freeze(names);
}

/**
 * The base of every tdag error. Not constructed directly: each family is a subclass with its own
 * code list (`StoreError.codes`, `FilterError.codes`, ...). Fields are read-only and the object is
 * frozen after construction (a caught error is evidence: nothing downstream may rewrite it).
 *
 * `err instanceof StoreError` is true for a `StoreError` thrown by any copy of tdag loaded in the
 * process; {@link isTdagError} is the same check as a function.
 */
export abstract class TdagError<C extends string = string> extends Error {
  /** The family this class defines (subclasses override it). */
  static readonly family: string = "TdagError";
  /** The codes of this family (subclasses override it). */
  static readonly codes: readonly string[] = [];

  /** A stable code from the family's list: branch on it, never on the message. */
  declare readonly code: C;

  /**
   * @param fields the subclass's own read-only fields, set before the object is frozen
   */
  protected constructor(
    code: C,
    message: string,
    options: TdagErrorOptions = {},
    fields: Readonly<Record<string, unknown>> = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const families = familiesOf(new.target);
    const own = { name: families[families.length - 1] ?? "TdagError", code, ...fields };
    for (const [key, value] of Object.entries(own)) {
      Object.defineProperty(this, key, { value, enumerable: key !== "name", writable: false });
    }
    Object.defineProperty(this, FAMILIES, { value: families, enumerable: false, writable: false });
    const audit = (globalThis as { [AUDIT]?: Audit })[AUDIT];
    if (audit) audit(this, new.target as unknown as ErrorFamilyInfo);
    Object.freeze(this);
  }

  /** Brand check: true for an error of this family (or a sub-family) from any copy of tdag. */
  static override [Symbol.hasInstance]<T>(
    this: (abstract new (...args: never[]) => T) & ErrorFamilyInfo,
    value: unknown,
  ): value is T {
    if (!isTdagError(value)) return false;
    // `this` is the class `instanceof` was asked about (a subclass inherits this method).
    // biome-ignore lint/complexity/noThisInStatic: the family of the subclass, not of TdagError
    return this.family === "TdagError" || errorFamilies(value).includes(this.family);
  }
}

/**
 * The base of one error family: its name, its `as const` code list and a public
 * `(code, message, options)` constructor. A family is `class X extends errorFamily("X", CODES)`;
 * one with fields of its own passes them on as `fields`.
 *
 * @example
 * ```ts
 * export const QUEUE_ERROR_CODES = ["queue_closed", "job_lost"] as const;
 * export class QueueError extends errorFamily("QueueError", QUEUE_ERROR_CODES) {}
 * new QueueError("job_lost", "the worker died"); // instanceof TdagError, code typed
 * ```
 */
export function errorFamily<C extends string>(family: string, codes: readonly C[]) {
  abstract class Family extends TdagError<C> {
    static override readonly family: string = family;
    static override readonly codes: readonly string[] = codes;

    /** @param fields the family's own read-only fields (set before the error is frozen) */
    constructor(
      code: C,
      message: string,
      options: TdagErrorOptions = {},
      fields?: Readonly<Record<string, unknown>>,
    ) {
      super(code, message, options, fields);
    }
  }
  return Family;
}

/**
 * True for any tdag error (from any copy of the package), optionally of the named family.
 *
 * @example
 * ```ts
 * if (isTdagError(err, "StoreError")) console.error(err.code);
 * ```
 */
export function isTdagError(value: unknown, family?: string): value is TdagError {
  if (typeof value !== "object" || value === null) return false;
  const families = (value as { [FAMILIES]?: unknown })[FAMILIES];
  if (!Array.isArray(families)) return false;
  return family === undefined || families.includes(family);
}

/** The families an error belongs to, base first (`["TdagError", "StoreError"]`); `[]` for others. */
export function errorFamilies(value: unknown): readonly string[] {
  return isTdagError(value)
    ? (value as unknown as { [FAMILIES]: readonly string[] })[FAMILIES]
    : [];
}

// ---------------------------------------------------------------- config and hashing

/** Codes of {@link ConfigError}. */
export const CONFIG_ERROR_CODES = [
  "config_invalid",
  "config_markers_invalid",
  "invalid_dtype",
  "naive_datetime_dtype",
  "node_identity_missing",
  "node_options_invalid",
  "init_meta_removed",
  "legacy_class_attribute",
  "update_missing",
  "server_not_loopback",
  "invalid_port",
  "invalid_setting",
] as const;
export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[number];

/** One problem found in a config: the dotted path of the field and what is wrong with it. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * A config, a config schema, a node class or a setting is invalid: unknown key, wrong type,
 * conflicting markers, a missing `update()`. `issues` names every offending field by its path.
 *
 * @example
 * ```ts
 * try { new Prices({ mean: "x" }); } catch (err) {
 *   if (err instanceof ConfigError) err.issues; // [{ path: "mean", message: "expected number" }]
 * }
 * ```
 */
export class ConfigError extends errorFamily("ConfigError", CONFIG_ERROR_CODES) {
  declare readonly issues: readonly ConfigIssue[];

  constructor(
    code: ConfigErrorCode,
    message: string,
    options: TdagErrorOptions & { readonly issues?: readonly ConfigIssue[] } = {},
  ) {
    super(code, message, options, { issues: Object.freeze([...(options.issues ?? [])]) });
  }
}

/** A bad argument to a public function: a wrong type, a blank name, an unparsable instant. */
export const ARGUMENT_ERROR_CODES = [
  "invalid_argument",
  "invalid_datetime",
  "naive_datetime",
  "removed_option",
  "invalid_json",
] as const;
export type ArgumentErrorCode = (typeof ARGUMENT_ERROR_CODES)[number];

/**
 * A public function was called with an argument it cannot use. The message names the argument
 * and the value.
 *
 * @example
 * ```ts
 * try { APIDataNode.buildFromIdentifier(""); } catch (err) {
 *   if (err instanceof ArgumentError) err.code; // "invalid_argument"
 * }
 * ```
 */
export class ArgumentError extends errorFamily("ArgumentError", ARGUMENT_ERROR_CODES) {}

/** Codes of {@link HashingError}. */
export const HASHING_ERROR_CODES = ["hash_unserializable", "json_syntax"] as const;
export type HashingErrorCode = (typeof HASHING_ERROR_CODES)[number];

/** A value cannot be turned into canonical hash material (the Python reference raises TypeError). */
export class HashingError extends errorFamily("HashingError", HASHING_ERROR_CODES) {}

// ---------------------------------------------------------------- frames

/** Codes of the issues {@link FrameValidationError} lists (docs/frame.md). */
export const FRAME_ISSUE_CODES = [
  "index_names",
  "missing_index_column",
  "time_index_not_utc",
  "null_index_value",
  "duplicate_index",
  "uppercase_column",
  "column_name_too_long",
  "datetime_value_column",
  "missing_record_column",
  "unknown_dtype",
  "record_dtype_mismatch",
  "invalid_record_value",
  "schema_dtype_mismatch",
  "index_mismatch",
  "dtype_mismatch",
  "unknown_column",
  "length_mismatch",
  "wrong_dtype",
  "invalid_timestamp",
  "naive_timestamp",
  "invalid_time_index",
  "naive_time_index",
  "null_time_index",
  "frame_invalid",
] as const;
export type FrameIssueCode = (typeof FRAME_ISSUE_CODES)[number];

/** One problem found in a frame. `rows` holds the first offending row positions (0-based). */
export interface FrameIssue {
  readonly code: FrameIssueCode;
  readonly message: string;
  readonly column?: string;
  readonly rows?: readonly number[];
}

/**
 * A frame breaks a validation rule. The message lists every issue; `issues` carries them with
 * their codes, columns and first offending rows; `code` is the first issue's code.
 *
 * @example
 * ```ts
 * const result = safeValidateFrame(frame);
 * if (!result.success) result.error.issues.map((i) => `${i.code} ${i.column ?? ""}`);
 * ```
 */
export class FrameValidationError extends errorFamily("FrameValidationError", FRAME_ISSUE_CODES) {
  declare readonly issues: readonly FrameIssue[];

  constructor(issues: readonly FrameIssue[], context?: string) {
    const head = context ? `${context}: ` : "";
    const lines = issues.map((issue) => `  - [${issue.code}] ${issue.message}`);
    super(
      issues[0]?.code ?? "frame_invalid",
      `${head}frame failed validation with ${issues.length} issue(s):\n${lines.join("\n")}`,
      {},
      { issues: Object.freeze(issues.map((issue) => Object.freeze({ ...issue }))) },
    );
  }
}

// ---------------------------------------------------------------- stores

/** Codes of {@link StoreError}. */
export const STORE_ERROR_CODES = [
  "store_error",
  "store_unavailable",
  "database_locked",
  "closed",
  "aborted",
  "schema_conflict",
  "invalid_schema",
  "duplicate_index",
  "null_index_value",
  "constraint_violation",
  "conversion_error",
  "identifier_taken",
  "invalid_value",
  "invalid_query",
  "invalid_identifier",
  "unknown_column",
  "unknown_dimension",
  "unknown_filter",
  "conflict",
  "invalid_response",
  "missing_project",
  "unsupported_capability",
  "schema_too_new",
  "schema_migration_required",
  "migration_failed",
] as const;
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];

/**
 * A store operation failed. Keeps the SQL text and bound parameters when there were any, and
 * the driver's or the platform's error as `cause`.
 *
 * @example
 * ```ts
 * try { await store.writeFrame(uid, frame, { updaterUid }); } catch (err) {
 *   if (err instanceof StoreError && err.code === "schema_conflict") console.error(err.message);
 * }
 * ```
 */
export class StoreError extends errorFamily("StoreError", STORE_ERROR_CODES) {
  declare readonly sql: string | undefined;
  declare readonly params: readonly unknown[] | undefined;

  constructor(
    code: StoreErrorCode,
    message: string,
    options: TdagErrorOptions & {
      readonly sql?: string;
      readonly params?: readonly unknown[];
    } = {},
  ) {
    super(code, message, options, {
      sql: options.sql,
      params: options.params === undefined ? undefined : Object.freeze([...options.params]),
    });
  }
}

/** Codes of {@link NotFoundError}. */
export const NOT_FOUND_ERROR_CODES = [
  "not_found",
  "storage_not_found",
  "updater_not_found",
  "run_not_found",
  "unresolved",
] as const;
export type NotFoundErrorCode = (typeof NOT_FOUND_ERROR_CODES)[number];

/** A storage, updater or run looked up by identifier/hash/uid does not exist. */
export class NotFoundError extends errorFamily("NotFoundError", NOT_FOUND_ERROR_CODES) {}

/** Codes of {@link UnknownAssetError}. */
export const UNKNOWN_ASSET_ERROR_CODES = ["unknown_asset"] as const;

/** Rows of a 2-D table name identities that are not registered assets. */
export class UnknownAssetError extends errorFamily("UnknownAssetError", UNKNOWN_ASSET_ERROR_CODES) {
  declare readonly identifiers: readonly string[];

  constructor(identifiers: readonly string[], table: string) {
    const shown = identifiers.slice(0, 20).join(", ");
    const more = identifiers.length > 20 ? ` (and ${identifiers.length - 20} more)` : "";
    super(
      "unknown_asset",
      `${identifiers.length} unique_identifier value(s) written to ${table} are not registered assets: ${shown}${more}. Register them first with Asset.batchGetOrRegisterCustomAssets([...]).`,
      {},
      { identifiers: Object.freeze([...identifiers]) },
    );
  }
}

// ---------------------------------------------------------------- graphs and runs

/** Codes of {@link GraphError}. */
export const GRAPH_ERROR_CODES = ["dependency_cycle", "invalid_dependency"] as const;
export type GraphErrorCode = (typeof GRAPH_ERROR_CODES)[number];

/** The dependency graph is invalid (a cycle, a dependency that is not a node). */
export class GraphError extends errorFamily("GraphError", GRAPH_ERROR_CODES) {
  declare readonly nodes: readonly string[];

  constructor(
    code: GraphErrorCode,
    message: string,
    options: TdagErrorOptions & { readonly nodes?: readonly string[] } = {},
  ) {
    super(code, message, options, { nodes: Object.freeze([...(options.nodes ?? [])]) });
  }
}

/** Codes of {@link RunError}. */
export const RUN_ERROR_CODES = ["run_failed", "run_aborted"] as const;
export type RunErrorCode = (typeof RUN_ERROR_CODES)[number];

/** `update()` or the persistence of its result failed; `cause` holds the original error. */
export class RunError extends errorFamily("RunError", RUN_ERROR_CODES) {
  declare readonly updateHash: string;

  constructor(
    code: RunErrorCode,
    message: string,
    options: TdagErrorOptions & { readonly updateHash: string },
  ) {
    super(code, message, options, { updateHash: options.updateHash });
  }
}

/** Codes of {@link UpdateStatisticsError}. */
export const UPDATE_STATISTICS_ERROR_CODES = [
  "update_statistics_invalid",
  "update_statistics_unknown_field",
  "identity_invalid",
  "identity_not_found",
  "identity_level_invalid",
  "identity_dimensions_required",
  "identity_dimensions_mismatch",
] as const;
export type UpdateStatisticsErrorCode = (typeof UPDATE_STATISTICS_ERROR_CODES)[number];

/** `UpdateStatistics` was built from invalid fields or asked about identities it does not hold. */
export class UpdateStatisticsError extends errorFamily(
  "UpdateStatisticsError",
  UPDATE_STATISTICS_ERROR_CODES,
) {}

/**
 * Every error tdag throws is a {@link TdagError} with a stable `code`, so callers can branch on
 * `err.code` instead of parsing messages.
 *
 * @example
 * ```ts
 * try { await node.run(); } catch (err) {
 *   if (err instanceof FrameValidationError) console.error(err.issues);
 * }
 * ```
 */
export class TdagError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem found in a config: the dotted path of the field and what is wrong with it. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * A config (or a config schema) is invalid: unknown key, wrong type, conflicting markers.
 * `issues` names every offending field by its dotted path.
 */
export class ConfigError extends TdagError {
  readonly issues: readonly ConfigIssue[];

  constructor(message: string, issues: readonly ConfigIssue[] = [], code = "config_invalid") {
    super(code, message);
    this.issues = issues;
  }
}

/** A value cannot be turned into canonical hash material (the Python reference raises TypeError). */
export class HashingError extends TdagError {
  constructor(message: string, code = "hash_unserializable") {
    super(code, message);
  }
}

/** One problem found in a frame. `rows` holds the first offending row positions (0-based). */
export interface FrameIssue {
  readonly code: string;
  readonly message: string;
  readonly column?: string;
  readonly rows?: readonly number[];
}

/**
 * A frame breaks a validation rule. The message lists every issue; `issues` carries them with
 * their codes, columns and first offending rows.
 */
export class FrameValidationError extends TdagError {
  readonly issues: readonly FrameIssue[];

  constructor(issues: readonly FrameIssue[], context?: string) {
    const head = context ? `${context}: ` : "";
    const lines = issues.map((issue) => `  - [${issue.code}] ${issue.message}`);
    super(
      issues[0]?.code ?? "frame_invalid",
      `${head}frame failed validation with ${issues.length} issue(s):\n${lines.join("\n")}`,
    );
    this.issues = issues;
  }
}

/** A store operation failed. Keeps the SQL text and bound parameters when there were any. */
export class StoreError extends TdagError {
  readonly sql: string | undefined;
  readonly params: readonly unknown[] | undefined;

  constructor(
    message: string,
    options: { code?: string; sql?: string; params?: readonly unknown[]; cause?: unknown } = {},
  ) {
    super(options.code ?? "store_error", message, { cause: options.cause });
    this.sql = options.sql;
    this.params = options.params;
  }
}

/** A storage, updater or asset looked up by identifier/hash/uid does not exist. */
export class NotFoundError extends TdagError {
  constructor(message: string, code = "not_found") {
    super(code, message);
  }
}

/** The dependency graph is invalid (a cycle, a dependency that is not a node). */
export class GraphError extends TdagError {
  readonly nodes: readonly string[];

  constructor(message: string, nodes: readonly string[] = [], code = "graph_invalid") {
    super(code, message);
    this.nodes = nodes;
  }
}

/** Rows of a 2-D table name identities that are not registered assets. */
export class UnknownAssetError extends TdagError {
  readonly identifiers: readonly string[];

  constructor(identifiers: readonly string[], table: string) {
    const shown = identifiers.slice(0, 20).join(", ");
    const more = identifiers.length > 20 ? ` (and ${identifiers.length - 20} more)` : "";
    super(
      "unknown_asset",
      `${identifiers.length} unique_identifier value(s) written to ${table} are not registered assets: ${shown}${more}. Register them first with Asset.batchGetOrRegisterCustomAssets([...]).`,
    );
    this.identifiers = identifiers;
  }
}

/** `update()` or the persistence of its result failed; `cause` holds the original error. */
export class RunError extends TdagError {
  readonly updateHash: string;

  constructor(message: string, updateHash: string, cause?: unknown, code = "run_failed") {
    super(code, message, { cause });
    this.updateHash = updateHash;
  }
}

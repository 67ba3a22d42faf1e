import { createHash } from "node:crypto";
import type * as z from "zod";
import { toJSONSchema } from "zod";
import {
  DataNodeConfiguration,
  type DataNodeMetaData,
  type RecordDefinition,
} from "../config/data-node-configuration.js";
import { DateTimeValue } from "../config/date-time.js";
import { parseConfig } from "../config/parse-config.js";
import {
  type EngineNode,
  type RunOptions,
  type RunResult,
  runGraph,
  type UpdateContext,
} from "../engine/run-engine.js";
import { ConfigError } from "../errors.js";
import { Frame, type FrameInput } from "../frame/frame.js";
import { DATA_NODE_BRAND } from "../hashing/brands.js";
import { hashNamespace } from "../hashing/namespace.js";
import { resolveProjectUid } from "../hashing/project-uid.js";
import { isPyDict, type JsonValue } from "../hashing/py-value.js";
import { getLogger, type Logger, scopedLogger } from "../logger.js";
import { UpdateStatistics } from "../statistics/update-statistics.js";
import type {
  AssetRecord,
  ColumnMetadata,
  DataStore,
  StorageRecord,
  TableMetadata,
  TableStatistics,
} from "../store/data-store.js";
import { emptyStatistics } from "../store/progress-tree.js";
import { getStore } from "../store/store-registry.js";
import {
  computeNodeIdentity,
  type NodeClassStatics,
  type NodeIdentity,
  type PythonClassIdentity,
  resolveClassIdentity,
} from "./identity.js";
import {
  APPLY_NAMESPACE,
  abandonConstruction,
  recordHashReferences,
  registerConstruction,
} from "./namespace-inheritance.js";
import {
  checkLegacyClassAttributes,
  checkNodeOptions,
  type DataNodeOptions,
} from "./node-options.js";
import {
  type DateRangeOptions,
  type DimensionOptions,
  readBetweenDates,
  readLastObservation,
} from "./read-options.js";

/** Key under which a node exposes its full identity (used by `explainHash`/`diffHashes`). */
export const NODE_IDENTITY: unique symbol = Symbol.for("tdag.DataNode.identity");

interface NodeState {
  identity: NodeIdentity;
  namespace: string;
  readonly hashedArgs: Readonly<Record<string, unknown>> | undefined;
  readonly projectUid: string | undefined;
}

/**
 * Base class of every node: a config (validated by `static configSchema`), two identities
 * computed eagerly at construction, and its dependencies.
 *
 * - `storageHash` names the table (what the data *is*), `updateHash` one updater job writing it;
 * - both are md5s of Python-compatible canonical JSON, see docs/hashing.md;
 * - declare `static pythonIdentity` (and register the config with `pythonIdentity(...)`) to share
 *   tables with a Python twin; otherwise the class (or `static nodeName`) names the node.
 *
 * @example
 * ```ts
 * const PricesConfig = DataNodeConfiguration.extend({ ticker: z.string(), window: z.int().default(20) });
 * class PricesNode extends DataNode<typeof PricesConfig> {
 *   static override configSchema = PricesConfig;
 * }
 * const node = new PricesNode({ ticker: "NVDA" });
 * node.storageHash; // "pricesnode_…"
 * ```
 */
export abstract class DataNode<S extends z.ZodObject = typeof DataNodeConfiguration>
  implements EngineNode
{
  /** Schema of the node's config (a `DataNodeConfiguration.extend(...)`). */
  static configSchema: z.ZodObject = DataNodeConfiguration;
  /** Stable name of the node (hash prefix and TS identity); default: the class name. */
  static nodeName?: string;
  /** Python `module`/`qualname` of the twin node class, for Python-identical hashes. */
  static pythonIdentity?: PythonClassIdentity;
  /** Hashed key of the config (the Python constructor's parameter name); default `"config"`. */
  static configKey?: string;
  /** Where a first run starts when the config has no `offset_start` (as the reference). */
  static OFFSET_START: Date = new Date("2018-01-01T00:00:00Z");
  /** Published to everyone unless the config sets `open_to_public` explicitly. */
  static OPEN_TO_PUBLIC = false;

  /**
   * The statistics of the node's table, set by `run()` before `update()` and refreshed after the
   * write (empty until the first run).
   */
  updateStatistics: UpdateStatistics = UpdateStatistics.empty();
  #store: DataStore | null = null;
  #logger: Logger | null = null;

  /** The parsed config (defaults applied), frozen; treat nested values as immutable too. */
  readonly config: z.output<S>;
  readonly #state: NodeState;
  readonly #fieldsSet: ReadonlySet<string>;

  /**
   * @param config the node's config, validated by `static configSchema`
   * @param options namespace and project of the hashes
   * @param hashedArgs extra hashed arguments (the reference hashes every constructor argument):
   *   plain values, or other nodes (hashed as their `updateHash`)
   * @throws ConfigError invalid config, options or markers
   * @throws HashingError a value Python could not serialize
   */
  constructor(
    config: z.input<S>,
    options: DataNodeOptions = {},
    hashedArgs?: Readonly<Record<string, unknown>>,
  ) {
    const ctor = new.target as unknown as NodeClassStatics;
    checkLegacyClassAttributes(new.target, DataNode);
    const fixed = checkNodeOptions(options, hashedArgs);
    // frozen (top level; nested values may be the caller's own objects): the hashes are computed
    // once, so the config must not change afterwards
    this.config = Object.freeze(parseConfig(ctor.configSchema, config, ctor.name)) as z.output<S>;
    this.#fieldsSet = new Set(isPyDict(config) ? Object.keys(config) : []);
    const record = registerConstruction({ node: this, fixed, target: new.target, base: DataNode });
    try {
      const projectUid =
        options.projectUid === null ? undefined : options.projectUid?.trim() || resolveProjectUid();
      const identity = computeNodeIdentity({
        ctor,
        config: this.config,
        hashedArgs,
        namespace: record.namespace,
        projectUid,
      });
      this.#state = { identity, namespace: record.namespace, hashedArgs, projectUid };
      recordHashReferences(this, identity.embeddedNodes);
    } catch (err) {
      abandonConstruction(record);
      throw err;
    }
  }

  /** Brand recognised by the hashing layer (`Symbol.for("tdag.DataNode")`). */
  get [DATA_NODE_BRAND](): true {
    return true;
  }

  /** Identifies one updater job: `<prefix>_<md5>`. */
  get updateHash(): string {
    return this.#state.identity.updateHash;
  }

  /** Identifies the table: `<prefix>_<md5>`. */
  get storageHash(): string {
    return this.#state.identity.storageHash;
  }

  /**
   * Name of the node for logs and hash prefixes: the last segment of `pythonIdentity.qualname`,
   * else `static nodeName`, else the class name.
   */
  get nodeName(): string {
    return resolveClassIdentity(this.constructor as unknown as NodeClassStatics).prefixName;
  }

  /**
   * Config keys given explicitly at construction (pydantic's `model_fields_set`), e.g. to tell
   * an explicit `open_to_public: false` from the default.
   */
  get configFieldsSet(): ReadonlySet<string> {
    return this.#fieldsSet;
  }

  /** The resolved hash namespace (`""` when none). */
  get hashNamespace(): string {
    return this.#state.namespace;
  }

  /** True when the node has a non-empty namespace (as the reference's `test_node`). */
  get testNode(): boolean {
    return this.#state.namespace !== "";
  }

  /**
   * The serialized, unstripped configuration sent to the platform (hash-excluded values and
   * marker lists included), as plain JSON. Float-ness is only kept in
   * {@link DataNode.buildConfigurationJson}.
   */
  get buildConfiguration(): { [key: string]: JsonValue } {
    return this.#state.identity.buildConfiguration;
  }

  /** The build configuration as Python's `json.dumps` writes it (`1.0` stays `1.0`). */
  get buildConfigurationJson(): string {
    return this.#state.identity.buildConfigurationJson;
  }

  /**
   * The node class's source text and its SHA-1 (40 hex), which the platform keeps with the
   * storage, as the Python client sends its class source. `null` when the class has no text
   * (a native or bound class).
   *
   * @example
   * ```ts
   * new Prices({}).sourceCode?.gitHash; // "3f1c…" (40 hex)
   * ```
   */
  get sourceCode(): { readonly text: string; readonly gitHash: string } | null {
    const text = Function.prototype.toString.call(this.constructor);
    if (text === "" || text.includes("[native code]")) return null;
    return { text, gitHash: createHash("sha1").update(text).digest("hex") };
  }

  /**
   * The JSON Schema of the node's config under its hashed key (`{ config: {...} }`), as the
   * platform keeps it with the storage; `null` when zod cannot express the schema.
   *
   * @example
   * ```ts
   * new Prices({ window: 5 }).buildConfigurationJsonSchema; // { config: { type: "object", ... } }
   * ```
   */
  get buildConfigurationJsonSchema(): { readonly [key: string]: unknown } | null {
    const ctor = this.constructor as unknown as NodeClassStatics;
    try {
      const schema = toJSONSchema(ctor.configSchema, { io: "input", unrepresentable: "any" });
      return { [resolveClassIdentity(ctor).configKey]: schema };
    } catch {
      return null;
    }
  }

  /** Full identity: hashes, canonical pre-images, stripped dicts. */
  get [NODE_IDENTITY](): NodeIdentity {
    return this.#state.identity;
  }

  /** @internal Re-hashes the node in another namespace (constructor inheritance). */
  [APPLY_NAMESPACE](namespace: string): void {
    const ctor = this.constructor as unknown as NodeClassStatics;
    const identity = computeNodeIdentity({
      ctor,
      config: this.config,
      hashedArgs: this.#state.hashedArgs,
      namespace,
      projectUid: this.#state.projectUid,
    });
    this.#state.identity = identity;
    this.#state.namespace = namespace;
  }

  /**
   * The nodes this node reads from, by name. Default: none.
   *
   * @example
   * ```ts
   * override dependencies() { return { prices: this.prices }; }
   * ```
   */
  dependencies(): Record<string, DataNode | unknown> {
    return {};
  }

  /**
   * Produces the rows that are new since the last run. Read `context.updateStatistics` (also
   * `this.updateStatistics`) to know where the table stands; return a `Frame`, an array of
   * row objects or a columns object. An empty result means "nothing new".
   *
   * @example
   * ```ts
   * override update({ updateStatistics }: UpdateContext) {
   *   const { startDate } = updateStatistics.getUpdateStart({ stepMicros: MICROS.day });
   *   return startDate ? fetchDailyRows(startDate) : [];
   * }
   * ```
   */
  update(_context: UpdateContext): FrameInput | Promise<FrameInput> {
    throw new ConfigError(
      "update_missing",
      `${this.nodeName} does not define update(): override it to return the rows that are new since the last run`,
    );
  }

  /**
   * Runs the node: registers its storage and updater (and those of its whole dependency graph),
   * updates dependencies first, hands `update()` its statistics, drops rows at or below the
   * persisted watermark, validates and writes the rest in one transaction, publishes metadata
   * and closes the run record. The node's hash namespace is active during the whole run.
   * Rejects with a `RunError` when a node fails (or resolves `{ error }` with
   * `throwOnError: false`); every table is then exactly as it was.
   *
   * @example
   * ```ts
   * const { error, df } = await node.run({ forceUpdate: true });
   * console.log(df?.toString());
   * ```
   */
  async run(options: RunOptions = {}): Promise<RunResult> {
    const store = options.store ?? this.#store ?? (await getStore());
    return hashNamespace(this.hashNamespace, () => runGraph(this, store, options));
  }

  /**
   * Rows of this node's table between two dates (a table never written reads as empty).
   *
   * @example
   * ```ts
   * const df = await node.getDfBetweenDates({ startDate: "2026-01-01", columns: ["close"] });
   * ```
   */
  async getDfBetweenDates(options: DateRangeOptions = {}): Promise<Frame> {
    const store = await this.getStore();
    const storage = await this.findStorage(store);
    return storage ? readBetweenDates(store, storage, options) : Frame.empty();
  }

  /** The latest row of every coordinate of this node's table (empty when never written). */
  async getLastObservation(options: DimensionOptions = {}): Promise<Frame> {
    const store = await this.getStore();
    const storage = await this.findStorage(store);
    return storage ? readLastObservation(store, storage, options) : Frame.empty();
  }

  /** Statistics of this node's table as the store reports them (all null when never written). */
  async getTableStatistics(): Promise<TableStatistics> {
    const store = await this.getStore();
    const storage = await this.findStorage(store);
    if (!storage) return emptyStatistics();
    return store.getTableStatistics(storage.uid);
  }

  /** This node's storage, or null before its first run (reads never create anything). */
  private findStorage(store: DataStore): Promise<StorageRecord | null> {
    return store.findStorage({ storageHash: this.storageHash });
  }

  /** The store this node reads and writes: the one bound by `run({ store })`, else the configured one. */
  async getStore(): Promise<DataStore> {
    return this.#store ?? (await getStore());
  }

  /** Binds the node to a store (the engine binds every node of a run to the run's store). */
  bindStore(store: DataStore): void {
    this.#store = store;
  }

  /** The node's logger (scoped by the node name). */
  get logger(): Logger {
    this.#logger ??= scopedLogger(getLogger(), this.nodeName);
    return this.#logger;
  }

  /** The declared records (`config.records`), or null. */
  getRecords(): readonly RecordDefinition[] | null {
    return (this.config as { records?: RecordDefinition[] | null }).records ?? null;
  }

  /**
   * Where the first run starts: `config.offset_start`, else the class's `OFFSET_START`
   * (and `TEST_OFFSET_START` for namespaced nodes when the class defines it).
   */
  getOffsetStart(): Date {
    const ctor = this.constructor as typeof DataNode & { TEST_OFFSET_START?: Date };
    if (this.hashNamespace && ctor.TEST_OFFSET_START) return ctor.TEST_OFFSET_START;
    const offset = (this.config as { offset_start?: unknown }).offset_start;
    if (offset instanceof DateTimeValue) return offset.toDate();
    if (offset instanceof Date) return offset;
    return ctor.OFFSET_START;
  }

  /** `config.open_to_public` when it was given explicitly, else the class's `OPEN_TO_PUBLIC`. */
  getOpenToPublic(): boolean {
    const ctor = this.constructor as typeof DataNode;
    if (this.configFieldsSet.has("open_to_public")) {
      return Boolean((this.config as { open_to_public?: boolean }).open_to_public);
    }
    return ctor.OPEN_TO_PUBLIC;
  }

  /**
   * Table metadata published after each run; default: from `config.node_metadata`.
   * Override it to compute the identifier or description.
   */
  getTableMetadata(): TableMetadata | null {
    const meta = (this.config as { node_metadata?: DataNodeMetaData | null }).node_metadata;
    if (!meta) return null;
    return {
      identifier: meta.identifier ?? null,
      description: meta.description ?? null,
      dataFrequencyId: meta.data_frequency_id ?? null,
    };
  }

  /**
   * Column metadata published after each run; default: one entry per declared record
   * (label defaults to the column name).
   */
  getColumnMetadata(): readonly ColumnMetadata[] | null {
    const records = this.getRecords();
    if (!records) return null;
    return records.map((r) => ({
      columnName: r.column_name,
      dtype: r.dtype,
      label: r.label ?? r.column_name,
      description: r.description ?? "",
    }));
  }

  /**
   * The assets this updater writes, for 2-D `(time_index, unique_identifier)` tables. When it
   * returns a list, `updateStatistics` is scoped to those assets. Register them here,
   * idempotently, with `Asset.batchGetOrRegisterCustomAssets`.
   */
  getAssetList(): readonly AssetRecord[] | null | Promise<readonly AssetRecord[] | null> {
    return null;
  }

  /** A hook to adjust the statistics before `update()` (e.g. `updateIdentityScope`). */
  prepareUpdateStatistics(statistics: UpdateStatistics): UpdateStatistics {
    return statistics;
  }
}

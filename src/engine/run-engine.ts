import { GraphError, RunError, UnknownAssetError } from "../errors.js";
import { tokenToFrameDType } from "../frame/dtype-tokens.js";
import type { DType } from "../frame/dtypes.js";
import { Frame, type FrameInput, UNIQUE_IDENTIFIER } from "../frame/frame.js";
import { microsToDate } from "../frame/time.js";
import { validateFrame } from "../frame/validate-frame.js";
import { isApiDataNodeLike } from "../hashing/brands.js";
import type { LogFields, Logger } from "../logger.js";
import { UpdateStatistics } from "../statistics/update-statistics.js";
import type {
  AssetRecord,
  ColumnMetadata,
  DataStore,
  StorageKey,
  StorageRecord,
  TableMetadata,
  TableSchema,
  UpdaterRecord,
} from "../store/data-store.js";
import { orderGraph, runInDependencyOrder } from "./graph.js";

/** A declared column: name and dtype token (the config's `records`). */
export interface RecordLike {
  readonly column_name: string;
  readonly dtype: string;
}

/** What `update()` receives. */
export interface UpdateContext {
  /** Progress of the table, scoped to this updater's assets when it has an asset list. */
  readonly updateStatistics: UpdateStatistics;
  /** The node's logger. */
  readonly logger: Logger;
  /** Aborted when the run is cancelled. */
  readonly signal: AbortSignal | undefined;
}

/** The engine's view of a DataNode (the DataNode class implements it). */
export interface EngineNode {
  readonly updateHash: string;
  readonly storageHash: string;
  readonly hashNamespace: string;
  readonly buildConfiguration: unknown;
  /** `buildConfiguration` as JSON text with its Python types (floats as `1.0`). */
  readonly buildConfigurationJson?: string;
  /** The class's source text and hash, kept with the storage by the platform. */
  readonly sourceCode?: { readonly text: string; readonly gitHash: string } | null;
  /** `{ config: <JSON Schema> }` of the node's config, kept with the storage by the platform. */
  readonly buildConfigurationJsonSchema?: unknown;
  /** The class's name for logs and the storage's `source_class_name`. */
  readonly nodeName: string;
  readonly logger: Logger;
  updateStatistics: UpdateStatistics;
  dependencies(): Readonly<Record<string, unknown>>;
  update(context: UpdateContext): FrameInput | Promise<FrameInput>;
  getRecords(): readonly RecordLike[] | null;
  getOffsetStart(): Date;
  getOpenToPublic(): boolean;
  getTableMetadata(): TableMetadata | null;
  getColumnMetadata(): readonly ColumnMetadata[] | null;
  getAssetList(): readonly AssetRecord[] | null | Promise<readonly AssetRecord[] | null>;
  prepareUpdateStatistics(statistics: UpdateStatistics): UpdateStatistics;
  bindStore(store: DataStore): void;
}

/** Options of `node.run()`. */
export interface RunOptions {
  /** Accepted for parity with the reference; tdag always runs in-process. */
  readonly debugMode?: boolean;
  /** Update even when the store says no update is due. */
  readonly forceUpdate?: boolean;
  /** Update the dependencies first (default true); false updates only this node. */
  readonly updateTree?: boolean;
  /** Cancels the run between steps and inside store calls. */
  readonly signal?: AbortSignal;
  /** The store for the whole graph (default: the configured one). */
  readonly store?: DataStore;
  /** How many independent nodes may update at once (default 4). */
  readonly concurrency?: number;
  /**
   * Reject with a `RunError` when a node fails (default true); `false` resolves `{ error }`
   * instead.
   */
  readonly throwOnError?: boolean;
}

/** What happened to one node during a run. */
export interface NodeRunSummary {
  readonly name: string;
  readonly updateHash: string;
  readonly storageHash: string;
  readonly status: "updated" | "nothing_new" | "not_due" | "failed" | "skipped" | "read_only";
  readonly rowsWritten: number;
  /** First and last instant written. */
  readonly window: { readonly start: Date; readonly end: Date } | null;
  /** Distinct identities (coordinates) written. */
  readonly identities: number;
  readonly durationMs: number;
  readonly error?: string;
}

/** What `run()` resolves to; `error` is `false` on success, like the reference's `err`. */
export interface RunResult {
  readonly error: false | RunError;
  /** The frame persisted by the node that was run (empty when nothing was new). */
  readonly df: Frame | null;
  /** One summary per node of the graph, in execution order. */
  readonly nodes: readonly NodeRunSummary[];
}

/**
 * The engine's view of an APIDataNode: a published table the graph reads but never updates.
 * Recognised by its brand, so the engine does not import `node/` (and two copies of the package
 * still agree).
 */
export interface EngineApiNode {
  /** How the table was named: identifier, storage hash or uid. */
  readonly key: StorageKey;
  readonly label: string;
  readonly updateHash: string;
  readonly storageHash: string;
  bindStore(store: DataStore): void;
  /** Looks the table up; a missing one throws `NotFoundError`. */
  resolve(): Promise<StorageRecord>;
}

type GraphMember = EngineNode | EngineApiNode;

function isApi(node: unknown): node is EngineApiNode {
  return isApiDataNodeLike(node);
}

function isEngineNode(value: unknown): value is EngineNode {
  return (
    typeof value === "object" &&
    value !== null &&
    Symbol.for("tdag.DataNode") in value &&
    typeof (value as EngineNode).update === "function"
  );
}

/**
 * Runs a node and (unless `updateTree: false`) its dependency graph: registers storages and
 * updaters, links edges, then updates every node once, dependencies first, independent nodes
 * concurrently. See `DataNode.run()`.
 */
export async function runGraph(
  root: EngineNode,
  store: DataStore,
  options: RunOptions = {},
): Promise<RunResult> {
  const children = new Map<GraphMember, GraphMember[]>();
  const depsOf = (node: GraphMember): GraphMember[] => {
    if (isApi(node)) return [];
    let deps = children.get(node);
    if (!deps) {
      deps = Object.entries(node.dependencies()).map(([name, dep]) => {
        if (isEngineNode(dep) || isApi(dep)) {
          return dep as GraphMember;
        }
        throw new GraphError(
          "invalid_dependency",
          `${node.nodeName}.dependencies() returned '${name}' which is not a DataNode or APIDataNode`,
        );
      });
      children.set(node, deps);
    }
    return deps;
  };
  const apiKeys = new Map<EngineApiNode, string>();
  const describe = (node: GraphMember) => {
    if (isApi(node)) {
      let key = apiKeys.get(node);
      if (!key) {
        key = `api:${JSON.stringify(node.key)}`;
        apiKeys.set(node, key);
      }
      return { key, label: node.label };
    }
    return { key: node.updateHash, label: `${node.nodeName}(${node.updateHash})` };
  };

  const graph = orderGraph<GraphMember>(root, describe, depsOf);
  const registered = new Map<string, { storage: StorageRecord; updater: UpdaterRecord }>();
  const apiStorages = new Map<string, StorageRecord>();

  // Registration and edges, as the platform's client does it: look the updater up, create
  // only what is missing (a re-run only reads).
  for (const vertex of graph) {
    const node = vertex.value;
    if (isApi(node)) {
      node.bindStore(store);
      apiStorages.set(vertex.key, await node.resolve());
      continue;
    }
    node.bindStore(store);
    const ids = await registerNode(node, store);
    const { updater } = ids;
    registered.set(vertex.key, ids);
    for (const depKey of vertex.dependsOn) {
      const dep = registered.get(depKey);
      const apiStorage = apiStorages.get(depKey);
      if (dep) await store.linkDependency(updater.uid, { kind: "updater", uid: dep.updater.uid });
      else if (apiStorage)
        await store.linkDependency(updater.uid, { kind: "storage", uid: apiStorage.uid });
    }
  }

  const rootKey = describe(root).key;
  const toRun = options.updateTree === false ? graph.filter((v) => v.key === rootKey) : graph;
  const summaries = new Map<string, NodeRunSummary>();
  let rootFrame: Frame | null = null;

  const outcome = await runInDependencyOrder(
    toRun.map((v) => (options.updateTree === false ? { ...v, dependsOn: [] } : v)),
    options.concurrency ?? 4,
    async (vertex) => {
      const node = vertex.value;
      if (isApi(node)) {
        summaries.set(
          vertex.key,
          emptySummary(node.label, node.updateHash, node.storageHash, "read_only"),
        );
        return;
      }
      const ids = registered.get(vertex.key)!;
      const { summary, frame } = await updateNode(node, ids.storage, ids.updater, store, options);
      summaries.set(vertex.key, summary);
      if (vertex.key === rootKey) rootFrame = frame;
    },
    options.signal,
  );

  for (const key of outcome.skipped) {
    const vertex = graph.find((v) => v.key === key)!;
    const node = vertex.value;
    if (!isApi(node)) {
      summaries.set(key, emptySummary(node.nodeName, node.updateHash, node.storageHash, "skipped"));
    }
  }

  if (outcome.failed) {
    // The failed node threw before returning a summary: report it, so `throwOnError: false`
    // callers see which node failed and why.
    const vertex = graph.find((v) => v.key === outcome.failed!.key);
    if (vertex && !isApi(vertex.value)) {
      const node = vertex.value;
      summaries.set(vertex.key, {
        ...emptySummary(node.nodeName, node.updateHash, node.storageHash, "failed"),
        error: errorMessage(outcome.failed.error),
      });
    }
  }

  const nodes = toRun.map((v) => summaries.get(v.key)).filter((s): s is NodeRunSummary => !!s);
  let error: RunError | false = false;
  if (outcome.failed) {
    const cause = outcome.failed.error;
    error =
      cause instanceof RunError
        ? cause
        : new RunError("run_failed", `run failed: ${errorMessage(cause)}`, {
            cause: cause,
            updateHash: describe(root).key,
          });
  } else if (options.signal?.aborted && outcome.skipped.length > 0) {
    // An abort that lands after every node finished (e.g. during the last commit) cancelled
    // nothing: the data and the run records are complete, so the run is not reported aborted.
    error = new RunError("run_aborted", "run aborted", {
      cause: options.signal.reason,
      updateHash: describe(root).key,
    });
  }
  if (error && options.throwOnError !== false) throw error;
  return { error, df: error ? null : rootFrame, nodes };
}

/**
 * The storage and updater of a node: looked up by update hash first (its storage with it), and
 * registered only when missing, with everything the platform keeps about the storage.
 */
async function registerNode(
  node: EngineNode,
  store: DataStore,
): Promise<{ storage: StorageRecord; updater: UpdaterRecord }> {
  const found = await store.findUpdater({ updateHash: node.updateHash });
  const foundStorage = found ? await store.findStorage({ uid: found.storageUid }) : null;
  if (found && foundStorage) return { storage: foundStorage, updater: found };
  const json = node.buildConfigurationJson;
  const storage = await store.registerStorage({
    storageHash: node.storageHash,
    namespace: node.hashNamespace || null,
    buildConfiguration: node.buildConfiguration,
    sourceClassName: node.nodeName,
    openToPublic: node.getOpenToPublic(),
    ...(json === undefined ? {} : { buildConfigurationJson: json }),
    sourceCode: node.sourceCode ?? null,
    buildConfigurationJsonSchema: node.buildConfigurationJsonSchema ?? null,
  });
  const updater = await store.registerUpdater({
    updateHash: node.updateHash,
    storageHash: node.storageHash,
    buildConfiguration: node.buildConfiguration,
    namespace: node.hashNamespace || null,
    ...(json === undefined ? {} : { buildConfigurationJson: json }),
  });
  return { storage, updater };
}

function emptySummary(
  name: string,
  updateHash: string,
  storageHash: string,
  status: NodeRunSummary["status"],
): NodeRunSummary {
  return {
    name,
    updateHash,
    storageHash,
    status,
    rowsWritten: 0,
    window: null,
    identities: 0,
    durationMs: 0,
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Dtypes declared by records, in frame terms (undeclared or unknown tokens are left out). */
function recordDtypes(records: readonly RecordLike[] | null): Record<string, DType> {
  const out: Record<string, DType> = {};
  for (const record of records ?? []) {
    const dtype = tokenToFrameDType(record.dtype);
    if (dtype) out[record.column_name] = dtype;
  }
  return out;
}

function toFrame(result: FrameInput, node: EngineNode, schema: TableSchema | null): Frame {
  const dtypes = { ...(schema?.columnDtypes ?? {}), ...recordDtypes(node.getRecords()) };
  const indexNames = schema?.indexNames;
  return Frame.from(result, indexNames ? { indexNames, dtypes } : { dtypes });
}

function schemaOf(frame: Frame): TableSchema {
  return {
    timeIndexName: frame.timeIndexName,
    indexNames: frame.indexNames,
    columnDtypes: frame.dtypes,
  };
}

function countIdentities(frame: Frame): number {
  const dims = frame.identityDimensions;
  if (dims.length === 0) return frame.length > 0 ? 1 : 0;
  const seen = new Set<unknown>();
  if (dims.length === 1) {
    const values = frame.column(dims[0]!) as ArrayLike<unknown>;
    for (let i = 0; i < values.length; i++) seen.add(values[i]);
    return seen.size;
  }
  const columns = dims.map((d) => frame.column(d) as ArrayLike<unknown>);
  for (let i = 0; i < frame.length; i++) seen.add(columns.map((c) => String(c[i])).join("\u0000"));
  return seen.size;
}

function timeWindow(frame: Frame): { start: Date; end: Date } | null {
  if (frame.length === 0) return null;
  const time = frame.time;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < time.length; i++) {
    const t = time[i]!;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  return { start: microsToDate(min), end: microsToDate(max) };
}

async function checkAssets(frame: Frame, store: DataStore, table: string): Promise<void> {
  if (!frame.identityDimensions.includes(UNIQUE_IDENTIFIER)) return;
  const values = frame.column(UNIQUE_IDENTIFIER) as ArrayLike<unknown>;
  const distinct = new Set<string>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "string") distinct.add(v);
  }
  const missing = await store.findUnregisteredAssets([...distinct]);
  if (missing.length > 0) throw new UnknownAssetError(missing, table);
}

async function pushMetadata(
  node: EngineNode,
  storage: StorageRecord,
  store: DataStore,
): Promise<void> {
  const table = node.getTableMetadata();
  if (table) await store.setTableMetadata(storage.uid, table);
  const columns = node.getColumnMetadata();
  if (columns && columns.length > 0) await store.setColumnMetadata(storage.uid, columns);
}

/** Updates one node: statistics, update(), watermark filter, validation, atomic write, metadata. */
async function updateNode(
  node: EngineNode,
  registeredStorage: StorageRecord,
  updater: UpdaterRecord,
  store: DataStore,
  options: RunOptions,
): Promise<{ summary: NodeRunSummary; frame: Frame }> {
  const started = performance.now();
  const log = node.logger;
  const signalOpt = options.signal ? { signal: options.signal } : {};
  const run = await store.openRun(updater.uid, signalOpt);
  const fields: LogFields = { update_hash: node.updateHash };
  let rowsWritten = 0;
  let identities = 0;
  let frame = Frame.empty();
  let status: NodeRunSummary["status"] = "nothing_new";
  let failure: unknown = null;
  try {
    if (!run.mustUpdate && !options.forceUpdate) {
      status = "not_due";
      log.info("no update due", fields);
    } else {
      const storage =
        (await store.findStorage({ uid: registeredStorage.uid }, signalOpt)) ?? registeredStorage;
      const persisted = UpdateStatistics.fromTableStatistics(run.statistics);
      let statistics = persisted.withFallbackDate(node.getOffsetStart());
      const assets = await node.getAssetList();
      if (assets) statistics = statistics.withAssetList([...assets]);
      statistics = node.prepareUpdateStatistics(statistics);
      node.updateStatistics = statistics;
      const since = statistics.maxTimeIndexValue;
      log.info("updating", {
        ...fields,
        from: since
          ? `after ${since.toISOString()}`
          : `start ${node.getOffsetStart().toISOString()}`,
        ...(assets ? { assets: assets.length } : {}),
      });

      const result = await node.update({
        updateStatistics: statistics,
        logger: log,
        signal: options.signal,
      });
      options.signal?.throwIfAborted();
      const returned = toFrame(result, node, storage.schema);
      if (returned.length === 0) {
        log.info("update() returned no rows: nothing new", fields);
      } else {
        // Filter by what is persisted, not by the (scoped, possibly user-prepared) statistics
        // handed to update(): a fallback date given to unseen identities (e.g. by
        // `updateIdentityScope` in `prepareUpdateStatistics`) is not a watermark, and must not
        // drop the first-run row at offset_start.
        const fresh = persisted.filterFrameByLatestValue(returned);
        if (fresh.length < returned.length) {
          log.info("dropped rows at or below the persisted watermark", {
            ...fields,
            dropped: returned.length - fresh.length,
          });
        }
        if (fresh.length === 0) {
          log.info("every returned row was already persisted: nothing new", fields);
        } else {
          const validated = validateFrame(fresh, {
            records: node.getRecords(),
            schema: storage.schema,
          });
          await checkAssets(validated, store, node.storageHash);
          const written = await store.writeFrame(storage.uid, validated, {
            schema: schemaOf(validated),
            updaterUid: updater.uid,
            ...signalOpt,
          });
          rowsWritten = written.rowsWritten;
          frame = validated;
          status = "updated";
          node.updateStatistics = UpdateStatistics.fromTableStatistics(
            written.statistics,
          ).withFallbackDate(node.getOffsetStart());
          const window = timeWindow(validated);
          identities = countIdentities(validated);
          log.info("wrote rows", {
            ...fields,
            rows: rowsWritten,
            identities,
            window: window
              ? `${window.start.toISOString()} .. ${window.end.toISOString()}`
              : undefined,
          });
        }
      }
    }
  } catch (error) {
    failure = error;
  }

  await store.closeRun(
    run,
    failure ? { error: true, errorMessage: errorMessage(failure) } : { error: false, rowsWritten },
  );
  // Metadata is published after every run, even a failed one, once the run is closed, as the
  // reference does; a metadata failure fails the run's result but never hides its own error.
  try {
    await pushMetadata(node, registeredStorage, store);
  } catch (error) {
    failure ??= error;
  }

  const durationMs = Math.round(performance.now() - started);
  if (failure) {
    log.error("update failed", { ...fields, error: errorMessage(failure) });
    throw new RunError(
      "run_failed",
      `${node.nodeName} (${node.updateHash}) failed: ${errorMessage(failure)}`,
      { cause: failure, updateHash: node.updateHash },
    );
  }
  return {
    frame,
    summary: {
      name: node.nodeName,
      updateHash: node.updateHash,
      storageHash: node.storageHash,
      status,
      rowsWritten,
      window: timeWindow(frame),
      identities,
      durationMs,
    },
  };
}

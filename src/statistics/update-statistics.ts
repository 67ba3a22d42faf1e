import { UpdateStatisticsError } from "../errors.js";
import type { Frame } from "../frame/frame.js";
import { microsToDate, microsToIso } from "../frame/time.js";
import type { AssetRecord, DimensionRange, TableStatistics } from "../store/store-types.js";
import { filterFrameByWatermarks } from "./update-statistics-filter.js";
import {
  type DateTree,
  identityKey,
  type MicrosLeaf,
  type MicrosMap,
  type MicrosNode,
  type MicrosTree,
  maxLeaf,
  minLeaf,
  type NumberMode,
  nonNullLeaves,
  normalizeInstant,
  normalizeTree,
  type StatisticsTreeInput,
  type TimestampInput,
  toDateTree,
  toMicrosTree,
  toWire,
} from "./update-statistics-tree.js";

export type {
  DateTree,
  MicrosTree,
  StatisticsTree,
  StatisticsTreeInput,
  TimestampInput,
} from "./update-statistics-tree.js";

/** The identity dimension of asset tables. */
const UID = "unique_identifier";

/**
 * The public fields of the reference model, in wire spelling (datanode-core.md §6.1). The
 * constructor accepts exactly these keys.
 *
 * @example
 * ```ts
 * UPDATE_STATISTICS_FIELDS.includes("index_progress"); // true
 * ```
 */
export const UPDATE_STATISTICS_FIELDS = Object.freeze([
  "global_index_progress",
  "index_progress",
  "index_min",
  "max_time_index_value",
  "limit_update_time",
  "multi_index_column_stats",
  "is_backfill",
] as const);

/** A wire field name of {@link UpdateStatistics}. */
export type UpdateStatisticsField = (typeof UPDATE_STATISTICS_FIELDS)[number];

/**
 * What `new UpdateStatistics(init)` accepts: the reference's public fields in wire spelling,
 * so statistics from platform JSON can be passed verbatim. Timestamps may be `Date`s, ISO
 * strings (`Z`, offsets, or naive = UTC), epoch numbers (unit guessed by magnitude) or bigint
 * microseconds.
 */
export interface UpdateStatisticsInit {
  readonly global_index_progress?:
    | { readonly min?: TimestampInput | null; readonly max?: TimestampInput | null }
    | null
    | undefined;
  readonly index_progress?: StatisticsTreeInput | null | undefined;
  readonly index_min?: StatisticsTreeInput | null | undefined;
  readonly max_time_index_value?: TimestampInput | null | undefined;
  readonly limit_update_time?: TimestampInput | null | undefined;
  readonly multi_index_column_stats?: StatisticsTreeInput | null | undefined;
  readonly is_backfill?: boolean | undefined;
}

/** The wire shape produced by {@link UpdateStatistics.toJSON}: instants as ISO `Z` strings. */
export interface UpdateStatisticsJSON {
  global_index_progress: { min: string | null; max: string | null } | null;
  index_progress: StatisticsTreeJSON | null;
  index_min: StatisticsTreeJSON | null;
  max_time_index_value: string | null;
  limit_update_time: string | null;
  multi_index_column_stats: StatisticsTreeJSON | null;
  is_backfill: boolean;
}

/** A statistics tree with ISO-string leaves. */
export interface StatisticsTreeJSON {
  [key: string]: StatisticsTreeJSON | string | null;
}

/** One entry of a `dimensionRangeMap`: rows of `coordinate` from `startDate` on. */
export interface StatisticsDimensionRange {
  readonly coordinate: Readonly<Record<string, string>>;
  /** `null` only when the coordinate has no progress and no fallback date is set. */
  readonly startDate: Date | null;
  readonly startDateOperand: ">=";
}

/** The start of one identity in an identity range map. */
export interface IdentityRange {
  readonly startDate: Date | null;
  readonly startDateOperand: ">=";
}

/** One `(coordinate, last update)` leaf of `index_progress`. */
export interface IndexProgressCoordinate {
  readonly coordinate: Readonly<Record<string, string>>;
  /** The stored instant; `null` for a null or unparsable leaf. */
  readonly lastUpdate: Date | null;
  readonly lastUpdateMicros: number | null;
}

/** Where a 1-D update should start reading, from {@link UpdateStatistics.getUpdateStart}. */
export interface UpdateStart {
  /** `null` on a first run without a fallback date. */
  readonly startDate: Date | null;
  readonly startMicros: number | null;
  /** `">"` right after the persisted max time, `">="` for the fallback or a stepped start. */
  readonly startDateOperand: ">" | ">=";
  /** True when the table has no data yet. */
  readonly isFirstRun: boolean;
}

/** Options of {@link UpdateStatistics.withAssetList}. */
export interface AssetScopeOptions {
  /**
   * The table's identity dimensions (index names after the time index). Default
   * `["unique_identifier"]`; with `["account_uid", "unique_identifier"]` the assets are
   * scoped at the second level.
   */
  readonly identityDimensions?: readonly string[];
}

interface State {
  readonly global: { readonly min: number | null; readonly max: number | null } | null;
  readonly progress: MicrosMap | null;
  readonly indexMin: MicrosMap | null;
  readonly maxTime: number | null;
  readonly limitUpdate: number | null;
  readonly columnStats: MicrosMap | null;
  readonly isBackfill: boolean;
  /**
   * The reference's `_max_time_in_update_statistics` (the scoped max); `undefined` = not set
   * (defaults to `maxTime`), `null` = derive from the progress leaves.
   */
  readonly maxTimeInStats: number | null | undefined;
  /** The reference's `_initial_fallback_date`. */
  readonly fallback: number | null;
  readonly assetList: readonly AssetRecord[] | null;
  /** 1-based level of `unique_identifier` in `index_progress`. */
  readonly assetLevel: number;
}

const EMPTY_STATE: State = {
  global: null,
  progress: null,
  indexMin: null,
  maxTime: null,
  limitUpdate: null,
  columnStats: null,
  isBackfill: false,
  maxTimeInStats: undefined,
  fallback: null,
  assetList: null,
  assetLevel: 1,
};

/**
 * What a node's `update()` receives: the persisted progress of its table — the global time
 * range, the latest (`index_progress`) and earliest (`index_min`) instant per coordinate, and
 * per-column bounds — plus the helpers that turn it into incremental reads and filters.
 * Mirrors the reference `UpdateStatistics` (datanode-core.md §6) with camelCase names.
 *
 * Instances are immutable: every `with*`/scoping helper returns a new instance. Instants are
 * held as epoch microseconds; the `Date` getters drop sub-millisecond digits, the `*Micros`
 * variants keep them.
 *
 * Differences from the reference (its defects, datanode-core.md §9): the fallback (offset
 * start) date is applied to never-seen identities by the range maps and start helpers;
 * `updateIdentityScope` restricts each column of `multi_index_column_stats` instead of
 * emptying it; `filterIdentityLevel` orders added keys like `filters`; `filterFrameByLatestValue`
 * does not drop duplicate index tuples (validation rejects them).
 *
 * @example
 * ```ts
 * const stats = new UpdateStatistics({
 *   index_progress: { AAPL: "2024-01-02T00:00:00Z" },
 *   max_time_index_value: "2024-01-02T00:00:00Z",
 * }).withFallbackDate(new Date("2018-01-01T00:00:00Z"));
 * stats.getStartForIdentity("MSFT"); // 2018-01-01 (never seen)
 * stats.getLastUpdateForIdentity("AAPL"); // 2024-01-02
 * ```
 */
export class UpdateStatistics implements Iterable<[string, DateTree | Date | string | null]> {
  private state: State;
  private cache: {
    progress?: DateTree | null;
    indexMin?: DateTree | null;
    columnStats?: DateTree | null;
  } = {};

  /**
   * Builds statistics from the wire fields (unknown keys such as `asset_list`,
   * `asset_time_statistics` or `_PER_ASSET_` are a {@link TdagError}, as pydantic
   * `extra="forbid"`). A non-null `global_index_progress.max` overrides
   * `max_time_index_value`.
   *
   * @example
   * ```ts
   * new UpdateStatistics({
   *   global_index_progress: { min: "2024-01-01T00:00:00Z", max: "2024-01-03T00:00:00Z" },
   *   index_progress: { AAPL: 1704240000 }, // epoch seconds, read by magnitude
   * });
   * ```
   */
  constructor(init: UpdateStatisticsInit = {}) {
    this.state = parseInit(init, "heuristic");
  }

  /**
   * Statistics from a store's {@link TableStatistics} (numbers are epoch microseconds there,
   * so no magnitude guessing).
   *
   * @example
   * ```ts
   * const stats = UpdateStatistics.fromTableStatistics(await store.getTableStatistics(uid));
   * ```
   */
  static fromTableStatistics(stats: TableStatistics): UpdateStatistics {
    const state = parseInit(
      {
        global_index_progress: stats.globalIndexProgress,
        index_progress: stats.indexProgress,
        index_min: stats.indexMin,
        multi_index_column_stats: stats.multiIndexColumnStats as StatisticsTreeInput | null,
      },
      "micros",
    );
    return UpdateStatistics.fromState(state);
  }

  /**
   * Statistics of a table with no data (every field null), the reference's `return_empty()`.
   *
   * @example
   * ```ts
   * UpdateStatistics.empty().maxTimeIndexValue; // null
   * ```
   */
  static empty(): UpdateStatistics {
    return UpdateStatistics.fromState(EMPTY_STATE);
  }

  private static fromState(state: State): UpdateStatistics {
    const out = new UpdateStatistics();
    out.state = state;
    return out;
  }

  private derive(patch: Partial<State>): UpdateStatistics {
    return UpdateStatistics.fromState({ ...this.state, ...patch });
  }

  // ---------------------------------------------------------------- fields

  /**
   * Min and max of the time index over the whole table, or `null`.
   *
   * @example
   * ```ts
   * stats.globalIndexProgress?.max; // Date
   * ```
   */
  get globalIndexProgress(): { readonly min: Date | null; readonly max: Date | null } | null {
    const g = this.state.global;
    return g === null ? null : { min: asDate(g.min), max: asDate(g.max) };
  }

  /**
   * {@link globalIndexProgress} in epoch microseconds.
   *
   * @example
   * ```ts
   * stats.globalIndexProgressMicros?.max; // 1704240000000000
   * ```
   */
  get globalIndexProgressMicros(): {
    readonly min: number | null;
    readonly max: number | null;
  } | null {
    const g = this.state.global;
    return g === null ? null : { min: g.min, max: g.max };
  }

  /**
   * Latest instant per coordinate, nested in identity-dimension order (`{}` for a 1-D table).
   *
   * @example
   * ```ts
   * stats.indexProgress; // { AAPL: Date, MSFT: Date }
   * ```
   */
  get indexProgress(): DateTree | null {
    if (this.cache.progress === undefined) this.cache.progress = dateTree(this.state.progress);
    return this.cache.progress;
  }

  /**
   * {@link indexProgress} with epoch-microsecond leaves.
   *
   * @example
   * ```ts
   * stats.indexProgressMicros?.["AAPL"]; // 1704240000000000
   * ```
   */
  get indexProgressMicros(): MicrosTree | null {
    return this.state.progress === null ? null : toMicrosTree(this.state.progress);
  }

  /**
   * Earliest instant per coordinate, same shape as {@link indexProgress}.
   *
   * @example
   * ```ts
   * stats.indexMin?.["AAPL"]; // Date of the first AAPL row
   * ```
   */
  get indexMin(): DateTree | null {
    if (this.cache.indexMin === undefined) this.cache.indexMin = dateTree(this.state.indexMin);
    return this.cache.indexMin;
  }

  /**
   * {@link indexMin} with epoch-microsecond leaves.
   *
   * @example
   * ```ts
   * stats.indexMinMicros?.["AAPL"];
   * ```
   */
  get indexMinMicros(): MicrosTree | null {
    return this.state.indexMin === null ? null : toMicrosTree(this.state.indexMin);
  }

  /**
   * Per column: the progress tree with `{ min, max }` leaves.
   *
   * @example
   * ```ts
   * stats.multiIndexColumnStats?.["close"]; // { AAPL: { min: Date, max: Date } }
   * ```
   */
  get multiIndexColumnStats(): DateTree | null {
    if (this.cache.columnStats === undefined) {
      this.cache.columnStats = dateTree(this.state.columnStats);
    }
    return this.cache.columnStats;
  }

  /**
   * {@link multiIndexColumnStats} with epoch-microsecond leaves.
   *
   * @example
   * ```ts
   * stats.multiIndexColumnStatsMicros?.["close"];
   * ```
   */
  get multiIndexColumnStatsMicros(): MicrosTree | null {
    return this.state.columnStats === null ? null : toMicrosTree(this.state.columnStats);
  }

  /**
   * The table's latest instant (`global_index_progress.max` when given), or `null`.
   *
   * @example
   * ```ts
   * stats.maxTimeIndexValue; // Date | null
   * ```
   */
  get maxTimeIndexValue(): Date | null {
    return asDate(this.state.maxTime);
  }

  /**
   * {@link maxTimeIndexValue} in epoch microseconds (exact).
   *
   * @example
   * ```ts
   * stats.maxTimeIndexMicros; // 1704067200000001
   * ```
   */
  get maxTimeIndexMicros(): number | null {
    return this.state.maxTime;
  }

  /**
   * An optional upper limit for the update (a flag the platform may set).
   *
   * @example
   * ```ts
   * stats.limitUpdateTime; // Date | null
   * ```
   */
  get limitUpdateTime(): Date | null {
    return asDate(this.state.limitUpdate);
  }

  /**
   * {@link limitUpdateTime} in epoch microseconds.
   *
   * @example
   * ```ts
   * stats.limitUpdateTimeMicros;
   * ```
   */
  get limitUpdateTimeMicros(): number | null {
    return this.state.limitUpdate;
  }

  /**
   * Whether this run is a backfill.
   *
   * @example
   * ```ts
   * new UpdateStatistics({ is_backfill: true }).isBackfill; // true
   * ```
   */
  get isBackfill(): boolean {
    return this.state.isBackfill;
  }

  /**
   * The start used for identities never seen (the node's `offset_start`), or `null`.
   *
   * @example
   * ```ts
   * stats.withFallbackDate(new Date("2018-01-01Z")).initialFallbackDate; // 2018-01-01
   * ```
   */
  get initialFallbackDate(): Date | null {
    return asDate(this.state.fallback);
  }

  /**
   * {@link initialFallbackDate} in epoch microseconds.
   *
   * @example
   * ```ts
   * stats.initialFallbackMicros; // 1514764800000000
   * ```
   */
  get initialFallbackMicros(): number | null {
    return this.state.fallback;
  }

  /**
   * The assets the updater is scoped to (set by the engine from `getAssetList()`), or `null`.
   *
   * @example
   * ```ts
   * stats.assetList?.map((a) => a.uniqueIdentifier);
   * ```
   */
  get assetList(): readonly AssetRecord[] | null {
    return this.state.assetList;
  }

  // ---------------------------------------------------------------- configuration

  /**
   * A copy whose never-seen identities start at `date` (the engine passes
   * `config.offset_start` or the class `OFFSET_START`). `null` removes it.
   *
   * @example
   * ```ts
   * const s = stats.withFallbackDate(new Date("2018-01-01T00:00:00Z"));
   * s.getUpdateStart().startDate; // 2018-01-01 on a first run
   * ```
   */
  withFallbackDate(date: TimestampInput | null): UpdateStatistics {
    return this.derive({ fallback: normalizeInstant(date, "heuristic", "fallback date") });
  }

  /**
   * A copy scoped to `assets`: `index_progress` (and `index_min`, column stats) keep only
   * these `unique_identifier`s, unseen ones are added with no progress (their start is the
   * fallback date). The list is available as {@link assetList}.
   *
   * @example
   * ```ts
   * const scoped = stats.withAssetList(await node.getAssetList());
   * scoped.getAssetRangeMapGreatOrEqual(); // one entry per asset
   * ```
   */
  withAssetList(
    assets: readonly AssetRecord[] | null,
    options: AssetScopeOptions = {},
  ): UpdateStatistics {
    const dims = options.identityDimensions ?? [UID];
    const assetLevel = dims.indexOf(UID) + 1;
    if (assetLevel === 0) {
      throw new UpdateStatisticsError(
        "identity_dimensions_mismatch",
        `UpdateStatistics.withAssetList: identity dimensions [${dims.join(", ")}] have no '${UID}'`,
      );
    }
    if (assets === null) return this.derive({ assetList: null, assetLevel });
    const uids = uniqueKeys(assets.map((a) => a.uniqueIdentifier));
    const list = Object.freeze([...assets]);
    if (assetLevel === 1) {
      const scoped = this.scopeFirstLevel(uids, null);
      return UpdateStatistics.fromState({ ...scoped.state, assetList: list, assetLevel });
    }
    const progress = pruneLevel(this.state.progress, assetLevel, uids, null);
    return this.derive({
      progress,
      maxTimeInStats: maxLeaf(progress ?? undefined) ?? this.state.fallback,
      assetList: list,
      assetLevel,
    });
  }

  // ---------------------------------------------------------------- mapping access

  /**
   * The first-level keys of `index_progress` (e.g. the assets of a 2-D table).
   *
   * @example
   * ```ts
   * stats.identityValues(); // ["AAPL", "MSFT"]
   * ```
   */
  identityValues(): string[] {
    return this.state.progress === null ? [] : [...this.state.progress.keys()];
  }

  /**
   * The first-level value for `identity` (a `Date` leaf or a subtree), `undefined` when absent.
   *
   * @example
   * ```ts
   * stats.get("AAPL"); // Date
   * ```
   */
  get(identity: unknown): DateTree | Date | string | null | undefined {
    const key = identityKey(identity);
    const tree = this.indexProgress;
    if (key === null || tree === null || !Object.hasOwn(tree, key)) return undefined;
    return tree[key];
  }

  /**
   * True when `identity` is a first-level key of `index_progress`.
   *
   * @example
   * ```ts
   * stats.has("AAPL"); // true
   * ```
   */
  has(identity: unknown): boolean {
    const key = identityKey(identity);
    return key !== null && (this.state.progress?.has(key) ?? false);
  }

  /**
   * The number of first-level identities.
   *
   * @example
   * ```ts
   * stats.size; // 2
   * ```
   */
  get size(): number {
    return this.state.progress?.size ?? 0;
  }

  /**
   * The first-level identities, in stored order.
   *
   * @example
   * ```ts
   * [...stats.keys()]; // ["AAPL", "MSFT"]
   * ```
   */
  *keys(): IterableIterator<string> {
    if (this.state.progress) yield* this.state.progress.keys();
  }

  /**
   * The first-level values (Date leaves or subtrees).
   *
   * @example
   * ```ts
   * [...stats.values()]; // [Date, Date]
   * ```
   */
  *values(): IterableIterator<DateTree | Date | string | null> {
    for (const [, v] of this.entries()) yield v;
  }

  /**
   * `[identity, value]` pairs of the first level.
   *
   * @example
   * ```ts
   * for (const [uid, last] of stats.entries()) console.log(uid, last);
   * ```
   */
  *entries(): IterableIterator<[string, DateTree | Date | string | null]> {
    const tree = this.indexProgress;
    if (tree === null) return;
    for (const key of this.keys()) yield [key, tree[key] ?? null];
  }

  /**
   * Iterates `[identity, value]` pairs, like a `Map`.
   *
   * @example
   * ```ts
   * new Map(stats); // Map { "AAPL" => Date }
   * ```
   */
  [Symbol.iterator](): IterableIterator<[string, DateTree | Date | string | null]> {
    return this.entries();
  }

  /**
   * A copy with the first-level value of `identity` replaced (the reference's
   * `stats[key] = value`); the value is normalised like the constructor input.
   *
   * @example
   * ```ts
   * stats.withIdentityProgress("AAPL", "2024-01-05T00:00:00Z");
   * ```
   */
  withIdentityProgress(
    identity: unknown,
    value: StatisticsTreeInput | TimestampInput | null,
  ): UpdateStatistics {
    const key = requireKey(identity);
    const node = normalizeTree({ [key]: value }, "heuristic", "index_progress")!.get(key)!;
    const progress: MicrosMap = new Map(this.state.progress ?? []);
    progress.set(key, node);
    return this.derive({ progress });
  }

  /**
   * A copy without `identity` (the reference's `del stats[key]`); absent keys are an error.
   *
   * @example
   * ```ts
   * stats.withoutIdentity("AAPL").has("AAPL"); // false
   * ```
   */
  withoutIdentity(identity: unknown): UpdateStatistics {
    const key = requireKey(identity);
    if (!this.state.progress?.has(key)) {
      throw new UpdateStatisticsError(
        "identity_not_found",
        `${JSON.stringify(key)} not found in index_progress`,
      );
    }
    const progress: MicrosMap = new Map(this.state.progress);
    progress.delete(key);
    return this.derive({ progress });
  }

  // ---------------------------------------------------------------- per-identity helpers

  /**
   * The last update of an identity: its leaf, or for a nested identity the latest leaf under
   * it; `null` when never seen (no fallback, as the reference).
   *
   * @example
   * ```ts
   * stats.getLastUpdateForIdentity("AAPL"); // Date | null
   * ```
   */
  getLastUpdateForIdentity(identity: unknown): Date | null {
    return asDate(this.getLastUpdateMicrosForIdentity(identity));
  }

  /**
   * {@link getLastUpdateForIdentity} in epoch microseconds.
   *
   * @example
   * ```ts
   * stats.getLastUpdateMicrosForIdentity("AAPL"); // 1704240000000000
   * ```
   */
  getLastUpdateMicrosForIdentity(identity: unknown): number | null {
    return maxLeaf(this.firstLevel(identity));
  }

  /**
   * The earliest leaf under an identity; the fallback date when it is absent or has no leaf.
   *
   * @example
   * ```ts
   * stats.getEarliestUpdateForIdentity("ACC1"); // min over ACC1's assets
   * ```
   */
  getEarliestUpdateForIdentity(identity: unknown): Date | null {
    return asDate(this.getEarliestUpdateMicrosForIdentity(identity));
  }

  /**
   * {@link getEarliestUpdateForIdentity} in epoch microseconds.
   *
   * @example
   * ```ts
   * stats.getEarliestUpdateMicrosForIdentity("ACC1");
   * ```
   */
  getEarliestUpdateMicrosForIdentity(identity: unknown): number | null {
    return minLeaf(this.firstLevel(identity)) ?? this.state.fallback;
  }

  /**
   * Where reading should start for an identity: its earliest stored leaf (so no
   * sub-coordinate misses data) or the fallback date when never seen, plus
   * `extraTimeDeltaMicros` (e.g. `-lookback`).
   *
   * @example
   * ```ts
   * stats.getStartForIdentity("NEW_ASSET"); // the fallback date
   * ```
   */
  getStartForIdentity(identity: unknown, extraTimeDeltaMicros?: number): Date | null {
    return asDate(
      addDelta(this.getEarliestUpdateMicrosForIdentity(identity), extraTimeDeltaMicros),
    );
  }

  /**
   * The latest instant of the (possibly scoped) statistics: the cached scoped max, else the
   * max of `index_progress` leaves.
   *
   * @example
   * ```ts
   * stats.updateIdentityScope(["AAPL"], { initFallbackDate: null }).getMaxTimeInUpdateStatistics();
   * ```
   */
  getMaxTimeInUpdateStatistics(): Date | null {
    return asDate(this.getMaxTimeMicrosInUpdateStatistics());
  }

  /**
   * {@link getMaxTimeInUpdateStatistics} in epoch microseconds.
   *
   * @example
   * ```ts
   * stats.getMaxTimeMicrosInUpdateStatistics();
   * ```
   */
  getMaxTimeMicrosInUpdateStatistics(): number | null {
    const { maxTimeInStats } = this.state;
    const cached = maxTimeInStats === undefined ? this.state.maxTime : maxTimeInStats;
    if (cached !== null) return cached;
    return this.state.progress === null ? null : maxLeaf(this.state.progress);
  }

  /**
   * True when some non-null `index_progress` leaf equals the fallback date.
   *
   * @example
   * ```ts
   * stats.updateIdentityScope(["NEW"], { initFallbackDate: d }).isAnyIdentityOnFallbackDate(); // true
   * ```
   */
  isAnyIdentityOnFallbackDate(): boolean {
    const fb = this.state.fallback;
    return nonNullLeaves(this.state.progress ?? undefined).some((v) => v === fb);
  }

  /**
   * True when every non-null `index_progress` leaf equals the fallback date (vacuously true
   * without leaves, as the reference).
   *
   * @example
   * ```ts
   * stats.areAllIdentitiesOnFallbackDate(); // true on a first run of a scoped updater
   * ```
   */
  areAllIdentitiesOnFallbackDate(): boolean {
    const fb = this.state.fallback;
    return nonNullLeaves(this.state.progress ?? undefined).every((v) => v === fb);
  }

  // ---------------------------------------------------------------- range maps

  /**
   * Every `(coordinate, last update)` leaf of `index_progress`. `identityDimensions` (the
   * index names after the time index) must name every nesting level.
   *
   * @example
   * ```ts
   * stats.iterIndexProgressCoordinates(["account_uid", "unique_identifier"]);
   * // [{ coordinate: { account_uid: "A1", unique_identifier: "AAPL" }, lastUpdate: Date, ... }]
   * ```
   */
  iterIndexProgressCoordinates(identityDimensions: readonly string[]): IndexProgressCoordinate[] {
    if (!Array.isArray(identityDimensions)) {
      throw new UpdateStatisticsError(
        "identity_dimensions_required",
        "UpdateStatistics.iterIndexProgressCoordinates: identityDimensions must be passed explicitly (the index names after the time index)",
      );
    }
    const out: IndexProgressCoordinate[] = [];
    const visit = (node: MicrosNode, depth: number, coordinate: Record<string, string>): void => {
      if (node instanceof Map) {
        const dim = identityDimensions[depth];
        if (dim === undefined) {
          throw new UpdateStatisticsError(
            "identity_dimensions_mismatch",
            `UpdateStatistics: identityDimensions [${identityDimensions.join(", ")}] must include a name for every nested index_progress level`,
          );
        }
        for (const [key, child] of node) visit(child, depth + 1, { ...coordinate, [dim]: key });
        return;
      }
      const micros = typeof node === "number" ? node : null;
      out.push({ coordinate, lastUpdate: asDate(micros), lastUpdateMicros: micros });
    };
    const progress = this.state.progress;
    if (progress !== null && progress.size > 0) visit(progress, 0, {});
    return out;
  }

  /**
   * One `dimensionRangeMap` entry per `index_progress` coordinate, starting at its last
   * update (or the fallback date) plus `extraTimeDeltaMicros`, operand `">="` — the canonical
   * input of `getDfBetweenDates({ dimensionRangeMap })`.
   *
   * @example
   * ```ts
   * const dimensionRangeMap = stats.getDimensionRangeMapGreatOrEqual(["unique_identifier"]);
   * await upstream.getDfBetweenDates({ dimensionRangeMap });
   * ```
   */
  getDimensionRangeMapGreatOrEqual(
    identityDimensions: readonly string[],
    extraTimeDeltaMicros?: number,
  ): StatisticsDimensionRange[] {
    return this.dimensionRanges(identityDimensions, extraTimeDeltaMicros).map((r) => ({
      coordinate: r.coordinate,
      startDate: asDate(r.start),
      startDateOperand: ">=",
    }));
  }

  /**
   * {@link getDimensionRangeMapGreatOrEqual} as store {@link DimensionRange}s (epoch
   * microseconds, exact), for `DataStore.readFrame`.
   *
   * @example
   * ```ts
   * await store.readFrame(uid, { dimensionRangeMap: stats.getDimensionRangeMapGreatOrEqualMicros(["unique_identifier"]) });
   * ```
   */
  getDimensionRangeMapGreatOrEqualMicros(
    identityDimensions: readonly string[],
    extraTimeDeltaMicros?: number,
  ): DimensionRange[] {
    return this.dimensionRanges(identityDimensions, extraTimeDeltaMicros).map((r) => ({
      coordinate: r.coordinate,
      startDate: r.start,
      startDateOperand: ">=",
    }));
  }

  private dimensionRanges(
    identityDimensions: readonly string[],
    extra: number | undefined,
  ): { coordinate: Readonly<Record<string, string>>; start: number | null }[] {
    return this.iterIndexProgressCoordinates(identityDimensions).map((c) => ({
      coordinate: c.coordinate,
      start: addDelta(c.lastUpdateMicros ?? this.state.fallback, extra),
    }));
  }

  /**
   * `{ identity → { startDate, ">=" } }` over the first level: the identity's earliest leaf
   * (its leaf in a 2-D table) or the fallback, plus `extraTimeDeltaMicros`.
   *
   * @example
   * ```ts
   * stats.getIdentityRangeMapGreatOrEqual(-5 * MICROS.day).get("AAPL")?.startDate;
   * ```
   */
  getIdentityRangeMapGreatOrEqual(extraTimeDeltaMicros?: number): Map<string, IdentityRange> {
    const out = new Map<string, IdentityRange>();
    for (const key of this.keys()) {
      out.set(key, {
        startDate: this.getStartForIdentity(key, extraTimeDeltaMicros),
        startDateOperand: ">=",
      });
    }
    return out;
  }

  /**
   * Per column of `multi_index_column_stats`, `{ identity → { startDate, ">=" } }` with the
   * start at the bound's `max` (the earliest `max` for nested identities) or the fallback.
   * `columnFilter` restricts (and orders) the columns; unknown columns give empty maps.
   *
   * @example
   * ```ts
   * stats.getColumnarIdentityRangeMapGreatOrEqual(undefined, ["close"]).get("close")?.get("AAPL");
   * ```
   */
  getColumnarIdentityRangeMapGreatOrEqual(
    extraTimeDeltaMicros?: number,
    columnFilter?: readonly string[],
  ): Map<string, Map<string, IdentityRange>> {
    const stats = this.state.columnStats ?? new Map<string, MicrosNode>();
    const columns = columnFilter ?? [...stats.keys()];
    const out = new Map<string, Map<string, IdentityRange>>();
    for (const column of columns) {
      const tree = stats.get(column);
      const perIdentity = new Map<string, IdentityRange>();
      if (tree instanceof Map) {
        for (const [identity, bounds] of tree) {
          const start = boundsMax(bounds) ?? this.state.fallback;
          perIdentity.set(identity, {
            startDate: asDate(addDelta(start, extraTimeDeltaMicros)),
            startDateOperand: ">=",
          });
        }
      }
      out.set(column, perIdentity);
    }
    return out;
  }

  // ---------------------------------------------------------------- scoping

  /**
   * New statistics restricted to the given first-level identities (`null` keeps all): unseen
   * ones get `initFallbackDate` as their progress; `index_min` and every column of
   * `multi_index_column_stats` are restricted the same way (the reference empties the column
   * stats — a defect). The result's fallback date is `initFallbackDate` and its
   * {@link getMaxTimeInUpdateStatistics} is the max of the scoped tree.
   *
   * @example
   * ```ts
   * const scoped = stats.updateIdentityScope(["AAPL", "NEW"], {
   *   initFallbackDate: new Date("2018-01-01Z"),
   * });
   * scoped.getLastUpdateForIdentity("NEW"); // 2018-01-01
   * ```
   */
  updateIdentityScope(
    identityValues: readonly unknown[] | null,
    options: { readonly initFallbackDate: TimestampInput | null },
  ): UpdateStatistics {
    const fallback = normalizeInstant(options.initFallbackDate, "heuristic", "initFallbackDate");
    if (identityValues === null) {
      return this.derive({ fallback, maxTimeInStats: this.state.maxTime ?? fallback });
    }
    const keys = uniqueKeys(identityValues);
    return this.derive({ fallback }).scopeFirstLevel(keys, fallback);
  }

  private scopeFirstLevel(keys: readonly string[], missing: number | null): UpdateStatistics {
    const { progress, indexMin, columnStats, fallback } = this.state;
    const scoped: MicrosMap = new Map();
    for (const key of keys) scoped.set(key, progress?.get(key) ?? missing);
    let scopedMin: MicrosMap | null = null;
    if (indexMin !== null) {
      scopedMin = new Map();
      for (const key of keys) {
        const v = indexMin.get(key);
        if (v !== undefined) scopedMin.set(key, v);
      }
    }
    let scopedColumns: MicrosMap | null = null;
    if (columnStats !== null) {
      scopedColumns = new Map();
      const missingBounds: MicrosMap = new Map<string, MicrosNode>([
        ["min", null],
        ["max", missing],
      ]);
      for (const [column, tree] of columnStats) {
        if (!(tree instanceof Map)) {
          scopedColumns.set(column, tree);
          continue;
        }
        const restricted: MicrosMap = new Map();
        for (const key of keys) restricted.set(key, tree.get(key) ?? missingBounds);
        scopedColumns.set(column, restricted);
      }
    }
    return this.derive({
      progress: scoped,
      indexMin: scopedMin,
      columnStats: scopedColumns,
      maxTimeInStats: keys.length > 0 ? maxLeaf(scoped) : fallback,
    });
  }

  /**
   * New statistics whose `index_progress` keeps only `filters` at identity `level` (1 = first
   * identity dimension). Level 1 drops other keys and adds nothing; deeper levels also add
   * missing keys with the fallback date, in the order of `filters` (the reference used set
   * order — a defect).
   *
   * @example
   * ```ts
   * stats.filterIdentityLevel(2, ["AAPL", "MSFT"]); // under every account: AAPL, MSFT only
   * ```
   */
  filterIdentityLevel(level: number, filters: readonly unknown[]): UpdateStatistics {
    if (!Number.isInteger(level) || level < 1) {
      throw new UpdateStatisticsError(
        "identity_level_invalid",
        `UpdateStatistics.filterIdentityLevel: level must be an integer >= 1, got ${level}`,
      );
    }
    const keys = uniqueKeys(filters);
    return this.derive({
      progress: pruneLevel(this.state.progress, level, keys, this.state.fallback),
    });
  }

  // ---------------------------------------------------------------- filtering

  /**
   * The rows of `frame` not yet persisted: for a 1-D index, rows with time strictly after
   * {@link maxTimeIndexValue} (all rows when there is none); for an N-D index, rows whose
   * coordinate was never seen or whose time is strictly after the coordinate's stored leaf.
   * Duplicate index tuples are left for frame validation to reject.
   *
   * @example
   * ```ts
   * const fresh = stats.filterFrameByLatestValue(df); // df rows at or before the watermark dropped
   * ```
   */
  filterFrameByLatestValue(frame: Frame): Frame {
    return filterFrameByWatermarks(frame, this.state.progress, this.state.maxTime);
  }

  /**
   * Where a 1-D update starts: right after the persisted max time (operand `">"`), or at the
   * fallback date on a first run (operand `">="`). With `stepMicros`, a non-first run starts
   * at `max + step` inclusive ("subsequent runs: last_time + step").
   *
   * @example
   * ```ts
   * const { startDate, startDateOperand } = stats.getUpdateStart({ stepMicros: MICROS.day });
   * ```
   */
  getUpdateStart(options: { readonly stepMicros?: number } = {}): UpdateStart {
    const max = this.state.maxTime;
    if (max === null) {
      const fb = this.state.fallback;
      return { startDate: asDate(fb), startMicros: fb, startDateOperand: ">=", isFirstRun: true };
    }
    if (options.stepMicros !== undefined) {
      const start = max + options.stepMicros;
      return {
        startDate: asDate(start),
        startMicros: start,
        startDateOperand: ">=",
        isFirstRun: false,
      };
    }
    return { startDate: asDate(max), startMicros: max, startDateOperand: ">", isFirstRun: false };
  }

  // ---------------------------------------------------------------- assets

  /**
   * The last update of every asset of {@link assetList} (or of every `unique_identifier` in
   * the statistics when no list is set); `null` for assets never written. For a 3-D table
   * (`[time, account_uid, unique_identifier]`) it is the earliest of the asset's per-account
   * last updates, i.e. the instant up to which every coordinate of the asset is complete.
   *
   * @example
   * ```ts
   * stats.getLastUpdatePerAsset().get("AAPL"); // Date | null
   * ```
   */
  getLastUpdatePerAsset(): Map<string, Date | null> {
    const out = new Map<string, Date | null>();
    for (const [uid, micros] of this.getLastUpdateMicrosPerAsset()) out.set(uid, asDate(micros));
    return out;
  }

  /**
   * {@link getLastUpdatePerAsset} in epoch microseconds.
   *
   * @example
   * ```ts
   * stats.getLastUpdateMicrosPerAsset().get("AAPL");
   * ```
   */
  getLastUpdateMicrosPerAsset(): Map<string, number | null> {
    const nodes = nodesAtLevel(this.state.progress, this.state.assetLevel);
    const uids =
      this.state.assetList === null
        ? [...nodes.keys()]
        : uniqueKeys(this.state.assetList.map((a) => a.uniqueIdentifier));
    const out = new Map<string, number | null>();
    for (const uid of uids) {
      let best: number | null = null;
      for (const node of nodes.get(uid) ?? []) {
        const v = minLeaf(node);
        if (v !== null && (best === null || v < best)) best = v;
      }
      out.set(uid, best);
    }
    return out;
  }

  /**
   * The earliest start over all assets: min of their last updates, with the fallback date for
   * assets never written — where one batched upstream read for every asset must begin.
   *
   * @example
   * ```ts
   * const start = stats.getEarliestUpdateAcrossAssets(); // Date | null
   * ```
   */
  getEarliestUpdateAcrossAssets(): Date | null {
    let best: number | null = null;
    for (const v of this.getLastUpdateMicrosPerAsset().values()) {
      const start = v ?? this.state.fallback;
      if (start !== null && (best === null || start < best)) best = start;
    }
    return asDate(best ?? this.state.fallback);
  }

  /**
   * One `dimensionRangeMap` entry per asset, coordinate `{ unique_identifier }`, starting at
   * its last update (or the fallback date) plus `extraTimeDeltaMicros`, operand `">="`.
   *
   * @example
   * ```ts
   * const dimensionRangeMap = stats.getAssetRangeMapGreatOrEqual(-20 * MICROS.day);
   * const prices = await pricesNode.getDfBetweenDates({ dimensionRangeMap });
   * ```
   */
  getAssetRangeMapGreatOrEqual(extraTimeDeltaMicros?: number): StatisticsDimensionRange[] {
    return this.getAssetRangeMapGreatOrEqualMicros(extraTimeDeltaMicros).map((r) => ({
      coordinate: r.coordinate as Readonly<Record<string, string>>,
      startDate: asDate(r.startDate ?? null),
      startDateOperand: ">=",
    }));
  }

  /**
   * {@link getAssetRangeMapGreatOrEqual} as store {@link DimensionRange}s (exact micros).
   *
   * @example
   * ```ts
   * await store.readFrame(uid, { dimensionRangeMap: stats.getAssetRangeMapGreatOrEqualMicros() });
   * ```
   */
  getAssetRangeMapGreatOrEqualMicros(extraTimeDeltaMicros?: number): DimensionRange[] {
    const out: DimensionRange[] = [];
    for (const [uid, micros] of this.getLastUpdateMicrosPerAsset()) {
      out.push({
        coordinate: { [UID]: uid },
        startDate: addDelta(micros ?? this.state.fallback, extraTimeDeltaMicros),
        startDateOperand: ">=",
      });
    }
    return out;
  }

  // ---------------------------------------------------------------- serialisation

  /**
   * The wire shape (ISO `Z` strings), accepted back by the constructor.
   *
   * @example
   * ```ts
   * JSON.stringify(stats); // {"global_index_progress":null,"index_progress":{"AAPL":"2024-01-02T00:00:00Z"},...}
   * ```
   */
  toJSON(): UpdateStatisticsJSON {
    const s = this.state;
    return {
      global_index_progress:
        s.global === null ? null : { min: isoOrNull(s.global.min), max: isoOrNull(s.global.max) },
      index_progress: wireTree(s.progress),
      index_min: wireTree(s.indexMin),
      max_time_index_value: isoOrNull(s.maxTime),
      limit_update_time: isoOrNull(s.limitUpdate),
      multi_index_column_stats: wireTree(s.columnStats),
      is_backfill: s.isBackfill,
    };
  }

  private firstLevel(identity: unknown): MicrosNode | undefined {
    const key = identityKey(identity);
    return key === null ? undefined : this.state.progress?.get(key);
  }
}

// -------------------------------------------------------------------- helpers

function parseInit(init: unknown, mode: NumberMode): State {
  if (init === null || typeof init !== "object" || Array.isArray(init)) {
    throw new UpdateStatisticsError(
      "update_statistics_invalid",
      "UpdateStatistics: init must be an object of wire fields",
    );
  }
  const fields = init as Record<string, unknown>;
  const unknown = Object.keys(fields).filter(
    (k) => !(UPDATE_STATISTICS_FIELDS as readonly string[]).includes(k),
  );
  if (unknown.length > 0) {
    throw new UpdateStatisticsError(
      "update_statistics_unknown_field",
      `UpdateStatistics: unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(", ")}; accepted: ${UPDATE_STATISTICS_FIELDS.join(", ")} (legacy asset_list / asset_time_statistics / _PER_ASSET_ shapes are not supported)`,
    );
  }
  const isBackfill = fields["is_backfill"] ?? false;
  if (typeof isBackfill !== "boolean") {
    throw new UpdateStatisticsError(
      "update_statistics_invalid",
      "UpdateStatistics: is_backfill must be a boolean",
    );
  }
  const global = parseGlobal(fields["global_index_progress"], mode);
  let maxTime = normalizeInstant(fields["max_time_index_value"], mode, "max_time_index_value");
  if (global !== null && global.max !== null) maxTime = global.max;
  return {
    ...EMPTY_STATE,
    global,
    progress: normalizeTree(fields["index_progress"], mode, "index_progress"),
    indexMin: normalizeTree(fields["index_min"], mode, "index_min"),
    maxTime,
    limitUpdate: normalizeInstant(fields["limit_update_time"], mode, "limit_update_time"),
    columnStats: normalizeTree(
      fields["multi_index_column_stats"],
      mode,
      "multi_index_column_stats",
    ),
    isBackfill,
  };
}

function parseGlobal(value: unknown, mode: NumberMode): State["global"] {
  if (value === null || value === undefined) return null;
  if (typeof value !== "object" || Array.isArray(value) || value instanceof Date) {
    throw new UpdateStatisticsError(
      "update_statistics_invalid",
      "UpdateStatistics: global_index_progress must be an object { min, max }",
    );
  }
  const g = value as Record<string, unknown>;
  const extra = Object.keys(g).filter((k) => k !== "min" && k !== "max");
  if (extra.length > 0) {
    throw new UpdateStatisticsError(
      "update_statistics_invalid",
      `UpdateStatistics: global_index_progress accepts only min and max, got ${extra.join(", ")}`,
    );
  }
  return {
    min: normalizeInstant(g["min"], mode, "global_index_progress.min"),
    max: normalizeInstant(g["max"], mode, "global_index_progress.max"),
  };
}

function asDate(micros: number | null): Date | null {
  return micros === null ? null : microsToDate(micros);
}

function isoOrNull(micros: number | null): string | null {
  return micros === null ? null : microsToIso(micros);
}

function dateTree(tree: MicrosMap | null): DateTree | null {
  return tree === null ? null : toDateTree(tree);
}

function wireTree(tree: MicrosMap | null): StatisticsTreeJSON | null {
  return tree === null ? null : (toWire(tree) as StatisticsTreeJSON);
}

function addDelta(micros: number | null, delta: number | undefined): number | null {
  return micros === null || delta === undefined ? micros : micros + delta;
}

function requireKey(identity: unknown): string {
  const key = identityKey(identity);
  if (key === null) {
    throw new UpdateStatisticsError(
      "identity_invalid",
      "UpdateStatistics: an identity value cannot be null",
    );
  }
  return key;
}

/** Stringified, de-duplicated keys in first-seen order (nulls dropped). */
function uniqueKeys(values: readonly unknown[]): string[] {
  const seen = new Set<string>();
  for (const v of values) {
    const key = identityKey(v);
    if (key !== null) seen.add(key);
  }
  return [...seen];
}

/** The `max` of a column-stats bound: a `{min,max}` leaf, a bare leaf, or the earliest nested max. */
function boundsMax(bounds: MicrosNode): number | null {
  if (!(bounds instanceof Map)) return typeof bounds === "number" ? bounds : null;
  const max = bounds.get("max");
  if (bounds.has("max") && !(max instanceof Map)) return typeof max === "number" ? max : null;
  let best: number | null = null;
  for (const child of bounds.values()) {
    const v = boundsMax(child);
    if (v !== null && (best === null || v < best)) best = v;
  }
  return best;
}

/**
 * The reference's `filter_identity_level` on a normalised tree: at `level`, keep `keys` (in
 * their order), adding missing ones with `missing`; level 1 only drops.
 */
function pruneLevel(
  progress: MicrosMap | null,
  level: number,
  keys: readonly string[],
  missing: MicrosLeaf,
): MicrosMap | null {
  if (progress === null) return null;
  if (level === 1) {
    const allowed = new Set(keys);
    return new Map([...progress].filter(([k]) => allowed.has(k)));
  }
  const target = level - 1;
  const prune = (node: MicrosNode, depth: number): MicrosNode => {
    if (!(node instanceof Map)) return node;
    if (depth === target) {
      const out: MicrosMap = new Map();
      for (const key of keys) out.set(key, node.has(key) ? node.get(key)! : missing);
      return out;
    }
    const out: MicrosMap = new Map();
    for (const [key, child] of node) {
      const sub = prune(child, depth + 1);
      if (sub instanceof Map ? sub.size > 0 : sub !== null) out.set(key, sub);
    }
    return out;
  };
  const result: MicrosMap = new Map();
  for (const [key, stats] of progress) {
    if (stats === null) {
      result.set(key, new Map(keys.map((k) => [k, missing])));
    } else {
      const pruned = prune(stats, 1);
      result.set(key, pruned instanceof Map && pruned.size === 0 ? null : pruned);
    }
  }
  return result;
}

/** Every node at identity `level` (1-based), grouped by its key. */
function nodesAtLevel(progress: MicrosMap | null, level: number): Map<string, MicrosNode[]> {
  const out = new Map<string, MicrosNode[]>();
  const visit = (node: MicrosMap, depth: number): void => {
    for (const [key, child] of node) {
      if (depth === level) {
        const list = out.get(key);
        if (list) list.push(child);
        else out.set(key, [child]);
      } else if (child instanceof Map) {
        visit(child, depth + 1);
      }
    }
  };
  if (progress !== null) visit(progress, 1);
  return out;
}

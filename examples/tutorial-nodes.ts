/**
 * The getting-started tutorial's DataNodes, ported to tdag:
 *
 * - `DailyRandomNumber`: one random number per day; its volatility config is update-only, so two
 *   updaters with different vols write into ONE table;
 * - `DailyRandomAddition`: depends on a `DailyRandomNumber` built in its constructor;
 * - `DailyRandomAdditionAPI`: depends on a published table by identifier (`APIDataNode`);
 * - `SimulatedPrices`: a 2-D `(time_index, unique_identifier)` table over registered assets whose
 *   asset universe is update-only scope: one table, one updater per universe.
 *
 * "Today" is read at run time from `TDAG_EXAMPLE_TODAY` (an ISO date) when set, so the demo can
 * show how a later run appends only the new days. Random draws are seeded by (node, day, asset),
 * so a re-run of the same day reproduces the same numbers.
 */
import { z } from "zod";
import {
  APIDataNode,
  Asset,
  type AssetRecord,
  DataNode,
  DataNodeConfiguration,
  type Frame,
  type FrameRecord,
  MICROS,
  type TableMetadata,
  type UpdateContext,
  updateOnly,
} from "../src/index.js";

const DAY_MS = MICROS.day / 1000;

/** Midnight UTC of "today" (or of `TDAG_EXAMPLE_TODAY`). */
export function today(): Date {
  const override = process.env.TDAG_EXAMPLE_TODAY;
  const now = override ? new Date(`${override.slice(0, 10)}T00:00:00Z`) : new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/** Days from `start` (inclusive) to `end` (inclusive), at midnight UTC. */
function daysBetween(start: Date, end: Date): Date[] {
  const out: Date[] = [];
  for (let t = start.getTime(); t <= end.getTime(); t += DAY_MS) out.push(new Date(t));
  return out;
}

/** A standard normal draw, deterministic for a seed string (mulberry32 + Box-Muller). */
export function seededNormal(seed: string): number {
  let h = 1779033703;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
  const next = () => {
    h = (h + 0x6d2b79f5) | 0;
    let t = Math.imul(h ^ (h >>> 15), 1 | h);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const u = Math.max(next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
}

/** The first day a daily node still has to write: the day after its last row, or `offset_start`. */
function firstMissingDay(stats: UpdateContext["updateStatistics"]): Date | null {
  const start = stats.getUpdateStart({ stepMicros: MICROS.day });
  return start.startDate;
}

/** Upstream random numbers plus N(mean, std) noise seeded by (updater, day). */
function addNoise(upstream: Frame, seed: string, mean: number, std: number): FrameRecord[] {
  return upstream.toRecords().map((row) => ({
    time_index: row.time_index,
    random_number:
      (row.random_number as number) +
      mean +
      std * seededNormal(`${seed}|${(row.time_index as Date).toISOString()}`),
  }));
}

// ------------------------------------------------------------------ DailyRandomNumber

export const VolatilityConfig = z.strictObject({
  /** Standard deviation of the normal distribution. */
  center: z.number().gt(0).lte(1e6),
  skew: z.boolean(),
});

export const RandomDataNodeConfig = DataNodeConfiguration.extend({
  /** Mean of the generator: part of the table's meaning. */
  mean: z.number(),
  /** Volatility: how this updater draws, not what the table is (update-only). */
  std: updateOnly(VolatilityConfig).default({ center: 1, skew: true }),
});

/** Generates one random number per day, N(mean, std.center). */
export class DailyRandomNumber extends DataNode<typeof RandomDataNodeConfig> {
  static override configSchema = RandomDataNodeConfig;
  static override nodeName = "DailyRandomNumber";

  override getTableMetadata(): TableMetadata {
    return {
      identifier: `example_random_number_${this.config.mean}`,
      description: "Example Data Node: one N(mean, std) draw per UTC day",
      dataFrequencyId: "1d",
    };
  }

  override update({ updateStatistics }: UpdateContext): FrameRecord[] {
    const start = firstMissingDay(updateStatistics);
    if (!start) return [];
    return daysBetween(start, today()).map((day) => ({
      time_index: day,
      random_number:
        this.config.mean +
        this.config.std.center * seededNormal(`${this.updateHash}|${day.toISOString()}`),
    }));
  }
}

// ------------------------------------------------------------------ DailyRandomAddition

export const RandomAdditionConfig = DataNodeConfiguration.extend({
  mean: z.number(),
  std: z.number().gt(0),
});

/** Adds its own noise to `DailyRandomNumber(mean=0)`, built in the constructor. */
export class DailyRandomAddition extends DataNode<typeof RandomAdditionConfig> {
  static override configSchema = RandomAdditionConfig;
  static override nodeName = "DailyRandomAddition";
  readonly numberGenerator: DailyRandomNumber;

  constructor(
    config: z.input<typeof RandomAdditionConfig>,
    options?: { hashNamespace?: string; testNode?: boolean },
  ) {
    super(config, options);
    this.numberGenerator = new DailyRandomNumber({
      mean: 0,
      offset_start: config.offset_start ?? null,
    });
  }

  override dependencies() {
    return { number_generator: this.numberGenerator };
  }

  override async update({ updateStatistics, logger }: UpdateContext): Promise<FrameRecord[]> {
    const start = firstMissingDay(updateStatistics);
    if (!start) return [];
    const upstream = await this.numberGenerator.getDfBetweenDates({
      startDate: start,
      endDate: today(),
    });
    logger.info("read upstream", { rows: upstream.length });
    return addNoise(upstream, this.updateHash, this.config.mean, this.config.std);
  }
}

// ------------------------------------------------------------------ DailyRandomAdditionAPI

export const RandomAdditionAPIConfig = DataNodeConfiguration.extend({
  mean: z.number(),
  std: z.number().gt(0),
  /** The published identifier of the table to add noise to. */
  dependency_identifier: z.string(),
});

/** Like DailyRandomAddition, but reads its input as a published table by identifier. */
export class DailyRandomAdditionAPI extends DataNode<typeof RandomAdditionAPIConfig> {
  static override configSchema = RandomAdditionAPIConfig;
  static override nodeName = "DailyRandomAdditionAPI";
  readonly dailyRandomNumber: APIDataNode;

  constructor(config: z.input<typeof RandomAdditionAPIConfig>) {
    super(config);
    this.dailyRandomNumber = APIDataNode.buildFromIdentifier(config.dependency_identifier);
  }

  override dependencies() {
    return { number_generator: this.dailyRandomNumber };
  }

  override async update({ updateStatistics }: UpdateContext): Promise<FrameRecord[]> {
    const start = firstMissingDay(updateStatistics);
    if (!start) return [];
    const upstream = await this.dailyRandomNumber.getDfBetweenDates({
      startDate: start,
      greatOrEqual: true,
    });
    return addNoise(upstream, this.updateHash, this.config.mean, this.config.std);
  }
}

// ------------------------------------------------------------------ SimulatedPrices

export const SimulatedPricesConfig = DataNodeConfiguration.extend({
  /** Annualised drift and volatility of the simulated log returns: the table's meaning. */
  drift: z.number().default(0.05),
  volatility: z.number().gt(0).default(0.2),
  /** The assets this updater writes: scope, not meaning (update-only). */
  asset_universe: updateOnly(z.array(z.string().min(1)).min(1)),
});

/** Daily close prices of a few simulated assets, one row per (day, asset). */
export class SimulatedPrices extends DataNode<typeof SimulatedPricesConfig> {
  static override configSchema = SimulatedPricesConfig;
  static override nodeName = "SimulatedPrices";

  override getTableMetadata(): TableMetadata {
    return {
      identifier: "simulated_prices_tutorial",
      description: "Simulated daily close prices (geometric Brownian motion) of tutorial assets",
      dataFrequencyId: "1d",
    };
  }

  /** Registers the universe idempotently (the seed guide's `ensure_assets_exist`). */
  override async getAssetList(): Promise<AssetRecord[]> {
    const store = await this.getStore();
    return Asset.batchGetOrRegisterCustomAssets(
      this.config.asset_universe.map((uid) => ({
        uniqueIdentifier: uid,
        snapshot: { name: uid, ticker: uid },
      })),
      { store },
    );
  }

  override async update({ updateStatistics, logger }: UpdateContext): Promise<FrameRecord[]> {
    const end = today();
    const { drift, volatility } = this.config;
    const dt = 1 / 252;
    const rows: FrameRecord[] = [];
    const last = await this.getLastObservation({
      dimensionFilters: { unique_identifier: [...this.config.asset_universe] },
    });
    const lastClose = new Map(
      last.toRecords().map((r) => [r.unique_identifier as string, r.close as number]),
    );
    for (const [uid, lastUpdate] of updateStatistics.getLastUpdatePerAsset()) {
      const start = lastUpdate
        ? new Date(lastUpdate.getTime() + DAY_MS)
        : updateStatistics.getStartForIdentity(uid);
      if (!start) continue;
      let price = lastClose.get(uid) ?? 100;
      for (const day of daysBetween(start, end)) {
        const shock = seededNormal(`${uid}|${day.toISOString()}`);
        price *= Math.exp(
          (drift - 0.5 * volatility ** 2) * dt + volatility * Math.sqrt(dt) * shock,
        );
        rows.push({
          time_index: day,
          unique_identifier: uid,
          close: Math.round(price * 100) / 100,
        });
      }
    }
    logger.info("simulated", { assets: this.config.asset_universe.length, rows: rows.length });
    return rows;
  }
}

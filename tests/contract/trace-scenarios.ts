import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod";
import {
  APIDataNode,
  Asset,
  type AssetRecord,
  DataNode,
  DataNodeConfiguration,
  DataNodeStorage,
  F,
  Frame,
  type FrameRecord,
  pythonIdentity,
  SearchRequest,
  type TableMetadata,
  type UpdateContext,
} from "../../src/index.js";
import type { RequestLogEntry } from "../../src/server/fault-injector.js";
import {
  type RunningPlatformServer,
  startPlatformServer,
} from "../../src/server/platform-server.js";
import { authFromEnv } from "../../src/store/remote/auth.js";
import type { RemoteStore } from "../../src/store/remote/remote-store.js";
import { closeStore, configure, getStore } from "../../src/store/store-registry.js";
import { STORE_ENV_KEYS } from "../helpers/store-env.js";

/**
 * TypeScript twins of the Python scenarios a–e of tests/fixtures/platform-contract/traces, run
 * against a fresh in-process `tdag serve` per scenario with request capture on. Each step runs
 * the way the Python step ran in its own process: a fresh remote store opened from the
 * environment (`TDAG_STORE=remote`, `MAINSEQUENCE_*`), new node instances, the step's env.
 *
 * The nodes mirror the Python nodes as far as the traces tell: class and config names, config
 * fields and their types (`scale` is a float whose value is integral), columns and dtypes, the
 * published identifiers, the assets (`PP_ASSET_000..003`), the date windows and the row counts
 * of each step's `stdout_summary`. Python module paths are not in the traces: the twins use
 * `pyparity_nodes`, so the hashes differ from the Python run (the traces elide them as `<hash>`).
 */

const MODULE = "pyparity_nodes";
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const START = Date.parse("2024-01-01T00:00:00Z");
export const ASSETS = ["PP_ASSET_000", "PP_ASSET_001", "PP_ASSET_002", "PP_ASSET_003"] as const;

/** `2024-01-10` or `2024-01-02T00:00:00` (naive, read as UTC) → epoch ms. */
function envInstant(name: string): number {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return Date.parse(value.length === 10 ? `${value}T00:00:00Z` : `${value}Z`);
}

// ------------------------------------------------------------------ Rand1D

export const Rand1DConfig = pythonIdentity(
  DataNodeConfiguration.extend({
    mean: z.number(),
    /** A float field whose default is integral: Python writes `1.0`. */
    scale: z.number().default(1),
  }),
  { module: MODULE, qualname: "Rand1DConfig" },
);

const RAND1D_METADATA = {
  identifier: "pyparity_rand1d",
  description: "Parity 1-D node: value float64, count int64, label string",
};

/** 1-D node: one row per UTC day from 2024-01-01 to `PYPARITY_END`, incremental. */
export class Rand1D extends DataNode<typeof Rand1DConfig> {
  static override configSchema = Rand1DConfig;
  static override pythonIdentity = { module: MODULE, qualname: "Rand1D" };

  override update({ updateStatistics }: UpdateContext): Frame {
    const end = envInstant("PYPARITY_END");
    const last = updateStatistics.maxTimeIndexValue;
    const rows: FrameRecord[] = [];
    for (let t = last ? last.getTime() + DAY_MS : START; t <= end; t += DAY_MS) {
      const day = Math.round((t - START) / DAY_MS);
      rows.push({
        time_index: new Date(t),
        value: this.config.mean + this.config.scale * Math.sin(day + 1) * 0.5,
        count: day,
        label: `day-${day}`,
      });
    }
    return Frame.fromRecords(rows, {
      dtypes: { value: "float64", count: "int64", label: "string" },
    });
  }
}

/** `Rand1D(Rand1DConfig(mean=1.5))` with its published metadata. */
export function rand1d(mean = 1.5): Rand1D {
  return new Rand1D({ mean, node_metadata: RAND1D_METADATA });
}

// ------------------------------------------------------------------ Prices2D

export const Prices2DConfig = pythonIdentity(
  DataNodeConfiguration.extend({
    freq_minutes: z.int().default(60),
    n_assets: z.int().default(4),
  }),
  { module: MODULE, qualname: "Prices2DConfig" },
);

export const PRICES_IDENTIFIER = "pyparity_prices2d";

/**
 * 2-D node `(time_index, unique_identifier)`: `n_assets` assets every `freq_minutes` from
 * 2024-01-01 to `PYPARITY_END2`, incremental per asset. Some float cells are integral (as the
 * Python node's `100.0`), so the float encoding of uploads is exercised.
 */
export class Prices2D extends DataNode<typeof Prices2DConfig> {
  static override configSchema = Prices2DConfig;
  static override pythonIdentity = { module: MODULE, qualname: "Prices2D" };

  private assets(): string[] {
    return ASSETS.slice(0, this.config.n_assets);
  }

  /** tdag writes only registered assets: the twin registers its universe (the TS trace's b1/b2). */
  override async getAssetList(): Promise<AssetRecord[]> {
    return Asset.batchGetOrRegisterCustomAssets(
      this.assets().map((uid) => ({ uniqueIdentifier: uid, snapshot: { name: uid, ticker: uid } })),
      { store: await this.getStore() },
    );
  }

  override update({ updateStatistics }: UpdateContext): Frame {
    const end = envInstant("PYPARITY_END2");
    const step = this.config.freq_minutes * 60_000;
    const rows: FrameRecord[] = [];
    this.assets().forEach((uid, k) => {
      const last = updateStatistics.getLastUpdateForIdentity(uid);
      for (let t = last ? last.getTime() + step : START; t <= end; t += step) {
        const h = Math.round((t - START) / HOUR_MS);
        rows.push({
          time_index: new Date(t),
          unique_identifier: uid,
          open: 100 + k + 0.5 * h,
          close: 100 + 2 * k + 0.25 * h,
          volume: 1000 * (h + 1) + k * 0.5,
        });
      }
    });
    return Frame.fromRecords(rows, {
      indexNames: ["time_index", "unique_identifier"],
      dtypes: { unique_identifier: "string", open: "float64", close: "float64", volume: "float64" },
    });
  }
}

export function prices2d(): Prices2D {
  return new Prices2D({
    node_metadata: { identifier: PRICES_IDENTIFIER, description: "Parity 2-D prices" },
  });
}

// ------------------------------------------------------------------ Combo

export const ComboConfig = pythonIdentity(
  DataNodeConfiguration.extend({
    /** The identifier of the API table it reads. */
    ident: z.string(),
    /** The mean of its Rand1D dependency. */
    mean: z.number(),
  }),
  { module: MODULE, qualname: "ComboConfig" },
);

/** Depends on `Rand1D(mean)` (a DataNode) and on the published prices table (an APIDataNode). */
export class Combo extends DataNode<typeof ComboConfig> {
  static override configSchema = ComboConfig;
  static override pythonIdentity = { module: MODULE, qualname: "Combo" };
  readonly rand: Rand1D;
  readonly prices: APIDataNode;

  constructor(config: z.input<typeof ComboConfig>) {
    super(config);
    this.rand = rand1d(this.config.mean);
    this.prices = APIDataNode.buildFromIdentifier(this.config.ident);
  }

  override dependencies() {
    return { rand: this.rand, prices: this.prices };
  }

  override getTableMetadata(): TableMetadata {
    return { identifier: "pyparity_combo", description: "Parity combo of Rand1D and prices" };
  }

  override async update(): Promise<Frame> {
    const rand = (await this.rand.getDfBetweenDates()).toRecords();
    const prices = (
      await this.prices.getDfBetweenDates({
        dimensionFilters: { unique_identifier: ["PP_ASSET_000"] },
        columns: ["close"],
      })
    ).toRecords();
    const lastClose = Number(prices.at(-1)?.["close"] ?? 0);
    return Frame.fromRecords(
      rand.map((r) => ({ time_index: r["time_index"], x: Number(r["value"]) + lastClose })),
      { dtypes: { x: "float64" } },
    );
  }
}

export function combo(): Combo {
  return new Combo({ ident: PRICES_IDENTIFIER, mean: 1.5 });
}

// ------------------------------------------------------------------ scenarios

/** What a step hands to its body. */
export interface StepContext {
  readonly server: RunningPlatformServer;
  /** Lines like the Python step's `stdout_summary`, checked by the test. */
  readonly out: string[];
}

export interface ScenarioStep {
  /** The step id of the golden trace (`a1`, `c`, `e2`...). */
  readonly id: string;
  /** Environment of the step, on top of the server's (`TDAG_STORE=remote`, endpoint, token). */
  readonly env?: (server: RunningPlatformServer) => Record<string, string>;
  readonly run: (ctx: StepContext) => Promise<void>;
}

export interface Scenario {
  /** The golden trace's name (`a-1d-run-twice`): traces/<name>.json. */
  readonly name: string;
  /** Steps run first, uncaptured: the state the Python scenario found (earlier scenarios' tables). */
  readonly seed?: readonly ScenarioStep[];
  readonly steps: readonly ScenarioStep[];
}

/** A step's captured requests and summary lines. */
export interface CapturedStep {
  readonly scenario: string;
  readonly step: string;
  readonly requests: readonly RequestLogEntry[];
  readonly out: readonly string[];
}

async function runNode(node: DataNode, ctx: StepContext, label: string): Promise<void> {
  const result = await node.run({ forceUpdate: true, debugMode: true });
  const head = result.nodes.at(-1);
  ctx.out.push(`RESULT ${label} err= ${result.error !== false} rows= ${head?.rowsWritten ?? 0}`);
}

const end = (date: string) => () => ({ PYPARITY_END: date });
const end2 = (date: string) => () => ({ PYPARITY_END2: date });

const a1: ScenarioStep = {
  id: "a1",
  env: end("2024-01-10"),
  run: (ctx) => runNode(rand1d(), ctx, "rand1d"),
};
const a2: ScenarioStep = {
  id: "a2",
  env: end("2024-01-15"),
  run: (ctx) => runNode(rand1d(), ctx, "rand1d"),
};
const b1: ScenarioStep = {
  id: "b1",
  env: end2("2024-01-02T00:00:00"),
  run: (ctx) => runNode(prices2d(), ctx, "prices2d"),
};
const b2: ScenarioStep = {
  id: "b2",
  env: end2("2024-01-03T00:00:00"),
  run: (ctx) => runNode(prices2d(), ctx, "prices2d"),
};
const d: ScenarioStep = {
  id: "d",
  env: end("2024-01-20"),
  run: (ctx) => runNode(combo(), ctx, "combo"),
};

export const SCENARIOS: readonly Scenario[] = [
  { name: "a-1d-run-twice", steps: [a1, a2] },
  { name: "b-2d-asset-run-twice", steps: [b1, b2] },
  {
    name: "c-api-read-filters",
    seed: [b1, b2],
    steps: [
      {
        id: "c",
        async run(ctx) {
          const api = APIDataNode.buildFromIdentifier(PRICES_IDENTIFIER);
          const all = await api.getDfBetweenDates();
          ctx.out.push(`READ all ${all.length}`);
          const filtered = await api.getDfBetweenDates({
            startDate: "2024-01-01T12:00:00Z",
            endDate: "2024-01-02T12:00:00Z",
            dimensionFilters: { unique_identifier: ["PP_ASSET_001", "PP_ASSET_002"] },
            columns: ["close"],
          });
          ctx.out.push(`READ filtered ${filtered.length}`);
          const ranged = await api.getDfBetweenDates({
            dimensionRangeMap: [
              {
                coordinate: { unique_identifier: "PP_ASSET_003" },
                startDate: "2024-01-02T20:00:00Z",
                startDateOperand: ">",
              },
            ],
          });
          ctx.out.push(`READ range_map ${ranged.length}`);
        },
      },
    ],
  },
  { name: "d-datanode-and-api-deps", seed: [a1, a2, b1, b2], steps: [d] },
  {
    name: "e-search-delete-auth",
    seed: [b1, b2, d],
    steps: [
      {
        id: "e1",
        async run(ctx) {
          const desc = await DataNodeStorage.descriptionSearch("parity prices");
          ctx.out.push(`DESC ${desc.length}`);
          const col = await DataNodeStorage.columnSearch("close");
          ctx.out.push(`COL ${col.length}`);
          const prices = APIDataNode.buildFromIdentifier(PRICES_IDENTIFIER);
          const storage = await prices.resolve();
          // 111.1, not 111: a float filter value, as Python's 110.0 (the input, not the client).
          const filtered = await DataNodeStorage.getAllDataFromFilter(
            new SearchRequest({ storageHash: storage.storageHash, filter: F.gt("close", 111.1) }),
            { batchLimit: 50 },
          );
          ctx.out.push(`FILTER ${filtered.length}`);
          const last = await prices.getLastObservation({
            dimensionFilters: { unique_identifier: ["PP_ASSET_000", "PP_ASSET_001"] },
          });
          ctx.out.push(`LASTOBS ${last.length}`);
          await DataNodeStorage.refreshTableSearchIndex(storage.uid);
          ctx.out.push("REFRESH ok");
          const store = await getStore();
          const byUid = await store.findStorage({ uid: storage.uid });
          ctx.out.push(`GETUID ${byUid?.uid === storage.uid}`);
          const target = await DataNodeStorage.getByIdentifier(RAND1D_METADATA.identifier);
          if (!target) throw new Error("no pyparity_rand1d table");
          const deleted = await store.deleteAfterDate(
            target.uid,
            Date.parse("2024-01-19T00:00:00Z") * 1000,
          );
          ctx.out.push(`DELAFTER ${deleted.deletedCount}`);
          await store.deleteStorage(target.uid);
          ctx.out.push("DELETE ok");
        },
      },
      {
        id: "e2",
        env: (server) => ({
          MAINSEQUENCE_ACCESS_TOKEN: "not-a-valid-token",
          MAINSEQUENCE_REFRESH_TOKEN: server.jwt.issue("refresh", "contract"),
        }),
        async run(ctx) {
          // Python: login, then refresh(force=True). tdag has no login: a forced refresh.
          await authFromEnv(process.env, { endpoint: ctx.server.url }).headers({
            forceRefresh: true,
          });
          ctx.out.push(
            `REFRESHED ${process.env.MAINSEQUENCE_ACCESS_TOKEN !== "not-a-valid-token"}`,
          );
          // Then an invalid access token with a valid refresh token: 401 → refresh → retry.
          process.env.MAINSEQUENCE_ACCESS_TOKEN = "not-a-valid-token";
          const store = (await getStore()) as RemoteStore;
          ctx.out.push(`PROJECT ${(await store.projectDataSourceUid()) !== ""}`);
        },
      },
      {
        id: "e3",
        env: (server) => ({
          MAINSEQUENCE_AUTH_MODE: "runtime_credential",
          MAINSEQUENCE_ACCESS_TOKEN: "",
          MAINSEQUENCE_RUNTIME_CREDENTIAL_ID: "contract-cred",
          MAINSEQUENCE_RUNTIME_CREDENTIAL_SECRET: server.token,
        }),
        async run(ctx) {
          const store = (await getStore()) as RemoteStore;
          ctx.out.push(`PROJECT ${(await store.projectDataSourceUid()) !== ""}`);
        },
      },
    ],
  },
];

/** The step's expected summary lines (the Python step's `stdout_summary`, in tdag's words). */
export const EXPECTED_OUT: Readonly<Record<string, readonly string[]>> = {
  a1: ["RESULT rand1d err= false rows= 10"],
  a2: ["RESULT rand1d err= false rows= 5"],
  b1: ["RESULT prices2d err= false rows= 100"],
  b2: ["RESULT prices2d err= false rows= 96"],
  c: ["READ all 196", "READ filtered 50", "READ range_map 4"],
  d: ["RESULT combo err= false rows= 20"],
  e1: [
    "DESC 3",
    "COL 1",
    "FILTER 64",
    "LASTOBS 2",
    "REFRESH ok",
    "GETUID true",
    "DELAFTER 2",
    "DELETE ok",
  ],
  e2: ["REFRESHED true", "PROJECT true"],
  e3: ["PROJECT true"],
};

const ENV_KEYS = [...STORE_ENV_KEYS, "PYPARITY_END", "PYPARITY_END2"] as const;

async function runStep(
  server: RunningPlatformServer,
  step: ScenarioStep,
): Promise<{ requests: RequestLogEntry[]; out: string[] }> {
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
  Object.assign(process.env, server.env, step.env?.(server) ?? {});
  const mark = server.faults.requests.length;
  const out: string[] = [];
  try {
    configure({ store: "remote" });
    await step.run({ server, out });
  } finally {
    await closeStore();
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
  return { requests: server.faults.requests.slice(mark), out };
}

/**
 * Runs a scenario against a fresh `tdag serve` (DuckDB file under `dir`, capture on): its seed
 * steps, then its steps, each with its own store and env. Returns each step's requests.
 */
export async function runScenario(scenario: Scenario, dir: string): Promise<CapturedStep[]> {
  const dbPath = join(dir, `${scenario.name}-${randomUUID()}.duckdb`);
  const server = await startPlatformServer({ port: 0, dbPath });
  server.faults.capture = true;
  const captured: CapturedStep[] = [];
  try {
    for (const step of scenario.seed ?? []) await runStep(server, step);
    for (const step of scenario.steps) {
      const { requests, out } = await runStep(server, step);
      captured.push({ scenario: scenario.name, step: step.id, requests, out });
    }
  } finally {
    await server.close();
    rmSync(dbPath, { force: true });
    rmSync(`${dbPath}.wal`, { force: true });
  }
  return captured;
}

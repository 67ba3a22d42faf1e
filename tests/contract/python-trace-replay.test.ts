import { describe, type ExpectStatic, it } from "vitest";
import { DT, openServer, readAll, type ServerFixture } from "../server/server-fixture.js";
import {
  epochSeconds,
  type NodeSpec,
  PyFloat,
  problemsOf,
  type StatusException,
  type StepBinding,
  seqs,
  TraceReplayer,
} from "./trace-replay.js";

/**
 * Contract test (a): each golden trace of the real Python client (mainsequence 4.0.16, see
 * tests/fixtures/platform-contract/traces) replayed request by request against a fresh
 * `tdag serve`. Every answer must have the recorded status, form and count, and validate
 * under the schemas the client parses it with; the replay must leave the data the runs wrote.
 *
 * Scenarios c, d and e read what earlier scenarios wrote (the traces were taken in one session
 * a → e), so their fresh server is first seeded by replaying those scenarios' traces.
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;
const ASSETS = ["PP_ASSET_000", "PP_ASSET_001", "PP_ASSET_002", "PP_ASSET_003"];

/** The DataNodes of the scenarios (see each trace's description). */
const NODES: readonly NodeSpec[] = [
  {
    name: "rand1d",
    className: "Rand1D",
    identifier: "pyparity_rand1d",
    description: "pyparity Rand1D: a random daily series of value, count and label",
    start: "2024-01-01T00:00:00Z",
    stepMs: DAY,
    config: { mean: 1.5, scale: 1.0 },
  },
  {
    name: "prices2d",
    className: "Prices2D",
    identifier: "pyparity_prices2d",
    description: "pyparity Prices2D: hourly open, close and volume per asset",
    start: "2024-01-01T00:00:00Z",
    stepMs: HOUR,
    assets: ASSETS,
    config: { freq_minutes: 60, n_assets: 4 },
  },
  {
    name: "combo",
    className: "Combo",
    identifier: "pyparity_combo",
    description: "pyparity Combo: the Rand1D value plus the close of PP_ASSET_000",
    start: "2024-01-01T00:00:00Z",
    stepMs: DAY,
    config: { ident: "pyparity_prices2d", mean: 1.5 },
  },
];

/**
 * Where a trace records tdag's old broken behaviour rather than the contract: the replay expects
 * `expected` there. Each entry must be needed by its scenario (checked below).
 */
const EXCEPTIONS: readonly StatusException[] = [
  {
    step: "e1",
    method: "DELETE",
    path: "/orm/api/ts_manager/dynamic_table/{storage_uid}/",
    recorded: 404,
    expected: 200,
    reason:
      "tdag f983bb8 did not serve DELETE DT/{uid}/ (the trace's 404 is 'Not found.'); the route " +
      "is served now and deletes the table with its updaters",
  },
];

/** c's 2nd read: PP_ASSET_001/002 closes over 24 hours; 3rd: PP_ASSET_003 after 20:00 on the 2nd. */
const FILTERED_READ = {
  start_date: new PyFloat(epochSeconds("2024-01-01T12:00:00Z")),
  end_date: new PyFloat(epochSeconds("2024-01-02T12:00:00Z")),
  columns: ["close"],
  "dimension_filters.unique_identifier": ["PP_ASSET_001", "PP_ASSET_002"],
};
const RANGE_MAP_READ = {
  "dimension_range_map.[].coordinate.unique_identifier": "PP_ASSET_003",
  "dimension_range_map.[].start_date": epochSeconds("2024-01-02T20:00:00Z"),
};
/** e1's filter: close > 332.5 holds for the last 16 of the 49 hours (see NodeSpec's cells): 64 rows. */
const CLOSE_FILTER = {
  "filter.field": "close",
  "filter.value": new PyFloat(332.5),
  limit: 50,
};
const CONNECT_RAND1D = {
  values: { target_update_node_uid: (r: TraceReplayer) => r.node("rand1d").ltsUid },
};
const CONNECT_PRICES2D = {
  values: { target_table_uid: (r: TraceReplayer) => r.node("prices2d").storageUid },
};

interface Scenario {
  /** Scenarios replayed first on the same server (what this one reads). */
  readonly seeds: readonly string[];
  /** Per step: the node it runs, and per request what the trace's types leave open. */
  readonly steps: Readonly<Record<string, StepBinding>>;
}

const SCENARIOS: Readonly<Record<string, Scenario>> = {
  "a-1d-run-twice": {
    seeds: [],
    steps: { a1: { node: "rand1d" }, a2: { node: "rand1d" } },
  },
  "b-2d-asset-run-twice": {
    seeds: [],
    steps: { b1: { node: "prices2d" }, b2: { node: "prices2d" } },
  },
  "c-api-read-filters": {
    seeds: ["b-2d-asset-run-twice"],
    steps: {
      c: {
        node: "prices2d",
        at: {
          4: { rows: 196 },
          5: { values: FILTERED_READ, rows: 50 },
          6: { values: RANGE_MAP_READ, rows: 4 },
        },
      },
    },
  },
  // Combo's run (head) opens first; Rand1D runs inside it (#28-#36), then Combo reads Rand1D
  // (#37-#38) and the API table (#39) and writes (#40-#47). #11/#12/#23 look Rand1D up, #2/#14
  // the API table; #13/#24 and #15/#25 connect Combo to them.
  "d-datanode-and-api-deps": {
    seeds: ["a-1d-run-twice", "b-2d-asset-run-twice"],
    steps: {
      d: {
        node: "combo",
        at: {
          2: { node: "prices2d" },
          11: { node: "rand1d" },
          12: { node: "rand1d" },
          13: CONNECT_RAND1D,
          14: { node: "prices2d" },
          15: CONNECT_PRICES2D,
          23: { node: "rand1d" },
          24: CONNECT_RAND1D,
          25: CONNECT_PRICES2D,
          ...seqs(28, 37, { node: "rand1d" }),
          38: { node: "rand1d", rows: 20 },
          39: {
            node: "prices2d",
            values: { columns: ["close"], "dimension_filters.unique_identifier": ["PP_ASSET_000"] },
            rows: 49,
          },
        },
      },
    },
  },
  "e-search-delete-auth": {
    seeds: ["a-1d-run-twice", "b-2d-asset-run-twice", "d-datanode-and-api-deps"],
    steps: {
      e1: {
        node: "prices2d",
        at: {
          2: { values: { q: "pyparity" } },
          3: { values: { q: "close" } },
          5: { values: CLOSE_FILTER, rows: 50 },
          6: { values: CLOSE_FILTER, rows: 14 },
          7: { values: { "dimension_filters.unique_identifier": ASSETS.slice(0, 2) } },
          10: { node: "combo" },
          11: {
            node: "combo",
            // Inclusive: the 19th and 20th of the 20 days go (DELAFTER deleted_count 2 in the trace).
            values: { after_date: "2024-01-19T00:00:00Z" },
            answer: { deleted_count: 2, table_empty: false },
          },
          12: { node: "combo" },
        },
      },
      // #4 sends an invalid access token (401); the client refreshes (#5) and retries (#6).
      e2: { node: "prices2d", at: { 4: { token: "not-a-valid-access-token" } } },
      e3: { node: "prices2d" },
    },
  },
};

/**
 * Replays a scenario (after its seeds) on a fresh server, asserts a clean replay and that every
 * exception of its steps was needed, then lets `inspect` read the server back; stops the server.
 */
async function replay(
  name: string,
  expect: ExpectStatic,
  inspect: (fx: ServerFixture, replayer: TraceReplayer) => Promise<void> = async () => {},
): Promise<void> {
  const fx = await openServer();
  try {
    const replayer = new TraceReplayer(fx, NODES, EXCEPTIONS);
    const scenario = SCENARIOS[name]!;
    const problems: string[] = [];
    for (const which of [...scenario.seeds, name]) {
      problems.push(...problemsOf(await replayer.replay(which, SCENARIOS[which]!.steps)));
    }
    expect(problems).toEqual([]);
    const steps = new Set(Object.keys(scenario.steps));
    const unused = EXCEPTIONS.filter((e) => steps.has(e.step) && !replayer.usedExceptions.has(e));
    expect(unused).toEqual([]);
    await inspect(fx, replayer);
  } finally {
    await fx.close();
  }
}

/** Every row of a node's table, read through the server. */
async function rowsOf(fx: ServerFixture, storageUid: string | undefined) {
  if (storageUid === undefined) throw new Error("the replay never learned the storage uid");
  return readAll(fx, storageUid);
}

// Each scenario has its own server: they run side by side.
describe.concurrent("the Python client's golden traces replayed against tdag serve", () => {
  it("a: a 1-D node run twice writes 10 rows, then 5 more", async ({ expect }) => {
    await replay("a-1d-run-twice", expect, async (fx, replayer) => {
      const rows = await rowsOf(fx, replayer.node("rand1d").storageUid);
      expect(rows.length).toBe(15);
      // Cells as NodeSpec says: value (column 1) 100 + k + 0.01, count 10k, label "label-k".
      const first = {
        time_index: "2024-01-01T00:00:00Z",
        value: 100.01,
        count: 0,
        label: "label-0",
      };
      const last = {
        time_index: "2024-01-15T00:00:00Z",
        value: 114.01,
        count: 140,
        label: "label-14",
      };
      expect(rows[0]).toMatchObject(first);
      expect(rows[14]).toMatchObject(last);
    });
  });

  it("b: a 2-D node run twice writes 25 then 24 hours of 4 assets", async ({ expect }) => {
    await replay("b-2d-asset-run-twice", expect, async (fx, replayer) => {
      const rows = await rowsOf(fx, replayer.node("prices2d").storageUid);
      expect(rows.length).toBe(196);
      expect(new Set(rows.map((r) => r["unique_identifier"]))).toEqual(new Set(ASSETS));
      const times = rows.map((r) => String(r["time_index"])).sort();
      expect([times[0], times.at(-1)]).toEqual(["2024-01-01T00:00:00Z", "2024-01-03T00:00:00Z"]);
    });
  });

  it("c: an API node reads the 2-D table whole, filtered and by range map", async ({ expect }) => {
    // The row counts of the three reads (196, 50, 4) are asserted per request (`rows`).
    await replay("c-api-read-filters", expect);
  });

  it("d: a node with a DataNode and an API dependency", async ({ expect }) => {
    await replay("d-datanode-and-api-deps", expect, async (fx, replayer) => {
      expect((await rowsOf(fx, replayer.node("combo").storageUid)).length).toBe(20);
      expect((await rowsOf(fx, replayer.node("rand1d").storageUid)).length).toBe(20);
    });
  });

  it("e: search, filter, last observation, delete and both auth flows", async ({ expect }) => {
    await replay("e-search-delete-auth", expect, async (fx) => {
      const gone = await fx.call("GET", `${DT}/?identifier=pyparity_combo`);
      expect(gone.body.count).toBe(0);
      const kept = await fx.call("GET", `${DT}/?identifier=pyparity_prices2d`);
      expect((await rowsOf(fx, kept.body.results[0].uid)).length).toBe(196);
    });
  });
});

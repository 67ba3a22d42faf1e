import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DailyRandomAddition,
  DailyRandomAdditionAPI,
  DailyRandomNumber,
  SimulatedPrices,
  seededNormal,
} from "../../examples/tutorial-nodes.js";
import { resolveProjectUid } from "../../src/hashing/project-uid.js";
import {
  type RunningPlatformServer,
  startPlatformServer,
} from "../../src/server/platform-server.js";
import { RemoteStore } from "../../src/store/remote/remote-store.js";
import { closeStore, configure, getStore } from "../../src/store/store-registry.js";
import { storageUid, updaterUid } from "../helpers/nodes.js";
import { STORE_ENV_KEYS } from "../helpers/store-env.js";
import { rows, silentLogger, snapshotTable } from "../helpers/temp-store.js";

/**
 * The tutorial nodes (examples/tutorial-nodes.ts), unchanged, against a local platform server
 * selected only through the environment: TDAG_STORE=remote, MAINSEQUENCE_ENDPOINT, the token
 * and MAIN_SEQUENCE_PROJECT_UID (the server's `env`). No store is passed to any node.
 */
configure({ logger: silentLogger });

const OFFSET = "2026-01-01T00:00:00Z";
const days = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `2026-01-0${from + i}T00:00:00Z`);
const ENV_KEYS = [...STORE_ENV_KEYS, "TDAG_EXAMPLE_TODAY"] as const;

const root = mkdtempSync(join(tmpdir(), "tdag-remote-tutorial-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let server: RunningPlatformServer;
let saved: Record<string, string | undefined> = {};

beforeEach(async () => {
  saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  server = await startPlatformServer({ port: 0, dbPath: join(root, `${randomUUID()}.duckdb`) });
  for (const k of ENV_KEYS) delete process.env[k];
  Object.assign(process.env, server.env);
  process.env.TDAG_EXAMPLE_TODAY = "2026-01-05";
});

afterEach(async () => {
  await closeStore();
  await server.close();
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe("tutorial nodes with TDAG_STORE=remote against the local server", () => {
  it("selects the remote store from the environment; the project enters the update hash", async () => {
    expect(server.env.TDAG_STORE).toBe("remote");
    expect(resolveProjectUid()).toBe(server.projectUid);
    const store = await getStore();
    expect(store).toBeInstanceOf(RemoteStore);
    expect(store.description).toBe(`remote:${server.url}/orm/api`);
    const withProject = new DailyRandomNumber({ mean: 0, offset_start: OFFSET });
    const withoutProject = new DailyRandomNumber(
      { mean: 0, offset_start: OFFSET },
      { projectUid: null },
    );
    expect(withProject.storageHash).toBe(withoutProject.storageHash);
    expect(withProject.updateHash).not.toBe(withoutProject.updateHash);
  });

  it("DailyRandomNumber: two vol updaters share one storage", async () => {
    const narrow = new DailyRandomNumber({ mean: 0, offset_start: OFFSET });
    const wide = new DailyRandomNumber({
      mean: 0,
      std: { center: 2, skew: false },
      offset_start: OFFSET,
    });
    expect(wide.storageHash).toBe(narrow.storageHash);
    expect((await narrow.run()).nodes[0]).toMatchObject({ status: "updated", rowsWritten: 5 });
    expect((await wide.run()).nodes[0]!.status).toBe("nothing_new");
    expect(rows(await narrow.getDfBetweenDates())).toEqual(
      days(1, 5).map((t) => ({
        time_index: t,
        random_number: seededNormal(`${narrow.updateHash}|${new Date(t).toISOString()}`),
      })),
    );
    const store = await getStore();
    expect((await store.listStorages()).map((s) => s.storageHash)).toEqual([narrow.storageHash]);
    expect(await store.findStorage({ identifier: "example_random_number_0" })).toMatchObject({
      storageHash: narrow.storageHash,
      dataFrequencyId: "1d",
    });
  });

  it("DailyRandomAddition and DailyRandomAdditionAPI record their dependencies", async () => {
    const addition = new DailyRandomAddition({ mean: 1, std: 0.5, offset_start: OFFSET });
    const result = await addition.run();
    expect(result.nodes.map((n) => [n.name, n.status, n.rowsWritten])).toEqual([
      ["DailyRandomNumber", "updated", 5],
      ["DailyRandomAddition", "updated", 5],
    ]);
    const store = await getStore();
    expect(await store.listDependencies(await updaterUid(store, addition))).toEqual([
      { kind: "updater", uid: await updaterUid(store, addition.numberGenerator) },
    ]);
    const api = new DailyRandomAdditionAPI({
      mean: 2,
      std: 1,
      dependency_identifier: "example_random_number_0",
      offset_start: OFFSET,
    });
    expect((await api.run()).nodes.map((n) => n.status)).toEqual(["read_only", "updated"]);
    const base = rows(await addition.numberGenerator.getDfBetweenDates());
    const added = rows(await api.getDfBetweenDates());
    expect(added).toHaveLength(5);
    added.forEach((row, i) => {
      const t = new Date(row.time_index as string).toISOString();
      expect(row.random_number as number).toBeCloseTo(
        (base[i]!.random_number as number) + 2 + seededNormal(`${api.updateHash}|${t}`),
        12,
      );
    });
    expect(await store.listDependencies(await updaterUid(store, api))).toEqual([
      { kind: "storage", uid: await storageUid(store, addition.numberGenerator) },
    ]);
  });

  it("SimulatedPrices: two universes, one table, assets registered, later days append", async () => {
    const big = new SimulatedPrices({ asset_universe: ["AAPL", "MSFT"], offset_start: OFFSET });
    const small = new SimulatedPrices({ asset_universe: ["NVDA"], offset_start: OFFSET });
    expect((await big.run()).nodes[0]).toMatchObject({ rowsWritten: 10, identities: 2 });
    expect((await small.run()).nodes[0]).toMatchObject({ rowsWritten: 5, identities: 1 });
    const store = await getStore();
    expect(await store.findUnregisteredAssets(["AAPL", "MSFT", "NVDA"])).toEqual([]);
    const before = (await snapshotTable(store, big.storageHash))!.rows;
    expect(before).toHaveLength(15);

    process.env.TDAG_EXAMPLE_TODAY = "2026-01-07";
    expect((await big.run()).nodes[0]).toMatchObject({ rowsWritten: 4, identities: 2 });
    const after = (await snapshotTable(store, big.storageHash))!.rows;
    expect(after).toHaveLength(19);
    for (const row of before) expect(after).toContainEqual(row);
    const last = await big.getLastObservation();
    expect(rows(last).map((r) => `${r.unique_identifier}@${r.time_index}`)).toEqual([
      "NVDA@2026-01-05T00:00:00Z",
      "AAPL@2026-01-07T00:00:00Z",
      "MSFT@2026-01-07T00:00:00Z",
    ]);
  });
});

/**
 * The README's "A first node" example, verbatim apart from the store setup, so the quickstart
 * stays true: if this test breaks, the README is wrong.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  closeStore,
  configure,
  DataNode,
  DataNodeConfiguration,
  type UpdateContext,
  updateOnly,
} from "../../src/index.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
let dir = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tdag-readme-"));
  configure({ duckdbPath: join(dir, "readme.duckdb"), logger: silent });
});

afterAll(async () => {
  await closeStore();
  rmSync(dir, { recursive: true, force: true });
});

describe("README first node", () => {
  it("runs, writes today's row once, and shares the table across vol configs", async () => {
    // --- from README.md -----------------------------------------------------------------
    const RandomConfig = DataNodeConfiguration.extend({
      mean: z.number(), // meaning: changes the table (storage_hash)
      vol: updateOnly(z.object({ center: z.number(), skew: z.boolean() })).default({
        center: 1,
        skew: true,
      }), // scope: changes only the updater (update_hash)
    });

    class DailyRandomNumber extends DataNode<typeof RandomConfig> {
      static override configSchema = RandomConfig;
      static override nodeName = "DailyRandomNumber"; // stable identity, immune to bundler renaming

      override update({ updateStatistics }: UpdateContext) {
        const today = new Date(new Date().toISOString().slice(0, 10) + "T00:00:00Z");
        const last = updateStatistics.maxTimeIndexValue;
        if (last && last >= today) return []; // nothing new
        return [
          {
            time_index: today,
            random_number: this.config.mean + Math.random() * this.config.vol.center,
          },
        ];
      }
    }

    const node = new DailyRandomNumber({ mean: 0 });
    const { df } = await node.run({ forceUpdate: true });
    // --------------------------------------------------------------------------------------

    expect(node.storageHash).toMatch(/^dailyrandomnumber_[0-9a-f]{32}$/);
    expect(df?.length).toBe(1);
    const again = await node.run({ forceUpdate: true });
    expect(again.nodes[0]?.status).toBe("nothing_new");

    const otherVol = new DailyRandomNumber({ mean: 0, vol: { center: 2, skew: false } });
    expect(otherVol.storageHash).toBe(node.storageHash);
    expect(otherVol.updateHash).not.toBe(node.updateHash);
    const read = await otherVol.getDfBetweenDates();
    expect(read.length).toBe(1);
  });
});

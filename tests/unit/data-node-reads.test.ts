import { describe, expect, it } from "vitest";
import { configure } from "../../src/index.js";
import { ScriptedNode } from "../helpers/nodes.js";
import { silentLogger, tempStore } from "../helpers/temp-store.js";

configure({ logger: silentLogger });

describe("DataNode reads", () => {
  it("read a never-run node as empty without creating anything in the store", async () => {
    const { store } = await tempStore();
    const node = new ScriptedNode({ series: "never_run" });
    node.bindStore(store);
    expect((await node.getDfBetweenDates()).length).toBe(0);
    expect((await node.getLastObservation()).length).toBe(0);
    expect((await node.getTableStatistics()).globalIndexProgress).toBeNull();
    expect(await store.listStorages()).toEqual([]);
  });

  it("read what the node wrote, from its own table", async () => {
    const { store } = await tempStore();
    const node = new ScriptedNode({ series: "written" });
    node.script = [{ time_index: "2024-01-02T00:00:00.000001Z", value: 2.5 }];
    await node.run({ store });
    const read = await node.getDfBetweenDates({ startDate: "2024-01-02" });
    expect(read.toRecords({ time: "iso" })).toEqual([
      { time_index: "2024-01-02T00:00:00.000001Z", value: 2.5 },
    ]);
    const stats = await node.getTableStatistics();
    expect(stats.globalIndexProgress?.max).toBe(Date.UTC(2024, 0, 2) * 1000 + 1);
  });
});

import { describe, expect, it } from "vitest";
import * as z from "zod";
import { DataNodeConfiguration } from "../../src/config/data-node-configuration.js";
import { type GraphVertex, orderGraph, runInDependencyOrder } from "../../src/engine/graph.js";
import type { UpdateContext } from "../../src/engine/run-engine.js";
import { GraphError } from "../../src/errors.js";
import type { FrameRecord } from "../../src/frame/frame.js";
import { DataNode } from "../../src/node/data-node.js";
import { configure } from "../../src/store/store-registry.js";
import {
  type Deferred,
  deferred,
  rejectionOf,
  settle,
  silentLogger,
  tempStore,
} from "../helpers/temp-store.js";

configure({ logger: silentLogger });

// ------------------------------------------------------------------------- plain graphs

interface G {
  readonly id: string;
  deps: G[];
}

const g = (id: string, ...deps: G[]): G => ({ id, deps });

function order(root: G): string[] {
  return orderGraph(
    root,
    (n) => ({ key: n.id, label: `L${n.id}` }),
    (n) => n.deps,
  ).map((v) => v.key);
}

function expectTopological(root: G, keys: string[]): void {
  const position = new Map(keys.map((k, i) => [k, i]));
  const visit = (n: G, seen: Set<G>): void => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const d of n.deps) {
      expect(position.get(d.id)!, `${d.id} before ${n.id}`).toBeLessThan(position.get(n.id)!);
      visit(d, seen);
    }
  };
  visit(root, new Set());
}

describe("orderGraph", () => {
  it("puts dependencies before dependents, the root last, each key once", () => {
    const d = g("d");
    const e = g("e");
    const b = g("b", d, e);
    const c = g("c", e);
    const a = g("a", b, c, d);
    const keys = order(a);
    expect(keys).toEqual(["d", "e", "b", "c", "a"]);
    expect(new Set(keys).size).toBe(keys.length);
    expectTopological(a, keys);
  });

  it("shares a diamond's bottom: visited once, listed once, dependsOn by key", () => {
    const bottom = g("bottom");
    const left = g("left", bottom);
    const right = g("right", bottom);
    const top = g("top", left, right);
    const vertices = orderGraph(
      top,
      (n) => ({ key: n.id, label: n.id }),
      (n) => n.deps,
    );
    expect(vertices.map((v) => v.key)).toEqual(["bottom", "left", "right", "top"]);
    expect(vertices.find((v) => v.key === "top")!.dependsOn).toEqual(["left", "right"]);
    expect(vertices.find((v) => v.key === "left")!.dependsOn).toEqual(["bottom"]);
    expect(vertices[0]!.value).toBe(bottom);
  });

  it("treats distinct objects with the same key as one vertex", () => {
    const twin1 = g("same");
    const twin2 = g("same");
    const keys = order(g("root", twin1, twin2));
    expect(keys).toEqual(["same", "root"]);
  });

  it("reports a cycle with its nodes in path order, closing on the first", () => {
    const a = g("a");
    const b = g("b");
    const c = g("c");
    a.deps = [b];
    b.deps = [c];
    c.deps = [b];
    const err = (() => {
      try {
        order(g("root", a));
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(GraphError);
    const graphError = err as GraphError;
    expect(graphError.code).toBe("dependency_cycle");
    expect(graphError.nodes).toEqual(["Lb", "Lc", "Lb"]);
    expect(graphError.message).toBe("dependency cycle: Lb -> Lc -> Lb");
  });

  it("reports a self-dependency", () => {
    const a = g("a");
    a.deps = [a];
    expect(() => order(a)).toThrow(/dependency cycle: La -> La/);
  });
});

// ------------------------------------------------------------------------- scheduling

function vertex(key: string, ...dependsOn: string[]): GraphVertex<string> {
  return { key, label: key, value: key, dependsOn };
}

/** Tasks that start when scheduled and finish when the test says so. */
class Controlled {
  readonly started: string[] = [];
  readonly finished: string[] = [];
  readonly gates = new Map<string, Deferred>();
  inFlight = 0;
  maxInFlight = 0;

  task = async (v: GraphVertex<string>): Promise<void> => {
    this.started.push(v.key);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const gate = deferred();
    this.gates.set(v.key, gate);
    try {
      await gate.promise;
    } finally {
      this.inFlight--;
      this.finished.push(v.key);
    }
  };

  async finish(key: string): Promise<void> {
    await settle();
    const gate = this.gates.get(key);
    if (!gate) throw new Error(`${key} has not started (started: ${this.started.join(",")})`);
    gate.resolve();
    await settle();
  }

  async fail(key: string, error: unknown): Promise<void> {
    await settle();
    this.gates.get(key)!.reject(error);
    await settle();
  }
}

describe("runInDependencyOrder", () => {
  it("never runs more than `concurrency` tasks at once and runs them all", async () => {
    const c = new Controlled();
    const vertices = ["a", "b", "c", "d", "e"].map((k) => vertex(k));
    const done = runInDependencyOrder(vertices, 2, c.task);
    await settle();
    expect(c.started).toEqual(["a", "b"]);
    await c.finish("a");
    expect(c.started).toEqual(["a", "b", "c"]);
    await c.finish("b");
    await c.finish("c");
    await c.finish("d");
    await c.finish("e");
    const result = await done;
    expect(result).toEqual({ failed: null, skipped: [] });
    expect(c.maxInFlight).toBe(2);
    expect(c.finished).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("overlaps independent nodes and starts a dependent only after all its dependencies", async () => {
    const c = new Controlled();
    const vertices = [vertex("x"), vertex("y"), vertex("z"), vertex("top", "x", "y", "z")];
    const done = runInDependencyOrder(vertices, 4, c.task);
    await settle();
    expect(c.started).toEqual(["x", "y", "z"]);
    expect(c.inFlight).toBe(3);
    await c.finish("y");
    await c.finish("x");
    expect(c.started).not.toContain("top");
    await c.finish("z");
    expect(c.started).toEqual(["x", "y", "z", "top"]);
    await c.finish("top");
    expect((await done).skipped).toEqual([]);
    expect(c.maxInFlight).toBe(3);
  });

  it("treats a concurrency below 1 as 1", async () => {
    const c = new Controlled();
    const done = runInDependencyOrder([vertex("a"), vertex("b")], 0, c.task);
    await settle();
    expect(c.started).toEqual(["a"]);
    await c.finish("a");
    await c.finish("b");
    await done;
    expect(c.maxInFlight).toBe(1);
  });

  it("after a failure starts nothing new, awaits running tasks and reports the skipped", async () => {
    const c = new Controlled();
    const boom = new Error("boom");
    const vertices = [vertex("a"), vertex("b"), vertex("c"), vertex("after_a", "a")];
    const done = runInDependencyOrder(vertices, 2, c.task);
    let resolved = false;
    void done.then(() => {
      resolved = true;
    });
    await settle();
    expect(c.started).toEqual(["a", "b"]);
    await c.fail("a", boom);
    // b is still running: the run waits for it and does not start c
    expect(resolved).toBe(false);
    expect(c.started).toEqual(["a", "b"]);
    await c.finish("b");
    const result = await done;
    expect(result.failed).toEqual({ key: "a", error: boom });
    expect(result.skipped.sort()).toEqual(["after_a", "c"]);
    expect(c.finished).toEqual(["a", "b"]);
  });

  it("starts nothing once the signal is aborted", async () => {
    const c = new Controlled();
    const controller = new AbortController();
    const done = runInDependencyOrder(
      [vertex("a"), vertex("b", "a"), vertex("c", "b")],
      4,
      c.task,
      controller.signal,
    );
    await settle();
    controller.abort();
    await c.finish("a");
    const result = await done;
    expect(result).toEqual({ failed: null, skipped: ["b", "c"] });
    expect(c.started).toEqual(["a"]);
  });
});

// ------------------------------------------------------------------------- real DataNodes

const NodeConfig = DataNodeConfiguration.extend({ name: z.string() });

const DAY = "2024-01-01T00:00:00Z";

/** A node whose dependencies are assigned after construction (so cycles can be built). */
class Linked extends DataNode<typeof NodeConfig> {
  static override configSchema = NodeConfig;
  static override nodeName = "Linked";
  deps: Record<string, DataNode> = {};
  readonly log: string[];

  constructor(name: string, log: string[] = []) {
    super({ name });
    this.log = log;
  }

  override dependencies(): Record<string, DataNode> {
    return this.deps;
  }

  override update(_context: UpdateContext): FrameRecord[] | Promise<FrameRecord[]> {
    this.log.push(this.config.name);
    return [{ time_index: DAY, value: this.log.length }];
  }
}

describe("graphs of DataNodes", () => {
  it("runs a diamond bottom-up, each node once", async () => {
    const { store } = await tempStore();
    const log: string[] = [];
    const bottom = new Linked("bottom", log);
    const left = new Linked("left", log);
    const right = new Linked("right", log);
    const top = new Linked("top", log);
    left.deps = { b: bottom };
    right.deps = { b: bottom };
    top.deps = { l: left, r: right };

    const result = await top.run({ store });
    expect(log.filter((n) => n === "bottom")).toHaveLength(1);
    expect(log).toHaveLength(4);
    expect(log[0]).toBe("bottom");
    expect(log[3]).toBe("top");
    expect(result.nodes.map((n) => n.updateHash)).toEqual(
      [bottom, left, right, top].map((n) => n.updateHash),
    );
    expect(result.nodes.every((n) => n.status === "updated" && n.rowsWritten === 1)).toBe(true);

    // one edge per declared dependency, diamonds not duplicated
    const uid = async (n: DataNode) => (await store.findUpdater({ updateHash: n.updateHash }))!.uid;
    expect(await store.listDependencies(await uid(top))).toEqual([
      { kind: "updater", uid: await uid(left) },
      { kind: "updater", uid: await uid(right) },
    ]);
    expect(await store.listDependencies(await uid(right))).toEqual([
      { kind: "updater", uid: await uid(bottom) },
    ]);
  });

  it.each([
    [1, 1],
    [2, 2],
    [4, 3],
  ])(
    "run({ concurrency: %i }) overlaps at most that many independent updates (max %i)",
    async (concurrency, expected) => {
      const { store } = await tempStore();
      let inFlight = 0;
      let maxInFlight = 0;
      const arrived: Deferred[] = [];
      class Slow extends Linked {
        override async update(context: UpdateContext): Promise<FrameRecord[]> {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          // wait until every independent sibling could have started (or a short timeout)
          const gate = deferred();
          arrived.push(gate);
          if (arrived.length >= 3) for (const g of arrived) g.resolve();
          await Promise.race([gate.promise, new Promise((r) => setTimeout(r, 100))]);
          inFlight--;
          return super.update(context);
        }
      }
      const leaves = ["x", "y", "z"].map((name) => new Slow(name));
      const root = new Linked("root");
      root.deps = Object.fromEntries(leaves.map((l) => [l.config.name, l]));
      const result = await root.run({ store, concurrency });
      expect(maxInFlight).toBe(expected);
      expect(result.nodes.map((n) => n.status)).toEqual([
        "updated",
        "updated",
        "updated",
        "updated",
      ]);
    },
  );

  it("rejects a cycle through dependencies() with a GraphError naming the nodes, writing nothing", async () => {
    const { store } = await tempStore();
    const log: string[] = [];
    const a = new Linked("a", log);
    const b = new Linked("b", log);
    const c = new Linked("c", log);
    a.deps = { b };
    b.deps = { c };
    c.deps = { a };

    const err = await rejectionOf(a.run({ store }));
    expect(err).toBeInstanceOf(GraphError);
    const graphError = err as GraphError;
    expect(graphError.code).toBe("dependency_cycle");
    const label = (n: Linked) => `Linked(${n.updateHash})`;
    expect(graphError.nodes).toEqual([label(a), label(b), label(c), label(a)]);
    expect(graphError.message).toBe(
      `dependency cycle: ${label(a)} -> ${label(b)} -> ${label(c)} -> ${label(a)}`,
    );
    expect(log).toEqual([]);
    expect(await store.listStorages()).toEqual([]);
  });

  it("rejects a dependency that is not a node", async () => {
    const { store } = await tempStore();
    const a = new Linked("a");
    a.deps = { oops: 42 as unknown as DataNode };
    const err = await rejectionOf(a.run({ store }));
    expect(err).toMatchObject({ code: "invalid_dependency" });
    expect((err as Error).message).toContain("'oops'");
  });
});

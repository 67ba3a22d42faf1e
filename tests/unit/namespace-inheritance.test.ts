import { describe, expect, it } from "vitest";
import * as z from "zod";
import { DataNodeConfiguration } from "../../src/config/data-node-configuration.js";
import {
  currentHashNamespace,
  disableHashNamespace,
  hashNamespace,
} from "../../src/hashing/namespace.js";
import { DataNode } from "../../src/node/data-node.js";
import { explainHash } from "../../src/node/explain-hash.js";
import type { DataNodeOptions } from "../../src/node/node-options.js";

const Cfg = DataNodeConfiguration.extend({ a: z.int().default(1) });
type CfgIn = z.input<typeof Cfg>;

class Leaf extends DataNode<typeof Cfg> {
  static override configSchema = Cfg;
}

/** Builds dependencies everywhere a constructor can: before super(), in its arguments, fields, after. */
class Parent extends DataNode<typeof Cfg> {
  static override configSchema = Cfg;
  field = new Leaf({ a: 10 });
  readonly pre: Leaf;
  readonly post: Leaf;
  readonly viaHelper: Leaf;
  readonly inArgs: Leaf;

  constructor(config: CfgIn = {}, options: DataNodeOptions = {}) {
    const pre = new Leaf({ a: 11 });
    const inArgs = new Leaf({ a: 12 });
    super(config, options, { inArgs });
    this.pre = pre;
    this.inArgs = inArgs;
    this.post = new Leaf({ a: 13 });
    this.viaHelper = makeLeaf(14);
  }

  all(): Leaf[] {
    return [this.field, this.pre, this.inArgs, this.post, this.viaHelper];
  }
}

function makeLeaf(a: number): Leaf {
  return new Leaf({ a });
}

/** Subclass without a constructor (V8 elides its default constructor frame). */
class PlainSub extends Parent {}

/** Subclass with its own field initializer and no constructor. */
class FieldSub extends Parent {
  extra = new Leaf({ a: 50 });
}

/** Subclass with its own constructor building more dependencies. */
class CtorSub extends Parent {
  readonly more: Leaf;
  constructor(options: DataNodeOptions = {}) {
    const early = new Leaf({ a: 60 });
    super({}, options);
    this.more = early;
  }
}

/** Parent of Parent: namespaces flow down two levels. */
class GrandParent extends DataNode<typeof Cfg> {
  static override configSchema = Cfg;
  readonly child: Parent;
  readonly explicitChild: Leaf;
  readonly innerScoped: Leaf;
  readonly disabled: Leaf;
  constructor(options: DataNodeOptions = {}) {
    super({}, options);
    this.child = new Parent();
    this.explicitChild = new Leaf({ a: 30 }, { hashNamespace: "own" });
    this.innerScoped = hashNamespace("inner", () => new Leaf({ a: 31 }));
    this.disabled = disableHashNamespace(() => new Leaf({ a: 32 }));
  }
}

const ns = (nodes: DataNode<typeof Cfg>[]) => nodes.map((n) => n.hashNamespace);

describe("namespace context", () => {
  it("hashNamespace returns fn's result, trims, nests and restores", () => {
    expect(currentHashNamespace()).toBe("");
    const result = hashNamespace("  outer ", () => {
      expect(currentHashNamespace()).toBe("outer");
      hashNamespace("inner", () => expect(currentHashNamespace()).toBe("inner"));
      expect(disableHashNamespace(() => currentHashNamespace())).toBe("");
      return 42;
    });
    expect(result).toBe(42);
    expect(currentHashNamespace()).toBe("");
    expect(hashNamespace(null, () => currentHashNamespace())).toBe("");
  });

  it("survives await inside an async fn and does not leak to concurrent work", async () => {
    const seen: string[] = [];
    const a = hashNamespace("async_a", async () => {
      await new Promise((r) => setTimeout(r, 5));
      seen.push(currentHashNamespace());
      return new Leaf({});
    });
    const b = (async () => {
      await new Promise((r) => setTimeout(r, 1));
      seen.push(currentHashNamespace());
      return new Leaf({});
    })();
    const [na, nb] = await Promise.all([a, b]);
    expect(seen.sort()).toEqual(["", "async_a"]);
    expect(na.hashNamespace).toBe("async_a");
    expect(nb.hashNamespace).toBe("");
  });
});

describe("namespace resolution order", () => {
  it("explicit option > testNode > ambient > empty", () => {
    expect(new Leaf({}).hashNamespace).toBe("");
    expect(new Leaf({}, { testNode: true }).hashNamespace).toBe("test");
    expect(new Leaf({}, { testNode: true, hashNamespace: "x" }).hashNamespace).toBe("x");
    hashNamespace("ctx", () => {
      expect(new Leaf({}).hashNamespace).toBe("ctx");
      expect(new Leaf({}, { hashNamespace: "x" }).hashNamespace).toBe("x");
      expect(new Leaf({}, { testNode: true }).hashNamespace).toBe("test");
      // an explicit "" switches the ambient namespace off
      expect(new Leaf({}, { hashNamespace: "" }).hashNamespace).toBe("");
      expect(new Leaf({}, { hashNamespace: "  " }).updateHash).toBe(
        new Leaf({}, { hashNamespace: "" }).updateHash,
      );
    });
    expect(new Leaf({}, { hashNamespace: " t1 " }).hashNamespace).toBe("t1");
  });

  it("a non-empty namespace enters both hashes as top-level hash_namespace", () => {
    const plain = new Leaf({});
    const spaced = new Leaf({}, { hashNamespace: "t1" });
    expect(spaced.updateHash).not.toBe(plain.updateHash);
    expect(spaced.storageHash).not.toBe(plain.storageHash);
    expect(spaced.testNode).toBe(true);
    expect(explainHash(spaced).storageCanonicalJson).toContain(
      '"hash_namespace": "t1", "time_series_class_import_path"',
    );
    expect(hashNamespace("t1", () => new Leaf({})).updateHash).toBe(spaced.updateHash);
  });
});

describe("constructor inheritance", () => {
  it("dependencies built anywhere in a namespaced constructor inherit the namespace", () => {
    const p = new Parent({}, { hashNamespace: "x" });
    expect(ns(p.all())).toEqual(["x", "x", "x", "x", "x"]);
    const t = new Parent({}, { testNode: true });
    expect(ns(t.all())).toEqual(["test", "test", "test", "test", "test"]);
  });

  it("re-hashes dependencies built before super() before the parent hashes them", () => {
    const p = new Parent({}, { hashNamespace: "x" });
    const expected = new Leaf({ a: 12 }, { hashNamespace: "x" });
    expect(p.inArgs.updateHash).toBe(expected.updateHash);
    expect(explainHash(p).updateCanonicalJson).toContain(`"update_hash": "${expected.updateHash}"`);
  });

  it("without a namespace nothing is inherited", () => {
    expect(ns(new Parent().all())).toEqual(["", "", "", "", ""]);
  });

  it("does not leak to nodes constructed after the parent returned", () => {
    const a = new Parent({}, { hashNamespace: "x" });
    const b = new Leaf({});
    const c = makeLeaf(1);
    expect(a.hashNamespace).toBe("x");
    expect(b.hashNamespace).toBe("");
    expect(c.hashNamespace).toBe("");
  });

  it("does not leak between constructions on the same line", () => {
    const both = [new Parent({}, { hashNamespace: "x" }), new Parent()];
    expect(ns(both)).toEqual(["x", ""]);
    expect(ns((both[1] as Parent).all())).toEqual(["", "", "", "", ""]);
    const mixed = [new Parent({}, { hashNamespace: "x" }), new Leaf({})];
    expect(ns(mixed)).toEqual(["x", ""]);
  });

  it("tells repeated constructions at one call site apart (loops, map)", () => {
    const nsList = ["a", "", "c", "", ""];
    const parents = nsList.map((n) => new Parent({}, n ? { hashNamespace: n } : {}));
    for (const [i, p] of parents.entries()) {
      expect(p.hashNamespace).toBe(nsList[i]);
      expect(ns(p.all())).toEqual(Array(5).fill(nsList[i]));
    }
    const loop: Parent[] = [];
    for (let i = 0; i < 4; i++)
      loop.push(new Parent({}, i % 2 === 0 ? { hashNamespace: `n${i}` } : {}));
    expect(loop.map((p) => ns(p.all()))).toEqual([
      Array(5).fill("n0"),
      Array(5).fill(""),
      Array(5).fill("n2"),
      Array(5).fill(""),
    ]);
  });

  it("flows through several levels; explicit options and inner scopes of children win", () => {
    const g = new GrandParent({ hashNamespace: "g" });
    expect(g.child.hashNamespace).toBe("g");
    expect(ns(g.child.all())).toEqual(Array(5).fill("g"));
    expect(g.explicitChild.hashNamespace).toBe("own");
    expect(g.innerScoped.hashNamespace).toBe("inner");
    expect(g.disabled.hashNamespace).toBe("");
  });

  it("under an ambient scope, an explicit empty parent namespace leaves children on the ambient one (as Python)", () => {
    hashNamespace("ctx", () => {
      const p = new Parent({}, { hashNamespace: "" });
      expect(p.hashNamespace).toBe("");
      expect(ns(p.all())).toEqual(Array(5).fill("ctx"));
    });
  });

  it("covers everything when the whole construction runs in hashNamespace()", () => {
    const p = hashNamespace("t1", () => new Parent());
    expect(ns([p, ...p.all()])).toEqual(Array(6).fill("t1"));
  });

  it("works for nodes built in the arguments of super() and in async callers", async () => {
    class Holder extends DataNode<typeof Cfg> {
      static override configSchema = Cfg;
      constructor(
        options: DataNodeOptions,
        readonly dep = new Leaf({ a: 40 }),
      ) {
        super({}, options, { dep });
      }
    }
    await new Promise((r) => setTimeout(r, 1));
    const h = new Holder({ hashNamespace: "y" });
    expect(h.dep.hashNamespace).toBe("y");
    const plain = new Holder({});
    expect(plain.dep.hashNamespace).toBe("");
  });

  it("works through subclasses with and without their own constructors, also in loops", () => {
    for (let i = 0; i < 3; i++) {
      const name = i === 1 ? "" : `s${i}`;
      const options = name ? { hashNamespace: name } : {};
      const plainSub = new PlainSub({}, options);
      expect(ns(plainSub.all())).toEqual(Array(5).fill(name));
      const fieldSub = new FieldSub({}, options);
      expect(ns([...fieldSub.all(), fieldSub.extra])).toEqual(Array(6).fill(name));
      const ctorSub = new CtorSub(options);
      expect(ns([...ctorSub.all(), ctorSub.more])).toEqual(Array(6).fill(name));
    }
  });
});

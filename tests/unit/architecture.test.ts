import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The layers of docs/architecture.md, checked on the real import graph of `src/` (type-only
 * and dynamic imports included): no module cycle, and no import from a layer into a higher one
 * or into a sibling of the same rank.
 */

const SRC = resolve(import.meta.dirname, "..", "..", "src");

/** A layer: its files, and its rank (a module imports only its own layer or lower ranks). */
interface Layer {
  readonly name: string;
  readonly rank: number;
  readonly has: (file: string) => boolean;
}

const under = (folder: string) => (file: string) => file.startsWith(`${folder}/`);

/** First match wins; every file of src/ must match one. */
const LAYERS: readonly Layer[] = [
  { name: "base", rank: 0, has: (f) => ["errors.ts", "logger.ts", "version.ts"].includes(f) },
  { name: "config", rank: 1, has: under("config") },
  { name: "hashing", rank: 2, has: under("hashing") },
  { name: "frame", rank: 3, has: under("frame") },
  // The store contract's record types: a leaf every store, filter and search module shares.
  { name: "store contract", rank: 4, has: (f) => f === "store/store-types.ts" },
  // Siblings of one rank: none imports another.
  { name: "filters", rank: 5, has: under("filters") },
  { name: "search", rank: 5, has: under("search") },
  { name: "statistics", rank: 5, has: under("statistics") },
  { name: "store", rank: 6, has: under("store") },
  { name: "engine", rank: 7, has: under("engine") },
  { name: "node", rank: 8, has: under("node") },
  { name: "server", rank: 9, has: under("server") },
  { name: "cli", rank: 10, has: under("cli") },
  { name: "public API", rank: 11, has: (f) => f === "index.ts" },
];

/**
 * Inside the store layer: the SQL core knows no database, each store folder knows no other, and
 * the store-neutral files (contract, rules, queue) know no store; only the registry, which
 * opens the configured store, may import a store folder.
 */
const STORE_FOLDERS = ["store/sql/", "store/duckdb/", "store/remote/"];
function storeRule(from: string, to: string): string | null {
  const target = STORE_FOLDERS.find((folder) => to.startsWith(folder));
  if (!target) return null;
  const source = STORE_FOLDERS.find((folder) => from.startsWith(folder));
  if (source === target) return null;
  if (source === "store/duckdb/" && target === "store/sql/") return null; // a dialect of the core
  if (from === "store/store-registry.ts" && target !== "store/sql/") return null;
  return `${from} imports ${to}: ${source ?? "a store-neutral file"} must not import ${target}`;
}

type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** Every `.ts` file of a folder, relative to it, with the relative modules it imports. */
function importGraph(root: string): ImportGraph {
  const graph = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".ts")) {
        const info = ts.preProcessFile(readFileSync(path, "utf8"), true, true);
        const deps = info.importedFiles
          .map((i) => i.fileName)
          .filter((name) => name.startsWith("."))
          .map((name) => relative(root, resolve(dirname(path), name)).replace(/\.js$/, ".ts"));
        graph.set(relative(root, path), [...new Set(deps)]);
      }
    }
  };
  walk(root);
  return graph;
}

/** The import cycles of a graph (strongly connected components of two or more modules). */
function importCycles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}

function layerOf(file: string): Layer | undefined {
  return LAYERS.find((layer) => layer.has(file));
}

/** Every import that breaks the layering, as a sentence naming both files and layers. */
function layerViolations(graph: ImportGraph): string[] {
  const out: string[] = [];
  for (const [from, deps] of graph) {
    const source = layerOf(from);
    if (!source) {
      out.push(`${from} belongs to no layer`);
      continue;
    }
    for (const to of deps) {
      const target = layerOf(to);
      if (!target) continue;
      if (target.rank > source.rank) {
        out.push(`${from} (${source.name}) imports ${to} (${target.name}), a higher layer`);
      } else if (target.rank === source.rank && target !== source) {
        out.push(`${from} (${source.name}) imports ${to} (${target.name}), a sibling layer`);
      } else if (source.name === "store") {
        const broken = storeRule(from, to);
        if (broken) out.push(broken);
      }
    }
  }
  return out.sort();
}

describe("architecture", () => {
  const graph = importGraph(SRC);

  it("reads every module of src/", () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get("store/store-types.ts")).toBeDefined();
  });

  it("has no import cycle", () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it("imports only downward between the layers of docs/architecture.md", () => {
    expect(layerViolations(graph)).toEqual([]);
  });

  it("keeps the store contract a leaf of record types", () => {
    const deps = graph.get("store/store-types.ts")!;
    for (const dep of deps) expect(dep).toMatch(/^(config|frame)\//);
  });

  it("the checks find what they are looking for", () => {
    const bad: ImportGraph = new Map([
      ["filters/a.ts", ["search/b.ts"]],
      ["search/b.ts", ["filters/a.ts"]],
      ["frame/c.ts", ["store/data-store.ts"]],
      ["store/sql/d.ts", ["store/duckdb/e.ts"]],
      ["store/duckdb/e.ts", ["store/sql/d.ts"]],
      ["store/remote/f.ts", ["store/duckdb/e.ts"]],
      ["store/table-rules.ts", ["store/sql/d.ts"]],
      ["store/store-registry.ts", ["store/remote/f.ts"]],
      ["engine/g.ts", ["engine/g.ts", "node/h.ts"]],
      ["node/h.ts", ["engine/g.ts"]],
      ["elsewhere/i.ts", []],
    ]);
    expect(importCycles(bad)).toEqual([
      ["engine/g.ts", "node/h.ts"],
      ["filters/a.ts", "search/b.ts"],
      ["store/duckdb/e.ts", "store/sql/d.ts"],
    ]);
    expect(layerViolations(bad)).toEqual([
      "elsewhere/i.ts belongs to no layer",
      "engine/g.ts (engine) imports node/h.ts (node), a higher layer",
      "filters/a.ts (filters) imports search/b.ts (search), a sibling layer",
      "frame/c.ts (frame) imports store/data-store.ts (store), a higher layer",
      "search/b.ts (search) imports filters/a.ts (filters), a sibling layer",
      "store/remote/f.ts imports store/duckdb/e.ts: store/remote/ must not import store/duckdb/",
      "store/sql/d.ts imports store/duckdb/e.ts: store/sql/ must not import store/duckdb/",
      "store/table-rules.ts imports store/sql/d.ts: a store-neutral file must not import store/sql/",
    ]);
  });
});

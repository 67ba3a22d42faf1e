import { GraphError } from "../errors.js";

/** One vertex of the dependency graph: a key (the update hash) and its direct dependencies. */
export interface GraphVertex<T> {
  readonly key: string;
  readonly label: string;
  readonly value: T;
  /** Keys of the direct dependencies, in declaration order. */
  readonly dependsOn: readonly string[];
}

/**
 * Walks a dependency graph from `root`, visiting each key once (diamonds are shared), and returns
 * the vertices in topological order: every dependency before its dependents, the root last.
 * A cycle is a `GraphError` naming the nodes on it, in order.
 *
 * @example
 * ```ts
 * const order = orderGraph(root, (n) => ({ key: n.id, label: n.id, value: n, dependsOn: n.deps.map(d => d.id) }), (n) => n.deps);
 * ```
 */
export function orderGraph<T>(
  root: T,
  describe: (node: T) => { key: string; label: string },
  children: (node: T) => readonly T[],
): GraphVertex<T>[] {
  const state = new Map<string, "visiting" | "done">();
  const order: GraphVertex<T>[] = [];
  const path: { key: string; label: string }[] = [];

  const visit = (node: T): string => {
    const { key, label } = describe(node);
    const seen = state.get(key);
    if (seen === "done") return key;
    if (seen === "visiting") {
      const start = path.findIndex((p) => p.key === key);
      const cycle = [...path.slice(start), { key, label }];
      throw new GraphError(
        "dependency_cycle",
        `dependency cycle: ${cycle.map((p) => p.label).join(" -> ")}`,
        { nodes: cycle.map((p) => p.label) },
      );
    }
    state.set(key, "visiting");
    path.push({ key, label });
    const deps = children(node).map(visit);
    path.pop();
    state.set(key, "done");
    order.push({ key, label, value: node, dependsOn: deps });
    return key;
  };

  visit(root);
  return order;
}

/**
 * Runs `task` for every vertex once all its dependencies have finished, at most `concurrency`
 * at a time. After the first failure no new task starts; running ones are awaited. Returns the
 * keys that were skipped because a dependency failed or the run was aborted.
 */
export async function runInDependencyOrder<T>(
  vertices: readonly GraphVertex<T>[],
  concurrency: number,
  task: (vertex: GraphVertex<T>) => Promise<void>,
  signal?: AbortSignal,
): Promise<{ failed: { key: string; error: unknown } | null; skipped: string[] }> {
  const pending = new Map(vertices.map((v) => [v.key, v]));
  const done = new Set<string>();
  const running = new Map<string, Promise<void>>();
  let failed: { key: string; error: unknown } | null = null;

  const ready = (v: GraphVertex<T>) => v.dependsOn.every((d) => done.has(d));

  while (pending.size > 0 || running.size > 0) {
    if (!failed && !signal?.aborted) {
      for (const v of [...pending.values()]) {
        if (running.size >= Math.max(1, concurrency)) break;
        if (!ready(v)) continue;
        pending.delete(v.key);
        const p = task(v)
          .then(
            () => {
              done.add(v.key);
            },
            (error: unknown) => {
              failed ??= { key: v.key, error };
            },
          )
          .finally(() => running.delete(v.key));
        running.set(v.key, p);
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  return { failed, skipped: [...pending.keys()] };
}

import { type GraphVertex, orderGraph } from "../engine/graph.js";
import type { StorageKey } from "../store/data-store.js";
import { CliError, EXIT } from "./errors.js";
import { isApiDataNode, isDataNodeInstance, type LoadedNode } from "./load-node.js";

/** What the CLI reads from an APIDataNode (of any copy of the package). */
export interface ApiNodeLike {
  readonly key: StorageKey;
  readonly label: string;
}

/** A member of a node's dependency graph. */
export type GraphMember =
  | { readonly kind: "data_node"; readonly node: LoadedNode }
  | { readonly kind: "api_data_node"; readonly node: ApiNodeLike };

/** The vertex key of an APIDataNode, as the run engine keys it. */
export function apiKey(node: ApiNodeLike): string {
  return `api:${JSON.stringify(node.key)}`;
}

/**
 * The dependency graph of `root` in topological order (dependencies first, the root last),
 * keyed as the run engine keys it: DataNodes by update hash, APIDataNodes by their lookup key.
 * Building it calls only `dependencies()`; nothing is registered or read.
 */
export function walkGraph(root: LoadedNode): GraphVertex<GraphMember>[] {
  const members = new Map<unknown, GraphMember>();
  const member = (value: unknown): GraphMember => {
    let m = members.get(value);
    if (!m) {
      m = isApiDataNode(value)
        ? { kind: "api_data_node", node: value as ApiNodeLike }
        : { kind: "data_node", node: value as LoadedNode };
      members.set(value, m);
    }
    return m;
  };
  return orderGraph<GraphMember>(
    member(root),
    (m) =>
      m.kind === "api_data_node"
        ? { key: apiKey(m.node), label: m.node.label }
        : { key: m.node.updateHash, label: `${m.node.nodeName}(${m.node.updateHash})` },
    (m) => {
      if (m.kind === "api_data_node") return [];
      return Object.entries(m.node.dependencies()).map(([name, dep]) => {
        if (isDataNodeInstance(dep) || isApiDataNode(dep)) return member(dep);
        throw new CliError(
          EXIT.failed,
          "invalid_dependency",
          `${m.node.nodeName}.dependencies() returned '${name}' which is not a DataNode or APIDataNode`,
        );
      });
    },
  );
}

/** How many DataNodes (not APIDataNodes) a graph holds: the nodes a run updates. */
export function countDataNodes(graph: readonly GraphVertex<GraphMember>[]): number {
  return graph.filter((v) => v.value.kind === "data_node").length;
}

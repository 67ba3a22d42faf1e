import { AsyncLocalStorage } from "node:async_hooks";

/** The value held by the ambient namespace context (an object, so scopes can be told apart). */
export interface NamespaceScope {
  readonly namespace: string;
}

const storage = new AsyncLocalStorage<NamespaceScope>();

/**
 * Runs `fn` with an ambient hash namespace (trimmed; `""` disables any outer one). Every node
 * constructed inside — synchronously or after `await`s — without an explicit namespace gets it,
 * which changes both of its hashes. Scopes nest; the previous namespace is restored afterwards.
 * Returns what `fn` returns (a promise for an async `fn`).
 *
 * @example
 * ```ts
 * const node = hashNamespace("experiment_7", () => new PricesNode(config));
 * node.hashNamespace; // "experiment_7"
 * await hashNamespace("t1", async () => { await setup(); return new PricesNode(config); });
 * ```
 */
export function hashNamespace<T>(namespace: string | null | undefined, fn: () => T): T {
  return storage.run({ namespace: (namespace ?? "").trim() }, fn);
}

/**
 * Runs `fn` with the ambient namespace switched off (`""`), e.g. to rebuild a node from its
 * stored configuration without an outer namespace leaking into it.
 *
 * @example
 * ```ts
 * hashNamespace("t1", () => disableHashNamespace(() => currentHashNamespace())); // ""
 * ```
 */
export function disableHashNamespace<T>(fn: () => T): T {
  return storage.run({ namespace: "" }, fn);
}

/**
 * The ambient hash namespace, `""` outside any {@link hashNamespace} scope.
 *
 * @example
 * ```ts
 * hashNamespace("ns1", () => currentHashNamespace()); // "ns1"
 * ```
 */
export function currentHashNamespace(): string {
  return storage.getStore()?.namespace ?? "";
}

/** The ambient scope object itself (identity matters to constructor inheritance). */
export function currentNamespaceScope(): NamespaceScope | undefined {
  return storage.getStore();
}

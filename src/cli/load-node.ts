import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { EngineNode, RunOptions, RunResult } from "../engine/run-engine.js";
import { hashNamespace as ownHashNamespace } from "../hashing/namespace.js";
import { CliError, EXIT, notFoundError, usageError } from "./errors.js";

/** Brands shared by every copy of the package (`Symbol.for`), so detection never uses `instanceof`. */
const DATA_NODE_BRAND = Symbol.for("tdag.DataNode");
const API_DATA_NODE_BRAND = Symbol.for("tdag.APIDataNode");

/** What the CLI needs from a DataNode (an instance of any copy of the package). */
export interface LoadedNode extends EngineNode {
  run(options?: RunOptions): Promise<RunResult>;
}

/** A DataNode loaded from the user's module, and how it was obtained. */
export interface LoadedModuleNode {
  readonly node: LoadedNode;
  /** The absolute path of the module. */
  readonly file: string;
  /** The export that was used (`"default"` or the `--export` name). */
  readonly exportName: string;
  /** How the export was turned into a node. */
  readonly kind: "instance" | "factory" | "class";
}

export interface LoadNodeOptions {
  /** `--export`: the named export to use (default: the default export). */
  readonly exportName?: string | undefined;
  /** `--namespace`: a hash namespace to build the node in. */
  readonly namespace?: string | undefined;
  /** The directory relative paths are resolved against (default: `process.cwd()`). */
  readonly cwd?: string;
}

type HashNamespaceFn = <T>(namespace: string | null | undefined, fn: () => T) => T;

/** True for a DataNode instance of any copy of the package. */
export function isDataNodeInstance(value: unknown): value is LoadedNode {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { [DATA_NODE_BRAND]?: unknown })[DATA_NODE_BRAND] === true &&
    typeof (value as { update?: unknown }).update === "function" &&
    typeof (value as { run?: unknown }).run === "function"
  );
}

/** True for an APIDataNode instance of any copy of the package. */
export function isApiDataNode(value: unknown): boolean {
  return typeof value === "object" && value !== null && API_DATA_NODE_BRAND in value;
}

/** True for a DataNode subclass (the class itself, not an instance). */
function isDataNodeClass(value: unknown): value is new (config: unknown) => unknown {
  if (typeof value !== "function") return false;
  const proto = (value as { prototype?: unknown }).prototype;
  return typeof proto === "object" && proto !== null && DATA_NODE_BRAND in proto;
}

function isClassSyntax(fn: (...args: never[]) => unknown): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return "a function";
  if (typeof value === "object") {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name !== "Object" ? `a ${name} instance` : "an object";
  }
  return `a ${typeof value}`;
}

let tsxRegistered = false;

/**
 * Makes TypeScript modules importable (tsx's ESM loader, registered once for the process).
 * Plain JavaScript modules go through the same loader unchanged.
 */
async function registerTypeScript(): Promise<void> {
  if (tsxRegistered) return;
  try {
    const { register } = await import("tsx/esm/api");
    register();
    tsxRegistered = true;
  } catch (error) {
    throw new CliError(
      EXIT.failed,
      "typescript_unavailable",
      `cannot load TypeScript modules: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, hint: "compile the module to JavaScript, or install tsx" },
    );
  }
}

/** The `package.json` entry of the "." export (the `import` condition), or `main`. */
function entryOf(pkg: Record<string, unknown>): string | undefined {
  const exportsField = pkg["exports"];
  const dot =
    typeof exportsField === "string"
      ? exportsField
      : typeof exportsField === "object" && exportsField !== null
        ? (exportsField as Record<string, unknown>)["."]
        : undefined;
  if (typeof dot === "string") return dot;
  if (typeof dot === "object" && dot !== null) {
    const conditions = dot as Record<string, unknown>;
    for (const key of ["import", "node", "default"]) {
      if (typeof conditions[key] === "string") return conditions[key] as string;
    }
  }
  return typeof pkg["main"] === "string" ? pkg["main"] : undefined;
}

/**
 * The file `import "tdag"` resolves to from `dir`: `node_modules/tdag` in `dir` or an ancestor,
 * or the tdag package itself when `dir` is inside it (self-reference). Symlinks are resolved, as
 * Node resolves them, so the module instance is the one the user's module got.
 */
function findTdagEntry(dir: string): string | undefined {
  let current = dir;
  for (;;) {
    const candidates = [join(current, "node_modules", "tdag"), current];
    for (const pkgDir of candidates) {
      const manifest = join(pkgDir, "package.json");
      if (!existsSync(manifest)) continue;
      try {
        const pkg = JSON.parse(readFileSync(manifest, "utf8")) as Record<string, unknown>;
        if (pkg["name"] !== "tdag") continue;
        const entry = entryOf(pkg);
        if (!entry) continue;
        const file = resolve(pkgDir, entry);
        if (existsSync(file)) return realpathSync(file);
      } catch {
        // an unreadable manifest is not ours; keep looking
      }
    }
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/**
 * The `hashNamespace` of the tdag copy the user's module uses. The namespace is an
 * AsyncLocalStorage of that copy, so a node built by the user's tdag only sees a namespace set
 * through it; when the module does not resolve a tdag of its own, the CLI's copy is used.
 */
async function userHashNamespace(file: string): Promise<HashNamespaceFn> {
  const entry = findTdagEntry(dirname(file));
  if (!entry) return ownHashNamespace;
  try {
    const mod = (await import(pathToFileURL(entry).href)) as { hashNamespace?: unknown };
    const theirs = mod.hashNamespace as HashNamespaceFn | undefined;
    if (typeof theirs === "function" && theirs !== ownHashNamespace) {
      // Set it in both copies: the module's, and the CLI's (which a module may also reach).
      return (namespace, fn) => theirs(namespace, () => ownHashNamespace(namespace, fn));
    }
  } catch {
    // fall back to the CLI's own copy
  }
  return ownHashNamespace;
}

/** Imports the user's module (TypeScript or JavaScript). */
async function importModule(file: string): Promise<Record<string, unknown>> {
  await registerTypeScript();
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = commonJsHint(file, error);
    throw new CliError(EXIT.failed, "module_load_failed", `cannot load ${file}: ${message}`, {
      cause: error,
      ...(hint ? { hint } : {}),
    });
  }
}

/** The `type` of the package.json nearest to `file` (`"commonjs"` when there is none). */
function packageType(file: string): string {
  let dir = dirname(file);
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        const type = (JSON.parse(readFileSync(manifest, "utf8")) as { type?: unknown }).type;
        return type === "module" ? "module" : "commonjs";
      } catch {
        return "commonjs";
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return "commonjs";
    dir = parent;
  }
}

/**
 * tdag is ESM-only: a `.ts`/`.js` module in a CommonJS package is compiled to `require()` calls,
 * which cannot load it. Say so, instead of Node's message about require cycles or exports.
 */
function commonJsHint(file: string, error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const requireTrouble =
    code === "ERR_REQUIRE_CYCLE_MODULE" ||
    code === "ERR_REQUIRE_ESM" ||
    code === "ERR_PACKAGE_PATH_NOT_EXPORTED" ||
    code === "ERR_REQUIRE_ASYNC_MODULE";
  if (!requireTrouble || !/\.(ts|tsx|js|jsx)$/.test(file) || packageType(file) === "module") {
    return undefined;
  }
  return 'the module is in a CommonJS package and tdag is ESM-only: add "type": "module" to its package.json, or rename it to .mts / .mjs';
}

function exportList(mod: Record<string, unknown>): string {
  const names = Object.keys(mod);
  return names.length === 0 ? "it exports nothing" : `its exports: ${names.join(", ")}`;
}

const FACTORY_HINT =
  "export a factory instead, e.g. `export default () => new MyNode(config)`, so tdag can build the node inside the namespace";

/**
 * A node built under `--namespace` must carry it. It does not when it was built by another copy
 * of tdag than the one `import "tdag"` resolves to from the module (the namespace is per copy),
 * or when the factory sets its own namespace explicitly.
 */
function checkNamespace(node: LoadedNode, namespace: string | undefined, label: string): void {
  if (namespace === undefined || node.hashNamespace === namespace.trim()) return;
  throw usageError(
    `${label} built ${node.nodeName} in the namespace '${node.hashNamespace}', not '${namespace.trim()}'`,
    'the factory may set a namespace of its own, or its nodes come from another copy of tdag than the one `import "tdag"` resolves to from the module (import DataNode from "tdag" everywhere)',
  );
}

/**
 * Imports `file` and turns its default (or `--export`) export into a DataNode:
 * - a DataNode instance is used as is (not with `--namespace`: its hashes are fixed already);
 * - a function (sync or async) is called, inside `hashNamespace(ns, ...)` with `--namespace`,
 *   and must return a DataNode;
 * - a DataNode subclass is constructed with an empty config (its defaults).
 */
export async function loadNode(
  fileArg: string,
  options: LoadNodeOptions = {},
): Promise<LoadedModuleNode> {
  const file = resolve(options.cwd ?? process.cwd(), fileArg);
  if (!existsSync(file)) throw notFoundError(`no such module: ${file}`);
  if (statSync(file).isDirectory()) {
    throw usageError(`${file} is a directory; pass the module file that exports the node`);
  }
  const mod = await importModule(file);
  const exportName = options.exportName ?? "default";
  if (!(exportName in mod)) {
    if (options.exportName !== undefined) {
      throw notFoundError(`${fileArg} has no export named '${exportName}' (${exportList(mod)})`);
    }
    throw notFoundError(
      `${fileArg} has no default export (${exportList(mod)})`,
      "pass --export <name>, or add `export default` for the node",
    );
  }
  let value: unknown = mod[exportName];
  if (
    value !== null &&
    typeof value === "object" &&
    typeof (value as Promise<unknown>).then === "function"
  ) {
    value = await (value as Promise<unknown>);
  }
  const label = `export '${exportName}' of ${fileArg}`;
  const namespace = options.namespace;

  if (isDataNodeInstance(value)) {
    if (namespace !== undefined) {
      throw usageError(
        `--namespace cannot apply to ${label}: it is an already-constructed DataNode, whose hashes were fixed when it was built`,
        FACTORY_HINT,
      );
    }
    return { node: value, file, exportName, kind: "instance" };
  }
  if (isApiDataNode(value)) {
    throw usageError(
      `${label} is an APIDataNode, a read-only handle on a published table; export the DataNode that writes it`,
      "to read a published table, use: tdag data-node show <identifier>",
    );
  }
  const withNamespace =
    namespace === undefined
      ? <T>(fn: () => T): T => fn()
      : await userHashNamespace(file).then(
          (hashNamespace) =>
            <T>(fn: () => T): T =>
              hashNamespace(namespace, fn),
        );

  if (isDataNodeClass(value)) {
    const Node = value;
    let built: unknown;
    try {
      built = withNamespace(() => new Node({}));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw usageError(
        `${label} is the class ${Node.name || "(anonymous)"}, which cannot be built with a default config: ${message}`,
        "export an instance or a factory that passes the config, e.g. `export default () => new MyNode({ ... })`",
      );
    }
    if (!isDataNodeInstance(built)) {
      throw usageError(`${label} is a class whose instances are not DataNodes`);
    }
    checkNamespace(built, namespace, label);
    return { node: built, file, exportName, kind: "class" };
  }

  if (typeof value === "function") {
    const fn = value as () => unknown;
    if (isClassSyntax(fn)) {
      throw usageError(
        `${label} is the class ${fn.name || "(anonymous)"}, which is not a DataNode subclass`,
      );
    }
    let built: unknown;
    try {
      built = await withNamespace(() => fn());
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new CliError(
        EXIT.failed,
        "build_failed",
        `${label} failed to build the node: ${message}`,
        {
          cause: error,
        },
      );
    }
    if (!isDataNodeInstance(built)) {
      throw usageError(
        `${label} is a function that returned ${describeValue(built)}, not a DataNode`,
      );
    }
    checkNamespace(built, namespace, label);
    return { node: built, file, exportName, kind: "factory" };
  }

  throw usageError(
    `${label} is ${describeValue(value)}; expected a DataNode, a function returning one, or a DataNode subclass`,
  );
}

import { currentNamespaceScope, type NamespaceScope } from "../hashing/namespace.js";

/*
 * Constructor namespace inheritance.
 *
 * Python runs a node's whole `__init__` inside its namespace, so dependencies built there inherit
 * it. JS cannot wrap a subclass constructor body, so each DataNode records, at construction, the
 * V8 call stack below its own constructor frames:
 *
 *   child stack:  [child ctor frames…] [M: frames inside the parent's body…] [K: caller of `new P`]
 *   parent stack: [parent ctor frames…, P ctor @ super()]                    [K]
 *
 * A node was built inside P's constructor iff its stack ends with P's caller stack K (same frames,
 * same file:line:column) and the frame just above K belongs to P's constructor function. A later
 * node at a different call site never matches; a node built after P's constructor returned has no
 * P frame above K. Repeated construction at the *same* call site (a loop) is told apart by time
 * and position: a node built after P registered (at `super()`) whose P frame is at or after the
 * `super()` position belongs to P (body after `super()`, field initializers, `super` arguments of
 * the next iteration are the documented ambiguity); one at an earlier position was built before
 * the `super()` of the *next* invocation and is adopted by that node when it registers. Adopted
 * nodes (and nodes whose hashes embed them) are re-hashed before the adopting node is hashed.
 *
 * Records live for one synchronous job: constructors cannot await, so once the microtask queue
 * runs every constructor on the stack has returned and the records are dropped.
 */

interface Frame {
  /** Function identity: script + enclosing position + name. */
  readonly fnKey: string;
  /** Frame identity: function + current position + kind. */
  readonly key: string;
  readonly name: string;
  readonly isConstructor: boolean;
  readonly line: number;
  readonly column: number;
}

/** Key of the method through which the tracker re-hashes a node (kept off the public API). */
export const APPLY_NAMESPACE: unique symbol = Symbol("tdag.applyNamespace");

/** What the tracker needs from a node under construction. */
export interface InheritingNode {
  /** Recomputes the node's hashes with this namespace (called for adopted/affected nodes). */
  [APPLY_NAMESPACE](namespace: string): void;
}

/** The registration of one node, returned by {@link registerConstruction}. */
export interface ConstructionRecord {
  readonly seq: number;
  readonly node: InheritingNode;
  readonly fixed: string | undefined;
  readonly scope: NamespaceScope | undefined;
  readonly ambient: string;
  /**
   * Owner side: one entry per own subclass-constructor frame (its function + the stack below it,
   * and its position while the base constructor runs, i.e. its `super()` call).
   */
  readonly ownGroups: readonly Split[];
  /** Number of frames below the node's own constructor frames (K). */
  readonly callerDepth: number;
  /** Child side: candidate owner splits, nearest first. */
  readonly splits: readonly Split[];
  namespace: string;
  owner: ConstructionRecord | undefined;
  final: boolean;
}

interface Split {
  /** Group of candidate owners: their constructor function + their caller stack. */
  readonly groupKey: string;
  readonly line: number;
  readonly column: number;
}

interface GroupEntry {
  readonly record: ConstructionRecord;
  /** Position of the owner's constructor frame at registration (its `super()` call). */
  readonly line: number;
  readonly column: number;
}

interface Window {
  seq: number;
  readonly records: ConstructionRecord[];
  readonly groups: Map<string, GroupEntry[]>;
  readonly interested: Map<string, Set<ConstructionRecord>>;
  readonly owned: Map<ConstructionRecord, Set<ConstructionRecord>>;
  readonly referencedBy: Map<InheritingNode, Set<ConstructionRecord>>;
  readonly byNode: Map<InheritingNode, ConstructionRecord>;
  readonly frameIds: Map<string, number>;
}

let window: Window | undefined;

function currentWindow(): Window {
  if (window === undefined) {
    const fresh: Window = {
      seq: 0,
      records: [],
      groups: new Map(),
      interested: new Map(),
      owned: new Map(),
      referencedBy: new Map(),
      byNode: new Map(),
      frameIds: new Map(),
    };
    window = fresh;
    queueMicrotask(() => {
      if (window === fresh) window = undefined;
    });
  }
  return window;
}

function captureFrames(skip: (...args: never[]) => unknown): Frame[] | undefined {
  if (typeof Error.captureStackTrace !== "function") return undefined;
  const previousPrepare = Error.prepareStackTrace;
  const previousLimit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = Number.POSITIVE_INFINITY;
    Error.prepareStackTrace = (_error, sites) => sites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, skip);
    const sites = holder.stack;
    if (!Array.isArray(sites)) return undefined;
    return (sites as NodeJS.CallSite[]).map(toFrame);
  } catch {
    return undefined;
  } finally {
    Error.prepareStackTrace = previousPrepare;
    Error.stackTraceLimit = previousLimit;
  }
}

function toFrame(site: NodeJS.CallSite): Frame {
  const file = site.getScriptNameOrSourceURL?.() ?? site.getFileName() ?? "<native>";
  const name = site.getFunctionName() ?? "";
  const encLine = site.getEnclosingLineNumber?.() ?? 0;
  const encColumn = site.getEnclosingColumnNumber?.() ?? 0;
  const line = site.getLineNumber() ?? 0;
  const column = site.getColumnNumber() ?? 0;
  const isConstructor = site.isConstructor();
  const fnKey = `${file}|${encLine}:${encColumn}|${name}`;
  const kind = `${isConstructor ? "n" : ""}${site.isAsync?.() ? "a" : ""}${site.isPromiseAll?.() ? "p" : ""}`;
  return { fnKey, key: `${fnKey}@${line}:${column}${kind}`, name, isConstructor, line, column };
}

function suffixKey(w: Window, frames: readonly Frame[], from: number): string {
  const ids: number[] = [];
  for (let i = from; i < frames.length; i++) {
    const key = (frames[i] as Frame).key;
    let id = w.frameIds.get(key);
    if (id === undefined) {
      id = w.frameIds.size;
      w.frameIds.set(key, id);
    }
    ids.push(id);
  }
  return ids.join(",");
}

/** Names of the constructors from the first DataNode subclass down to `target`. */
function constructorChain(
  target: abstract new (...args: never[]) => unknown,
  base: unknown,
): string[] {
  const chain: string[] = [];
  let c: unknown = target;
  while (typeof c === "function" && c !== base) {
    chain.push((c as { name: string }).name);
    c = Object.getPrototypeOf(c);
  }
  return chain.reverse();
}

/** Options of {@link registerConstruction}. */
export interface RegisterOptions {
  readonly node: InheritingNode;
  /** The namespace fixed by an explicit option or `testNode` (no inheritance), else undefined. */
  readonly fixed: string | undefined;
  /** `new.target` of the construction and the DataNode base class. */
  readonly target: abstract new (
    ...args: never[]
  ) => unknown;
  readonly base: unknown;
}

/**
 * Registers a node at the start of its base constructor and returns its record, whose
 * `namespace` is the resolved one: the fixed namespace, else the namespace of the node whose
 * constructor is building it (when non-empty and no inner scope was entered), else the ambient
 * one. May re-hash earlier nodes of the same synchronous job that this node adopts.
 * Call it from the base constructor directly: the first captured frame must be that constructor.
 */
export function registerConstruction(options: RegisterOptions): ConstructionRecord {
  const w = currentWindow();
  const scope = currentNamespaceScope();
  const ambient = scope?.namespace ?? "";
  const frames = captureFrames(registerConstruction) ?? [];
  // frames[0] is the base constructor (our caller); then the own subclass constructor frames
  // (default constructors may be elided by V8, so match names in chain order).
  let index = frames.length > 0 ? 1 : 0;
  for (const name of constructorChain(options.target, options.base)) {
    const frame = frames[index];
    if (frame?.isConstructor && frame.name === name) index++;
  }
  const callerStart = index;
  const ownGroups: Split[] = [];
  for (let i = 1; i < callerStart; i++) {
    const frame = frames[i] as Frame;
    ownGroups.push({
      groupKey: `${frame.fnKey}#${suffixKey(w, frames, i + 1)}`,
      line: frame.line,
      column: frame.column,
    });
  }
  const splits: Split[] = [];
  for (let i = callerStart; i < frames.length; i++) {
    const frame = frames[i] as Frame;
    if (!frame.isConstructor) continue;
    splits.push({
      groupKey: `${frame.fnKey}#${suffixKey(w, frames, i + 1)}`,
      line: frame.line,
      column: frame.column,
    });
  }
  const record: ConstructionRecord = {
    seq: ++w.seq,
    node: options.node,
    fixed: options.fixed,
    scope,
    ambient,
    ownGroups,
    callerDepth: frames.length - callerStart,
    splits,
    namespace: options.fixed ?? ambient,
    owner: undefined,
    final: options.fixed !== undefined,
  };
  w.records.push(record);
  w.byNode.set(options.node, record);
  for (const own of ownGroups) {
    const group = w.groups.get(own.groupKey) ?? [];
    group.push({ record, line: own.line, column: own.column });
    w.groups.set(own.groupKey, group);
  }
  resolve(w, record);
  reconsiderInterested(w, record);
  return record;
}

/**
 * Tells the tracker which nodes `node`'s hashes embed, so that re-hashing one of them re-hashes
 * `node` too.
 */
export function recordHashReferences(node: InheritingNode, references: readonly object[]): void {
  const w = window;
  const record = w?.byNode.get(node);
  if (w === undefined || record === undefined) return;
  for (const ref of references) {
    const key = ref as InheritingNode;
    if (!w.byNode.has(key)) continue;
    const set = w.referencedBy.get(key) ?? new Set();
    set.add(record);
    w.referencedBy.set(key, set);
  }
}

/** Forgets a node whose construction failed after registration. */
export function abandonConstruction(record: ConstructionRecord): void {
  const w = window;
  if (w === undefined) return;
  w.byNode.delete(record.node);
  w.records.splice(w.records.indexOf(record), 1);
  for (const own of record.ownGroups) {
    const group = w.groups.get(own.groupKey);
    if (group)
      group.splice(
        group.findIndex((e) => e.record === record),
        1,
      );
  }
  for (const set of w.interested.values()) set.delete(record);
}

function before(line: number, column: number, ref: GroupEntry): boolean {
  return line < ref.line || (line === ref.line && column < ref.column);
}

function resolve(w: Window, record: ConstructionRecord): void {
  if (record.fixed !== undefined) return;
  for (const set of w.interested.values()) set.delete(record);
  let owner: ConstructionRecord | undefined;
  const pending: string[] = [];
  for (const split of record.splits) {
    const group = w.groups.get(split.groupKey);
    let prev: GroupEntry | undefined;
    let next: GroupEntry | undefined;
    for (const entry of group ?? []) {
      if (entry.record === record) continue;
      if (entry.record.seq < record.seq) prev = entry;
      else if (next === undefined) next = entry;
    }
    if (prev !== undefined && !before(split.line, split.column, prev)) owner = prev.record;
    else if (next !== undefined) owner = next.record;
    if (owner !== undefined) break;
    pending.push(split.groupKey);
  }
  for (const key of pending) {
    const set = w.interested.get(key) ?? new Set();
    set.add(record);
    w.interested.set(key, set);
  }
  record.final = pending.length === 0;
  if (record.owner !== owner) {
    if (record.owner !== undefined) w.owned.get(record.owner)?.delete(record);
    if (owner !== undefined) {
      const set = w.owned.get(owner) ?? new Set();
      set.add(record);
      w.owned.set(owner, set);
    }
    record.owner = owner;
  }
  record.namespace =
    owner !== undefined && owner.namespace !== "" && owner.scope === record.scope
      ? owner.namespace
      : record.ambient;
}

/** Re-resolves nodes waiting for an owner in the new record's group, then re-hashes what moved. */
function reconsiderInterested(w: Window, added: ConstructionRecord): void {
  const waiting = new Set<ConstructionRecord>();
  for (const own of added.ownGroups) {
    for (const record of w.interested.get(own.groupKey) ?? []) waiting.add(record);
  }
  if (waiting.size === 0) return;
  const queue = [...waiting].sort((a, b) => a.callerDepth - b.callerDepth || a.seq - b.seq);
  const changed = new Set<ConstructionRecord>();
  while (queue.length > 0) {
    const record = queue.shift() as ConstructionRecord;
    const before = record.namespace;
    resolve(w, record);
    if (record.namespace !== before) {
      changed.add(record);
      for (const child of w.owned.get(record) ?? []) {
        if (!queue.includes(child)) queue.push(child);
      }
    }
  }
  if (changed.size === 0) return;
  // everything whose hash embeds a changed node must be re-hashed too, oldest first
  const rehash = new Set<ConstructionRecord>(changed);
  const stack = [...changed];
  while (stack.length > 0) {
    const record = stack.pop() as ConstructionRecord;
    for (const dependent of w.referencedBy.get(record.node) ?? []) {
      if (!rehash.has(dependent) && dependent !== added) {
        rehash.add(dependent);
        stack.push(dependent);
      }
    }
  }
  for (const record of [...rehash].sort((a, b) => a.seq - b.seq)) {
    record.node[APPLY_NAMESPACE](record.namespace);
  }
}

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONTRACT_DIR } from "./contract-schemas.js";
import {
  ANY_OF,
  type DecodedData,
  mergeAll,
  type Shape,
  shapeKey,
  TRACE_HEADERS,
  type TraceRequest,
} from "./trace-normalize.js";

/**
 * Compares the requests of one scenario step, as our client sent them, with the golden Python
 * trace of that step, both in trace notation (trace-normalize.ts), and checks the differences
 * against an allowlist.
 *
 * Requests are grouped by **operation**: method + path template, plus the first query key when
 * there is a query (the lookup key: `GET …/dynamic_table/?uid` and `GET …/dynamic_table/?identifier`
 * are different operations). Differences, one per fact:
 *
 * | kind | what | `at` | `py` / `ts` |
 * | --- | --- | --- | --- |
 * | `route-only-py` / `route-only-ts` | an operation only one client sends in the step | | (counts in the note) |
 * | `route-count` | both send it, a different number of times | | (counts in the note) |
 * | `query-key` | a query key sent always / sometimes / never | key | `present` `sometimes` `absent` |
 * | `query-value` | a query key's value shape (merged over the operation's requests) | key | shapes |
 * | `body-key` | a body key (dotted path, `[]` = array items) present / sometimes / absent | path | presence |
 * | `body-type` | a body value's shape (merged over the operation's requests) | path | shapes |
 * | `data` | decoded upload: `columns`, `rows` (summed), `column_types.<c>`, `shape.<path>` | path | values |
 * | `header` | a request header's values on the operations both send (`op` is `*`) | name | value sets |
 * | `order` | two non-GET operations both send, in the opposite order | second op | |
 *
 * Order: the non-GET requests both clients send (the k-th call of an operation pairs with the
 * k-th), taken in Python's order; each adjacent pair that our client sends the other way round is
 * one difference (`op` = the one Python sends first, `at` = the one it sends next).
 */

export type DiffKind =
  | "route-only-py"
  | "route-only-ts"
  | "route-count"
  | "query-key"
  | "query-value"
  | "body-key"
  | "body-type"
  | "data"
  | "header"
  | "order";

export const DIFF_KINDS: readonly DiffKind[] = [
  "route-only-py",
  "route-only-ts",
  "route-count",
  "query-key",
  "query-value",
  "body-key",
  "body-type",
  "data",
  "header",
  "order",
];

/** One difference between the two clients in one step. */
export interface Difference {
  readonly kind: DiffKind;
  readonly op: string;
  readonly at?: string;
  readonly py?: string;
  readonly ts?: string;
  /** Detail that is not matched against the allowlist (counts, operations). */
  readonly note?: string;
}

/** One allowlist entry: a difference (matched on kind, op, at, py, ts), its steps and why. */
export interface AllowEntry {
  readonly kind: DiffKind;
  readonly op: string;
  readonly at?: string;
  readonly py?: string;
  readonly ts?: string;
  /** The steps (`a1`, `c`, `e2`...) where the difference is expected: exactly those. */
  readonly steps: readonly string[];
  readonly reason: string;
}

/** The allowlist file. */
export interface Allowlist {
  readonly entries: readonly AllowEntry[];
}

/** The step ids of the golden traces, in scenario order. */
export const STEP_ORDER = ["a1", "a2", "b1", "b2", "c", "d", "e1", "e2", "e3"] as const;

/** The key a difference and an allowlist entry are matched on. */
export function diffKey(d: Pick<Difference, "kind" | "op" | "at" | "py" | "ts">): string {
  return JSON.stringify([d.kind, d.op, d.at ?? null, d.py ?? null, d.ts ?? null]);
}

// ------------------------------------------------------------------ golden traces

/** One step of a golden trace file. */
export interface GoldenStep {
  readonly step: string;
  readonly requests: readonly TraceRequest[];
}

/** The golden Python trace of a scenario (traces/<name>.json). */
export function loadGolden(scenario: string, dir = "traces"): GoldenStep[] {
  const file = join(CONTRACT_DIR, dir, `${scenario}.json`);
  const parsed = JSON.parse(readFileSync(file, "utf8")) as { steps: GoldenStep[] };
  return parsed.steps;
}

// ------------------------------------------------------------------ comparison

/** `GET /orm/api/ts_manager/dynamic_table/?uid`: method, path template and first query key. */
export function operationOf(r: Pick<TraceRequest, "method" | "path" | "query">): string {
  const first = r.query ? Object.keys(r.query)[0] : undefined;
  return `${r.method} ${r.path}${first === undefined ? "" : `?${first}`}`;
}

function groupByOperation(requests: readonly TraceRequest[]): Map<string, TraceRequest[]> {
  const out = new Map<string, TraceRequest[]>();
  for (const r of requests) {
    const op = operationOf(r);
    const list = out.get(op);
    if (list) list.push(r);
    else out.set(op, [r]);
  }
  return out;
}

/** A shape as one line: strings as they are, anything else as compact JSON. */
export function renderShape(s: Shape | undefined): string {
  if (s === undefined) return "(none)";
  return typeof s === "string" ? s : JSON.stringify(s);
}

type Presence = "present" | "sometimes" | "absent";

function presence(count: number, of: number): Presence {
  return count === 0 ? "absent" : count === of ? "present" : "sometimes";
}

function isObjectShape(s: Shape): s is { readonly [key: string]: Shape } {
  return typeof s === "object" && !Array.isArray(s) && !(ANY_OF in s);
}

function baseKey(key: string): string {
  return key.endsWith("?") ? key.slice(0, -1) : key;
}

function join2(at: string, key: string): string {
  return at === "" ? key : `${at}.${key}`;
}

/** Walks two merged shapes; `emit` gets each key-presence or value-shape difference. */
function diffShapes(
  py: Shape,
  ts: Shape,
  at: string,
  emit: (what: "key" | "type", at: string, py: string, ts: string) => void,
): void {
  if (shapeKey(py) === shapeKey(ts)) return;
  if (isObjectShape(py) && isObjectShape(ts)) {
    const pyKeys = new Map(Object.keys(py).map((k) => [baseKey(k), k]));
    const tsKeys = new Map(Object.keys(ts).map((k) => [baseKey(k), k]));
    const bases = [...new Set([...pyKeys.keys(), ...tsKeys.keys()])];
    for (const base of bases) {
      const pk = pyKeys.get(base);
      const tk = tsKeys.get(base);
      const pp: Presence = pk === undefined ? "absent" : pk.endsWith("?") ? "sometimes" : "present";
      const tp: Presence = tk === undefined ? "absent" : tk.endsWith("?") ? "sometimes" : "present";
      if (pp !== tp) emit("key", join2(at, base), pp, tp);
      if (pk !== undefined && tk !== undefined) diffShapes(py[pk]!, ts[tk]!, join2(at, base), emit);
    }
    return;
  }
  if (Array.isArray(py) && Array.isArray(ts) && py.length > 0 && ts.length > 0) {
    diffShapes(py[0]!, ts[0]!, `${at}[]`, emit);
    return;
  }
  emit("type", at === "" ? "(body)" : at, renderShape(py), renderShape(ts));
}

/** The merged body shape of an operation's requests (`<no body>` for requests without one). */
function mergedBody(requests: readonly TraceRequest[]): Shape | undefined {
  if (requests.every((r) => r.body === undefined)) return undefined;
  return mergeAll(requests.map((r) => r.body ?? "<no body>"));
}

interface MergedData {
  readonly kinds: string;
  readonly columns: string;
  readonly rows: number;
  readonly columnTypes: Shape | undefined;
  readonly shape: Shape | undefined;
}

function mergedData(requests: readonly TraceRequest[]): MergedData | undefined {
  const decoded = requests
    .map((r) => r.data_decoded)
    .filter((d): d is DecodedData => d !== undefined);
  if (decoded.length === 0) return undefined;
  const records = decoded.filter((d) => d.kind === "records");
  const others = decoded.filter((d) => d.kind !== "records");
  return {
    kinds: [...new Set(decoded.map((d) => d.kind))].sort().join(" | "),
    columns: [...new Set(records.map((d) => d.columns.join(",")))].sort().join(" | "),
    rows: records.reduce((n, d) => n + d.rows, 0),
    columnTypes: mergeAll(records.map((d) => d.column_types)),
    shape: mergeAll(others.map((d) => d.shape)),
  };
}

function headerValues(requests: readonly TraceRequest[], name: string): string {
  const values = new Set(requests.map((r) => r.request_headers[name] ?? "(none)"));
  return [...values].sort().join(" | ");
}

/** Every difference between Python's requests and ours in one step. */
export function compareStep(
  py: readonly TraceRequest[],
  ts: readonly TraceRequest[],
): Difference[] {
  const out: Difference[] = [];
  const pyOps = groupByOperation(py);
  const tsOps = groupByOperation(ts);
  const ops = [...new Set([...pyOps.keys(), ...tsOps.keys()])];
  const headerDiffs = new Map<string, { name: string; py: string; ts: string; ops: string[] }>();

  for (const op of ops) {
    const p = pyOps.get(op) ?? [];
    const t = tsOps.get(op) ?? [];
    if (t.length === 0) {
      out.push({ kind: "route-only-py", op, note: `python ×${p.length}` });
      continue;
    }
    if (p.length === 0) {
      out.push({ kind: "route-only-ts", op, note: `tdag ×${t.length}` });
      continue;
    }
    if (p.length !== t.length) {
      out.push({ kind: "route-count", op, note: `python ×${p.length}, tdag ×${t.length}` });
    }

    // Query keys and value shapes.
    const keys = [...new Set([...p, ...t].flatMap((r) => (r.query ? Object.keys(r.query) : [])))];
    for (const key of keys) {
      const pv = p.filter((r) => r.query && key in r.query).map((r) => r.query![key]!);
      const tv = t.filter((r) => r.query && key in r.query).map((r) => r.query![key]!);
      const pp = presence(pv.length, p.length);
      const tp = presence(tv.length, t.length);
      if (pp !== tp) out.push({ kind: "query-key", op, at: key, py: pp, ts: tp });
      if (pv.length > 0 && tv.length > 0) {
        const ps = mergeAll(pv)!;
        const tsh = mergeAll(tv)!;
        if (shapeKey(ps) !== shapeKey(tsh)) {
          out.push({
            kind: "query-value",
            op,
            at: key,
            py: renderShape(ps),
            ts: renderShape(tsh),
          });
        }
      }
    }

    // Body.
    const pb = mergedBody(p);
    const tb = mergedBody(t);
    if (pb !== undefined || tb !== undefined) {
      diffShapes(pb ?? "<no body>", tb ?? "<no body>", "", (what, at, a, b) =>
        out.push({ kind: what === "key" ? "body-key" : "body-type", op, at, py: a, ts: b }),
      );
    }

    // Decoded uploads.
    const pd = mergedData(p);
    const td = mergedData(t);
    if (pd !== undefined || td !== undefined) {
      const data = (at: string, a: string, b: string) => {
        if (a !== b) out.push({ kind: "data", op, at, py: a, ts: b });
      };
      data("kind", pd?.kinds ?? "(none)", td?.kinds ?? "(none)");
      data("columns", pd?.columns ?? "", td?.columns ?? "");
      data("rows", String(pd?.rows ?? 0), String(td?.rows ?? 0));
      for (const [prefix, a, b] of [
        ["column_types", pd?.columnTypes, td?.columnTypes],
        ["shape", pd?.shape, td?.shape],
      ] as const) {
        if (a === undefined && b === undefined) continue;
        diffShapes(a ?? "(none)", b ?? "(none)", prefix, (what, at, x, y) =>
          out.push({
            kind: "data",
            op,
            at: what === "key" ? `${at} (key)` : at,
            py: x,
            ts: y,
          }),
        );
      }
    }

    // Headers, gathered over operations.
    for (const name of TRACE_HEADERS) {
      const a = headerValues(p, name);
      const b = headerValues(t, name);
      if (a === b) continue;
      const key = JSON.stringify([name, a, b]);
      const seen = headerDiffs.get(key);
      if (seen) seen.ops.push(op);
      else headerDiffs.set(key, { name, py: a, ts: b, ops: [op] });
    }
  }

  for (const h of headerDiffs.values()) {
    out.push({
      kind: "header",
      op: "*",
      at: h.name,
      py: h.py,
      ts: h.ts,
      note:
        h.ops.length <= 3
          ? `on ${h.ops.join(", ")}`
          : `on ${h.ops.length} shared operations (${h.ops.slice(0, 2).join(", ")}, ...)`,
    });
  }

  out.push(...orderDifferences(py, ts));
  return out;
}

function occurrences(requests: readonly TraceRequest[]): string[] {
  const seen = new Map<string, number>();
  const out: string[] = [];
  for (const r of requests) {
    if (r.method === "GET") continue;
    const op = operationOf(r);
    const k = (seen.get(op) ?? 0) + 1;
    seen.set(op, k);
    out.push(`${op}#${k}`);
  }
  return out;
}

function orderDifferences(py: readonly TraceRequest[], ts: readonly TraceRequest[]): Difference[] {
  const pySeq = occurrences(py);
  const tsSeq = occurrences(ts);
  const tsPos = new Map(tsSeq.map((tag, i) => [tag, i]));
  const common = pySeq.filter((tag) => tsPos.has(tag));
  const out = new Map<string, Difference>();
  const strip = (tag: string) => tag.slice(0, tag.lastIndexOf("#"));
  for (let i = 0; i + 1 < common.length; i++) {
    const a = common[i]!;
    const b = common[i + 1]!;
    if (tsPos.get(a)! < tsPos.get(b)!) continue;
    const d: Difference = {
      kind: "order",
      op: strip(a),
      at: strip(b),
      note: `python sends ${a} then ${b}; tdag sends ${b} first`,
    };
    const key = diffKey(d);
    if (!out.has(key)) out.set(key, d);
  }
  return [...out.values()];
}

// ------------------------------------------------------------------ allowlist

/** A difference found in some steps, as an allowlist entry would list it. */
export interface FoundDifference extends Difference {
  readonly steps: readonly string[];
  /** Notes per step. */
  readonly notes: readonly string[];
}

/** The outcome of checking the differences of some steps against the allowlist. */
export interface AllowlistCheck {
  /** Differences no entry allows (grouped over steps). */
  readonly unexpected: readonly FoundDifference[];
  /** Entries (restricted to the checked steps) that matched nothing in some of their steps. */
  readonly stale: readonly { readonly entry: AllowEntry; readonly steps: readonly string[] }[];
}

function stepRank(step: string): number {
  const i = (STEP_ORDER as readonly string[]).indexOf(step);
  return i === -1 ? STEP_ORDER.length : i;
}

export function sortSteps(steps: Iterable<string>): string[] {
  return [...new Set(steps)].sort((a, b) => stepRank(a) - stepRank(b) || a.localeCompare(b));
}

/** Groups per-step differences by key: one entry per difference, with its steps. */
export function groupDifferences(
  byStep: ReadonlyMap<string, readonly Difference[]>,
): FoundDifference[] {
  const out = new Map<string, { d: Difference; steps: string[]; notes: string[] }>();
  for (const [step, diffs] of byStep) {
    for (const d of diffs) {
      const key = diffKey(d);
      const seen = out.get(key);
      const note = d.note === undefined ? [] : [`${step}: ${d.note}`];
      if (seen) {
        seen.steps.push(step);
        seen.notes.push(...note);
      } else out.set(key, { d, steps: [step], notes: note });
    }
  }
  return [...out.values()].map(({ d, steps, notes }) => ({
    ...d,
    steps: sortSteps(steps),
    notes,
  }));
}

/**
 * Checks the differences of the given steps: a difference must match an entry listing its step,
 * and every entry must match something in each of its steps that is among `checkedSteps`.
 */
export function checkAllowlist(
  byStep: ReadonlyMap<string, readonly Difference[]>,
  allowlist: Allowlist,
  checkedSteps: readonly string[] = [...byStep.keys()],
): AllowlistCheck {
  const entries = new Map<string, AllowEntry>();
  for (const e of allowlist.entries) entries.set(diffKey(e), e);
  const matched = new Map<string, Set<string>>();
  const unexpectedByStep = new Map<string, Difference[]>();
  for (const [step, diffs] of byStep) {
    for (const d of diffs) {
      const key = diffKey(d);
      const entry = entries.get(key);
      if (entry?.steps.includes(step)) {
        const set = matched.get(key) ?? new Set<string>();
        set.add(step);
        matched.set(key, set);
      } else {
        const list = unexpectedByStep.get(step) ?? [];
        list.push(d);
        unexpectedByStep.set(step, list);
      }
    }
  }
  const stale: { entry: AllowEntry; steps: string[] }[] = [];
  for (const entry of allowlist.entries) {
    const hit = matched.get(diffKey(entry)) ?? new Set<string>();
    const missing = entry.steps.filter((s) => checkedSteps.includes(s) && !hit.has(s));
    if (missing.length > 0) stale.push({ entry, steps: missing });
  }
  return { unexpected: groupDifferences(unexpectedByStep), stale };
}

/** An allowlist entry for a found difference (the reason left for a human to write). */
export function entryFor(
  d: FoundDifference,
  reason = "TODO: why this difference is accepted",
): AllowEntry {
  return {
    kind: d.kind,
    op: d.op,
    ...(d.at === undefined ? {} : { at: d.at }),
    ...(d.py === undefined ? {} : { py: d.py }),
    ...(d.ts === undefined ? {} : { ts: d.ts }),
    steps: d.steps,
    reason,
  };
}

/** One line per difference, for messages. */
export function describe(d: Difference): string {
  const where = d.at === undefined ? "" : ` at ${d.at}`;
  const sides = d.py === undefined && d.ts === undefined ? "" : `: python ${d.py} / tdag ${d.ts}`;
  return `${d.kind} ${d.op}${where}${sides}`;
}

/** The failure message: each unexpected difference with a ready-to-paste entry, each stale entry. */
export function formatCheck(check: AllowlistCheck, allowlist: Allowlist, file: string): string {
  const lines: string[] = [];
  const existing = new Map(allowlist.entries.map((e) => [diffKey(e), e]));
  if (check.unexpected.length > 0) {
    lines.push(`${check.unexpected.length} difference(s) not in ${file}:`, "");
    for (const d of check.unexpected) {
      lines.push(`- ${describe(d)}  [steps ${d.steps.join(", ")}]`);
      for (const note of d.notes) lines.push(`    ${note}`);
      const same = existing.get(diffKey(d));
      if (same) {
        lines.push(
          `    an entry already allows it in other steps: add ${d.steps.join(", ")} to its steps:`,
          `    ${JSON.stringify({ ...same, steps: sortSteps([...same.steps, ...d.steps]) })}`,
        );
      } else {
        lines.push(`    paste (and write the reason): ${JSON.stringify(entryFor(d))}`);
      }
      lines.push("");
    }
  }
  if (check.stale.length > 0) {
    lines.push(
      `${check.stale.length} allowlist entr(y/ies) matched nothing (fixed? remove them):`,
      "",
    );
    for (const { entry, steps } of check.stale) {
      const left = entry.steps.filter((s) => !steps.includes(s));
      lines.push(`- ${describe(entry)}  [no longer in steps ${steps.join(", ")}]`);
      lines.push(
        left.length === 0
          ? "    delete this entry"
          : `    replace it with: ${JSON.stringify({ ...entry, steps: left })}`,
      );
      lines.push("");
    }
  }
  lines.push(
    "One entry per difference: when several scenarios report the same one, give it all their steps.",
    "Or rewrite the whole file (reasons kept, new entries with a TODO reason):",
    "  TDAG_TRACE_ALLOWLIST=update npx vitest run tests/contract/client-trace.test.ts",
  );
  return lines.join("\n");
}

/**
 * The allowlist rewritten for the differences found now: reasons kept for entries that still
 * match (steps updated), stale entries dropped, new differences added with a TODO reason.
 */
export function updatedAllowlist(
  found: readonly FoundDifference[],
  previous: Allowlist,
): AllowEntry[] {
  const reasons = new Map(previous.entries.map((e) => [diffKey(e), e.reason]));
  const entries = found.map((d) => entryFor(d, reasons.get(diffKey(d))));
  const kindRank = (k: DiffKind) => DIFF_KINDS.indexOf(k);
  return entries.sort(
    (a, b) =>
      kindRank(a.kind) - kindRank(b.kind) ||
      a.op.localeCompare(b.op) ||
      (a.at ?? "").localeCompare(b.at ?? "") ||
      stepRank(a.steps[0] ?? "") - stepRank(b.steps[0] ?? ""),
  );
}

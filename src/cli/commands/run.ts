import type { NodeRunSummary, RunResult } from "../../engine/run-engine.js";
import type { DataStore } from "../../store/data-store.js";
import { type CommandSpec, stringOption } from "../command.js";
import { EXIT, errorCode, oneLine } from "../errors.js";
import {
  formatCount,
  formatDuration,
  formatInstant,
  println,
  renderTable,
  toJson,
} from "../format.js";
import { countDataNodes, type GraphMember, walkGraph } from "../graph.js";
import { loadNode } from "../load-node.js";
import type { Progress } from "../progress.js";
import { reportError } from "../report.js";
import { openDefaultStore, storeLine, summarizeStore } from "../store.js";

/** One row of the run summary, in execution order. */
export interface RunSummaryRow {
  readonly name: string;
  readonly kind: GraphMember["kind"];
  readonly status: NodeRunSummary["status"];
  readonly rowsWritten: number;
  readonly identities: number;
  readonly window: { readonly start: Date; readonly end: Date } | null;
  readonly storageHash: string | null;
  readonly updateHash: string | null;
  readonly durationMs: number;
  readonly error?: string;
}

/**
 * The store the run sees, observed: every closed run record moves the progress bar (one per
 * DataNode of the graph). Everything else passes through unchanged.
 */
function observedStore(
  store: DataStore,
  progress: Progress,
  names: Map<string, string>,
): DataStore {
  const updaterHash = new Map<string, string>();
  const runUpdater = new Map<string, string>();
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      const fn = value as (...args: unknown[]) => Promise<unknown>;
      if (prop === "registerUpdater") {
        return async (...args: unknown[]) => {
          const record = (await fn.apply(target, args)) as { uid: string; updateHash: string };
          updaterHash.set(record.uid, record.updateHash);
          return record;
        };
      }
      if (prop === "openRun") {
        return async (...args: unknown[]) => {
          const record = (await fn.apply(target, args)) as { uid: string };
          runUpdater.set(record.uid, args[0] as string);
          return record;
        };
      }
      if (prop === "closeRun") {
        return async (...args: unknown[]) => {
          const result = await fn.apply(target, args);
          const updater = runUpdater.get(args[0] as string);
          const hash = updater === undefined ? undefined : updaterHash.get(updater);
          progress.increment(1, (hash && names.get(hash)) ?? "");
          return result;
        };
      }
      return fn.bind(target);
    },
  });
}

function summaryRows(
  graph: ReturnType<typeof walkGraph>,
  result: RunResult,
  failure: { updateHash: string | undefined; message: string } | null,
): RunSummaryRow[] {
  const byName = new Map<string, NodeRunSummary>();
  const byHash = new Map<string, NodeRunSummary>();
  for (const s of result.nodes) {
    byHash.set(s.updateHash, s);
    byName.set(s.name, s);
  }
  return graph.map((vertex): RunSummaryRow => {
    const member = vertex.value;
    if (member.kind === "api_data_node") {
      const s = byName.get(member.node.label);
      return {
        name: member.node.label,
        kind: member.kind,
        status: "read_only",
        rowsWritten: 0,
        identities: 0,
        window: null,
        storageHash: s?.storageHash ?? null,
        updateHash: s?.updateHash ?? null,
        durationMs: 0,
      };
    }
    const node = member.node;
    const s = byHash.get(node.updateHash);
    if (s) {
      return {
        name: s.name,
        kind: member.kind,
        status: s.status,
        rowsWritten: s.rowsWritten,
        identities: s.identities,
        window: s.window,
        storageHash: s.storageHash,
        updateHash: s.updateHash,
        durationMs: s.durationMs,
        ...(s.error === undefined ? {} : { error: oneLine(s.error) }),
      };
    }
    const failed = failure !== null && failure.updateHash === node.updateHash;
    return {
      name: node.nodeName,
      kind: member.kind,
      status: failed ? "failed" : "skipped",
      rowsWritten: 0,
      identities: 0,
      window: null,
      storageHash: node.storageHash,
      updateHash: node.updateHash,
      durationMs: 0,
      ...(failed ? { error: failure.message } : {}),
    };
  });
}

/** The run summary as a text table. */
export function runTable(rows: readonly RunSummaryRow[]): string {
  return renderTable(
    [
      { header: "NODE" },
      { header: "STATUS" },
      { header: "ROWS", align: "right" },
      { header: "IDS", align: "right" },
      { header: "FROM" },
      { header: "TO" },
      { header: "TIME", align: "right" },
      { header: "STORAGE HASH" },
      { header: "UPDATE HASH" },
    ],
    rows.map((r) => [
      r.name,
      r.status,
      formatCount(r.rowsWritten),
      r.identities > 0 ? formatCount(r.identities) : "-",
      formatInstant(r.window?.start),
      formatInstant(r.window?.end),
      r.kind === "api_data_node" ? "-" : formatDuration(r.durationMs),
      r.storageHash ?? "-",
      r.updateHash ?? "-",
    ]),
  );
}

export const runCommand: CommandSpec = {
  path: ["run"],
  summary:
    "Run a DataNode (and its dependency graph) from a module and print what each node wrote.",
  description: [
    "The module is a TypeScript or JavaScript file. Its default export (or --export <name>) is one of:",
    "  - a DataNode instance;",
    "  - a function or async function returning a DataNode (called inside the hash namespace with --namespace);",
    "  - a DataNode subclass whose config has defaults for every field (built with an empty config).",
    "Dependencies run first, then the node. A failed node makes the command exit 1 with a one-line",
    "error; every table is then exactly as it was before that node's update.",
  ].join("\n"),
  positionals: [{ name: "file", description: "the module (.ts, .mts, .js, .mjs)", required: true }],
  options: {
    export: {
      type: "string",
      valueName: "name",
      description: "the export to run (default: the default export)",
    },
    force: {
      type: "boolean",
      description: "update even when the store says no update is due (forceUpdate)",
    },
    namespace: {
      type: "string",
      valueName: "ns",
      description:
        "build the node in this hash namespace (the export must be a factory or a class)",
    },
  },
  examples: [
    "tdag run examples/nodes.ts",
    "tdag run nodes.ts --export dailyPrices --force",
    "tdag run nodes.ts --namespace pytest_case_1 --db /tmp/test.duckdb --json",
    "TDAG_STORE=remote tdag run nodes.ts   # on the platform (MAINSEQUENCE_* variables)",
  ],
  async run(ctx, args) {
    const exportName = stringOption(args, "export");
    const namespace = stringOption(args, "namespace");
    const opened = await openDefaultStore(ctx);
    try {
      const loaded = await loadNode(args.positionals[0]!, { exportName, namespace });
      const store = await opened.get();
      // The store the run uses: the selected one, or one the user's module configured.
      const summary = summarizeStore(store);
      ctx.noteStore?.(summary);
      const graph = walkGraph(loaded.node);
      const names = new Map<string, string>();
      for (const v of graph) {
        if (v.value.kind === "data_node") names.set(v.value.node.updateHash, v.value.node.nodeName);
      }
      const progress = ctx.createProgress();
      const started = performance.now();
      let result: RunResult;
      progress.start(countDataNodes(graph), "nodes");
      try {
        result = await loaded.node.run({
          store: observedStore(store, progress, names),
          forceUpdate: args.values["force"] === true,
          throwOnError: false,
          signal: ctx.signal,
        });
      } finally {
        progress.stop();
      }
      const durationMs = Math.round(performance.now() - started);
      const error = result.error;
      const failure = error
        ? {
            updateHash: (error as { updateHash?: string }).updateHash,
            message: oneLine(error),
          }
        : null;
      const rows = summaryRows(graph, result, failure);
      const rowsWritten = rows.reduce((n, r) => n + r.rowsWritten, 0);
      const root = loaded.node;
      if (ctx.json) {
        ctx.output.out(
          toJson({
            ok: !error,
            store: summary,
            module: loaded.file,
            export: loaded.exportName,
            root: {
              name: root.nodeName,
              storageHash: root.storageHash,
              updateHash: root.updateHash,
              namespace: root.hashNamespace || null,
            },
            nodes: rows,
            rowsWritten,
            durationMs,
            error: error ? { code: errorCode(error), message: oneLine(error) } : null,
          }),
        );
      } else {
        println(ctx.output, runTable(rows));
        const updated = rows.filter((r) => r.status === "updated").length;
        const verdict = error ? "failed" : "done";
        println(
          ctx.output,
          `\n${root.nodeName}: ${verdict}; ${updated} of ${countDataNodes(graph)} node(s) updated, ${formatCount(rowsWritten)} row(s) written in ${formatDuration(durationMs)}`,
        );
        println(ctx.output, storeLine(summary));
      }
      if (error) {
        reportError(ctx, error);
        return ctx.signal.aborted ? EXIT.interrupted : EXIT.failed;
      }
      return EXIT.ok;
    } finally {
      await opened.close();
    }
  },
};

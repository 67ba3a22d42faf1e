import { UpdateStatistics } from "../../statistics/update-statistics.js";
import type { DataStore, StorageRecord, TableStatistics } from "../../store/data-store.js";
import { configure } from "../../store/store-registry.js";
import { type CommandSpec, stringOption } from "../command.js";
import { EXIT } from "../errors.js";
import { formatCount, formatInstant, println, renderTable, toJson } from "../format.js";
import { type GraphMember, walkGraph } from "../graph.js";
import { loadNode } from "../load-node.js";
import { openStore, storeLine } from "../store.js";

/** The watermark of a table: where its data stands. */
export interface PlanWatermark {
  /** Rows in the table (when the store knows). */
  readonly rowCount: number | null;
  readonly minTime: Date | null;
  /** The latest instant written (the global watermark). */
  readonly maxTime: Date | null;
  /** Identities (first-level coordinates, e.g. assets) with progress. */
  readonly identities: number;
  /** The last instant written per identity (empty for a 1-D table). */
  readonly perIdentity: Readonly<Record<string, Date | null>>;
}

/** The window the next run's `update()` is handed (`UpdateStatistics.getUpdateStart()`). */
export interface PlanWindow {
  /** `">"` after the watermark, `">="` at the offset start of a first run. */
  readonly operand: ">" | ">=";
  readonly start: Date | null;
  readonly isFirstRun: boolean;
  /** The node's offset start (config `offset_start`, else the class's `OFFSET_START`). */
  readonly offsetStart: Date;
  /** For multi-identity tables, the earliest per-identity watermark (where one batched read begins). */
  readonly earliestIdentityStart: Date | null;
}

/** One node of the plan. */
export interface PlanNode {
  readonly position: number;
  readonly kind: GraphMember["kind"];
  readonly name: string;
  readonly storageHash: string | null;
  readonly updateHash: string | null;
  readonly namespace: string | null;
  readonly storage: {
    readonly exists: boolean;
    readonly uid: string | null;
    readonly identifier: string | null;
  };
  /** `null` for an APIDataNode (it has no updater). */
  readonly updater: { readonly exists: boolean; readonly uid: string | null } | null;
  readonly watermark: PlanWatermark | null;
  /** `null` for an APIDataNode (never updated). */
  readonly nextWindow: PlanWindow | null;
  /** Keys of the direct dependencies (update hashes, or `api:{...}` for APIDataNodes). */
  readonly dependsOn: readonly string[];
  /** Why a run would fail already (an APIDataNode whose table does not exist). */
  readonly problem: string | null;
}

function watermarkOf(stats: TableStatistics): PlanWatermark {
  const us = UpdateStatistics.fromTableStatistics(stats);
  const perIdentity: Record<string, Date | null> = {};
  for (const id of us.identityValues()) perIdentity[id] = us.getLastUpdateForIdentity(id);
  const global = us.globalIndexProgress;
  return {
    rowCount: stats.rowCount,
    minTime: global?.min ?? null,
    maxTime: us.maxTimeIndexValue,
    identities: Object.keys(perIdentity).length,
    perIdentity,
  };
}

function windowOf(
  stats: TableStatistics | null,
  offsetStart: Date,
  watermark: PlanWatermark | null,
): PlanWindow {
  const base = stats ? UpdateStatistics.fromTableStatistics(stats) : UpdateStatistics.empty();
  const start = base.withFallbackDate(offsetStart).getUpdateStart();
  let earliest: Date | null = null;
  if (watermark && watermark.identities > 1) {
    for (const last of Object.values(watermark.perIdentity)) {
      const candidate = last ?? offsetStart;
      if (earliest === null || candidate < earliest) earliest = candidate;
    }
  }
  return {
    operand: start.startDateOperand,
    start: start.startDate,
    isFirstRun: start.isFirstRun,
    offsetStart,
    earliestIdentityStart: earliest,
  };
}

async function planNodes(
  store: DataStore,
  graph: ReturnType<typeof walkGraph>,
): Promise<PlanNode[]> {
  const out: PlanNode[] = [];
  for (const [i, vertex] of graph.entries()) {
    const member = vertex.value;
    if (member.kind === "api_data_node") {
      const storage = await store.findStorage(member.node.key);
      const stats = storage ? await store.getTableStatistics(storage.uid) : null;
      out.push({
        position: i + 1,
        kind: member.kind,
        name: member.node.label,
        storageHash: storage?.storageHash ?? null,
        updateHash: storage ? `API_${storage.storageHash}` : null,
        namespace: storage?.namespace ?? null,
        storage: storageState(storage),
        updater: null,
        watermark: stats ? watermarkOf(stats) : null,
        nextWindow: null,
        dependsOn: vertex.dependsOn,
        problem: storage
          ? null
          : `${member.node.label}: the table does not exist; a run would fail`,
      });
      continue;
    }
    const node = member.node;
    const storage = await store.findStorage({ storageHash: node.storageHash });
    const updater = await store.findUpdater({ updateHash: node.updateHash });
    const stats = storage ? await store.getTableStatistics(storage.uid) : null;
    const watermark = stats ? watermarkOf(stats) : null;
    out.push({
      position: i + 1,
      kind: member.kind,
      name: node.nodeName,
      storageHash: node.storageHash,
      updateHash: node.updateHash,
      namespace: node.hashNamespace || null,
      storage: storageState(storage),
      updater: { exists: updater !== null, uid: updater?.uid ?? null },
      watermark,
      nextWindow: windowOf(stats, node.getOffsetStart(), watermark),
      dependsOn: vertex.dependsOn,
      problem: null,
    });
  }
  return out;
}

function storageState(storage: StorageRecord | null): PlanNode["storage"] {
  return {
    exists: storage !== null,
    uid: storage?.uid ?? null,
    identifier: storage?.identifier ?? null,
  };
}

function windowText(w: PlanWindow | null): string {
  if (!w) return "(read only)";
  const start = `${w.operand} ${formatInstant(w.start)}`;
  if (w.isFirstRun) return `${start} (first run)`;
  if (w.earliestIdentityStart && w.start && w.earliestIdentityStart < w.start) {
    return `${start} (earliest identity ${formatInstant(w.earliestIdentityStart)})`;
  }
  return start;
}

/** The plan as two text tables: identities, then state and the next window. */
export function planTables(nodes: readonly PlanNode[]): string {
  const exists = (v: boolean | undefined) => (v === undefined ? "-" : v ? "exists" : "new");
  const identity = renderTable(
    [
      { header: "#", align: "right" },
      { header: "NODE" },
      { header: "STORAGE HASH" },
      { header: "UPDATE HASH" },
      { header: "STORAGE" },
      { header: "UPDATER" },
    ],
    nodes.map((n) => [
      String(n.position),
      n.name,
      n.storageHash ?? "-",
      n.updateHash ?? "-",
      n.kind === "api_data_node"
        ? n.storage.exists
          ? "exists"
          : "MISSING"
        : exists(n.storage.exists),
      n.updater ? exists(n.updater.exists) : "-",
    ]),
  );
  const state = renderTable(
    [
      { header: "#", align: "right" },
      { header: "NODE" },
      { header: "ROWS", align: "right" },
      { header: "IDS", align: "right" },
      { header: "WATERMARK" },
      { header: "NEXT RUN ASKS FOR" },
    ],
    nodes.map((n) => [
      String(n.position),
      n.name,
      formatCount(n.watermark?.rowCount ?? (n.storage.exists ? null : 0)),
      n.watermark && n.watermark.identities > 0 ? formatCount(n.watermark.identities) : "-",
      formatInstant(n.watermark?.maxTime),
      windowText(n.nextWindow),
    ]),
  );
  return `${identity}\n\n${state}`;
}

export const planCommand: CommandSpec = {
  path: ["plan"],
  summary: "Show what `tdag run` would do, without writing anything (a dry run).",
  description: [
    "Imports the module like `tdag run`, then prints the dependency graph in the order a run",
    "updates it: each node's storage and update hashes, whether its table (storage) and its",
    "updater already exist in the store, its watermark (latest instant, identities) and the",
    "window its next update() would be asked for. APIDataNode dependencies are looked up.",
    "The store is opened read-only and nothing is created or modified (a missing store file",
    "means nothing exists yet; the remote store is only read). getAssetList() is not called,",
    "since it may register assets.",
  ].join("\n"),
  positionals: [{ name: "file", description: "the module (.ts, .mts, .js, .mjs)", required: true }],
  options: {
    export: {
      type: "string",
      valueName: "name",
      description: "the export to plan (default: the default export)",
    },
    namespace: {
      type: "string",
      valueName: "ns",
      description:
        "build the node in this hash namespace (the export must be a factory or a class)",
    },
  },
  examples: ["tdag plan examples/nodes.ts", "tdag plan nodes.ts --export dailyPrices --json"],
  async run(ctx, args) {
    const opened = await openStore(ctx, { readOnly: true });
    try {
      // The module's nodes hash against the command's store (the remote store's project enters
      // update hashes), also when they come from another copy of tdag (it reads TDAG_STORE).
      configure({ store: opened.store });
      process.env["TDAG_STORE"] = opened.store.kind === "remote" ? "remote" : "duckdb";
      const loaded = await loadNode(args.positionals[0]!, {
        exportName: stringOption(args, "export"),
        namespace: stringOption(args, "namespace"),
      });
      const graph = walkGraph(loaded.node);
      const nodes = await planNodes(opened.store, graph);
      if (ctx.json) {
        ctx.output.out(
          toJson({
            store: opened.summary,
            storeExists: opened.exists,
            module: loaded.file,
            export: loaded.exportName,
            root: { name: loaded.node.nodeName, updateHash: loaded.node.updateHash },
            nodes,
          }),
        );
      } else {
        println(ctx.output, planTables(nodes));
        const fresh = nodes.filter((n) => n.kind === "data_node" && !n.storage.exists).length;
        println(
          ctx.output,
          `\n${loaded.node.nodeName}: ${nodes.length} node(s) in run order, ${fresh} new table(s); nothing was written`,
        );
        println(
          ctx.output,
          storeLine(opened.summary, opened.exists ? undefined : "does not exist yet"),
        );
        for (const n of nodes) if (n.problem) ctx.output.err(`tdag: warning: ${n.problem}\n`);
      }
      return EXIT.ok;
    } finally {
      await opened.close();
    }
  },
};

import { and_, F } from "../../filters/filter-builders.js";
import { SearchRequest } from "../../filters/search-request.js";
import type { Column } from "../../frame/dtypes.js";
import { Frame } from "../../frame/frame.js";
import type { DataStore, StorageRecord, TableSchema } from "../../store/data-store.js";
import { type CommandSpec, instantOption, integerOption, stringOption } from "../command.js";
import { EXIT, usageError } from "../errors.js";
import { formatCount, println, toJson } from "../format.js";
import type { Progress } from "../progress.js";
import { openStore, resolveStorage, storeLine } from "../store.js";

/** Rows per page when the store pages filtered reads. */
const PAGE_SIZE = 5000;
/** Rows shown when --limit is not given. */
const DEFAULT_LIMIT = 100;

interface ShowQuery {
  readonly from: Date | undefined;
  readonly to: Date | undefined;
  /** Value columns to show (all when undefined). */
  readonly columns: readonly string[] | undefined;
  /** At most this many rows (`Infinity` for all). */
  readonly limit: number;
}

/** The base table's columns come back as `base__<column>`; show them under their own names. */
function unprefixed(frame: Frame): Frame {
  const index = new Set(frame.indexNames);
  return Frame.fromTypedColumns(
    frame.indexNames,
    frame.columnNames.map((name): [string, Column] => [
      index.has(name) || !name.startsWith("base__") ? name : name.slice("base__".length),
      frame.getColumn(name),
    ]),
    frame.length,
  );
}

function checkColumns(schema: TableSchema, columns: readonly string[] | undefined): void {
  if (!columns) return;
  const valueColumns = Object.keys(schema.columnDtypes).filter(
    (c) => !schema.indexNames.includes(c),
  );
  for (const c of columns) {
    if (!(c in schema.columnDtypes)) {
      throw usageError(`the table has no column '${c}' (its columns: ${valueColumns.join(", ")})`);
    }
  }
}

/**
 * Pages through the table with the store's structured filter, reading only what is shown (one
 * row more than asked tells whether rows remain past the limit).
 */
async function readRows(
  store: DataStore,
  storage: StorageRecord,
  schema: TableSchema,
  query: ShowQuery,
  progress: Progress,
  signal: AbortSignal,
): Promise<{ frame: Frame; more: boolean }> {
  const time = schema.timeIndexName;
  const base = new SearchRequest({
    storageHash: storage.storageHash,
    filter: and_(
      query.from ? F.gte(time, query.from) : undefined,
      query.to ? F.lte(time, query.to) : undefined,
    ),
  });
  const frames: Frame[] = [];
  let read = 0;
  let offset = 0;
  let more = false;
  for (;;) {
    signal.throwIfAborted();
    const want = Math.min(PAGE_SIZE, query.limit - read + 1);
    const page = await store.getDataFromFilter(base.page(offset, want), { signal });
    frames.push(page.frame);
    read += page.frame.length;
    progress.update(Math.min(read, query.limit), undefined, `${frames.length} page(s)`);
    if (read > query.limit) {
      more = true;
      break;
    }
    if (page.nextOffset === null || page.frame.length === 0) break;
    offset = page.nextOffset;
  }
  let frame = unprefixed(frames.length === 1 ? frames[0]! : Frame.concat(frames));
  if (frame.length > query.limit) frame = frame.head(query.limit);
  return { frame, more };
}

export const showCommand: CommandSpec = {
  path: ["data-node", "show"],
  summary: "Print a table's rows, in index order.",
  description: [
    "<identifier> is the published identifier, the storage hash or the storage uid.",
    "--from and --to bound the time index (inclusive; a date is midnight UTC). At most --limit",
    `rows are shown (default ${DEFAULT_LIMIT}; 0 shows every row). --json prints { store,`,
    "identifier, storageHash, uid, indexNames, dtypes, rows, rowCount, truncated } with instants",
    "as ISO text.",
  ].join("\n"),
  positionals: [
    {
      name: "identifier",
      description: "published identifier, storage hash or storage uid",
      required: true,
    },
  ],
  options: {
    from: { type: "string", valueName: "date", description: "first instant (inclusive)" },
    to: { type: "string", valueName: "date", description: "last instant (inclusive)" },
    limit: {
      type: "string",
      valueName: "N",
      description: `at most N rows (default ${DEFAULT_LIMIT}; 0 = all)`,
    },
    columns: {
      type: "string",
      valueName: "a,b",
      description: "value columns to show (index columns are always shown)",
    },
  },
  examples: [
    "tdag data-node show simulated_prices_tutorial --from 2026-01-01 --limit 10",
    "tdag data-node show simulated_prices_tutorial --columns close --json",
  ],
  async run(ctx, args) {
    const from = instantOption(args, "from");
    const to = instantOption(args, "to");
    if (from && to && from > to) throw usageError("--from is after --to");
    const limitArg = integerOption(args, "limit") ?? DEFAULT_LIMIT;
    const columnsArg = stringOption(args, "columns");
    const columns = columnsArg
      ?.split(",")
      .map((c) => c.trim())
      .filter((c) => c !== "");
    if (columnsArg !== undefined && columns?.length === 0) {
      throw usageError("--columns names no column");
    }
    const query: ShowQuery = {
      from,
      to,
      columns,
      limit: limitArg === 0 ? Number.POSITIVE_INFINITY : limitArg,
    };
    const opened = await openStore(ctx, { readOnly: true });
    try {
      const storage = await resolveStorage(opened.store, args.positionals[0]!);
      const schema = storage.schema;
      if (schema) checkColumns(schema, columns);
      let frame = Frame.empty();
      let more = false;
      if (schema) {
        const progress = ctx.createProgress();
        const stats = await opened.store.getTableStatistics(storage.uid, { signal: ctx.signal });
        const total = Math.min(query.limit, stats.rowCount ?? query.limit);
        progress.start(Number.isFinite(total) ? total : 0, "rows");
        try {
          const result = await readRows(opened.store, storage, schema, query, progress, ctx.signal);
          frame = result.frame;
          more = result.more;
        } finally {
          progress.stop();
        }
        if (columns) {
          const index = frame.indexNames;
          frame = frame.select(columns.filter((c) => !index.includes(c)));
        }
      }
      const name = storage.identifier ?? storage.storageHash;
      if (ctx.json) {
        ctx.output.out(
          toJson({
            store: opened.summary,
            identifier: storage.identifier,
            storageHash: storage.storageHash,
            uid: storage.uid,
            indexNames: frame.indexNames,
            dtypes: frame.dtypes,
            rows: frame.toRecords({ time: "iso" }),
            rowCount: frame.length,
            truncated: more,
          }),
        );
        return EXIT.ok;
      }
      if (!schema || frame.length === 0) {
        println(
          ctx.output,
          `${name}: no rows${schema ? " in this window" : " (the table was never written)"}`,
        );
        println(ctx.output, storeLine(opened.summary));
        return EXIT.ok;
      }
      println(ctx.output, frame.toString(frame.length));
      println(ctx.output, storeLine(opened.summary));
      if (more) {
        ctx.output.err(
          `tdag: showing the first ${formatCount(frame.length)} rows; more exist (--limit N, or --limit 0 for all)\n`,
        );
      }
      return EXIT.ok;
    } finally {
      await opened.close();
    }
  },
};

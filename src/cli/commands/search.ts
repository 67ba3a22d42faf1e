import type { SearchHit, StorageSearchFilters } from "../../store/data-store.js";
import { type CommandSpec, integerOption, stringOption } from "../command.js";
import { EXIT, usageError } from "../errors.js";
import { elide, formatScore, println, renderTable, toJson } from "../format.js";
import { openStore, storeLine } from "../store.js";

/** A hit as `--json` prints it. */
function hitJson(hit: SearchHit, rank: number) {
  const s = hit.storage;
  return {
    rank,
    score: hit.score,
    trigramScore: hit.trigramScore,
    embeddingScore: hit.embeddingScore,
    matchedColumns: hit.matchedColumns,
    uid: s.uid,
    identifier: s.identifier,
    storageHash: s.storageHash,
    namespace: s.namespace,
    sourceClassName: s.sourceClassName,
    description: s.description,
    dataFrequencyId: s.dataFrequencyId,
  };
}

export const searchCommand: CommandSpec = {
  path: ["data-node", "search"],
  summary: "Find tables by what they contain: their description or their column names.",
  description: [
    "--mode description (default) ranks tables by a blend of trigram and embedding similarity",
    "between the query and the table's search text (table and column metadata and the node's",
    "description); --mode column finds tables with a matching column. Refresh a table's search",
    "text with `tdag data-node refresh-search-index <id>` after changing its metadata.",
  ].join("\n"),
  positionals: [{ name: "query", description: "what to look for", required: true }],
  options: {
    mode: {
      type: "string",
      valueName: "description|column",
      description: "search descriptions (default) or column names",
    },
    "data-source-id": {
      type: "string",
      valueName: "N",
      description:
        "only tables of this data source (a platform filter; the embedded store has one)",
    },
    limit: { type: "string", valueName: "N", description: "at most N results (default 20)" },
  },
  examples: [
    'tdag data-node search "daily close price" --mode description',
    "tdag data-node search close --mode column --data-source-id 2 --json",
  ],
  async run(ctx, args) {
    const query = args.positionals[0]!;
    if (query.trim() === "") throw usageError("the search query is empty");
    const mode = stringOption(args, "mode") ?? "description";
    if (mode !== "description" && mode !== "column") {
      throw usageError(`--mode must be 'description' or 'column' (got '${mode}')`);
    }
    const dataSourceId = integerOption(args, "data-source-id");
    const limit = integerOption(args, "limit", { min: 1 }) ?? 20;
    const filters: StorageSearchFilters = dataSourceId === undefined ? {} : { dataSourceId };
    const opened = await openStore(ctx, { readOnly: true });
    try {
      let hits =
        mode === "description"
          ? await opened.store.descriptionSearch(query, { filters, signal: ctx.signal })
          : await opened.store.columnSearch(query, { filters, limit, signal: ctx.signal });
      hits = hits.slice(0, limit);
      if (ctx.json) {
        ctx.output.out(
          toJson({
            store: opened.summary,
            query,
            mode,
            hits: hits.map((h, i) => hitJson(h, i + 1)),
          }),
        );
        return EXIT.ok;
      }
      if (hits.length === 0) {
        println(ctx.output, `no table matches '${query}' (${mode} search)`);
        println(ctx.output, storeLine(opened.summary));
        return EXIT.ok;
      }
      println(
        ctx.output,
        renderTable(
          [
            { header: "#", align: "right" },
            { header: "SCORE", align: "right" },
            { header: "IDENTIFIER" },
            { header: "STORAGE HASH" },
            { header: mode === "column" ? "COLUMNS" : "DESCRIPTION", maxWidth: 60 },
          ],
          hits.map((h, i) => [
            String(i + 1),
            // The platform ranks without scores (capability searchScores): show none.
            opened.store.capabilities.searchScores ? formatScore(h.score) : "-",
            h.storage.identifier ?? "-",
            h.storage.storageHash,
            mode === "column"
              ? h.matchedColumns.join(", ") || "-"
              : elide(h.storage.description ?? "-", 60),
          ]),
        ),
      );
      println(ctx.output, `\n${storeLine(opened.summary)}`);
      return EXIT.ok;
    } finally {
      await opened.close();
    }
  },
};

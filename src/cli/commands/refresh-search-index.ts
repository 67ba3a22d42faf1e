import type { CommandSpec } from "../command.js";
import { EXIT } from "../errors.js";
import { println, toJson } from "../format.js";
import { openStore, resolveStorage, storeLine } from "../store.js";

export const refreshSearchIndexCommand: CommandSpec = {
  path: ["data-node", "refresh-search-index"],
  summary: "Rebuild a table's search text and embedding from its current metadata.",
  description: [
    "Joins the table's metadata, its column metadata and its node's description into one",
    "search text and embeds it again, so `tdag data-node search` reflects metadata changed",
    "after the table was created. <id> is the storage uid, the storage hash or the published",
    "identifier.",
  ].join("\n"),
  positionals: [
    {
      name: "id",
      description: "storage uid, storage hash or published identifier",
      required: true,
    },
  ],
  options: {},
  examples: [
    "tdag data-node refresh-search-index simulated_prices_tutorial",
    "tdag data-node refresh-search-index simulatedprices_5c1f... --json",
  ],
  async run(ctx, args) {
    const opened = await openStore(ctx, { readOnly: false, mustExist: true });
    try {
      const storage = await resolveStorage(opened.store, args.positionals[0]!);
      await opened.store.refreshTableSearchIndex(storage.uid, { signal: ctx.signal });
      if (ctx.json) {
        ctx.output.out(
          toJson({
            store: opened.summary,
            refreshed: true,
            uid: storage.uid,
            storageHash: storage.storageHash,
            identifier: storage.identifier,
          }),
        );
      } else {
        println(
          ctx.output,
          `refreshed the search index of ${storage.identifier ?? storage.storageHash} (uid ${storage.uid})`,
        );
        println(ctx.output, storeLine(opened.summary));
      }
      return EXIT.ok;
    } finally {
      await opened.close();
    }
  },
};

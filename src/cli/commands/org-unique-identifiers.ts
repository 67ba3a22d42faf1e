import type { CommandSpec } from "../command.js";
import { EXIT } from "../errors.js";
import { println, toJson } from "../format.js";
import { openStore, storeLine } from "../store.js";

export const orgUniqueIdentifiersCommand: CommandSpec = {
  path: ["data-node", "org-unique-identifiers"],
  summary: "List the published table identifiers of the organization, one per line.",
  description: [
    "These are DataNode table identifiers (node_metadata.identifier), unique across the",
    "organization; not asset unique_identifier values. stdout holds only the identifiers (the",
    "store line goes to stderr); --json prints { store, identifiers }.",
  ].join("\n"),
  positionals: [],
  options: {},
  examples: [
    "tdag data-node org-unique-identifiers",
    "tdag data-node org-unique-identifiers --json",
  ],
  async run(ctx) {
    const opened = await openStore(ctx, { readOnly: true });
    try {
      const identifiers = await opened.store.orgUniqueIdentifiers({ signal: ctx.signal });
      if (ctx.json) {
        ctx.output.out(toJson({ store: opened.summary, identifiers }));
        return EXIT.ok;
      }
      // stdout stays one identifier per line (for pipes); the store is named on stderr.
      if (identifiers.length > 0) println(ctx.output, identifiers.join("\n"));
      else ctx.output.err("tdag: no table has a published identifier yet\n");
      ctx.output.err(`tdag: ${storeLine(opened.summary)}\n`);
      return EXIT.ok;
    } finally {
      await opened.close();
    }
  },
};

import { ConfigError, StoreError } from "../../errors.js";
import type { StartPlatformServerOptions } from "../../server/platform-server.js";
import { type CommandSpec, integerOption, stringOption } from "../command.js";
import { CliError, EXIT, usageError } from "../errors.js";
import { println, toJson } from "../format.js";
import { selectionOf, summarizeStore } from "../store.js";

/** The port `tdag serve` listens on when `--port` is not given. */
export const DEFAULT_SERVE_PORT = 8765;

export const serveCommand: CommandSpec = {
  path: ["serve"],
  summary: "Serve the Main Sequence platform routes on 127.0.0.1 over the embedded store.",
  description: [
    "Starts a local server that answers the platform's REST routes (ts_manager, projects,",
    "assets, auth) over the DuckDB store, so a tdag or Python client with TDAG_STORE=remote",
    "works offline. It listens on 127.0.0.1 only and checks a bearer token on every /orm/api",
    "route: --token, or a random one printed at start. It prints the environment variables",
    "that point a client at it and runs until Ctrl-C (SIGINT) or SIGTERM. See docs/server.md.",
    "It serves a DuckDB file only: --store remote (or TDAG_STORE=remote) is a usage error, since",
    "tdag serve is the local stand-in for the platform, not a proxy to it.",
  ].join("\n"),
  positionals: [],
  options: {
    port: {
      type: "string",
      valueName: "port",
      description: `port on 127.0.0.1 (default ${DEFAULT_SERVE_PORT}; 0 picks a free port)`,
    },
    token: {
      type: "string",
      valueName: "token",
      description: "the bearer token clients must send (default: a random token, printed)",
    },
    "project-uid": {
      type: "string",
      valueName: "uid",
      description: "uid of the server's project (default 00000000-0000-4000-8000-000000000001)",
    },
  },
  examples: [
    "tdag serve",
    "tdag serve --port 9000 --db dev.duckdb --token secret",
    'eval "$(tdag serve --port 0 | grep ^export)"  # in another shell: copy the exports',
  ],
  async run(ctx, args) {
    const port = integerOption(args, "port") ?? DEFAULT_SERVE_PORT;
    if (port > 65_535) throw usageError(`--port must be at most 65535 (got ${port})`);
    const token = stringOption(args, "token");
    if (token !== undefined && token.trim() === "") throw usageError("--token must not be empty");
    const projectUid = stringOption(args, "project-uid");
    if (projectUid !== undefined && projectUid.trim() === "") {
      throw usageError("--project-uid must not be empty");
    }
    const selection = selectionOf(ctx);
    if (selection.kind !== "duckdb") {
      // Serving the platform's data back (a RemoteStore behind the local routes) would put a
      // second token and a second project in front of the platform's, and a client pointed at
      // it would believe it writes locally. tdag serve is the offline stand-in: refuse.
      throw usageError(
        `tdag serve serves a DuckDB file, not the remote store (${selection.source})`,
        selection.source.startsWith("TDAG_STORE")
          ? "unset TDAG_STORE in this shell (a client's exports set it) or pass --store duckdb"
          : "drop --store remote (choose the file with --db <path>)",
      );
    }
    const { startPlatformServer } = await import("../../server/platform-server.js");
    const { resolveDuckDBPath } = await import("../../store/duckdb/index.js");
    const dbPath = resolveDuckDBPath(selection.db);
    const options: StartPlatformServerOptions = {
      port,
      dbPath,
      ...(token === undefined ? {} : { token }),
      ...(projectUid === undefined ? {} : { projectUid }),
    };
    let server: Awaited<ReturnType<typeof startPlatformServer>>;
    try {
      server = await startPlatformServer(options);
    } catch (error) {
      if (error instanceof ConfigError || error instanceof StoreError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new CliError(EXIT.store, "serve_failed", `cannot serve ${dbPath}: ${message}`, {
        cause: error,
      });
    }
    const summary = summarizeStore(server.store);
    ctx.noteStore?.(summary);
    if (ctx.json) {
      ctx.output.out(
        toJson({ url: server.url, port: server.port, db: dbPath, store: summary, env: server.env }),
      );
    } else {
      println(
        ctx.output,
        `tdag serve: listening on ${server.url} (store ${server.store.description})`,
      );
      println(ctx.output, "Point a client at it with:");
      for (const [name, value] of Object.entries(server.env)) {
        println(ctx.output, `export ${name}=${value}`);
      }
      println(ctx.output, "Ctrl-C stops the server.");
    }
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await server.close();
    return EXIT.ok;
  },
};

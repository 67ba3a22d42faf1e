/**
 * The local platform server (`tdag/server`): the Main Sequence REST routes over any DataStore,
 * on 127.0.0.1, for offline development and for testing the remote store for real.
 *
 * @example
 * ```ts
 * import { startPlatformServer } from "tdag/server";
 * const server = await startPlatformServer({ dbPath: ".tdag/platform.duckdb", token: "dev" });
 * console.log(server.url); // http://127.0.0.1:<port>
 * await server.close();
 * ```
 */
export {
  createPlatformServer,
  type PlatformServerApp,
  type PlatformServerOptions,
  type RunningPlatformServer,
  type StartPlatformServerOptions,
  startPlatformServer,
} from "./platform-server.js";

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import {
  type RunningPlatformServer,
  startPlatformServer,
} from "../../src/server/platform-server.js";
import { DuckDBStore } from "../../src/store/duckdb/index.js";
import { staticTokenAuth } from "../../src/store/remote/auth.js";
import { PlatformClient } from "../../src/store/remote/http-client.js";
import { RemoteStore } from "../../src/store/remote/remote-store.js";
import type { ConformanceFixture } from "./data-store-conformance.js";

export interface RemoteFixture extends ConformanceFixture {
  readonly store: RemoteStore;
  readonly server: RunningPlatformServer;
  readonly backing: DuckDBStore;
}

/**
 * A factory for the conformance suites: per test, a fresh DuckDB file behind a fresh local
 * platform server on 127.0.0.1 (real HTTP), and a {@link RemoteStore} talking to it, used as
 * it is. `reopen()` gives a second RemoteStore (its own HTTP client) on the same server.
 * `pageSize` sets the server's rows per read page (default 5,000), `chunkRows` the store's
 * rows per upload chunk.
 */
export function remoteStoreFactory(
  label: string,
  options: { chunkRows?: number; pageSize?: number } = {},
): () => Promise<RemoteFixture> {
  const root = mkdtempSync(join(tmpdir(), `tdag-remote-${label}-`));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return async () => {
    const path = join(root, `${randomUUID()}.duckdb`);
    const backing = await DuckDBStore.open({ path });
    const token = `token-${randomUUID()}`;
    const server = await startPlatformServer({
      port: 0,
      store: backing,
      token,
      ...(options.pageSize ? { pageSize: options.pageSize } : {}),
    });
    const connect = () =>
      new RemoteStore({
        client: new PlatformClient({
          endpoint: server.url,
          auth: staticTokenAuth(token),
          retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
        }),
        projectUid: server.projectUid,
        ...(options.chunkRows ? { chunkRows: options.chunkRows } : {}),
      });
    const remote = connect();
    const opened: RemoteStore[] = [remote];
    return {
      store: remote,
      server,
      backing,
      async reopen() {
        const again = connect();
        opened.push(again);
        return again;
      },
      async cleanup() {
        for (const store of opened) await store.close();
        await server.close();
        await backing.close();
        rmSync(path, { force: true });
        rmSync(`${path}.wal`, { force: true });
      },
    };
  };
}

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import type { DataStore } from "../../src/store/data-store.js";
import { DuckDBStore } from "../../src/store/duckdb/index.js";
import type { ConformanceFixture } from "./data-store-conformance.js";

/**
 * The store factory the conformance suites take, for the embedded store: a fresh DuckDB file
 * per test (real DuckDB, real file, no fakes) under a temporary directory removed after the file.
 * `reopen()` closes the instance and opens the file again (one process holds one instance).
 */
export function duckdbStoreFactory(label: string): () => Promise<ConformanceFixture> {
  const root = mkdtempSync(join(tmpdir(), `tdag-${label}-`));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return async () => {
    const path = join(root, `${randomUUID()}.duckdb`);
    let current: DataStore = await DuckDBStore.open({ path });
    return {
      store: current,
      async reopen() {
        await current.close();
        current = await DuckDBStore.open({ path });
        return current;
      },
      async cleanup() {
        await current.close();
        rmSync(path, { force: true });
        rmSync(`${path}.wal`, { force: true });
      },
    };
  };
}

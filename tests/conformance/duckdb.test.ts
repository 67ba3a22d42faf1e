import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { DuckDBStore } from "../../src/store/duckdb/index.js";
import { describeDataStoreConformance } from "./data-store-conformance.js";

const root = mkdtempSync(join(tmpdir(), "tdag-conformance-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// A fresh DuckDB file per test: real DuckDB, real file, no fakes.
describeDataStoreConformance("duckdb", async () => {
  const path = join(root, `${randomUUID()}.duckdb`);
  const store = await DuckDBStore.open({ path });
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(path, { force: true });
      rmSync(`${path}.wal`, { force: true });
    },
  };
});

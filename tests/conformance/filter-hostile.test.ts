import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { F, FilterError, or_, SearchRequest } from "../../src/filters/index.js";
import type { StorageRecord } from "../../src/store/data-store.js";
import { DuckDBDialect } from "../../src/store/duckdb/duckdb-dialect.js";
import { DuckDBSession } from "../../src/store/duckdb/duckdb-session.js";
import { DuckDBStore } from "../../src/store/duckdb/index.js";
import { runFilterRequest } from "../../src/store/sql/sql-filter-compiler.js";
import type { SqlSession } from "../../src/store/sql/sql-session.js";
import { writeThroughUpdater } from "../helpers/write.js";
import { createTable, rowKeys } from "./filter-conformance.js";

const HOSTILE = 'close"; DROP TABLE x; --';
const VALUES = [`a'; DROP TABLE x; --`, `b"); DELETE FROM tdag_storages; --`, "O'Brien"];
const root = mkdtempSync(join(tmpdir(), "tdag-filter-hostile-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const day = (n: number) => new Date(Date.UTC(2024, 0, 1 + n));

describe("filters against hostile names and values (DuckDB)", () => {
  let path: string;
  let store: DuckDBStore;
  let hostile: StorageRecord;

  beforeEach(async () => {
    path = join(root, `${randomUUID()}.duckdb`);
    store = await DuckDBStore.open({ path });
    // A table really named x, which the column name tries to drop.
    const x = await store.registerStorage({
      storageHash: "x",
      namespace: null,
      buildConfiguration: {},
      sourceClassName: "X",
    });
    await writeThroughUpdater(
      store,
      x.uid,
      (await import("../../src/frame/frame.js")).Frame.fromRecords([{ time_index: day(0), v: 1 }]),
    );
    hostile = await createTable(
      store,
      "hostile",
      VALUES.map((name, i) => ({
        time_index: day(i),
        unique_identifier: name,
        [HOSTILE]: i + 0.5,
      })),
      { indexNames: ["time_index", "unique_identifier"], dtypes: { [HOSTILE]: "float64" } },
    );
  });
  afterEach(async () => {
    await store.close();
    rmSync(path, { force: true });
    rmSync(`${path}.wal`, { force: true });
  });

  it("a column named like an injection is just a column", async () => {
    const result = await store.getDataFromFilter(
      new SearchRequest({ nodeUniqueIdentifier: "hostile", filter: F.gt(HOSTILE, 1) }),
    );
    expect(result.frame.column(`base__${HOSTILE}`)).toEqual(new Float64Array([1.5, 2.5]));
    expect(
      (await store.getDataFromFilter(new SearchRequest({ storageHash: "x" }))).frame.length,
    ).toBe(1);
  });

  it("the same name on a table without it is an unknown_column error", async () => {
    const error = await store
      .getDataFromFilter(new SearchRequest({ storageHash: "x", filter: F.gt(HOSTILE, 1) }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FilterError);
    expect((error as FilterError).code).toBe("unknown_column");
    expect((error as FilterError).message).toContain(JSON.stringify(HOSTILE));
  });

  it("values with quotes round-trip as data and never reach the SQL text", async () => {
    for (const [i, v] of VALUES.entries()) {
      const r = await store.getDataFromFilter(
        new SearchRequest({
          nodeUniqueIdentifier: "hostile",
          filter: F.eq("unique_identifier", v),
        }),
      );
      expect(r.frame.column("unique_identifier")).toEqual([v]);
      expect(rowKeys(r.frame)).toEqual([`D${i}|${v}`]);
    }
    await store.close();

    // Re-open the file directly and run the executor with a recording query runner.
    const instance = await DuckDBInstance.create(path);
    const conn = await instance.connect();
    await conn.run("SET TimeZone = 'UTC'");
    const seen: { sql: string; values: unknown[] }[] = [];
    try {
      const filter = or_(
        ...VALUES.map((v) => F.eq("unique_identifier", v)),
        F.in_("unique_identifier", VALUES),
        F.contains("unique_identifier", VALUES[0]!),
        F.starts_with("unique_identifier", VALUES[1]!),
      );
      const dialect = new DuckDBDialect(true);
      const session = new DuckDBSession(conn, dialect);
      // The real session, recording every query the executor sends.
      const recording: SqlSession = {
        run: (sql, params) => session.run(sql, params),
        rows: (sql, params) => session.rows(sql, params),
        stageFrame: (name, frame, columns) => session.stageFrame(name, frame, columns),
        transaction: (body) => session.transaction(body),
        selectFrame: (sql, params, indexNames, columns) => {
          seen.push({ sql, values: [...(params?.values ?? [])] });
          return session.selectFrame(sql, params, indexNames, columns);
        },
      };
      const result = await runFilterRequest(
        new SearchRequest({ storageHash: hostile.storageHash, filter }),
        {
          storage: async (key) =>
            "storageHash" in key && key.storageHash === hostile.storageHash ? hostile : null,
          session: recording,
          dialect,
        },
      );
      expect(result.frame.length).toBe(3);
      expect(seen).toHaveLength(1);
      for (const v of VALUES) {
        expect(seen[0]!.sql).not.toContain(v);
        expect(seen[0]!.values).toContain(v);
      }
      const tables = await conn.run(
        "SELECT count(*)::INTEGER AS n FROM information_schema.tables WHERE table_name = 'x'",
      );
      expect((await tables.getRowObjectsJS())[0]).toEqual({ n: 1 });
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
    store = await DuckDBStore.open({ path }); // for afterEach
  });

  it("an empty in_ list reads nothing; a limit over the maximum is refused before any I/O", async () => {
    const r = await store.getDataFromFilter(
      new SearchRequest({
        nodeUniqueIdentifier: "hostile",
        filter: F.in_("unique_identifier", []),
      }),
    );
    expect(r.frame.length).toBe(0);
    expect(r.nextOffset).toBeNull();
    expect(r.frame.columnNames).toEqual(["time_index", "unique_identifier", `base__${HOSTILE}`]);
    expect(() => new SearchRequest({ nodeUniqueIdentifier: "hostile", limit: 501 })).toThrow(
      "limit must be an integer between 1 and 500 (got 501)",
    );
    expect(() => new SearchRequest({ nodeUniqueIdentifier: "hostile" }).page(0, 14_001)).toThrow(
      FilterError,
    );
  });
});

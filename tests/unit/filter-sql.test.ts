import { describe, expect, it } from "vitest";
import {
  and_,
  F,
  FilterError,
  type FilterNode,
  or_,
  SearchRequest,
} from "../../src/filters/index.js";
import type { StorageRecord, TableSchema } from "../../src/store/data-store.js";
import { DuckDBDialect } from "../../src/store/duckdb/duckdb-dialect.js";
import { compileFilterQuery, compileTableFilter } from "../../src/store/sql/sql-filter-compiler.js";

const dialect = new DuckDBDialect(true);

const HOSTILE = 'close"; DROP TABLE x; --';

const PRICES: TableSchema = {
  timeIndexName: "time_index",
  indexNames: ["time_index", "unique_identifier"],
  columnDtypes: {
    time_index: "timestamptz",
    unique_identifier: "string",
    close: "float64",
    volume: "int64",
    name: "string",
    active: "bool",
    trade_date: "date",
    meta: "json",
    [HOSTILE]: "float64",
  },
};
const FUND: TableSchema = {
  timeIndexName: "time_index",
  indexNames: ["time_index", "unique_identifier"],
  columnDtypes: { time_index: "timestamptz", unique_identifier: "string", pe: "float64" },
};

function storage(storageHash: string, schema: TableSchema): StorageRecord {
  return {
    uid: `uid-${storageHash}`,
    storageHash,
    namespace: null,
    sourceClassName: "X",
    buildConfiguration: {},
    openToPublic: false,
    identifier: null,
    description: null,
    dataFrequencyId: null,
    createdAt: new Date(0),
    schema,
  };
}

const where = (filter: FilterNode) => compileTableFilter(PRICES, filter, dialect);

describe("SqlFilterCompiler (DuckDB dialect): SQL text and bound parameters", () => {
  it("quotes identifiers and binds every value", () => {
    const { sql, params } = where(and_(F.eq("unique_identifier", "BTC"), F.gt("close", 10)));
    expect(sql).toBe(`(("unique_identifier" = $1) AND ("close" > $2))`);
    expect(params.shown).toEqual(["BTC", 10]);
  });

  it("compiles every operator", () => {
    const cases: [FilterNode, string, unknown[]][] = [
      [F.ne("close", 1.5), `("close" <> $1)`, [1.5]],
      [F.lte("volume", 3), `("volume" <= $1)`, [3]],
      [F.gte("volume", 3.5), `("volume" >= $1)`, [3.5]],
      [F.lt("active", true), `("active" < $1)`, [true]],
      [F.eq("close", null), `("close" IS NULL)`, []],
      [F.ne("close", null), `("close" IS NOT NULL)`, []],
      [F.is_null("meta"), `("meta" IS NULL)`, []],
      [F.is_null("meta", false), `("meta" IS NOT NULL)`, []],
      [F.in_("name", ["a", "b"]), `("name" IN ($1, $2))`, ["a", "b"]],
      [F.not_in("name", ["a"]), `("name" NOT IN ($1))`, ["a"]],
      [F.in_("name", []), "FALSE", []],
      [F.not_in("name", []), "TRUE", []],
      [F.between("close", 1, 2), `("close" BETWEEN $1 AND $2)`, [1, 2]],
      [F.contains("name", "a%b_c\\"), `("name" LIKE $1 ESCAPE '\\')`, ["a%b_c\\"]],
      [F.eq("trade_date", "2024-01-02"), `("trade_date" = CAST($1 AS DATE))`, ["2024-01-02"]],
      [F.eq("time_index", 1_704_067_200_000_000), `("time_index" = $1)`, [1_704_067_200_000_000]],
      [or_(F.eq("name", "a"), F.eq("name", "b")), `(("name" = $1) OR ("name" = $2))`, ["a", "b"]],
    ];
    for (const [filter, sql, shown] of cases) {
      const compiled = where(filter);
      expect(compiled.sql).toBe(sql);
      expect(compiled.params.shown).toEqual(shown);
    }
  });

  it("escapes LIKE wildcards in the bound pattern, not in SQL", () => {
    const patterns = (filter: FilterNode) => where(filter).params.values;
    expect(patterns(F.contains("name", "100%"))).toEqual(["%100\\%%"]);
    expect(patterns(F.starts_with("name", "a_b"))).toEqual(["a\\_b%"]);
    expect(patterns(F.ends_with("name", "\\"))).toEqual(["%\\\\"]);
  });

  it("binds instants as timestamps from Date, ISO text and micros", () => {
    const micros = (filter: FilterNode) => where(filter).params.shown[0];
    expect(micros(F.eq("time_index", new Date("2024-01-01T00:00:00.001Z")))).toBe(
      1_704_067_200_001_000,
    );
    expect(micros(F.eq("time_index", "2024-01-01T00:00:00.000001Z"))).toBe(1_704_067_200_000_001);
    expect(micros(F.eq("time_index", "2024-01-01T01:00:00+01:00"))).toBe(1_704_067_200_000_000);
    expect(micros(F.eq("time_index", "2024-01-01T00:00:00"))).toBe(1_704_067_200_000_000);
  });

  it("never puts a value in the SQL text", () => {
    const values = [
      `x'); DROP TABLE t; --`,
      `"; DELETE FROM tdag_storages; --`,
      "O'Brien",
      "§value§",
    ];
    const filter = or_(
      ...values.map((v) => F.eq("name", v)),
      F.in_("name", values),
      F.contains("name", values[0]!),
      F.between("name", values[1]!, values[2]!),
    );
    const { sql, params } = where(filter!);
    for (const v of values) expect(sql).not.toContain(v);
    // the only literal in the SQL is LIKE's ESCAPE '\'
    expect(sql.replaceAll("ESCAPE '\\'", "")).not.toContain("'");
    expect(params.values).toEqual(expect.arrayContaining(values));
  });

  it("quotes a hostile column name and rejects it as a field on tables without it", () => {
    const { sql } = where(F.gt(HOSTILE, 1));
    expect(sql).toBe(`("close""; DROP TABLE x; --" > $1)`);
    const other = {
      ...PRICES,
      columnDtypes: { time_index: "timestamptz", unique_identifier: "string" },
    } as const;
    try {
      compileTableFilter(other, F.gt(HOSTILE, 1), dialect);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(FilterError);
      expect((error as FilterError).code).toBe("unknown_column");
      expect((error as FilterError).message).toContain(JSON.stringify(HOSTILE));
      expect((error as FilterError).path).toBe("filter.field");
    }
  });

  it("rejects values that do not fit the column's dtype", () => {
    const code = (filter: FilterNode) => {
      try {
        where(filter);
      } catch (error) {
        return (error as FilterError).code;
      }
      return "compiled";
    };
    expect(code(F.eq("close", "1"))).toBe("type_mismatch");
    expect(code(F.eq("name", 1))).toBe("type_mismatch");
    expect(code(F.eq("active", 1))).toBe("type_mismatch");
    expect(code(F.eq("volume", "1"))).toBe("type_mismatch");
    expect(code(F.eq("time_index", "yesterday"))).toBe("type_mismatch");
    expect(code(F.eq("trade_date", "2024-1-2"))).toBe("type_mismatch");
    expect(code(F.gt("meta", 1))).toBe("type_mismatch");
    expect(code(F.eq("meta", "{}"))).toBe("type_mismatch");
    expect(code(F.starts_with("volume", "1"))).toBe("type_mismatch");
    expect(code(and_(F.eq("close", 1), F.eq("nope", 1)))).toBe("unknown_column");
    // prototype names are not columns
    for (const field of [
      "constructor",
      "toString",
      "__proto__",
      "base.constructor",
      "base__toString",
    ]) {
      expect(code(F.eq(field, 1))).toBe("unknown_column");
    }
  });
});

describe("compileFilterQuery: joined reads", () => {
  const tables = {
    base: { storage: storage("prices_h", PRICES), schema: PRICES },
    joins: [{ storage: storage("fund_h", FUND), schema: FUND }],
  };

  it("prefixes columns, coalesces full-join keys, orders by the index and binds limit+1/offset", () => {
    const req = new SearchRequest({
      storageHash: "prices_h",
      joins: [
        {
          name: "fund",
          storageHash: "fund_h",
          on: ["time_index", "unique_identifier"],
          type: "full",
        },
      ],
      filter: and_(F.eq("unique_identifier", "A"), F.gt("fund.pe", 1)),
      limit: 10,
      offset: 20,
    });
    const q = compileFilterQuery(req, tables, dialect);
    expect(q.columns.map((c) => c.name)).toEqual([
      "time_index",
      "unique_identifier",
      "base__close",
      "base__volume",
      "base__name",
      "base__active",
      "base__trade_date",
      "base__meta",
      `base__${HOSTILE}`,
      "fund__pe",
    ]);
    expect(q.sql).toContain(
      `FROM "prices_h" AS t0 FULL OUTER JOIN "fund_h" AS t1 ON t0."time_index" = t1."time_index" AND t0."unique_identifier" = t1."unique_identifier"`,
    );
    expect(q.sql).toContain(`(COALESCE(t0."unique_identifier", t1."unique_identifier") = $1)`);
    expect(q.sql).toContain(`(t1."pe" > $2)`);
    expect(q.sql).toContain(`AS "base__close""; DROP TABLE x; --"`);
    expect(q.sql).toMatch(
      /ORDER BY COALESCE\(t0\."time_index", t1\."time_index"\), COALESCE\(t0\."unique_identifier", t1\."unique_identifier"\) LIMIT \$3 OFFSET \$4$/,
    );
    expect(q.params.shown).toEqual(["A", 1, 11, 20]);
  });

  it("inner and left joins keep the base index unwrapped", () => {
    for (const type of ["inner", "left"] as const) {
      const q = compileFilterQuery(
        new SearchRequest({
          storageHash: "prices_h",
          joins: [
            { name: "fund", storageHash: "fund_h", on: ["time_index", "unique_identifier"], type },
          ],
        }),
        tables,
        dialect,
      );
      expect(q.sql).not.toContain("COALESCE");
      expect(q.sql).toContain(type === "inner" ? "INNER JOIN" : "LEFT JOIN");
    }
  });

  it("refuses join keys that are not index columns of both tables, and colliding names", () => {
    const bad = (on: string[], name = "fund") =>
      compileFilterQuery(
        new SearchRequest({
          storageHash: "prices_h",
          joins: [{ name, storageHash: "fund_h", on }],
        }),
        tables,
        dialect,
      );
    expect(() => bad(["time_index", "pe"])).toThrow(/must be an index column of both tables/);
    expect(() => bad(["time_index"], "base")).toThrow(/reserved/);
  });
});

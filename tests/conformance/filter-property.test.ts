import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ConditionNode,
  F,
  type FilterNode,
  type FilterScalar,
  group,
  SearchRequest,
} from "../../src/filters/index.js";
import { Frame } from "../../src/frame/frame.js";
import type { TableSchema } from "../../src/store/data-store.js";
import { DuckDBStore } from "../../src/store/duckdb/index.js";
import { writeThroughUpdater } from "../helpers/write.js";

const DAY = 86_400_000_000;
const T0 = Date.UTC(2024, 0, 1) * 1000;
const IDS = ["A", "B", "C", "D"] as const;
const CHARS = ["a", "b", "A", "%", "_", "'", '"', " ", "\\"];

type Cell = number | string | boolean | null;
interface Row {
  time_index: number;
  unique_identifier: string;
  x: number | null;
  n: number | null;
  s: string | null;
  b: boolean | null;
}
type Field = keyof Row;

const nullable = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null, freq: 4 });
const text = fc.array(fc.constantFrom(...CHARS), { maxLength: 4 }).map((cs) => cs.join(""));
const xValue = fc.integer({ min: -8, max: 8 }).map((v) => v / 2);
const nValue = fc.integer({ min: -5, max: 5 });

const rowsArb = fc
  .uniqueArray(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.constantFrom(...IDS)), {
    maxLength: 30,
    selector: ([d, u]) => `${d}|${u}`,
  })
  .chain((keys) =>
    fc.tuple(
      ...keys.map(([d, u]) =>
        fc.record({
          time_index: fc.constant(T0 + d * DAY),
          unique_identifier: fc.constant<string>(u),
          x: nullable(xValue),
          n: nullable(nValue),
          s: nullable(text),
          b: nullable(fc.boolean()),
        }),
      ),
    ),
  )
  .map((rows) => rows as Row[]);

const valuesFor: Record<Field, fc.Arbitrary<FilterScalar>> = {
  time_index: fc
    .integer({ min: -1, max: 6 })
    .chain((d) => fc.constantFrom<FilterScalar>(T0 + d * DAY, new Date((T0 + d * DAY) / 1000))),
  unique_identifier: fc.constantFrom("A", "B", "C", "D", "E"),
  x: xValue,
  n: nValue,
  s: text,
  b: fc.boolean(),
};

function conditionArb(field: Field): fc.Arbitrary<ConditionNode> {
  const v = valuesFor[field];
  const list = fc.array(v, { maxLength: 3 });
  const ops: fc.Arbitrary<ConditionNode>[] = [
    fc.tuple(v, fc.boolean()).map(([x, isNull]) => (isNull ? F.eq(field, null) : F.eq(field, x))),
    fc.tuple(v, fc.boolean()).map(([x, isNull]) => (isNull ? F.ne(field, null) : F.ne(field, x))),
    list.map((xs) => F.in_(field, xs)),
    list.map((xs) => F.not_in(field, xs)),
    fc.boolean().map((flag) => F.is_null(field, flag)),
  ];
  if (field !== "b") {
    ops.push(
      v.map((x) => F.lt(field, x)),
      v.map((x) => F.lte(field, x)),
      v.map((x) => F.gt(field, x)),
      v.map((x) => F.gte(field, x)),
      fc.tuple(v, v).map(([a, b]) => F.between(field, a, b)),
    );
  }
  if (field === "s" || field === "unique_identifier") {
    // Patterns are where quoting bugs hide: weight them up, and favour wildcard characters.
    const pattern = fc.oneof(
      text,
      fc
        .array(fc.constantFrom("%", "_", "\\", "a"), { minLength: 1, maxLength: 2 })
        .map((cs) => cs.join("")),
    );
    ops.push(
      pattern.map((t) => F.contains(field, t)),
      pattern.map((t) => F.starts_with(field, t)),
      pattern.map((t) => F.ends_with(field, t)),
      pattern.map((t) => F.contains(field, t)),
    );
  }
  return fc.oneof(...ops);
}

const leaf = fc
  .constantFrom<Field>("time_index", "unique_identifier", "x", "n", "s", "s", "b")
  .chain(conditionArb);

const { tree } = fc.letrec<{ tree: FilterNode }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc
      .tuple(
        fc.constantFrom("and", "or") as fc.Arbitrary<"and" | "or">,
        fc.array(tie("tree"), { minLength: 1, maxLength: 3 }),
      )
      .map(([logic, items]) => group(logic, items)),
  ),
}));

// ---------------------------------------------------------------- the in-memory reference

function norm(v: FilterScalar): Cell {
  if (v instanceof Date) return v.getTime() * 1000;
  return v as Cell;
}

function cmp(a: Cell, b: Cell): number {
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  if (typeof a === "number" && typeof b === "number") return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** SQL's rule made two-valued: a NULL cell matches no comparison, list or pattern. */
function evaluate(node: FilterNode, row: Row): boolean {
  if (node.type === "group") {
    return node.logic === "and"
      ? node.items.every((i) => evaluate(i, row))
      : node.items.some((i) => evaluate(i, row));
  }
  const cell = row[node.field as Field] as Cell;
  const value = node.value;
  switch (node.op) {
    case "is_null":
      return (cell === null) === (value !== false);
    case "eq":
      return value === undefined
        ? cell === null
        : cell !== null && cmp(cell, norm(value as FilterScalar)) === 0;
    case "ne":
      return value === undefined
        ? cell !== null
        : cell !== null && cmp(cell, norm(value as FilterScalar)) !== 0;
    case "lt":
      return cell !== null && cmp(cell, norm(value as FilterScalar)) < 0;
    case "lte":
      return cell !== null && cmp(cell, norm(value as FilterScalar)) <= 0;
    case "gt":
      return cell !== null && cmp(cell, norm(value as FilterScalar)) > 0;
    case "gte":
      return cell !== null && cmp(cell, norm(value as FilterScalar)) >= 0;
    case "in":
      return cell !== null && (value as FilterScalar[]).some((v) => cmp(cell, norm(v)) === 0);
    case "not_in": {
      const list = value as FilterScalar[];
      return list.length === 0 || (cell !== null && list.every((v) => cmp(cell, norm(v)) !== 0));
    }
    case "between": {
      const [lo, hi] = value as FilterScalar[];
      return cell !== null && cmp(cell, norm(lo!)) >= 0 && cmp(cell, norm(hi!)) <= 0;
    }
    case "contains":
      return cell !== null && String(cell).includes(value as string);
    case "starts_with":
      return cell !== null && String(cell).startsWith(value as string);
    case "ends_with":
      return cell !== null && String(cell).endsWith(value as string);
  }
}

// Declared so that an empty frame still creates every column.
const SCHEMA: TableSchema = {
  timeIndexName: "time_index",
  indexNames: ["time_index", "unique_identifier"],
  columnDtypes: {
    time_index: "timestamptz",
    unique_identifier: "string",
    x: "float64",
    n: "int64",
    s: "string",
    b: "bool",
  },
};

const key = (r: Row | Record<string, unknown>) =>
  `${String(r["time_index" as keyof typeof r])}|${String(r["unique_identifier" as keyof typeof r])}`;

describe("filters on DuckDB equal an in-memory evaluation (property)", () => {
  const root = mkdtempSync(join(tmpdir(), "tdag-filter-prop-"));
  let store: DuckDBStore;
  beforeAll(async () => {
    store = await DuckDBStore.open({ path: join(root, `${randomUUID()}.duckdb`) });
  });
  afterAll(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("random rows × random filter trees, read back in random page sizes", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        rowsArb,
        fc.array(tree, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 10 }),
        async (rows, filters, pageSize) => {
          run += 1;
          const storage = await store.registerStorage({
            storageHash: `prop_${run}_${randomUUID().slice(0, 8)}`,
            namespace: null,
            buildConfiguration: {},
            sourceClassName: "Property",
          });
          await writeThroughUpdater(
            store,
            storage.uid,
            Frame.fromRecords(
              rows.map((r) => ({ ...r, time_index: new Date(r.time_index / 1000) })),
              {
                indexNames: ["time_index", "unique_identifier"],
                dtypes: {
                  unique_identifier: "string",
                  x: "float64",
                  n: "int64",
                  s: "string",
                  b: "bool",
                },
              },
            ),
            { schema: SCHEMA },
          );
          for (const filter of filters) {
            const expected = rows
              .filter((r) => evaluate(filter, r))
              .sort(
                (a, b) =>
                  a.time_index - b.time_index || cmp(a.unique_identifier, b.unique_identifier),
              )
              .map(key);
            const got: string[] = [];
            let offset: number | null = 0;
            const base = new SearchRequest({ storageHash: storage.storageHash, filter });
            while (offset !== null) {
              const page = await store.getDataFromFilter(base.page(offset, pageSize));
              expect(page.frame.length).toBeLessThanOrEqual(pageSize);
              got.push(...page.frame.toRecords({ time: "micros" }).map(key));
              offset = page.nextOffset;
            }
            expect(got, JSON.stringify(filter)).toEqual(expected);
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});

import { describe, expect, it } from "vitest";
import { FrameValidationError } from "../../src/errors.js";
import { Frame } from "../../src/frame/frame.js";

const T0 = "2024-01-01T00:00:00Z";
const T1 = "2024-01-02T00:00:00Z";
const JAN1 = Date.UTC(2024, 0, 1) * 1000;
const DAY = 86_400_000_000;

function catchError(fn: () => unknown): FrameValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FrameValidationError) return err;
    throw err;
  }
  throw new Error("expected a FrameValidationError");
}

describe("construction", () => {
  it("builds from records, inferring dtypes and the index", () => {
    const df = Frame.fromRecords([
      {
        time_index: T0,
        unique_identifier: "AAPL",
        close: 1.5,
        volume: 10n,
        ok: true,
        meta: { a: 1 },
      },
      { time_index: T1, unique_identifier: "MSFT", close: 2, volume: null, ok: null },
    ]);
    expect(df.indexNames).toEqual(["time_index", "unique_identifier"]);
    expect(df.timeIndexName).toBe("time_index");
    expect(df.identityDimensions).toEqual(["unique_identifier"]);
    expect(df.valueColumns).toEqual(["close", "volume", "ok", "meta"]);
    expect(df.dtypes).toEqual({
      time_index: "timestamptz",
      unique_identifier: "string",
      close: "float64",
      volume: "int64",
      ok: "bool",
      meta: "json",
    });
    expect(df.length).toBe(2);
    expect(df.isEmpty).toBe(false);
    expect([...df.time]).toEqual([JAN1, JAN1 + DAY]);
    expect(df.cell("meta", 1)).toBeNull(); // key missing from the row
  });

  it("builds from columns with the default single index", () => {
    const df = Frame.fromColumns({ time_index: [new Date(T0), new Date(T1)], value: [1, 2] });
    expect(df.indexNames).toEqual(["time_index"]);
    expect(df.column("value")).toEqual(new Float64Array([1, 2]));
  });

  it("orders index columns first", () => {
    const df = Frame.fromColumns({ value: [1], unique_identifier: ["A"], time_index: [T0] });
    expect(df.columnNames).toEqual(["time_index", "unique_identifier", "value"]);
  });

  it("honours explicit dtypes and index names", () => {
    const df = Frame.fromRecords([{ date: T0, asset: "A", qty: 3, day: "2024-01-05", at: T1 }], {
      indexNames: ["date", "asset"],
      dtypes: { qty: "int64", day: "date", at: "timestamptz" },
    });
    expect(df.indexNames).toEqual(["date", "asset"]);
    expect(df.dtypes).toMatchObject({ date: "timestamptz", qty: "int64", day: "date" });
    expect(df.column("qty")).toEqual([3]);
    expect(df.cell("at", 0)).toBe(JAN1 + DAY);
  });

  it("converts Dates in date columns to calendar days", () => {
    const df = Frame.fromColumns(
      { time_index: [T0], day: [new Date("2024-03-04T00:00:00Z")] },
      { dtypes: { day: "date" } },
    );
    expect(df.column("day")).toEqual(["2024-03-04"]);
  });

  it("reads NaN as missing in an int64 column", () => {
    const df = Frame.fromColumns(
      { time_index: [T0, T1], n: [Number.NaN, 2] },
      { dtypes: { n: "int64" } },
    );
    expect(df.column("n")).toEqual([null, 2]);
  });

  it("gives empty frames for empty inputs", () => {
    for (const input of [null, undefined, [], {}] as const) {
      const df = Frame.from(input);
      expect(df.length).toBe(0);
      expect(df.indexNames).toEqual(["time_index"]);
    }
    const empty = Frame.fromRecords([], { indexNames: ["time_index", "unique_identifier"] });
    expect(empty.columnNames).toEqual(["time_index", "unique_identifier"]);
    expect(Frame.empty().dtypes).toEqual({ time_index: "timestamptz" });
  });

  it("returns a frame given to Frame.from as is", () => {
    const df = Frame.fromRecords([{ time_index: T0, x: 1 }]);
    expect(Frame.from(df)).toBe(df);
    expect(Frame.from({ time_index: [T0], x: [1] }).length).toBe(1);
  });

  it("rejects an empty index", () => {
    expect(() =>
      Frame.fromColumns({ x: [1] }, { indexNames: [] }),
    ).toThrowErrorMatchingInlineSnapshot(`
      [FrameValidationError: frame failed validation with 1 issue(s):
        - [index_names] a frame needs an index: at least a time index]
    `);
  });
});

describe("time precision and zones", () => {
  it("keeps microseconds from ISO text and bigint to toRecords", () => {
    const df = Frame.fromRecords([
      { time_index: "2024-01-01T00:00:00.000001Z", x: 1 },
      { time_index: BigInt(JAN1 + 2), x: 2 },
    ]);
    expect([...df.time]).toEqual([JAN1 + 1, JAN1 + 2]);
    expect(df.toRecords({ time: "iso" }).map((r) => r["time_index"])).toEqual([
      "2024-01-01T00:00:00.000001Z",
      "2024-01-01T00:00:00.000002Z",
    ]);
    expect(df.toRecords({ time: "micros" }).map((r) => r["time_index"])).toEqual([
      JAN1 + 1,
      JAN1 + 2,
    ]);
    // Date output drops the microseconds (Date has milliseconds only).
    expect(df.toRecords()[0]!["time_index"]).toEqual(new Date(T0));
  });

  it("normalises offsets to UTC", () => {
    const df = Frame.fromRecords([
      { time_index: "2024-01-01T09:00:00+09:00", x: 1 },
      { time_index: "2023-12-31T19:00:00-05:00", x: 2 },
    ]);
    expect([...df.time]).toEqual([JAN1, JAN1]);
    expect(df.toColumns({ time: "iso" })["time_index"]).toEqual([T0, T0]);
  });

  it("rejects a naive time index, naming the rows", () => {
    const err = catchError(() =>
      Frame.fromRecords([
        { time_index: T0, x: 1 },
        { time_index: "2024-01-02T00:00:00", x: 2 },
        { time_index: "2024-01-03", x: 3 },
      ]),
    );
    expect(err.code).toBe("naive_time_index");
    expect(err.issues[0]).toMatchObject({ column: "time_index", rows: [1, 2] });
    expect(err.message).toMatchInlineSnapshot(`
      "frame failed validation with 1 issue(s):
        - [naive_time_index] column 'time_index': 2 value(s) have no time zone: give UTC instants (a Date, or ISO text with Z or an offset) (rows 1, 2; first: "2024-01-02T00:00:00")"
    `);
  });

  it("rejects invalid and null instants in the time index", () => {
    const err = catchError(() =>
      Frame.fromColumns({ time_index: [T0, "not a date", null, new Date("x")], x: [1, 2, 3, 4] }),
    );
    expect(err.issues.map((i) => [i.code, i.rows])).toEqual([
      ["invalid_time_index", [1, 3]],
      ["null_time_index", [2]],
    ]);
  });

  it("names the rows of values that do not fit their dtype, for every dtype", () => {
    const err = catchError(() =>
      Frame.fromColumns(
        {
          time_index: [T0, T1],
          f: [1, "x"],
          i: [1.5, 2],
          b: [true, 1],
          s: ["a", 2],
          t: ["2024-01-01T00:00:00", T0],
          d: ["2024-02-30", "2024-02-29"],
        },
        { dtypes: { i: "int64", t: "timestamptz", d: "date" } },
      ),
    );
    expect(err.message).toMatchInlineSnapshot(`
      "frame failed validation with 6 issue(s):
        - [wrong_dtype] column 'f': 1 value(s) are not numbers in a float64 column (rows 1; first: "x")
        - [wrong_dtype] column 'i': 1 value(s) are not integers in an int64 column (rows 0; first: 1.5)
        - [wrong_dtype] column 'b': 1 value(s) are not booleans in a bool column (rows 1; first: a number)
        - [wrong_dtype] column 's': 1 value(s) are not strings in a string column (rows 1; first: a number)
        - [naive_timestamp] column 't': 1 value(s) have no time zone: give UTC instants (a Date, or ISO text with Z or an offset) (rows 0; first: "2024-01-01T00:00:00")
        - [wrong_dtype] column 'd': 1 value(s) are not dates (YYYY-MM-DD or Date) (rows 0; first: "2024-02-30")"
    `);
  });

  it("reports columns of different lengths and missing index columns", () => {
    const err = catchError(() => Frame.fromColumns({ x: [1, 2], y: [1] }));
    expect(err.issues.map((i) => i.code)).toEqual(["length_mismatch", "missing_index_column"]);
  });
});

describe("operations", () => {
  const df = Frame.fromRecords([
    { time_index: T1, unique_identifier: "B", x: 2, label: "b" },
    { time_index: T0, unique_identifier: "B", x: 1, label: "a" },
    { time_index: T0, unique_identifier: "A", x: 0, label: null },
  ]);

  it("take / head / filterRows pick rows", () => {
    expect(df.take([2, 0]).column("x")).toEqual(new Float64Array([0, 2]));
    expect(df.head(2).length).toBe(2);
    expect(df.head().length).toBe(3);
    expect(df.filterRows((r) => (df.cell("x", r) as number) > 0).column("label")).toEqual([
      "b",
      "a",
    ]);
    expect(df.filterRows(() => true)).toBe(df);
  });

  it("select keeps the index and the named columns", () => {
    const sub = df.select(["label"]);
    expect(sub.columnNames).toEqual(["time_index", "unique_identifier", "label"]);
    expect(() => df.select(["nope"])).toThrow(FrameValidationError);
  });

  it("sortByIndex sorts by time then by each dimension", () => {
    const sorted = df.sortByIndex();
    expect(sorted.toRecords({ time: "iso" })).toEqual([
      { time_index: T0, unique_identifier: "A", x: 0, label: null },
      { time_index: T0, unique_identifier: "B", x: 1, label: "a" },
      { time_index: T1, unique_identifier: "B", x: 2, label: "b" },
    ]);
    expect(sorted.sortByIndex()).toBe(sorted);
  });

  it("withColumn adds or replaces a column without touching the original", () => {
    const added = df.withColumn("y", { dtype: "int64", values: [1, 2, 3] });
    expect(added.column("y")).toEqual([1, 2, 3]);
    expect(df.has("y")).toBe(false);
    expect(() => df.withColumn("y", { dtype: "int64", values: [1] })).toThrow(/has 1 values/);
  });

  it("concat unions columns, filling missing cells with null", () => {
    const other = Frame.fromRecords([{ time_index: T1, unique_identifier: "C", z: true }]);
    const all = Frame.concat([df, other]);
    expect(all.length).toBe(4);
    expect(all.columnNames).toEqual(["time_index", "unique_identifier", "x", "label", "z"]);
    expect(all.cell("x", 3)).toBeNull();
    expect(all.cell("z", 0)).toBeNull();
    expect(all.cell("z", 3)).toBe(true);
    expect(Frame.concat([]).length).toBe(0);
  });

  it("concat refuses different indexes or dtypes", () => {
    const single = Frame.fromRecords([{ time_index: T0, x: 1 }]);
    expect(() => Frame.concat([df, single])).toThrow(/cannot concatenate/);
    const strX = Frame.fromRecords([{ time_index: T0, unique_identifier: "A", x: "1" }]);
    expect(() => Frame.concat([df, strX])).toThrow(/'x' is float64 in one frame and string/);
  });

  it("typedColumn and getColumn check names and dtypes", () => {
    expect(df.typedColumn("x", "float64")).toBeInstanceOf(Float64Array);
    expect(() => df.typedColumn("x", "int64")).toThrow(/'x' is float64, not int64/);
    expect(() => df.getColumn("nope")).toThrowErrorMatchingInlineSnapshot(`
      [FrameValidationError: frame failed validation with 1 issue(s):
        - [unknown_column] no column 'nope' (columns: time_index, unique_identifier, x, label)]
    `);
  });

  it("fromTypedColumns checks lengths and index columns", () => {
    expect(() =>
      Frame.fromTypedColumns(["time_index"], [["x", { dtype: "int64", values: [1] }]]),
    ).toThrow(/index column 'time_index' is missing/);
    expect(() =>
      Frame.fromTypedColumns(
        ["time_index"],
        [
          ["time_index", { dtype: "timestamptz", values: new Float64Array([JAN1]) }],
          ["x", { dtype: "int64", values: [1, 2] }],
        ],
      ),
    ).toThrow(/has 2 values, expected 1/);
  });
});

describe("toRecords / toColumns", () => {
  it("gives plain values, null for missing", () => {
    const df = Frame.fromRecords([{ time_index: T0, x: Number.NaN, s: null, j: [1, { a: "b" }] }]);
    expect(df.toRecords({ time: "iso" })).toEqual([
      { time_index: T0, x: null, s: null, j: [1, { a: "b" }] },
    ]);
    expect(df.toColumns({ time: "micros" })).toEqual({
      time_index: [JAN1],
      x: [null],
      s: [null],
      j: [[1, { a: "b" }]],
    });
  });
});

describe("int64: the full 64-bit range, exactly", () => {
  const MIN = -(2n ** 63n);
  const MAX = 2n ** 63n - 1n;
  const ABOVE = 2n ** 53n + 1n;
  const SAFE = Number.MAX_SAFE_INTEGER;

  it("holds safe integers as numbers and only the values beyond as bigints", () => {
    const df = Frame.fromColumns(
      {
        time_index: [T0, T0, T0, T0, T0, T0, T0],
        n: [MIN, MAX, ABOVE, 0, -1n, SAFE, null],
      },
      { dtypes: { n: "int64" } },
    );
    // A bigint that a number holds exactly (-1n) becomes that number: one representation per value.
    expect(df.column("n")).toEqual([MIN, MAX, ABOVE, 0, -1, SAFE, null]);
    expect(df.typedColumn("n", "int64").map((v) => typeof v)).toEqual([
      "bigint",
      "bigint",
      "bigint",
      "number",
      "number",
      "number",
      "object",
    ]);
    expect(df.cell("n", 1)).toBe(MAX);
    expect(df.cell("n", 5)).toBe(SAFE);
    expect(df.cell("n", 6)).toBeNull();
  });

  it("infers int64 from a bigint and round trips through toRecords and fromRecords", () => {
    const records = [
      { time_index: T0, n: 7n },
      { time_index: T1, n: MAX },
    ];
    const df = Frame.fromRecords(records);
    expect(df.dtypes["n"]).toBe("int64");
    const out = df.toRecords({ time: "iso" });
    expect(out).toEqual([
      { time_index: T0, n: 7 },
      { time_index: T1, n: MAX },
    ]);
    // As for any int64 column, the dtype is passed (a first cell 7 alone would infer float64).
    expect(Frame.fromRecords(out, { dtypes: df.dtypes }).toRecords({ time: "iso" })).toEqual(out);
    expect(df.toColumns({ time: "iso" })["n"]).toEqual([7, MAX]);
  });

  it("keeps NaN as missing (tdag's marker in numeric data)", () => {
    const df = Frame.fromColumns({ time_index: [T0], n: [Number.NaN] }, { dtypes: { n: "int64" } });
    expect(df.cell("n", 0)).toBeNull();
  });

  it("refuses unsafe numbers, fractions, non-numbers and values outside int64, naming rows", () => {
    const err = catchError(() =>
      Frame.fromColumns(
        {
          time_index: [T0, T0, T0, T0, T0, T0],
          n: [2 ** 53, 1.5, "7", MAX + 1n, MIN - 1n, -(2 ** 60)],
        },
        { dtypes: { n: "int64" } },
      ),
    );
    expect(err.issues.map((i) => [i.code, i.rows])).toEqual([
      ["wrong_dtype", [1, 2]],
      ["wrong_dtype", [0, 5]],
      ["wrong_dtype", [3, 4]],
    ]);
    expect(err.message).toMatchInlineSnapshot(`
      "frame failed validation with 3 issue(s):
        - [wrong_dtype] column 'n': 2 value(s) are not integers in an int64 column (rows 1, 2; first: 1.5)
        - [wrong_dtype] column 'n': 2 value(s) are numbers beyond ±(2^53 - 1), where a JS number is no longer exact: pass these int64 values as bigints (e.g. 9007199254740993n) (rows 0, 5; first: 9007199254740992)
        - [wrong_dtype] column 'n': 2 value(s) are outside the int64 range [-9223372036854775808, 9223372036854775807] (rows 3, 4; first: 9223372036854775808n)"
    `);
  });

  it("sorts, takes, concatenates and finds duplicates on mixed number and bigint keys", () => {
    const df = Frame.fromRecords(
      [
        { time_index: T0, k: MAX, v: 1 },
        { time_index: T0, k: -1, v: 2 },
        { time_index: T0, k: ABOVE, v: 3 },
        { time_index: T0, k: MIN, v: 4 },
        { time_index: T0, k: SAFE, v: 5 },
      ],
      { indexNames: ["time_index", "k"], dtypes: { k: "int64" } },
    );
    const sorted = df.sortByIndex();
    expect(sorted.column("k")).toEqual([MIN, -1, SAFE, ABOVE, MAX]);
    expect(Array.from(sorted.column("v") as Float64Array)).toEqual([4, 2, 5, 3, 1]);
    expect(df.take([2, 0]).column("k")).toEqual([ABOVE, MAX]);
    expect(df.head(1).column("k")).toEqual([MAX]);
    const both = Frame.concat([df.take([0]), df.take([3])]);
    expect(both.column("k")).toEqual([MAX, MIN]);
  });
});

import { describe, expect, it } from "vitest";
import { FrameValidationError } from "../../src/errors.js";
import type { Column } from "../../src/frame/dtypes.js";
import { Frame, type FrameRecord } from "../../src/frame/frame.js";
import {
  frameIssues,
  isPythonLower,
  type RecordDeclaration,
  safeValidateFrame,
  type ValidateFrameOptions,
  validateFrame,
} from "../../src/frame/validate-frame.js";
import type { TableSchema } from "../../src/store/data-store.js";

const T0 = "2024-01-01T00:00:00Z";
const T1 = "2024-01-02T00:00:00Z";
const T2 = "2024-01-03T00:00:00Z";
const JAN1 = Date.UTC(2024, 0, 1) * 1000;

/** The issues of a frame, as `[code, column, rows]`. */
function codes(frame: Frame, options: ValidateFrameOptions = {}) {
  return frameIssues(frame, options).map((i) => [i.code, i.column ?? null, i.rows ?? null]);
}

function errorOf(frame: Frame, options: ValidateFrameOptions = {}): FrameValidationError {
  const result = safeValidateFrame(frame, options);
  if (result.success) throw new Error("expected validation to fail");
  return result.error;
}

const asset = (rows: readonly FrameRecord[]) => Frame.fromRecords(rows);

const good = asset([
  { time_index: T0, unique_identifier: "AAPL", close: 1.5, volume: 10n, name: "Apple" },
  { time_index: T0, unique_identifier: "MSFT", close: 2.5, volume: 20n, name: "Microsoft" },
  { time_index: T1, unique_identifier: "AAPL", close: 1.6, volume: 11n, name: "Apple" },
]);

describe("validateFrame: a valid frame", () => {
  it("passes and returns a new, equal frame", () => {
    const out = validateFrame(good);
    expect(out).not.toBe(good);
    expect(out.toRecords({ time: "micros" })).toEqual(good.toRecords({ time: "micros" }));
    expect(safeValidateFrame(good)).toMatchObject({ success: true });
    expect(frameIssues(good)).toEqual([]);
  });

  it("accepts a single time index and empty frames", () => {
    expect(codes(Frame.fromRecords([{ time_index: T0, value: 1 }]))).toEqual([]);
    expect(codes(Frame.empty())).toEqual([]);
    expect(codes(Frame.empty(["time_index", "unique_identifier"]))).toEqual([]);
  });
});

describe("infinities", () => {
  it("become NaN in a new frame; the input is not mutated", () => {
    const df = Frame.fromColumns({
      time_index: [T0, T1, T2],
      x: [Infinity, -Infinity, 1],
      n: [1n, 2n, 3n],
    });
    const before = Float64Array.from(df.column("x") as Float64Array);
    const out = validateFrame(df);
    expect(out.toColumns()["x"]).toEqual([null, null, 1]);
    expect([...(out.column("x") as Float64Array)]).toEqual([Number.NaN, Number.NaN, 1]);
    expect(df.column("x")).toEqual(before);
    expect(df.column("x")).not.toBe(out.column("x"));
    // Columns without infinities are shared, not copied (frames are immutable).
    expect(out.column("n")).toBe(df.column("n"));
  });

  it("are not issues", () => {
    const df = Frame.fromColumns({ time_index: [T0], x: [Infinity] });
    expect(safeValidateFrame(df).success).toBe(true);
  });
});

describe("time index", () => {
  it("must be timestamptz (built from typed columns)", () => {
    const df = Frame.fromTypedColumns(
      ["time_index"],
      [["time_index", { dtype: "float64", values: new Float64Array([1, 2]) }]],
    );
    expect(errorOf(df).message).toMatchInlineSnapshot(`
      "frame failed validation with 1 issue(s):
        - [time_index_not_utc] time index 'time_index' must hold UTC instants (timestamptz), but it is float64"
    `);
  });

  it("must not hold nulls (built from typed columns)", () => {
    const df = Frame.fromTypedColumns(
      ["time_index"],
      [["time_index", { dtype: "timestamptz", values: new Float64Array([JAN1, Number.NaN]) }]],
    );
    expect(codes(df)).toEqual([["null_index_value", "time_index", [1]]]);
  });

  it("naive and invalid instants are already refused when the frame is built", () => {
    expect(() => Frame.fromRecords([{ time_index: "2024-01-01 00:00", x: 1 }])).toThrow(
      expect.objectContaining({ code: "naive_time_index" }),
    );
    expect(() => Frame.fromRecords([{ time_index: "2024-01-01T99:00Z", x: 1 }])).toThrow(
      expect.objectContaining({ code: "invalid_time_index" }),
    );
  });

  it("built from offset strings is UTC and valid", () => {
    const df = Frame.fromRecords([
      { time_index: "2024-01-01T02:00:00+02:00", x: 1 },
      { time_index: "2024-01-01T00:00:01-00:00", x: 2 },
    ]);
    const out = validateFrame(df);
    expect(out.toColumns({ time: "iso" })["time_index"]).toEqual([T0, "2024-01-01T00:00:01Z"]);
  });
});

describe("index names", () => {
  it("follow the convention (time_index, unique_identifier, ...)", () => {
    const three = Frame.fromRecords(
      [{ time_index: T0, unique_identifier: "A", tenor: "1y", rate: 0.1 }],
      { indexNames: ["time_index", "unique_identifier", "tenor"] },
    );
    expect(codes(three)).toEqual([]);
    const renamed = Frame.fromRecords([{ date: T0, asset: "A", x: 1 }], {
      indexNames: ["date", "asset"],
    });
    expect(errorOf(renamed).message).toMatchInlineSnapshot(`
      "frame failed validation with 2 issue(s):
        - [index_names] index names [date, asset]: the time index must be named 'time_index' (or be declared by a record with dtype 'timestamp with time zone')
        - [index_names] index names [date, asset]: the first identity dimension must be named 'unique_identifier' (or be declared by a record)"
    `);
  });

  it("may be overridden by records declaring the index columns", () => {
    const renamed = Frame.fromRecords([{ date: T0, asset: "A", x: 1 }], {
      indexNames: ["date", "asset"],
    });
    const records: RecordDeclaration[] = [
      { column_name: "date", dtype: "timestamptz" },
      { column_name: "asset", dtype: "string" },
    ];
    expect(codes(renamed, { records })).toEqual([]);
    // Declaring the time index with another dtype does not make it a time index name.
    expect(
      codes(renamed, {
        records: [
          { column_name: "date", dtype: "date" },
          { column_name: "asset", dtype: "string" },
        ],
      }).map((c) => c[0]),
    ).toEqual(["index_names", "record_dtype_mismatch"]);
  });

  it("must equal the declared index names exactly", () => {
    expect(codes(good, { indexNames: ["time_index", "unique_identifier"] })).toEqual([]);
    expect(errorOf(good, { indexNames: ["time_index"] }).message).toMatchInlineSnapshot(`
      "frame failed validation with 1 issue(s):
        - [index_names] index names [time_index, unique_identifier] differ from the declared index [time_index]"
    `);
  });

  it("must equal the table's index names exactly", () => {
    const schema: TableSchema = {
      timeIndexName: "time_index",
      indexNames: ["time_index"],
      columnDtypes: { time_index: "timestamptz" },
    };
    expect(errorOf(good, { schema }).message).toMatchInlineSnapshot(`
      "frame failed validation with 1 issue(s):
        - [index_names] index names [time_index, unique_identifier] differ from the table's index [time_index]"
    `);
  });

  it("must not repeat", () => {
    const df = Frame.fromTypedColumns(
      ["time_index", "time_index"],
      [["time_index", { dtype: "timestamptz", values: new Float64Array([JAN1]) }]],
    );
    expect(codes(df).map((c) => c[0])).toContain("index_names");
  });
});

describe("identity dimensions", () => {
  it("must not hold nulls", () => {
    const df = asset([
      { time_index: T0, unique_identifier: "A", x: 1 },
      { time_index: T0, unique_identifier: null, x: 2 },
      { time_index: T1, x: 3 },
    ]);
    expect(errorOf(df).message).toMatchInlineSnapshot(`
      "frame failed validation with 1 issue(s):
        - [null_index_value] identity dimension 'unique_identifier': 2 value(s) are null (rows 1, 2)"
    `);
  });
});

describe("column names", () => {
  it.each([
    ["close", true],
    ["a_1", true],
    ["x2y", true],
    ["ñandú", true],
    ["123", false],
    ["_", false],
    ["", false],
    ["Close", false],
    ["closE", false],
    ["ǅa", false], // title case
  ])("isPythonLower(%j) is %j", (name, lower) => {
    expect(isPythonLower(name)).toBe(lower);
  });

  it("must be lowercase (index included) and at most 63 characters", () => {
    const long = "x".repeat(64);
    const df = Frame.fromColumns(
      { Time_Index: [T0], close: [1], Open: [1], "123": [1], [long]: [1], ["y".repeat(63)]: [1] },
      { indexNames: ["Time_Index"] },
    );
    expect(
      errorOf(df, { records: [{ column_name: "Time_Index", dtype: "datetime" }] }).message,
    ).toMatchInlineSnapshot(`
        "frame failed validation with 4 issue(s):
          - [uppercase_column] column name 'Time_Index' must be a lowercase string (at least one lowercase letter and no uppercase letters)
          - [uppercase_column] column name '123' must be a lowercase string (at least one lowercase letter and no uppercase letters)
          - [uppercase_column] column name 'Open' must be a lowercase string (at least one lowercase letter and no uppercase letters)
          - [column_name_too_long] column name 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' has 64 characters; it must be 63 characters or fewer"
      `);
  });

  it("counts characters, not UTF-16 units", () => {
    // 63 code points but 126 UTF-16 units: fine.
    const df = Frame.fromColumns({ time_index: [T0], ["𝑥".repeat(63)]: [1] });
    expect(codes(df)).toEqual([]);
    const long = Frame.fromColumns({ time_index: [T0], ["é".repeat(64)]: [1] });
    expect(codes(long).map((c) => c[0])).toEqual(["column_name_too_long"]);
  });
});

describe("duplicate index keys", () => {
  it("are listed with their count, rows and the first key", () => {
    const df = asset([
      { time_index: T0, unique_identifier: "A", x: 1 },
      { time_index: T0, unique_identifier: "B", x: 2 },
      { time_index: T0, unique_identifier: "A", x: 3 },
      { time_index: T1, unique_identifier: "A", x: 4 },
      { time_index: T0, unique_identifier: "B", x: 5 },
      { time_index: T0, unique_identifier: "A", x: 6 },
    ]);
    const err = errorOf(df);
    expect(err.issues[0]).toMatchObject({ code: "duplicate_index", rows: [2, 4, 5] });
    expect(err.message).toMatchInlineSnapshot(`
      "frame failed validation with 1 issue(s):
        - [duplicate_index] 3 row(s) repeat the index key of an earlier row (rows 2, 4, 5); first: row 2 repeats row 0 at (time_index=2024-01-01T00:00:00Z, unique_identifier="A")"
    `);
  });

  it("compare full keys, microseconds included", () => {
    const df = Frame.fromRecords([
      { time_index: "2024-01-01T00:00:00.000001Z", x: 1 },
      { time_index: "2024-01-01T00:00:00.000002Z", x: 2 },
    ]);
    expect(codes(df)).toEqual([]);
    const same = Frame.fromRecords([
      { time_index: "2024-01-01T01:00:00+01:00", x: 1 },
      { time_index: T0, x: 2 },
    ]);
    expect(codes(same)).toEqual([["duplicate_index", null, [1]]]);
  });

  it("list only the first rows", () => {
    const df = Frame.fromColumns({ time_index: Array(10).fill(T0), x: Array(10).fill(1) });
    const issue = frameIssues(df)[0]!;
    expect(issue.rows).toEqual([1, 2, 3, 4, 5]);
    expect(issue.message).toContain("9 row(s)");
    expect(issue.message).toContain("rows 1, 2, 3, 4, 5, ...");
  });
});

describe("datetime value columns", () => {
  const df = Frame.fromColumns(
    { time_index: [T0], at: [T1], day: ["2024-01-05"], x: [1] },
    { dtypes: { at: "timestamptz", day: "date" } },
  );

  it("are refused unless declared", () => {
    expect(errorOf(df).message).toMatchInlineSnapshot(`
      "frame failed validation with 2 issue(s):
        - [datetime_value_column] value column 'at' is timestamptz: time goes in the index; store it as a number or declare it with a record of dtype 'timestamp with time zone'
        - [datetime_value_column] value column 'day' is date: time goes in the index; store it as a number or declare it with a record of dtype 'date'"
    `);
  });

  it("are accepted when declared by a record with that dtype", () => {
    const records = [
      { column_name: "at", dtype: "timestamp with time zone" },
      { column_name: "day", dtype: "date" },
    ];
    expect(codes(df, { records })).toEqual([]);
  });

  it("are accepted when the table already stores them with that dtype", () => {
    const schema: TableSchema = {
      timeIndexName: "time_index",
      indexNames: ["time_index"],
      columnDtypes: { time_index: "timestamptz", at: "timestamptz", day: "date", x: "float64" },
    };
    expect(codes(df, { schema })).toEqual([]);
  });
});

describe("declared records", () => {
  const df = Frame.fromColumns(
    {
      time_index: [T0, T1, T2],
      price: [1.5, 2, null],
      qty: [1n, 2n, 3n],
      big: [40_000n, 1n, -40_000n],
      name: ["a", "b", null],
      flag: [true, false, null],
      id: ["6ba7b810-9dad-11d1-80b4-00c04fd430c8", "{6BA7B8109DAD11D180B400C04FD430C8}", null],
      bad_id: ["not-a-uuid", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "6ba7b810"],
      meta: [{ a: [1, "x", null, true] }, null, [1, 2]],
      day: ["2024-01-01", null, "2024-02-29"],
    },
    { dtypes: { day: "date" } },
  );

  it("accept matching columns, whatever the dtype spelling", () => {
    const records: RecordDeclaration[] = [
      { column_name: "time_index", dtype: "datetime64[ns, UTC]" },
      { column_name: "price", dtype: "Float64" },
      { column_name: "qty", dtype: "int32" },
      { column_name: "big", dtype: "BIGINT" },
      { column_name: "name", dtype: "varchar(20)" },
      { column_name: "flag", dtype: "boolean" },
      { column_name: "id", dtype: "uuid" },
      { column_name: "meta", dtype: "jsonb" },
      { column_name: "day", dtype: "datetime.date" },
    ];
    expect(codes(df, { records })).toEqual([]);
    const day = { column_name: "day", dtype: "date" };
    for (const [column_name, dtype] of [
      ["price", "numeric(10, 2)"],
      ["price", "real"],
      ["price", "json"],
      ["name", "json"],
      ["qty", "int"],
    ] as const) {
      expect(codes(df, { records: [day, { column_name, dtype }] }), dtype).toEqual([]);
    }
    const noDay = df.select(["price", "name"]);
    expect(codes(noDay, { records: null })).toEqual([]);
  });

  it("must name frame columns (one issue listing the missing ones)", () => {
    const records = [
      { column_name: "price", dtype: "float64" },
      { column_name: "volume", dtype: "int64" },
      { column_name: "open", dtype: "float64" },
    ];
    expect(errorOf(df, { records }).message).toMatchInlineSnapshot(`
      "frame failed validation with 2 issue(s):
        - [datetime_value_column] value column 'day' is date: time goes in the index; store it as a number or declare it with a record of dtype 'date'
        - [missing_record_column] declared record column(s) missing from the frame: 'volume', 'open' (frame columns: time_index, price, qty, big, name, flag, id, bad_id, meta, day)"
    `);
  });

  it("enforce the declared dtype against the column", () => {
    const records = [
      { column_name: "qty", dtype: "float64" },
      { column_name: "price", dtype: "int64" },
      { column_name: "flag", dtype: "string" },
      { column_name: "name", dtype: "bool" },
      { column_name: "day", dtype: "timestamptz" },
      { column_name: "time_index", dtype: "date" },
      { column_name: "qty", dtype: "uuid" },
      { column_name: "day", dtype: "json" },
    ];
    expect(errorOf(df, { records }).message).toMatchInlineSnapshot(`
      "frame failed validation with 8 issue(s):
        - [record_dtype_mismatch] column 'qty' is int64, but its record declares dtype 'float64', which needs a float64 column (build it with dtypes: { qty: "float64" })
        - [record_dtype_mismatch] column 'price' is float64, but its record declares dtype 'int64', which needs an int64 column (build it with dtypes: { price: "int64" })
        - [record_dtype_mismatch] column 'flag' is bool, but its record declares dtype 'string', which needs a string column (build it with dtypes: { flag: "string" })
        - [record_dtype_mismatch] column 'name' is string, but its record declares dtype 'bool', which needs a bool column (build it with dtypes: { name: "bool" })
        - [record_dtype_mismatch] column 'day' is date, but its record declares dtype 'timestamp with time zone', which needs a timestamptz column (build it with dtypes: { day: "timestamptz" })
        - [record_dtype_mismatch] column 'time_index' is timestamptz, but its record declares dtype 'date', which needs a date column
        - [record_dtype_mismatch] column 'qty' is int64, but its record declares dtype 'uuid', which needs a string column (build it with dtypes: { qty: "string" })
        - [record_dtype_mismatch] column 'day' is date, but its record declares dtype 'json', which needs a non-datetime column"
    `);
  });

  it("refuse unknown, empty and naive dtypes", () => {
    const records = [
      { column_name: "price", dtype: "Decimal128" },
      { column_name: "name", dtype: " " },
      { column_name: "day", dtype: "timestamp" },
    ];
    expect(errorOf(df, { records }).message).toMatchInlineSnapshot(`
      "frame failed validation with 3 issue(s):
        - [unknown_dtype] record 'price' declares dtype 'Decimal128', which is not a known dtype token (known: date, timestamp with time zone, datetime64[ns], string, uuid, json, jsonb, bool, int16, int32, int64, float32, float64, numeric)
        - [unknown_dtype] record 'name' has an empty dtype
        - [record_dtype_mismatch] record 'day' declares dtype 'timestamp', a naive datetime; tdag instants are UTC: declare 'timestamp with time zone'"
    `);
  });

  it("check values: uuid, int16/int32 ranges", () => {
    const records = [
      { column_name: "bad_id", dtype: "uuid" },
      { column_name: "big", dtype: "int16" },
      { column_name: "big", dtype: "int32" },
    ];
    expect(errorOf(df, { records }).message).toMatchInlineSnapshot(`
      "frame failed validation with 3 issue(s):
        - [datetime_value_column] value column 'day' is date: time goes in the index; store it as a number or declare it with a record of dtype 'date'
        - [invalid_record_value] column 'bad_id' (declared 'uuid'): 2 value(s) are not UUIDs (rows 0, 2; first: "not-a-uuid")
        - [invalid_record_value] column 'big' (declared 'int16'): 2 value(s) are outside the int16 range [-32768, 32767] (rows 0, 2; first: 40000)"
    `);
  });

  it("check that json values are JSON-serialisable", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic["self"] = cyclic;
    const values: unknown[] = [
      { ok: [1, "two", null, { three: false }] },
      { a: [1, Number.NaN] },
      { b: 1n },
      [() => 1],
      cyclic,
      { when: new Date(0) },
      { u: undefined },
      Infinity,
      new Map(),
    ];
    const frame = Frame.fromColumns(
      { time_index: values.map((_, i) => JAN1 / 1000 + i), meta: values },
      { dtypes: { meta: "json" } },
    );
    const err = errorOf(frame, { records: [{ column_name: "meta", dtype: "json" }] });
    expect(err.issues[0]!.rows).toEqual([1, 2, 3, 4, 5]);
    expect(err.message).toMatchInlineSnapshot(`
      "frame failed validation with 1 issue(s):
        - [invalid_record_value] column 'meta' (declared 'json'): 8 value(s) are not JSON-serialisable (rows 1, 2, 3, 4, 5, ...; first: NaN at $.a[1])"
    `);
    // A value reachable twice without a cycle is fine.
    const shared = { x: 1 };
    const twice = Frame.fromColumns(
      { time_index: [T0], meta: [{ a: shared, b: shared, c: [shared, shared] }] },
      { dtypes: { meta: "json" } },
    );
    expect(codes(twice, { records: [{ column_name: "meta", dtype: "json" }] })).toEqual([]);
  });
});

describe("schema", () => {
  const schema: TableSchema = {
    timeIndexName: "time_index",
    indexNames: ["time_index", "unique_identifier"],
    columnDtypes: {
      time_index: "timestamptz",
      unique_identifier: "string",
      close: "float64",
      volume: "float64",
    },
  };

  it("accepts the same dtypes and new columns", () => {
    const df = good.withColumn("volume", { dtype: "float64", values: new Float64Array(3) });
    expect(codes(df, { schema })).toEqual([]);
  });

  it("refuses a column whose dtype changed since the table was created", () => {
    expect(errorOf(good, { schema }).message).toMatchInlineSnapshot(`
      "frame failed validation with 1 issue(s):
        - [schema_dtype_mismatch] column 'volume' is int64, but the table stores it as float64 (dtypes must stay the same across runs)"
    `);
  });
});

describe("every issue at once", () => {
  it("lists all of them in rule order", () => {
    const column = (values: unknown[]): Column => ({ dtype: "json", values });
    const df = Frame.fromRecords([
      { time_index: T0, unique_identifier: "A", Price: 1, at: new Date(0) },
      { time_index: T0, unique_identifier: "A", Price: 2, at: new Date(0) },
      { time_index: T1, unique_identifier: null, Price: 3, at: new Date(0) },
    ]).withColumn("blob", column([1, { a: Number.NaN }, Number.NaN]));
    const err = errorOf(df, {
      records: [
        { column_name: "blob", dtype: "json" },
        { column_name: "Price", dtype: "int64" },
        { column_name: "gone", dtype: "float64" },
      ],
    });
    expect(err).toBeInstanceOf(FrameValidationError);
    expect(err.code).toBe(err.issues[0]!.code);
    expect(err.message).toMatchInlineSnapshot(`
      "frame failed validation with 7 issue(s):
        - [null_index_value] identity dimension 'unique_identifier': 1 value(s) are null (rows 2)
        - [uppercase_column] column name 'Price' must be a lowercase string (at least one lowercase letter and no uppercase letters)
        - [datetime_value_column] value column 'at' is timestamptz: time goes in the index; store it as a number or declare it with a record of dtype 'timestamp with time zone'
        - [missing_record_column] declared record column(s) missing from the frame: 'gone' (frame columns: time_index, unique_identifier, Price, at, blob)
        - [invalid_record_value] column 'blob' (declared 'json'): 1 value(s) are not JSON-serialisable (rows 1; first: NaN at $.a)
        - [record_dtype_mismatch] column 'Price' is float64, but its record declares dtype 'int64', which needs an int64 column (build it with dtypes: { Price: "int64" })
        - [duplicate_index] 1 row(s) repeat the index key of an earlier row (rows 1); first: row 1 repeats row 0 at (time_index=2024-01-01T00:00:00Z, unique_identifier="A")"
    `);
    expect(() => validateFrame(df)).toThrow(FrameValidationError);
  });
});

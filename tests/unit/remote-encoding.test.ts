import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { Frame } from "../../src/frame/frame.js";
import { toEpochMicros } from "../../src/frame/time.js";
import {
  chunkStats,
  columnDtypesMap,
  decodeGzipBase64Json,
  encodeCell,
  encodeGzipBase64Json,
  exactPageParsing,
  frameToWireRows,
  leafToMicros,
  microsToEpochSeconds,
  microsToRangeSeconds,
  schemaFromStc,
  statisticsFromWire,
  updateStatsPayload,
  wireRowsToFrame,
} from "../../src/store/remote/remote-encoding.js";

const T = (iso: string): number => toEpochMicros(iso);

describe("remote encoding: cells and rows (protocol 2.10, 4.4)", () => {
  it("encodes instants as RFC 3339 Z with a fraction only when non-zero, microseconds kept", () => {
    expect(encodeCell("timestamptz", T("2026-05-01T00:00:00Z"))).toBe("2026-05-01T00:00:00Z");
    expect(encodeCell("timestamptz", T("2026-05-01T12:30:00.000001Z"))).toBe(
      "2026-05-01T12:30:00.000001Z",
    );
    expect(encodeCell("timestamptz", T("2026-05-01T12:30:00.5Z"))).toBe(
      "2026-05-01T12:30:00.500000Z",
    );
    expect(encodeCell("timestamptz", Number.NaN)).toBeNull();
  });

  it("NaN and infinities become null; floats keep full precision (no 10-decimal rounding)", () => {
    expect(encodeCell("float64", Number.NaN)).toBeNull();
    expect(encodeCell("float64", Number.POSITIVE_INFINITY)).toBeNull();
    expect(JSON.stringify(encodeCell("float64", 0.1 + 0.2))).toBe("0.30000000000000004");
    expect(JSON.stringify(encodeCell("float64", 5e-324))).toBe("5e-324");
    expect(encodeCell("float64", 1.23456789012345)).toBe(1.23456789012345);
  });

  it("B28: time index, date and timestamp columns", () => {
    const frame = Frame.fromRecords(
      [
        {
          time_index: "2026-05-01T00:00:00Z",
          event_date: "2026-05-01",
          event_time: "2026-05-01T12:30:00Z",
        },
      ],
      { dtypes: { event_date: "date", event_time: "timestamptz" } },
    );
    const decoded = decodeGzipBase64Json(encodeGzipBase64Json(frameToWireRows(frame)));
    expect(decoded).toEqual([
      {
        time_index: "2026-05-01T00:00:00Z",
        event_date: "2026-05-01",
        event_time: "2026-05-01T12:30:00Z",
      },
    ]);
  });

  it("json values nest, nulls stay null, bools and ints are JSON values", () => {
    const frame = Frame.fromRecords(
      [
        { time_index: "2024-01-01T00:00:00Z", j: { a: [1, "x"] }, b: true, i: 7, s: null },
        { time_index: "2024-01-02T00:00:00Z", j: null, b: null, i: null, s: "v" },
      ],
      { dtypes: { j: "json", b: "bool", i: "int64", s: "string" } },
    );
    expect(frameToWireRows(frame)).toEqual([
      { time_index: "2024-01-01T00:00:00Z", j: { a: [1, "x"] }, b: true, i: 7, s: null },
      { time_index: "2024-01-02T00:00:00Z", j: null, b: null, i: null, s: "v" },
    ]);
    expect(frameToWireRows(frame, 1, 2)).toHaveLength(1);
  });

  it("maps frame dtypes to column_dtypes_map tokens", () => {
    expect(columnDtypesMap({ time_index: "timestamptz", v: "float64", j: "json" })).toEqual({
      time_index: "timestamp with time zone",
      v: "float64",
      j: "json",
    });
  });
});

describe("remote encoding: statistics (protocol 2.10, 2.12)", () => {
  const t0 = "2026-05-01T00:00:00Z";
  const t1 = "2026-05-01T01:00:00Z";
  const t2 = "2026-05-01T02:00:00Z";
  const t3 = "2026-05-01T03:00:00Z";
  const frame = Frame.fromRecords(
    [
      { time_index: t0, account_uid: "account-a", unique_identifier: "asset-1", value: 1 },
      { time_index: t2, account_uid: "account-a", unique_identifier: "asset-1", value: 2 },
      { time_index: t1, account_uid: "account-b", unique_identifier: "asset-1", value: 3 },
      { time_index: t3, account_uid: "account-b", unique_identifier: "asset-2", value: 4 },
    ],
    { indexNames: ["time_index", "account_uid", "unique_identifier"] },
  );

  it("B32: chunk stats", () => {
    expect(chunkStats(frame)).toEqual({
      _GLOBAL_: { max: t3, min: t0 },
      index_progress: {
        "account-a": { "asset-1": t2 },
        "account-b": { "asset-1": t1, "asset-2": t3 },
      },
      index_min: { "account-a": { "asset-1": t0 }, "account-b": { "asset-1": t1, "asset-2": t3 } },
    });
    expect(chunkStats(frame, 0, 0)).toBeNull();
  });

  it("B33: the commit payload carries per-column {min,max} trees", () => {
    const payload = updateStatsPayload(frame);
    expect(Object.keys(payload ?? {})).toEqual(["multi_index_stats", "multi_index_column_stats"]);
    expect(payload?.["multi_index_column_stats"]).toEqual({
      value: {
        "account-a": { "asset-1": { min: t0, max: t2 } },
        "account-b": { "asset-1": { min: t1, max: t1 }, "asset-2": { min: t3, max: t3 } },
      },
    });
    const oneD = Frame.fromRecords([{ time_index: t0, v: 1 }]);
    expect(updateStatsPayload(oneD)).toEqual({
      multi_index_stats: { _GLOBAL_: { max: t0, min: t0 }, index_progress: {}, index_min: {} },
      multi_index_column_stats: { v: {} },
    });
  });

  it("B23/B29: wire statistics become epoch-micros trees; legacy keys ignored", () => {
    const stats = statisticsFromWire({
      multi_index_stats: {
        _GLOBAL_: { min: t0, max: t3 },
        index_progress: { "account-a": { BTC: t2 } },
        index_min: { "account-a": { BTC: t0 } },
        max_per_asset_symbol: { x: 1 },
      },
      multi_index_column_stats: { value: { "account-a": { BTC: { min: t0, max: t2 } } } },
    });
    expect(stats).toEqual({
      globalIndexProgress: { min: T(t0), max: T(t3) },
      indexProgress: { "account-a": { BTC: T(t2) } },
      indexMin: { "account-a": { BTC: T(t0) } },
      multiIndexColumnStats: { value: { "account-a": { BTC: { min: T(t0), max: T(t2) } } } },
      rowCount: null,
    });
    // the flat shape of set_start_of_execution
    const flat = statisticsFromWire({
      must_update: true,
      global_index_progress: { min: t0, max: t3 },
      index_progress: {},
      index_min: {},
      multi_index_column_stats: { v: {} },
    });
    expect(flat.globalIndexProgress).toEqual({ min: T(t0), max: T(t3) });
    expect(flat.indexProgress).toEqual({});
    expect(flat.multiIndexColumnStats).toEqual({ v: {} });
  });

  it("B24: no global block means empty statistics", () => {
    const empty = {
      globalIndexProgress: null,
      indexProgress: null,
      indexMin: null,
      multiIndexColumnStats: null,
      rowCount: null,
    };
    expect(statisticsFromWire({ multi_index_stats: { max_per_asset_symbol: {} } })).toEqual(empty);
    expect(statisticsFromWire({ multi_index_stats: null, multi_index_column_stats: null })).toEqual(
      empty,
    );
    expect(statisticsFromWire(null)).toEqual(empty);
  });

  it("B45: leaves by magnitude and ISO text (naive is UTC)", () => {
    expect(leafToMicros(1777593600)).toBe(T("2026-05-01T00:00:00Z"));
    expect(leafToMicros(1777593600000)).toBe(T("2026-05-01T00:00:00Z"));
    expect(leafToMicros(1777593600000000)).toBe(T("2026-05-01T00:00:00Z"));
    expect(leafToMicros(1777593600000000000)).toBe(T("2026-05-01T00:00:00Z"));
    expect(leafToMicros("2026-05-01 03:00:00+00:00")).toBe(T("2026-05-01T03:00:00Z"));
    expect(leafToMicros("2026-05-01T01:00:00")).toBe(T("2026-05-01T01:00:00Z"));
    expect(leafToMicros("not a date")).toBe("not a date");
  });
});

describe("remote encoding: reads (protocol 2.11, 4.3)", () => {
  it("B19: bounds as epoch seconds, microseconds kept", () => {
    expect(microsToEpochSeconds(T("2026-05-01T00:00:00Z"))).toBe(1777593600);
    expect(JSON.stringify(microsToRangeSeconds(T("2026-05-01T00:00:00Z")))).toBe("1777593600");
    const us = T("2026-05-01T00:00:00.000001Z");
    expect(Math.round(microsToEpochSeconds(us) * 1e6)).toBe(us);
    expect(Math.round(microsToRangeSeconds(us) * 1e6)).toBe(us);
  });

  it("restores dtypes from wire rows, strings to numbers, nulls to NaN/null", () => {
    const frame = wireRowsToFrame(
      [
        {
          time_index: "2026-05-01T03:00:00.000001Z",
          unique_identifier: "BTC",
          value: "101.5",
          n: 3,
          b: "true",
          d: "2024-02-29",
          j: { a: 1 },
          ts: null,
        },
        { time_index: "2026-05-01T04:00:00Z", unique_identifier: "ETH", value: null, n: null },
      ],
      ["time_index", "unique_identifier"],
      { value: "float64", n: "int64", b: "bool", d: "date", j: "json", ts: "timestamptz" },
    );
    expect(frame.dtypes).toEqual({
      time_index: "timestamptz",
      unique_identifier: "string",
      value: "float64",
      n: "int64",
      b: "bool",
      d: "date",
      j: "json",
      ts: "timestamptz",
    });
    expect(frame.toRecords({ time: "micros" })).toEqual([
      {
        time_index: T("2026-05-01T03:00:00.000001Z"),
        unique_identifier: "BTC",
        value: 101.5,
        n: 3,
        b: true,
        d: "2024-02-29",
        j: { a: 1 },
        ts: null,
      },
      {
        time_index: T("2026-05-01T04:00:00Z"),
        unique_identifier: "ETH",
        value: null,
        n: null,
        b: null,
        d: null,
        j: null,
        ts: null,
      },
    ]);
  });

  it("an empty result keeps the index and typed columns; columns project", () => {
    const empty = wireRowsToFrame([], ["time_index", "k"], { v: "int64", w: "string" }, ["w"]);
    expect(empty.length).toBe(0);
    expect(empty.indexNames).toEqual(["time_index", "k"]);
    expect(empty.columnNames).toEqual(["time_index", "k", "w"]);
  });

  it("round trips a frame through the wire rows", () => {
    const frame = Frame.fromRecords(
      [
        { time_index: "1969-12-31T23:59:59.999999Z", f: -0.1, i: Number.MAX_SAFE_INTEGER, s: "é" },
        { time_index: "2200-06-30T12:00:00.000001Z", f: 1e300, i: -1, s: "" },
      ],
      { dtypes: { f: "float64", i: "int64", s: "string" } },
    );
    const rows = JSON.parse(JSON.stringify(frameToWireRows(frame)));
    const back = wireRowsToFrame(rows, frame.indexNames, frame.dtypes);
    expect(back.toRecords({ time: "micros" })).toEqual(frame.toRecords({ time: "micros" }));
  });

  it("reads a source table configuration into a TableSchema", () => {
    expect(
      schemaFromStc({
        time_index_name: "time_index",
        index_names: ["time_index", "account_uid", "unique_identifier"],
        column_dtypes_map: {
          time_index: "timestamp with time zone",
          account_uid: "uuid",
          unique_identifier: "string",
          v: "Float64",
          j: "jsonb",
        },
      }),
    ).toEqual({
      timeIndexName: "time_index",
      indexNames: ["time_index", "account_uid", "unique_identifier"],
      columnDtypes: {
        time_index: "timestamptz",
        account_uid: "string",
        unique_identifier: "string",
        v: "float64",
        j: "json",
      },
    });
    expect(schemaFromStc(null)).toBeNull();
  });
});

describe("remote encoding: exact int64 and float tokens", () => {
  const MAX = 2n ** 63n - 1n;
  const MIN = -(2n ** 63n);
  const text = (data: string): string => gunzipSync(Buffer.from(data, "base64")).toString("utf8");

  it("writes whole floats as 1.0 and int64 bigints as exact integer tokens", () => {
    const frame = Frame.fromRecords(
      [
        { time_index: "2024-01-01T00:00:00Z", f: 1, g: 1.5, n: MAX, i: 3, s: ',"f":5}' },
        { time_index: "2024-01-02T00:00:00Z", f: -0, g: 1e21, n: MIN, i: null, s: "x" },
        { time_index: "2024-01-03T00:00:00Z", f: Number.NaN, g: -2, n: 5, i: -4, s: null },
        { time_index: "2024-01-04T00:00:00Z", f: 0.1, g: 1e-7, n: null, i: 0, s: "" },
      ],
      { dtypes: { f: "float64", g: "float64", n: "int64", i: "int64", s: "string" } },
    );
    const rows = frameToWireRows(frame);
    expect(rows[0]).toEqual({
      time_index: "2024-01-01T00:00:00Z",
      f: 1,
      g: 1.5,
      n: MAX,
      i: 3,
      s: ',"f":5}',
    });
    expect(text(encodeGzipBase64Json(rows))).toBe(
      "[" +
        '{"time_index":"2024-01-01T00:00:00Z","f":1.0,"g":1.5,"n":9223372036854775807,"i":3,"s":",\\"f\\":5}"},' +
        '{"time_index":"2024-01-02T00:00:00Z","f":0.0,"g":1e+21,"n":-9223372036854775808,"i":null,"s":"x"},' +
        '{"time_index":"2024-01-03T00:00:00Z","f":null,"g":-2.0,"n":5,"i":-4,"s":null},' +
        '{"time_index":"2024-01-04T00:00:00Z","f":0.1,"g":1e-7,"n":null,"i":0,"s":""}' +
        "]",
    );
    // A chunk without whole floats is written by JSON.stringify as before.
    expect(text(encodeGzipBase64Json(frameToWireRows(frame, 3, 4)))).toBe(
      '[{"time_index":"2024-01-04T00:00:00Z","f":0.1,"g":1e-7,"n":null,"i":0,"s":""}]',
    );
    expect(decodeGzipBase64Json(encodeGzipBase64Json(rows))).toMatchObject([
      { n: MAX },
      { n: MIN },
      { n: 5 },
      { n: null },
    ]);
  });

  it("nested json values are written as they are, even under a float column's name", () => {
    const frame = Frame.fromRecords(
      [{ time_index: "2024-01-01T00:00:00Z", f: 2, j: { a: 1, f: 2, n: [3] } }],
      { dtypes: { f: "float64", j: "json" } },
    );
    expect(text(encodeGzipBase64Json(frameToWireRows(frame)))).toBe(
      '[{"time_index":"2024-01-01T00:00:00Z","f":2.0,"j":{"a":1,"f":2,"n":[3]}}]',
    );
  });

  it("chunk statistics key bigint coordinates by their exact digits", () => {
    const frame = Frame.fromRecords(
      [
        { time_index: "2024-01-01T00:00:00Z", k: MAX, v: 1 },
        { time_index: "2024-01-02T00:00:00Z", k: 1, v: 2 },
      ],
      { indexNames: ["time_index", "k"], dtypes: { k: "int64" } },
    );
    expect(chunkStats(frame)?.["index_progress"]).toEqual({
      "9223372036854775807": "2024-01-01T00:00:00Z",
      "1": "2024-01-02T00:00:00Z",
    });
  });

  it("restores int64 cells exactly from bigints, numbers and integer text", () => {
    const frame = wireRowsToFrame(
      [
        { time_index: "2024-01-01T00:00:00Z", n: MAX, f: 2n ** 60n, s: MIN },
        { time_index: "2024-01-02T00:00:00Z", n: "-9223372036854775808", f: 1, s: "x" },
        { time_index: "2024-01-03T00:00:00Z", n: 2n ** 63n, f: null, s: null },
        { time_index: "2024-01-04T00:00:00Z", n: -0, f: null, s: null },
        { time_index: "2024-01-05T00:00:00Z", n: 7.9, f: null, s: null },
        { time_index: "2024-01-06T00:00:00Z", n: "12345678901234567890", f: null, s: null },
      ],
      ["time_index"],
      { n: "int64", f: "float64", s: "string" },
    );
    const n = frame.column("n");
    expect(n).toEqual([MAX, MIN, null, 0, 7, null]);
    expect(Object.is(n[3], 0)).toBe(true);
    expect((frame.column("f") as Float64Array)[0]).toBe(2 ** 60);
    expect(frame.column("s")).toEqual(["-9223372036854775808", "x", null, null, null, null]);
  });

  it("parses data pages exactly only when the table has an int64 column", () => {
    expect(exactPageParsing({ time_index: "timestamptz", f: "float64" }, "results")).toEqual({});
    const { parseJson } = exactPageParsing({ time_index: "timestamptz", n: "int64" }, "results");
    expect(
      parseJson?.(
        '{"results": [{"time_index": "2024-01-01T00:00:00Z", "n": 9223372036854775807}], "next_offset": null}',
      ),
    ).toEqual({ results: [{ time_index: "2024-01-01T00:00:00Z", n: MAX }], next_offset: null });
    const list = exactPageParsing({ n: "int64" }).parseJson;
    expect(list?.('[{"n": -9223372036854775808}, {"n": 1}]')).toEqual([{ n: MIN }, { n: 1 }]);
    const any = exactPageParsing("any", "results").parseJson;
    expect(any?.('{"results": [{"x__n": 9007199254740993}]}')).toEqual({
      results: [{ x__n: 2n ** 53n + 1n }],
    });
  });
});

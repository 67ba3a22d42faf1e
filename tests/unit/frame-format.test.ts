import { describe, expect, it } from "vitest";
import { Frame } from "../../src/frame/frame.js";
import { formatFrameHtml, formatFrameText } from "../../src/frame/frame-format.js";

const JAN1 = Date.UTC(2024, 0, 1);
const DAY_MS = 86_400_000;

const assets = Frame.fromRecords([
  {
    time_index: "2024-01-01T00:00:00Z",
    unique_identifier: "AAPL",
    close: 185.2,
    volume: 1_000n,
    name: "Apple <Inc> & a name that is far too long to show",
    ok: true,
    meta: { sector: "tech" },
  },
  {
    time_index: "2024-01-01T00:00:00.000001Z",
    unique_identifier: "MSFT",
    close: 370.912345,
    volume: null,
    name: null,
    ok: null,
    meta: null,
  },
  {
    time_index: "2024-01-02T00:00:00Z",
    unique_identifier: "AAPL",
    close: Number.NaN,
    volume: -5n,
    name: "two\nlines",
    ok: false,
    meta: [1, 2],
  },
]);

describe("toString", () => {
  it("aligns numbers, separates the index, elides long text and shows the shape", () => {
    expect(assets.toString()).toMatchInlineSnapshot(`
      "time_index                   unique_identifier |   close  volume  name                            ok     meta
      timestamptz                  string            | float64   int64  string                          bool   json
      2024-01-01T00:00:00Z         AAPL              | 185.200    1000  Apple <Inc> & a name that i...  true   {"sector":"tech"}
      2024-01-01T00:00:00.000001Z  MSFT              | 370.912    null  null                            null   null
      2024-01-02T00:00:00Z         AAPL              |     NaN      -5  two\\nlines                      false  [1,2]
      [3 rows x 5 value columns; index: time_index, unique_identifier]"
    `);
  });

  it("elides the middle rows past maxRows", () => {
    const df = Frame.fromColumns({
      time_index: Array.from({ length: 10 }, (_, i) => new Date(JAN1 + i * DAY_MS)),
      x: Array.from({ length: 10 }, (_, i) => i * 1.25),
    });
    expect(df.toString(4)).toMatchInlineSnapshot(`
      "time_index           |       x
      timestamptz          | float64
      2024-01-01T00:00:00Z |    0.00
      2024-01-02T00:00:00Z |    1.25
      ...                  |     ...
      2024-01-09T00:00:00Z |   10.00
      2024-01-10T00:00:00Z |   11.25
      [10 rows x 1 value column; index: time_index]"
    `);
    expect(formatFrameText(df, 3).split("\n")).toHaveLength(3 + 1 + 2 + 1);
  });

  it("formats float columns with a common precision, like pandas", () => {
    const df = Frame.fromColumns({
      time_index: [0, 1, 2, 3].map((i) => JAN1 + i * DAY_MS),
      ints: [1, 2, 3, -4],
      mixed: [0.5, 1234.56789, -0.123456789, Infinity],
      big: [1.5e20, 1, 2.25, -Infinity],
      tiny: [1e-7, 0.5, 0, Number.NaN],
    });
    expect(df.toString()).toMatchInlineSnapshot(`
      "time_index           |    ints        mixed          big         tiny
      timestamptz          | float64      float64      float64      float64
      2024-01-01T00:00:00Z |     1.0     0.500000  1.50000e+20  1.00000e-07
      2024-01-02T00:00:00Z |     2.0  1234.567890  1.00000e+00  5.00000e-01
      2024-01-03T00:00:00Z |     3.0    -0.123457  2.25000e+00  0.00000e+00
      2024-01-04T00:00:00Z |    -4.0          inf         -inf          NaN
      [4 rows x 4 value columns; index: time_index]"
    `);
  });

  it("shows an empty frame", () => {
    expect(Frame.empty(["time_index", "unique_identifier"]).toString()).toMatchInlineSnapshot(`
      "time_index   unique_identifier
      timestamptz  string
      [0 rows x 0 value columns; index: time_index, unique_identifier]"
    `);
  });
});

describe("HTML", () => {
  it("escapes text, uses index values as row headers and right-aligns numbers", () => {
    expect(formatFrameHtml(assets.head(2))).toMatchInlineSnapshot(`
      "<table class="tdag-frame">
      <thead>
      <tr><th scope="col">time_index</th><th scope="col">unique_identifier</th><th scope="col" style="text-align: right">close</th><th scope="col" style="text-align: right">volume</th><th scope="col">name</th><th scope="col">ok</th><th scope="col">meta</th></tr>
      <tr class="tdag-dtypes"><th scope="col">timestamptz</th><th scope="col">string</th><th scope="col" style="text-align: right">float64</th><th scope="col" style="text-align: right">int64</th><th scope="col">string</th><th scope="col">bool</th><th scope="col">json</th></tr>
      </thead>
      <tbody>
      <tr><th scope="row">2024-01-01T00:00:00Z</th><th scope="row">AAPL</th><td style="text-align: right">185.200</td><td style="text-align: right">1000</td><td>Apple &lt;Inc&gt; &amp; a name that is far too long to show</td><td>true</td><td>{&quot;sector&quot;:&quot;tech&quot;}</td></tr>
      <tr><th scope="row">2024-01-01T00:00:00.000001Z</th><th scope="row">MSFT</th><td style="text-align: right">370.912</td><td style="text-align: right">null</td><td>null</td><td>null</td><td>null</td></tr>
      </tbody>
      </table>
      <p>2 rows &times; 5 value columns; index: time_index, unique_identifier</p>"
    `);
  });

  it("is what notebooks display", () => {
    const displayable = assets as unknown as Record<symbol, () => Record<string, string>>;
    const display = displayable[Symbol.for("Jupyter.display")]!();
    expect(display["text/html"]).toBe(formatFrameHtml(assets));
    expect(display["text/plain"]).toBe(assets.toString());
    expect(assets.toHtml(2)).toBe(formatFrameHtml(assets, 2));
  });

  it("elides rows", () => {
    const df = Frame.fromColumns({
      time_index: Array.from({ length: 5 }, (_, i) => new Date(JAN1 + i * DAY_MS)),
    });
    expect(formatFrameHtml(df, 2)).toMatchInlineSnapshot(`
      "<table class="tdag-frame">
      <thead>
      <tr><th scope="col">time_index</th></tr>
      <tr class="tdag-dtypes"><th scope="col">timestamptz</th></tr>
      </thead>
      <tbody>
      <tr><th scope="row">2024-01-01T00:00:00Z</th></tr>
      <tr><th scope="row">...</th></tr>
      <tr><th scope="row">2024-01-05T00:00:00Z</th></tr>
      </tbody>
      </table>
      <p>5 rows &times; 0 value columns; index: time_index</p>"
    `);
  });
});

describe("int64 cells beyond ±(2^53 - 1)", () => {
  it("prints bigints as the numbers they are, right-aligned, without the n", () => {
    const df = Frame.fromRecords(
      [
        { time_index: "2024-01-01T00:00:00Z", id: 2n ** 63n - 1n, j: { big: 2n ** 64n } },
        { time_index: "2024-01-02T00:00:00Z", id: 7, j: null },
        { time_index: "2024-01-03T00:00:00Z", id: null, j: null },
      ],
      { dtypes: { id: "int64", j: "json" } },
    );
    expect(df.toString()).toMatchInlineSnapshot(`
      "time_index           |                  id  j
      timestamptz          |               int64  json
      2024-01-01T00:00:00Z | 9223372036854775807  {"big":18446744073709551616}
      2024-01-02T00:00:00Z |                   7  null
      2024-01-03T00:00:00Z |                null  null
      [3 rows x 2 value columns; index: time_index]"
    `);
    expect(df.toHtml()).toContain('<td style="text-align: right">9223372036854775807</td>');
  });
});

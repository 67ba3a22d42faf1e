import type { Column, DType } from "./dtypes.js";
import { stringifyJson } from "./exact-json.js";
import { microsToIso } from "./time.js";

/**
 * What formatting reads of a frame. A structural view, so this module does not import the
 * `Frame` class that uses it (no module cycle).
 */
export interface FrameView {
  readonly length: number;
  readonly indexNames: readonly string[];
  readonly columnNames: readonly string[];
  readonly valueColumns: readonly string[];
  getColumn(name: string): Column;
  cell(name: string, row: number): unknown;
}

/** Cells longer than this many characters are cut and end with `...` in the text table. */
const TEXT_CELL_WIDTH = 30;
/** The same for HTML cells, which wrap. */
const HTML_CELL_WIDTH = 100;
/** Significant digits of float cells, as pandas' default display. */
const FLOAT_DIGITS = 6;

/** The row positions shown for `maxRows`; `-1` marks the elided middle. */
function shownRows(length: number, maxRows: number): number[] {
  if (length <= maxRows) return Array.from({ length }, (_, i) => i);
  const top = Math.max(0, Math.floor(maxRows / 2));
  const bottom = Math.max(0, maxRows - top);
  return [
    ...Array.from({ length: top }, (_, i) => i),
    -1,
    ...Array.from({ length: bottom }, (_, i) => length - bottom + i),
  ];
}

/** Cuts text longer than `width` characters, ending it with `...`. */
function elide(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 3).join("")}...`;
}

/** Keeps a cell on one line: control characters are shown escaped. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the target
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    const escaped = JSON.stringify(c);
    return escaped.slice(1, -1);
  });
}

/** A json cell as JSON text; bigints inside are written as plain integers, as the wire does. */
function jsonText(value: unknown): string {
  try {
    return stringifyJson(value);
  } catch {
    return String(value);
  }
}

/** `1.5e+20` → `1.500000e+20`-style pandas exponent: at least two exponent digits. */
function exponential(value: number, digits: number): string {
  return value.toExponential(digits).replace(/e([+-])(\d)$/, "e$10$2");
}

/**
 * Formats the shown values of a float64 column as pandas does: every value of the column with
 * the same number of decimals (6 significant digits, at least one decimal), or all in scientific
 * notation when a value is too large or too small for that.
 */
function formatFloats(values: readonly number[]): string[] {
  const finite = values.filter((v) => Number.isFinite(v));
  const scientific = finite.some((v) => {
    const abs = Math.abs(v);
    if (abs === 0) return false;
    if (Number.isInteger(v)) return abs >= 1e15;
    return abs >= 1e6 || abs < 1e-4;
  });
  let decimals = 1;
  if (!scientific) {
    for (const v of finite) {
      const text = String(Number(v.toPrecision(FLOAT_DIGITS)));
      const dot = text.indexOf(".");
      if (dot >= 0) decimals = Math.max(decimals, text.length - dot - 1);
    }
  }
  return values.map((v) => {
    if (Number.isNaN(v)) return "NaN";
    if (v === Infinity) return "inf";
    if (v === -Infinity) return "-inf";
    return scientific ? exponential(v, FLOAT_DIGITS - 1) : v.toFixed(decimals);
  });
}

interface FormattedColumn {
  readonly name: string;
  readonly dtype: DType;
  readonly index: boolean;
  readonly numeric: boolean;
  /** One cell per shown row (`...` for the elided row). */
  readonly cells: readonly string[];
}

function formatColumn(
  frame: FrameView,
  name: string,
  rows: readonly number[],
  width: number,
  index: boolean,
): FormattedColumn {
  const column = frame.getColumn(name);
  const dtype = column.dtype;
  const present = rows.filter((r) => r >= 0);
  let texts: string[];
  if (column.dtype === "float64") {
    // Raw values here, not cell(): infinities stay visible until validation replaces them.
    texts = formatFloats(present.map((r) => column.values[r]!));
  } else {
    texts = present.map((r) => {
      const v = frame.cell(name, r);
      if (v === null) return "null";
      if (dtype === "timestamptz") return microsToIso(v as number);
      if (typeof v === "string") return elide(oneLine(v), width);
      // An int64 cell beyond ±(2^53 - 1) is a bigint: shown as the number it is, without `n`.
      if (typeof v === "bigint") return String(v);
      if (typeof v === "object") return elide(oneLine(jsonText(v)), width);
      return String(v);
    });
  }
  let next = 0;
  const cells = rows.map((r) => (r < 0 ? "..." : texts[next++]!));
  return { name, dtype, index, numeric: dtype === "float64" || dtype === "int64", cells };
}

function formatColumns(frame: FrameView, maxRows: number, width: number) {
  const rows = shownRows(frame.length, maxRows);
  const index = new Set(frame.indexNames);
  const columns = frame.columnNames.map((name) =>
    formatColumn(frame, name, rows, width, index.has(name)),
  );
  return { rows, columns };
}

function shapeText(frame: FrameView): string {
  const values = frame.valueColumns.length;
  return `${frame.length} rows x ${values} value column${values === 1 ? "" : "s"}; index: ${frame.indexNames.join(", ")}`;
}

/**
 * A fixed-width text table of a frame: the header with each column's dtype under its name, the
 * index columns on the left of a `|`, numbers right-aligned (floats with a common number of
 * decimals, 6 significant digits), long text cut with `...`, the middle rows elided past
 * `maxRows`, and a shape line.
 *
 * @example
 * ```ts
 * console.log(formatFrameText(df));
 * // time_index            unique_identifier |   close
 * // timestamptz           string            | float64
 * // 2024-01-01T00:00:00Z  AAPL              |   185.2
 * // [1 rows x 1 value column; index: time_index, unique_identifier]
 * ```
 */
export function formatFrameText(frame: FrameView, maxRows = 20): string {
  const { rows, columns } = formatColumns(frame, maxRows, TEXT_CELL_WIDTH);
  const widths = columns.map((c) =>
    Math.max([...c.name].length, c.dtype.length, ...c.cells.map((s) => [...s].length)),
  );
  const pad = (text: string, c: number) => {
    const fill = " ".repeat(Math.max(0, widths[c]! - [...text].length));
    return columns[c]!.numeric ? fill + text : text + fill;
  };
  const split = frame.indexNames.length;
  const line = (cells: readonly string[]) => {
    const left = cells.slice(0, split).map((s, c) => pad(s, c));
    const right = cells.slice(split).map((s, c) => pad(s, c + split));
    const text = right.length > 0 ? `${left.join("  ")} | ${right.join("  ")}` : left.join("  ");
    return text.trimEnd();
  };
  const out = [line(columns.map((c) => c.name)), line(columns.map((c) => c.dtype))];
  rows.forEach((_, r) => {
    out.push(line(columns.map((c) => c.cells[r]!)));
  });
  out.push(`[${shapeText(frame)}]`);
  return out.join("\n");
}

function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/**
 * An HTML table of a frame for notebooks: the column names and dtypes as header rows, index
 * values as row headers (`<th scope="row">`), numbers right-aligned, every text escaped, the
 * middle rows elided past `maxRows`, and a shape line.
 *
 * @example
 * ```ts
 * const html = formatFrameHtml(df); // '<table class="tdag-frame">...'
 * ```
 */
export function formatFrameHtml(frame: FrameView, maxRows = 50): string {
  const { rows, columns } = formatColumns(frame, maxRows, HTML_CELL_WIDTH);
  const right = ' style="text-align: right"';
  const header = (text: (c: FormattedColumn) => string) =>
    columns
      .map((c) => `<th scope="col"${c.numeric ? right : ""}>${escapeHtml(text(c))}</th>`)
      .join("");
  const body = rows
    .map((_, r) => {
      const cells = columns
        .map((c) => {
          const text = escapeHtml(c.cells[r]!);
          const align = c.numeric ? right : "";
          return c.index ? `<th scope="row"${align}>${text}</th>` : `<td${align}>${text}</td>`;
        })
        .join("");
      return `<tr>${cells}</tr>`;
    })
    .join("\n");
  return [
    '<table class="tdag-frame">',
    "<thead>",
    `<tr>${header((c) => c.name)}</tr>`,
    `<tr class="tdag-dtypes">${header((c) => c.dtype)}</tr>`,
    "</thead>",
    `<tbody>${body === "" ? "" : `\n${body}\n`}</tbody>`,
    "</table>",
    `<p>${escapeHtml(shapeText(frame)).replace(" x ", " &times; ")}</p>`,
  ].join("\n");
}

/** Text tables and JSON output of the `tdag` command line. */

/** One column of a text table. */
export interface TableColumn {
  readonly header: string;
  /** Numbers read best right-aligned (default left). */
  readonly align?: "left" | "right";
  /** Cells longer than this are cut and end with `...` (default: never cut). */
  readonly maxWidth?: number;
}

/** Display width of a text (code points; good enough for the ASCII and Latin text tdag shows). */
function width(text: string): number {
  return [...text].length;
}

/** Cuts `text` to `max` characters, ending it with `...`. */
export function elide(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return max <= 3 ? chars.slice(0, max).join("") : `${chars.slice(0, max - 3).join("")}...`;
}

/** Keeps a cell on one line: newlines and other control characters are shown escaped. */
function singleLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the target
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/**
 * A fixed-width table: a header, a dashed rule, one line per row, columns two spaces apart,
 * trailing spaces trimmed.
 *
 * @example
 * ```ts
 * renderTable([{ header: "NODE" }, { header: "ROWS", align: "right" }], [["Prices", "12"]]);
 * // NODE    ROWS
 * // ------  ----
 * // Prices    12
 * ```
 */
export function renderTable(
  columns: readonly TableColumn[],
  rows: readonly (readonly string[])[],
): string {
  const cells = rows.map((row) =>
    columns.map((col, c) => {
      const text = singleLine(row[c] ?? "");
      return col.maxWidth === undefined ? text : elide(text, col.maxWidth);
    }),
  );
  const widths = columns.map((col, c) =>
    Math.max(width(col.header), ...cells.map((row) => width(row[c] ?? ""))),
  );
  const pad = (text: string, c: number) => {
    const fill = " ".repeat(Math.max(0, widths[c]! - width(text)));
    return columns[c]!.align === "right" ? fill + text : text + fill;
  };
  const line = (row: readonly string[]) =>
    row
      .map((text, c) => pad(text, c))
      .join("  ")
      .trimEnd();
  const out = [line(columns.map((c) => c.header)), line(widths.map((w) => "-".repeat(w)))];
  for (const row of cells) out.push(line(row));
  return out.join("\n");
}

/** An instant as RFC 3339 UTC text, without milliseconds when they are zero. */
export function formatInstant(date: Date | null | undefined): string {
  if (!date || Number.isNaN(date.getTime())) return "-";
  const iso = date.toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}

/** A count with thousands separators (`12,345`). */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "-";
  return Math.round(n).toLocaleString("en-US");
}

/** Milliseconds as `850ms` / `1.2s` / `3m04s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes}m${String(seconds).padStart(2, "0")}s`;
}

/** A score with 4 decimals (`0.8123`), or `-`. */
export function formatScore(score: number | null | undefined): string {
  return typeof score === "number" && Number.isFinite(score) ? score.toFixed(4) : "-";
}

/**
 * JSON for machines: instants as ISO text, bigints as decimal strings, `NaN`/infinities as
 * `null`, two-space indentation, a final newline.
 */
export function toJson(value: unknown): string {
  return `${JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === "bigint") return v.toString();
      if (typeof v === "number" && !Number.isFinite(v)) return null;
      if (v instanceof Map) return Object.fromEntries(v);
      if (v instanceof Set) return [...v];
      return v;
    },
    2,
  )}\n`;
}

/** Where command output goes; tests and `main()` pass real streams. */
export interface Output {
  /** Writes to stdout (results only: tables or JSON). */
  out(text: string): void;
  /** Writes to stderr (messages for people: notes, warnings, errors). */
  err(text: string): void;
}

/** Writes `text` plus a newline to stdout. */
export function println(output: Output, text = ""): void {
  output.out(`${text}\n`);
}

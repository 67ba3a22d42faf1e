import type { Frame } from "./frame.js";
import { microsToIso } from "./time.js";

function cellText(frame: Frame, name: string, row: number): string {
  const v = frame.cell(name, row);
  if (v === null) return "null";
  if (frame.dtypes[name] === "timestamptz") return microsToIso(v as number);
  if (typeof v === "string") return v;
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function shownRows(frame: Frame, maxRows: number): number[] {
  if (frame.length <= maxRows) return Array.from({ length: frame.length }, (_, i) => i);
  const half = Math.floor(maxRows / 2);
  const top = Array.from({ length: half }, (_, i) => i);
  const bottom = Array.from({ length: maxRows - half }, (_, i) => frame.length - (maxRows - half) + i);
  return [...top, -1, ...bottom];
}

/** A fixed-width text table of a frame: header, dtypes, rows (elided in the middle). */
export function formatFrameText(frame: Frame, maxRows = 20): string {
  const names = frame.columnNames;
  const rows = shownRows(frame, maxRows);
  const grid = rows.map((r) => names.map((n) => (r < 0 ? "..." : cellText(frame, n, r))));
  const header = names.map((n) => n);
  const types = names.map((n) => frame.dtypes[n]!);
  const widths = names.map((_, c) =>
    Math.max(header[c]!.length, types[c]!.length, ...grid.map((g) => g[c]!.length)),
  );
  const line = (cells: readonly string[]) => cells.map((s, c) => s.padEnd(widths[c]!)).join("  ");
  const out = [line(header), line(types), ...grid.map(line)];
  out.push(`[${frame.length} rows x ${names.length} columns; index: ${frame.indexNames.join(", ")}]`);
  return out.join("\n");
}

function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** An HTML table of a frame, index columns as row headers. */
export function formatFrameHtml(frame: Frame, maxRows = 50): string {
  const names = frame.columnNames;
  const index = new Set(frame.indexNames);
  const head = names.map((n) => `<th>${escapeHtml(n)}</th>`).join("");
  const body = shownRows(frame, maxRows)
    .map((r) => {
      const cells = names
        .map((n) => {
          const tag = index.has(n) ? "th" : "td";
          return `<${tag}>${r < 0 ? "&hellip;" : escapeHtml(cellText(frame, n, r))}</${tag}>`;
        })
        .join("");
      return `<tr>${cells}</tr>`;
    })
    .join("");
  return `<table class="tdag-frame"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table><p>${frame.length} rows &times; ${names.length} columns</p>`;
}

import { isPydanticWrapper, stripHashExclusions } from "../hashing/configuration-hash.js";
import { isPyDict, type PyValue } from "../hashing/py-value.js";

/** What the search text of one table is made of. */
export interface SearchDocumentInput {
  readonly identifier: string | null;
  readonly description: string | null;
  readonly dataFrequencyId: string | null;
  readonly sourceClassName: string;
  /** The storage's serialized build configuration (plain JSON). */
  readonly buildConfiguration: unknown;
  /** Published column metadata, in order. */
  readonly columns: readonly {
    readonly columnName: string;
    readonly label: string;
    readonly description: string;
  }[];
  /** The table's physical columns (index first); those without metadata are listed by name. */
  readonly schemaColumns: readonly string[];
}

/** Keys of the build configuration that say how it was hashed, not what the table holds. */
const BOOKKEEPING_KEYS = new Set([
  "time_series_class_import_path",
  "pydantic_model_import_path",
  "hash_namespace",
  "is_time_series_config",
]);

/** The configuration part of a document is capped so a huge config cannot drown the rest. */
const MAX_CONFIG_TEXT = 2000;

/**
 * The one search document of a table: identifier, description, data frequency, node class,
 * every column (name, label, description) and the configuration fields that enter the storage
 * hash, one section per line.
 *
 * @example
 * ```ts
 * buildSearchDocument({ identifier: "us_close", description: "daily close prices",
 *   dataFrequencyId: "1d", sourceClassName: "Prices", buildConfiguration: {},
 *   columns: [{ columnName: "close", label: "Close", description: "closing price" }],
 *   schemaColumns: [] });
 * // "identifier: us_close\ndescription: daily close prices\nfrequency: 1d\nclass: Prices\ncolumns: close (Close) closing price"
 * ```
 */
export function buildSearchDocument(input: SearchDocumentInput): string {
  const lines: string[] = [];
  if (input.identifier) lines.push(`identifier: ${input.identifier}`);
  if (input.description) lines.push(`description: ${input.description}`);
  if (input.dataFrequencyId) lines.push(`frequency: ${input.dataFrequencyId}`);
  lines.push(`class: ${input.sourceClassName}`);
  const described = new Set(input.columns.map((c) => c.columnName));
  const columns = input.columns.map((c) => {
    const label = c.label && c.label !== c.columnName ? ` (${c.label})` : "";
    return `${c.columnName}${label}${c.description ? ` ${c.description}` : ""}`;
  });
  for (const name of input.schemaColumns) if (!described.has(name)) columns.push(name);
  if (columns.length > 0) lines.push(`columns: ${columns.join("; ")}`);
  const config = configSearchText(input.buildConfiguration);
  if (config) lines.push(`config: ${config}`);
  return lines.join("\n");
}

/**
 * The searchable text of a build configuration: `key: value` for every scalar field that enters
 * the storage hash (runtime-only and update-only fields are stripped as for hashing, and so are
 * the import paths and the namespace), separated by `; `.
 *
 * @example
 * ```ts
 * configSearchText({ series: "us equities", window: 20 }); // "series: us equities; window: 20"
 * ```
 */
export function configSearchText(buildConfiguration: unknown): string {
  if (!isPyDict(buildConfiguration)) return "";
  let stripped: PyValue;
  try {
    stripped = stripHashExclusions(buildConfiguration as PyValue, true);
  } catch {
    stripped = buildConfiguration as PyValue;
  }
  const parts: string[] = [];
  let length = 0;
  const visit = (key: string, value: PyValue): void => {
    if (length > MAX_CONFIG_TEXT) return;
    if (value === null) return;
    if (Array.isArray(value)) {
      for (const item of value as readonly PyValue[]) visit(key, item);
      return;
    }
    if (isPyDict(value)) {
      const inner = isPydanticWrapper(value) ? (value["serialized_model"] ?? null) : value;
      if (!isPyDict(inner)) return;
      for (const [k, v] of Object.entries(inner)) if (!BOOKKEEPING_KEYS.has(k)) visit(k, v);
      return;
    }
    const text = typeof value === "object" ? JSON.stringify(value) : String(value);
    const part = key ? `${key}: ${text}` : text;
    parts.push(part);
    length += part.length + 2;
  };
  visit("", stripped);
  return parts.join("; ").slice(0, MAX_CONFIG_TEXT);
}

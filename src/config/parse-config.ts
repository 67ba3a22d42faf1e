import type * as z from "zod";
import { ConfigError, type ConfigIssue } from "../errors.js";

/** Formats a zod issue path the pydantic way: `records.0.column_name` (`<root>` when empty). */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "<root>" : path.map((p) => String(p)).join(".");
}

/**
 * Flattens zod issues into {@link ConfigIssue}s naming each offending field by its dotted path;
 * an unknown key yields one issue per key (`shard_idd: unknown key`).
 */
export function toConfigIssues(issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({ path: formatIssuePath([...issue.path, key]), message: "unknown key" });
      }
    } else {
      out.push({ path: formatIssuePath(issue.path), message: issue.message });
    }
  }
  return out;
}

/**
 * Validates `input` with a config schema. Throws a {@link ConfigError} listing every offending
 * field (unknown keys, wrong types, failed checks) before any I/O happens.
 *
 * @example
 * ```ts
 * parseConfig(DataNodeConfiguration, { open_to_publik: true }, "PricesNode");
 * // ConfigError: Invalid configuration for PricesNode: open_to_publik: unknown key
 * ```
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  input: unknown,
  owner: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = toConfigIssues(result.error.issues);
  const listed = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
  throw new ConfigError("config_invalid", `Invalid configuration for ${owner}: ${listed}`, {
    issues: issues,
  });
}

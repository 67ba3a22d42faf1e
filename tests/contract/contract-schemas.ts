import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

/**
 * The platform contract (tests/fixtures/platform-contract, copied from the shared spec): the JSON
 * Schemas of every answer the real Python client (mainsequence 4.0.16) validates, and the route
 * table saying which answer of which route is parsed with which model, in which form.
 */
export const CONTRACT_DIR = join(import.meta.dirname, "..", "fixtures", "platform-contract");
const SCHEMA_DIR = join(CONTRACT_DIR, "response-schemas");

/** One row of `routes.json`. */
export interface ContractRoute {
  readonly method: string;
  readonly path: string;
  readonly ok_status: string;
  readonly parse: "one" | "merge" | "items" | "env" | "search" | "rows" | "raw" | "ignored";
  readonly models: readonly string[];
  readonly kind: string;
  readonly observed: boolean;
}

export const ROUTES: readonly ContractRoute[] = JSON.parse(
  readFileSync(join(SCHEMA_DIR, "routes.json"), "utf8"),
);

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
const validators = new Map<string, ValidateFunction>();
for (const file of readdirSync(SCHEMA_DIR)) {
  if (!file.endsWith(".schema.json")) continue;
  const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, file), "utf8")) as object;
  validators.set(file.replace(".schema.json", ""), ajv.compile(schema));
}

/** The model names with a schema. */
export const MODELS: readonly string[] = [...validators.keys()].sort();

/** Violations of `value` against a model's schema, as `path: message` lines. */
export function validateModel(model: string, value: unknown, at = ""): string[] {
  const validate = validators.get(model);
  if (!validate) return [`${at || "(root)"}: no schema for model ${model}`];
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => {
    const extra =
      e.keyword === "additionalProperties"
        ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'`
        : "";
    return `${at}${e.instancePath || "/"}: ${model} ${e.message ?? e.keyword}${extra}`;
  });
}

function templateRegex(path: string): RegExp {
  const escaped = path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+");
  return new RegExp(`^${escaped}$`);
}

const MATCHERS = ROUTES.map((route) => ({ route, regex: templateRegex(route.path) }));

/** The contract route of a request (literal routes win over templated ones), or undefined. */
export function routeOf(method: string, path: string): ContractRoute | undefined {
  const found = MATCHERS.filter(
    (m) => m.route.method === method.toUpperCase() && m.regex.test(path),
  );
  found.sort((a, b) => (a.route.path.includes("{") ? 1 : 0) - (b.route.path.includes("{") ? 1 : 0));
  return found[0]?.route;
}

/** Whether a status is one the route's `ok_status` accepts (`200/201`, `2xx`, `201 only`, ...). */
export function statusAccepted(route: ContractRoute, status: number): boolean {
  const text = route.ok_status;
  const head = text.split("(")[0]!.split(";")[0]!;
  if (/not checked/.test(text)) return status >= 200 && status < 300;
  const accepted = new Set<number>();
  let any2xx = false;
  for (const token of head.match(/\d{3}|2xx/g) ?? []) {
    if (token === "2xx") any2xx = true;
    else accepted.add(Number(token));
  }
  if (any2xx && status >= 200 && status < 300) return true;
  return accepted.has(status);
}

function itemsOf(body: unknown, allowObject: boolean): unknown[] | string {
  if (Array.isArray(body)) return body;
  if (body !== null && typeof body === "object") {
    const page = body as Record<string, unknown>;
    if (Array.isArray(page["results"]) && "count" in page) return page["results"];
    if (allowObject) return [body];
  }
  return `expected a list${allowObject ? ", a DRF page or an object" : " or a DRF page"}`;
}

/**
 * Every way an answer breaks the contract: an unexpected status, a wrong form (object, list,
 * DRF page), or a model violation (unknown keys included: the client forbids them). `[]` when
 * the answer is one the real client accepts.
 */
export function checkAnswer(method: string, path: string, status: number, body: unknown): string[] {
  const route = routeOf(method, path);
  if (!route) return [`${method} ${path}: not a contract route`];
  const where = `${method} ${route.path}`;
  if (!statusAccepted(route, status))
    return [`${where}: status ${status} (accepts ${route.ok_status})`];
  const [model] = route.models;
  const out: string[] = [];
  switch (route.parse) {
    case "ignored":
      return [];
    case "raw":
      if (
        route.kind.startsWith("object") &&
        body !== undefined &&
        (typeof body !== "object" || Array.isArray(body))
      ) {
        return [`${where}: expected an object`];
      }
      if (route.kind === "list" && !Array.isArray(body)) return [`${where}: expected a list`];
      if (model) out.push(...validateModel(model, body, `${where} `));
      return out;
    case "one":
    case "merge":
    case "env":
      for (const m of route.models.slice(0, 1)) out.push(...validateModel(m, body, `${where} `));
      out.push(...envelopeParts(route, body, where));
      return out;
    case "items":
    case "search": {
      const items = itemsOf(body, route.parse === "search");
      if (typeof items === "string") return [`${where}: ${items}`];
      items.forEach((item, i) => {
        out.push(...validateModel(model!, item, `${where} [${i}]`));
      });
      return out;
    }
    case "rows": {
      if (!Array.isArray(body)) return [`${where}: expected a list`];
      if (model) {
        for (const [i, row] of body.entries()) {
          out.push(...validateModel(model, row, `${where} [${i}]`));
        }
      }
      return out;
    }
  }
}

/** The parts of envelopes the client parses with models of their own. */
function envelopeParts(route: ContractRoute, body: unknown, where: string): string[] {
  if (body === null || typeof body !== "object") return [];
  const b = body as Record<string, unknown>;
  const out: string[] = [];
  if (route.models.includes("LocalTimeSeriesHistoricalUpdate")) {
    out.push(
      ...validateModel(
        "LocalTimeSeriesHistoricalUpdate",
        b["historical_update"],
        `${where} historical_update`,
      ),
    );
    if (!("must_update" in b)) out.push(`${where}: must_update is required`);
  }
  if (route.path.endsWith("get_metadatas_and_set_updates/")) {
    for (const [uid, stc] of Object.entries((b["source_table_config_map"] as object) ?? {})) {
      if (stc !== null)
        out.push(
          ...validateModel(
            "SourceTableConfiguration",
            stc,
            `${where} source_table_config_map.${uid}`,
          ),
        );
    }
    for (const [uid, details] of Object.entries((b["state_data"] as object) ?? {})) {
      out.push(...validateModel("DataNodeUpdateDetails", details, `${where} state_data.${uid}`));
    }
    for (const [i, m] of ((b["local_metadatas"] as unknown[]) ?? []).entries()) {
      out.push(...validateModel("DataNodeUpdate", m, `${where} local_metadatas[${i}]`));
    }
  }
  if (route.models.includes("SourceTableConfiguration") && "source_table_configuration" in b) {
    const stc = b["source_table_configuration"];
    if (stc !== null && typeof stc === "object") {
      out.push(
        ...validateModel("SourceTableConfiguration", stc, `${where} source_table_configuration`),
      );
    }
  }
  if (route.models.includes("DataNodeStorage") && route.parse === "env") {
    for (const [prefix, storage] of Object.entries((b["data_node_storage_map"] as object) ?? {})) {
      out.push(
        ...validateModel("DataNodeStorage", storage, `${where} data_node_storage_map.${prefix}`),
      );
    }
    if (b["storage_node"] !== undefined && b["storage_node"] !== null) {
      out.push(...validateModel("DataNodeStorage", b["storage_node"], `${where} storage_node`));
    }
  }
  return out;
}

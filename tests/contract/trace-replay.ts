import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { ApiResponse, ServerFixture } from "../server/server-fixture.js";
import { checkAnswer } from "./contract-schemas.js";
import { loadGolden } from "./trace-compare.js";
import { ANY_OF, type DecodedData, type TraceRequest } from "./trace-normalize.js";

/**
 * Replays a golden Python client trace (tests/fixtures/platform-contract/traces/*.json) against
 * a running `tdag serve`: every recorded request, in order, with the same method and path, its
 * uid placeholders bound to the uids earlier answers gave, and a query and body synthesised from
 * the recorded shapes (the traces keep types, not values). Every answer is checked against the
 * recorded status and answer form and against the schemas the real client parses it with.
 */

// ------------------------------------------------------------------ Python-flavoured JSON

/** A float the Python client writes with a fraction (`1.0`, never `1`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** JSON as Python's `json.dumps` writes it: `PyFloat`s keep a fraction, `", "`/`": "` separators. */
export function pyJson(value: unknown): string {
  if (value instanceof PyFloat) {
    const text = JSON.stringify(value.value);
    return /[.eE]/.test(text) ? text : `${text}.0`;
  }
  if (Array.isArray(value)) return `[${value.map(pyJson).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pyJson(v)}`);
    return `{${entries.join(", ")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** An instant (epoch ms, UTC) in the format of a trace mask such as `9999-99-99T99:99:99Z`. */
export function formatDatetime(ms: number, mask: string): string {
  const m = /^9999-99-99([T ])99:99:99(?:\.(9+))?(Z|[+-]99:?99)?$/.exec(mask);
  if (!m) throw new Error(`unsupported datetime mask '${mask}'`);
  const iso = new Date(ms).toISOString();
  let out = `${iso.slice(0, 10)}${m[1]}${iso.slice(11, 19)}`;
  if (m[2]) out += `.${`${iso.slice(20, 23)}000000`.slice(0, m[2].length)}`;
  if (m[3] === "Z") out += "Z";
  else if (m[3]) out += m[3].includes(":") ? "+00:00" : "+0000";
  return out;
}

/** Epoch seconds of an ISO instant. */
export function epochSeconds(iso: string): number {
  return Date.parse(iso) / 1000;
}

// ------------------------------------------------------------------ nodes and bindings

/**
 * A DataNode of the scenarios, as its Python class defines it. Its hashes are
 * `<name>_<32 hex>`, the same in every step, so a later run finds what an earlier one made.
 * Rows of a run continue where the node's previous run stopped (`start` for the first), one
 * every `stepMs` (for each asset of a 2-D node). A float cell of the column at position `j` of
 * the chunk is `100 * j + k + 0.05 * a + 0.01` (`k`: steps since `start`, `a`: asset position),
 * an int64 cell `10 * k + a`, a string cell `<column>-<k>`.
 */
export interface NodeSpec {
  readonly name: string;
  readonly className: string;
  readonly identifier: string;
  readonly description: string;
  readonly start: string;
  readonly stepMs: number;
  readonly assets?: readonly string[];
  /** The node's config fields (the `serialized_model` leaves of its build configuration). */
  readonly config: Readonly<Record<string, number | string>>;
}

/** A row the replay uploaded. */
interface Row {
  readonly t: number;
  readonly asset: string | undefined;
}

interface NodeState {
  readonly spec: NodeSpec;
  readonly updateHash: string;
  readonly storageHash: string;
  /** Learned from answers; forgotten when a step (a new client process) starts. */
  ltsUid?: string | undefined;
  storageUid?: string | undefined;
  historicalUid?: string | undefined;
  /** The `column_dtypes_map` the node declared (kept: it is the class's). */
  dtypes?: Readonly<Record<string, unknown>>;
  /** Where the next run's rows start (epoch ms), and the rows of the open run. */
  nextTime: number;
  runRows: Row[];
}

/** What one request of the binding table says beyond the step's defaults. */
export interface RequestBinding {
  /** The node the request is about (its placeholders, hashes, identifier, rows). */
  readonly node?: string;
  /**
   * Values of the request's query or body, by dotted path (`[]` for array items), where the
   * trace's types leave a choice (search text, filters, dates); a function gets the replayer.
   */
  readonly values?: Readonly<Record<string, unknown>>;
  /** A bearer token instead of the session's. */
  readonly token?: string;
  /** The number of data rows the answer must hold (data pages, row lists). */
  readonly rows?: number;
  /** Top-level keys of the answer and the values they must have. */
  readonly answer?: Readonly<Record<string, unknown>>;
}

/** The bindings of one step: its head node and, per request `seq`, what differs. */
export interface StepBinding {
  readonly node: string;
  readonly at?: Readonly<Record<number, RequestBinding>>;
}

/**
 * A recorded status that is tdag's old, fixed behaviour, not the contract: the replay expects
 * `expected` where the trace recorded `recorded`.
 */
export interface StatusException {
  readonly step: string;
  readonly method: string;
  readonly path: string;
  readonly recorded: number;
  readonly expected: number;
  readonly reason: string;
}

/** One replayed request and what is wrong with its answer (`problems`, empty when nothing). */
export interface ReplayRecord {
  readonly step: string;
  readonly seq: number;
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly body: ApiResponse["body"];
  readonly problems: readonly string[];
}

/** The same binding for every seq in `from..to`. */
export function seqs(
  from: number,
  to: number,
  binding: RequestBinding,
): Record<number, RequestBinding> {
  const out: Record<number, RequestBinding> = {};
  for (let seq = from; seq <= to; seq++) out[seq] = binding;
  return out;
}

function hex32(text: string): string {
  return createHash("md5").update(text).digest("hex");
}

/** State of one client process: forgotten between steps. */
interface Session {
  dataSourceUid?: string;
  schedulerUid?: string;
  dependencyRows: readonly Record<string, unknown>[];
  access: string;
  refresh?: string;
  nextOffset: Map<string, number>;
}

/** Where a shape is being filled. */
interface Scope {
  readonly route: string;
  readonly node: NodeState;
  readonly values: Readonly<Record<string, unknown>>;
  readonly rows: readonly Row[];
  readonly asset?: string;
}

const TOKEN = /^<([a-z-]+)(?::(.*))?>$/s;
/** A fixed heartbeat instant (epoch seconds with a fraction): the replay is deterministic. */
const HEARTBEAT = epochSeconds("2024-01-21T00:00:00Z") + 0.5;

/**
 * Replays traces on one server. Nodes keep their hashes, declared columns and written range
 * over every replayed step and scenario (seed scenarios first, then the one under test); uids,
 * the scheduler and tokens are learned again in every step, from its own answers, as a new
 * Python process learns them.
 */
export class TraceReplayer {
  private readonly nodes = new Map<string, NodeState>();
  private session: Session;
  /** The exceptions some replayed request needed. */
  readonly usedExceptions = new Set<StatusException>();

  constructor(
    readonly fx: ServerFixture,
    specs: readonly NodeSpec[],
    private readonly exceptions: readonly StatusException[] = [],
  ) {
    for (const spec of specs) {
      this.nodes.set(spec.name, {
        spec,
        updateHash: `${spec.name}_${hex32(`update:${spec.name}`)}`,
        storageHash: `${spec.name}_${hex32(`storage:${spec.name}`)}`,
        nextTime: Date.parse(spec.start),
        runRows: [],
      });
    }
    this.session = this.newSession();
  }

  node(name: string): NodeState {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no node '${name}'`);
    return node;
  }

  /** Replays every step of a golden trace; `bindings` has an entry for each step. */
  async replay(
    scenario: string,
    bindings: Readonly<Record<string, StepBinding>>,
  ): Promise<ReplayRecord[]> {
    const out: ReplayRecord[] = [];
    for (const step of loadGolden(scenario)) {
      const binding = bindings[step.step];
      if (!binding) throw new Error(`${scenario}: no binding for step ${step.step}`);
      this.session = this.newSession();
      for (const node of this.nodes.values()) {
        node.ltsUid = undefined;
        node.storageUid = undefined;
        node.historicalUid = undefined;
      }
      for (const request of step.requests) {
        out.push(await this.send(step.step, request, binding.at?.[request.seq] ?? {}, binding));
      }
    }
    return out;
  }

  private newSession(): Session {
    return { dependencyRows: [], access: this.fx.server.token, nextOffset: new Map() };
  }

  private async send(
    step: string,
    req: TraceRequest,
    binding: RequestBinding,
    stepBinding: StepBinding,
  ): Promise<ReplayRecord> {
    const node = this.node(binding.node ?? stepBinding.node);
    const route = `${req.method} ${req.path}`;
    const where = `${step}#${req.seq} ${route}`;
    if (req.path.endsWith("/set_start_of_execution/")) node.runRows = [];
    let rows: readonly Row[] = node.runRows;
    let chunk: unknown[] | undefined;
    if (req.data_decoded?.kind === "records") {
      const generated = this.generateRows(node, req.data_decoded);
      chunk = generated.cells;
      rows = generated.rows;
      node.runRows.push(...generated.rows);
    }
    const scope: Scope = { route, node, values: binding.values ?? {}, rows };

    const path = req.path.replace(/\{(\w+)\}/g, (_, name: string) => this.placeholder(name, node));
    const params = new URLSearchParams();
    for (const [key, shape] of Object.entries(req.query ?? {})) {
      params.append(key, String(this.fill(shape, [key], scope)));
    }
    const url = params.size > 0 ? `${path}?${params}` : path;
    let body: unknown;
    if (req.body !== undefined) {
      body = this.fill(req.body, [], scope, (at) => {
        if (at !== "data" || req.data_decoded === undefined) return undefined;
        const decoded =
          chunk ?? this.fill((req.data_decoded as { shape: unknown }).shape, [], scope);
        return gzipSync(Buffer.from(pyJson(decoded))).toString("base64");
      });
      if (req.path.endsWith("/initialize-source-table/")) {
        node.dtypes = (body as { column_dtypes_map: Record<string, unknown> }).column_dtypes_map;
      }
    }
    const headers: Record<string, string> = {};
    for (const name of ["content-type", "accept", "accept-encoding"]) {
      const value = req.request_headers[name];
      if (value) headers[name] = value;
    }
    const token = req.request_headers["authorization"]
      ? (binding.token ?? this.session.access)
      : null;
    const res = await this.fx.call(req.method, url, undefined, {
      token,
      headers,
      ...(body === undefined ? {} : { raw: pyJson(body) }),
    });
    const problems = [
      ...this.check(step, req, path, res, binding),
      ...(res.status < 300 ? this.learn(req, node, res.body) : []),
    ].map((p) => `${where}: ${p} <- ${JSON.stringify(res.body)?.slice(0, 300)}`);
    return {
      step,
      seq: req.seq,
      method: req.method,
      url,
      status: res.status,
      body: res.body,
      problems,
    };
  }

  /** Status, answer form, counts and schemas of one answer. */
  private check(
    step: string,
    req: TraceRequest,
    path: string,
    res: ApiResponse,
    binding: RequestBinding,
  ): string[] {
    const exception = this.exceptions.find(
      (e) => e.step === step && e.method === req.method && e.path === req.path,
    );
    if (exception) {
      if (exception.recorded !== req.response.status) {
        return [`exception says recorded ${exception.recorded}, trace has ${req.response.status}`];
      }
      this.usedExceptions.add(exception);
    }
    const expected = exception?.expected ?? req.response.status;
    if (res.status !== expected) {
      const why = exception ? `not ${exception.recorded}: ${exception.reason}` : "recorded";
      return [`status ${res.status}, expected ${expected} (${why})`];
    }
    const out: string[] = [];
    if (expected < 300)
      out.push(...checkAnswer(req.method, path, res.status, res.body ?? undefined));
    else if (typeof res.body?.detail !== "string") out.push("an error answer without a detail");
    const kind =
      res.body === null
        ? "empty"
        : Array.isArray(res.body)
          ? "list"
          : "count" in res.body && Array.isArray(res.body.results)
            ? "drf_page"
            : "object";
    if (kind !== req.response.kind) out.push(`answer is a ${kind}, recorded ${req.response.kind}`);
    const { count, len } = req.response;
    if (kind === "drf_page" && count !== undefined && res.body.count !== count) {
      out.push(`count ${res.body.count}, recorded ${count}`);
    }
    if (kind === "list" && len !== undefined && res.body.length !== len) {
      out.push(`${res.body.length} items, recorded ${len}`);
    }
    if (binding.rows !== undefined) {
      const got = Array.isArray(res.body) ? res.body.length : res.body?.results?.length;
      if (got !== binding.rows) out.push(`${got} rows, expected ${binding.rows}`);
    }
    for (const [key, value] of Object.entries(binding.answer ?? {})) {
      if (JSON.stringify(res.body?.[key]) !== JSON.stringify(value)) {
        out.push(`${key} is ${JSON.stringify(res.body?.[key])}, expected ${JSON.stringify(value)}`);
      }
    }
    return out;
  }

  /** Binds uids, the scheduler, dependency rows, tokens and page offsets from a 2xx answer. */
  private learn(req: TraceRequest, node: NodeState, body: ApiResponse["body"]): string[] {
    const path = req.path.replace("/orm/api/ts_manager", "");
    const out: string[] = [];
    const expect = (what: string, got: unknown, want: string) => {
      if (got !== want) out.push(`${what} ${String(got)} is not ${node.spec.name}'s ${want}`);
    };
    const storage = (item: { uid: string; storage_hash: string }) => {
      expect("storage_hash", item.storage_hash, node.storageHash);
      node.storageUid = item.uid;
    };
    const updater = (item: { uid: string; update_hash: string; data_node_storage: unknown }) => {
      expect("update_hash", item.update_hash, node.updateHash);
      node.ltsUid = item.uid;
      const s = item.data_node_storage;
      if (typeof s === "string") node.storageUid = s;
      else if (s !== null && typeof s === "object")
        storage(s as { uid: string; storage_hash: string });
    };
    const single = (page: { results?: unknown[] }) =>
      page.results?.length === 1 ? page.results[0] : undefined;
    if (req.path === "/orm/api/pods/projects/{project_uid}/") {
      this.session.dataSourceUid = body.data_source.uid;
    } else if (path === "/local_time_serie/" && req.method === "GET") {
      const item = single(body);
      if (item) updater(item as Parameters<typeof updater>[0]);
    } else if (path === "/local_time_serie/get_or_create/") updater(body);
    else if (path === "/dynamic_table/get_or_create/") storage(body);
    else if (path === "/dynamic_table/" && req.method === "GET") {
      const item = single(body);
      if (item) storage(item as Parameters<typeof storage>[0]);
    } else if (path === "/scheduler/build_and_assign_to_update_nodes/") {
      this.session.schedulerUid = body.uid;
    } else if (path.endsWith("/get_all_dependencies_update_priority/")) {
      this.session.dependencyRows = body;
    } else if (path.endsWith("/set_start_of_execution/")) {
      node.historicalUid = body.historical_update.uid;
    } else if (typeof body?.access === "string") {
      this.session.access = body.access;
      if (typeof body.refresh === "string") this.session.refresh = body.refresh;
    }
    if (body !== null && typeof body === "object" && "next_offset" in body) {
      const route = `${req.method} ${req.path}`;
      if (typeof body.next_offset === "number")
        this.session.nextOffset.set(route, body.next_offset);
      else this.session.nextOffset.delete(route);
    }
    return out;
  }

  private placeholder(name: string, node: NodeState): string {
    switch (name) {
      case "project_uid":
        return this.fx.server.projectUid;
      case "lts_uid":
        return known(node.ltsUid, `${node.spec.name}'s update uid`);
      case "storage_uid":
        return known(node.storageUid, `${node.spec.name}'s storage uid`);
      case "scheduler_uid":
        return known(this.session.schedulerUid, "the scheduler uid");
    }
    throw new Error(`unknown placeholder {${name}}`);
  }

  // ---------------------------------------------------------------- shapes → values

  /**
   * A value of `shape`: literals as recorded, `<...>` types through {@link leaf}, `[X]` as one
   * item (every alternative of an `<anyOf>`), `<asset_id>` keys once per asset of the node.
   * `special` may answer for a path first (the encoded `data` of uploads).
   */
  private fill(
    shape: unknown,
    path: readonly string[],
    scope: Scope,
    special?: (at: string) => unknown,
  ): unknown {
    const at = path.join(".");
    if (at in scope.values) {
      const value = scope.values[at];
      const given = typeof value === "function" ? value(this) : value;
      if (given === undefined) throw new Error(`${scope.route}: no value for ${at} yet`);
      return given;
    }
    const given = special?.(at);
    if (given !== undefined) return given;
    if (typeof shape === "string") {
      return TOKEN.test(shape) ? this.leaf(shape, path, scope) : shape;
    }
    if (Array.isArray(shape)) {
      const derived = this.derivedList(shape, path, scope);
      if (derived) return derived;
      return shape.flatMap((item: unknown) => {
        const anyOf = (item as Record<string, unknown> | null)?.[ANY_OF];
        const items = Array.isArray(anyOf) ? anyOf : [item];
        return items.map((x) => this.fill(x, [...path, "[]"], scope, special));
      });
    }
    if (shape !== null && typeof shape === "object") {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(shape)) {
        if (key !== "<asset_id>") {
          out[key] = this.fill(value, [...path, key], scope, special);
          continue;
        }
        for (const asset of known(scope.node.spec.assets, `${scope.node.spec.name}'s assets`)) {
          out[asset] = this.fill(value, [...path, key], { ...scope, asset }, special);
        }
      }
      return out;
    }
    return shape;
  }

  /** Lists the client builds from the last dependency answer rather than from the trace. */
  private derivedList(shape: unknown[], path: readonly string[], scope: Scope): unknown[] | null {
    const rows = this.session.dependencyRows;
    const at = `${scope.route} ${path.join(".")}`;
    if (at.endsWith("/get_metadatas_and_set_updates/ update_nodes")) {
      const keys = Object.keys(shape[0] as object);
      return rows.map((row) =>
        Object.fromEntries(keys.map((k) => [k, row[k === "uid" ? "update_node_uid" : k]])),
      );
    }
    if (at.endsWith("/in-active-tree/ update_node_uids")) {
      return rows.map((row) => row["update_node_uid"]).filter((uid) => typeof uid === "string");
    }
    return null;
  }

  /** The value of one `<type>` leaf, by its key and type. */
  private leaf(token: string, path: readonly string[], scope: Scope): unknown {
    const [, kind, arg = ""] = TOKEN.exec(token)!;
    const key = [...path].reverse().find((p) => p !== "[]" && p !== "<asset_id>") ?? "";
    const { node } = scope;
    const config = node.spec.config[key];
    const fail = (): never => {
      throw new Error(`${scope.route}: no value for ${path.join(".")} ${token}`);
    };
    switch (kind) {
      case "null":
        return null;
      case "bool":
        return arg === "true";
      case "bool-str":
        return arg;
      case "json-schema":
        return {
          title: `${node.spec.className}Config`,
          type: "object",
          properties: Object.fromEntries(
            Object.entries(node.spec.config).map(([k, v]) => [
              k,
              { type: typeof v === "string" ? "string" : "number" },
            ]),
          ),
        };
      case "datetime":
        return formatDatetime(this.instant(key, path, scope), arg);
      case "hash":
        if (key === "update_hash") return node.updateHash;
        if (["storage_hash", "remote_table__hash_id"].includes(key)) return node.storageHash;
        return fail();
      case "float":
        if (typeof config === "number") return new PyFloat(config);
        if (key === "last_heart_beat") return new PyFloat(HEARTBEAT);
        if (key === "w_trgm") return new PyFloat(0.65);
        if (key === "w_emb") return new PyFloat(0.35);
        return fail();
      case "int":
        if (typeof config === "number") return config;
        if (key === "offset") return this.session.nextOffset.get(scope.route) ?? 0;
        if (key === "running_process_pid") return 4242;
        if (key === "chunk_index") return 0;
        if (key === "total_chunks") return 1;
        if (key === "trigram_k" || key === "embed_k") return 200;
        return fail();
      case "uuid":
        return this.uuid(key, scope) ?? fail();
      case "str":
        return this.str(key, arg, path, scope) ?? fail();
    }
    return fail();
  }

  private uuid(key: string, scope: Scope): string | undefined {
    const { node } = scope;
    switch (key) {
      case "data_source_uid":
      case "data_source__uid":
      case "remote_table__data_source__uid":
        return known(this.session.dataSourceUid, "the data source uid");
      case "current_project_uid":
        return this.fx.server.projectUid;
      case "active_update_scheduler_uid":
        return known(this.session.schedulerUid, "the scheduler uid");
      case "historical_update_uid":
        return known(node.historicalUid, `${node.spec.name}'s open run`);
      case "update_node_uids":
        return known(node.ltsUid, `${node.spec.name}'s update uid`);
      case "uid":
        return known(node.storageUid, `${node.spec.name}'s storage uid`);
    }
    return undefined;
  }

  private str(key: string, arg: string, path: readonly string[], scope: Scope): unknown {
    const { node } = scope;
    const config = node.spec.config[key];
    if (arg === "DEBUG_<uuid>") return `DEBUG_${known(node.ltsUid, "the head's update uid")}`;
    if (arg === "asset_id") return scope.asset;
    if (arg !== "") return undefined;
    if (typeof config === "string") return config;
    switch (key) {
      case "identifier":
        return node.spec.identifier;
      case "description":
        return node.spec.description;
      case "module":
        return "pyparity.nodes";
      case "qualname":
        return path.includes("time_series_class_import_path")
          ? node.spec.className
          : path.includes("node_metadata")
            ? "DataNodeMetaData"
            : `${node.spec.className}Config`;
      case "update_only":
        return "offset_start";
      case "runtime_only":
        return "node_metadata";
      case "time_serie_source_code_git_hash":
        return createHash("sha1").update(node.spec.className).digest("hex");
      case "time_serie_source_code":
        return `class ${node.spec.className}(DataNode):\n    def update(self): ...\n`;
      case "username":
        return "pyparity";
      case "password":
      case "credential_secret":
        return this.fx.server.token;
      case "credential_id":
        return "contract-cred";
      case "refresh":
        return known(this.session.refresh, "a refresh token");
    }
    return undefined;
  }

  /**
   * An instant of the upload statistics: over the rows of the chunk (`chunk_stats`) or of the
   * run (the progress commit), of one asset under an `<asset_id>` key; `min` and `index_min`
   * are the first instant, any other the last.
   */
  private instant(key: string, path: readonly string[], scope: Scope): number {
    const rows = scope.rows.filter((r) => scope.asset === undefined || r.asset === scope.asset);
    if (rows.length === 0) throw new Error(`${scope.route}: no rows for ${path.join(".")}`);
    const times = rows.map((r) => r.t);
    return key === "min" || path.includes("index_min") ? Math.min(...times) : Math.max(...times);
  }

  /** The rows of one upload chunk, typed by the node's declared `column_dtypes_map`. */
  private generateRows(
    node: NodeState,
    decoded: Extract<DecodedData, { kind: "records" }>,
  ): { rows: Row[]; cells: Record<string, unknown>[] } {
    const dtypes = known(node.dtypes, `${node.spec.name}'s column_dtypes_map`);
    const types = decoded.column_types;
    const per = Object.values(types).includes("<str:asset_id>")
      ? known(node.spec.assets, `${node.spec.name}'s assets`)
      : [undefined];
    if (decoded.rows % per.length !== 0) throw new Error(`${decoded.rows} rows over ${per.length}`);
    const rows: Row[] = [];
    const cells: Record<string, unknown>[] = [];
    const start = Date.parse(node.spec.start);
    for (let i = 0; i < decoded.rows / per.length; i++) {
      const t = node.nextTime + i * node.spec.stepMs;
      const k = (t - start) / node.spec.stepMs;
      for (const [a, asset] of per.entries()) {
        rows.push({ t, asset });
        const row: Record<string, unknown> = {};
        for (const [j, column] of decoded.columns.entries()) {
          const type = String(types[column] ?? "");
          row[column] = cell(column, dtypes[column], type, { t, k, a, j, asset });
        }
        cells.push(row);
      }
    }
    node.nextTime += (decoded.rows / per.length) * node.spec.stepMs;
    return { rows, cells };
  }
}

/** One cell: its declared dtype and its recorded JSON type must agree. */
function cell(
  column: string,
  dtype: unknown,
  type: string,
  at: { t: number; k: number; a: number; j: number; asset: string | undefined },
): unknown {
  const d = String(dtype);
  const datetime = /^<datetime:(.*)>$/.exec(type);
  if (datetime && d.startsWith("timestamp")) return formatDatetime(at.t, datetime[1]!);
  if (type === "<str:asset_id>" && d === "string") return at.asset;
  if (type === "<float>" && d.startsWith("float")) {
    // Rounded to 10 decimals, as the Python client writes floats.
    return new PyFloat(Number((100 * at.j + at.k + 0.05 * at.a + 0.01).toFixed(10)));
  }
  if (type === "<int>" && d.startsWith("int")) return 10 * at.k + at.a;
  if (type === "<str>" && d === "string") return `${column}-${at.k}`;
  throw new Error(`column ${column}: recorded ${type} does not fit the declared dtype ${d}`);
}

function known<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not known yet (no earlier answer gave it)`);
  return value;
}

/** Every problem of a replay, one line each. */
export function problemsOf(records: readonly ReplayRecord[]): string[] {
  return records.flatMap((r) => r.problems);
}

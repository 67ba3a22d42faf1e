/**
 * The remote store accepts every answer the platform contract allows, not only the forms
 * `tdag serve` happens to send. A proxy on 127.0.0.1 forwards each request to a real
 * `tdag serve` and rewrites its answer into another form the client's schemas also accept, and
 * the rewritten answer is checked against those schemas before the store sees it:
 *
 * - a DRF page `{count, next, previous, results}` becomes a bare list;
 * - a nested `data_node_storage` becomes the storage's uid (except where the contract says the
 *   client needs the object: lookups with `include_relations_detail=true`);
 * - a storage's nested `data_source` becomes its integer id;
 * - optional keys with a default (`labels`, `open_for_everyone`, ...) and nullable keys that
 *   are null are left out.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { staticTokenAuth } from "../../src/store/remote/auth.js";
import { PlatformClient } from "../../src/store/remote/http-client.js";
import { RemoteStore } from "../../src/store/remote/remote-store.js";
import { configure } from "../../src/store/store-registry.js";
import { type RemoteFixture, remoteStoreFactory } from "../conformance/remote-factory.js";
import { ScriptedNode, storageUid } from "../helpers/nodes.js";
import { silentLogger } from "../helpers/temp-store.js";
import { checkAnswer } from "./contract-schemas.js";

configure({ logger: silentLogger });

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Keys a model may omit (they have a default or are nullable): left out when at their default. */
const OMITTABLE: Readonly<Record<string, unknown>> = {
  labels: [],
  open_for_everyone: false,
  protect_from_deletion: false,
  data_source_open_for_everyone: false,
  description: null,
  created_by_user_uid: null,
  organization_owner_uid: null,
  compression_policy_config: null,
  retention_policy_config: null,
  table_index_names: null,
  foreign_key_projections: [],
  multi_index_stats: null,
  multi_index_column_stats: null,
  next_update: null,
  update_statistics: null,
  last_updated_by_user_uid: null,
};

function slim(value: unknown, keepStorageObject: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => slim(v, keepStorageObject));
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) {
    if (key in OMITTABLE && JSON.stringify(v) === JSON.stringify(OMITTABLE[key])) continue;
    if (key === "data_node_storage" && isObject(v) && !keepStorageObject) {
      out[key] = v["uid"];
    } else if (
      key === "data_source" &&
      "storage_hash" in value &&
      isObject(v) &&
      typeof v["id"] === "number"
    ) {
      // A storage's data source may be its integer id (a project's may not).
      out[key] = v["id"];
    } else {
      out[key] = slim(v, keepStorageObject);
    }
  }
  return out;
}

/** The rewritten answer: bare lists for pages, and the slimmed objects. */
function rewrite(path: string, query: URLSearchParams, body: unknown): unknown {
  const detail = query.get("include_relations_detail") === "true";
  let out = body;
  if (isObject(out) && Array.isArray(out["results"]) && "next" in out && out["next"] === null) {
    out = out["results"];
  }
  // get-data-from-filter keeps its storages as dicts when they fail validation: leave it alone.
  if (path.endsWith("get-data-from-filter/")) return out;
  return slim(out, detail && /local_time_serie\/$/.test(path));
}

describe("the remote store accepts every answer form the contract allows", () => {
  const factory = remoteStoreFactory("tolerance");
  let fx: RemoteFixture;
  let proxy: Server;
  let store: RemoteStore;
  const violations: string[] = [];
  let rewritten = 0;

  beforeAll(async () => {
    fx = await factory();
    proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const url = new URL(req.url ?? "/", fx.server.url);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === "string" && !["host", "accept-encoding", "content-length"].includes(k)) {
          headers[k] = v;
        }
      }
      const upstream = await fetch(url, {
        method: req.method ?? "GET",
        headers,
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
      });
      const text = await upstream.text();
      let payload = text;
      if (text !== "" && (upstream.headers.get("content-type") ?? "").includes("json")) {
        const answer = rewrite(url.pathname, url.searchParams, JSON.parse(text));
        payload = JSON.stringify(answer);
        if (payload !== text) rewritten++;
        const template = url.pathname.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "{uid}");
        const found = checkAnswer(req.method ?? "GET", url.pathname, upstream.status, answer);
        violations.push(...found.map((v) => `${template}: ${v}`));
      }
      res.writeHead(upstream.status, { "content-type": "application/json" });
      res.end(payload);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const port = (proxy.address() as AddressInfo).port;
    store = new RemoteStore({
      client: new PlatformClient({
        endpoint: `http://127.0.0.1:${port}`,
        auth: staticTokenAuth(fx.server.token),
        retry: { maxAttempts: 1 },
      }),
      projectUid: fx.server.projectUid,
    });
  });

  afterAll(async () => {
    await store?.close();
    await new Promise((resolve) => proxy?.close(resolve));
    await fx?.cleanup();
  });

  it("runs a node twice with a dependency, reads it and looks it up", async () => {
    const upstream = new ScriptedNode({ series: "tolerance_up" });
    upstream.script = [
      { time_index: "2026-01-01T00:00:00Z", value: 1.5 },
      { time_index: "2026-01-02T00:00:00Z", value: 2.5 },
    ];
    const head = new ScriptedNode({ series: "tolerance_head" });
    head.deps = { upstream };
    head.script = [{ time_index: "2026-01-01T00:00:00Z", value: 10 }];
    const first = await head.run({ store, forceUpdate: true });
    expect(first.error).toBe(false);
    expect(first.nodes.map((n) => [n.name, n.rowsWritten])).toEqual([
      ["ScriptedNode", 2],
      ["ScriptedNode", 1],
    ]);

    head.script = [
      { time_index: "2026-01-01T00:00:00Z", value: 10 },
      { time_index: "2026-01-03T00:00:00Z", value: 30 },
    ];
    const second = await head.run({ store, forceUpdate: true });
    expect(second.error).toBe(false);
    expect(second.nodes.at(-1)?.rowsWritten).toBe(1);

    const frame = await store.readFrame(await storageUid(store, head));
    expect(frame.length).toBe(2);
    expect(frame.toRecords().map((r) => r["value"])).toEqual([10, 30]);
    const updater = await store.findUpdater({ updateHash: head.updateHash });
    expect(await store.listDependencies(updater!.uid)).toEqual([
      { kind: "updater", uid: (await store.findUpdater({ updateHash: upstream.updateHash }))!.uid },
    ]);
    expect((await store.listStorages()).length).toBe(2);

    // The rewrites happened, and every rewritten answer is one the client's schemas accept.
    expect(rewritten).toBeGreaterThan(10);
    expect(violations).toEqual([]);
  });
});

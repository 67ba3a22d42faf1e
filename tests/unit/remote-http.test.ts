import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { TdagError } from "../../src/errors.js";
import type { LogFields, Logger } from "../../src/logger.js";
import { authFromEnv, staticTokenAuth } from "../../src/store/remote/auth.js";
import { PlatformClient, type PlatformClientOptions } from "../../src/store/remote/http-client.js";
import { AuthError, RemoteApiError } from "../../src/store/remote/remote-errors.js";

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

type Handler = (
  req: Recorded,
  res: ServerResponse,
  n: number,
  raw: IncomingMessage,
) => void | Promise<void>;

interface TestServer {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];
const clients: PlatformClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startServer(handler: Handler): Promise<TestServer> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rec: Recorded = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(rec);
      Promise.resolve(handler(rec, res, requests.length, req)).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const s: TestServer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(s);
  return s;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

interface Line {
  level: string;
  message: string;
  fields: LogFields | undefined;
}

function captureLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      lines.push({ level, message, fields });
    };
  return {
    logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
    lines,
  };
}

function client(options: PlatformClientOptions): PlatformClient {
  const c = new PlatformClient({
    auth: staticTokenAuth("test-token"),
    logger: captureLogger().logger,
    ...options,
    retry: { baseDelayMs: 1, maxDelayMs: 5, ...options.retry },
  });
  clients.push(c);
  return c;
}

function jwt(exp: number, tag = "x"): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${enc({ alg: "HS256", typ: "JWT" })}.${enc({ exp, tag })}.signature-${tag}`;
}

const nowSec = (): number => Math.floor(Date.now() / 1000);

describe("PlatformClient over real HTTP", () => {
  it("builds URLs under /orm/api, sends auth, gzip and JSON headers, returns data and request id", async () => {
    const server = await startServer((_req, res) =>
      json(res, 201, { ok: true }, { "x-request-id": "req-42" }),
    );
    const c = client({ endpoint: `${server.url}///` });
    expect(c.endpoint).toBe(server.url);
    expect(c.apiRoot).toBe(`${server.url}/orm/api`);
    const r = await c.request<{ ok: boolean }>("POST", "/ts_manager/dynamic_table/get_or_create/", {
      json: { storage_hash: "h" },
    });
    expect(r).toEqual({ status: 201, data: { ok: true }, requestId: "req-42", attempts: 1 });
    const req = server.requests[0];
    expect(req?.method).toBe("POST");
    expect(req?.url).toBe("/orm/api/ts_manager/dynamic_table/get_or_create/");
    expect(req?.headers.authorization).toBe("Bearer test-token");
    // What the platform's Python client (requests) sends.
    expect(req?.headers["accept-encoding"]).toBe("gzip, deflate");
    expect(req?.headers["accept"]).toBe("*/*");
    expect(req?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req?.body ?? "")).toEqual({ storage_hash: "h" });
  });

  it("serialises the query, raw bodies with a content type, and empty bodies as null", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const c = client({ endpoint: server.url });
    const r = await c.request("GET", "ts_manager/dynamic_table/", {
      query: { storage_hash__in: ["a", "b"], include_relations_detail: true, none: null },
      model: "DataNodeStorage",
    });
    expect(r.data).toBeNull();
    expect(server.requests[0]?.url).toBe(
      "/orm/api/ts_manager/dynamic_table/?storage_hash__in=a%2Cb&include_relations_detail=true",
    );
    await c.request("POST", "ts_manager/dynamic_table/714/run_query/", {
      body: "SELECT 1",
      contentType: "text/plain",
    });
    expect(server.requests[1]?.headers["content-type"]).toBe("text/plain");
    expect(server.requests[1]?.body).toBe("SELECT 1");
  });

  it("rejects unknown filters before any request", async () => {
    const server = await startServer((_req, res) => json(res, 200, []));
    const c = client({ endpoint: server.url });
    await expect(
      c.request("GET", "ts_manager/dynamic_table/", {
        query: { data_source__id: 1 },
        model: "DataNodeStorage",
      }),
    ).rejects.toThrow(/Unsupported DataNodeStorage filter\(s\): data_source__id/);
    expect(server.requests).toHaveLength(0);
  });

  it("gunzips gzip responses transparently", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.end(gzipSync(JSON.stringify({ rows: [1, 2, 3] })));
    });
    const c = client({ endpoint: server.url });
    expect((await c.request("GET", "x/")).data).toEqual({ rows: [1, 2, 3] });
  });

  it("inflates deflate responses, zlib-wrapped or raw", async () => {
    const body = JSON.stringify({ rows: [4, 5] });
    const server = await startServer((_req, res, n) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "deflate" });
      res.end(n === 1 ? deflateSync(body) : deflateRawSync(body));
    });
    const c = client({ endpoint: server.url });
    expect((await c.request("GET", "x/")).data).toEqual({ rows: [4, 5] });
    expect((await c.request("GET", "x/")).data).toEqual({ rows: [4, 5] });
  });

  it("waits Retry-After on 429 then retries, logging the retry at warn", async () => {
    const server = await startServer((_req, res, n) =>
      n === 1
        ? json(res, 429, { detail: "slow down" }, { "retry-after": "1" })
        : json(res, 200, { ok: 1 }),
    );
    const { logger, lines } = captureLogger();
    const c = client({ endpoint: server.url, logger });
    const started = Date.now();
    const r = await c.request("GET", "pods/projects/p1/");
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(r.attempts).toBe(2);
    expect(server.requests).toHaveLength(2);
    const warn = lines.find((l) => l.level === "warn");
    expect(warn?.fields).toMatchObject({
      method: "GET",
      path: "/orm/api/pods/projects/p1/",
      status: 429,
      attempt: 1,
      delayMs: 1000,
    });
  });

  it("caps Retry-After at maxRetryAfterMs", async () => {
    const server = await startServer((_req, res, n) =>
      n === 1 ? json(res, 503, {}, { "retry-after": "3600" }) : json(res, 200, {}),
    );
    const c = client({ endpoint: server.url, retry: { maxRetryAfterMs: 20 } });
    const started = Date.now();
    expect((await c.request("GET", "x/")).attempts).toBe(2);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("retries 500s then surfaces a typed error with status, request id and attempts", async () => {
    const server = await startServer((_req, res) =>
      json(res, 500, { detail: "database is sad" }, { "x-request-id": "rid-500" }),
    );
    const c = client({ endpoint: server.url, retry: { maxAttempts: 3 } });
    const error = await c.request("POST", "a/b/", { json: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteApiError);
    const e = error as RemoteApiError;
    expect(e).toBeInstanceOf(TdagError);
    expect([e.code, e.status, e.requestId, e.attempts, e.method]).toEqual([
      "server_error",
      500,
      "rid-500",
      3,
      "POST",
    ]);
    expect(e.url).toBe(`${server.url}/orm/api/a/b/`);
    expect(e.message).toContain("database is sad");
    expect(server.requests).toHaveLength(3);
  });

  it("retries 502/503/504 but not 4xx", async () => {
    const statuses = [502, 503, 504, 200];
    const server = await startServer((_req, res, n) => json(res, statuses[n - 1] ?? 200, {}));
    const c = client({ endpoint: server.url });
    expect((await c.request("GET", "x/")).attempts).toBe(4);

    const s2 = await startServer((_req, res) => json(res, 404, { detail: "Not found." }));
    const c2 = client({ endpoint: s2.url });
    const e = (await c2.request("GET", "x/").catch((err: unknown) => err)) as RemoteApiError;
    expect([e.code, e.status, e.attempts, e.message]).toEqual([
      "not_found",
      404,
      1,
      "GET /orm/api/x/ → 404: Not found.",
    ]);
    expect(s2.requests).toHaveLength(1);
  });

  it("maps protocol 1.4 error bodies", async () => {
    const cases: Array<[number, unknown, string, string]> = [
      [400, { non_field_errors: ["bad pair"] }, "bad_request", '["bad pair"]'],
      [400, { error: { kind: "validation_error" } }, "bad_request", '{"kind":"validation_error"}'],
      [403, { message: "nope" }, "forbidden", "nope"],
      [
        409,
        { detail: "conflicts with requested foreign key metadata." },
        "conflict",
        "foreign key",
      ],
      [413, "Request Entity Too Large", "payload_too_large", "Request Entity Too Large"],
      [422, { errors: { a: ["x"] } }, "http_error", '{"a":["x"]}'],
    ];
    for (const [status, body, code, text] of cases) {
      const server = await startServer((_req, res) => {
        if (typeof body === "string") {
          res.writeHead(status, { "content-type": "text/plain" });
          res.end(body);
        } else json(res, status, body);
      });
      const c = client({ endpoint: server.url });
      const e = (await c
        .request("POST", "x/", { json: {} })
        .catch((err: unknown) => err)) as RemoteApiError;
      expect(e).toBeInstanceOf(RemoteApiError);
      expect(e.code).toBe(code);
      expect(e.status).toBe(status);
      expect(e.message).toContain(text);
      expect(e.body).toEqual(body);
      expect(server.requests).toHaveLength(1);
    }
  });

  it("treats statuses outside expectedStatus as errors", async () => {
    const server = await startServer((_req, res) => json(res, 200, {}));
    const c = client({ endpoint: server.url });
    const e = (await c
      .request("PATCH", "x/", { json: {}, expectedStatus: [201] })
      .catch((err: unknown) => err)) as RemoteApiError;
    expect([e.code, e.status]).toEqual(["http_error", 200]);
  });

  it("retries a dropped connection", async () => {
    const server = await startServer((_req, res, n, raw) => {
      if (n === 1) raw.socket.destroy();
      else json(res, 200, { ok: true });
    });
    const { logger, lines } = captureLogger();
    const c = client({ endpoint: server.url, logger });
    const r = await c.request("POST", "chunk/", { json: { a: 1 } });
    expect(r.attempts).toBe(2);
    expect(server.requests).toHaveLength(2);
    expect(lines.some((l) => l.level === "warn" && l.fields?.reason === "transient")).toBe(true);
  });

  it("surfaces a transport error when every attempt is dropped", async () => {
    const server = await startServer((_req, _res, _n, raw) => {
      raw.socket.destroy();
    });
    const c = client({ endpoint: server.url, retry: { maxAttempts: 2 } });
    const e = (await c.request("GET", "x/").catch((err: unknown) => err)) as RemoteApiError;
    expect([e.code, e.status, e.attempts]).toEqual(["transport", null, 2]);
  });

  it("times out slow responses, retries, then throws a timeout error", async () => {
    const server = await startServer((_req, res, n) => {
      if (n < 3) setTimeout(() => json(res, 200, { late: true }), 400);
      else json(res, 200, { ok: true });
    });
    const c = client({ endpoint: server.url, timeoutMs: 100 });
    const r = await c.request("GET", "x/");
    expect(r.attempts).toBe(3);
    expect(r.data).toEqual({ ok: true });

    const slow = await startServer((_req, res) => {
      setTimeout(() => json(res, 200, {}), 400);
    });
    const c2 = client({ endpoint: slow.url, retry: { maxAttempts: 2 } });
    const e = (await c2
      .request("GET", "x/", { timeoutMs: 80 })
      .catch((err: unknown) => err)) as RemoteApiError;
    expect([e.code, e.attempts]).toEqual(["timeout", 2]);
  });

  it("a caller's abort is not retried and rejects with an 'aborted' error caused by its reason", async () => {
    const server = await startServer((_req, res) => {
      setTimeout(() => json(res, 200, {}), 2_000);
    });
    const c = client({ endpoint: server.url });
    const controller = new AbortController();
    const reason = new Error("user cancelled");
    setTimeout(() => controller.abort(reason), 50);
    const error = await c.request("GET", "x/", { signal: controller.signal }).catch((e) => e);
    expect(error).toBeInstanceOf(RemoteApiError);
    expect(error).toMatchObject({ code: "aborted", attempts: 1, method: "GET" });
    expect((error as RemoteApiError).cause).toBe(reason);
    expect(server.requests).toHaveLength(1);
  });

  it("paginates a bare list and DRF pages through absolute next links", async () => {
    const server = await startServer((req, res) => {
      const u = new URL(req.url, "http://h");
      if (u.pathname.endsWith("/bare/")) return json(res, 200, [{ i: 1 }, { i: 2 }]);
      const page = Number(u.searchParams.get("page") ?? "1");
      const next =
        page < 3
          ? `${server.url}/orm/api/ts_manager/dynamic_table/?namespace=x&page=${page + 1}`
          : null;
      json(res, 200, {
        count: 5,
        next,
        previous: null,
        results:
          page < 3
            ? [
                { p: page, k: 0 },
                { p: page, k: 1 },
              ]
            : [{ p: 3, k: 0 }],
      });
    });
    const c = client({ endpoint: server.url });
    const bare: unknown[] = [];
    for await (const item of c.paginate("bare/")) bare.push(item);
    expect(bare).toEqual([{ i: 1 }, { i: 2 }]);

    const items: Array<{ p: number }> = [];
    for await (const item of c.paginate<{ p: number }>("ts_manager/dynamic_table/", {
      query: { namespace: "x" },
      model: "DataNodeStorage",
    })) {
      items.push(item);
    }
    expect(items.map((i) => i.p)).toEqual([1, 1, 2, 2, 3]);
    expect(server.requests.slice(1).map((r) => r.url)).toEqual([
      "/orm/api/ts_manager/dynamic_table/?namespace=x",
      "/orm/api/ts_manager/dynamic_table/?namespace=x&page=2",
      "/orm/api/ts_manager/dynamic_table/?namespace=x&page=3",
    ]);
  });

  it("pagination throws on a non-list response instead of yielding nothing", async () => {
    const server = await startServer((_req, res) => json(res, 200, { detail: "weird" }));
    const c = client({ endpoint: server.url });
    const consume = async (): Promise<void> => {
      for await (const _ of c.paginate("x/")) {
        // nothing
      }
    };
    await expect(consume()).rejects.toMatchObject({ code: "invalid_response" });
  });

  it("rebases a next link on a foreign origin onto the endpoint (token never leaves it)", async () => {
    const server = await startServer((req, res) => {
      if (req.url.includes("page=2")) return json(res, 200, { results: [2], next: null });
      json(res, 200, { results: [1], next: "http://internal.example:9999/orm/api/x/?page=2" });
    });
    const c = client({ endpoint: server.url });
    const items: unknown[] = [];
    for await (const item of c.paginate("x/")) items.push(item);
    expect(items).toEqual([1, 2]);
    expect(server.requests[1]?.url).toBe("/orm/api/x/?page=2");
  });
});

describe("auth over real HTTP", () => {
  it("B1/B2: jwt mode sends the access token; an expired JWT is refreshed first and rotated tokens written back", async () => {
    const fresh = jwt(nowSec() + 3600, "fresh");
    const server = await startServer((req, res) => {
      if (req.url === "/auth/jwt-token/token/refresh/") {
        return json(res, 200, { access: fresh, refresh: "refresh-2" });
      }
      json(res, 200, { auth: req.headers.authorization });
    });
    const env: NodeJS.ProcessEnv = {
      MAINSEQUENCE_ACCESS_TOKEN: jwt(nowSec() + 30, "old"),
      MAINSEQUENCE_REFRESH_TOKEN: "refresh-1",
    };
    const c = client({ endpoint: server.url, auth: authFromEnv(env, { endpoint: server.url }) });
    const r = await c.request<{ auth: string }>("GET", "x/");
    expect(r.data.auth).toBe(`Bearer ${fresh}`);
    expect(server.requests[0]?.method).toBe("POST");
    expect(JSON.parse(server.requests[0]?.body ?? "")).toEqual({ refresh: "refresh-1" });
    expect(server.requests[0]?.headers["content-type"]).toBe("application/json");
    expect(env.MAINSEQUENCE_ACCESS_TOKEN).toBe(fresh);
    expect(env.MAINSEQUENCE_REFRESH_TOKEN).toBe("refresh-2");
    await c.request("GET", "y/");
    expect(server.requests.filter((q) => q.url.startsWith("/auth/"))).toHaveLength(1);
  });

  it("a valid JWT is sent as is (B1)", async () => {
    const access = jwt(nowSec() + 3600, "ok");
    const server = await startServer((req, res) =>
      json(res, 200, { auth: req.headers.authorization }),
    );
    const env: NodeJS.ProcessEnv = {
      MAINSEQUENCE_AUTH_MODE: "JWT ",
      MAINSEQUENCE_ACCESS_TOKEN: access,
      MAINSEQUENCE_REFRESH_TOKEN: "r",
    };
    const c = client({ endpoint: server.url, auth: authFromEnv(env, { endpoint: server.url }) });
    expect((await c.request<{ auth: string }>("GET", "x/")).data.auth).toBe(`Bearer ${access}`);
    expect(server.requests).toHaveLength(1);
  });

  it("401 then success: exactly one forced refresh and one repeat", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/auth/jwt-token/token/refresh/")
        return json(res, 200, { access: "opaque-new" });
      if (req.headers.authorization !== "Bearer opaque-new")
        return json(res, 401, { detail: "Token expired" });
      json(res, 200, { ok: true });
    });
    const env: NodeJS.ProcessEnv = {
      MAINSEQUENCE_ACCESS_TOKEN: "opaque-old",
      MAINSEQUENCE_REFRESH_TOKEN: "rt",
    };
    const c = client({ endpoint: server.url, auth: authFromEnv(env, { endpoint: server.url }) });
    const r = await c.request("GET", "x/");
    expect(r.attempts).toBe(2);
    expect(server.requests.map((q) => [q.url, q.headers.authorization])).toEqual([
      ["/orm/api/x/", "Bearer opaque-old"],
      ["/auth/jwt-token/token/refresh/", undefined],
      ["/orm/api/x/", "Bearer opaque-new"],
    ]);
    expect(env.MAINSEQUENCE_REFRESH_TOKEN).toBe("rt");
  });

  it("401 after the refresh surfaces as an AuthError", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/auth/jwt-token/token/refresh/")
        return json(res, 200, { access: "opaque-new" });
      json(res, 401, { detail: "Invalid token" }, { "x-request-id": "r401" });
    });
    const env: NodeJS.ProcessEnv = {
      MAINSEQUENCE_ACCESS_TOKEN: "opaque-old",
      MAINSEQUENCE_REFRESH_TOKEN: "rt",
    };
    const c = client({ endpoint: server.url, auth: authFromEnv(env, { endpoint: server.url }) });
    const e = (await c.request("GET", "x/").catch((err: unknown) => err)) as AuthError;
    expect(e).toBeInstanceOf(AuthError);
    expect([e.code, e.status, e.attempts, e.requestId]).toEqual(["auth", 401, 2, "r401"]);
    expect(server.requests).toHaveLength(3);
  });

  it("a failed refresh is an AuthError; a static token 401 is not repeated", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/auth/jwt-token/token/refresh/")
        return json(res, 401, { detail: "refresh expired" });
      json(res, 401, { detail: "nope" });
    });
    const env: NodeJS.ProcessEnv = {
      MAINSEQUENCE_ACCESS_TOKEN: "opaque-old",
      MAINSEQUENCE_REFRESH_TOKEN: "rt",
    };
    const c = client({ endpoint: server.url, auth: authFromEnv(env, { endpoint: server.url }) });
    await expect(c.request("GET", "x/")).rejects.toMatchObject({ code: "auth", name: "AuthError" });

    const s2 = await startServer((_req, res) => json(res, 401, { detail: "nope" }));
    const c2 = client({ endpoint: s2.url });
    await expect(c2.request("GET", "x/")).rejects.toBeInstanceOf(AuthError);
    expect(s2.requests).toHaveLength(1);
  });

  it("no credentials → AuthError before any request", async () => {
    const server = await startServer((_req, res) => json(res, 200, {}));
    const c = client({ endpoint: server.url, auth: authFromEnv({}, { endpoint: server.url }) });
    await expect(c.request("GET", "x/")).rejects.toThrow(/No auth configured/);
    expect(server.requests).toHaveLength(0);
  });

  it("B3: session_jwt never refreshes and forbids a refresh token", async () => {
    const server = await startServer((req, res) =>
      req.headers.authorization === "Bearer a" && req.url === "/orm/api/ok/"
        ? json(res, 200, {})
        : json(res, 401, {}),
    );
    const env: NodeJS.ProcessEnv = {
      MAINSEQUENCE_AUTH_MODE: "session_jwt",
      MAINSEQUENCE_ACCESS_TOKEN: "a",
    };
    const auth = authFromEnv(env, { endpoint: server.url });
    expect(auth.canRefresh).toBe(false);
    const c = client({ endpoint: server.url, auth });
    await c.request("GET", "ok/");
    await expect(c.request("GET", "no/")).rejects.toBeInstanceOf(AuthError);
    expect(server.requests.map((r) => r.url)).toEqual(["/orm/api/ok/", "/orm/api/no/"]);
    expect(() =>
      authFromEnv({ ...env, MAINSEQUENCE_REFRESH_TOKEN: "r" }, { endpoint: server.url }),
    ).toThrow(/MAINSEQUENCE_REFRESH_TOKEN is not allowed/);
  });

  it("B4: runtime credential exchange, written back to env, reused", async () => {
    const server = await startServer((req, res) => {
      if (req.url === "/orm/api/pods/runtime-credentials/token/") {
        return json(res, 200, { access: "runtime-access", token_type: "Bearer", expires_in: 300 });
      }
      json(res, 200, { auth: req.headers.authorization });
    });
    const env: NodeJS.ProcessEnv = {
      MAINSEQUENCE_AUTH_MODE: "runtime_credential",
      MAINSEQUENCE_RUNTIME_CREDENTIAL_ID: "cred-id",
      MAINSEQUENCE_RUNTIME_CREDENTIAL_SECRET: "cred-secret",
      MAINSEQUENCE_REFRESH_TOKEN: "untouched",
    };
    const c = client({ endpoint: server.url, auth: authFromEnv(env, { endpoint: server.url }) });
    expect((await c.request<{ auth: string }>("GET", "x/")).data.auth).toBe(
      "Bearer runtime-access",
    );
    await c.request("GET", "y/");
    const exchange = server.requests[0];
    expect(exchange?.method).toBe("POST");
    expect(exchange?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(exchange?.body ?? "")).toEqual({
      credential_id: "cred-id",
      credential_secret: "cred-secret",
    });
    expect(server.requests.filter((r) => r.url.includes("runtime-credentials"))).toHaveLength(1);
    expect(env.MAINSEQUENCE_ACCESS_TOKEN).toBe("runtime-access");
    expect(env.MAINSEQUENCE_REFRESH_TOKEN).toBe("untouched");
  });

  it("B5/B6/B7: runtime re-exchange on near expiry and once after a 401; missing id errors", async () => {
    let issued = 0;
    const server = await startServer((req, res) => {
      if (req.url === "/orm/api/pods/runtime-credentials/token/") {
        issued += 1;
        return json(res, 200, { access: "fresh-runtime-access" });
      }
      if (req.headers.authorization === "Bearer fresh-runtime-access") return json(res, 200, {});
      json(res, 401, { detail: "stale" });
    });
    const base = {
      MAINSEQUENCE_AUTH_MODE: "runtime_credential",
      MAINSEQUENCE_RUNTIME_CREDENTIAL_ID: "cred-id",
      MAINSEQUENCE_RUNTIME_CREDENTIAL_SECRET: "cred-secret",
    };
    const nearExpiry: NodeJS.ProcessEnv = {
      ...base,
      MAINSEQUENCE_ACCESS_TOKEN: jwt(nowSec() + 10),
    };
    const c1 = client({
      endpoint: server.url,
      auth: authFromEnv(nearExpiry, { endpoint: server.url }),
    });
    await c1.request("GET", "x/");
    expect(issued).toBe(1);
    expect(server.requests[0]?.url).toBe("/orm/api/pods/runtime-credentials/token/");

    server.requests.length = 0;
    const stale: NodeJS.ProcessEnv = { ...base, MAINSEQUENCE_ACCESS_TOKEN: "stale-runtime-access" };
    const c2 = client({ endpoint: server.url, auth: authFromEnv(stale, { endpoint: server.url }) });
    expect((await c2.request("GET", "x/")).attempts).toBe(2);
    expect(issued).toBe(2);
    expect(
      server.requests.filter((r) => r.url === "/orm/api/x/").map((r) => r.headers.authorization),
    ).toEqual(["Bearer stale-runtime-access", "Bearer fresh-runtime-access"]);

    const noId = authFromEnv(
      { MAINSEQUENCE_AUTH_MODE: "runtime_credential" },
      { endpoint: server.url },
    );
    await expect(noId.headers()).rejects.toThrow("MAINSEQUENCE_RUNTIME_CREDENTIAL_ID is required");
  });
});

describe("secrets never leak", () => {
  it("keeps tokens out of error messages, error fields, serialized errors and logs", async () => {
    const token = "super-secret-token-123";
    const server = await startServer((req, res, n) => {
      // A hostile/buggy server that echoes the Authorization header back in its error bodies.
      const echo = `rejected ${req.headers.authorization ?? ""}`;
      if (n <= 2) return json(res, 500, { detail: echo });
      if (n === 3) return json(res, 400, { detail: echo, token: req.headers.authorization });
      json(res, 401, { detail: echo });
    });
    const { logger, lines } = captureLogger();
    const env: NodeJS.ProcessEnv = {
      MAINSEQUENCE_ACCESS_TOKEN: token,
      MAINSEQUENCE_REFRESH_TOKEN: "",
    };
    const c = client({
      endpoint: server.url,
      auth: authFromEnv(env, { endpoint: server.url }),
      logger,
      retry: { maxAttempts: 3 },
    });
    const e1 = await c.request("GET", "x/", { query: { q: "v" } }).catch((err: unknown) => err);
    const e2 = await c.request("GET", "x/").catch((err: unknown) => err);
    expect(e1).toBeInstanceOf(RemoteApiError);
    expect(e2).toBeInstanceOf(AuthError);
    for (const e of [e1, e2] as RemoteApiError[]) {
      const dump = `${e.message}\n${e.stack ?? ""}\n${JSON.stringify(e)}\n${JSON.stringify(e.body)}\n${String(e)}\n${e.url}`;
      expect(dump).not.toContain(token);
      expect(e.url).not.toContain("?");
    }
    expect((e1 as RemoteApiError).message).toContain("rejected");
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(lines)).not.toContain(token);
  });

  it("refresh failures do not echo the refresh token", async () => {
    const server = await startServer((req, res) =>
      json(res, 400, { detail: `bad refresh ${req.body}` }),
    );
    const env: NodeJS.ProcessEnv = {
      MAINSEQUENCE_ACCESS_TOKEN: "",
      MAINSEQUENCE_REFRESH_TOKEN: "refresh-secret-999",
    };
    const c = client({ endpoint: server.url, auth: authFromEnv(env, { endpoint: server.url }) });
    const e = (await c.request("GET", "x/").catch((err: unknown) => err)) as AuthError;
    expect(e).toBeInstanceOf(AuthError);
    expect(`${e.message} ${JSON.stringify(e)} ${e.stack ?? ""}`).not.toContain(
      "refresh-secret-999",
    );
  });
});

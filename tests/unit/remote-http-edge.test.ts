import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Logger } from "../../src/logger.js";
import {
  authFromEnv,
  authModeFromEnv,
  jwtExpiry,
  staticTokenAuth,
} from "../../src/store/remote/auth.js";
import { PlatformClient, type PlatformClientOptions } from "../../src/store/remote/http-client.js";
import { AuthError, type RemoteApiError } from "../../src/store/remote/remote-errors.js";

type Handler = (req: IncomingMessage & { text: string }, res: ServerResponse, n: number) => void;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

async function serve(
  handler: Handler,
): Promise<{ url: string; seen: Array<{ url: string; auth: string | undefined }> }> {
  const seen: Array<{ url: string; auth: string | undefined }> = [];
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => {
      text += c.toString("utf8");
    });
    req.on("end", () => {
      seen.push({ url: req.url ?? "", auth: req.headers.authorization });
      handler(Object.assign(req, { text }), res, seen.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function makeClient(options: PlatformClientOptions): PlatformClient {
  const c = new PlatformClient({
    auth: staticTokenAuth("t0ken"),
    logger: quiet,
    ...options,
    retry: { baseDelayMs: 1, maxDelayMs: 5, ...options.retry },
  });
  cleanups.push(() => c.close());
  return c;
}

describe("PlatformClient edge cases", () => {
  it("a per-request timeout longer than the client default is honoured (long uploads)", async () => {
    const s = await serve((_req, res) => {
      setTimeout(() => send(res, 200, { ok: true }), 250);
    });
    const c = makeClient({ endpoint: s.url, timeoutMs: 100, retry: { maxAttempts: 1 } });
    await expect(c.request("GET", "x/")).rejects.toMatchObject({ code: "timeout" });
    expect((await c.request("GET", "x/", { timeoutMs: 2_000 })).data).toEqual({ ok: true });
  });

  it("429 until attempts run out → throttled error carrying Retry-After", async () => {
    const s = await serve((_req, res) =>
      send(res, 429, { detail: "Request was throttled." }, { "retry-after": "0" }),
    );
    const c = makeClient({ endpoint: s.url, retry: { maxAttempts: 3 } });
    const e = (await c.request("GET", "x/").catch((err: unknown) => err)) as RemoteApiError;
    expect([e.code, e.status, e.attempts, e.retryAfterMs]).toEqual(["throttled", 429, 3, 0]);
    expect(s.seen).toHaveLength(3);
  });

  it("a declared-gzip body that is not gzip is an invalid_response error", async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.end("not gzip");
    });
    const c = makeClient({ endpoint: s.url });
    await expect(c.request("GET", "x/")).rejects.toMatchObject({ code: "invalid_response" });
  });

  it("accepts absolute URLs on the endpoint origin", async () => {
    const s = await serve((_req, res) => send(res, 200, []));
    const c = makeClient({ endpoint: s.url });
    await c.request("GET", `${s.url}/orm/api/ts_manager/api/constants`);
    expect(s.seen[0]?.url).toBe("/orm/api/ts_manager/api/constants");
  });

  it("concurrent requests share one JWT refresh", async () => {
    let refreshes = 0;
    const s = await serve((req, res) => {
      if (req.url === "/auth/jwt-token/token/refresh/") {
        refreshes += 1;
        setTimeout(() => send(res, 200, { access: "new-access" }), 30);
        return;
      }
      send(res, 200, {});
    });
    const env: NodeJS.ProcessEnv = { MAINSEQUENCE_REFRESH_TOKEN: "rt" };
    const c = makeClient({ endpoint: s.url, auth: authFromEnv(env, { endpoint: s.url }) });
    await Promise.all([c.request("GET", "a/"), c.request("GET", "b/"), c.request("GET", "c/")]);
    expect(refreshes).toBe(1);
    expect(
      s.seen
        .filter((r) => r.url !== "/auth/jwt-token/token/refresh/")
        .every((r) => r.auth === "Bearer new-access"),
    ).toBe(true);
  });

  it("an expired JWT without refresh token is still sent (the platform decides)", async () => {
    const expired = `${Buffer.from("{}").toString("base64url")}.${Buffer.from(JSON.stringify({ exp: 1 })).toString("base64url")}.s`;
    const s = await serve((_req, res) => send(res, 200, {}));
    const env: NodeJS.ProcessEnv = { MAINSEQUENCE_ACCESS_TOKEN: expired };
    const auth = authFromEnv(env, { endpoint: s.url });
    expect(auth.canRefresh).toBe(false);
    const c = makeClient({ endpoint: s.url, auth });
    await c.request("GET", "x/");
    expect(s.seen[0]?.auth).toBe(`Bearer ${expired}`);
    await expect(auth.headers({ forceRefresh: true })).rejects.toBeInstanceOf(AuthError);
  });

  it("re-derives the provider from env on every request", async () => {
    const s = await serve((req, res) => {
      if (req.url === "/orm/api/pods/runtime-credentials/token/")
        return send(res, 200, { access: "rt-access", token_type: "Token" });
      send(res, 200, {});
    });
    const env: NodeJS.ProcessEnv = { MAINSEQUENCE_ACCESS_TOKEN: "plain" };
    const c = makeClient({ endpoint: s.url, auth: authFromEnv(env, { endpoint: s.url }) });
    await c.request("GET", "x/");
    env.MAINSEQUENCE_AUTH_MODE = "RUNTIME_CREDENTIAL";
    env.MAINSEQUENCE_ACCESS_TOKEN = "";
    env.MAINSEQUENCE_RUNTIME_CREDENTIAL_ID = "id";
    env.MAINSEQUENCE_RUNTIME_CREDENTIAL_SECRET = "secret";
    await c.request("GET", "y/");
    expect(s.seen.map((r) => r.auth)).toEqual(["Bearer plain", undefined, "Token rt-access"]);
  });

  it("mode and JWT helpers", () => {
    expect(authModeFromEnv({})).toBe("jwt");
    expect(authModeFromEnv({ MAINSEQUENCE_AUTH_MODE: "whatever" })).toBe("jwt");
    expect(authModeFromEnv({ MAINSEQUENCE_AUTH_MODE: " Session_JWT " })).toBe("session_jwt");
    expect(jwtExpiry("opaque")).toBeNull();
    expect(jwtExpiry(`a.${Buffer.from('{"exp":123}').toString("base64url")}.c`)).toBe(123);
    expect(jwtExpiry("a.!!!.c")).toBeNull();
  });

  it("defaults the endpoint from MAINSEQUENCE_ENDPOINT and strips trailing slashes", () => {
    const previous = process.env.MAINSEQUENCE_ENDPOINT;
    process.env.MAINSEQUENCE_ENDPOINT = "https://platform.example/";
    try {
      const c = makeClient({ auth: staticTokenAuth("x") });
      expect(c.endpoint).toBe("https://platform.example");
      expect(c.apiRoot).toBe("https://platform.example/orm/api");
      delete process.env.MAINSEQUENCE_ENDPOINT;
      expect(makeClient({ auth: staticTokenAuth("x") }).endpoint).toBe(
        "https://api.main-sequence.app",
      );
    } finally {
      if (previous === undefined) delete process.env.MAINSEQUENCE_ENDPOINT;
      else process.env.MAINSEQUENCE_ENDPOINT = previous;
    }
  });
});

import { describe, expect, it } from "vitest";
import { DT, LTS, PRJ, STC, startServer, TOKEN } from "./server-fixture.js";

describe("auth", () => {
  it("checks the bearer token on every /orm/api route: missing or wrong → 401 {detail}", async () => {
    const f = await startServer();
    const routes: [string, string][] = [
      ["GET", "/orm/api/ts_manager/api/constants"],
      ["GET", `${PRJ}/${f.server.projectUid}/`],
      ["POST", `${DT}/get_or_create/`],
      ["GET", `${DT}/?storage_hash=x`],
      ["PATCH", `${LTS}/x/set_start_of_execution/`],
      ["POST", `${LTS}/x/insert_data_into_table/`],
      ["GET", `${STC}/x/get_stats/`],
      ["GET", "/orm/api/anything/else/"],
    ];
    for (const [method, path] of routes) {
      const body = method === "GET" ? undefined : {};
      const missing = await f.call(method, path, body, { token: null });
      expect(missing.status, `${method} ${path}`).toBe(401);
      expect(missing.body.detail).toBe("Authentication credentials were not provided.");
      const wrong = await f.call(method, path, body, { token: "not-the-token" });
      expect(wrong.status, `${method} ${path}`).toBe(401);
      expect(wrong.body.detail).toBeTypeOf("string");
    }
    const ok = await f.call("GET", "/orm/api/ts_manager/api/constants");
    expect(ok.status).toBe(200);
    expect(f.server.faults.count({ status: 401 })).toBe(routes.length * 2);
  });

  it("issues JWTs, refreshes them, and rejects expired ones", async () => {
    let now = Date.parse("2026-05-01T00:00:00Z");
    const f = await startServer({ jwt: { accessTtlSeconds: 300, now: () => now } });
    const badLogin = await f.call(
      "POST",
      "/auth/jwt-token/token/",
      { username: "me", password: "no" },
      { token: null },
    );
    expect(badLogin.status).toBe(401);
    const login = await f.call(
      "POST",
      "/auth/jwt-token/token/",
      { username: "me", password: TOKEN },
      { token: null },
    );
    expect(login.status).toBe(200);
    expect(Object.keys(login.body).sort()).toEqual(["access", "refresh"]);
    const { access, refresh } = login.body as { access: string; refresh: string };
    const claims = JSON.parse(Buffer.from(access.split(".")[1]!, "base64url").toString("utf8"));
    expect(claims.exp - claims.iat).toBe(300);
    const constants = "/orm/api/ts_manager/api/constants";
    expect((await f.call("GET", constants, undefined, { token: access })).status).toBe(200);
    // A refresh token is not an access token.
    expect((await f.call("GET", constants, undefined, { token: refresh })).status).toBe(401);

    now += 301_000;
    const expired = await f.call("GET", constants, undefined, { token: access });
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ code: "token_not_valid" });
    const refreshed = await f.call(
      "POST",
      "/auth/jwt-token/token/refresh/",
      { refresh },
      { token: null },
    );
    expect(refreshed.status).toBe(200);
    expect(
      (await f.call("GET", constants, undefined, { token: refreshed.body.access })).status,
    ).toBe(200);
    const tampered = `${refreshed.body.access.slice(0, -2)}xx`;
    expect((await f.call("GET", constants, undefined, { token: tampered })).status).toBe(401);

    const notRefresh = await f.call(
      "POST",
      "/auth/jwt-token/token/refresh/",
      { refresh: access },
      { token: null },
    );
    expect(notRefresh).toMatchObject({ status: 401, body: { code: "token_not_valid" } });
    now += 2 * 86_400_000;
    const stale = await f.call(
      "POST",
      "/auth/jwt-token/token/refresh/",
      { refresh },
      { token: null },
    );
    expect(stale.status).toBe(401);
  });

  it("exchanges a runtime credential for a JWT (no bearer needed on that route)", async () => {
    const f = await startServer();
    const path = "/orm/api/pods/runtime-credentials/token/";
    const res = await f.call(
      "POST",
      path,
      { credential_id: "cred-id", credential_secret: TOKEN },
      { token: null },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: "Bearer", expires_in: 300 });
    const ok = await f.call("GET", "/orm/api/ts_manager/api/constants", undefined, {
      token: res.body.access,
    });
    expect(ok.status).toBe(200);
    const bad = await f.call(
      "POST",
      path,
      { credential_id: "cred-id", credential_secret: "x" },
      { token: null },
    );
    expect(bad.status).toBe(401);
  });
});

import type { Hono, MiddlewareHandler } from "hono";
import { HttpError } from "../http-error.js";
import type { JwtIssuer } from "../jwt.js";
import { readObject } from "./route-helpers.js";

/** The runtime-credential exchange (under the API root, yet open: it is how a pod gets a token). */
export const RUNTIME_CREDENTIALS = "/orm/api/pods/runtime-credentials/token/";

/** What the auth routes and the bearer check need. */
export interface AuthSettings {
  /** The static token: a valid bearer, the password of the login route and the credential secret. */
  readonly token: string;
  readonly jwt: JwtIssuer;
}

/**
 * `POST /auth/jwt-token/token/` (login: any username, the server token as password),
 * `POST /auth/jwt-token/token/refresh/` (rotates the refresh token) and the runtime-credential
 * exchange (the server token as `credential_secret`).
 */
export function registerAuthRoutes(app: Hono, auth: AuthSettings): void {
  app.post("/auth/jwt-token/token/", async (c) => {
    const body = await readObject(c);
    const username = typeof body["username"] === "string" ? body["username"] : "";
    if (username === "" || body["password"] !== auth.token) {
      throw HttpError.detail(401, "No active account found with the given credentials");
    }
    return c.json(auth.jwt.issuePair(username));
  });

  app.post("/auth/jwt-token/token/refresh/", async (c) => {
    const body = await readObject(c);
    const refresh = typeof body["refresh"] === "string" ? body["refresh"] : "";
    const claims = auth.jwt.verify(refresh, "refresh");
    if (!claims) {
      throw new HttpError(401, { detail: "Token is invalid or expired", code: "token_not_valid" });
    }
    return c.json(auth.jwt.issuePair(claims.user_id));
  });

  app.post(RUNTIME_CREDENTIALS, async (c) => {
    const body = await readObject(c);
    const id = typeof body["credential_id"] === "string" ? body["credential_id"] : "";
    if (id === "" || body["credential_secret"] !== auth.token) {
      throw HttpError.detail(401, "Invalid runtime credential.");
    }
    return c.json({
      access: auth.jwt.issue("access", `runtime:${id}`),
      token_type: "Bearer",
      expires_in: auth.jwt.accessTtlSeconds,
    });
  });
}

/**
 * The token check of every `/orm/api` route: `Authorization: Bearer <t>` with the static token
 * or an unexpired JWT this server issued; otherwise 401 `{"detail": ...}`.
 */
export function bearerAuth(auth: AuthSettings): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.path === RUNTIME_CREDENTIALS) return next();
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw HttpError.detail(401, "Authentication credentials were not provided.");
    const token = match[1]!;
    if (token !== auth.token && auth.jwt.verify(token, "access") === null) {
      throw new HttpError(401, {
        detail: "Given token not valid for any token type",
        code: "token_not_valid",
      });
    }
    return next();
  };
}

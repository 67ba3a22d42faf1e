import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";

/** The claims of a token the local server issues. */
export interface JwtClaims {
  readonly token_type: "access" | "refresh";
  readonly exp: number;
  readonly iat: number;
  readonly jti: string;
  readonly user_id: string;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/**
 * Issues and verifies short-lived HS256 JWTs (the shape `djangorestframework-simplejwt` gives the
 * platform's `/auth/jwt-token/` routes), so a client's refresh-before-expiry and
 * refresh-after-401 paths run against real tokens.
 *
 * @example
 * ```ts
 * const jwt = new JwtIssuer({ accessTtlSeconds: 300 });
 * const { access } = jwt.issuePair("user");
 * jwt.verify(access, "access"); // claims, or null when invalid or expired
 * ```
 */
export class JwtIssuer {
  readonly accessTtlSeconds: number;
  readonly refreshTtlSeconds: number;
  private readonly secret: Buffer;
  private readonly now: () => number;

  constructor(
    options: {
      secret?: string;
      accessTtlSeconds?: number;
      refreshTtlSeconds?: number;
      /** Clock in epoch milliseconds (tests). */
      now?: () => number;
    } = {},
  ) {
    this.secret = options.secret ? Buffer.from(options.secret) : randomBytes(32);
    this.accessTtlSeconds = options.accessTtlSeconds ?? 300;
    this.refreshTtlSeconds = options.refreshTtlSeconds ?? 86_400;
    this.now = options.now ?? Date.now;
  }

  /** A token of `type` valid for `ttlSeconds` (negative: already expired, for tests). */
  issue(type: "access" | "refresh", userId: string, ttlSeconds?: number): string {
    const iat = Math.floor(this.now() / 1000);
    const ttl = ttlSeconds ?? (type === "access" ? this.accessTtlSeconds : this.refreshTtlSeconds);
    const claims: JwtClaims = {
      token_type: type,
      exp: iat + ttl,
      iat,
      jti: randomUUID(),
      user_id: userId,
    };
    const head = `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}`;
    return `${head}.${this.sign(head)}`;
  }

  /** A fresh access + refresh pair. */
  issuePair(userId: string): { access: string; refresh: string } {
    return { access: this.issue("access", userId), refresh: this.issue("refresh", userId) };
  }

  /** The claims of a valid, unexpired token of `type`; `null` otherwise. */
  verify(token: string, type: "access" | "refresh"): JwtClaims | null {
    const parts = token.split(".");
    if (parts.length !== 3) return null;
    const [head, body, signature] = parts as [string, string, string];
    const expected = Buffer.from(this.sign(`${head}.${body}`));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    let claims: JwtClaims;
    try {
      claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as JwtClaims;
    } catch {
      return null;
    }
    if (claims.token_type !== type || typeof claims.exp !== "number") return null;
    if (claims.exp <= Math.floor(this.now() / 1000)) return null;
    return claims;
  }

  private sign(data: string): string {
    return createHmac("sha256", this.secret).update(data).digest("base64url");
  }
}

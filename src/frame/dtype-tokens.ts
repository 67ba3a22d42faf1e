import { ConfigError } from "../errors.js";
import type { DType } from "./dtypes.js";

/**
 * The canonical dtype tokens of the platform (`platform-protocol.md` §4.1). Record definitions,
 * column dtype maps and table schemas on the wire spell dtypes with these tokens.
 */
export type DtypeToken =
  | "date"
  | "timestamp with time zone"
  | "datetime64[ns]"
  | "string"
  | "uuid"
  | "json"
  | "jsonb"
  | "bool"
  | "int16"
  | "int32"
  | "int64"
  | "float32"
  | "float64"
  | "numeric";

/** Every canonical token, in the order of the protocol table. */
export const DTYPE_TOKENS: readonly DtypeToken[] = [
  "date",
  "timestamp with time zone",
  "datetime64[ns]",
  "string",
  "uuid",
  "json",
  "jsonb",
  "bool",
  "int16",
  "int32",
  "int64",
  "float32",
  "float64",
  "numeric",
];

// Keys are already normalised (lower case, `_` → space, single spaces, trimmed).
const ALIASES: ReadonlyMap<string, DtypeToken> = new Map<string, DtypeToken>([
  ["date", "date"],
  ["datetime.date", "date"],
  ["datetime", "timestamp with time zone"],
  ["datetime.datetime", "timestamp with time zone"],
  ["datetime64[ns, utc]", "timestamp with time zone"],
  ["timestamptz", "timestamp with time zone"],
  ["timestamp with time zone", "timestamp with time zone"],
  ["datetime64[ns]", "datetime64[ns]"],
  ["timestamp", "datetime64[ns]"],
  ["timestamp without time zone", "datetime64[ns]"],
  ["datetime without time zone", "datetime64[ns]"],
  ["datetime naive", "datetime64[ns]"],
  ["object", "string"],
  ["str", "string"],
  ["string", "string"],
  ["text", "string"],
  ["varchar", "string"],
  ["char", "string"],
  ["unicode", "string"],
  ["uuid", "uuid"],
  ["uuidtype", "uuid"],
  ["postgresqluuid", "uuid"],
  ["json", "json"],
  ["jsonb", "jsonb"],
  ["bool", "bool"],
  ["boolean", "bool"],
  ["int16", "int16"],
  ["smallint", "int16"],
  ["int2", "int16"],
  ["int32", "int32"],
  ["integer", "int32"],
  ["int", "int32"],
  ["int4", "int32"],
  ["int64", "int64"],
  ["biginteger", "int64"],
  ["bigint", "int64"],
  ["int8", "int64"],
  ["uint16", "int64"],
  ["uint32", "int64"],
  ["uint64", "int64"],
  ["float32", "float32"],
  ["real", "float32"],
  ["float4", "float32"],
  ["float", "float64"],
  ["float64", "float64"],
  ["double", "float64"],
  ["double precision", "float64"],
  ["float8", "float64"],
  ["decimal", "numeric"],
]);

/** Options of {@link normalizeDtypeToken}. */
export interface NormalizeDtypeOptions {
  /** Remote tables reject naive datetimes (`datetime64[ns]`) instead of returning the token. */
  readonly remote?: boolean;
}

/**
 * Normalises a dtype spelling to its canonical token, as the reference `normalize_dtype_token`
 * does: trim, lower-case, `_` → space, collapse whitespace, then map aliases (`"BIGINT"` →
 * `"int64"`, `"Float64"` → `"float64"`, `"timestamptz"` → `"timestamp with time zone"`,
 * anything containing `varchar` → `"string"`, `numeric…` → `"numeric"`). An unknown spelling
 * is returned unchanged (original spelling), so it never equals a canonical token.
 *
 * Throws a `ConfigError` (`invalid_dtype`) for an empty dtype, and (`naive_datetime_dtype`) for
 * a naive datetime when `remote` is set.
 *
 * @example
 * ```ts
 * normalizeDtypeToken(" Double_Precision "); // "float64"
 * normalizeDtypeToken("VARCHAR(32)"); // "string"
 * normalizeDtypeToken("Decimal128"); // "Decimal128" (unknown: unchanged)
 * ```
 */
export function normalizeDtypeToken(text: string, options: NormalizeDtypeOptions = {}): string {
  const key = String(text).trim().toLowerCase().replaceAll("_", " ").replace(/\s+/g, " ").trim();
  if (key === "") {
    throw new ConfigError(
      "invalid_dtype",
      `dtype must be a non-empty string, got ${JSON.stringify(text)}`,
    );
  }
  let token = ALIASES.get(key);
  if (token === undefined) {
    if (key.includes("varchar")) token = "string";
    else if (key.startsWith("numeric")) token = "numeric";
  }
  if (token === undefined) return text;
  if (token === "datetime64[ns]" && options.remote) {
    throw new ConfigError(
      "naive_datetime_dtype",
      `dtype ${JSON.stringify(text)} is a naive datetime, which remote tables do not accept: use "timestamp with time zone"`,
    );
  }
  return token;
}

/** True when `token` is one of the canonical {@link DTYPE_TOKENS}. */
export function isDtypeToken(token: string): token is DtypeToken {
  return (DTYPE_TOKENS as readonly string[]).includes(token);
}

const FRAME_DTYPE_TOKENS: Readonly<Record<DType, DtypeToken>> = {
  float64: "float64",
  int64: "int64",
  bool: "bool",
  string: "string",
  timestamptz: "timestamp with time zone",
  date: "date",
  json: "json",
};

/**
 * The token a Frame dtype is declared with in a column dtype map (`platform-protocol.md` §4.2).
 *
 * @example
 * ```ts
 * frameDTypeToToken("timestamptz"); // "timestamp with time zone"
 * ```
 */
export function frameDTypeToToken(dtype: DType): DtypeToken {
  return FRAME_DTYPE_TOKENS[dtype];
}

const TOKEN_FRAME_DTYPES: Readonly<Partial<Record<DtypeToken, DType>>> = {
  date: "date",
  "timestamp with time zone": "timestamptz",
  string: "string",
  uuid: "string",
  json: "json",
  jsonb: "json",
  bool: "bool",
  int16: "int64",
  int32: "int64",
  int64: "int64",
  float32: "float64",
  float64: "float64",
  numeric: "float64",
};

/**
 * The Frame dtype that stores values of a token (any spelling; it is normalised first).
 * Returns `undefined` for unknown tokens and for naive datetimes (`datetime64[ns]`,
 * `timestamp`): tdag instants are always UTC, so there is no Frame dtype for them.
 *
 * @example
 * ```ts
 * tokenToFrameDType("int32"); // "int64"
 * tokenToFrameDType("uuid"); // "string"
 * tokenToFrameDType("timestamp"); // undefined (naive)
 * ```
 */
export function tokenToFrameDType(token: string): DType | undefined {
  let normalized: string;
  try {
    normalized = normalizeDtypeToken(token);
  } catch {
    return undefined;
  }
  return isDtypeToken(normalized) ? TOKEN_FRAME_DTYPES[normalized] : undefined;
}

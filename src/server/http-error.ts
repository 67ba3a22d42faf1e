import { errorFamily } from "../errors.js";

/** Codes of {@link HttpError}, one per status the server answers with. */
export const HTTP_ERROR_CODES = [
  "bad_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "conflict",
  "payload_too_large",
  "unsupported_media_type",
  "throttled",
  "server_error",
  "http_error",
] as const;
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

const STATUS_CODES: Readonly<Record<number, HttpErrorCode>> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "throttled",
};

function codeOf(status: number): HttpErrorCode {
  return STATUS_CODES[status] ?? (status >= 500 ? "server_error" : "http_error");
}

/** DRF-style field errors: `{ "field": ["message", ...] }`. */
export type FieldErrors = Readonly<Record<string, readonly string[]>>;

/**
 * An error a route answers with a fixed status and JSON body, as the platform does:
 * `{ "detail": "..." }` for most errors, DRF field errors for bad payloads.
 *
 * @example
 * ```ts
 * throw HttpError.badRequest({ storage_hash: ["This field is required."] });
 * ```
 */
export class HttpError extends errorFamily("HttpError", HTTP_ERROR_CODES) {
  declare readonly status: number;
  declare readonly body: Readonly<Record<string, unknown>>;

  constructor(status: number, body: Readonly<Record<string, unknown>>, message?: string) {
    super(
      codeOf(status),
      message ?? (typeof body["detail"] === "string" ? body["detail"] : JSON.stringify(body)),
      {},
      { status, body },
    );
  }

  /** 400 with DRF field errors. */
  static badRequest(fields: FieldErrors): HttpError {
    return new HttpError(400, fields);
  }

  /** An error with a `detail` message. */
  static detail(status: number, detail: string): HttpError {
    return new HttpError(status, { detail });
  }

  static notFound(detail = "Not found."): HttpError {
    return HttpError.detail(404, detail);
  }
}

/** Shorthand for one field's error. */
export function fieldError(field: string, message: string): HttpError {
  return HttpError.badRequest({ [field]: [message] });
}

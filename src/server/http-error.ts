import { TdagError } from "../errors.js";

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
export class HttpError extends TdagError {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;

  constructor(status: number, body: Readonly<Record<string, unknown>>, message?: string) {
    super(
      `http_${status}`,
      message ?? (typeof body["detail"] === "string" ? body["detail"] : JSON.stringify(body)),
    );
    this.status = status;
    this.body = body;
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

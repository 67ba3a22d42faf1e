import { gunzipSync, inflateRawSync, inflateSync } from "node:zlib";

/** What every request accepts, as the platform's Python client (requests) sends it. */
export const PLATFORM_ACCEPT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  accept: "*/*",
  "accept-encoding": "gzip, deflate",
});

/**
 * A response body decoded by its `Content-Encoding` (`gzip`, `deflate` — zlib-wrapped, or raw
 * as some servers send it — or none). Throws zlib's error on a corrupt body.
 */
export function decodeBody(raw: Buffer, encoding: string): Buffer {
  if (raw.length === 0) return raw;
  const coding = encoding.trim().toLowerCase();
  if (coding.includes("gzip")) return gunzipSync(raw);
  if (coding.includes("deflate")) {
    try {
      return inflateSync(raw);
    } catch {
      return inflateRawSync(raw);
    }
  }
  return raw;
}

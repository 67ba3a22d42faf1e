export {
  type AuthMode,
  type AuthProvider,
  authFromEnv,
  staticTokenAuth,
} from "./auth.js";
export {
  type HttpMethod,
  PlatformClient,
  type PlatformClientOptions,
  type PlatformResponse,
  type RequestOptions,
} from "./http-client.js";
export {
  chunkStats,
  decodeGzipBase64Json,
  encodeCell,
  encodeGzipBase64Json,
  frameToWireRows,
  leafToMicros,
  schemaFromStc,
  statisticsFromWire,
  updateStatsPayload,
  type WireRow,
  wireRowsToFrame,
} from "./remote-encoding.js";
export { AuthError, RemoteApiError } from "./remote-errors.js";
export {
  mapRemoteError,
  type PlatformClientLike,
  RemoteStore,
  type RemoteStoreOptions,
  toStorageRecord,
} from "./remote-store.js";

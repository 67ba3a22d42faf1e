/**
 * The environment variables that select and configure a store (`TDAG_STORE`, the DuckDB path,
 * the platform's `MAINSEQUENCE_*` settings and project): tests clear or set them so the runner's
 * own environment never leaks into a run.
 */
export const STORE_ENV_KEYS = [
  "TDAG_STORE",
  "TDAG_DUCKDB_PATH",
  "MAINSEQUENCE_ENDPOINT",
  "MAINSEQUENCE_ACCESS_TOKEN",
  "MAINSEQUENCE_REFRESH_TOKEN",
  "MAINSEQUENCE_AUTH_MODE",
  "MAINSEQUENCE_RUNTIME_CREDENTIAL_ID",
  "MAINSEQUENCE_RUNTIME_CREDENTIAL_SECRET",
  "MAIN_SEQUENCE_PROJECT_UID",
] as const;

/**
 * tdag — time-series data products as DataNodes.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { DataNode, DataNodeConfiguration, type UpdateContext } from "tdag";
 *
 * const Config = DataNodeConfiguration.extend({ mean: z.number() });
 * class DailyRandomNumber extends DataNode<typeof Config> {
 *   static override configSchema = Config;
 *   override update(_: UpdateContext) {
 *     return [{ time_index: new Date(), random_number: this.config.mean + Math.random() }];
 *   }
 * }
 * const { df } = await new DailyRandomNumber({ mean: 0 }).run();
 * ```
 *
 * The embedded DuckDB store is opened lazily; import `tdag/duckdb` to open one explicitly.
 */

// config
export {
  DATA_FREQUENCY_VALUES,
  DataFrequency,
  DataFrequencySchema,
  type DataFrequencyValue,
  DataNodeConfiguration,
  DataNodeMetaData,
  RecordDefinition,
  SourceTableForeignKey,
} from "./config/data-node-configuration.js";
export {
  type DateTimeInput,
  DateTimeValue,
  type LuxonLike,
  zDateTime,
} from "./config/date-time.js";
export {
  type HashMarkers,
  hashExcluded,
  hashMarkers,
  runtimeOnly,
  updateOnly,
} from "./config/markers.js";
export { type ModelIdentity, pythonIdentity, tsIdentity } from "./config/model-identity.js";
export { parseConfig } from "./config/parse-config.js";
// engine
export type {
  NodeRunSummary,
  RunOptions,
  RunResult,
  UpdateContext,
} from "./engine/run-engine.js";
// errors
export {
  ArgumentError,
  type ArgumentErrorCode,
  ConfigError,
  type ConfigErrorCode,
  type ConfigIssue,
  errorFamilies,
  errorFamily,
  type FrameIssue,
  type FrameIssueCode,
  FrameValidationError,
  GraphError,
  type GraphErrorCode,
  HashingError,
  type HashingErrorCode,
  isTdagError,
  NotFoundError,
  type NotFoundErrorCode,
  RunError,
  type RunErrorCode,
  StoreError,
  type StoreErrorCode,
  TdagError,
  type TdagErrorOptions,
  UnknownAssetError,
  UpdateStatisticsError,
  type UpdateStatisticsErrorCode,
} from "./errors.js";
// filters
export {
  and_,
  type ConditionNode,
  F,
  FILTER_OPS,
  FilterError,
  type FilterErrorCode,
  type FilterNode,
  type FilterOp,
  type GroupNode,
  type JoinSpec,
  type JoinSpecInput,
  type JoinType,
  or_,
  parseFilter,
  SearchRequest,
  type SearchRequestInput,
  toWireJson,
  toWirePayload,
  type WireSearchRequest,
} from "./filters/index.js";
// frame
export {
  DTYPE_TOKENS,
  type DtypeToken,
  frameDTypeToToken,
  isDtypeToken,
  type NormalizeDtypeOptions,
  normalizeDtypeToken,
  tokenToFrameDType,
} from "./frame/dtype-tokens.js";
export { type Column, type ColumnStorage, DTYPES, type DType } from "./frame/dtypes.js";
export {
  Frame,
  type FrameInput,
  type FrameOptions,
  type FrameRecord,
  type RecordsOptions,
  TIME_INDEX,
  UNIQUE_IDENTIFIER,
} from "./frame/frame.js";
export {
  type InstantLike,
  MICROS,
  microsToDate,
  microsToIso,
  toEpochMicros,
} from "./frame/time.js";
export {
  frameIssues,
  isPythonLower,
  MAX_COLUMN_NAME_LENGTH,
  type RecordDeclaration,
  type SafeValidateFrameResult,
  safeValidateFrame,
  type ValidateFrameOptions,
  validateFrame,
} from "./frame/validate-frame.js";
// hashing
export {
  type ConfigurationHash,
  type HashOptions,
  hashConfiguration,
} from "./hashing/configuration-hash.js";
export { parsePythonJson } from "./hashing/lexeme-json.js";
export { currentHashNamespace, disableHashNamespace, hashNamespace } from "./hashing/namespace.js";
export {
  type ProjectUidResolver,
  resolveProjectUid,
  setProjectUidResolver,
} from "./hashing/project-uid.js";
export { PyFloat, PyIntKeyDict, type PyValue, pyFloat } from "./hashing/py-value.js";
export { pythonJsonDumps } from "./hashing/python-json.js";
// logging
export { ConsoleLogger, type LogFields, type Logger, type LogLevel } from "./logger.js";
// nodes
export {
  APIDataNode,
  type APIDataNodeOptions,
} from "./node/api-data-node.js";
export { Asset, type AssetCallOptions } from "./node/asset.js";
export { DataNode } from "./node/data-node.js";
export {
  DataNodeStorage,
  type FilterPagingOptions,
  type FilterReadOptions,
} from "./node/data-node-storage.js";
export {
  diffHashes,
  explainHash,
  type HashDiff,
  type HashExplanation,
} from "./node/explain-hash.js";
export type { PythonClassIdentity } from "./node/identity.js";
export type { DataNodeOptions } from "./node/node-options.js";
export type {
  DateRangeOptions,
  DimensionOptions,
  DimensionRangeInput,
} from "./node/read-options.js";
// search
export {
  createHashedEmbedder,
  HASHED_EMBEDDING_DIMENSION,
  HASHED_EMBEDDING_MODEL,
  hashedEmbedding,
} from "./search/hashed-embedder.js";
export { cosineSimilarity } from "./search/ranking.js";
export { configureSearch } from "./search/search-config.js";
export { SearchError, type SearchErrorCode } from "./search/search-error.js";
export type { Embedder, SearchSettings } from "./search/search-types.js";
export { trigramSimilarity, wordSimilarity } from "./search/trigram.js";
export {
  type IdentityRange,
  type IndexProgressCoordinate,
  type StatisticsDimensionRange,
  UPDATE_STATISTICS_FIELDS,
  type UpdateStart,
  UpdateStatistics,
  type UpdateStatisticsInit,
  type UpdateStatisticsJSON,
} from "./statistics/update-statistics.js";
// stores
export type {
  AssetFilter,
  AssetRecord,
  AssetRegistration,
  AssetRegistry,
  AssetSnapshot,
  CallOptions,
  CatalogSearch,
  ColumnMetadata,
  ColumnSearchOptions,
  DataStore,
  DependencyTarget,
  DescriptionSearchOptions,
  DimensionQuery,
  DimensionRange,
  FilterResult,
  ListRunsOptions,
  ProgressTree,
  ReadQuery,
  RegisterStorageInput,
  RegisterUpdaterInput,
  RunLog,
  RunOutcome,
  RunRecord,
  RunRef,
  RunSummary,
  SearchHit,
  StorageKey,
  StorageRecord,
  StorageRegistry,
  StorageSearchFilters,
  StoreCapabilities,
  StoreCapability,
  StoreInfo,
  StoreKind,
  TableMetadata,
  TableSchema,
  TableStatistics,
  TableStore,
  UpdaterKey,
  UpdaterRecord,
  WriteOptions,
  WriteResult,
} from "./store/data-store.js";
export {
  closeStore,
  configure,
  type DefaultStoreKind,
  getLogger,
  getStore,
  type TdagSettings,
} from "./store/store-registry.js";
export { STORE_CAPABILITIES } from "./store/store-types.js";
export { TDAG_VERSION } from "./version.js";

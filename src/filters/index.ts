export {
  type ConditionNode,
  condition,
  FILTER_OPS,
  type FilterLogic,
  type FilterNode,
  type FilterOp,
  type FilterScalar,
  type FilterValue,
  type GroupNode,
  group,
  type IsoFormattable,
  isFilterNode,
  isFilterOp,
  parseFilter,
} from "./filter-ast.js";
export { and_, F, type MaybeFilter, or_ } from "./filter-builders.js";
export { FilterCompiler } from "./filter-compiler.js";
export { FilterError, type FilterErrorCode } from "./filter-error.js";
export {
  JoinKey,
  type JoinSpec,
  type JoinSpecInput,
  type JoinType,
  SearchRequest,
  type SearchRequestInput,
} from "./search-request.js";
export {
  pythonIsoformat,
  toWireJson,
  toWirePayload,
  WireFilterCompiler,
  type WireFilterNode,
  type WireJoinSpec,
  type WireSearchRequest,
} from "./wire-filter-compiler.js";

import { ArgumentError } from "../errors.js";
import type { Frame } from "../frame/frame.js";
import { type InstantLike, toEpochMicros } from "../frame/time.js";
import type {
  CallOptions,
  DataStore,
  DimensionQuery,
  DimensionRange,
  ReadQuery,
  StorageRecord,
} from "../store/data-store.js";

/** One per-coordinate window of `dimensionRangeMap`. */
export interface DimensionRangeInput {
  readonly coordinate: Readonly<Record<string, unknown>>;
  readonly startDate?: InstantLike | null;
  readonly startDateOperand?: ">=" | ">";
  readonly endDate?: InstantLike | null;
  readonly endDateOperand?: "<=" | "<";
}

/** Dimension restrictions accepted by every read. */
export interface DimensionOptions extends CallOptions {
  /** `{ unique_identifier: ["AAPL", "MSFT"] }`: AND across dimensions, IN within one. */
  readonly dimensionFilters?: Readonly<Record<string, readonly unknown[]>>;
  /** Exact coordinates, ORed: `[{ unique_identifier: "AAPL" }]`. */
  readonly indexCoordinates?: readonly Readonly<Record<string, unknown>>[];
  /** Per-coordinate windows, ORed (what `UpdateStatistics` range-map helpers return). */
  readonly dimensionRangeMap?: readonly DimensionRangeInput[];
}

/**
 * Options of `getDfBetweenDates`. Dates accept `Date`, ISO text (a date-only or naive string is
 * read as UTC, never as the machine's local time), epoch milliseconds, or bigint microseconds.
 */
export interface DateRangeOptions extends DimensionOptions {
  readonly startDate?: InstantLike | null;
  readonly endDate?: InstantLike | null;
  /** `time >= startDate` (default) or `time > startDate`. */
  readonly greatOrEqual?: boolean;
  /** `time <= endDate` (default) or `time < endDate`. */
  readonly lessOrEqual?: boolean;
  /** Value columns to return; index columns always come back. */
  readonly columns?: readonly string[];
}

const REMOVED = ["unique_identifier_list", "unique_identifier_range_map", "uniqueIdentifierList"];

function rejectRemoved(options: object): void {
  for (const key of REMOVED) {
    if (key in options) {
      throw new ArgumentError(
        "removed_option",
        `${key} was removed from reads; use dimensionFilters: { unique_identifier: [...] } or dimensionRangeMap`,
      );
    }
  }
}

function instant(value: InstantLike | null | undefined, what: string): number | null {
  return value === null || value === undefined ? null : toEpochMicros(value, true, what);
}

/** A range entry; operands only when given (stores and the platform default to `>=` and `<=`). */
function toRange(entry: DimensionRangeInput, i: number): DimensionRange {
  return {
    coordinate: entry.coordinate,
    startDate: instant(entry.startDate, `dimensionRangeMap[${i}].startDate`),
    ...(entry.startDateOperand === undefined ? {} : { startDateOperand: entry.startDateOperand }),
    endDate: instant(entry.endDate, `dimensionRangeMap[${i}].endDate`),
    ...(entry.endDateOperand === undefined ? {} : { endDateOperand: entry.endDateOperand }),
  };
}

/** Converts user dimension options into the store's query shape. */
export function toDimensionQuery(options: DimensionOptions): DimensionQuery {
  rejectRemoved(options);
  return {
    ...(options.dimensionFilters ? { dimensionFilters: options.dimensionFilters } : {}),
    ...(options.indexCoordinates ? { indexCoordinates: options.indexCoordinates } : {}),
    ...(options.dimensionRangeMap
      ? { dimensionRangeMap: options.dimensionRangeMap.map(toRange) }
      : {}),
  };
}

/** Converts `getDfBetweenDates` options into the store's query shape. */
export function toReadQuery(options: DateRangeOptions): ReadQuery {
  return {
    ...toDimensionQuery(options),
    start: instant(options.startDate, "startDate"),
    end: instant(options.endDate, "endDate"),
    greatOrEqual: options.greatOrEqual ?? true,
    lessOrEqual: options.lessOrEqual ?? true,
    ...(options.columns ? { columns: options.columns } : {}),
  };
}

/** Reads a storage between dates; a storage that was never written reads as an empty frame. */
export async function readBetweenDates(
  store: DataStore,
  storage: StorageRecord,
  options: DateRangeOptions,
): Promise<Frame> {
  const query = toReadQuery(options);
  return store.readFrame(storage.uid, query, options.signal ? { signal: options.signal } : {});
}

/** Reads the latest row of every matched coordinate. */
export async function readLastObservation(
  store: DataStore,
  storage: StorageRecord,
  options: DimensionOptions,
): Promise<Frame> {
  return store.readLastObservation(
    storage.uid,
    toDimensionQuery(options),
    options.signal ? { signal: options.signal } : {},
  );
}

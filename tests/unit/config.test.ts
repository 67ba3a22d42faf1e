import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  DataFrequency,
  DataNodeConfiguration,
  DataNodeMetaData,
  RecordDefinition,
  SourceTableForeignKey,
} from "../../src/config/data-node-configuration.js";
import { type DateTimeValue, zDateTime } from "../../src/config/date-time.js";
import {
  hashExcluded,
  hashMarkers,
  readFieldMarkers,
  runtimeOnly,
  updateOnly,
} from "../../src/config/markers.js";
import { getModelIdentity, pythonIdentity, tsIdentity } from "../../src/config/model-identity.js";
import { parseConfig } from "../../src/config/parse-config.js";
import { ConfigError } from "../../src/errors.js";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

describe("DataNodeConfiguration", () => {
  it("has the reference base fields and defaults", () => {
    expect(Object.keys(DataNodeConfiguration.shape)).toEqual([
      "open_to_public",
      "offset_start",
      "records",
      "foreign_keys",
      "node_metadata",
    ]);
    expect(DataNodeConfiguration.parse({})).toEqual({
      open_to_public: false,
      offset_start: null,
      records: null,
      foreign_keys: null,
      node_metadata: null,
    });
  });

  it("carries the SDK Python identities", () => {
    const sdk = "mainsequence.tdag.data_nodes.models";
    expect(getModelIdentity(DataNodeConfiguration)).toMatchObject({
      module: sdk,
      qualname: "DataNodeConfiguration",
    });
    expect(getModelIdentity(RecordDefinition)).toMatchObject({
      module: sdk,
      qualname: "RecordDefinition",
    });
    expect(getModelIdentity(SourceTableForeignKey)).toMatchObject({
      module: sdk,
      qualname: "SourceTableForeignKey",
    });
    expect(getModelIdentity(DataNodeMetaData)).toMatchObject({
      module: sdk,
      qualname: "DataNodeMetaData",
    });
    // an extension is a new model: it does not inherit the identity
    expect(getModelIdentity(DataNodeConfiguration.extend({ a: z.int() }))).toBeUndefined();
  });

  it("has the reference markers on its base fields", () => {
    const shape = DataNodeConfiguration.shape;
    const m = (f: keyof typeof shape) => readFieldMarkers(shape[f], "DataNodeConfiguration", f);
    expect(m("open_to_public")).toEqual({ updateOnly: false, runtimeOnly: true });
    expect(m("offset_start")).toEqual({ updateOnly: true, runtimeOnly: false });
    expect(m("records")).toEqual({ updateOnly: false, runtimeOnly: false });
    expect(m("foreign_keys")).toEqual({ updateOnly: false, runtimeOnly: false });
    expect(m("node_metadata")).toEqual({ updateOnly: false, runtimeOnly: true });
  });

  it("rejects unknown keys and wrong types with dotted paths", () => {
    const Cfg = DataNodeConfiguration.extend({ window: z.int() });
    const err = thrown(() =>
      parseConfig(
        Cfg,
        { windw: 1, window: "x", records: [{ column_name: "c".repeat(64), dtype: "float64" }] },
        "PricesNode",
      ),
    ) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe("config_invalid");
    expect(err.issues.map((i) => i.path).sort()).toEqual([
      "records.0.column_name",
      "window",
      "windw",
    ]);
    expect(err.message).toMatch(/^Invalid configuration for PricesNode: /);
    expect(err.message).toContain("windw: unknown key");
  });

  it("validates the SDK models", () => {
    expect(RecordDefinition.parse({ column_name: "close", dtype: "float64" })).toEqual({
      column_name: "close",
      dtype: "float64",
      label: null,
      description: null,
    });
    expect(() =>
      SourceTableForeignKey.parse({ target: "t", source_columns: [], target_columns: ["uid"] }),
    ).toThrow();
    expect(
      SourceTableForeignKey.parse({ target: "t", source_columns: ["a"], target_columns: ["uid"] })
        .on_delete,
    ).toBe("restrict");
    expect(
      DataNodeMetaData.parse({ identifier: "x", data_frequency_id: "1mo" }).data_frequency_id,
    ).toBe("1mo");
    expect(() => DataNodeMetaData.parse({ identifier: "x", data_frequency_id: "2d" })).toThrow();
    expect(DataFrequency.one_min).toBe(DataFrequency.one_m);
  });
});

describe("markers", () => {
  const read = (schema: z.ZodType) => readFieldMarkers(schema, "M", "f");

  it("survive optional, nullable, default, describe, pipes and wrapping in any order", () => {
    const u = { updateOnly: true, runtimeOnly: false };
    const r = { updateOnly: false, runtimeOnly: true };
    expect(read(updateOnly(z.string()).optional())).toEqual(u);
    expect(read(updateOnly(z.string().optional()))).toEqual(u);
    expect(read(updateOnly(z.string()).nullable().default(null))).toEqual(u);
    expect(read(updateOnly(z.string()).describe("shard"))).toEqual(u);
    expect(read(updateOnly(z.string()).min(1).optional())).toEqual(u);
    expect(read(updateOnly(z.string()).transform((s) => s.length))).toEqual(u);
    expect(read(runtimeOnly(z.int()).default(0))).toEqual(r);
    expect(read(hashExcluded(z.string()).nullish())).toEqual(r);
    expect(read(z.lazy(() => hashExcluded(z.string())))).toEqual(r);
    expect(read(z.string())).toEqual({ updateOnly: false, runtimeOnly: false });
  });

  it("do not mark a shared schema (markers apply to a clone)", () => {
    const Ticker = z.string();
    const marked = updateOnly(Ticker);
    expect(read(marked).updateOnly).toBe(true);
    expect(read(Ticker).updateOnly).toBe(false);
  });

  it("are read from .meta() (Python json_schema_extra spellings)", () => {
    expect(read(z.string().meta({ update_only: true }))).toEqual({
      updateOnly: true,
      runtimeOnly: false,
    });
    expect(read(z.string().meta({ runtime_only: true }).optional())).toEqual({
      updateOnly: false,
      runtimeOnly: true,
    });
    expect(read(z.string().meta({ hash_excluded: true }))).toEqual({
      updateOnly: false,
      runtimeOnly: true,
    });
    expect(read(z.string().meta({ update_only: false }))).toEqual({
      updateOnly: false,
      runtimeOnly: false,
    });
  });

  it("reject conflicts, non-booleans and the legacy key with the reference messages", () => {
    const conflict = (schema: z.ZodType) =>
      (thrown(() => readFieldMarkers(schema, "Cfg", "shard_id")) as Error).message;
    const both = "Cfg.shard_id cannot be both update_only and hash-excluded metadata.";
    expect(conflict(updateOnly(runtimeOnly(z.string())))).toBe(both);
    expect(conflict(hashExcluded(updateOnly(z.string())).optional())).toBe(both);
    expect(conflict(updateOnly(z.string()).meta({ hash_excluded: true }))).toBe(both);
    expect(conflict(updateOnly(z.string().meta({ runtime_only: true })).default("a"))).toBe(both);
    expect(conflict(z.string().meta({ runtime_only: 1 }))).toBe(
      "Cfg.shard_id metadata 'runtime_only' must be bool",
    );
    const misuse = z.string();
    hashMarkers.add(misuse, { hash_excluded: "yes" as unknown as boolean });
    expect(conflict(misuse)).toBe("Cfg.shard_id metadata 'hash_excluded' must be bool");
    expect(conflict(z.string().meta({ ignore_from_storage_hash: false }))).toBe(
      `Cfg.shard_id uses removed metadata 'ignore_from_storage_hash'; use json_schema_extra={"update_only": True} instead.`,
    );
    expect(
      thrown(() => readFieldMarkers(updateOnly(runtimeOnly(z.string())), "Cfg", "x")),
    ).toBeInstanceOf(ConfigError);
  });
});

describe("model identities", () => {
  it("pythonIdentity registers in place and survives describe/meta clones; tsIdentity uses module ts", () => {
    const Vol = z.strictObject({ center: z.number() });
    expect(pythonIdentity(Vol, { module: "m", qualname: "Vol" })).toBe(Vol);
    expect(getModelIdentity(Vol.describe("vol settings"))).toMatchObject({
      module: "m",
      qualname: "Vol",
    });
    expect(getModelIdentity(hashExcluded(Vol).optional())).toMatchObject({
      module: "m",
      qualname: "Vol",
    });
    expect(getModelIdentity(tsIdentity(z.strictObject({}), "Leg"))).toMatchObject({
      module: "ts",
      qualname: "Leg",
    });
  });
});

describe("zDateTime", () => {
  const iso = (input: unknown) => (zDateTime().parse(input) as DateTimeValue).isoformat();

  it("prints like Python isoformat, keeping offsets, naive-ness and microseconds", () => {
    expect(iso("2024-01-01T09:30:00.000123+05:30")).toBe("2024-01-01T09:30:00.000123+05:30");
    expect(iso("2024-01-01T00:00:00Z")).toBe("2024-01-01T00:00:00+00:00");
    expect(iso("2024-01-01T00:00:00-00:00")).toBe("2024-01-01T00:00:00+00:00");
    expect(iso("2024-01-01T00:00:00")).toBe("2024-01-01T00:00:00");
    expect(iso("2024-01-01")).toBe("2024-01-01T00:00:00");
    expect(iso("2024-01-01 12:00:00.5-03:00")).toBe("2024-01-01T12:00:00.500000-03:00");
    expect(iso("2024-01-01T12:00:00.123456789Z")).toBe("2024-01-01T12:00:00.123456+00:00");
    expect(iso("2024-01-01T12:00:00+05:30:15")).toBe("2024-01-01T12:00:00+05:30:15");
    expect(iso(new Date("2024-03-01T12:00:00.250Z"))).toBe("2024-03-01T12:00:00.250000+00:00");
    expect(iso({ toMillis: () => Date.UTC(2024, 0, 1, 14, 30), offset: 60, isValid: true })).toBe(
      "2024-01-01T15:30:00+01:00",
    );
  });

  it("keeps the instant", () => {
    const v = zDateTime().parse("2024-01-01T09:30:00.000123+05:30") as DateTimeValue;
    expect(v.epochMicros).toBe(Date.UTC(2024, 0, 1, 4, 0, 0) * 1000 + 123);
    expect(v.toDate().toISOString()).toBe("2024-01-01T04:00:00.000Z");
    expect(v.isNaive).toBe(false);
    expect(zDateTime().parse(v)).toBe(v);
    expect(JSON.stringify({ v })).toBe('{"v":"2024-01-01T09:30:00.000123+05:30"}');
  });

  it("rejects non-datetimes", () => {
    for (const bad of [
      "2024-13-01",
      "2024-02-30T00:00:00Z",
      "yesterday",
      5,
      null,
      new Date(Number.NaN),
    ]) {
      expect(zDateTime().safeParse(bad).success).toBe(false);
    }
    const err = thrown(() =>
      parseConfig(DataNodeConfiguration, { offset_start: "2024-02-30" }, "N"),
    ) as ConfigError;
    expect(err.issues[0]?.path).toBe("offset_start");
  });
});

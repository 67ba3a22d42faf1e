import { describe, expect, it } from "vitest";
import * as z from "zod";
import { DataNodeConfiguration } from "../../src/config/data-node-configuration.js";
import { zDateTime } from "../../src/config/date-time.js";
import { hashExcluded, updateOnly } from "../../src/config/markers.js";
import { pythonIdentity, tsIdentity } from "../../src/config/model-identity.js";
import { DataNode } from "../../src/node/data-node.js";
import { explainHash } from "../../src/node/explain-hash.js";

/*
 * Hand-made vectors. The expectations were computed once by a small Python script that writes
 * the build configuration a pydantic twin would produce, strips it per datanode-core.md §3.6 and
 * hashes `json.dumps(..., sort_keys=True)` (§3.8); they are pasted here as literals.
 */
const EXPECTED = {
  ts_native_unicode: {
    updateHash: "pricesnode_1e47beec3bca243f2b461bfb71f8e693",
    storageHash: "pricesnode_22cc78d7536ac7a8abfe92607aa3d118",
    update:
      '{"config": {"pydantic_model_import_path": {"module": "ts", "qualname": "AnonymousModel"}, "serialized_model": {"foreign_keys": null, "free": {"x": 1, "y": 1.5}, "gr\\u00f6\\u00dfe": 1.0, "huge": 1e+16, "offset_start": null, "records": null, "ticker": "Gr\\u00f6\\u00dfe \\ud83d\\udcc8 \\u2028\\u0007", "tiny": 1e-07, "window": 20}}, "time_series_class_import_path": {"module": "ts", "qualname": "PricesNode"}}',
    storage:
      '{"config": {"pydantic_model_import_path": {"module": "ts", "qualname": "AnonymousModel"}, "serialized_model": {"foreign_keys": null, "free": {"x": 1, "y": 1.5}, "gr\\u00f6\\u00dfe": 1.0, "huge": 1e+16, "records": null, "ticker": "Gr\\u00f6\\u00dfe \\ud83d\\udcc8 \\u2028\\u0007", "tiny": 1e-07, "window": 20}}, "time_series_class_import_path": {"module": "ts", "qualname": "PricesNode"}}',
    build:
      '{"config": {"pydantic_model_import_path": {"module": "ts", "qualname": "AnonymousModel"}, "serialized_model": {"open_to_public": false, "offset_start": null, "records": null, "foreign_keys": null, "node_metadata": null, "ticker": "Gr\\u00f6\\u00dfe \\ud83d\\udcc8 \\u2028\\u0007", "gr\\u00f6\\u00dfe": 1.0, "window": 20, "tiny": 1e-07, "huge": 1e+16, "free": {"x": 1, "y": 1.5}}, "update_only": ["offset_start"], "runtime_only": ["node_metadata", "open_to_public"]}, "time_series_class_import_path": {"module": "ts", "qualname": "PricesNode"}}',
  },
  datetimes: {
    updateHash: "whennode_b2b2e2e0c456fce90e11ff2248d4df18",
    storageHash: "whennode_025d63e7a91d27b07478bae5deed0e53",
    update:
      '{"config": {"pydantic_model_import_path": {"module": "tests", "qualname": "WhenConfig"}, "serialized_model": {"foreign_keys": null, "luxon": "2024-06-30T19:00:00-05:00", "naive": "2024-01-01T00:00:00", "offset_start": "2024-01-01T09:30:00.000123+05:30", "plain": "2024-03-01T12:00:00.250000+00:00", "records": null, "start": "2024-01-01T09:30:00.000123+05:30", "z_string": "2024-01-01T00:00:00+00:00"}}, "time_series_class_import_path": {"module": "tests", "qualname": "WhenNode"}}',
    storage:
      '{"config": {"pydantic_model_import_path": {"module": "tests", "qualname": "WhenConfig"}, "serialized_model": {"foreign_keys": null, "luxon": "2024-06-30T19:00:00-05:00", "naive": "2024-01-01T00:00:00", "plain": "2024-03-01T12:00:00.250000+00:00", "records": null, "start": "2024-01-01T09:30:00.000123+05:30", "z_string": "2024-01-01T00:00:00+00:00"}}, "time_series_class_import_path": {"module": "tests", "qualname": "WhenNode"}}',
    build:
      '{"config": {"pydantic_model_import_path": {"module": "tests", "qualname": "WhenConfig"}, "serialized_model": {"open_to_public": false, "offset_start": "2024-01-01T09:30:00.000123+05:30", "records": null, "foreign_keys": null, "node_metadata": null, "start": "2024-01-01T09:30:00.000123+05:30", "naive": "2024-01-01T00:00:00", "plain": "2024-03-01T12:00:00.250000+00:00", "luxon": "2024-06-30T19:00:00-05:00", "z_string": "2024-01-01T00:00:00+00:00"}, "update_only": ["offset_start"], "runtime_only": ["node_metadata", "open_to_public"]}, "time_series_class_import_path": {"module": "tests", "qualname": "WhenNode"}}',
  },
  structures_namespaced: {
    updateHash: "shapesnode_0ac5b36f59cfbbc91dd574a42e8a622f",
    storageHash: "shapesnode_e5597b1e49fa6f3e2e021d84301aa979",
    update:
      '{"config": {"pydantic_model_import_path": {"module": "tests", "qualname": "ShapesConfig"}, "serialized_model": {"foreign_keys": null, "inner": {"pydantic_model_import_path": {"module": "tests", "qualname": "Inner"}, "serialized_model": {"scope": "s1", "weight": 0.25}}, "inners": [{"pydantic_model_import_path": {"module": "tests", "qualname": "Inner"}, "serialized_model": {"scope": "s2", "weight": 0.25}}, {"pydantic_model_import_path": {"module": "tests", "qualname": "Inner"}, "serialized_model": {"scope": "s3", "weight": 0.25}}], "level": 2, "names": {"9": "a", "10": "b", "100": "c"}, "offset_start": null, "pair": {"__type__": "tuple", "items": ["x", 1.0, 2]}, "records": null, "side": "b"}}, "hash_namespace": "ns \\u00fc", "project_uid": "proj-1", "time_series_class_import_path": {"module": "tests", "qualname": "ShapesNode"}}',
    storage:
      '{"config": {"pydantic_model_import_path": {"module": "tests", "qualname": "ShapesConfig"}, "serialized_model": {"foreign_keys": null, "inner": {"pydantic_model_import_path": {"module": "tests", "qualname": "Inner"}, "serialized_model": {"weight": 0.25}}, "inners": [{"pydantic_model_import_path": {"module": "tests", "qualname": "Inner"}, "serialized_model": {"weight": 0.25}}, {"pydantic_model_import_path": {"module": "tests", "qualname": "Inner"}, "serialized_model": {"weight": 0.25}}], "level": 2, "names": {"9": "a", "10": "b", "100": "c"}, "pair": {"__type__": "tuple", "items": ["x", 1.0, 2]}, "records": null, "side": "b"}}, "hash_namespace": "ns \\u00fc", "time_series_class_import_path": {"module": "tests", "qualname": "ShapesNode"}}',
    build:
      '{"config": {"pydantic_model_import_path": {"module": "tests", "qualname": "ShapesConfig"}, "serialized_model": {"open_to_public": false, "offset_start": null, "records": null, "foreign_keys": null, "node_metadata": null, "side": "b", "level": 2, "pair": {"__type__": "tuple", "items": ["x", 1.0, 2]}, "names": {"9": "a", "10": "b", "100": "c"}, "inner": {"pydantic_model_import_path": {"module": "tests", "qualname": "Inner"}, "serialized_model": {"weight": 0.25, "scope": "s1", "label": "L"}, "update_only": ["scope"], "runtime_only": ["label"]}, "inners": [{"pydantic_model_import_path": {"module": "tests", "qualname": "Inner"}, "serialized_model": {"weight": 0.25, "scope": "s2", "label": "M"}, "update_only": ["scope"], "runtime_only": ["label"]}, {"pydantic_model_import_path": {"module": "tests", "qualname": "Inner"}, "serialized_model": {"weight": 0.25, "scope": "s3", "label": null}, "update_only": ["scope"], "runtime_only": ["label"]}]}, "update_only": ["offset_start"], "runtime_only": ["node_metadata", "open_to_public"]}, "hash_namespace": "ns \\u00fc", "time_series_class_import_path": {"module": "tests", "qualname": "ShapesNode"}}',
  },
} as const;

function check(node: DataNode<z.ZodObject>, expected: (typeof EXPECTED)[keyof typeof EXPECTED]) {
  const explained = explainHash(node);
  expect(explained.updateCanonicalJson).toBe(expected.update);
  expect(explained.storageCanonicalJson).toBe(expected.storage);
  expect(node.updateHash).toBe(expected.updateHash);
  expect(node.storageHash).toBe(expected.storageHash);
  expect(node.buildConfigurationJson).toBe(expected.build);
}

describe("hand-made vectors", () => {
  it("TS-native identity, unicode, float vs int typing, untyped values", () => {
    const PricesConfig = DataNodeConfiguration.extend({
      ticker: z.string(),
      größe: z.number(),
      window: z.int(),
      tiny: z.number(),
      huge: z.number(),
      free: z.unknown(),
    });
    class PricesNode extends DataNode<typeof PricesConfig> {
      static override configSchema = PricesConfig;
    }
    const node = new PricesNode({
      ticker: "Größe 📈 \u2028\u0007",
      größe: 1,
      window: 20,
      tiny: 1e-7,
      huge: 1e16,
      free: { x: 1, y: 1.5 },
    });
    check(node, EXPECTED.ts_native_unicode);
  });

  it("datetimes keep offsets, naive-ness and microseconds", () => {
    const WhenConfig = pythonIdentity(
      DataNodeConfiguration.extend({
        start: zDateTime(),
        naive: zDateTime(),
        plain: z.date(),
        luxon: zDateTime(),
        z_string: zDateTime(),
      }),
      { module: "tests", qualname: "WhenConfig" },
    );
    class WhenNode extends DataNode<typeof WhenConfig> {
      static override configSchema = WhenConfig;
      static override pythonIdentity = { module: "tests", qualname: "WhenNode" };
    }
    const luxonLike = {
      toMillis: () => Date.UTC(2024, 6, 1, 0, 0, 0),
      offset: -300,
      isValid: true,
    };
    const node = new WhenNode({
      offset_start: "2024-01-01T09:30:00.000123+05:30",
      start: "2024-01-01T09:30:00.000123+05:30",
      naive: "2024-01-01",
      plain: new Date("2024-03-01T12:00:00.250Z"),
      luxon: luxonLike,
      z_string: "2024-01-01T00:00:00Z",
    });
    check(node, EXPECTED.datetimes);
    expect(node.config.offset_start?.isoformat()).toBe("2024-01-01T09:30:00.000123+05:30");
  });

  it("enums, tuples, int-keyed records, nested models with markers, namespace and project", () => {
    const Inner = tsIdentity(
      z.strictObject({
        weight: z.number(),
        scope: updateOnly(z.string()),
        label: hashExcluded(z.string()).nullable().default(null),
      }),
      "Inner",
      "tests",
    );
    const ShapesConfig = tsIdentity(
      DataNodeConfiguration.extend({
        side: z.enum(["a", "b"]),
        level: z.enum({ LOW: 1, HIGH: 2 }),
        pair: z.tuple([z.string(), z.number(), z.int()]),
        names: z.record(z.int(), z.string()),
        inner: Inner,
        inners: z.array(Inner),
      }),
      "ShapesConfig",
      "tests",
    );
    class Shapes extends DataNode<typeof ShapesConfig> {
      static override configSchema = ShapesConfig;
      static override pythonIdentity = { module: "tests", qualname: "ShapesNode" };
    }
    const node = new Shapes(
      {
        side: "b",
        level: 2,
        pair: ["x", 1, 2],
        names: { 100: "c", 9: "a", 10: "b" },
        inner: { weight: 0.25, scope: "s1", label: "L" },
        inners: [
          { weight: 0.25, scope: "s2", label: "M" },
          { weight: 0.25, scope: "s3" },
        ],
      },
      { hashNamespace: "  ns ü ", projectUid: "proj-1" },
    );
    check(node, EXPECTED.structures_namespaced);
  });
});

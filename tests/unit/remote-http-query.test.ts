import { describe, expect, it } from "vitest";
import { TdagError } from "../../src/errors.js";
import {
  FILTERSETS,
  normalizeFilters,
  serializeModelQuery,
  serializeQuery,
} from "../../src/store/remote/query-params.js";

const U = "dddddddd-dddd-4ddd-8ddd-dddddddddddd";

describe("serializeQuery (protocol 1.6)", () => {
  it("comma-joins __in values, repeats other lists, drops null/undefined, lower-cases booleans", () => {
    expect(
      serializeQuery({
        storage_hash__in: ["a", "b", "c"],
        q: ["x", "y"],
        skip: null,
        missing: undefined,
        include_relations_detail: true,
        list_tables: false,
        id: 7,
      }),
    ).toBe(
      "storage_hash__in=a%2Cb%2Cc&q=x&q=y&include_relations_detail=true&list_tables=false&id=7",
    );
  });

  it("turns an __in scalar into a one-element list and percent-encodes values", () => {
    expect(serializeQuery({ uid__in: "u1" })).toBe("uid__in=u1");
    expect(serializeQuery({ identifier: "a b&c" })).toBe("identifier=a+b%26c");
    expect(serializeQuery({})).toBe("");
  });

  it("B8: normalises a declared filter set and renders the query", () => {
    const fs = {
      name: ["exact", "contains", "in"],
      parent__id: ["exact", "in"],
      active: ["isnull"],
    };
    const filters = {
      name__contains: "  momentum  ",
      name__in: [" growth ", "value"],
      parent__id__in: [1, { id: 2 }, { id: 3 }],
      active__isnull: "true",
    };
    expect(normalizeFilters(filters, fs, "Thing")).toEqual({
      name__contains: "momentum",
      name__in: ["growth", "value"],
      parent__id__in: [1, 2, 3],
      active__isnull: true,
    });
    // Python renders filter booleans as True/False; tdag sends true/false, which DRF
    // BooleanFilter parses the same way (documented in docs/remote-http.md).
    expect(serializeQuery(filters, fs, "Thing")).toBe(
      "name__contains=momentum&name__in=growth%2Cvalue&parent__id__in=1%2C2%2C3&active__isnull=true",
    );
  });

  it("B9: DataNodeStorage namespace filters", () => {
    expect(
      normalizeFilters(
        {
          namespace__contains: "  pytest  ",
          namespace__in: [" alpha ", "beta"],
          namespace__isnull: "false",
        },
        FILTERSETS.DataNodeStorage,
        "DataNodeStorage",
      ),
    ).toEqual({
      namespace__contains: "pytest",
      namespace__in: ["alpha", "beta"],
      namespace__isnull: false,
    });
  });

  it("B10: data_source uid from objects; data_source__id rejected before any request", () => {
    expect(
      normalizeFilters(
        { data_source__uid: { uid: U }, data_source__uid__in: [{ uid: U }] },
        FILTERSETS.DataNodeStorage,
        "DataNodeStorage",
      ),
    ).toEqual({ data_source__uid: U, data_source__uid__in: [U] });
    expect(() => serializeModelQuery("DataNodeStorage", { data_source__id: 3 })).toThrow(
      /Unsupported DataNodeStorage filter\(s\): data_source__id/,
    );
    expect(() =>
      serializeModelQuery("DataNodeUpdate", { remote_table__data_source__id: 3 }),
    ).toThrow(/Unsupported DataNodeUpdate filter\(s\): remote_table__data_source__id/);
    try {
      serializeModelQuery("DataNodeStorage", { storage_hash__gte: "x", bogus: 1 });
    } catch (error) {
      expect(error).toBeInstanceOf(TdagError);
      expect((error as TdagError).code).toBe("invalid_filter");
      expect((error as TdagError).message).toContain("storage_hash__gte, bogus");
    }
  });

  it("B11: DataNodeUpdate filters", () => {
    expect(
      normalizeFilters(
        { update_hash: " weights_daily ", remote_table__data_source__uid: { uid: U } },
        FILTERSETS.DataNodeUpdate,
        "DataNodeUpdate",
      ),
    ).toEqual({ update_hash: "weights_daily", remote_table__data_source__uid: U });
    expect(() => serializeModelQuery("DataNodeUpdate", { update_hash__in: ["a"] })).toThrow(
      /Unsupported/,
    );
  });

  it("B12/B13/B59: declared read/delete/listing params pass and render true/false", () => {
    expect(
      serializeModelQuery("DataNodeStorage", { uid: "uid-9", include_relations_detail: false }),
    ).toBe("uid=uid-9&include_relations_detail=false");
    expect(
      serializeModelQuery("DataNodeStorage", {
        full_delete_selected: true,
        override_protection: "false",
      }),
    ).toBe("full_delete_selected=true&override_protection=false");
    expect(
      serializeModelQuery("DataNodeStorage", {
        data_source__uid: "dynamic-duckdb",
        list_tables: true,
      }),
    ).toBe("data_source__uid=dynamic-duckdb&list_tables=true");
    expect(serializeModelQuery("Project", { project_name__contains: " p ", limit: 10 })).toBe(
      "project_name__contains=p&limit=10",
    );
    expect(
      serializeModelQuery("Asset", {
        unique_identifier__in: ["BTC", "ETH"],
        id__in: ["1", { id: 2 }],
      }),
    ).toBe("unique_identifier__in=BTC%2CETH&id__in=1%2C2");
  });

  it("rejects values a normaliser cannot read", () => {
    expect(() => serializeModelQuery("DataNodeStorage", { namespace__isnull: "maybe" })).toThrow(
      /boolean/,
    );
    expect(() => serializeModelQuery("Asset", { id: "x" })).toThrow(/integer id/);
    expect(() => serializeModelQuery("DataNodeStorage", { uid: "  " })).toThrow(/uid/);
  });
});

import { describe, expect, it } from "vitest";
import { TdagError } from "../../src/errors.js";
import {
  and_,
  F,
  FilterError,
  type FilterNode,
  group,
  or_,
  parseFilter,
  SearchRequest,
} from "../../src/filters/index.js";

function filterError(fn: () => unknown): FilterError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FilterError);
    expect(error).toBeInstanceOf(TdagError);
    return error as FilterError;
  }
  throw new Error("expected a FilterError");
}

describe("F helpers build frozen condition nodes", () => {
  it("builds every operator with the wire spelling", () => {
    expect(F.eq("a", 1)).toStrictEqual({ type: "condition", field: "a", op: "eq", value: 1 });
    expect(F.ne("a", "x").op).toBe("ne");
    expect([F.lt("a", 1).op, F.lte("a", 1).op, F.gt("a", 1).op, F.gte("a", 1).op]).toEqual([
      "lt",
      "lte",
      "gt",
      "gte",
    ]);
    expect(F.in_("a", [1, 2])).toStrictEqual({
      type: "condition",
      field: "a",
      op: "in",
      value: [1, 2],
    });
    expect(F.in("a", ["x"]).op).toBe("in");
    expect(F.not_in("a", []).op).toBe("not_in");
    expect(F.notIn("a", [1]).op).toBe("not_in");
    expect(F.between("a", 1, 2).value).toEqual([1, 2]);
    expect(F.contains("a", "x").op).toBe("contains");
    expect(F.starts_with("a", "x").op).toBe("starts_with");
    expect(F.startsWith("a", "x").op).toBe("starts_with");
    expect(F.ends_with("a", "x").op).toBe("ends_with");
    expect(F.endsWith("a", "x").op).toBe("ends_with");
    expect(F.is_null("a").value).toBe(true);
    expect(F.isNull("a", false).value).toBe(false);
  });

  it("drops the value of eq/ne null (IS NULL / IS NOT NULL), as the wire does", () => {
    expect(F.ne("a", null)).toStrictEqual({ type: "condition", field: "a", op: "ne" });
    expect("value" in F.eq("a", null)).toBe(false);
  });

  it("freezes nodes, their lists and copies Dates", () => {
    const values = ["A", "B"];
    const node = F.in_("u", values);
    values.push("C");
    expect(node.value).toEqual(["A", "B"]);
    expect(Object.isFrozen(node)).toBe(true);
    expect(Object.isFrozen(node.value)).toBe(true);
    expect(() => {
      (node as { field: string }).field = "x";
    }).toThrow(TypeError);
    const d = new Date("2024-01-01T00:00:00Z");
    const cond = F.gt("time_index", d);
    d.setUTCFullYear(2000);
    expect((cond.value as Date).toISOString()).toBe("2024-01-01T00:00:00.000Z");
  });

  it("and_/or_ drop undefined arguments; nothing left gives undefined", () => {
    const maybe: FilterNode | undefined = undefined;
    const g = and_(maybe, F.eq("a", 1), undefined);
    expect(g).toStrictEqual({
      type: "group",
      logic: "and",
      items: [{ type: "condition", field: "a", op: "eq", value: 1 }],
    });
    expect(and_()).toBeUndefined();
    expect(or_(undefined, undefined)).toBeUndefined();
    expect(or_(F.eq("a", 1), F.eq("a", 2))?.items).toHaveLength(2);
    expect(Object.isFrozen(g?.items)).toBe(true);
  });
});

describe("validation errors (appendix B42)", () => {
  it("in / not_in need a list; an empty list is valid", () => {
    expect(filterError(() => F.in_("x", "abc" as never)).message).toBe(
      "in requires a list value. (at filter.value)",
    );
    expect(filterError(() => F.not_in("x", 1 as never)).message).toContain(
      "not_in requires a list value.",
    );
    expect(F.in_("x", []).value).toEqual([]);
    expect(filterError(() => F.in_("x", ["a", null as never])).path).toBe("filter.value[1]");
  });

  it("between needs exactly two items", () => {
    const err = filterError(() =>
      parseFilter({ type: "condition", field: "x", op: "between", value: [1] }),
    );
    expect(err.code).toBe("invalid_filter");
    expect(err.message).toContain("between requires a 2-item list [start, end].");
  });

  it("pattern operators need strings; is_null a boolean; orderings a value", () => {
    expect(filterError(() => F.contains("x", 1 as never)).message).toContain(
      "contains needs a string value",
    );
    expect(filterError(() => F.is_null("x", "yes" as never)).code).toBe("invalid_filter");
    expect(filterError(() => F.gt("x", null as never)).message).toContain("null cannot be ordered");
    expect(filterError(() => F.eq("x", Number.NaN)).message).toContain("finite number");
    expect(filterError(() => F.eq("x", { a: 1 } as never)).code).toBe("invalid_filter");
    expect(filterError(() => F.eq("", 1)).message).toContain("non-empty field name");
  });

  it("rejects an empty group, unknown operators and nodes without type", () => {
    expect(filterError(() => group("and", [])).message).toContain("at least one item");
    expect(filterError(() => parseFilter({ type: "group", logic: "and", items: [] })).code).toBe(
      "invalid_filter",
    );
    expect(
      filterError(() => parseFilter({ type: "condition", field: "x", op: "like", value: "a" }))
        .message,
    ).toContain('unknown operator "like"');
    expect(filterError(() => parseFilter({ field: "x", op: "eq", value: 1 })).message).toContain(
      'needs "type": "condition" or "group"',
    );
    expect(
      filterError(() =>
        parseFilter({
          type: "group",
          logic: "and",
          items: [{ type: "condition", field: "x", op: "eq", value: 1 }, { op: "eq" }],
        }),
      ).path,
    ).toBe("filter.items[1]");
    expect(
      filterError(() => group("and", [{ type: "condition", field: "x", op: "eq" } as never]))
        .message,
    ).toContain("built with F");
  });

  it("parses wire JSON text, defaulting is_null to true and eq null to IS NULL", () => {
    const node = parseFilter(
      '{"type":"group","logic":"or","items":[{"type":"condition","field":"v","op":"is_null"},{"type":"condition","field":"a","op":"eq","value":null}]}',
    );
    expect(node).toStrictEqual(or_(F.is_null("v"), F.eq("a", null)));
  });

  it("target: exactly one of storage hash / identifier, non-blank", () => {
    const msg = "Exactly one of storage_hash or node_unique_identifier must be provided.";
    expect(filterError(() => new SearchRequest({})).message).toBe(msg);
    expect(
      filterError(() => new SearchRequest({ storageHash: "a", nodeUniqueIdentifier: "b" })).message,
    ).toBe(msg);
    expect(filterError(() => new SearchRequest({ storageHash: "  " })).message).toBe(msg);
    expect(filterError(() => new SearchRequest({ storageHash: "" })).code).toBe("invalid_request");
  });

  it("limit 1..500, offset >= 0", () => {
    expect(filterError(() => new SearchRequest({ storageHash: "h", limit: 0 })).message).toBe(
      "limit must be an integer between 1 and 500 (got 0) (at limit)",
    );
    expect(filterError(() => new SearchRequest({ storageHash: "h", limit: 501 })).code).toBe(
      "invalid_request",
    );
    expect(filterError(() => new SearchRequest({ storageHash: "h", limit: 2.5 })).code).toBe(
      "invalid_request",
    );
    expect(
      filterError(() => new SearchRequest({ storageHash: "h", offset: -1 })).message,
    ).toContain("offset must be an integer >= 0 (got -1)");
    expect(new SearchRequest({ storageHash: "h", limit: 500 }).limit).toBe(500);
    // the internal page override goes up to the reference's batch_limit, no further
    const req = new SearchRequest({ storageHash: "h" });
    expect(req.page(0, 14_000).limit).toBe(14_000);
    expect(filterError(() => req.page(0, 14_001)).code).toBe("invalid_request");
    expect(filterError(() => req.with({ limit: 14_000 })).code).toBe("invalid_request");
  });

  it("joins: exactly one target, names unique, on non-empty without blanks or duplicates", () => {
    const join = (j: object) => () =>
      new SearchRequest({
        storageHash: "h",
        joins: [{ name: "j", on: ["time_index"], ...j } as never],
      });
    expect(filterError(join({})).message).toContain(
      "JoinSpec requires exactly one of storage_hash or node_unique_identifier.",
    );
    expect(filterError(join({ storageHash: "a", nodeUniqueIdentifier: "b" })).code).toBe(
      "invalid_join",
    );
    expect(filterError(join({ storageHash: "a", on: [] })).message).toContain(
      "JoinSpec.on must include a time-first index vector.",
    );
    expect(filterError(join({ storageHash: "a", on: ["time_index", ""] })).message).toContain(
      "JoinSpec.on cannot contain empty index names.",
    );
    expect(
      filterError(join({ storageHash: "a", on: ["time_index", "time_index"] })).message,
    ).toContain("JoinSpec.on cannot contain duplicate index names.");
    expect(filterError(join({ storageHash: "a", type: "cross" })).code).toBe("invalid_join");
    expect(
      filterError(
        () =>
          new SearchRequest({
            storageHash: "h",
            joins: [
              { name: "j", storageHash: "a", on: ["time_index"] },
              { name: "j", storageHash: "b", on: ["time_index"] },
            ],
          }),
      ).message,
    ).toContain("Join names must be unique within a request.");
    // any time-first vector is allowed
    const ok = new SearchRequest({
      storageHash: "h",
      joins: [{ name: "j", storageHash: "a", on: ["time_index", "account_uid", "entity_uid"] }],
    });
    expect(ok.joins[0]).toStrictEqual({
      name: "j",
      storageHash: "a",
      on: ["time_index", "account_uid", "entity_uid"],
      type: "inner",
    });
  });

  it("requests are immutable; with() validates again and can retarget", () => {
    const req = new SearchRequest({ storageHash: "h", filter: F.eq("a", 1) });
    expect(Object.isFrozen(req)).toBe(true);
    const next = req.with({ offset: 50 });
    expect([req.offset, next.offset, next.filter]).toEqual([0, 50, req.filter]);
    const moved = req.with({ nodeUniqueIdentifier: "prices" });
    expect([moved.storageHash, moved.nodeUniqueIdentifier]).toEqual([undefined, "prices"]);
    expect(filterError(() => req.with({ limit: 0 })).code).toBe("invalid_request");
    expect(
      filterError(
        () => new SearchRequest({ storageHash: "h", filter: { type: "condition" } as never }),
      ).code,
    ).toBe("invalid_filter");
  });
});

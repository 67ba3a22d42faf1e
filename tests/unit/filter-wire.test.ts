import { describe, expect, it } from "vitest";
import {
  and_,
  F,
  JoinKey,
  or_,
  parseFilter,
  SearchRequest,
  toWireJson,
  toWirePayload,
} from "../../src/filters/index.js";
import { pyFloat } from "../../src/hashing/py-value.js";

// Appendix B of platform-protocol.md: `model_dump(mode="json", exclude_none=True)` of the
// reference's SearchRequest, pinned as exact text.
describe("SearchRequest wire JSON (appendix B37-B41)", () => {
  it("B37: storage hash only", () => {
    const req = new SearchRequest({ storageHash: "prices_abc" });
    expect(toWireJson(req)).toBe('{"storage_hash":"prices_abc","joins":[],"limit":50,"offset":0}');
    expect(toWirePayload(req)).toStrictEqual({
      storage_hash: "prices_abc",
      joins: [],
      limit: 50,
      offset: 0,
    });
    expect(Object.keys(toWirePayload(req))).toEqual(["storage_hash", "joins", "limit", "offset"]);
  });

  it("B38: identifier, and_ of eq and a datetime between", () => {
    const req = new SearchRequest({
      nodeUniqueIdentifier: "prices",
      filter: and_(
        F.eq("unique_identifier", "BTC"),
        F.between("time_index", new Date("2026-05-01T00:00:00Z"), new Date("2026-05-02T00:00:00Z")),
      ),
    });
    expect(toWireJson(req)).toBe(
      '{"joins":[],"filter":{"type":"group","logic":"and","items":[{"type":"condition","field":"unique_identifier","op":"eq","value":"BTC"},{"type":"condition","field":"time_index","op":"between","value":["2026-05-01T00:00:00+00:00","2026-05-02T00:00:00+00:00"]}]},"limit":50,"offset":0,"node_unique_identifier":"prices"}',
    );
  });

  it("B39: or_ of in, nested and, not_in, ne null, a date", () => {
    const req = new SearchRequest({
      storageHash: "h",
      filter: or_(
        F.in_("unique_identifier", ["A", "B"]),
        and_(F.gte("close", 10), F.is_null("volume")),
        F.not_in("x", [1, 2]),
        F.ne("a", null),
        F.gt("d", "2026-01-02"),
      ),
    });
    expect(toWireJson(req)).toBe(
      '{"storage_hash":"h","joins":[],"filter":{"type":"group","logic":"or","items":[' +
        '{"type":"condition","field":"unique_identifier","op":"in","value":["A","B"]},' +
        '{"type":"group","logic":"and","items":[{"type":"condition","field":"close","op":"gte","value":10},' +
        '{"type":"condition","field":"volume","op":"is_null","value":true}]},' +
        '{"type":"condition","field":"x","op":"not_in","value":[1,2]},' +
        '{"type":"condition","field":"a","op":"ne"},' +
        '{"type":"condition","field":"d","op":"gt","value":"2026-01-02"}]},"limit":50,"offset":0}',
    );
    const notNull = new SearchRequest({ storageHash: "h", filter: F.is_null("x", false) });
    expect(toWireJson(notNull)).toContain(
      '{"type":"condition","field":"x","op":"is_null","value":false}',
    );
  });

  it("B40: a left join by identifier, dotted join field, limit and offset", () => {
    const req = new SearchRequest({
      nodeUniqueIdentifier: "base",
      joins: [
        {
          name: "joined",
          nodeUniqueIdentifier: "other",
          on: [JoinKey.time_index, "unique_identifier"],
          type: "left",
        },
      ],
      filter: F.gt("joined.close", 1),
      limit: 100,
      offset: 200,
    });
    expect(toWireJson(req)).toBe(
      '{"joins":[{"name":"joined","node_unique_identifier":"other","on":["time_index","unique_identifier"],"type":"left"}],"filter":{"type":"condition","field":"joined.close","op":"gt","value":1},"limit":100,"offset":200,"node_unique_identifier":"base"}',
    );
  });

  it("B41: a join by storage hash with the default type", () => {
    const req = new SearchRequest({
      storageHash: "h1",
      joins: [{ name: "j", storageHash: "h2", on: ["time_index"] }],
    });
    expect(toWireJson(req)).toBe(
      '{"storage_hash":"h1","joins":[{"name":"j","on":["time_index"],"storage_hash":"h2","type":"inner"}],"limit":50,"offset":0}',
    );
  });

  it("B43: a paged request carries the batch limit and the offset", () => {
    const req = new SearchRequest({ nodeUniqueIdentifier: "base" }).page(0, 10);
    expect(toWireJson(req)).toBe(
      '{"joins":[],"limit":10,"offset":0,"node_unique_identifier":"base"}',
    );
    // the reference's batch_limit (14000) bypasses the 500 cap
    expect(toWirePayload(req.page(28_000, 14_000))).toMatchObject({
      limit: 14_000,
      offset: 28_000,
    });
  });
});

describe("wire value serialisation", () => {
  const wire = (filter: Parameters<typeof toWireJson>[0]["filter"]) =>
    toWireJson(new SearchRequest({ storageHash: "h", filter }));

  it("writes datetimes as Python isoformat: +00:00, microseconds only when non-zero", () => {
    expect(wire(F.eq("t", new Date("2026-05-01T03:04:05.123Z")))).toContain(
      '"value":"2026-05-01T03:04:05.123000+00:00"',
    );
    expect(wire(F.eq("t", new Date("0999-01-02T00:00:00Z")))).toContain(
      '"value":"0999-01-02T00:00:00+00:00"',
    );
  });

  it("passes ISO text and isoformat() objects through unchanged", () => {
    expect(wire(F.lt("t", "2026-05-01T00:00:00Z"))).toContain('"value":"2026-05-01T00:00:00Z"');
    expect(wire(F.eq("d", { isoformat: () => "2026-01-02" }))).toContain('"value":"2026-01-02"');
  });

  it("writes numbers as Python would: ints, float repr, PyFloat, exact bigints", () => {
    expect(wire(F.gt("x", 10))).toContain('"value":10}');
    expect(wire(F.gt("x", 1.5))).toContain('"value":1.5}');
    expect(wire(F.gt("x", 1e-7))).toContain('"value":1e-07}');
    expect(wire(F.gt("x", pyFloat(10)))).toContain('"value":10.0}');
    expect(wire(F.gt("x", 12345678901234567890n))).toContain('"value":12345678901234567890}');
    expect(() =>
      toWirePayload(new SearchRequest({ storageHash: "h", filter: F.gt("x", 2n ** 60n) })),
    ).toThrow(/toWireJson/);
  });

  it("escapes strings as JSON and never changes them", () => {
    expect(wire(F.eq("name", 'O\'Brien "quoted" \\ 100%'))).toContain(
      String.raw`"value":"O'Brien \"quoted\" \\ 100%"`,
    );
  });

  it("round-trips through SearchRequest.fromWire and parseFilter", () => {
    const req = new SearchRequest({
      nodeUniqueIdentifier: "prices",
      joins: [{ name: "j", storageHash: "h2", on: ["time_index"], type: "full" }],
      filter: or_(F.in_("u", ["A"]), and_(F.ne("a", null), F.is_null("v", false))),
      limit: 7,
      offset: 3,
    });
    const text = toWireJson(req);
    expect(toWireJson(SearchRequest.fromWire(text))).toBe(text);
    expect(parseFilter(JSON.stringify(toWirePayload(req).filter))).toStrictEqual(req.filter);
    // the server side accepts the reference client's 14000-row pages
    expect(SearchRequest.fromWire({ storage_hash: "h", limit: 14_000 }).limit).toBe(14_000);
  });
});

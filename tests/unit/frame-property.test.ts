import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Frame, type FrameRecord } from "../../src/frame/frame.js";
import { microsToIso, parseIsoInstant } from "../../src/frame/time.js";
import { validateFrame } from "../../src/frame/validate-frame.js";

// Every microsecond a number holds exactly: about the years 1685 to 2255.
const micros = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });

/** Rows of a 2-D asset frame with one column of each round-trippable dtype. */
const rows = fc.array(
  fc.record({
    time_index: micros,
    unique_identifier: fc.constantFrom("A", "B", "C"),
    price: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null)),
    qty: fc.oneof(fc.maxSafeInteger(), fc.constant(null)),
    label: fc.oneof(fc.string(), fc.constant(null)),
    flag: fc.oneof(fc.boolean(), fc.constant(null)),
    meta: fc.oneof(fc.jsonValue(), fc.constant(null)),
  }),
  { maxLength: 20 },
);

const DTYPES = { qty: "int64", label: "string", flag: "bool", meta: "json" } as const;

function build(records: readonly FrameRecord[]): Frame {
  return Frame.fromRecords(records, {
    indexNames: ["time_index", "unique_identifier"],
    dtypes: { price: "float64", ...DTYPES },
  });
}

describe("properties", () => {
  it("ISO text round-trips every microsecond instant", () => {
    fc.assert(
      fc.property(micros, (m) => {
        expect(parseIsoInstant(microsToIso(m))).toEqual({ ok: true, micros: m });
      }),
    );
  });

  it("fromRecords → toRecords → fromRecords is the identity (iso and micros)", () => {
    fc.assert(
      fc.property(
        rows,
        fc.constantFrom("iso", "micros") as fc.Arbitrary<"iso" | "micros">,
        (input, time) => {
          const records = input.map((r) => ({ ...r, time_index: BigInt(r.time_index) }));
          const df = build(records);
          const out = df.toRecords({ time });
          const again = build(
            time === "micros"
              ? out.map((r) => ({ ...r, time_index: BigInt(r["time_index"] as number) }))
              : out,
          );
          expect(again.dtypes).toEqual(df.dtypes);
          expect(again.toRecords({ time: "micros" })).toEqual(df.toRecords({ time: "micros" }));
          expect([...df.time]).toEqual(input.map((r) => r.time_index));
        },
      ),
    );
  });

  it("toColumns → fromColumns is the identity", () => {
    fc.assert(
      fc.property(rows, (input) => {
        const df = build(input.map((r) => ({ ...r, time_index: BigInt(r.time_index) })));
        const columns = df.toColumns({ time: "iso" });
        const again = Frame.fromColumns(columns, {
          indexNames: df.indexNames,
          dtypes: { price: "float64", ...DTYPES },
        });
        expect(again.toColumns({ time: "iso" })).toEqual(columns);
      }),
    );
  });

  it("sortByIndex orders rows and keeps them all", () => {
    fc.assert(
      fc.property(rows, (input) => {
        const df = build(input.map((r) => ({ ...r, time_index: BigInt(r.time_index) })));
        const sorted = df.sortByIndex();
        expect(sorted.length).toBe(df.length);
        const t = sorted.time;
        for (let i = 1; i < t.length; i++) expect(t[i - 1]!).toBeLessThanOrEqual(t[i]!);
      }),
    );
  });

  it("validation never mutates its input and leaves no infinity behind", () => {
    fc.assert(
      fc.property(fc.array(fc.double(), { minLength: 1, maxLength: 20 }), (values) => {
        const df = Frame.fromColumns({
          time_index: values.map((_, i) => BigInt(i)),
          x: values,
        });
        const before = Array.from(df.column("x") as Float64Array);
        const out = validateFrame(df);
        expect(Array.from(df.column("x") as Float64Array)).toEqual(before);
        const cleaned = out.column("x") as Float64Array;
        expect(cleaned.every((v) => Number.isNaN(v) || Number.isFinite(v))).toBe(true);
        expect(out.toColumns()["x"]).toEqual(before.map((v) => (Number.isFinite(v) ? v : null)));
      }),
    );
  });
});

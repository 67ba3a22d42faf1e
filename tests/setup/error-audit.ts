import { afterEach, expect } from "vitest";

/**
 * Audits every tdag error constructed while the test suite runs: its code must be in its
 * family's `as const` list (the brand-checked families of src/errors.ts and the family modules).
 * `TdagError`'s constructor calls the hook installed here; production code never installs one.
 * A test that builds an error with a code outside its family fails after it runs.
 */
const AUDIT = Symbol.for("tdag.error.audit");

interface Audited {
  readonly code: string;
  readonly name: string;
  readonly message: string;
}

const violations: string[] = [];
(globalThis as Record<symbol, unknown>)[AUDIT] = (
  error: Audited,
  family: { readonly family: string; readonly codes: readonly string[] },
) => {
  if (!family.codes.includes(error.code)) {
    violations.push(
      `${error.name} was built with code '${error.code}', which ${family.family}.codes does not list (${error.message})`,
    );
  }
};

afterEach(() => {
  const found = violations.splice(0);
  expect(found, "errors built with a code outside their family's list").toEqual([]);
});

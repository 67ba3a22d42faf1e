import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { configure } from "../../src/store/store-registry.js";
import { silentLogger } from "../helpers/temp-store.js";
import { checkAnswer, routeOf } from "./contract-schemas.js";
import {
  type Allowlist,
  checkAllowlist,
  compareStep,
  DIFF_KINDS,
  type Difference,
  diffKey,
  formatCheck,
  groupDifferences,
  loadGolden,
  STEP_ORDER,
  updatedAllowlist,
} from "./trace-compare.js";
import { normalizeRequests } from "./trace-normalize.js";
import { type CapturedStep, EXPECTED_OUT, runScenario, SCENARIOS } from "./trace-scenarios.js";

/**
 * Contract test (c): what our remote store sends, compared with what the Python client
 * (mainsequence 4.0.16) sent in the same scenarios (tests/fixtures/platform-contract/traces).
 *
 * Each scenario's TS twin runs against a fresh in-process `tdag serve` with request capture on;
 * the captured requests are normalised to the traces' notation and compared step by step (see
 * trace-compare.ts for how differences are keyed). Every difference must be listed, with its
 * steps and a reason, in client-trace-allowlist.json; an entry that no longer matches fails too,
 * so the list always says exactly how far the client is from Python. Every answer the server gave
 * in these runs must also be valid under the platform contract (`checkAnswer`).
 *
 * - `TDAG_TRACE_ALLOWLIST=update`: rewrite the allowlist from this run (reasons kept for entries
 *   that still match, stale entries dropped, new ones added with a TODO reason to write).
 * - `TDAG_TRACE_DUMP=<dir>`: write our normalised traces there (the format of traces/ts/).
 */

configure({ logger: silentLogger });

const ALLOWLIST_FILE = join(import.meta.dirname, "client-trace-allowlist.json");
const ALLOWLIST_NAME = "tests/contract/client-trace-allowlist.json";
const allowlist = JSON.parse(readFileSync(ALLOWLIST_FILE, "utf8")) as Allowlist;
const UPDATE = process.env.TDAG_TRACE_ALLOWLIST === "update";
const DUMP = process.env.TDAG_TRACE_DUMP;

const root = mkdtempSync(join(tmpdir(), "tdag-client-trace-"));
const found = new Map<string, Difference[]>();
let scenariosDone = 0;

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  if (UPDATE && scenariosDone === SCENARIOS.length) {
    const ordered = new Map(
      [...found].sort(
        ([a], [b]) => STEP_ORDER.indexOf(a as never) - STEP_ORDER.indexOf(b as never),
      ),
    );
    const entries = updatedAllowlist(groupDifferences(ordered), allowlist);
    writeFileSync(ALLOWLIST_FILE, `${JSON.stringify({ ...allowlist, entries }, null, 2)}\n`);
  }
});

/** Contract violations of the server's answers in a step (401s of the auth flow and the asset routes, which the contract does not cover, excepted). */
function answerViolations(step: CapturedStep): string[] {
  const out: string[] = [];
  for (const r of step.requests) {
    if (r.status === 401 || !routeOf(r.method, r.path)) continue;
    for (const v of checkAnswer(r.method, r.path, r.status, r.response)) {
      out.push(`${step.step}: ${v}`);
    }
  }
  return out;
}

describe("client-trace-allowlist.json", () => {
  it("is well-formed: known kinds and steps, a reason each, no duplicates", () => {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const e of allowlist.entries) {
      const key = diffKey(e);
      if (!DIFF_KINDS.includes(e.kind)) problems.push(`unknown kind: ${key}`);
      if (seen.has(key)) problems.push(`duplicate entry: ${key}`);
      seen.add(key);
      if (!Array.isArray(e.steps) || e.steps.length === 0) problems.push(`no steps: ${key}`);
      for (const s of e.steps ?? []) {
        if (!(STEP_ORDER as readonly string[]).includes(s))
          problems.push(`unknown step ${s}: ${key}`);
      }
      if (typeof e.reason !== "string" || e.reason.trim() === "" || /^TODO/i.test(e.reason)) {
        problems.push(`no reason: ${key}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe("our remote store's requests vs the Python client's (golden traces)", () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: same requests up to the allowlist; every answer valid`, async () => {
      const golden = new Map(loadGolden(scenario.name).map((s) => [s.step, s.requests]));
      expect([...golden.keys()]).toEqual(scenario.steps.map((s) => s.id));
      const captured = await runScenario(scenario, root);

      const byStep = new Map<string, Difference[]>();
      const violations: string[] = [];
      const dump: unknown[] = [];
      for (const step of captured) {
        expect(step.out, `step ${step.step}: what the twin did`).toEqual(EXPECTED_OUT[step.step]);
        const ours = normalizeRequests(step.requests);
        byStep.set(step.step, compareStep(golden.get(step.step)!, ours));
        violations.push(...answerViolations(step));
        dump.push({ step: step.step, out: step.out, requests: ours });
      }
      if (DUMP) {
        mkdirSync(DUMP, { recursive: true });
        writeFileSync(
          join(DUMP, `${scenario.name}.json`),
          `${JSON.stringify({ scenario: scenario.name, steps: dump }, null, 1)}\n`,
        );
      }
      for (const [step, diffs] of byStep) found.set(step, diffs);
      scenariosDone++;

      expect(violations, "answers the real client would reject").toEqual([]);
      if (UPDATE) return;
      const check = checkAllowlist(byStep, allowlist);
      if (check.unexpected.length > 0 || check.stale.length > 0) {
        expect.fail(`${scenario.name}:\n${formatCheck(check, allowlist, ALLOWLIST_NAME)}`);
      }
    });
  }
});

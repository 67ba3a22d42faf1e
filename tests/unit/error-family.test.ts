import { randomUUID } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "tsup";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod";
import { EXIT, exitCodeFor } from "../../src/cli/errors.js";
import { DataNodeConfiguration } from "../../src/config/data-node-configuration.js";
import type { UpdateContext } from "../../src/engine/run-engine.js";
import {
  ArgumentError,
  ConfigError,
  errorFamilies,
  FrameValidationError,
  GraphError,
  HashingError,
  isTdagError,
  NotFoundError,
  RunError,
  StoreError,
  TdagError,
  UpdateStatisticsError,
} from "../../src/errors.js";
import { F } from "../../src/filters/filter-builders.js";
import { FilterError } from "../../src/filters/filter-error.js";
import { SearchRequest } from "../../src/filters/search-request.js";
import { Frame } from "../../src/frame/frame.js";
import { toEpochMicros } from "../../src/frame/time.js";
import { validateFrame } from "../../src/frame/validate-frame.js";
import { APIDataNode } from "../../src/node/api-data-node.js";
import { DataNode } from "../../src/node/data-node.js";
import { SearchError } from "../../src/search/search-error.js";
import { UpdateStatistics } from "../../src/statistics/update-statistics.js";
import { staticTokenAuth } from "../../src/store/remote/auth.js";
import { PlatformClient } from "../../src/store/remote/http-client.js";
import { AuthError, RemoteApiError } from "../../src/store/remote/remote-errors.js";
import { configure } from "../../src/store/store-registry.js";
import { rejectionOf, silentLogger, tempStore } from "../helpers/temp-store.js";

configure({ logger: silentLogger });

const ROOT = resolve(import.meta.dirname, "..", "..");

/** The family list a tdag error's class declares (inherited when the class declares none). */
function familyCodes(error: TdagError): readonly string[] {
  return (error.constructor as unknown as { codes: readonly string[] }).codes;
}

/** Asserts a caught value is a tdag error of `family` with a code from that family's list. */
function expectFamily(error: unknown, family: abstract new (...args: never[]) => TdagError) {
  expect(error).toBeInstanceOf(TdagError);
  expect(error).toBeInstanceOf(family);
  const e = error as TdagError;
  expect(familyCodes(e)).toContain(e.code);
  expect(Object.isFrozen(e)).toBe(true);
  return e;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("the error family", () => {
  it("every family declares its name and a list of unique codes", () => {
    const families = [
      ConfigError,
      ArgumentError,
      HashingError,
      FrameValidationError,
      StoreError,
      NotFoundError,
      GraphError,
      RunError,
      UpdateStatisticsError,
      FilterError,
      SearchError,
      RemoteApiError,
      AuthError,
    ];
    for (const family of families) {
      expect(family.family).toBe(family.name);
      expect(family.codes.length).toBeGreaterThan(0);
      expect(new Set(family.codes).size).toBe(family.codes.length);
    }
  });

  it("errors are immutable, branded and classified by family, not by prototype alone", () => {
    const error = new StoreError("schema_conflict", "x", { sql: "SELECT 1", params: [1] });
    expect(error.name).toBe("StoreError");
    expect(errorFamilies(error)).toEqual(["TdagError", "StoreError"]);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(NotFoundError);
    expect(() => {
      (error as { code: string }).code = "other";
    }).toThrow(TypeError);
    expect(() => {
      (error.params as unknown[]).push(2);
    }).toThrow(TypeError);
    expect(error.code).toBe("schema_conflict");
    const auth = new AuthError("no token");
    expect(auth).toBeInstanceOf(RemoteApiError);
    expect(errorFamilies(auth)).toEqual(["TdagError", "RemoteApiError", "AuthError"]);
    expect(auth.withAttempts(3)).toMatchObject({ code: "auth", attempts: 3 });
    expect(auth.withAttempts(3)).toBeInstanceOf(AuthError);
    expect(auth.attempts).toBe(1);
    // A look-alike without the brand is not a tdag error.
    const lookAlike = Object.assign(new Error("x"), { name: "StoreError", code: "closed" });
    expect(lookAlike).not.toBeInstanceOf(StoreError);
    expect(isTdagError(lookAlike)).toBe(false);
    expect(exitCodeFor(lookAlike)).toBe(EXIT.failed);
  });

  it("every throw in src/ throws a tdag error, or rethrows what it caught", () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith(".ts")) files.push(path);
      }
    };
    walk(join(ROOT, "src"));
    const config = ts.getParsedCommandLineOfConfigFile(
      join(ROOT, "tsconfig.json"),
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
    )!;
    const program = ts.createProgram(files, { ...config.options, noEmit: true });
    const checker = program.getTypeChecker();
    const errorsFile = join(ROOT, "src", "errors.ts");
    /** The type is TdagError or a subclass (every member, for a union). */
    const isTdagErrorType = (type: ts.Type, depth = 0): boolean => {
      if (depth > 10) return false;
      if (type.isUnion()) return type.types.every((t) => isTdagErrorType(t, depth + 1));
      const declaration = type.getSymbol()?.declarations?.[0];
      if (
        declaration &&
        ts.isClassDeclaration(declaration) &&
        declaration.name?.text === "TdagError" &&
        declaration.getSourceFile().fileName === errorsFile
      ) {
        return true;
      }
      const target = (type as ts.TypeReference).target ?? type;
      if (!(target.flags & ts.TypeFlags.Object) || !target.isClassOrInterface()) return false;
      return checker.getBaseTypes(target).some((base) => isTdagErrorType(base, depth + 1));
    };
    // Functions documented to rethrow what they were given when it is not theirs to map.
    const rethrowers = new Set(["mapRemoteError"]);
    const isCaught = (expr: ts.Expression): boolean => {
      if (!ts.isIdentifier(expr)) return false;
      const declaration = checker.getSymbolAtLocation(expr)?.valueDeclaration;
      return declaration !== undefined && ts.isCatchClause(declaration.parent);
    };
    const offenders: string[] = [];
    let throws = 0;
    for (const file of files) {
      const source = program.getSourceFile(file)!;
      const visit = (node: ts.Node) => {
        if (ts.isThrowStatement(node)) {
          throws += 1;
          const expr = node.expression;
          const type = checker.getTypeAtLocation(expr);
          const ok =
            isTdagErrorType(type) ||
            isCaught(expr) ||
            (ts.isCallExpression(expr) &&
              ts.isIdentifier(expr.expression) &&
              rethrowers.has(expr.expression.text) &&
              expr.arguments[0] !== undefined &&
              isCaught(expr.arguments[0]));
          if (!ok) {
            const { line } = source.getLineAndCharacterOfPosition(node.getStart());
            offenders.push(
              `${relative(ROOT, file)}:${line + 1}: throw ${expr.getText().slice(0, 60)} (${checker.typeToString(type)})`,
            );
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(throws).toBeGreaterThan(200);
    expect(offenders).toEqual([]);
  });

  it("failures across the public API are tdag errors with their family's codes", async () => {
    const { store } = await tempStore();
    const Config = DataNodeConfiguration.extend({ mean: z.number() });
    class Failing extends DataNode<typeof Config> {
      static override configSchema = Config;
      static override nodeName = "Failing";
      override update(_: UpdateContext): never {
        throw new Error("the vendor API is down");
      }
    }
    expectFamily(
      thrown(() => new Failing({ mean: "x" } as never)),
      ConfigError,
    );
    expectFamily(
      thrown(() => APIDataNode.buildFromIdentifier("")),
      ArgumentError,
    );
    expectFamily(
      thrown(() => toEpochMicros("soon")),
      ArgumentError,
    );
    expectFamily(
      thrown(() =>
        validateFrame(
          Frame.fromRecords([
            { time_index: "2024-01-01T00:00:00Z", Close: 1 },
            { time_index: "2024-01-01T00:00:00Z", Close: 2 },
          ]),
        ),
      ),
      FrameValidationError,
    );
    expectFamily(
      thrown(() => new SearchRequest({ nodeUniqueIdentifier: "x", limit: 501 })),
      FilterError,
    );
    expectFamily(
      thrown(() => F.in_("unique_identifier", "AAPL" as never)),
      FilterError,
    );
    expectFamily(
      thrown(() => new UpdateStatistics({ is_backfill: "yes" } as never)),
      UpdateStatisticsError,
    );
    expectFamily(await rejectionOf(store.descriptionSearch("  ")), SearchError);
    expectFamily(await rejectionOf(store.readFrame("no-such-uid")), NotFoundError);
    const storage = await store.registerStorage({
      storageHash: "errors_table",
      namespace: null,
      buildConfiguration: {},
      sourceClassName: "Errors",
    });
    expectFamily(
      await rejectionOf(
        store.writeFrame(storage.uid, Frame.fromRecords([{ time_index: "2024-01-01Z", v: 1 }]), {
          updaterUid: "",
        }),
      ),
      ArgumentError,
    );
    const aborted = new AbortController();
    aborted.abort(new Error("stop"));
    const abortError = expectFamily(
      await rejectionOf(store.listStorages({ signal: aborted.signal })),
      StoreError,
    );
    expect(abortError.code).toBe("aborted");
    const run = expectFamily(await rejectionOf(new Failing({ mean: 1 }).run({ store })), RunError);
    expect((run.cause as Error).message).toBe("the vendor API is down");
    await store.close();
    const closed = expectFamily(await rejectionOf(store.listStorages()), StoreError);
    expect(closed.code).toBe("closed");
    // A transport failure against a closed port.
    const client = new PlatformClient({
      endpoint: "http://127.0.0.1:9",
      auth: staticTokenAuth("t"),
      retry: { maxAttempts: 1 },
    });
    const transport = expectFamily(await rejectionOf(client.request("GET", "x/")), RemoteApiError);
    expect(transport.code).toBe("transport");
    await client.close();
  });
});

describe("two copies of the package", () => {
  const dir = join(ROOT, ".tdag", "test-copies", randomUUID());
  type Tdag = typeof import("../../src/index.js");
  let a: Tdag;
  let b: Tdag;

  beforeAll(async () => {
    const first = join(dir, "a");
    mkdirSync(dir, { recursive: true });
    await build({
      entry: { index: join(ROOT, "src", "index.ts") },
      outDir: first,
      format: ["esm"],
      target: "node20",
      splitting: true,
      dts: false,
      silent: true,
      external: ["@duckdb/node-api"],
    });
    cpSync(first, join(dir, "b"), { recursive: true });
    a = (await import(pathToFileURL(join(first, "index.js")).href)) as Tdag;
    b = (await import(pathToFileURL(join(dir, "b", "index.js")).href)) as Tdag;
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("are two module instances, yet recognise each other's errors by brand", () => {
    expect(a.StoreError).not.toBe(b.StoreError);
    const fromA = thrown(() =>
      a.validateFrame(
        a.Frame.fromRecords([
          { time_index: "2024-01-01T00:00:00Z", v: 1 },
          { time_index: "2024-01-01T00:00:00Z", v: 2 },
        ]),
      ),
    );
    expect(Object.getPrototypeOf(fromA)).not.toBe(b.FrameValidationError.prototype);
    expect(fromA).toBeInstanceOf(b.FrameValidationError);
    expect(fromA).toBeInstanceOf(b.TdagError);
    expect(fromA).not.toBeInstanceOf(b.StoreError);
    expect(b.isTdagError(fromA, "FrameValidationError")).toBe(true);
    expect(fromA).toBeInstanceOf(FrameValidationError); // and by this (source) copy
    const store = new a.StoreError("database_locked", "held by another process");
    expect(store).toBeInstanceOf(b.StoreError);
    expect(exitCodeFor(store)).toBe(EXIT.store);
    const missing = thrown(() => a.APIDataNode.buildFromStorageHash(""));
    expect(missing).toBeInstanceOf(b.ArgumentError);
    expect(exitCodeFor(missing)).toBe(EXIT.usage);
    expect(exitCodeFor(new b.NotFoundError("storage_not_found", "x"))).toBe(EXIT.notFound);
  });
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM script without type declarations
import { missingOptionalEntries, platformOf } from "../../scripts/lockfile-platforms.mjs";

describe("package-lock.json", () => {
  it("records every declared optional platform binary, so `npm ci` accepts it", () => {
    const lock = JSON.parse(
      readFileSync(new URL("../../package-lock.json", import.meta.url), "utf8"),
    );
    const missing = (missingOptionalEntries(lock) as [string, unknown][]).map(([key]) => key);
    expect(missing, "run `npm run lockfile:platforms` after `npm install`").toEqual([]);
  });

  it("reads the platform from binary package names", () => {
    expect(platformOf("@duckdb/node-bindings-darwin-arm64")).toEqual({
      os: "darwin",
      cpu: "arm64",
      libc: undefined,
    });
    expect(platformOf("@rollup/rollup-linux-x64-musl")).toEqual({
      os: "linux",
      cpu: "x64",
      libc: "musl",
    });
    expect(platformOf("@rollup/rollup-linux-arm-gnueabihf")).toEqual({
      os: "linux",
      cpu: "arm",
      libc: "glibc",
    });
    expect(platformOf("@biomejs/cli-win32-x64")).toEqual({
      os: "win32",
      cpu: "x64",
      libc: undefined,
    });
    expect(platformOf("left-pad")).toBeNull();
  });
});

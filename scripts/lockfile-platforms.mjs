#!/usr/bin/env node
/**
 * Completes package-lock.json with the other platforms' optional binaries.
 *
 * Packages such as @duckdb/node-bindings, @biomejs/biome and rollup declare one optional
 * dependency per OS/CPU. The registry mirror these machines use only serves some of those exact
 * versions, so `npm install` cannot record the others, and `npm ci` then rejects its own
 * lockfile ("Missing: ... from lock file"). This script adds an entry for every declared but
 * unrecorded optional dependency, with its `os`/`cpu`/`libc` (read from the package name, as
 * published), so `npm ci` validates the lock and skips the binaries of other platforms. On a
 * machine that needs one of them npm resolves it from the registry by name and version.
 *
 * Run after every `npm install` that changes the lock: `npm run lockfile:platforms`.
 * `tests/unit/lockfile.test.ts` fails when an entry is missing.
 */
import { readFileSync, writeFileSync } from "node:fs";

const OSES = [
  "android",
  "darwin",
  "freebsd",
  "linux",
  "openbsd",
  "openharmony",
  "win32",
  "sunos",
  "aix",
  "netbsd",
];
const CPUS = [
  ["x64", "x64"],
  ["arm64", "arm64"],
  ["ia32", "ia32"],
  ["arm", "arm"],
  ["loong64", "loong64"],
  ["ppc64", "ppc64"],
  ["riscv64", "riscv64"],
  ["s390x", "s390x"],
];

/** The platform a binary package targets, from its name (`@scope/pkg-<os>-<cpu>[-libc]`). */
export function platformOf(name) {
  const parts = name.split("/").pop().split("-");
  const os = OSES.find((o) => parts.includes(o));
  const cpu = CPUS.find(([token]) => parts.includes(token))?.[1];
  if (!os || !cpu) return null;
  const libc =
    os !== "linux" ? undefined : parts.some((p) => p.startsWith("musl")) ? "musl" : "glibc";
  return { os, cpu, libc };
}

/** Declared optional dependencies that have no lock entry, as [lock key, entry] pairs to add. */
export function missingOptionalEntries(lock) {
  const packages = lock.packages ?? {};
  const out = [];
  for (const [key, entry] of Object.entries(packages)) {
    for (const [dep, range] of Object.entries(entry.optionalDependencies ?? {})) {
      const nested = `${key === "" ? "" : `${key}/`}node_modules/${dep}`;
      const top = `node_modules/${dep}`;
      if (packages[nested] || packages[top] || out.some(([k]) => k === top)) continue;
      const platform = platformOf(dep);
      if (!platform)
        throw new Error(
          `cannot tell the platform of optional dependency ${dep} (of ${key || "the root"})`,
        );
      out.push([
        top,
        {
          version: String(range).replace(/^[\^~=]/, ""),
          ...(entry.dev ? { dev: true } : {}),
          optional: true,
          os: [platform.os],
          cpu: [platform.cpu],
          ...(platform.libc ? { libc: [platform.libc] } : {}),
        },
      ]);
    }
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2] ?? "package-lock.json";
  const lock = JSON.parse(readFileSync(path, "utf8"));
  const missing = missingOptionalEntries(lock);
  for (const [key, entry] of missing) lock.packages[key] = entry;
  const sorted = Object.keys(lock.packages).sort((a, b) =>
    a === "" ? -1 : b === "" ? 1 : a.localeCompare(b),
  );
  lock.packages = Object.fromEntries(sorted.map((k) => [k, lock.packages[k]]));
  writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(
    `${path}: added ${missing.length} optional platform entr${missing.length === 1 ? "y" : "ies"}`,
  );
}

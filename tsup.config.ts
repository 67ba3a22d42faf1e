import { defineConfig, type Options } from "tsup";

type Plugin = NonNullable<Options["plugins"]>[number];

const CLI_ENTRY = "src/cli/main.ts";
/** One per subpath export of package.json: ".", "./duckdb", "./remote", "./server". */
const LIBRARY_ENTRIES = [
  "src/index.ts",
  "src/store/duckdb/index.ts",
  "src/store/remote/index.ts",
  "src/server/index.ts",
];
const CLI_OUTPUT = /(^|[\\/])cli[\\/]main\.js$/;

/**
 * Puts `#!/usr/bin/env node` on the CLI's output only (esbuild's `banner` would add it to every
 * file) and makes it executable. The source map gets an empty first line so it stays aligned.
 * Library and CLI are one build, so they share chunks: a user's module importing "tdag" and
 * the `tdag` binary use the same module instances.
 */
const cliShebang: Plugin = {
  name: "tdag-cli-shebang",
  renderChunk(code, info) {
    if (!CLI_OUTPUT.test(info.path) || code.startsWith("#!")) return;
    if (info.map) {
      const map = typeof info.map === "string" ? JSON.parse(info.map) : { ...info.map };
      map.mappings = `;${map.mappings}`;
      info.map = map;
    }
    info.mode = 0o755;
    return { code: `#!/usr/bin/env node\n${code}` };
  },
};

export default defineConfig({
  entry: [...LIBRARY_ENTRIES, CLI_ENTRY],
  format: ["esm"],
  dts: { entry: LIBRARY_ENTRIES },
  sourcemap: true,
  clean: true,
  target: "node20",
  splitting: true,
  external: ["@duckdb/node-api"],
  plugins: [cliShebang],
});

/**
 * Builds the JavaScript of the package (library + `tdag` binary) into dist/ without type
 * declarations (the slow part) and without cleaning dist/, so declarations built by
 * `npm run build` stay. Used by the CLI tests; run directly with `npx tsx tests/cli/build-cli.ts`.
 */
import { fileURLToPath } from "node:url";
import { build, type Options } from "tsup";
import config from "../../tsup.config.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

export async function buildCli(): Promise<void> {
  const previous = process.cwd();
  process.chdir(ROOT);
  try {
    await build({ ...(config as Options), dts: false, clean: false, silent: true });
  } finally {
    process.chdir(previous);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  await buildCli();
  console.log(`built ${CLI} in ${Date.now() - started} ms`);
}

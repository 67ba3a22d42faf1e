import { describe, expect, it } from "vitest";
import { CliLogger } from "../../src/cli/logger.js";
import { ConsoleLogger } from "../../src/index.js";

function capture(make: (write: (line: string) => void) => ConsoleLogger): {
  lines: string[];
  logger: ConsoleLogger;
} {
  const lines: string[] = [];
  return { lines, logger: make((line) => lines.push(line)) };
}

describe("ConsoleLogger", () => {
  it("filters by level, folds multi-line text and scopes children", () => {
    const { lines, logger } = capture((write) => new ConsoleLogger("info", { write }));
    logger.debug("hidden");
    logger.info("two\nlines", { rows: 3, error: "a\n  b" });
    logger.child("Prices").warn("careful");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d INFO {2}\[tdag\] two; lines rows=3 error=a; b\n$/);
    expect(lines[1]).toMatch(/WARN {2}\[Prices\] careful\n$/);
  });

  it("CliLogger drops the engine's update-failed line unless verbose", () => {
    const quiet = capture((write) => new CliLogger("warn", false, write));
    quiet.logger.child("Prices").error("update failed", { error: "boom" });
    quiet.logger.error("store unreachable");
    expect(quiet.lines).toHaveLength(1);
    expect(quiet.lines[0]).toContain("store unreachable");
    const verbose = capture((write) => new CliLogger("warn", true, write));
    verbose.logger.child("Prices").error("update failed", { error: "boom" });
    expect(verbose.lines[0]).toContain("[Prices] update failed error=boom");
  });
});

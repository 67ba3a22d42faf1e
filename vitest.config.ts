import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Every tdag error built during a test must carry a code from its family's list.
    setupFiles: ["tests/setup/error-audit.ts"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    env: { TZ: "UTC" },
  },
});

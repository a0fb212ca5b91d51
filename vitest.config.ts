import { defineConfig } from "vitest/config";
import tsconfigPaths from "vite-tsconfig-paths";

// Three projects, one `vitest run`: unit tests need neither PostgreSQL nor a browser; integration tests get the
// shared embedded PostgreSQL (started once, by global.ts) and a copy of the template database per file; browser
// tests get that too, and the Chromium browser-global.ts found and checked before any of them runs.
const DATABASE = { globalSetup: ["tests/setup/global.ts"], setupFiles: ["tests/setup/database.ts"] };

export default defineConfig({
  plugins: [tsconfigPaths()],
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "unit", include: ["tests/unit/**/*.test.ts"] } },
      { extends: true, test: { name: "integration", include: ["tests/integration/**/*.test.ts"], ...DATABASE } },
      {
        extends: true,
        test: {
          name: "browser",
          // Each test drives the real portal through several pages; on 2 busy cores that can exceed 30 seconds.
          testTimeout: 60_000,
          include: ["tests/e2e/**/*.test.ts"],
          ...DATABASE,
          globalSetup: [...DATABASE.globalSetup, "tests/setup/browser-global.ts"],
        },
      },
    ],
  },
});

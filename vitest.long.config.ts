// npm run test:long (and .ci/run): the runs too long for npm test (test/long/): the spatial hash
// against brute force on 1.4 million queries, the C reference on the two large golden inputs; the
// PLY fuzz test with 100,000 cases; and the packed package, installed and used.

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "long",
    globalSetup: ["test/global-setup.ts"],
    include: ["test/long/**/*.test.ts", "test/fuzz.test.ts", "test/package.test.ts"],
    env: { HEADSNET_FUZZ_RUNS: process.env.HEADSNET_FUZZ_RUNS ?? "100000" },
    maxWorkers: 2,
    testTimeout: 1_800_000,
    hookTimeout: 300_000,
  },
});

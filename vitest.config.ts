// npm test: two projects, run together. unit: one process, the kernel and the modules in it.
// integration: what starts worker threads, child processes (the CLI, the C programs) or a browser.
// Longer runs (a million-query hash sweep, 100,000 fuzz cases) are vitest.long.config.ts's
// (npm run test:long). Timeouts are generous: nothing here may depend on the machine's speed.
// test/global-setup.ts first rebuilds any built artifact older than its sources.

import { defineConfig } from "vitest/config";

const INTEGRATION = ["bad-input", "c-native", "c-reference", "cli", "compile", "inputs", "mesh-surface", "mistakes", "pictures", "reproduce", "resume", "shards", "targets", "train", "train-checkpoint", "train-encoding", "view", "view-render", "worker"]
  .map((name) => `test/${name}.test.ts`);
/** npm run test:long's alone (vitest.long.config.ts): packing and installing the package takes 30-60 s. */
const LONG_ONLY = ["test/package.test.ts"];

export default defineConfig({
  test: {
    globalSetup: ["test/global-setup.ts"],
    // Both cores: the suite's files are mostly single-threaded.
    maxWorkers: 2,
    projects: [
      {
        test: { name: "unit", include: ["test/*.test.ts"], exclude: [...INTEGRATION, ...LONG_ONLY], testTimeout: 120_000, hookTimeout: 120_000 },
      },
      {
        test: { name: "integration", include: INTEGRATION, testTimeout: 300_000, hookTimeout: 300_000 },
      },
    ],
  },
});

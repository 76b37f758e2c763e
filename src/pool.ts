// The one Piscina pool: a worker per core, each with its own kernel.

import { Piscina } from "piscina";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { PACKAGE_ROOT } from "./package.js";

/**
 * The compile worker as one CommonJS file (rolldown.config.mjs), which boots faster than ES
 * modules. Found from the package root: the tests run the TypeScript sources, the CLI a bundle.
 */
function workerFile(): string {
  return join(PACKAGE_ROOT, "dist", "src", "worker.bundle.cjs");
}

export function defaultWorkers(): number {
  return availableParallelism();
}

/** A pool of `workers` threads, each of which loads the kernel once. */
export function createPool(workers: number, filename = workerFile()): Piscina {
  return new Piscina({
    filename,
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 60_000,
    // Workers wait for tasks on their event loop rather than blocked in Atomics.wait: measured
    // here, -j1 runs about 7% faster so (two A/B rounds of five; -j2 the same either way).
    atomics: "async",
  });
}

// The one Piscina pool: a worker per core, each with its own kernel.

import { Piscina } from "piscina";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PACKAGE_ROOT } from "./package.js";

/** The compiled worker module, found from the package root: the tests run the TypeScript sources, and the CLI runs a bundle. */
function workerFile(): URL {
  return pathToFileURL(join(PACKAGE_ROOT, "dist", "src", "worker.js"));
}

export function defaultWorkers(): number {
  return availableParallelism();
}

/** A pool of `workers` threads, each of which loads the kernel once. */
export function createPool(workers: number): Piscina {
  return new Piscina({
    filename: workerFile().href,
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 60_000,
    // Workers wait for tasks on their event loop rather than blocked in Atomics.wait: measured
    // here, -j1 runs about 7% faster so (two A/B rounds of five; -j2 the same either way).
    atomics: "async",
  });
}

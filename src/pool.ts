// The one Piscina pool: a worker per core, each with its own kernel.

import { Piscina } from "piscina";
import { availableParallelism } from "node:os";

/** The compiled worker module (tests run the TypeScript sources, whose worker is built to dist/). */
function workerFile(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts") ? new URL("../dist/src/worker.js", here) : new URL("./worker.js", here);
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

// The one Piscina pool: a worker per core, each with its own kernel.

import { Piscina } from "piscina";
import { availableParallelism } from "node:os";
import type { WorkerSetup } from "./worker.js";

/** The compiled worker module (tests run the TypeScript sources, whose worker is built to dist/). */
function workerFile(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts") ? new URL("../dist/src/worker.js", here) : new URL("./worker.js", here);
}

export function defaultWorkers(): number {
  return availableParallelism();
}

export function createPool(workers: number, setup: WorkerSetup): Piscina {
  return new Piscina({
    filename: workerFile().href,
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 60_000,
    // A task waits on a MessagePort for where to write its rows: the worker's event loop must
    // keep running between tasks, which 'sync' atomics would block.
    atomics: "async",
    workerData: setup,
  });
}

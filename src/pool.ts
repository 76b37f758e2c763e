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

function newPool(workers: number): Piscina {
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

let early: { workers: number; pool: Piscina } | undefined;

/**
 * Start a pool's threads booting now, for a compile about to start: the CLI calls this before it
 * loads its argument parser, so that node's worker start-up overlaps its own.
 */
export function startPoolEarly(workers: number): void {
  early ??= { workers, pool: newPool(workers) };
}

/** Close the early pool if no compile took it. */
export async function discardEarlyPool(): Promise<void> {
  const e = early;
  early = undefined;
  await e?.pool.destroy();
}

/** A pool of `workers` threads: the early one when it has that many, else a new one. */
export function createPool(workers: number): Piscina {
  if (early?.workers === workers) {
    const { pool } = early;
    early = undefined;
    return pool;
  }
  void discardEarlyPool();
  return newPool(workers);
}

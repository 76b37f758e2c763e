// A Piscina worker: one task per file. The worker compiles its file and hands the rows to the main
// thread without copying them: each worker rotates through a few kernel instances whose memory is
// shared, and the main thread writes a file's rows in file order straight from the memory of the
// instance that computed them, while this worker goes on with the next file in another instance
// (as native code would write from a thread of its own). Failures come back as data, so the run
// goes on.

import type { MessagePort } from "node:worker_threads";
import { Kernel, type KernelOptions, type WasmBuild } from "./kernel.js";
import { HeadsnetError } from "./errors.js";
import type { Icosphere } from "./icosphere.js";
import type { KernelCells, SpatialHash } from "./spatial-hash.js";

/** What a kernel is built from; tasks carry it (the tables in shared memory: the workers boot meanwhile). */
export interface KernelSetup {
  build: WasmBuild;
  icosphere: Icosphere;
  hash: SpatialHash;
  cells: KernelCells;
}

export interface FileTask {
  path: string;
  label: string;
  id: number;
  options: KernelOptions;
  /** Receives a RowsMessage from the worker once the file has compiled. */
  port: MessagePort;
  setup: KernelSetup;
}

/**
 * A compiled file's rows, in the memory of the kernel instance that computed them: `rows` rows of
 * x (`xBytes` at `xAt`) and of y (`yBytes` at `yAt`). The receiver must call releaseRows() once
 * it has written them or will not: until then the worker does not reuse that instance.
 */
export interface RowsMessage {
  rows: number;
  memory: SharedArrayBuffer;
  xAt: number;
  xBytes: number;
  yAt: number;
  yBytes: number;
  /** One flag per instance of the worker: 1 while the receiver holds that instance's rows. */
  held: Int32Array;
  instance: number;
}

/** The worker may reuse the instance that holds these rows. */
export function releaseRows(m: RowsMessage): void {
  Atomics.store(m.held, m.instance, 0);
  Atomics.notify(m.held, m.instance);
}

export type FileResult =
  | {
    ok: true; rows: number; vertices: number; bytesRead: number;
    normals: "file" | "computed"; skipped: { nonfinite: number; outsideSphere: number };
  }
  | { ok: false; error: ReturnType<HeadsnetError["toJSON"]> };

/** Kernel instances per worker: one compiling while the main thread writes from the others. */
const INSTANCES = 3;
/** Memory beyond which an instance is kept for the next file (see compileFileTask). */
const LARGE_MEMORY = 256 << 20;

const kernels: (Kernel | undefined)[] = [];
const held = new Int32Array(new SharedArrayBuffer(4 * INSTANCES));
let nextInstance = 0;

/**
 * An instance whose rows the main thread is not holding, made for `setup` if need be. Waits for
 * the main thread when it holds them all; it writes in file order, and every file it waits for
 * was started before this one, so the wait always ends.
 */
function freeInstance(setup: KernelSetup): number {
  for (;;) {
    for (let i = 0; i < INSTANCES; i++) {
      const k = (nextInstance + i) % INSTANCES;
      if (Atomics.load(held, k) !== 0) continue;
      nextInstance = k + 1;
      const kernel = kernels[k];
      if (!kernel || kernel.icosphere.sha256 !== setup.icosphere.sha256 || kernel.build !== setup.build) {
        kernels[k] = new Kernel(setup.icosphere, { build: setup.build, hash: setup.hash, cells: setup.cells });
      }
      return k;
    }
    Atomics.wait(held, nextInstance % INSTANCES, 1, 1000);
  }
}

export default function compileFileTask(task: FileTask): FileResult {
  // For the test that a crashing worker fails its file only: this thread dies on that file.
  const crashOn = process.env.HEADSNET_TEST_CRASH;
  if (crashOn && task.label.endsWith(crashOn)) process.exit(70);
  try {
    let k = -1;
    let out;
    try {
      k = freeInstance(task.setup);
      const kernel = kernels[k]!;
      out = kernel.run(kernel.loadFile(task.path, task.label, task.options), task.label, task.id, task.options);
    } catch (e) {
      if (e instanceof HeadsnetError) return { ok: false, error: e.toJSON() };
      // A trap or a bug: fail this file with what happened; the instance is rebuilt for the next one.
      if (k >= 0) kernels[k] = undefined;
      const message = e instanceof Error ? e.message : String(e);
      return { ok: false, error: { code: "E_WORKER", message: `${task.label}: the kernel failed: ${message}`, file: task.label } };
    }
    Atomics.store(held, k, 1);
    const memory = out.x.buffer as SharedArrayBuffer;
    task.port.postMessage({
      rows: out.rows, memory, xAt: out.x.byteOffset, xBytes: out.x.byteLength, yAt: out.y.byteOffset, yBytes: out.y.byteLength,
      held, instance: k,
    } satisfies RowsMessage);
    if (memory.byteLength > LARGE_MEMORY) {
      // A huge mesh: its instance takes the next file too, once these rows are written, so that
      // a run of such meshes grows one instance, not all of them (wasm memory never shrinks).
      while (Atomics.load(held, k) !== 0) Atomics.wait(held, k, 1, 1000);
      nextInstance = k;
    }
    return {
      ok: true, rows: out.rows, vertices: out.vertices, bytesRead: out.bytesRead,
      normals: out.normals, skipped: out.skipped,
    };
  } finally {
    task.port.close();
  }
}

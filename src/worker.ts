// A Piscina worker: one kernel instance per thread, one task per file. The worker compiles its
// file and hands the rows to the main thread (one copy out of kernel memory into a buffer that is
// transferred, not copied again); the main thread writes them in file order while the workers go
// on computing, as native code would write from a thread of its own. Failures come back as data,
// so the run goes on.

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
  /** A buffer of rows already written, for this worker to reuse (transferred). */
  spare?: ArrayBuffer;
  setup: KernelSetup;
}

/** A compiled file's rows: `rows` rows of x (`xBytes`) then y, at the start of `data`. */
export interface RowsMessage {
  rows: number;
  xBytes: number;
  yBytes: number;
  data: ArrayBuffer;
}

export type FileResult =
  | {
    ok: true; rows: number; vertices: number; bytesRead: number;
    normals: "file" | "computed"; skipped: { nonfinite: number; outsideSphere: number };
  }
  | { ok: false; error: ReturnType<HeadsnetError["toJSON"]> };

let kernel: Kernel | undefined;

// Buffers the main thread has written and sent back: a fresh one costs a page fault per 4 KiB.
const spare: ArrayBuffer[] = [];

function rowBuffer(bytes: number): ArrayBuffer {
  const i = spare.findIndex((b) => b.byteLength >= bytes);
  return i >= 0 ? spare.splice(i, 1)[0] : new ArrayBuffer(Math.max(bytes, 4 << 20));
}

function instance(setup: KernelSetup): Kernel {
  if (!kernel || kernel.icosphere.sha256 !== setup.icosphere.sha256 || kernel.build !== setup.build) {
    kernel = new Kernel(setup.icosphere, { build: setup.build, hash: setup.hash, cells: setup.cells });
  }
  return kernel;
}

export default function compileFileTask(task: FileTask): FileResult {
  if (task.spare && spare.length < 2) spare.push(task.spare);
  // For the test that a crashing worker fails its file only: this thread dies on that file.
  const crashOn = process.env.HEADSNET_TEST_CRASH;
  if (crashOn && task.label.endsWith(crashOn)) process.exit(70);
  try {
    let out;
    try {
      const k = instance(task.setup);
      out = k.run(k.loadFile(task.path, task.label, task.options), task.label, task.id, task.options);
    } catch (e) {
      if (e instanceof HeadsnetError) return { ok: false, error: e.toJSON() };
      // A trap or a bug: fail this file with what happened; the kernel is rebuilt for the next one.
      kernel = undefined;
      const message = e instanceof Error ? e.message : String(e);
      return { ok: false, error: { code: "E_WORKER", message: `${task.label}: the kernel failed: ${message}`, file: task.label } };
    }
    const xBytes = out.x.byteLength, yBytes = out.y.byteLength;
    const data = rowBuffer(xBytes + yBytes);
    const rows = new Uint8Array(data);
    rows.set(new Uint8Array(out.x.buffer, out.x.byteOffset, xBytes), 0);
    rows.set(new Uint8Array(out.y.buffer, out.y.byteOffset, yBytes), xBytes);
    task.port.postMessage({ rows: out.rows, xBytes, yBytes, data } satisfies RowsMessage, [data]);
    return {
      ok: true, rows: out.rows, vertices: out.vertices, bytesRead: out.bytesRead,
      normals: out.normals, skipped: out.skipped,
    };
  } finally {
    task.port.close();
  }
}

// A Piscina worker: one kernel instance per thread, one task per file. The worker tells the
// main thread how many rows its file made, is told where they go (in file order), and writes
// them there straight from kernel memory: no copies, nothing held by the main thread. Failures
// come back as data, so the run goes on.

import { once } from "node:events";
import type { MessagePort } from "node:worker_threads";
import { Kernel, type KernelOptions, type WasmBuild } from "./kernel.js";
import { HeadsnetError } from "./errors.js";
import { writeAllAt, type RowsPlace } from "./output.js";
import type { Icosphere } from "./icosphere.js";
import type { SpatialHash } from "./spatial-hash.js";

/** What a kernel is built from; tasks carry it (the tables in shared memory: the workers boot meanwhile). */
export interface KernelSetup {
  build: WasmBuild;
  icosphere: Icosphere;
  hash: SpatialHash;
}

export interface FileTask {
  path: string;
  label: string;
  id: number;
  options: KernelOptions;
  /** Output file descriptors (positioned writes). */
  fds: { x: number; y: number };
  /** Receives { rows } from the worker; answers with a RowsPlace, or null to drop the rows. */
  port: MessagePort;
  setup: KernelSetup;
}

/** What a worker says before writing: its row count. */
export interface RowsMessage {
  rows: number;
}

export type FileResult =
  | {
    ok: true; rows: number; vertices: number; bytesRead: number;
    normals: "file" | "computed"; skipped: { nonfinite: number; outsideSphere: number };
  }
  | { ok: false; error: ReturnType<HeadsnetError["toJSON"]>; /** the rows were placed but not written */ placed?: boolean };

let kernel: Kernel | undefined;

function instance(setup: KernelSetup): Kernel {
  if (!kernel || kernel.icosphere.sha256 !== setup.icosphere.sha256 || kernel.build !== setup.build) {
    kernel = new Kernel(setup.icosphere, { build: setup.build, hash: setup.hash });
  }
  return kernel;
}

export default async function compileFileTask(task: FileTask): Promise<FileResult> {
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
    // The rows stay in kernel memory until the main thread says where they go.
    task.port.postMessage({ rows: out.rows } satisfies RowsMessage);
    const [place] = (await once(task.port, "message")) as [RowsPlace | null];
    if (!place) return { ok: false, error: { code: "E_INTERRUPTED", message: `${task.label}: not written (the run stopped)` } };
    try {
      writeAllAt(task.fds.x, new Uint8Array(out.x.buffer, out.x.byteOffset, out.x.byteLength), place.xAt);
      writeAllAt(task.fds.y, new Uint8Array(out.y.buffer, out.y.byteOffset, out.y.byteLength), place.yAt);
    } catch (e) {
      return { ok: false, placed: true, error: { code: "E_OUTPUT", message: `cannot write the rows of ${task.label}: ${(e as Error).message}` } };
    }
    return {
      ok: true, rows: out.rows, vertices: out.vertices, bytesRead: out.bytesRead,
      normals: out.normals, skipped: out.skipped,
    };
  } finally {
    task.port.close();
  }
}

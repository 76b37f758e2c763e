// A Piscina worker: one kernel instance per thread, one task per file. Results travel back as
// transferred buffers, never copied; failures come back as data so the run goes on.

import { Piscina } from "piscina";
import { Kernel, type KernelOptions, type WasmBuild } from "./kernel.js";
import { HeadsnetError } from "./errors.js";
import type { Icosphere } from "./icosphere.js";
import type { SpatialHash } from "./spatial-hash.js";

export interface WorkerSetup {
  icosphere: Icosphere;
  hash: SpatialHash;
  build: WasmBuild;
}

export interface FileTask {
  path: string;
  label: string;
  id: number;
  options: KernelOptions;
}

export type FileResult =
  | {
    ok: true; rows: number; vertices: number; x: Float32Array; y: Float32Array; bytesRead: number;
    normals: "file" | "computed"; skipped: { nonfinite: number; outsideSphere: number };
  }
  | { ok: false; error: ReturnType<HeadsnetError["toJSON"]> };

let kernel: Kernel | undefined;

function instance(): Kernel {
  if (!kernel) {
    const setup = Piscina.workerData as WorkerSetup;
    kernel = new Kernel(setup.icosphere, { build: setup.build, hash: setup.hash });
  }
  return kernel;
}

export default function compileFileTask(task: FileTask): unknown {
  // For the test that a crashing worker fails its file only: this thread dies on that file.
  const crashOn = process.env.HEADSNET_TEST_CRASH;
  if (crashOn && task.label.endsWith(crashOn)) process.exit(70);
  try {
    const out = instance().compileFile(task.path, task.id, task.options, task.label);
    const result: FileResult = {
      ok: true, rows: out.rows, vertices: out.vertices, x: out.x, y: out.y, bytesRead: out.bytesRead,
      normals: out.normals, skipped: out.skipped,
    };
    return Piscina.move({
      [Piscina.transferableSymbol]: [out.x.buffer, out.y.buffer],
      [Piscina.valueSymbol]: result,
    } as never);
  } catch (e) {
    if (e instanceof HeadsnetError) return { ok: false, error: e.toJSON() } satisfies FileResult;
    // A trap or a bug: fail this file with what happened; the kernel is rebuilt for the next one.
    kernel = undefined;
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, error: { code: "E_WORKER", message: `${task.label}: the kernel failed: ${message}`, file: task.label } } satisfies FileResult;
  }
}

// A Piscina worker: one task per file. The worker compiles its file and hands the rows to the main
// thread without copying them: its kernel's memory is shared, and holds a few files' rows at once
// (regions), so the main thread writes a file's rows in file order straight from there while
// this worker goes on with the next file in another region (as native code would write from a
// thread of its own). One kernel, not one per region: its tables stay warm in the cache.
// Failures come back as data, so the run goes on.

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
  setup: KernelSetup;
}

/**
 * A compiled file's rows, in the kernel memory of the worker that computed them: x rows
 * (`xBytes` at `xAt`) and y rows (`yBytes` at `yAt`). The receiver must call releaseRows() once
 * it has written them or will not: until then the worker does not reuse that region.
 */
export interface RowsMessage {
  memory: SharedArrayBuffer;
  xAt: number;
  xBytes: number;
  yAt: number;
  yBytes: number;
  /**
   * One flag per region of the worker's kernel, 1 while the receiver holds that region's rows,
   * then a count of releases (what the worker waits on when it needs a region).
   */
  held: Int32Array;
  region: number;
}

/** The worker may reuse the region that holds these rows. */
export function releaseRows(m: RowsMessage): void {
  Atomics.store(m.held, m.region, 0);
  Atomics.add(m.held, m.held.length - 1, 1);
  Atomics.notify(m.held, m.held.length - 1);
}

export type FileResult =
  | {
    ok: true; rows: number; vertices: number; bytesRead: number;
    normals: "file" | "computed"; skipped: { nonfinite: number; outsideSphere: number };
    /** Where the rows are. */
    out: RowsMessage;
  }
  | { ok: false; error: ReturnType<HeadsnetError["toJSON"]> };

/** Kernel regions per worker: one compiling while the main thread writes from the others. */
const REGIONS = 3;
/** Memory beyond which a region is kept for the next file (see compileFileTask). */
const LARGE_MEMORY = 256 << 20;

let kernel: Kernel | undefined;
const held = new Int32Array(new SharedArrayBuffer(4 * (REGIONS + 1)));
const RELEASES = REGIONS;
let nextRegion = 0;

function instance(setup: KernelSetup): Kernel {
  if (!kernel || kernel.icosphere.sha256 !== setup.icosphere.sha256 || kernel.build !== setup.build) {
    kernel = new Kernel(setup.icosphere, { build: setup.build, hash: setup.hash, cells: setup.cells });
  }
  return kernel;
}

/** A region to take next, once the main thread releases it: the last file's, when it was huge. */
let reuse = -1;

/**
 * A region whose rows the main thread is not holding. Waits for the main thread when it holds
 * them all; it writes in file order, and every file it waits for was started before this one,
 * so the wait always ends.
 */
function freeRegion(): number {
  for (;;) {
    const releases = Atomics.load(held, RELEASES);
    if (reuse >= 0) {
      if (Atomics.load(held, reuse) === 0) {
        const r = reuse;
        reuse = -1;
        return r;
      }
    } else {
      for (let i = 0; i < REGIONS; i++) {
        const r = (nextRegion + i) % REGIONS;
        if (Atomics.load(held, r) !== 0) continue;
        nextRegion = r + 1;
        return r;
      }
    }
    Atomics.wait(held, RELEASES, releases);
  }
}

export default function compileFileTask(task: FileTask): FileResult {
  // For the test that a crashing worker fails its file only: this thread dies on that file.
  const crashOn = process.env.HEADSNET_TEST_CRASH;
  if (crashOn && task.label.endsWith(crashOn)) process.exit(70);
  let r: number;
  let out;
  try {
    const k = instance(task.setup);
    r = freeRegion();
    k.useRegion(r);
    out = k.run(k.loadFile(task.path, task.label, task.options), task.label, task.id, task.options);
  } catch (e) {
    if (e instanceof HeadsnetError) return { ok: false, error: e.toJSON() };
    // A trap or a bug: fail this file with what happened; the kernel is rebuilt for the next one.
    kernel = undefined;
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, error: { code: "E_WORKER", message: `${task.label}: the kernel failed: ${message}`, file: task.label } };
  }
  Atomics.store(held, r, 1);
  const memory = out.x.buffer as SharedArrayBuffer;
  // A huge mesh: its region takes the next file too, once these rows are written, so that a run
  // of such meshes grows one region, not all of them (wasm memory never shrinks).
  if (memory.byteLength > LARGE_MEMORY) reuse = r;
  return {
    ok: true, rows: out.rows, vertices: out.vertices, bytesRead: out.bytesRead,
    normals: out.normals, skipped: out.skipped,
    out: { memory, xAt: out.x.byteOffset, xBytes: out.x.byteLength, yAt: out.y.byteOffset, yBytes: out.y.byteLength, held, region: r },
  };
}

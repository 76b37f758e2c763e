// A Piscina worker: one task per file. The worker compiles its file and hands the rows to the main
// thread without copying them: its kernel's memory is shared, and holds a few files' rows at once
// (regions), so the main thread writes a file's rows in file order straight from there while
// this worker goes on with the next file in another region (as native code would write from a
// thread of its own). One kernel, not one per region: its tables stay warm in the cache.
// Failures come back as data, so the run goes on.

import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { isMainThread } from "node:worker_threads";
import { Kernel } from "../kernel.js";
import { HeadsnetError, errors } from "../errors.js";
import type { FileResult, FileTask, KernelSetup, TargetTask } from "./protocol.js";
import { compileMeshTarget } from "../mesh/targets.js";

/** Kernel regions per worker: one compiling while the main thread writes from the others. */
const REGIONS = 3;
/** Memory beyond which a region is kept for the next file (see freeRegion). */
const LARGE_MEMORY = 256 << 20;

/** Per thread: the kernel, and which of its regions the main thread holds. Made on first use. */
interface WorkerState {
  kernel?: Kernel;
  /** REGIONS flags, then a count of releases. */
  held: Int32Array;
  nextRegion: number;
  /** A region to take next, once the main thread releases it: the last file's, when it was huge. */
  reuse: number;
}

let state: WorkerState | undefined;

/**
 * The compute threads' niceness (Linux; 0 is the default, 19 the lowest priority). Kernels keep
 * every core busy, and a thread that reads or writes for the run (the main thread, libuv's pool)
 * then waited for a core before it issued its next read: under a cold voxels compile the disk read
 * at 810 MB/s, against 1,020 for a process that only reads. At a lower priority the kernels yield
 * to those threads, which need a core only briefly, and lose nothing when they are alone.
 */
export const COMPUTE_NICENESS = 10;

/** Lower this thread's priority to COMPUTE_NICENESS. Where threads have no id to set it by (no /proc), nothing changes. */
export function yieldToIoThreads(): void {
  try {
    // Linux's setpriority() takes a thread id for one thread; /proc/thread-self names this one's.
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isSafeInteger(tid) && tid > 0) setPriority(tid, COMPUTE_NICENESS);
  } catch {
    // Not Linux, or not allowed: the run is as correct, only its reads may wait for a core.
  }
}

// Only as a pool's thread: a process that imports this module (a test) keeps its priority.
if (!isMainThread) yieldToIoThreads();

function workerState(): WorkerState {
  state ??= { held: new Int32Array(new SharedArrayBuffer(4 * (REGIONS + 1))), nextRegion: 0, reuse: -1 };
  return state;
}

function headsnetKernel(s: WorkerState, setup: KernelSetup): Kernel {
  if (!s.kernel || s.kernel.icosphere.sha256 !== setup.icosphere.sha256 || s.kernel.build !== setup.build) {
    s.kernel = new Kernel(setup.icosphere, { build: setup.build, hash: setup.hash, cells: setup.cells });
  }
  return s.kernel;
}

/**
 * A region whose rows the main thread is not holding. Waits for the main thread when it holds
 * them all; it writes in file order, and every file it waits for was started before this one,
 * so the wait always ends.
 */
function freeRegion(s: WorkerState): number {
  const releases = REGIONS;
  for (;;) {
    const seen = Atomics.load(s.held, releases);
    if (s.reuse >= 0) {
      if (Atomics.load(s.held, s.reuse) === 0) {
        const r = s.reuse;
        s.reuse = -1;
        return r;
      }
    } else {
      for (let i = 0; i < REGIONS; i++) {
        const r = (s.nextRegion + i) % REGIONS;
        if (Atomics.load(s.held, r) !== 0) continue;
        s.nextRegion = r + 1;
        return r;
      }
    }
    Atomics.wait(s.held, releases, seen);
  }
}

/** The bytes read ahead for this file (the main thread's shared memory). */
function handedBytes(b: NonNullable<FileTask["bytes"]>): Uint8Array {
  return new Uint8Array(b.memory, b.at, b.bytes);
}

function compileHeadsnet(s: WorkerState, task: FileTask, target: Extract<TargetTask, { kind: "headsnet" }>): FileResult {
  const k = headsnetKernel(s, target.setup);
  const r = freeRegion(s);
  k.useRegion(r);
  const size = task.bytes ? k.load(handedBytes(task.bytes)) : k.loadFile(task.path, task.label, target.options);
  const out = k.run(size, task.label, task.id, target.options);
  Atomics.store(s.held, r, 1);
  const memory = out.x.buffer as SharedArrayBuffer;
  // A huge mesh: its region takes the next file too, once these rows are written, so that a run
  // of such meshes grows one region, not all of them (wasm memory never shrinks).
  if (memory.byteLength > LARGE_MEMORY) s.reuse = r;
  return {
    ok: true, rows: out.rows, vertices: out.vertices, bytesRead: out.bytesRead,
    normals: out.normals, skipped: out.skipped, warnings: out.warnings,
    out: {
      held: s.held, region: r,
      parts: [{ memory, at: out.x.byteOffset, bytes: out.x.byteLength }, { memory, at: out.y.byteOffset, bytes: out.y.byteLength }],
    },
  };
}

/** A mesh target: its rows come back as fresh arrays, one per output file of the target. */
function compileMesh(task: FileTask, target: Extract<TargetTask, { kind: "mesh" }>): FileResult {
  const bytes = task.bytes ? handedBytes(task.bytes) : undefined;
  const r = compileMeshTarget(task.path, target.target, { ...target.options, key: task.key, label: task.label, bytes });
  // One row per mesh for voxels and images; one per sample for the samplers.
  const rows = target.target === "voxels" || target.target === "images" ? 1 : r.counts.rows;
  const part = (a: Uint8Array) => ({ memory: a.buffer as ArrayBuffer, at: a.byteOffset, bytes: a.byteLength });
  return {
    ok: true, rows, vertices: r.mesh.vertices, bytesRead: r.mesh.bytes, normals: r.mesh.normals,
    skipped: { nonfinite: 0, outsideSphere: 0, tooFar: 0, transparent: 0 }, warnings: [],
    out: { region: 0, parts: target.target === "voxels" ? [part(r.x), part(r.y)] : [part(r.y)] },
  };
}

export default function compileFileTask(task: FileTask): FileResult {
  const s = workerState();
  try {
    switch (task.target.kind) {
      case "headsnet": return compileHeadsnet(s, task, task.target);
      case "mesh": return compileMesh(task, task.target);
    }
  } catch (e) {
    if (e instanceof HeadsnetError) return { ok: false, error: e.toJSON() };
    // A trap or a bug: fail this file with what happened; the kernel is rebuilt for the next one.
    s.kernel = undefined;
    return { ok: false, error: errors.kernelFailed(task.label, e instanceof Error ? e.message : String(e)).toJSON() };
  }
}

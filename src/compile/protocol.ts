// What the compile's main thread and its workers hand each other: a task per file, and back its
// rows (where they lie in the worker's memory) or its error. Nothing here runs or allocates.

import type { ErrorJson } from "../errors.js";
import type { Icosphere } from "../icosphere.js";
import type { KernelOptions, SkippedVertices, WasmBuild } from "../kernel.js";
import type { KernelCells, SpatialHash } from "../spatial-hash.js";
import type { MeshTarget, MeshTargetOptions } from "../mesh/targets.js";

/** What a HeadsNet kernel is built from; tasks carry it (the tables in shared memory, never copied). */
export interface KernelSetup {
  build: WasmBuild;
  icosphere: Icosphere;
  hash: SpatialHash;
  cells: KernelCells;
}

/** What to make of a file: HeadsNet's rows, or a mesh target's (src/mesh/targets.ts). */
export type TargetTask =
  | { kind: "headsnet"; options: KernelOptions; setup: KernelSetup }
  | { kind: "mesh"; target: MeshTarget; options: MeshTargetOptions };

export interface FileTask {
  path: string;
  /** The file as the user knows it (for messages). */
  label: string;
  /** Its path under its input: the model's name, and the key of its random numbers. */
  key: string;
  id: number;
  target: TargetTask;
  /** The file's bytes, read ahead into shared memory (the worker copies them and reads nothing). */
  bytes?: { memory: SharedArrayBuffer; at: number; bytes: number };
}

/**
 * A compiled file's rows, one byte range per output stream. When `held` is set they lie in the
 * worker's own (shared) memory, and the receiver must call releaseRows() once it has written
 * them or will not: until then the worker does not reuse that region. Otherwise they are the
 * receiver's (copied or transferred).
 */
export interface RowsMessage {
  parts: { memory: SharedArrayBuffer | ArrayBuffer; at: number; bytes: number }[];
  /**
   * One flag per region of the worker's kernel, 1 while the receiver holds that region's rows,
   * then a count of releases (what the worker waits on when it needs a region).
   */
  held?: Int32Array;
  region: number;
}

/** The worker may reuse the region that holds these rows. */
export function releaseRows(m: RowsMessage): void {
  if (!m.held) return;
  Atomics.store(m.held, m.region, 0);
  Atomics.add(m.held, m.held.length - 1, 1);
  Atomics.notify(m.held, m.held.length - 1);
}

export interface FileStats {
  rows: number;
  vertices: number;
  bytesRead: number;
  normals: "file" | "computed" | "none";
  /** Vertices without a row (see CompiledFile.skipped). */
  skipped: SkippedVertices;
  /** Things worth telling the user that did not stop the file (e.g. a mesh outside the unit sphere). */
  warnings: string[];
}

export type FileResult =
  | ({ ok: true; out: RowsMessage } & FileStats)
  | { ok: false; error: ErrorJson };

// Compile targets: what a run makes of each file. A target names its output streams, builds the
// task a worker runs for a file, and says what the manifest records about how it was made. The
// pipeline (compile/index.ts) is the same for every target: files in, one task per file across
// the pool, rows committed in file order, one dataset out.

import { headsnetStreams, type HeadsnetOptionsRecord, type Manifest, type StreamSpec, type TargetName } from "../dataset/format.js";
import type { KernelOptions, WasmBuild } from "../kernel.js";
import { loadSetup, type Setup } from "../setup-cache.js";
import type { CompileOptions } from "./options.js";
import type { KernelSetup, TargetTask } from "./protocol.js";

export interface TargetPlan {
  name: TargetName;
  streams: StreamSpec[];
  /** The manifest's `options`: everything about the run that the data depends on. */
  manifestOptions: HeadsnetOptionsRecord;
  /** Further manifest fields of this target (e.g. the icosphere). */
  manifestFields: Pick<Manifest, "icosphere">;
  /** What a resumed run must match besides the options (e.g. the icosphere's digest). */
  keyParts: unknown;
  /** The worker's task for one file. */
  task(): TargetTask;
}

export function planTarget(options: CompileOptions): TargetPlan {
  return headsnetPlan(options);
}

function headsnetPlan(options: CompileOptions): TargetPlan {
  const loaded = loadSetup(options.icosphere, options.cacheDir);
  const { icosphere } = loaded;
  const inputWidth = options.inputWidth ?? 2;
  const kernelOptions: KernelOptions = {
    projection: options.projection ?? "legacy",
    inputs: inputWidth,
    normals: options.normals ?? "auto",
    normalize: options.normalize ?? "none",
    onInvalid: options.onNonfinite ?? "fail",
    defaultColor: options.defaultColor,
    minOpacity: options.minOpacity,
  };
  const setup = sharedSetup(loaded, options.build ?? "release");
  return {
    name: "headsnet",
    streams: headsnetStreams(inputWidth),
    manifestOptions: {
      projection: kernelOptions.projection!, inputs: inputWidth, seed: options.seed ?? 0, ids: options.ids ?? "hash",
      icosphere: icosphere.source, normals: kernelOptions.normals!, normalize: kernelOptions.normalize!,
      onNonfinite: kernelOptions.onInvalid!, defaultColor: options.defaultColor ?? null,
      ...(options.minOpacity !== undefined ? { minOpacity: options.minOpacity } : {}),
    },
    manifestFields: { icosphere: { vertices: icosphere.count, sha256: icosphere.sha256, source: icosphere.source } },
    keyParts: { icosphere: icosphere.sha256 },
    task: () => ({ kind: "headsnet", options: kernelOptions, setup }),
  };
}

/** The icosphere and cube map in shared memory: every task carries them, and none copies them. */
function sharedSetup({ icosphere, hash, cells }: Setup, build: WasmBuild): KernelSetup {
  const share = <T extends Float32Array | Uint32Array | Uint16Array>(a: T): T => {
    const shared = new (a.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
    shared.set(a as never);
    return shared;
  };
  return {
    build,
    icosphere: { ...icosphere, vertices: share(icosphere.vertices) },
    hash: { grid: hash.grid, cellStart: share(hash.cellStart), candidates: share(hash.candidates) },
    cells: { cells: share(cells.cells), candidates: share(cells.candidates), wide: cells.wide },
  };
}

// Compile targets: what a run makes of each file. A target names its output streams, builds the
// task a worker runs for a file, and says what the manifest records about how it was made. The
// pipeline (compile/index.ts) is the same for every target: files in, one task per file across
// the pool, rows committed in file order, one dataset out.

import {
  headsnetStreams, voxelStreams, surfaceStreams, occupancyStreams, imageStreams,
  type ManifestOptions, type Manifest, type StreamSpec, type TargetName,
} from "../dataset/format.js";
import type { MeshTargetOptions } from "../mesh/targets.js";
import { parseHeader, vertexLayout } from "../ply-header.js";
import type { KernelOptions, WasmBuild } from "../kernel.js";
import { loadSetup, type Setup } from "../setup-cache.js";
import { indexPictures, pictureCandidates } from "../pictures.js";
import type { CompileOptions } from "./options.js";
import type { KernelSetup, TargetTask } from "./protocol.js";

export interface TargetPlan {
  name: TargetName;
  streams: StreamSpec[];
  /** The manifest's `options`: everything about the run that the data depends on. */
  manifestOptions: ManifestOptions;
  /** Further manifest fields of this target (e.g. the icosphere). */
  manifestFields: Partial<Pick<Manifest, "icosphere">>;
  /** What a resumed run must match besides the options (e.g. the icosphere's digest). */
  keyParts: unknown;
  /** The worker's task for a file, given its path under its input. */
  task(key: string): TargetTask;
  /** How much of a file a worker reads (read-ahead reads as much): from its first bytes and size. */
  readExtent(head: Uint8Array, size: number): number;
}

export function planTarget(options: CompileOptions): TargetPlan {
  const target = options.target ?? "headsnet";
  return target === "headsnet" ? headsnetPlan(options) : meshPlan(target, options);
}

/** The files a target reads: HeadsNet's kernel reads PLY; the mesh targets PLY and OBJ. */
export function inputPattern(target: TargetName | undefined): RegExp {
  return (target ?? "headsnet") === "headsnet" ? /\.ply$/i : /\.(ply|obj)$/i;
}

/** FaceNet's volumes, NeuralParts' samples, renders: the mesh kernel (src/mesh/). */
function meshPlan(target: Exclude<TargetName, "headsnet">, options: CompileOptions): TargetPlan {
  const imageSize = options.imageSize ?? (target === "images" ? 224 : 32);
  const grid = options.grid ?? 32;
  const samples = options.samples ?? 100_000;
  const meshOptions: MeshTargetOptions = {
    seed: options.seed ?? 0, normals: options.normals === "compute" ? "compute" : "auto", defaultColor: options.defaultColor,
    build: options.build === "debug" ? "debug" : "release",
    ...(target === "voxels" ? { grid, voxelValue: options.voxelValue ?? "color", imageSize } : {}),
    ...(target === "images" ? { imageSize } : {}),
    ...(target === "surface" ? { samples, surfaceNormals: options.surfaceNormals ?? "face" } : {}),
    ...(target === "occupancy" ? { samples, margin: options.margin ?? 0.1, sigma: options.sigma ?? 0.01, uniformFraction: options.uniformShare ?? 0.5 } : {}),
  };
  // Pictures are found once, here; each file's task carries its candidates (pictures.ts).
  const pictures = options.images !== undefined ? indexPictures(options.images) : undefined;
  const streams = target === "voxels" ? voxelStreams(imageSize, grid, pictures !== undefined)
    : target === "surface" ? surfaceStreams()
      : target === "occupancy" ? occupancyStreams() : imageStreams(imageSize);
  const { build: _, ...recorded } = meshOptions;
  return {
    name: target,
    streams,
    manifestOptions: {
      ...recorded, ids: options.ids ?? "hash", normals: meshOptions.normals!, defaultColor: options.defaultColor ?? null, seed: meshOptions.seed!,
      ...(pictures ? { images: options.images } : {}),
    },
    manifestFields: {},
    keyParts: {},
    task: (key) => ({
      kind: "mesh", target,
      options: pictures ? { ...meshOptions, pictures: { dir: pictures.dir, candidates: pictureCandidates(pictures, key) } } : meshOptions,
    }),
    readExtent: (_head, size) => size,
  };
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
    // As Kernel.loadFile: with the normals in the file and fixed records, the vertices end it.
    readExtent: (head, size) => {
      try {
        const layout = vertexLayout(parseHeader(head, ""), "");
        const needsFaces = kernelOptions.normals === "compute" || (kernelOptions.normals === "auto" && !layout.hasNormals);
        return !needsFaces && layout.vertexEnd !== undefined ? layout.vertexEnd : size;
      } catch {
        return size;
      }
    },
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

// The mesh targets, one file at a time: what a compile worker calls for `--target voxels`,
// `--target surface` and `--target occupancy`.
//
//   compileMeshTarget(path, target, options) -> { x, y, counts, ... }
//
// Stateless from the caller's view: each call loads the file into this thread's mesh kernel
// (created on first use), computes the target and returns fresh arrays (transferable). Errors
// are HeadsnetErrors naming the file and the place (byte offset, or line for ASCII PLY and OBJ).
//
//   target     x (train_x)                                y (train_y)
//   voxels     image: imageSize² uint8, grayscale front   grid³ uint8 voxels, index z·G² + y·G + x
//              view (omit with image: false)
//   surface    none (image: true adds the front view)     samples × 9 float32: x y z nx ny nz r g b
//   occupancy  none (image: true adds the front view)     samples × 5 float32: x y z inside weight
//
// Random samples are a pure function of (seed, key, target): `key` defaults to the path, and a
// caller compiling a corpus passes each file's path relative to its input, so that the bytes do
// not depend on where the corpus lies, on the thread, or on the other files.

import { MeshKernel, sampleSeed, type LoadOptions, type MeshInfo, type MeshBuild } from "./kernel.js";
import { pictureFor, pictureToGray, readPicture } from "../pictures.js";

export type MeshTarget = "voxels" | "surface" | "occupancy" | "images";
export const MESH_TARGETS: readonly MeshTarget[] = ["voxels", "surface", "occupancy", "images"];

export interface MeshTargetOptions extends LoadOptions {
  /** Name for errors (default: the path). */
  label?: string;
  /** Random stream key (default: the path). */
  key?: string;
  /** The file's bytes, already in memory (read ahead by the compile): `path` is not read. */
  bytes?: Uint8Array;
  /** Run seed (default 0). */
  seed?: number;
  /** voxels: cells per side (32). */
  grid?: number;
  /** voxels: mean colour (default) or occupancy (255 for a voxel with a vertex). */
  voxelValue?: "color" | "occupancy";
  /** The front view as x: default true for voxels, false otherwise. */
  image?: boolean;
  /** Side of the front view in pixels (32). */
  imageSize?: number;
  /** voxels: x from a picture (pictures.ts) instead of the rendered view: the folder and this mesh's candidates. */
  pictures?: { dir: string; candidates: string[] };
  /** surface, occupancy: samples per mesh (100,000). */
  samples?: number;
  /** surface: the triangle's normal (default) or interpolated vertex normals. */
  surfaceNormals?: "face" | "vertex";
  /** occupancy: see OccupancyOptions (margin 0.1, sigma 0.01, uniformFraction 0.5, isotropic). */
  margin?: number;
  sigma?: number;
  uniformFraction?: number;
  noise?: "isotropic" | "normal";
  /** Kernel build (default release). */
  build?: MeshBuild;
}

export interface MeshTargetResult {
  target: MeshTarget;
  mesh: MeshInfo;
  /** train_x bytes (the front view), empty without an image. */
  x: Uint8Array;
  xShape: number[];
  /** train_y bytes, little-endian (float32 rows or uint8 voxels). */
  y: Uint8Array;
  yShape: number[];
  yType: "uint8" | "float32";
  counts: {
    /** Rows of y (samples), or voxels (grid³). */
    rows: number;
    /** voxels: voxels with a vertex. */
    occupied?: number;
    /** occupancy: samples inside, and samples uniform in the box. */
    inside?: number;
    uniform?: number;
  };
}

const kernels = new Map<MeshBuild, MeshKernel>();

function kernel(build: MeshBuild): MeshKernel {
  let k = kernels.get(build);
  if (!k) {
    k = new MeshKernel({ build });
    kernels.set(build, k);
  }
  return k;
}

/** Compile one mesh file into one target's x and y. */
export function compileMeshTarget(path: string, target: MeshTarget, options: MeshTargetOptions = {}): MeshTargetResult {
  if (!MESH_TARGETS.includes(target)) throw new RangeError(`target must be one of ${MESH_TARGETS.join(", ")}, got ${target}`);
  const k = kernel(options.build ?? "release");
  const label = options.label ?? path;
  // A missing or bad picture fails the file before its mesh is read.
  const picture = options.pictures && target === "voxels"
    ? pictureToGray(readPicture(pictureFor(options.pictures.candidates, label, options.pictures.dir), label), options.imageSize ?? 32)
    : undefined;
  const load = { label: options.label, format: options.format, normals: options.normals, defaultColor: options.defaultColor };
  const mesh = options.bytes ? k.loadBytes(options.bytes, path, load) : k.loadFile(path, load);
  const key = options.key ?? path;
  const seed = options.seed ?? 0;
  const samples = options.samples ?? 100_000;
  const wantImage = options.image ?? target === "voxels";
  const imageSize = options.imageSize ?? (target === "images" ? 224 : 32);
  if (target === "images") {
    // One row per mesh: its RGB front view.
    const y = k.renderFront(imageSize, { rgb: true });
    return { target, mesh, x: new Uint8Array(0), xShape: [0], y, yShape: [imageSize, imageSize, 3], yType: "uint8", counts: { rows: 1 } };
  }
  const image = () => {
    if (!wantImage) return { x: new Uint8Array(0), xShape: [0] };
    if (picture) return { x: picture, xShape: [imageSize, imageSize] };
    return { x: k.renderFront(imageSize), xShape: [imageSize, imageSize] };
  };
  if (target === "voxels") {
    const grid = options.grid ?? 32;
    const { voxels, occupied } = k.voxelize({ grid, value: options.voxelValue });
    return { target, mesh, ...image(), y: voxels, yShape: [grid, grid, grid], yType: "uint8", counts: { rows: grid ** 3, occupied } };
  }
  if (target === "surface") {
    const rows = k.sampleSurface(samples, { seed: sampleSeed(seed, key, "surface"), normals: options.surfaceNormals });
    return { target, mesh, ...image(), y: bytesOf(rows), yShape: [samples, 9], yType: "float32", counts: { rows: samples } };
  }
  const { rows, inside, uniform } = k.sampleOccupancy(samples, {
    seed: sampleSeed(seed, key, "occupancy"), margin: options.margin, sigma: options.sigma,
    uniformFraction: options.uniformFraction, noise: options.noise,
  });
  return { target, mesh, ...image(), y: bytesOf(rows), yShape: [samples, 5], yType: "float32", counts: { rows: samples, inside, uniform } };
}

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

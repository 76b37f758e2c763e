// The dataset format: what a compile writes and every reader reads. A dataset directory holds one
// raw little-endian file per stream (train_x and train_y for HeadsNet), `.dat` for numpy.fromfile
// or `.npy` for numpy.load, and manifest.json, which describes them: the target, the options, the
// icosphere, each file's dtype, width and size, the row range of every model, and the files that
// failed. The manifest is written last, so a directory without one is not a finished dataset.
// This module owns the names, widths and headers; dataset/read.ts owns the checks.

export type DataFormat = "dat" | "npy";
export type DType = "float32" | "uint8";
/** What a dataset is for: HeadsNet's rows, FaceNet's volumes, NeuralParts' samples, or renders. */
export type TargetName = "headsnet" | "voxels" | "surface" | "occupancy" | "images";
export const TARGETS: readonly TargetName[] = ["headsnet", "voxels", "surface", "occupancy", "images"];

export const MANIFEST_NAME = "manifest.json";
/** 2: `target`, per-file `dtype`; version 1 (HeadsNet, float32 only) still reads. */
export const MANIFEST_VERSION = 2;
export const READABLE_MANIFEST_VERSIONS = [1, 2];

/** HeadsNet's columns. */
export const X_COLUMNS_2 = ["model_id", "index_value"];
export const X_COLUMNS_5 = [...X_COLUMNS_2, "ray_x", "ray_y", "ray_z"];
export const Y_COLUMNS = ["x", "y", "z", "r", "g", "b"];
export const HEADSNET_Y_WIDTH = Y_COLUMNS.length;

/** FaceNet's files: a grayscale front view per model (train_x) and its voxel volume (train_y). */
export function voxelStreams(imageSize: number, grid: number, pictures = false): StreamSpec[] {
  const x = pictures ? "face picture (--images), centred square" : "front view";
  return [
    { key: "x", stem: "train_x", dtype: "uint8", width: imageSize * imageSize, columns: [`${x}, ${imageSize}x${imageSize} grayscale, rows top to bottom`] },
    { key: "y", stem: "train_y", dtype: "uint8", width: grid ** 3, columns: [`voxels, ${grid}^3, index z*${grid * grid} + y*${grid} + x`] },
  ];
}

export const SURFACE_COLUMNS = ["x", "y", "z", "nx", "ny", "nz", "r", "g", "b"];
export const OCCUPANCY_COLUMNS = ["x", "y", "z", "inside", "weight"];

/** NeuralParts' surface samples: one file of rows x y z nx ny nz r g b. */
export function surfaceStreams(): StreamSpec[] {
  return [{ key: "samples", stem: "surface", dtype: "float32", width: SURFACE_COLUMNS.length, columns: SURFACE_COLUMNS }];
}

/** NeuralParts' volume samples: one file of rows x y z inside weight. */
export function occupancyStreams(): StreamSpec[] {
  return [{ key: "points", stem: "occupancy", dtype: "float32", width: OCCUPANCY_COLUMNS.length, columns: OCCUPANCY_COLUMNS }];
}

/** Renders for image-conditioned models: one RGB front view per model. */
export function imageStreams(size: number): StreamSpec[] {
  return [{ key: "images", stem: "images", dtype: "uint8", width: size * size * 3, columns: [`front view, ${size}x${size} RGB, rows top to bottom`] }];
}

/** One output file of a target: its key in the manifest, its file name stem, element type and row width. */
export interface StreamSpec {
  key: string;
  stem: string;
  dtype: DType;
  /** Elements per row. */
  width: number;
  columns?: string[];
}

export function headsnetStreams(inputWidth: number): StreamSpec[] {
  const xColumns = inputWidth === 5 ? X_COLUMNS_5 : X_COLUMNS_2;
  return [
    { key: "x", stem: "train_x", dtype: "float32", width: xColumns.length, columns: xColumns },
    { key: "y", stem: "train_y", dtype: "float32", width: HEADSNET_Y_WIDTH, columns: Y_COLUMNS },
  ];
}

export function dtypeBytes(dtype: DType): number {
  return dtype === "uint8" ? 1 : 4;
}

/** Bytes of one row of a stream. */
export function rowBytes(s: { dtype?: DType; width: number }): number {
  return dtypeBytes(s.dtype ?? "float32") * s.width;
}

export function fileName(stem: string, format: DataFormat): string {
  return `${stem}.${format}`;
}

/** Every output file name any target could write in a directory (a new run replaces them all). */
export function allFileNames(streams: StreamSpec[]): string[] {
  return streams.flatMap((s) => [fileName(s.stem, "dat"), fileName(s.stem, "npy")]);
}

/** Every .npy header headsnet writes is this long, so the final row count can be written in place. */
export const NPY_HEADER_BYTES = 128;

const NPY_DESCR: Record<DType, string> = { float32: "<f4", uint8: "|u1" };

export function npyHeader(rows: number, width: number, dtype: DType = "float32"): Buffer {
  const dict = `{'descr': '${NPY_DESCR[dtype]}', 'fortran_order': False, 'shape': (${rows}, ${width}), }`;
  const header = Buffer.alloc(NPY_HEADER_BYTES, 0x20);
  header.write("\x93NUMPY", 0, "latin1");
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(NPY_HEADER_BYTES - 10, 8);
  header.write(dict, 10, "latin1");
  header[NPY_HEADER_BYTES - 1] = 0x0a;
  return header;
}

export function dataOffset(format: DataFormat): number {
  return format === "npy" ? NPY_HEADER_BYTES : 0;
}

/**
 * The index value of icosphere vertex i of n, as the reference computes it (its -Ofast build
 * multiplies by the reciprocal): float32(3i) * float32(1 / float32(3n)).
 */
export function indexValue(i: number, n: number): number {
  return Math.fround(Math.fround(3 * i) * Math.fround(1 / Math.fround(3 * n)));
}

/** The icosphere vertex whose index value is exactly `value`, or -1 when none is. */
export function indexOfValue(value: number, n: number): number {
  const i = Math.round(value * n);
  return i >= 0 && i < n && indexValue(i, n) === value ? i : -1;
}

export interface OutputFileInfo {
  name: string;
  width: number;
  /** Absent in version-1 manifests: float32. */
  dtype?: DType;
  /** Byte offset of the first row (0 for .dat, the header length for .npy). */
  dataOffset: number;
  bytes: number;
  columns?: string[];
  /**
   * A linked dataset (`headsnet merge --link`): the rows lie in these files, one after another,
   * each path relative to the manifest's directory; there is no file `name` of its own.
   */
  parts?: FilePartRecord[];
}

export interface FilePartRecord {
  path: string;
  dataOffset: number;
  rows: number;
}

/** What the manifest says of one output file holding `rows` rows (every writer describes files so). */
export function describeFile(s: StreamSpec, format: DataFormat, rows: number): OutputFileInfo {
  const offset = dataOffset(format);
  return { name: fileName(s.stem, format), width: s.width, dtype: s.dtype, dataOffset: offset, bytes: offset + rows * rowBytes(s), columns: s.columns };
}

/** The stream a manifest's file entry describes. */
export function streamOf(key: string, info: OutputFileInfo): StreamSpec {
  return { key, stem: info.name.replace(/\.(dat|npy)$/, ""), dtype: info.dtype ?? "float32", width: info.width, columns: info.columns };
}

export interface ModelEntry {
  /** The model's path relative to its input (see compile/inputs.ts): unique within a dataset. */
  path: string;
  id: number;
  firstRow: number;
  rows: number;
  vertices: number;
  normals: "file" | "computed" | "none";
  /** Vertices without a row: on-nonfinite skip; splats below minOpacity (transparent). */
  skipped?: { nonfinite: number; outsideSphere: number; tooFar?: number; transparent?: number };
}

export interface FailedEntry {
  path: string;
  code: string;
  message: string;
}

export type ManifestOptions = HeadsnetOptionsRecord | MeshOptionsRecord;

/** What a mesh target's manifest records of how it was made. */
export interface MeshOptionsRecord {
  seed: number;
  ids?: string;
  normals: string;
  defaultColor: number[] | null;
  [option: string]: unknown;
}

export interface HeadsnetOptionsRecord {
  projection: string;
  inputs: number;
  seed: number;
  ids?: string;
  icosphere: string;
  normals: string;
  normalize: string;
  onNonfinite: string;
  defaultColor: number[] | null;
  /** 3D Gaussian splats' least opacity, when given. */
  minOpacity?: number;
}

export interface Manifest {
  tool: "headsnet";
  version: string;
  manifestVersion: number;
  complete: true;
  /** Absent in version-1 manifests: headsnet. */
  target?: TargetName;
  format: DataFormat;
  /** How the data was made: HeadsNet's options (HeadsnetOptionsRecord), or a mesh target's. */
  options: ManifestOptions;
  /** HeadsNet's icosphere (the other targets have none; readers of HeadsNet data check for it). */
  icosphere?: { vertices: number; sha256: string; source: string };
  /** HeadsNet's column names (also in each file's `columns`); empty for the other targets. */
  columns: { x: string[]; y: string[] };
  files: Record<string, OutputFileInfo> & { x: OutputFileInfo; y: OutputFileInfo };
  rows: number;
  models: ModelEntry[];
  failed: FailedEntry[];
  /** A shard of a larger run (compile/shard.ts): which part of the sorted inputs it holds. */
  shard?: ShardRecord;
}

export interface ShardRecord {
  index: number;
  count: number;
  firstFile: number;
  files: number;
  totalFiles: number;
  inputs: string;
}

/** The target a manifest describes (version-1 manifests are HeadsNet's). */
export function manifestTarget(m: Pick<Manifest, "target">): TargetName {
  return m.target ?? "headsnet";
}

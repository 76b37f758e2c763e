// What a compile takes, and the checks on it before anything is read or written.

import { errors, usageError, opt } from "../errors.js";
import { TARGETS, type DataFormat, type TargetName } from "../dataset/format.js";
import { ID_MODES, type IdMode } from "../ids.js";
import type { InputWidth, InvalidVertexPolicy, KernelOptions, NormalizeMode, NormalsMode, Projection, WasmBuild } from "../kernel.js";
import type { FileStats } from "./protocol.js";
import { checkShard, type ShardSpec } from "./shard.js";

export interface CompileOptions {
  inputs: string[];
  out: string;
  /** What to make of each mesh (default headsnet: HeadsNet's rows). */
  target?: TargetName;
  workers?: number;
  /** Subdivision level, a built-in table's name, or a float32 x y z table file. Default 5. */
  icosphere?: number | string;
  projection?: Projection;
  /** train_x width: 2 ([id, index]) or 5 (plus the negated normal). */
  inputWidth?: InputWidth;
  seed?: number;
  /** Compile only shard `index` of `count` of the sorted inputs (compile/shard.ts). */
  shard?: ShardSpec;
  /** How model ids are given (ids.ts): hashed from the path (default) or evenly spread. */
  ids?: IdMode;
  format?: DataFormat;
  normals?: NormalsMode;
  normalize?: NormalizeMode;
  /** Vertices that cannot be traced (non-finite, too far, outside the sphere in ray mode): fail the file, or skip them. */
  onNonfinite?: InvalidVertexPolicy;
  /** Colour (0-1 each) for files without colours; without it such files fail. */
  defaultColor?: [number, number, number];
  /** 3D Gaussian splats: leave out splats whose opacity (the sigmoid of the file's logit) is below this (0-1). */
  minOpacity?: number;
  /** voxels: cells per side of the volume (32). */
  grid?: number;
  /** voxels: each voxel's mean grey (color, the default) or 255 where a vertex lies (occupancy). */
  voxelValue?: "color" | "occupancy";
  /** voxels: side of the front view in train_x (32); images: side of the render (224). */
  imageSize?: number;
  /** voxels: train_x from the pictures in this folder (PNG or JPEG, matched to meshes by path stem), not rendered. */
  images?: string;
  /** surface, occupancy: samples per mesh (100,000). */
  samples?: number;
  /** surface: each sample's normal: its triangle's (face) or interpolated (vertex). */
  surfaceNormals?: "face" | "vertex";
  /** occupancy: the box around the mesh grows by this share of its extent on each side (0.1). */
  margin?: number;
  /** occupancy: the near-surface samples' displacement, a share of the mesh's extent (0.01). */
  sigma?: number;
  /** occupancy: the share of samples uniform in the box (0.5); the rest lie near the surface. */
  uniformShare?: number;
  /** Stop at the first file that fails, leaving no output. */
  strict?: boolean;
  /** Replace a finished dataset already in `out` (only once the new one is complete). */
  overwrite?: boolean;
  /** Continue the interrupted run in `out` from its last checkpoint (or start, if there is none). */
  resume?: boolean;
  /** Stop soon, keeping a checkpoint that `resume` continues from. */
  signal?: AbortSignal;
  /** Milliseconds between checkpoints (default 2000). */
  checkpointMs?: number;
  /** Bytes written between background flushes to disk (default 24 MiB). */
  flushBytes?: number;
  /**
   * Files read ahead of the workers into the page cache, `readAheadReads` at once (default 4).
   * Default "auto": four files per worker while the files come from the disk, none while they come
   * from memory (src/compile/read-ahead.ts); 0 never.
   */
  readAhead?: number | "auto";
  readAheadReads?: number;
  /**
   * How files that are not in memory are read: "use" the page cache; "bypass" it, read ahead with
   * O_DIRECT and handed to the workers; "auto" (default) bypasses it when the files are more than
   * the memory available, so that they could not stay in it anyway (src/compile/read-ahead.ts).
   */
  pageCache?: "auto" | "use" | "bypass";
  /** Called once the run is open, before any file is compiled: how many files, and what a resumed run had done. */
  onStart?: (start: { files: number; resumedFrom?: { files: number; rows: number } }) => void;
  /** Called after each file is written. */
  onProgress?: (progress: CompileProgress) => void;
  /** Called once per file with something to say that did not stop it. */
  onWarning?: (file: string, warning: string) => void;
  /** The kernel build the workers run (tests use "debug"). */
  build?: WasmBuild;
  /** The worker module the pool runs (default: headsnet's own): for embedding and tests. */
  workerFile?: string;
  /** Where the icosphere's cube map is cached (false: not cached). Default: setup-cache.ts. */
  cacheDir?: string | false;
  cwd?: string;
}

export interface CompileProgress {
  filesDone: number;
  filesTotal: number;
  rows: number;
  failed: number;
  seconds: number;
  /** Label of the file just finished. */
  file: string;
}

export type { FileStats };

const oneOf = (name: string, value: unknown, allowed: readonly unknown[]) => {
  if (value !== undefined && !allowed.includes(value)) {
    throw usageError(`${opt(name)} must be ${allowed.slice(0, -1).join(", ")}${allowed.length > 2 ? "," : ""} or ${allowed[allowed.length - 1]}, got ${value}`);
  }
};

/** What compile, inspect, render and view take about the files' contents: the default colour and the least opacity. */
export function validatePlyOptions({ defaultColor, minOpacity }: Pick<KernelOptions, "defaultColor" | "minOpacity">): void {
  if (defaultColor !== undefined && !(defaultColor.length === 3 && Array.from(defaultColor).every((c) => c >= 0 && c <= 1))) {
    throw errors.defaultColor(defaultColor);
  }
  if (minOpacity !== undefined && !(minOpacity >= 0 && minOpacity <= 1)) throw errors.minOpacity(minOpacity);
}

export function validateCompileOptions(options: CompileOptions): void {
  const { workers, seed, checkpointMs } = options;
  if (!options.inputs?.length) throw usageError("compile needs at least one input file or directory");
  if (!options.out) throw usageError(`compile needs an output directory (${opt("out")} DIR)`);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 256)) {
    throw usageError(`${opt("workers")} must be an integer from 1 to 256, got ${workers}`);
  }
  oneOf("target", options.target, TARGETS);
  oneOf("voxelValue", options.voxelValue, ["color", "occupancy"]);
  oneOf("surfaceNormals", options.surfaceNormals, ["face", "vertex"]);
  const int = (name: keyof CompileOptions, min: number, max: number) => {
    const v = options[name];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= min && (v as number) <= max)) throw usageError(`${opt(name)} must be an integer from ${min} to ${max.toLocaleString("en-US")}, got ${v}`);
  };
  const share = (name: keyof CompileOptions, max: number) => {
    const v = options[name];
    if (v !== undefined && !((v as number) >= 0 && (v as number) <= max)) throw usageError(`${opt(name)} must be a number from 0 to ${max}, got ${v}`);
  };
  int("grid", 2, 512);
  int("imageSize", 1, 4096);
  int("samples", 1, 100_000_000);
  if (options.images !== undefined && (options.target ?? "headsnet") !== "voxels") {
    throw usageError(`${opt("images")} gives FaceNet's input pictures: it needs ${opt("target")} voxels, got ${opt("target")} ${options.target ?? "headsnet"}`);
  }
  share("margin", 10);
  share("sigma", 1);
  share("uniformShare", 1);
  oneOf("projection", options.projection, ["legacy", "ray"]);
  oneOf("inputWidth", options.inputWidth, [2, 5]);
  oneOf("format", options.format, ["dat", "npy"]);
  oneOf("normals", options.normals, ["auto", "file", "compute"]);
  oneOf("normalize", options.normalize, ["none", "fit"]);
  oneOf("onNonfinite", options.onNonfinite, ["fail", "skip"]);
  oneOf("ids", options.ids, ID_MODES);
  oneOf("pageCache", options.pageCache, ["auto", "use", "bypass"]);
  if (seed !== undefined && !Number.isSafeInteger(seed)) throw usageError(`${opt("seed")} must be an integer, got ${seed}`);
  validatePlyOptions(options);
  if (options.shard) checkShard(options.shard);
  if (checkpointMs !== undefined && !(checkpointMs >= 0)) throw usageError(`${opt("checkpointMs")} must be a number of milliseconds, got ${checkpointMs}`);
}

// `headsnet compile` as a function: PLY files in, a dataset directory out. Returns errors rather
// than exiting; one bad file is recorded and skipped, never the end of the run.

import { performance } from "node:perf_hooks";
import { X_WIDTH_2, X_WIDTH_5 } from "./abi.js";
import { discoverInputs, type InputFile } from "./discover.js";
import { HeadsnetError, usageError } from "./errors.js";
import { loadIcosphere, type Icosphere } from "./icosphere.js";
import { modelId } from "./ids.js";
import type { InputWidth, InvalidVertexPolicy, NormalizeMode, NormalsMode, Projection, WasmBuild } from "./kernel.js";
import { DatasetWriter, MANIFEST_VERSION, type DataFormat, type FailedEntry, type Manifest, type ModelEntry } from "./output.js";
import { createPool, defaultWorkers } from "./pool.js";
import { buildSpatialHash } from "./spatial-hash.js";
import { VERSION } from "./package.js";
import type { FileResult, FileTask } from "./worker.js";

export interface CompileOptions {
  inputs: string[];
  out: string;
  workers?: number;
  /** Subdivision level, or a float32 x y z table file. Default 5. */
  icosphere?: number | string;
  projection?: Projection;
  /** train_x width: 2 ([id, index]) or 5 (plus the negated normal). */
  inputWidth?: InputWidth;
  seed?: number;
  format?: DataFormat;
  normals?: NormalsMode;
  normalize?: NormalizeMode;
  /** Non-finite vertices (and, in ray mode, vertices outside the sphere): fail the file, or skip them. */
  onNonfinite?: InvalidVertexPolicy;
  /** Colour (0-1 each) for files without colours; without it such files fail. */
  defaultColor?: [number, number, number];
  /** Stop at the first file that fails, leaving no output. */
  strict?: boolean;
  /** Called after each file is written. */
  onProgress?: (progress: CompileProgress) => void;
  /** The kernel build the workers run (tests use "debug"). */
  build?: WasmBuild;
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

export interface CompileSummary {
  out: string;
  files: number;
  compiled: number;
  failed: FailedEntry[];
  rows: number;
  /** Vertices without a row, in all models (--on-nonfinite skip). */
  skipped: { nonfinite: number; outsideSphere: number };
  seconds: number;
  rowsPerSecond: number;
  bytesRead: number;
  bytesWritten: number;
  workers: number;
  icosphere: { vertices: number; sha256: string; source: string };
  outputs: { x: string; y: string; manifest: string };
}

export interface CompileResult {
  error?: HeadsnetError;
  summary?: CompileSummary;
}

export const X_COLUMNS_2 = ["model_id", "index_value"];
export const X_COLUMNS_5 = [...X_COLUMNS_2, "ray_x", "ray_y", "ray_z"];
export const Y_COLUMNS = ["x", "y", "z", "r", "g", "b"];

function validate(options: CompileOptions): void {
  const { workers, projection, inputWidth, seed, format } = options;
  if (!options.inputs.length) throw usageError("compile needs at least one input file or directory");
  if (!options.out) throw usageError("compile needs an output directory (-o DIR)");
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 256)) {
    throw usageError(`--workers must be an integer from 1 to 256, got ${workers}`);
  }
  if (projection !== undefined && projection !== "legacy" && projection !== "ray") {
    throw usageError(`--projection must be legacy or ray, got ${projection}`);
  }
  if (inputWidth !== undefined && inputWidth !== 2 && inputWidth !== 5) {
    throw usageError(`--inputs must be 2 or 5, got ${inputWidth}`);
  }
  if (seed !== undefined && !Number.isSafeInteger(seed)) throw usageError(`--seed must be an integer, got ${seed}`);
  if (format !== undefined && format !== "dat" && format !== "npy") throw usageError(`--format must be dat or npy, got ${format}`);
  const { normals, normalize, onNonfinite, defaultColor } = options;
  if (normals !== undefined && !["auto", "file", "compute"].includes(normals)) throw usageError(`--normals must be auto, file or compute, got ${normals}`);
  if (normalize !== undefined && !["none", "fit"].includes(normalize)) throw usageError(`--normalize must be none or fit, got ${normalize}`);
  if (onNonfinite !== undefined && !["skip", "fail"].includes(onNonfinite)) throw usageError(`--on-nonfinite must be skip or fail, got ${onNonfinite}`);
  if (defaultColor !== undefined && !(defaultColor.length === 3 && defaultColor.every((c) => c >= 0 && c <= 1))) {
    throw usageError(`--default-color must be three numbers from 0 to 1, as R,G,B; got ${defaultColor.join(",")}`);
  }
}

export async function compile(options: CompileOptions): Promise<CompileResult> {
  const started = performance.now();
  let files: InputFile[];
  let icosphere: Icosphere;
  try {
    validate(options);
    files = discoverInputs(options.inputs, options.cwd);
    icosphere = loadIcosphere(options.icosphere);
  } catch (e) {
    if (e instanceof HeadsnetError) return { error: e };
    throw e;
  }
  const projection = options.projection ?? "legacy";
  const inputWidth: InputWidth = options.inputWidth ?? 2;
  const seed = options.seed ?? 0;
  const format = options.format ?? "dat";
  const workers = Math.min(options.workers ?? defaultWorkers(), files.length);
  const kernelOptions = {
    projection, inputs: inputWidth,
    normals: options.normals ?? "auto", normalize: options.normalize ?? "none",
    onInvalid: options.onNonfinite ?? "fail", defaultColor: options.defaultColor,
  } as const;

  let writer: DatasetWriter;
  try {
    writer = await DatasetWriter.create(options.out, format, inputWidth === 5 ? X_WIDTH_5 : X_WIDTH_2);
  } catch (e) {
    if (e instanceof HeadsnetError) return { error: e };
    throw e;
  }
  const pool = createPool(workers, { icosphere, hash: buildSpatialHash(icosphere.vertices), build: options.build ?? "release" });
  const models: ModelEntry[] = [];
  const failed: FailedEntry[] = [];
  let bytesRead = 0;
  try {
    // A bounded window of files in flight: workers stay busy, the main thread holds a few results.
    const window = workers * 4;
    const pending: Promise<FileResult>[] = [];
    const submit = (i: number) => {
      const f = files[i];
      const task: FileTask = { path: f.path, label: f.label, id: modelId(seed, f.rel), options: kernelOptions };
      pending[i] = pool.run(task).catch((e: Error): FileResult => ({
        ok: false, error: { code: "E_WORKER", message: `${f.label}: the worker compiling this file failed: ${e.message}`, file: f.label },
      }));
    };
    for (let i = 0; i < Math.min(window, files.length); i++) submit(i);
    for (let i = 0; i < files.length; i++) {
      const result = await pending[i];
      delete pending[i];
      if (i + window < files.length) submit(i + window);
      const f = files[i];
      if (result.ok) {
        const skipped = result.skipped.nonfinite + result.skipped.outsideSphere ? result.skipped : undefined;
        models.push({ path: f.rel, id: modelId(seed, f.rel), firstRow: writer.rows, rows: result.rows, vertices: result.vertices, normals: result.normals, skipped });
        await writer.append(result.x, result.y);
        bytesRead += result.bytesRead;
      } else {
        failed.push({ path: f.rel, code: result.error.code as string, message: result.error.message as string });
        if (options.strict) {
          throw new HeadsnetError(result.error.code as never, `${result.error.message as string} (--strict: stopped; no output was written)`, { file: f.label });
        }
      }
      options.onProgress?.({
        filesDone: i + 1, filesTotal: files.length, rows: writer.rows, failed: failed.length,
        seconds: (performance.now() - started) / 1000, file: f.label,
      });
    }
    const info = writer.fileInfo();
    const manifest: Manifest = {
      tool: "headsnet",
      version: VERSION,
      manifestVersion: MANIFEST_VERSION,
      complete: true,
      format,
      options: {
        projection, inputs: inputWidth, seed, icosphere: icosphere.source,
        normals: kernelOptions.normals, normalize: kernelOptions.normalize, onNonfinite: kernelOptions.onInvalid,
        defaultColor: options.defaultColor ?? null,
      },
      icosphere: { vertices: icosphere.count, sha256: icosphere.sha256, source: icosphere.source },
      columns: { x: inputWidth === 5 ? X_COLUMNS_5 : X_COLUMNS_2, y: Y_COLUMNS },
      files: info,
      rows: writer.rows,
      models,
      failed,
    };
    await writer.finish(manifest);
    const seconds = (performance.now() - started) / 1000;
    return {
      summary: {
        out: options.out,
        files: files.length,
        compiled: models.length,
        failed,
        rows: writer.rows,
        skipped: {
          nonfinite: models.reduce((n, m) => n + (m.skipped?.nonfinite ?? 0), 0),
          outsideSphere: models.reduce((n, m) => n + (m.skipped?.outsideSphere ?? 0), 0),
        },
        seconds,
        rowsPerSecond: writer.rows / seconds,
        bytesRead,
        bytesWritten: info.x.bytes + info.y.bytes,
        workers,
        icosphere: manifest.icosphere,
        outputs: { x: info.x.name, y: info.y.name, manifest: "manifest.json" },
      },
    };
  } catch (e) {
    await writer.abort();
    if (e instanceof HeadsnetError) return { error: e };
    throw e;
  } finally {
    await pool.destroy();
  }
}

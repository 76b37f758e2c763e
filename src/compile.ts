// `headsnet compile` as a function: PLY files in, a dataset directory out. Returns errors rather
// than exiting; one bad file is recorded and skipped, never the end of the run.

import { performance } from "node:perf_hooks";
import { X_WIDTH_2, X_WIDTH_5 } from "./abi.js";
import { discoverInputs, type InputFile } from "./discover.js";
import { HeadsnetError, errors, usageError } from "./errors.js";
import { readJournal, removeJournal, runKey, writeJournal } from "./journal.js";
import { modelId } from "./ids.js";
import type { InputWidth, InvalidVertexPolicy, NormalizeMode, NormalsMode, Projection, WasmBuild } from "./kernel.js";
import { DatasetWriter, MANIFEST_VERSION, type DataFormat, type FailedEntry, type Manifest, type ModelEntry, type RowsPlace } from "./output.js";
import { createPool, defaultWorkers } from "./pool.js";
import { loadSetup, type Setup } from "./setup-cache.js";
import type { Piscina } from "piscina";
import { VERSION } from "./package.js";
import { releaseRows, type FileResult, type FileTask, type KernelSetup, type RowsMessage } from "./worker.js";

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
  /** Continue the interrupted run in `out` from its last checkpoint (or start, if there is none). */
  resume?: boolean;
  /** Stop soon, keeping a checkpoint that --resume continues from. */
  signal?: AbortSignal;
  /** Milliseconds between checkpoints (default: $HEADSNET_CHECKPOINT_MS, else 2000). */
  checkpointMs?: number;
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
  /** With --resume: what the interrupted run had already done. */
  resumedFrom?: { files: number; rows: number };
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
  try {
    validate(options);
    files = discoverInputs(options.inputs, options.cwd);
  } catch (e) {
    if (e instanceof HeadsnetError) return { error: e };
    throw e;
  }
  // The workers boot while this thread builds the icosphere and the cube map.
  const workers = Math.min(options.workers ?? defaultWorkers(), files.length);
  const pool = createPool(workers);
  try {
    return await compileWith(pool, workers, files, options, started);
  } finally {
    await pool.destroy();
  }
}

async function compileWith(pool: Piscina, workers: number, files: InputFile[], options: CompileOptions, started: number): Promise<CompileResult> {
  let loaded: Setup;
  try {
    loaded = loadSetup(options.icosphere);
  } catch (e) {
    if (e instanceof HeadsnetError) return { error: e };
    throw e;
  }
  const { icosphere } = loaded;
  const projection = options.projection ?? "legacy";
  const inputWidth: InputWidth = options.inputWidth ?? 2;
  const seed = options.seed ?? 0;
  const format = options.format ?? "dat";
  const kernelOptions = {
    projection, inputs: inputWidth,
    normals: options.normals ?? "auto", normalize: options.normalize ?? "none",
    onInvalid: options.onNonfinite ?? "fail", defaultColor: options.defaultColor,
  } as const;

  const xWidth = inputWidth === 5 ? X_WIDTH_5 : X_WIDTH_2;
  const manifestOptions = {
    projection, inputs: inputWidth, seed, icosphere: icosphere.source,
    normals: kernelOptions.normals, normalize: kernelOptions.normalize, onNonfinite: kernelOptions.onInvalid,
    defaultColor: options.defaultColor ?? null,
  };
  // Everything the output depends on: a resumed run must match it exactly.
  const key = runKey({
    version: VERSION, format, options: manifestOptions, icosphere: icosphere.sha256,
    files: files.map((f) => [f.rel, f.size, f.mtimeMs]),
  });

  const models: ModelEntry[] = [];
  const failed: FailedEntry[] = [];
  let first = 0;
  let writer: DatasetWriter | undefined;
  try {
    if (options.resume) {
      const journal = await readJournal(options.out);
      if (journal && journal.key !== key) throw errors.resumeMismatch(options.out);
      if (journal) {
        writer = await DatasetWriter.resume(options.out, format, xWidth, journal);
        if (!writer) throw errors.resumeDamaged(options.out);
        first = journal.filesDone;
        models.push(...journal.models);
        failed.push(...journal.failed);
      }
    }
    if (!writer) {
      await removeJournal(options.out);
      writer = await DatasetWriter.create(options.out, format, xWidth);
    }
  } catch (e) {
    if (e instanceof HeadsnetError) return { error: e };
    throw e;
  }
  const resumedRows = writer.rows;
  const checkpointMs = options.checkpointMs ?? Number(process.env.HEADSNET_CHECKPOINT_MS ?? CHECKPOINT_MS);
  const out = writer;
  let lastCheckpoint = performance.now();
  const checkpoint = async (upTo: RowsPlace, filesDone: number) => {
    const at = await out.checkpoint(upTo);
    await writeJournal(options.out, { key, filesDone, ...at, models, failed });
    lastCheckpoint = performance.now();
  };

  const setup = sharedSetup(loaded, options.build ?? "release");
  let bytesRead = 0;
  let filesDone = first;
  const running: Promise<unknown>[] = [];
  try {
    // Workers compile files in any order and hand their rows over, in their own memory; this
    // thread places them in file order and writes them from there (positioned writes, on libuv's
    // threads) while the workers go on computing. A worker that dies takes only the file it was
    // compiling. Files in flight and rows waiting to be written are both bounded (a worker waits
    // when this thread holds the rows of all its kernel regions), so memory is too, whatever
    // the corpus.
    const rowsOf: number[] = []; // per file: its row count, or -1 (failed: no rows)
    const rowsData: (RowsMessage | undefined)[] = []; // rows held until written
    const results: (FileResult | undefined)[] = [];
    const writeFailures: (Error | undefined)[] = [];
    const placed: (RowsPlace | undefined)[] = [];
    const written: boolean[] = [];
    const settled = files.map(() => deferred<FileResult | null>()); // null: never started
    let nextToPlace = first;
    let placing = true;
    let submitted = first;
    let inFlight = 0;
    // A file is done when its task has returned and its rows, if any, are written.
    const settle = (i: number) => {
      const result = results[i];
      if (!result) return;
      if (result.ok && !written[i]) {
        if (!writeFailures[i]) return;
        settled[i].resolve({ ok: false, error: { code: "E_OUTPUT", message: `cannot write the rows of ${files[i].label}: ${writeFailures[i]!.message}` } });
        return;
      }
      settled[i].resolve(result);
    };
    // Rows not written (the run is stopping) go back to their worker all the same.
    const drop = (i: number) => {
      const m = rowsData[i];
      if (!m) return;
      rowsData[i] = undefined;
      releaseRows(m);
    };
    const write = (i: number, m: RowsMessage, at: RowsPlace) => {
      const done = Promise.all([
        out.writeX(new Uint8Array(m.memory, m.xAt, m.xBytes), at.xAt),
        out.writeY(new Uint8Array(m.memory, m.yAt, m.yBytes), at.yAt),
      ]);
      running.push(done.catch(() => undefined));
      done.then(() => { written[i] = true; }, (e: Error) => { writeFailures[i] = e; }).finally(() => {
        drop(i);
        settle(i);
        fill();
      });
    };
    const place = () => {
      while (nextToPlace < submitted && rowsOf[nextToPlace] !== undefined) {
        const i = nextToPlace++;
        const m = rowsData[i];
        if (rowsOf[i] < 0 || !m) continue;
        if (!placing) {
          drop(i);
          continue;
        }
        placed[i] = out.claim(rowsOf[i]);
        write(i, m, placed[i]!);
      }
      // Stopping: rows of later files will not be written either.
      if (!placing) rowsData.forEach((_, i) => { if (!placed[i]) drop(i); });
    };
    const stopping = () => !placing || Boolean(options.signal?.aborted);
    const fill = () => {
      // A second task per worker waits in the pool's queue (not in a worker, so a crash still
      // takes one file), ready the moment its worker is free.
      while (inFlight < 2 * workers && submitted < files.length) {
        if (stopping()) {
          for (let k = submitted; k < files.length; k++) settled[k].resolve(null);
          submitted = files.length;
          return;
        }
        submit(submitted);
      }
    };
    const submit = (i: number) => {
      const f = files[i];
      const task: FileTask = { path: f.path, label: f.label, id: modelId(seed, f.rel), options: kernelOptions, setup };
      inFlight++;
      submitted = i + 1;
      const run = pool.run(task);
      running.push(run.catch(() => undefined));
      run
        .catch((e: Error): FileResult => ({
          ok: false, error: { code: "E_WORKER", message: `${f.label}: the worker compiling this file failed: ${e.message}`, file: f.label },
        }))
        .then((result) => {
          results[i] = result;
          inFlight--;
          if (result.ok) {
            rowsData[i] = result.out;
            rowsOf[i] = result.rows;
          } else {
            rowsOf[i] = -1; // no rows
          }
          place();
          settle(i);
          fill();
        });
    };
    fill();

    let durable: RowsPlace = out.end; // every row before this is written
    let flushedAt = durable.yAt;
    let stop: HeadsnetError | undefined;
    for (let i = first; i < files.length; i++) {
      const result = await settled[i].promise;
      if (!result) break; // stopped before it started
      const f = files[i];
      if (result.ok) {
        const at = placed[i]!;
        const skipped = result.skipped.nonfinite + result.skipped.outsideSphere ? result.skipped : undefined;
        models.push({ path: f.rel, id: modelId(seed, f.rel), firstRow: at.firstRow, rows: result.rows, vertices: result.vertices, normals: result.normals, skipped });
        durable = { firstRow: at.firstRow + result.rows, xAt: at.xAt + result.rows * xWidth * 4, yAt: at.yAt + result.rows * 24 };
        bytesRead += result.bytesRead;
      } else if (placed[i]) {
        // Room was made for rows that were never written: nothing after them can be trusted.
        stop = errors.output(options.out, result.error.message as string);
      } else {
        failed.push({ path: f.rel, code: result.error.code as string, message: result.error.message as string });
        if (options.strict) {
          stop = new HeadsnetError(result.error.code as never, `${result.error.message as string} (--strict: stopped; no output was written)`, { file: f.label });
        }
      }
      if (stop) {
        placing = false;
        place();
        break;
      }
      filesDone = i + 1;
      if (performance.now() - lastCheckpoint > checkpointMs) await checkpoint(durable, filesDone);
      else if (durable.yAt - flushedAt >= FLUSH_BYTES) {
        out.flushInBackground();
        flushedAt = durable.yAt;
      }
      options.onProgress?.({
        filesDone, filesTotal: files.length, rows: durable.firstRow, failed: failed.length,
        seconds: (performance.now() - started) / 1000, file: f.label,
      });
    }
    if (stop) throw stop;
    if (filesDone < files.length) {
      await checkpoint(durable, filesDone);
      throw errors.interrupted(options.out, filesDone, files.length);
    }
    const info = out.fileInfo();
    const manifest: Manifest = {
      tool: "headsnet",
      version: VERSION,
      manifestVersion: MANIFEST_VERSION,
      complete: true,
      format,
      options: manifestOptions,
      icosphere: { vertices: icosphere.count, sha256: icosphere.sha256, source: icosphere.source },
      columns: { x: inputWidth === 5 ? X_COLUMNS_5 : X_COLUMNS_2, y: Y_COLUMNS },
      files: info,
      rows: out.rows,
      models,
      failed,
    };
    await out.finish(manifest);
    await removeJournal(options.out);
    const seconds = (performance.now() - started) / 1000;
    return {
      summary: {
        out: options.out,
        files: files.length,
        compiled: models.length,
        failed,
        rows: out.rows,
        resumedFrom: first ? { files: first, rows: resumedRows } : undefined,
        skipped: {
          nonfinite: models.reduce((n, m) => n + (m.skipped?.nonfinite ?? 0), 0),
          outsideSphere: models.reduce((n, m) => n + (m.skipped?.outsideSphere ?? 0), 0),
        },
        seconds,
        rowsPerSecond: (out.rows - resumedRows) / seconds,
        bytesRead,
        bytesWritten: info.x.bytes + info.y.bytes,
        workers,
        icosphere: manifest.icosphere,
        outputs: { x: info.x.name, y: info.y.name, manifest: "manifest.json" },
      },
    };
  } catch (e) {
    // Let workers still writing finish before the files close.
    await Promise.allSettled(running);
    if (options.strict) {
      await out.close(true);
      await removeJournal(options.out);
    } else {
      // Interrupted, or the disk failed: keep the partial files and the last checkpoint, so that
      // --resume finishes the run. Nothing here looks complete: there is no manifest.
      await out.close(false);
    }
    if (e instanceof HeadsnetError) {
      if (e.code === "E_OUTPUT") return { error: errors.outputResumable(e, filesDone, files.length) };
      return { error: e };
    }
    throw e;
  }
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

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Bytes of train_y written between background flushes (output.ts, flushInBackground). */
const FLUSH_BYTES = Number(process.env.HEADSNET_FLUSH_MB ?? 24) * 2 ** 20;

/** How often, by default, the partial files are synced and the journal rewritten. */
const CHECKPOINT_MS = 2000;

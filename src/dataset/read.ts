// The one reader of datasets: find a dataset from a path, check its manifest against its files,
// and read rows. `verify`, `train`, `view` and `render` all come through here, so a dataset that
// is incomplete, truncated or inconsistent is refused the same way, naming the file and the
// numbers that disagree, before anything trusts it.

import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { basename, dirname, isAbsolute, join } from "node:path";
import { errors, HeadsnetError } from "../errors.js";
import {
  MANIFEST_NAME, READABLE_MANIFEST_VERSIONS, NPY_HEADER_BYTES, HEADSNET_Y_WIDTH, dtypeBytes, npyHeader,
  manifestTarget, type DType, type Manifest, type OutputFileInfo, type TargetName,
} from "./format.js";
import { shardsAsDataset } from "./shards.js";

export interface DatasetFile {
  key: string;
  /** The file (the first part's, for a linked dataset). */
  path: string;
  name: string;
  dtype: DType;
  width: number;
  /** Bytes of one row. */
  rowBytes: number;
  dataOffset: number;
  /** Where the rows lie: one part for a dataset of its own, one per shard for a linked one. */
  parts: FilePart[];
}

export interface FilePart {
  path: string;
  dataOffset: number;
  firstRow: number;
  rows: number;
}

export interface Dataset {
  dir: string;
  manifestPath: string;
  manifest: Manifest;
  target: TargetName;
  rows: number;
  files: Record<string, DatasetFile>;
}

export interface DatasetCheck {
  /** The dataset, when its manifest could be read at all. */
  dataset?: Dataset;
  /** Everything wrong with it; empty for a complete, consistent dataset. */
  problems: HeadsnetError[];
  /** True when its files hold exactly the rows the manifest describes (they may be read). */
  readable: boolean;
}

/** The dataset directory a path names: the directory, its manifest.json, or one of its files. */
export function datasetDir(path: string): string {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw errors.notFound(path);
  }
  return stats.isDirectory() ? path : dirname(path);
}

const DTYPES: DType[] = ["float32", "uint8"];

/** Check a dataset completely, collecting every problem rather than stopping at the first. */
export function checkDataset(path: string): DatasetCheck {
  let dir: string;
  try {
    dir = datasetDir(path);
  } catch (e) {
    return { problems: [e as HeadsnetError], readable: false };
  }
  const manifestPath = join(dir, MANIFEST_NAME);
  const fatal = (e: HeadsnetError): DatasetCheck => ({ problems: [e], readable: false });
  let text: string;
  try {
    text = readFileSync(manifestPath, "utf8");
  } catch (e) {
    return fatal((e as NodeJS.ErrnoException).code === "ENOENT" ? errors.noManifest(dir) : errors.read(manifestPath, (e as Error).message));
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    return fatal(errors.manifest(manifestPath, `not valid JSON: ${(e as Error).message}`));
  }
  if (manifest?.tool !== "headsnet" || manifest.complete !== true || typeof manifest.files !== "object" || manifest.files === null) {
    return fatal(errors.manifest(manifestPath, "does not describe a complete headsnet dataset (no files, or complete is not true)"));
  }
  if (!READABLE_MANIFEST_VERSIONS.includes(manifest.manifestVersion)) {
    return fatal(errors.manifest(manifestPath, `manifest version ${manifest.manifestVersion}; this headsnet reads versions ${READABLE_MANIFEST_VERSIONS.join(" and ")} (a newer headsnet wrote it)`));
  }
  const target = manifestTarget(manifest);
  const rows = manifest.rows;
  if (!Number.isSafeInteger(rows) || rows < 0) return fatal(errors.manifest(manifestPath, `rows is ${JSON.stringify(rows)}, not a row count`));
  if (!Array.isArray(manifest.models) || !Array.isArray(manifest.failed ?? [])) return fatal(errors.manifest(manifestPath, "models is missing"));

  const problems: HeadsnetError[] = [];
  let readable = true;
  const bad = (e: HeadsnetError) => { problems.push(e); readable = false; };
  if (target === "headsnet") {
    const { x, y } = manifest.files;
    if (!x || !y) bad(errors.manifest(manifestPath, "a HeadsNet dataset lists files.x (train_x) and files.y (train_y)"));
    else {
      if (x.width !== 2 && x.width !== 5) bad(errors.manifest(manifestPath, `files.x.width is ${x.width}; train_x rows are 2 or 5 floats wide`));
      if (y.width !== HEADSNET_Y_WIDTH) bad(errors.manifest(manifestPath, `files.y.width is ${y.width}; train_y rows are ${HEADSNET_Y_WIDTH} floats wide`));
      if ((x.dtype ?? "float32") !== "float32" || (y.dtype ?? "float32") !== "float32") bad(errors.manifest(manifestPath, "HeadsNet rows are float32"));
    }
  }
  const files: Record<string, DatasetFile> = {};
  for (const [key, info] of Object.entries(manifest.files) as [string, OutputFileInfo][]) {
    const checked = checkFile(dir, manifestPath, manifest, key, info, bad);
    if (checked) files[key] = checked;
  }
  let covered = 0;
  for (const m of manifest.models) {
    if (typeof m?.path !== "string" || typeof m.id !== "number" || !Number.isSafeInteger(m.firstRow) || !Number.isSafeInteger(m.rows) || m.rows < 0) {
      bad(errors.manifest(manifestPath, `model entry ${JSON.stringify(m)} lacks path, id, firstRow or rows`));
      break;
    }
    if (m.firstRow !== covered) bad(errors.manifest(manifestPath, `model ${m.path} starts at row ${m.firstRow}, but the models before it end at row ${covered}`));
    covered = m.firstRow + m.rows;
  }
  if (readable && covered !== rows) bad(errors.manifest(manifestPath, `the models cover ${covered} rows, but the manifest says ${rows}`));
  return { dataset: { dir, manifestPath, manifest, target, rows, files }, problems, readable };
}

function checkFile(
  dir: string, manifestPath: string, manifest: Manifest, key: string, info: OutputFileInfo, bad: (e: HeadsnetError) => void,
): DatasetFile | undefined {
  const dtype = info?.dtype ?? "float32";
  if (!DTYPES.includes(dtype) || !Number.isSafeInteger(info?.width) || info.width < 1) {
    bad(errors.manifest(manifestPath, `files.${key}: dtype ${JSON.stringify(info?.dtype)} and width ${JSON.stringify(info?.width)} do not describe rows`));
    return undefined;
  }
  if (Array.isArray(info.parts)) return checkParts(dir, manifestPath, manifest, key, info, dtype, bad);
  if (typeof info.name !== "string" || !info.name || basename(info.name) !== info.name) {
    bad(errors.manifest(manifestPath, `files.${key}: the file name ${JSON.stringify(info.name)} is not a plain file name`));
    return undefined;
  }
  const offset = manifest.format === "npy" ? NPY_HEADER_BYTES : 0;
  if (info.dataOffset !== offset) {
    bad(errors.manifest(manifestPath, `${info.name}: dataOffset ${info.dataOffset}; headsnet's ${manifest.format} files have ${offset} header bytes`));
    return undefined;
  }
  const rowBytes = dtypeBytes(dtype) * info.width;
  const expected = offset + manifest.rows * rowBytes;
  const path = join(dir, info.name);
  if (info.bytes !== expected) {
    bad(errors.manifest(manifestPath, `says ${info.name} has ${info.bytes} bytes, but ${manifest.rows} rows of ${info.width} ${dtype} after ${offset} header bytes need ${expected}`));
  }
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    bad(errors.dataFile(path, "is missing (the manifest lists it)"));
    return undefined;
  }
  if (size !== expected) {
    bad(errors.dataFile(path, `has ${size} bytes, but the manifest's ${manifest.rows} rows of ${info.width} ${dtype}${offset ? ` after a ${offset}-byte header` : ""} need ${expected}`));
  } else if (manifest.format === "npy") checkNpyHeader(path, manifest.rows, info.width, dtype, bad);
  return { key, path, name: info.name, dtype, width: info.width, rowBytes, dataOffset: offset, parts: [{ path, dataOffset: offset, firstRow: 0, rows: manifest.rows }] };
}

function checkNpyHeader(path: string, rows: number, width: number, dtype: DType, bad: (e: HeadsnetError) => void): void {
  const head = Buffer.alloc(NPY_HEADER_BYTES);
  const fd = openSync(path, "r");
  try {
    readSync(fd, head, 0, NPY_HEADER_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  if (!head.equals(npyHeader(rows, width, dtype))) bad(errors.dataFile(path, `the .npy header does not say (${rows}, ${width}) ${dtype}`));
}

/** A linked file: its rows lie in other datasets' files (each path relative to this manifest). */
function checkParts(
  dir: string, manifestPath: string, manifest: Manifest, key: string, info: OutputFileInfo, dtype: DType, bad: (e: HeadsnetError) => void,
): DatasetFile | undefined {
  const rowBytes = dtypeBytes(dtype) * info.width;
  const parts: FilePart[] = [];
  let firstRow = 0;
  for (const part of info.parts!) {
    if (typeof part?.path !== "string" || !Number.isSafeInteger(part.rows) || part.rows < 0 || !Number.isSafeInteger(part.dataOffset)) {
      bad(errors.manifest(manifestPath, `files.${key}: the part ${JSON.stringify(part)} lacks path, rows or dataOffset`));
      return undefined;
    }
    const path = isAbsolute(part.path) ? part.path : join(dir, part.path);
    const expected = part.dataOffset + part.rows * rowBytes;
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      bad(errors.dataFile(path, `is missing (the linked manifest ${manifestPath} lists it)`));
      return undefined;
    }
    if (size !== expected) bad(errors.dataFile(path, `has ${size} bytes, but the linked manifest's ${part.rows} rows of ${info.width} ${dtype} after ${part.dataOffset} header bytes need ${expected}`));
    else if (part.dataOffset === NPY_HEADER_BYTES) checkNpyHeader(path, part.rows, info.width, dtype, bad);
    parts.push({ path, dataOffset: part.dataOffset, firstRow, rows: part.rows });
    firstRow += part.rows;
  }
  if (firstRow !== manifest.rows) bad(errors.manifest(manifestPath, `files.${key}: the parts hold ${firstRow} rows, but the manifest says ${manifest.rows}`));
  const first = parts[0] ?? { path: manifestPath, dataOffset: 0 };
  return { key, path: first.path, name: info.name ?? key, dtype, width: info.width, rowBytes, dataOffset: first.dataOffset, parts };
}

/** checkDataset() of one path; of several, the shards read as one (and what keeps them apart). */
export function checkDatasets(path: string | string[]): DatasetCheck {
  if (!Array.isArray(path) || path.length === 1) return checkDataset(Array.isArray(path) ? path[0] : path);
  try {
    return { dataset: shardsAsDataset(path), problems: [], readable: true };
  } catch (e) {
    if (e instanceof HeadsnetError) return { problems: [e], readable: false };
    throw e;
  }
}

/**
 * A complete, consistent dataset, or the first thing wrong with it as an error: a dataset
 * directory (merged, linked, or a run of its own), or a list of shard directories read as one.
 * `target`: the kind of dataset the caller can use.
 */
export function readDataset(path: string | string[], options: { target?: TargetName } = {}): Dataset {
  let dataset: Dataset;
  if (Array.isArray(path) && path.length > 1) dataset = shardsAsDataset(path);
  else {
    const check = checkDataset(Array.isArray(path) ? path[0] : path);
    if (check.problems.length || !check.dataset) throw check.problems[0];
    dataset = check.dataset;
  }
  if (options.target && dataset.target !== options.target) throw errors.wrongTarget(dataset.dir, dataset.target, options.target);
  return dataset;
}

/** Whether `dir` holds a finished dataset (a manifest), whatever its state. */
export function hasManifest(dir: string): boolean {
  return existsSync(join(dir, MANIFEST_NAME));
}

/** The pieces of rows [first, first + count): which part, its byte range, and where they go. */
function* pieces(file: DatasetFile, first: number, count: number): Generator<{ part: FilePart; at: number; bytes: number; into: number }> {
  let row = first, left = count;
  for (const part of file.parts) {
    if (left === 0) break;
    if (row >= part.firstRow + part.rows) continue;
    const n = Math.min(left, part.firstRow + part.rows - row);
    yield { part, at: part.dataOffset + (row - part.firstRow) * file.rowBytes, bytes: n * file.rowBytes, into: (row - first) * file.rowBytes };
    row += n;
    left -= n;
  }
  if (left > 0) throw errors.dataFile(file.path, `holds no rows ${row} to ${first + count - 1}`);
}

/** Rows [first, first + count) of a dataset file, read whole (for one model, or a chunk). */
export function readRowsSync(file: DatasetFile, first: number, count: number): Uint8Array {
  const bytes = new Uint8Array(count * file.rowBytes);
  for (const piece of pieces(file, first, count)) {
    const fd = openSync(piece.part.path, "r");
    try {
      let done = 0;
      while (done < piece.bytes) {
        const n = readSync(fd, bytes, piece.into + done, piece.bytes - done, piece.at + done);
        if (n === 0) throw errors.dataFile(piece.part.path, `ends at byte ${piece.at + done}, before the rows the manifest promises`);
        done += n;
      }
    } finally {
      closeSync(fd);
    }
  }
  return bytes;
}

/** Rows of one dataset file read in chunks, its parts' files kept open. */
export class RowReader {
  private constructor(readonly file: DatasetFile, private readonly handles: Map<string, FileHandle>) {}

  static async open(file: DatasetFile): Promise<RowReader> {
    const handles = new Map<string, FileHandle>();
    try {
      for (const part of file.parts) if (!handles.has(part.path)) handles.set(part.path, await open(part.path, "r"));
    } catch (e) {
      await Promise.allSettled([...handles.values()].map((h) => h.close()));
      throw errors.read(file.path, (e as Error).message);
    }
    return new RowReader(file, handles);
  }

  /** Fill `target` with the rows from row `first` on. */
  async read(first: number, target: Uint8Array): Promise<void> {
    for (const piece of pieces(this.file, first, target.byteLength / this.file.rowBytes)) {
      const handle = this.handles.get(piece.part.path)!;
      let done = 0;
      while (done < piece.bytes) {
        const { bytesRead } = await handle.read(target, piece.into + done, piece.bytes - done, piece.at + done);
        if (bytesRead === 0) throw errors.dataFile(piece.part.path, `ends at byte ${piece.at + done}, before the rows the manifest promises`);
        done += bytesRead;
      }
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.handles.values()].map((h) => h.close()));
  }
}

/** Rows [first, first + count) of a float32 dataset file. */
export function readFloatRowsSync(file: DatasetFile, first: number, count: number): Float32Array {
  const bytes = readRowsSync(file, first, count);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}


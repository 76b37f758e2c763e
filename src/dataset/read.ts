// The one reader of datasets: find a dataset from a path, check its manifest against its files,
// and read rows. `verify`, `train`, `view` and `render` all come through here, so a dataset that
// is incomplete, truncated or inconsistent is refused the same way, naming the file and the
// numbers that disagree, before anything trusts it.

import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { errors, HeadsnetError } from "../errors.js";
import {
  MANIFEST_NAME, READABLE_MANIFEST_VERSIONS, NPY_HEADER_BYTES, HEADSNET_Y_WIDTH, dtypeBytes, npyHeader,
  manifestTarget, type DType, type Manifest, type OutputFileInfo, type TargetName,
} from "./format.js";

export interface DatasetFile {
  key: string;
  path: string;
  name: string;
  dtype: DType;
  width: number;
  /** Bytes of one row. */
  rowBytes: number;
  dataOffset: number;
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
  if (typeof info?.name !== "string" || !info.name || basename(info.name) !== info.name) {
    bad(errors.manifest(manifestPath, `files.${key}: the file name ${JSON.stringify(info?.name)} is not a plain file name`));
    return undefined;
  }
  const dtype = info.dtype ?? "float32";
  if (!DTYPES.includes(dtype) || !Number.isSafeInteger(info.width) || info.width < 1) {
    bad(errors.manifest(manifestPath, `files.${key}: dtype ${JSON.stringify(info.dtype)} and width ${JSON.stringify(info.width)} do not describe rows`));
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
  } else if (manifest.format === "npy") {
    const head = Buffer.alloc(NPY_HEADER_BYTES);
    const fd = openSync(path, "r");
    try {
      readSync(fd, head, 0, NPY_HEADER_BYTES, 0);
    } finally {
      closeSync(fd);
    }
    if (!head.equals(npyHeader(manifest.rows, info.width, dtype))) {
      bad(errors.dataFile(path, `the .npy header does not say (${manifest.rows}, ${info.width}) ${dtype}`));
    }
  }
  return { key, path, name: info.name, dtype, width: info.width, rowBytes, dataOffset: offset };
}

/**
 * A complete, consistent dataset, or the first thing wrong with it as an error. `target`: the
 * kind of dataset the caller can use.
 */
export function readDataset(path: string, options: { target?: TargetName } = {}): Dataset {
  const check = checkDataset(path);
  if (check.problems.length || !check.dataset) throw check.problems[0];
  const dataset = check.dataset;
  if (options.target && dataset.target !== options.target) throw errors.wrongTarget(dataset.dir, dataset.target, options.target);
  return dataset;
}

/** Whether `dir` holds a finished dataset (a manifest), whatever its state. */
export function hasManifest(dir: string): boolean {
  return existsSync(join(dir, MANIFEST_NAME));
}

/** Rows [first, first + count) of a dataset file, read whole (for one model, or a chunk). */
export function readRowsSync(file: DatasetFile, first: number, count: number): Uint8Array {
  const bytes = new Uint8Array(count * file.rowBytes);
  const fd = openSync(file.path, "r");
  try {
    let done = 0;
    const at = file.dataOffset + first * file.rowBytes;
    while (done < bytes.byteLength) {
      const n = readSync(fd, bytes, done, bytes.byteLength - done, at + done);
      if (n === 0) throw errors.dataFile(file.path, `ends at byte ${at + done}, before the rows the manifest promises`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** Rows [first, first + count) of a float32 dataset file. */
export function readFloatRowsSync(file: DatasetFile, first: number, count: number): Float32Array {
  const bytes = readRowsSync(file, first, count);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** Fill `target` from an open dataset file at a row, or fail naming the file. */
export async function readRowsInto(handle: FileHandle, file: DatasetFile, first: number, target: Uint8Array): Promise<void> {
  let done = 0;
  const at = file.dataOffset + first * file.rowBytes;
  while (done < target.byteLength) {
    const { bytesRead } = await handle.read(target, done, target.byteLength - done, at + done);
    if (bytesRead === 0) throw errors.dataFile(file.path, `ends at byte ${at + done}, before the rows the manifest promises`);
    done += bytesRead;
  }
}

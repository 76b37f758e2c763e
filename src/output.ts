// The dataset on disk: train_x and train_y (raw float32 little-endian, or .npy), and the manifest
// that describes them. Rows go to *.partial files; only a finished run renames them and writes
// manifest.json last, so an interrupted run never leaves files that look complete.

import { open, rename, rm, mkdir, writeFile, type FileHandle } from "node:fs/promises";
import { endianness } from "node:os";
import { join } from "node:path";
import { errors } from "./errors.js";

export type DataFormat = "dat" | "npy";

export const MANIFEST_NAME = "manifest.json";
export const MANIFEST_VERSION = 1;

export interface ModelEntry {
  path: string;
  id: number;
  firstRow: number;
  rows: number;
  vertices: number;
  normals: "file" | "computed";
  /** Vertices without a row (--on-nonfinite skip). */
  skipped?: { nonfinite: number; outsideSphere: number };
}

export interface FailedEntry {
  path: string;
  code: string;
  message: string;
}

export interface Manifest {
  tool: "headsnet";
  version: string;
  manifestVersion: number;
  complete: true;
  format: DataFormat;
  options: {
    projection: string; inputs: number; seed: number; icosphere: string;
    normals: string; normalize: string; onNonfinite: string; defaultColor: number[] | null;
  };
  icosphere: { vertices: number; sha256: string; source: string };
  columns: { x: string[]; y: string[] };
  files: { x: OutputFileInfo; y: OutputFileInfo };
  rows: number;
  models: ModelEntry[];
  failed: FailedEntry[];
}

export interface OutputFileInfo {
  name: string;
  width: number;
  /** Byte offset of the first row (0 for .dat, the header length for .npy). */
  dataOffset: number;
  bytes: number;
}

/** Where one model's rows go in the output files. */
export interface RowsPlace {
  firstRow: number;
  xAt: number;
  yAt: number;
}

export function outputNames(format: DataFormat): { x: string; y: string } {
  return format === "npy" ? { x: "train_x.npy", y: "train_y.npy" } : { x: "train_x.dat", y: "train_y.dat" };
}

/** Every .npy header we write is this long, so the final row count can be written in place. */
export const NPY_HEADER_BYTES = 128;

export function npyHeader(rows: number, width: number): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${width}), }`;
  const length = NPY_HEADER_BYTES - 10;
  const header = Buffer.alloc(NPY_HEADER_BYTES, 0x20);
  header.write("\x93NUMPY", 0, "latin1");
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(length, 8);
  header.write(dict, 10, "latin1");
  header[NPY_HEADER_BYTES - 1] = 0x0a;
  return header;
}

export class DatasetWriter {
  rows = 0;
  /** Where the next bytes of each file go. */
  private xAt: number;
  private yAt: number;
  private flushing: Promise<void> | undefined;
  private flushError: Error | undefined;

  private constructor(
    readonly dir: string,
    readonly format: DataFormat,
    readonly xWidth: number,
    private readonly xFile: FileHandle,
    private readonly yFile: FileHandle,
    private readonly names: { x: string; y: string },
  ) {
    this.xAt = this.yAt = format === "npy" ? NPY_HEADER_BYTES : 0;
  }

  /** Start a new run in `dir`: whatever was there stops looking complete first. */
  static async create(dir: string, format: DataFormat, xWidth: number): Promise<DatasetWriter> {
    if (endianness() !== "LE") throw errors.output(dir, "headsnet writes float32 little-endian and needs a little-endian host");
    const names = outputNames(format);
    try {
      await mkdir(dir, { recursive: true });
      await rm(join(dir, MANIFEST_NAME), { force: true });
      for (const name of [...Object.values(outputNames("dat")), ...Object.values(outputNames("npy"))]) {
        await rm(join(dir, name), { force: true });
      }
      const xFile = await open(join(dir, names.x + ".partial"), "w");
      const yFile = await open(join(dir, names.y + ".partial"), "w");
      const writer = new DatasetWriter(dir, format, xWidth, xFile, yFile, names);
      if (format === "npy") {
        await xFile.write(npyHeader(0, xWidth), 0, NPY_HEADER_BYTES, 0);
        await yFile.write(npyHeader(0, 6), 0, NPY_HEADER_BYTES, 0);
      }
      return writer;
    } catch (e) {
      throw errors.output(dir, (e as Error).message);
    }
  }

  /**
   * Reopen an interrupted run's partial files at its last checkpoint, dropping anything written
   * after it. Returns undefined when the files are not there or shorter than the checkpoint.
   */
  static async resume(dir: string, format: DataFormat, xWidth: number, at: { rows: number; xBytes: number; yBytes: number }): Promise<DatasetWriter | undefined> {
    const names = outputNames(format);
    let xFile: FileHandle | undefined, yFile: FileHandle | undefined;
    try {
      xFile = await open(join(dir, names.x + ".partial"), "r+");
      yFile = await open(join(dir, names.y + ".partial"), "r+");
      if ((await xFile.stat()).size < at.xBytes || (await yFile.stat()).size < at.yBytes) throw new Error("shorter than the checkpoint");
      await xFile.truncate(at.xBytes);
      await yFile.truncate(at.yBytes);
    } catch {
      await xFile?.close();
      await yFile?.close();
      return undefined;
    }
    const writer = new DatasetWriter(dir, format, xWidth, xFile, yFile, names);
    writer.rows = at.rows;
    writer.xAt = at.xBytes;
    writer.yAt = at.yBytes;
    return writer;
  }

  /** Write x rows at a byte offset of train_x (positioned: writes may run in any order). */
  writeX(bytes: Uint8Array, position: number): Promise<void> {
    return writeAllAt(this.xFile, bytes, position);
  }

  /** Write y rows at a byte offset of train_y. */
  writeY(bytes: Uint8Array, position: number): Promise<void> {
    return writeAllAt(this.yFile, bytes, position);
  }

  /** Room for the next model's rows, in file order: where its x and y rows go. */
  claim(rows: number): RowsPlace {
    const place = { firstRow: this.rows, xAt: this.xAt, yAt: this.yAt };
    this.rows += rows;
    this.xAt += rows * this.xWidth * 4;
    this.yAt += rows * 24;
    return place;
  }

  /**
   * Start writing back what has been written so far, without waiting for it: the disk then works
   * while the kernels do, and the final sync has little left. One at a time. A failure is kept and
   * thrown by the next checkpoint or finish (after a failed sync the kernel may mark the pages clean,
   * so a later sync could succeed without the data).
   */
  flushInBackground(): void {
    if (this.flushing) return;
    this.flushing = Promise.all([this.xFile.datasync(), this.yFile.datasync()]).then(
      () => { this.flushing = undefined; },
      (e: Error) => { this.flushError ??= e; this.flushing = undefined; },
    );
  }

  private async settleFlush(): Promise<void> {
    await this.flushing;
    if (this.flushError) throw this.flushError;
  }

  /** Make the files durable up to a point where every earlier claim has been written. */
  async checkpoint(upTo: RowsPlace): Promise<{ rows: number; xBytes: number; yBytes: number }> {
    await this.settleFlush();
    await Promise.all([this.xFile.sync(), this.yFile.sync()]);
    return { rows: upTo.firstRow, xBytes: upTo.xAt, yBytes: upTo.yAt };
  }

  /** Where the next claim would go. */
  get end(): RowsPlace {
    return { firstRow: this.rows, xAt: this.xAt, yAt: this.yAt };
  }

  fileInfo(): { x: OutputFileInfo; y: OutputFileInfo } {
    const offset = this.format === "npy" ? NPY_HEADER_BYTES : 0;
    return {
      x: { name: this.names.x, width: this.xWidth, dataOffset: offset, bytes: offset + this.rows * this.xWidth * 4 },
      y: { name: this.names.y, width: 6, dataOffset: offset, bytes: offset + this.rows * 24 },
    };
  }

  /** Make the run's output final: sync, rename into place, then write the manifest. */
  async finish(manifest: Manifest): Promise<void> {
    try {
      if (this.format === "npy") {
        await this.xFile.write(npyHeader(this.rows, this.xWidth), 0, NPY_HEADER_BYTES, 0);
        await this.yFile.write(npyHeader(this.rows, 6), 0, NPY_HEADER_BYTES, 0);
      }
      await this.settleFlush();
      await Promise.all([this.xFile.sync(), this.yFile.sync()]);
      await Promise.all([this.xFile.close(), this.yFile.close()]);
      await rename(join(this.dir, this.names.x + ".partial"), join(this.dir, this.names.x));
      await rename(join(this.dir, this.names.y + ".partial"), join(this.dir, this.names.y));
      const temp = join(this.dir, MANIFEST_NAME + ".partial");
      await writeFile(temp, JSON.stringify(manifest, null, 2) + "\n");
      const handle = await open(temp, "r+");
      await handle.sync();
      await handle.close();
      await rename(temp, join(this.dir, MANIFEST_NAME));
    } catch (e) {
      throw errors.output(this.dir, (e as Error).message);
    }
  }

  /** Stop writing; keep the partial files for --resume, or remove them. */
  async close(removePartials: boolean): Promise<void> {
    await this.flushing;
    await Promise.allSettled([this.xFile.close(), this.yFile.close()]);
    if (!removePartials) return;
    await rm(join(this.dir, this.names.x + ".partial"), { force: true });
    await rm(join(this.dir, this.names.y + ".partial"), { force: true });
  }
}

/** Write all of `bytes` at `position` of a file (a positioned write, on libuv's thread pool). */
async function writeAllAt(file: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await file.write(bytes, done, bytes.byteLength - done, position + done);
    done += bytesWritten;
  }
}

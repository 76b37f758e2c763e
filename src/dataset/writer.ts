// Writing a dataset so that nothing a user already has is lost and nothing looks complete early.
// A run writes its files into a staging folder inside the output directory
// (`DIR/.headsnet-staging/`), beside its resume journal. A dataset already in DIR stays as it is,
// and readable, until the new one is complete; then publish() moves the new files into place,
// the manifest last. A crash while publishing leaves the journal saying so, and --resume
// finishes the move. So DIR holds, at any moment, the old dataset, the new one, or (for the
// instant of the move) no manifest at all: never a manifest that lies.

import { mkdir, open, readdir, readFile, rename, rm, writeFile, type FileHandle } from "node:fs/promises";
import { endianness } from "node:os";
import { join } from "node:path";
import { errors } from "../errors.js";
import { MANIFEST_NAME, dataOffset, describeFile, fileName, npyHeader, rowBytes, type DataFormat, type Manifest, type OutputFileInfo, type StreamSpec } from "./format.js";

export const STAGING_NAME = ".headsnet-staging";
/** The run's journal in the staging folder (compile/journal.ts). */
export const JOURNAL_FILE = "run.json";

export function stagingDir(dir: string): string {
  return join(dir, STAGING_NAME);
}

/** Where one model's rows go: its first row, and a byte position in each stream's file. */
export interface RowsPlace {
  firstRow: number;
  at: number[];
}

/** What a checkpoint records: rows and bytes durably written, per stream. */
export interface WrittenExtent {
  rows: number;
  bytes: number[];
}

export class DatasetWriter {
  rows = 0;
  /** Where the next bytes of each file go. */
  private at: number[];
  private flushing: Promise<void> | undefined;
  private flushError: Error | undefined;

  private constructor(
    readonly dir: string,
    readonly format: DataFormat,
    readonly streams: StreamSpec[],
    private readonly handles: FileHandle[],
  ) {
    this.at = streams.map(() => dataOffset(format));
  }

  private static names(streams: StreamSpec[], format: DataFormat): string[] {
    return streams.map((s) => fileName(s.stem, format));
  }

  /** Start a new run in `dir`'s staging folder (replacing any earlier unfinished run's). */
  static async create(dir: string, format: DataFormat, streams: StreamSpec[]): Promise<DatasetWriter> {
    if (endianness() !== "LE") throw errors.output(dir, "headsnet writes little-endian data and needs a little-endian host");
    const staging = stagingDir(dir);
    const handles: FileHandle[] = [];
    try {
      await mkdir(staging, { recursive: true });
      // An earlier unfinished run's journal goes; its files are truncated as they are reopened.
      await rm(join(staging, JOURNAL_FILE), { force: true });
      for (const name of DatasetWriter.names(streams, format)) handles.push(await open(join(staging, name), "w"));
      if (format === "npy") {
        await Promise.all(streams.map((s, k) => handles[k].write(npyHeader(0, s.width, s.dtype), 0, undefined, 0)));
      }
      return new DatasetWriter(dir, format, streams, handles);
    } catch (e) {
      await Promise.allSettled(handles.map((h) => h.close()));
      throw errors.output(dir, (e as Error).message);
    }
  }

  /**
   * Reopen an interrupted run's files at its last checkpoint, dropping anything written after
   * it. Returns undefined when the files are not there or shorter than the checkpoint.
   */
  static async resume(dir: string, format: DataFormat, streams: StreamSpec[], extent: WrittenExtent): Promise<DatasetWriter | undefined> {
    const handles: FileHandle[] = [];
    try {
      const names = DatasetWriter.names(streams, format);
      for (let k = 0; k < names.length; k++) {
        const handle = await open(join(stagingDir(dir), names[k]), "r+");
        handles.push(handle);
        if ((await handle.stat()).size < extent.bytes[k]) throw new Error("shorter than the checkpoint");
        await handle.truncate(extent.bytes[k]);
      }
    } catch {
      await Promise.allSettled(handles.map((h) => h.close()));
      return undefined;
    }
    const writer = new DatasetWriter(dir, format, streams, handles);
    writer.rows = extent.rows;
    writer.at = [...extent.bytes];
    return writer;
  }

  /** Write bytes at a position of stream k's file (positioned: writes may run in any order). */
  async write(k: number, bytes: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await this.handles[k].write(bytes, done, bytes.byteLength - done, position + done);
      done += bytesWritten;
    }
  }

  /** Room for the next model's rows, in file order. */
  claim(rows: number): RowsPlace {
    const place = { firstRow: this.rows, at: [...this.at] };
    this.rows += rows;
    this.streams.forEach((s, k) => { this.at[k] += rows * rowBytes(s); });
    return place;
  }

  /** Where the next claim would go. */
  get end(): RowsPlace {
    return { firstRow: this.rows, at: [...this.at] };
  }

  /** Where the rows after a model's end: `place` advanced by `rows`. */
  after(place: RowsPlace, rows: number): RowsPlace {
    return { firstRow: place.firstRow + rows, at: place.at.map((a, k) => a + rows * rowBytes(this.streams[k])) };
  }

  /**
   * Start writing back what has been written so far, without waiting for it: the disk then works
   * while the kernels do, and the final sync has little left. One at a time. A failure is kept and
   * thrown by the next checkpoint or finish (after a failed sync the kernel may mark the pages clean,
   * so a later sync could succeed without the data).
   */
  flushInBackground(): void {
    if (this.flushing) return;
    this.flushing = Promise.all(this.handles.map((h) => h.datasync())).then(
      () => { this.flushing = undefined; },
      (e: Error) => { this.flushError ??= e; this.flushing = undefined; },
    );
  }

  private async settleFlush(): Promise<void> {
    await this.flushing;
    if (this.flushError) throw this.flushError;
  }

  /** Make the files durable up to a point where every earlier claim has been written. */
  async checkpoint(upTo: RowsPlace): Promise<WrittenExtent> {
    await this.settleFlush();
    await Promise.all(this.handles.map((h) => h.sync()));
    return { rows: upTo.firstRow, bytes: [...upTo.at] };
  }

  fileInfo(): Record<string, OutputFileInfo> {
    return Object.fromEntries(this.streams.map((s) => [s.key, describeFile(s, this.format, this.rows)]));
  }

  /**
   * Complete the staged dataset: headers, sync, close, and its manifest beside the files. Then
   * `publish()` moves it into place.
   */
  async finish(manifest: Manifest): Promise<void> {
    try {
      if (this.format === "npy") {
        await Promise.all(this.streams.map((s, k) => this.handles[k].write(npyHeader(this.rows, s.width, s.dtype), 0, undefined, 0)));
      }
      await this.settleFlush();
      await Promise.all(this.handles.map((h) => h.sync()));
      await Promise.all(this.handles.map((h) => h.close()));
      await writeDurably(join(stagingDir(this.dir), MANIFEST_NAME), JSON.stringify(manifest, null, 2) + "\n");
    } catch (e) {
      throw errors.output(this.dir, (e as Error).message);
    }
  }

  /** Stop writing; keep the staged files for --resume, or remove the staging folder. */
  async close(removeStaging: boolean): Promise<void> {
    await this.flushing;
    await Promise.allSettled(this.handles.map((h) => h.close()));
    if (removeStaging) await rm(stagingDir(this.dir), { recursive: true, force: true });
  }
}

/**
 * Move a finished staged dataset into `dir`, replacing the dataset there: the old manifest goes
 * first (the old files stop looking complete), then the files, the new manifest last. Safe to
 * run again after a crash part-way: what has moved already is not looked for again.
 */
export async function publish(dir: string): Promise<void> {
  const staging = stagingDir(dir);
  try {
    const staged = JSON.parse(await readFile(join(staging, MANIFEST_NAME), "utf8")) as Manifest;
    const names = Object.values(staged.files).map((f) => f.name);
    let old: string[] = [];
    try {
      old = Object.values((JSON.parse(await readFile(join(dir, MANIFEST_NAME), "utf8")) as Manifest).files ?? {}).map((f) => f.name);
    } catch {
      // No old dataset, or not one we can read: nothing of it to clear away.
    }
    await rm(join(dir, MANIFEST_NAME), { force: true });
    // The old dataset's files that the new one does not replace (another format or target).
    for (const name of old) if (!names.includes(name) && name !== MANIFEST_NAME) await rm(join(dir, name), { force: true });
    const present = new Set(await readdir(staging));
    for (const name of names) if (present.has(name)) await rename(join(staging, name), join(dir, name));
    await rename(join(staging, MANIFEST_NAME), join(dir, MANIFEST_NAME));
    await syncDir(dir);
    await rm(staging, { recursive: true, force: true });
  } catch (e) {
    throw errors.output(dir, (e as Error).message);
  }
}

/** Write a small file so that a crash leaves the old one or the new one, never half. */
export async function writeDurably(path: string, text: string): Promise<void> {
  const temp = path + ".tmp";
  await writeFile(temp, text);
  const handle = await open(temp, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch {
    // Some filesystems cannot sync a directory; the renames are still in order.
  } finally {
    await handle.close();
  }
}

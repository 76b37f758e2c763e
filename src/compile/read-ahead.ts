// Read-ahead: the disk works while the kernels do. Each worker reads its file when it starts it,
// so without this the disk idles while a file is in the kernel, and at most one read per worker
// is ever in flight. This reads the next files (the bytes a worker will read of each) into the
// page cache, a bounded number ahead of the files handed to workers, so that a worker finds its
// file in memory. Memory stays bounded: one scratch buffer per read in flight, and the files read
// ahead (a few, whatever the corpus) in the page cache, where the kernel may drop them.
//
// With a file already in the page cache it only costs a copy and competes with the workers, and
// nothing tells a run beforehand where its files are. So by default ("auto") it asks each file:
// it reads one byte of two of its pages (synchronously, timed on this thread), which takes a few
// microseconds from the page cache and the disk's latency (about 100 µs here, at the least)
// otherwise, and reads ahead only the files that are not in memory. A warm corpus pays a few
// system calls a file; a cold one is read ahead from its first file, and once files keep coming
// from the disk only every eighth is asked (asking waits for the disk); a corpus partly in memory
// (a run that stopped half-way) gets the rest read ahead.
//
// An earlier rule went by how fast the workers read: on a busy day this machine copied out of its
// page cache at 1.2-1.5 GB/s, as slow as some disk reads, and warm runs read ahead up to 955 of
// 1,500 files. Bandwidth overlaps between memory and the disk; the latency of one page does not.

import { open } from "node:fs/promises";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { InputFile } from "../discover.js";

/** How many bytes of a file, given its first bytes and size, a worker reads. */
export type ReadExtent = (head: Uint8Array, size: number) => number;

const HEAD_BYTES = 65536;
const CHUNK_BYTES = 4 << 20;
const PAGE = 4096;

/**
 * A one-byte read slower than this (µs) came from the disk. Measured here on 100 files each:
 * from the page cache 3.5-14 µs (10th to 90th percentile), from the disk 90 µs at the least.
 */
const DISK_LATENCY_US = 50;
/**
 * After this many files in a row not in memory, a cold corpus is assumed and only every
 * ASK_EVERY-th file is asked: asking a file on the disk waits for the disk on this thread.
 */
const COLD_STREAK = 4;
const ASK_EVERY = 8;

/** Read-ahead settings: files ahead of the workers, reads at once. */
export interface ReadAheadSetting {
  files: number;
  reads: number;
}

/**
 * Whether `path`'s pages at `offsets` (fractions of its size) are in the page cache, by the time
 * a one-byte read of each takes: the fastest counts (a read of a page in memory now and then takes
 * longer, e.g. while the kernel starts reading ahead around it). A file that cannot be read counts
 * as in memory: its worker reports what is wrong with it.
 */
export function pagesInMemory(path: string, offsets: readonly number[] = [0.25, 0.75], latencyUs = DISK_LATENCY_US): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const byte = new Uint8Array(1);
    let fastest = Infinity;
    for (const f of offsets) {
      const at = Math.min(Math.floor((f * size) / PAGE) * PAGE, Math.floor((size - 1) / PAGE) * PAGE);
      const t0 = process.hrtime.bigint();
      readSync(fd, byte, 0, 1, at);
      fastest = Math.min(fastest, Number(process.hrtime.bigint() - t0) / 1000);
    }
    return fastest < latencyUs;
  } catch {
    return true;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export class ReadAhead {
  private next: number;
  private reading = 0;
  private stopped = false;
  private readonly buffers: Uint8Array[] = [];
  private readonly depth: number;
  private readonly concurrency: number;
  /** Auto: read ahead only the files not in the page cache. */
  private readonly auto: boolean;
  /** The last file handed to a worker. */
  private handed = -1;
  private started = 0;
  private done = 0;
  private lastInMemory?: boolean;
  /** Files asked in a row that were not in memory. */
  private coldStreak = 0;

  /**
   * `setting`: so many files ahead of the last file handed out, so many reads at once; "auto":
   * the same, for the files that are not in the page cache.
   */
  constructor(
    private readonly files: InputFile[],
    first: number,
    setting: ReadAheadSetting | { auto: ReadAheadSetting },
    private readonly extent: ReadExtent,
    /** Auto: whether file `index` is in the page cache (default: a page of it, timed). */
    private readonly inMemory: (file: InputFile) => boolean = (file) => pagesInMemory(file.path),
  ) {
    this.next = first;
    const s = "auto" in setting ? setting.auto : setting;
    this.auto = "auto" in setting;
    this.depth = s.files;
    this.concurrency = s.reads;
    this.pump();
  }

  /** Whether it would read the next file ahead: fixed, a depth above 0; auto, the last file it asked was not in memory. */
  get active(): boolean {
    return this.depth > 0 && (!this.auto || this.lastInMemory === false);
  }

  /** Files read ahead so far (finished or not). */
  get filesStarted(): number {
    return this.started;
  }

  /** Files read ahead and finished (in the page cache, or failed: their workers report them). */
  get filesDone(): number {
    return this.done;
  }

  /** File `index` has been handed to a worker: keep `depth` files after it read or reading. */
  handedOut(index: number): void {
    this.handed = Math.max(this.handed, index);
    if (this.next <= index) this.next = index + 1; // a file already started needs no read-ahead
    this.pump();
  }

  stop(): void {
    this.stopped = true;
  }

  private pump(): void {
    const limit = Math.min(this.files.length, this.handed + 1 + this.depth);
    while (!this.stopped && this.reading < this.concurrency && this.next < limit) {
      const index = this.next++;
      if (this.auto && (this.coldStreak < COLD_STREAK || index % ASK_EVERY === 0)) {
        this.lastInMemory = this.inMemory(this.files[index]);
        this.coldStreak = this.lastInMemory ? 0 : this.coldStreak + 1;
        if (this.lastInMemory) continue;
      }
      this.started++;
      this.reading++;
      const buffer = this.buffers.pop() ?? new Uint8Array(CHUNK_BYTES);
      this.read(this.files[index], buffer).finally(() => {
        this.reading--;
        this.done++;
        this.buffers.push(buffer);
        this.pump();
      });
    }
  }

  /** Read what a worker will read of `file` (into a scratch buffer, for its pages). Errors are the worker's to report. */
  private async read(file: InputFile, buffer: Uint8Array): Promise<void> {
    let handle;
    try {
      handle = await open(file.path, "r");
      const { bytesRead } = await handle.read(buffer, 0, Math.min(HEAD_BYTES, buffer.byteLength), 0);
      const end = Math.min(file.size, this.extent(buffer.subarray(0, bytesRead), file.size));
      for (let at = bytesRead; at < end && !this.stopped;) {
        const { bytesRead: n } = await handle.read(buffer, 0, Math.min(buffer.byteLength, end - at), at);
        if (n === 0) break;
        at += n;
      }
    } catch {
      // The worker reads the file itself, and names what is wrong with it.
    } finally {
      await handle?.close();
    }
  }
}

// Read-ahead: the disk works while the kernels do. Each worker reads its file when it starts it,
// so without this the disk idles while a file is in the kernel, and at most one read per worker
// is ever in flight. This reads the next files (the bytes a worker will read of each) into the
// page cache, a bounded number ahead of the files handed to workers, so that a worker finds its
// file in memory. Memory stays bounded: one scratch buffer per read in flight, and the files read
// ahead (a few, whatever the corpus) in the page cache, where the kernel may drop them.
//
// With the files already in the page cache it only costs a copy and competes with the workers,
// and nothing tells a run beforehand where its files are. So by default ("auto") it goes by how
// fast the workers read files it did not read ahead: while the latest such reads are slower than
// memory, it reads ahead, leaving every PROBE_EVERY-th file to its worker, whose read says
// whether the disk is still what it waits for; once they run at memory speed, it stops. (Its own
// reads cannot tell once the run is under way: they wait for the main thread's event loop and for
// a core.) It starts by reading the first files itself while the workers boot, when its reads
// can tell, and the first files are read from the disk while nothing else would read.
//
// "Memory speed" is measured in the same run: the workers' reads of files that were read ahead
// before the worker started them come from the page cache, under the run's own load. A read is
// the disk's when it is both slower than DISK_BYTES_PER_MS and MEMORY_OVER_DISK times slower than
// those (until there are a few of them, the first alone decides). A fixed threshold alone took a
// busy machine's page cache, copied at 1.2-1.5 GB/s, for a disk, and read ahead in warm runs.

import { open } from "node:fs/promises";
import type { InputFile } from "../discover.js";

/** How many bytes of a file, given its first bytes and size, a worker reads. */
export type ReadExtent = (head: Uint8Array, size: number) => number;

const HEAD_BYTES = 65536;
const CHUNK_BYTES = 4 << 20;

/** Reads slower than this (bytes a millisecond: 1.5 GB/s) come from the disk; from the page cache a worker reads a file at several GB/s. */
const DISK_BYTES_PER_MS = 1.5e6;
/** A disk's read is at least this many times slower than a read from the page cache in the same run. */
const MEMORY_OVER_DISK = 3;
/** The page cache's speed counts once this many reads of it are known. */
const MEMORY_READS = 3;
/** Reads smaller than this say little about where a file came from (they are mostly system calls). */
const TELLING_BYTES = 1 << 20;
/**
 * Auto decides on the median of this many latest telling reads: a worker's read of a file in the
 * page cache is now and then slow too (while the main thread writes the rows, three threads share
 * two cores), but seldom three times in five.
 */
const WINDOW = 5;
/** Auto, while reading ahead: every this many files one is left to its worker, to keep measuring the disk. */
const PROBE_EVERY = 8;

/** Read-ahead settings: files ahead of the workers, reads at once. */
export interface ReadAheadSetting {
  files: number;
  reads: number;
}

export class ReadAhead {
  private next: number;
  private limit: number;
  private reading = 0;
  private stopped = false;
  private readonly buffers: Uint8Array[] = [];
  /** Auto: the setting to use while reads come from the disk (else undefined: fixed). */
  private readonly whenSlow?: ReadAheadSetting;
  private depth: number;
  private readonly concurrency: number;
  /** Files this has read or started reading ahead (their workers' reads say nothing of the disk). */
  private readonly readAhead = new Set<number>();
  /** Bytes per millisecond of the latest telling reads: the workers', and its own first ones. */
  private readonly rates: number[] = [];
  private readonly primingRates: number[] = [];
  /** Bytes per millisecond of the workers' latest reads of files in the page cache (read ahead in time). */
  private readonly memoryRates: number[] = [];
  /** When each file read ahead was in the page cache (ms since the epoch), by index. */
  private readonly readyAt = new Map<number, number>();
  /** The last file handed to a worker. */
  private handed = -1;
  private started = 0;
  private done = 0;
  /** Auto: the files before this are read at the start, their reads timed. */
  private readonly primeEnd: number;

  /**
   * `setting`: so many files ahead of the last file handed out, so many reads at once; or "auto"
   * with the setting to use while files come from the disk (nothing until then).
   */
  constructor(
    private readonly files: InputFile[],
    first: number,
    setting: ReadAheadSetting | { auto: ReadAheadSetting },
    private readonly extent: ReadExtent,
    /** Auto: reads slower than this many bytes a millisecond come from the disk. */
    private readonly diskBytesPerMs = DISK_BYTES_PER_MS,
  ) {
    this.next = first;
    this.limit = first;
    if ("auto" in setting) {
      this.whenSlow = setting.auto;
      this.depth = 0;
      this.concurrency = setting.auto.reads;
      this.primeEnd = Math.min(files.length, first + setting.auto.files);
    } else {
      this.depth = setting.files;
      this.concurrency = setting.reads;
      this.primeEnd = first;
    }
    this.limit = this.primeEnd;
    this.pump();
  }

  /** Whether it is reading ahead now (auto turns it on and off). */
  get active(): boolean {
    return this.depth > 0;
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

  /**
   * A worker read `bytes` of file `index` in `ms` milliseconds (undefined: it cannot tell, e.g.
   * the read went into memory touched for the first time, which costs as much as a slow disk).
   */
  workerRead(index: number, bytes: number, ms: number | undefined, startedAt?: number): void {
    const ready = this.readyAt.get(index);

    this.readyAt.delete(index);
    if (this.readAhead.delete(index)) {
      // Read ahead and in memory before the worker started it: a read of the page cache.
      if (ready !== undefined && startedAt !== undefined && ready <= startedAt) this.observe(this.memoryRates, bytes, ms);
      return;
    }
    this.observe(this.rates, bytes, ms);
  }

  private observe(rates: number[], bytes: number, ms: number | undefined): void {
    if (!this.whenSlow || ms === undefined || bytes < TELLING_BYTES) return;
    rates.push(bytes / Math.max(ms, 1e-3));
    if (rates.length > WINDOW) rates.shift();
    // Its own first reads count until the workers' reads are a few (they are copies into a buffer
    // of its own, slower than a worker's read of the same file in memory).
    const telling = this.rates.length >= MEMORY_READS ? this.rates : [...this.primingRates, ...this.rates].slice(-WINDOW);
    if (telling.length === 0) return;
    const read = median(telling);
    const memory = this.memoryRates.length >= MEMORY_READS ? median(this.memoryRates) : Infinity;
    this.depth = read < this.diskBytesPerMs && read * MEMORY_OVER_DISK < memory ? this.whenSlow.files : 0;
    this.pump();
  }

  stop(): void {
    this.stopped = true;
  }

  private pump(): void {
    this.limit = Math.max(this.limit, Math.min(this.files.length, this.handed + 1 + this.depth));
    while (!this.stopped && (this.depth > 0 || this.next < this.primeEnd) && this.reading < this.concurrency && this.next < this.limit) {
      const index = this.next++;
      const priming = index < this.primeEnd;
      if (this.whenSlow && !priming && index % PROBE_EVERY === 0) continue; // a probe: its worker reads it
      this.readAhead.add(index);
      this.started++;
      this.reading++;
      const buffer = this.buffers.pop() ?? new Uint8Array(CHUNK_BYTES);
      this.read(this.files[index], buffer, priming).finally(() => {
        this.reading--;
        this.done++;
        this.readyAt.set(index, performance.timeOrigin + performance.now());
        this.buffers.push(buffer);
        this.pump();
      });
    }
  }

  /** Read what a worker will read of `file` (into a scratch buffer, for its pages). Errors are the worker's to report. */
  private async read(file: InputFile, buffer: Uint8Array, timed: boolean): Promise<void> {
    let handle;
    // The body's reads, timed alone (opening and closing cost the same from the disk or memory).
    let bodyBytes = 0, bodyMs = 0;
    try {
      handle = await open(file.path, "r");
      const { bytesRead } = await handle.read(buffer, 0, Math.min(HEAD_BYTES, buffer.byteLength), 0);
      const end = Math.min(file.size, this.extent(buffer.subarray(0, bytesRead), file.size));
      for (let at = bytesRead; at < end && !this.stopped;) {
        const t0 = performance.now();
        const { bytesRead: n } = await handle.read(buffer, 0, Math.min(buffer.byteLength, end - at), at);
        bodyMs += performance.now() - t0;
        if (n === 0) break;
        at += n;
        bodyBytes += n;
      }
    } catch {
      // The worker reads the file itself, and names what is wrong with it.
    } finally {
      await handle?.close();
    }
    if (timed) this.observe(this.primingRates, bodyBytes, bodyMs);
  }
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1];
}

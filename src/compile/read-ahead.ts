// Read-ahead: the disk works while the kernels do. Each worker reads its file when it starts it,
// so without this the disk idles while a file is in the kernel, and at most one read per worker
// is ever in flight. This reads the next files (the bytes a worker will read of each) into the
// page cache, a bounded number ahead of the files handed to workers, so that a worker finds its
// file in memory. Whole files are brought in by touching their pages from threads of their own
// (Toucher, below), parts of files and the first files by copying them into a scratch buffer.
// Memory stays bounded: a scratch buffer per copy in flight, and the files read ahead (a few,
// whatever the corpus) in the page cache, where the kernel may drop them.
//
// With the files already in the page cache it only costs CPU and competes with the workers,
// and nothing tells a run beforehand where its files are. So by default ("auto") it goes by how
// fast the workers read files it did not read ahead: while the latest such reads are slower than
// memory, it reads ahead, leaving every PROBE_EVERY-th file to its worker, whose read says
// whether the disk is still what it waits for; once they run at memory speed, it stops. (Its own
// reads cannot tell once the run is under way: they wait for the main thread's event loop and for
// a core.) It starts by reading the first files itself while the workers boot, when its reads
// can tell, and the first files are read from the disk while nothing else would read.

import { open } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import type { InputFile } from "../discover.js";

/** How many bytes of a file, given its first bytes and size, a worker reads. */
export type ReadExtent = (head: Uint8Array, size: number) => number;

const HEAD_BYTES = 65536;
/** The priming reads' scratch buffer, at most. */
const PRIMING_CHUNK_BYTES = 4 << 20;

/** Reads slower than this (bytes a millisecond: 1.5 GB/s) come from the disk; from the page cache a worker reads a file at several GB/s. */
const DISK_BYTES_PER_MS = 1.5e6;
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

/**
 * A whole file is brought into the page cache by a thread that reads one byte of each page, in
 * order, synchronously: the kernel sees a sequential read and reads ahead in large requests, and
 * nothing is copied. On this project's test machine, 300 cold heads took 1.5 s and 0.45 s of
 * system time this way, against 2.8 s and 1.4 s copied into a scratch buffer; CPU is what the
 * workers need. (Skipping pages defeats the kernel's read-ahead: a page in four left most of the
 * files unread.)
 */
const TOUCHER = `
const { parentPort } = require("node:worker_threads");
const { openSync, readSync, closeSync } = require("node:fs");
const byte = Buffer.alloc(1);
parentPort.on("message", ({ id, path, from, to }) => {
  try {
    const fd = openSync(path, "r");
    try {
      for (let at = from; at < to; at = (at | 4095) + 1) readSync(fd, byte, 0, 1, at);
    } finally {
      closeSync(fd);
    }
  } catch {
    // The worker reads the file itself, and names what is wrong with it.
  }
  parentPort.postMessage(id);
});
`;

/** A page-touching thread: touch(path, from, to) resolves once those bytes are in the page cache. */
class Toucher {
  private readonly worker = new Worker(TOUCHER, { eval: true });
  private readonly waiting = new Map<number, () => void>();
  private nextId = 0;

  constructor() {
    this.worker.unref();
    this.worker.on("message", (id: number) => {
      this.waiting.get(id)?.();
      this.waiting.delete(id);
    });
    // A thread that cannot run leaves the reads to the workers.
    this.worker.on("error", () => this.release());
  }

  touch(path: string, from: number, to: number): Promise<void> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.worker.postMessage({ id, path, from, to });
    });
  }

  /** End the thread; touches still waiting resolve. */
  release(): void {
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
    void this.worker.terminate();
  }
}

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
  /** One page-touching thread per read at once, made when first needed. */
  private touchers: Toucher[] = [];
  private nextToucher = 0;
  /** Auto: the setting to use while reads come from the disk (else undefined: fixed). */
  private readonly whenSlow?: ReadAheadSetting;
  private depth: number;
  private readonly concurrency: number;
  /** Files this has read or started reading ahead (their workers' reads say nothing of the disk). */
  private readonly readAhead = new Set<number>();
  /** Bytes per millisecond of the latest telling reads. */
  private readonly rates: number[] = [];
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
  workerRead(index: number, bytes: number, ms: number | undefined): void {
    if (this.readAhead.delete(index)) return;
    this.observe(bytes, ms);
  }

  private observe(bytes: number, ms: number | undefined): void {
    if (!this.whenSlow || ms === undefined || bytes < TELLING_BYTES) return;
    this.rates.push(bytes / Math.max(ms, 1e-3));
    if (this.rates.length > WINDOW) this.rates.shift();
    const median = [...this.rates].sort((a, b) => a - b)[this.rates.length >> 1];
    this.depth = median < this.diskBytesPerMs ? this.whenSlow.files : 0;
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.touchers) t.release();
    this.touchers = [];
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
      this.read(this.files[index], priming).finally(() => {
        this.reading--;
        this.done++;
        this.pump();
      });
    }
  }

  /** Bring what a worker will read of `file` into the page cache. Errors are the worker's to report. */
  private async read(file: InputFile, priming: boolean): Promise<void> {
    let end = 0, from = 0, copy = false;
    // The body's reads, timed alone (opening and closing cost the same from the disk or memory).
    let bodyBytes = 0, bodyMs = 0;
    let handle;
    try {
      handle = await open(file.path, "r");
      // The first bytes (a copy: they are few), which say how far a worker reads.
      const head = new Uint8Array(HEAD_BYTES);
      const { bytesRead } = await handle.read(head, 0, HEAD_BYTES, 0);
      from = bytesRead;
      end = Math.min(file.size, this.extent(head.subarray(0, bytesRead), file.size));
      // Copied (into a scratch buffer) here: the first files, read while the workers boot (a thread
      // for them would compete with the workers' start, and a run from memory needs none), and
      // parts of files (HeadsNet's workers read the vertices only), which measured faster copied:
      // 200 cold heads took 1.82-1.86 s so and 1.97-2.21 s touched.
      copy = priming || end < file.size;
      if (copy) {
        const scratch = new Uint8Array(Math.min(PRIMING_CHUNK_BYTES, Math.max(0, end - from)));
        for (let at = from; at < end && !this.stopped;) {
          const t0 = performance.now();
          const { bytesRead: n } = await handle.read(scratch, 0, Math.min(scratch.byteLength, end - at), at);
          bodyMs += performance.now() - t0;
          if (n === 0) break;
          at += n;
          bodyBytes += n;
        }
      }
    } catch {
      return;
    } finally {
      await handle?.close();
    }
    if (copy) {
      if (priming) this.observe(bodyBytes, bodyMs);
      return;
    }
    if (this.stopped || from >= end) return;
    const k = this.nextToucher++ % this.concurrency;
    this.touchers[k] ??= new Toucher();
    await this.touchers[k].touch(file.path, from, end);
  }
}

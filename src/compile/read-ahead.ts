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
//
// Handing the bytes over (`handover`): a corpus larger than memory cannot stay in the page cache
// through a run, and putting every file there and evicting it again cost the kernel a core of its
// own here (about 1.3 s of system time per GB read, against 0.1 with O_DIRECT). Then the files that
// are not in memory are read around the page cache (O_DIRECT) into slots of a shared buffer, as
// many as files ahead, and their workers take the bytes from there instead of reading the file.
// Where O_DIRECT is refused (a file system without it) the same slots are filled by plain reads.

import { open, type FileHandle } from "node:fs/promises";
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { freemem } from "node:os";
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

/** Reading ahead into slots that workers take the bytes from (see above). */
export interface HandoverSetting {
  /** The largest extent a slot holds (rounded up to 64 KiB); larger files are read ahead as before. */
  slotBytes: number;
  /** Open a file for reading, around the page cache when `direct` (tests replace it). */
  open?: (path: string, direct: boolean) => Promise<FileHandle>;
}

/** A file's bytes, read ahead for its worker: `bytes` of them at `at` in `memory`. */
export interface HandedBytes {
  memory: SharedArrayBuffer;
  at: number;
  bytes: number;
}

/** Handover slots hold files up to this size; larger ones are read ahead into the page cache. */
const SLOT_MAX_BYTES = 32 * 2 ** 20;

/**
 * Whether read-ahead hands the files' bytes to the workers, read around the page cache: "auto"
 * when the files still to read are more than the memory available (they could not stay in the
 * page cache anyway), "bypass" always, "use" never. The slots hold the largest file, up to
 * SLOT_MAX_BYTES.
 */
export function handoverSetting(files: readonly InputFile[], pageCache: "auto" | "use" | "bypass" = "auto", available = freemem()): HandoverSetting | undefined {
  const bytes = files.reduce((n, f) => n + f.size, 0);
  if (pageCache === "use" || (pageCache === "auto" && bytes <= available)) return undefined;
  return { slotBytes: Math.min(SLOT_MAX_BYTES, files.reduce((n, f) => Math.max(n, f.size), 0)) };
}

const openFile = (path: string, direct: boolean) => open(path, direct ? constants.O_RDONLY | constants.O_DIRECT : constants.O_RDONLY);

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
  /** Handover: the slots' memory (page-aligned, as O_DIRECT needs), the free slots, and each file's read. */
  private readonly slots?: { memory: WebAssembly.Memory; bytes: number; free: number[] };
  private readonly reads = new Map<number, Promise<HandedBytes | undefined>>();
  /** The slot each file taken by its worker holds, until release(). */
  private readonly taken = new Map<number, number>();
  private handedOver = 0;
  /** O_DIRECT was refused once: plain reads from then on. */
  private directRefused = false;

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
    private readonly handover?: HandoverSetting,
  ) {
    this.next = first;
    const s = "auto" in setting ? setting.auto : setting;
    this.auto = "auto" in setting;
    this.depth = s.files;
    this.concurrency = s.reads;
    if (handover && this.depth > 0) {
      const bytes = Math.ceil(Math.max(1, handover.slotBytes) / 65536) * 65536;
      const pages = (bytes / 65536) * this.depth;
      this.slots = { memory: new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }), bytes, free: Array.from({ length: this.depth }, (_, i) => this.depth - 1 - i) };
    }
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

  /** Files whose bytes were read into a slot for their worker (finished or not). */
  get filesHandedOver(): number {
    return this.handedOver;
  }

  /** Slots not holding a file's bytes (handover), or undefined without handover. */
  get freeSlots(): number | undefined {
    return this.slots?.free.length;
  }

  /**
   * File `index`'s bytes, when they were read ahead into a slot (waiting for the read if it is
   * under way), else undefined: the worker reads the file. The slot is the caller's until
   * release(index).
   */
  take(index: number): Promise<HandedBytes | undefined> | undefined {
    const read = this.reads.get(index);
    if (!read) return undefined;
    this.reads.delete(index);
    return read;
  }

  /** File `index`'s worker is done with its bytes: its slot takes another file. */
  release(index: number): void {
    const slot = this.taken.get(index);
    if (slot === undefined) return;
    this.taken.delete(index);
    this.slots!.free.push(slot);
    this.pump();
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
      const file = this.files[this.next];
      const slots = this.slots && file.size <= this.slots.bytes ? this.slots : undefined;
      if (slots && slots.free.length === 0) break; // until a worker releases one
      const index = this.next++;
      if (this.auto && (this.coldStreak < COLD_STREAK || index % ASK_EVERY === 0)) {
        this.lastInMemory = this.inMemory(file);
        this.coldStreak = this.lastInMemory ? 0 : this.coldStreak + 1;
        if (this.lastInMemory) continue;
      }
      this.started++;
      this.reading++;
      if (slots) {
        const slot = slots.free.pop()!;
        this.handedOver++;
        const read = this.readIntoSlot(file, slot).then((bytes) => {
          // A failed read frees its slot at once; else its worker holds it until release().
          if (bytes) this.taken.set(index, slot);
          else slots.free.push(slot);
          return bytes;
        });
        this.reads.set(index, read);
        read.finally(() => {
          this.reading--;
          this.done++;
          this.pump();
        });
        continue;
      }
      const buffer = this.buffers.pop() ?? new Uint8Array(CHUNK_BYTES);
      this.read(this.files[index], buffer).finally(() => {
        this.reading--;
        this.done++;
        this.buffers.push(buffer);
        this.pump();
      });
    }
  }

  /**
   * Read what a worker will read of `file` into `slot`, around the page cache where the file
   * system allows; undefined if it cannot be read whole (the worker reads it, and reports what
   * is wrong), or the run stopped.
   */
  private async readIntoSlot(file: InputFile, slot: number): Promise<HandedBytes | undefined> {
    const slots = this.slots!;
    const memory = slots.memory.buffer as unknown as SharedArrayBuffer;
    const at = slot * slots.bytes;
    const view = new Uint8Array(memory, at, slots.bytes);
    const openIt = this.handover?.open ?? openFile;
    const fill = async (direct: boolean): Promise<number | undefined> => {
      let handle: FileHandle | undefined;
      try {
        handle = await openIt(file.path, direct);
        const size = (await handle.stat()).size;
        // O_DIRECT reads whole pages into page-aligned memory at page-aligned offsets: the head
        // and each read are whole pages (the file's end reads short).
        const { bytesRead: head } = await handle.read(view, 0, Math.min(HEAD_BYTES, view.byteLength), 0);
        // At least the head, as a worker reads it (Kernel.loadFile), even where the extent is shorter.
        const end = Math.max(head, Math.min(size, this.extent(view.subarray(0, head), size)));
        if (end > view.byteLength) return undefined; // it grew: its worker reads it
        let done = head;
        while (done < end && !this.stopped) {
          const want = direct ? Math.min(view.byteLength - done, Math.ceil((end - done) / PAGE) * PAGE) : end - done;
          const { bytesRead: n } = await handle.read(view, done, want, done);
          if (n === 0) break;
          done += n;
          if (direct && n % PAGE !== 0 && done < end) throw Object.assign(new Error("a short read inside the file"), { code: "EINVAL" });
        }
        return done >= end ? end : undefined;
      } finally {
        await handle?.close();
      }
    };
    try {
      const direct = !this.directRefused;
      try {
        const bytes = await fill(direct);
        return bytes === undefined || this.stopped ? undefined : { memory, at, bytes };
      } catch (e) {
        // O_DIRECT refused (EINVAL: a file system without it, or alignment it does not accept): plain reads.
        if (!direct || (e as NodeJS.ErrnoException).code !== "EINVAL") throw e;
        this.directRefused = true;
        const bytes = await fill(false);
        return bytes === undefined || this.stopped ? undefined : { memory, at, bytes };
      }
    } catch {
      return undefined; // the worker reads the file itself, and names what is wrong with it
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

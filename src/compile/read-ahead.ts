// Read-ahead: the disk works while the kernels do. Each worker reads its file when it starts it,
// so without this the disk idles while a file is in the kernel, and at most one read per worker
// is ever in flight. This reads the next files (the bytes a worker will read of each) into the
// page cache, a bounded number ahead of the files handed to workers, so that a worker finds its
// file in memory. Memory stays bounded: one scratch buffer per read in flight, and the files read
// ahead (a few, whatever the corpus) in the page cache, where the kernel may drop them.

import { open } from "node:fs/promises";
import type { InputFile } from "../discover.js";

/** How many bytes of a file, given its first bytes and size, a worker reads. */
export type ReadExtent = (head: Uint8Array, size: number) => number;

const HEAD_BYTES = 65536;
const CHUNK_BYTES = 4 << 20;

export class ReadAhead {
  private next: number;
  private limit: number;
  private reading = 0;
  private stopped = false;
  private readonly buffers: Uint8Array[] = [];

  /**
   * `depth` files ahead of the last file handed out, `concurrency` reads at once. Read-ahead
   * helps only when inputs come from the disk; with them in the page cache it costs a copy.
   */
  constructor(
    private readonly files: InputFile[],
    first: number,
    private readonly depth: number,
    private readonly concurrency: number,
    private readonly extent: ReadExtent,
  ) {
    this.next = first;
    this.limit = first;
  }

  /** File `index` has been handed to a worker: keep `depth` files after it read or reading. */
  handedOut(index: number): void {
    this.limit = Math.max(this.limit, Math.min(this.files.length, index + 1 + this.depth));
    if (this.next <= index) this.next = index + 1; // a file already started needs no read-ahead
    this.pump();
  }

  stop(): void {
    this.stopped = true;
  }

  private pump(): void {
    while (!this.stopped && this.reading < this.concurrency && this.next < this.limit) {
      const file = this.files[this.next++];
      this.reading++;
      const buffer = this.buffers.pop() ?? new Uint8Array(CHUNK_BYTES);
      this.read(file, buffer).finally(() => {
        this.reading--;
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

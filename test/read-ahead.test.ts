// Read-ahead (src/compile/read-ahead.ts): a fixed setting reads so many files ahead of the
// workers; "auto" reads ahead only while the workers' latest telling reads (of files it did not
// read ahead) are slow, leaving every 8th file to its worker as a probe of the disk.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { mkdtempSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReadAhead } from "../src/compile/read-ahead.js";
import type { InputFile } from "../src/discover.js";

const SIZE = 1.25 * 2 ** 20; // more than the 1 MiB a read needs to tell anything
const whole = (_head: Uint8Array, size: number) => size;
const FAST = 0.5, SLOW = 500; // ms for SIZE bytes: 2.6 GB/s, 2.6 MB/s
/** Slower than 20 MB/s is "the disk" in these tests: the workers' reads are made up. */
const DISK = 20_000;

describe("read-ahead", () => {
  let files: InputFile[];
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), "headsnet-read-ahead-"));
    files = Array.from({ length: 20 }, (_, i) => {
      const path = join(dir, `f${i}.ply`);
      writeFileSync(path, Buffer.alloc(SIZE, i));
      const st = statSync(path);
      return { path, rel: `f${i}.ply`, label: path, size: st.size, mtimeMs: st.mtimeMs };
    });
  });

  it("a fixed setting keeps that many files read ahead of the last one handed out, and 0 none", async () => {
    const r = new ReadAhead(files, 0, { files: 3, reads: 2 }, whole);
    expect(r.active).toBe(true);
    r.handedOut(0);
    await vi.waitFor(() => expect(r.filesStarted).toBe(3)); // files 1, 2, 3
    r.handedOut(1); // already read ahead: one more, file 4
    await vi.waitFor(() => expect(r.filesStarted).toBe(4));
    r.handedOut(16);
    await vi.waitFor(() => expect(r.filesStarted).toBe(7)); // and 17, 18, 19: the last
    // Slow reads change nothing.
    r.workerRead(16, SIZE, SLOW);
    expect(r.filesStarted).toBe(7);
    r.stop();
    const none = new ReadAhead(files, 0, { files: 0, reads: 1 }, whole);
    none.handedOut(0);
    none.workerRead(0, SIZE, SLOW);
    expect(none.active).toBe(false);
    expect(none.filesStarted).toBe(0);
  });

  it("auto reads ahead while the workers' reads are slow, probes every 8th file, and stops when they are fast", async () => {
    const r = new ReadAhead(files, 0, { auto: { files: 3, reads: 1 } }, whole, DISK);
    expect(r.active).toBe(false);
    r.handedOut(0);
    r.handedOut(1);
    // A fast read, a read too small to tell and one that cannot tell start nothing.
    r.workerRead(0, SIZE, FAST);
    r.workerRead(1, 100_000, SLOW);
    r.workerRead(1, SIZE, undefined);
    expect(r.active).toBe(false);
    r.handedOut(2);
    r.workerRead(2, SIZE, SLOW);
    expect(r.active).toBe(false); // the median of one fast and one slow: the faster
    r.workerRead(2, SIZE, FAST);
    r.workerRead(2, SIZE, SLOW);
    expect(r.active).toBe(false); // two slow of four
    r.handedOut(3);
    r.workerRead(3, SIZE, SLOW);
    expect(r.active).toBe(true); // three slow of five
    await vi.waitFor(() => expect(r.filesStarted).toBe(3)); // files 4, 5, 6
    // A worker's read of a file read ahead says nothing about the disk: ignored, however fast.
    r.handedOut(4);
    r.handedOut(5);
    r.workerRead(4, SIZE, FAST);
    r.workerRead(5, SIZE, FAST);
    expect(r.active).toBe(true);
    // File 8 is a probe: left to its worker.
    r.handedOut(6);
    await vi.waitFor(() => expect(r.filesStarted).toBe(5)); // 7 and 9
    r.handedOut(9);
    await vi.waitFor(() => expect(r.filesStarted).toBe(8)); // 10, 11, 12
    r.workerRead(8, SIZE, FAST); // the probe is fast, but three of the five latest are slow
    expect(r.active).toBe(true);
    r.handedOut(12);
    await vi.waitFor(() => expect(r.filesStarted).toBe(11)); // 13, 14, 15
    r.handedOut(16);
    r.workerRead(16, SIZE, FAST); // the next probe: fast, and now three of five are: it stops
    expect(r.active).toBe(false);
    const started = r.filesStarted;
    r.handedOut(18);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.filesStarted).toBe(started);
    r.stop();
  });
});

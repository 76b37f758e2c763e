// Read-ahead (src/compile/read-ahead.ts): a fixed setting reads so many files ahead of the
// workers; "auto" first reads the first files itself and times those reads, then reads ahead
// only while the latest telling reads (the workers', of files it did not read ahead) are slow,
// leaving every 8th file to its worker as a probe of the disk.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { mkdtempSync, writeFileSync, statSync, openSync, writeSync, fsyncSync, closeSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReadAhead } from "../src/compile/read-ahead.js";
import type { InputFile } from "../src/discover.js";

const SIZE = 1.25 * 2 ** 20; // more than the 1 MiB a read needs to tell anything
const whole = (_head: Uint8Array, size: number) => size;
const FAST = 0.5, SLOW = 500; // ms for SIZE bytes: 2.6 GB/s, 2.6 MB/s
/** Slower than 20 MB/s is "the disk" in these tests (the files are in memory, just written). */
const DISK = 20_000;

describe("read-ahead", () => {
  let files: InputFile[];
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), "headsnet-read-ahead-"));
    files = Array.from({ length: 26 }, (_, i) => {
      const path = join(dir, `f${i}.ply`);
      writeFileSync(path, Buffer.alloc(SIZE, i));
      const st = statSync(path);
      return { path, rel: `f${i}.ply`, label: path, size: st.size, mtimeMs: st.mtimeMs };
    });
  });

  it("a fixed setting keeps that many files read ahead of the last one handed out, and 0 none", async () => {
    const r = new ReadAhead(files, 0, { files: 3, reads: 2 }, whole);
    expect(r.active).toBe(true);
    await vi.waitFor(() => expect(r.filesStarted).toBe(3)); // files 0, 1, 2, before any is handed out
    r.handedOut(0);
    await vi.waitFor(() => expect(r.filesStarted).toBe(4)); // and 3
    r.handedOut(1);
    await vi.waitFor(() => expect(r.filesStarted).toBe(5)); // and 4
    r.handedOut(22);
    await vi.waitFor(() => expect(r.filesStarted).toBe(8)); // and 23, 24, 25: the last
    r.workerRead(22, SIZE, SLOW); // changes nothing
    expect(r.filesStarted).toBe(8);
    r.stop();
    const none = new ReadAhead(files, 0, { files: 0, reads: 1 }, whole);
    none.handedOut(0);
    none.workerRead(0, SIZE, SLOW);
    expect(none.active).toBe(false);
    expect(none.filesStarted).toBe(0);
  });

  it("auto reads the first files at once, and goes on reading ahead only if those reads were slow", async () => {
    const fast = new ReadAhead(files, 0, { auto: { files: 3, reads: 1 } }, whole, DISK);
    await vi.waitFor(() => expect(fast.filesStarted).toBe(3)); // files 0, 1, 2, before any is handed out
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fast.active).toBe(false); // from memory
    fast.handedOut(0);
    fast.handedOut(1);
    expect(fast.filesStarted).toBe(3);
    fast.stop();
    // Every read slower than "the disk": on from the start.
    const slow = new ReadAhead(files, 5, { auto: { files: 3, reads: 1 } }, whole, Infinity);
    await vi.waitFor(() => expect(slow.active).toBe(true)); // files 5, 6, 7 (a resumed run starts at 5)
    slow.handedOut(5);
    slow.handedOut(6);
    await vi.waitFor(() => expect(slow.filesStarted).toBe(4)); // and 9 (8 is a probe)
    slow.stop();
  });

  it("auto starts when the workers' reads turn slow, probes every 8th file, and stops when the probes are fast", async () => {
    const r = new ReadAhead(files, 0, { auto: { files: 3, reads: 1 } }, whole, DISK);
    await vi.waitFor(() => expect(r.filesStarted).toBe(3)); // the first files: fast
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.active).toBe(false);
    for (let i = 0; i <= 5; i++) r.handedOut(i);
    // The workers' reads of files read ahead say nothing of the disk; reads too small, or that
    // cannot tell, neither.
    r.workerRead(0, SIZE, SLOW);
    r.workerRead(1, SIZE, SLOW);
    r.workerRead(2, SIZE, SLOW);
    r.workerRead(3, 100_000, SLOW);
    r.workerRead(3, SIZE, undefined);
    expect(r.active).toBe(false);
    r.workerRead(3, SIZE, SLOW);
    r.workerRead(4, SIZE, SLOW);
    expect(r.active).toBe(false); // three fast (its own) and two slow
    r.workerRead(5, SIZE, SLOW);
    expect(r.active).toBe(true); // three slow of the latest five
    await vi.waitFor(() => expect(r.filesStarted).toBe(5)); // files 6, 7 (8 is a probe)
    r.handedOut(6);
    r.handedOut(7);
    r.workerRead(6, SIZE, FAST); // read ahead: ignored
    r.workerRead(7, SIZE, FAST);
    expect(r.active).toBe(true);
    r.handedOut(8);
    await vi.waitFor(() => expect(r.filesStarted).toBe(8)); // 9, 10, 11
    r.workerRead(8, SIZE, FAST); // the probe: fast, but three of the latest five are slow
    expect(r.active).toBe(true);
    r.handedOut(16);
    r.workerRead(16, SIZE, FAST); // still three slow of five
    expect(r.active).toBe(true);
    r.handedOut(24);
    r.workerRead(24, SIZE, FAST); // now three fast of five: it stops
    expect(r.active).toBe(false);
    const started = r.filesStarted;
    r.handedOut(25);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.filesStarted).toBe(started);
    r.stop();
  });

  it("auto measures the page cache's speed in the same run: reads as fast as it are not the disk's, however slow", async () => {
    // Every read is slower than the fixed threshold here (a busy machine copies out of its page
    // cache at 1.2-1.5 GB/s); what tells the disk is a read three times slower than the workers'
    // reads of files read ahead before they started them.
    const MEMORY = 5, DISK_MS = 50; // ms for SIZE bytes
    const later = () => performance.timeOrigin + performance.now() + 60_000; // started after the read-ahead
    const r = new ReadAhead(files, 0, { auto: { files: 3, reads: 1 } }, whole, Infinity);
    await vi.waitFor(() => expect(r.filesDone).toBe(3)); // files 0, 1, 2
    expect(r.active).toBe(true); // nothing to compare with yet: the threshold alone
    for (let i = 0; i <= 8; i++) r.handedOut(i);
    // A file read ahead that the worker started before the read-ahead finished says nothing.
    r.workerRead(0, SIZE, DISK_MS * 10, 0);
    r.workerRead(1, SIZE, MEMORY, later());
    r.workerRead(2, SIZE, MEMORY, later());
    await vi.waitFor(() => expect(r.filesDone).toBeGreaterThanOrEqual(5)); // 3 and 4 (read ahead; 8 is a probe)
    r.workerRead(3, SIZE, MEMORY, later());
    // The workers' own reads, as fast as the page cache's: it stops, though all are "slow".
    r.workerRead(8, SIZE, MEMORY * 1.2);
    r.workerRead(9, SIZE, MEMORY * 0.9);
    r.workerRead(10, SIZE, MEMORY);
    expect(r.active).toBe(false);
    // Then the disk, ten times slower than the page cache: on once most of the latest five are.
    r.workerRead(11, SIZE, DISK_MS);
    r.workerRead(12, SIZE, DISK_MS);
    expect(r.active).toBe(false);
    r.workerRead(13, SIZE, DISK_MS);
    expect(r.active).toBe(true);
    r.stop();
  });

  it("brings files from the disk into the page cache: whole files, or the part a worker reads", async () => {
    // Files on the disk, not in memory: written, synced, then dropped from the page cache
    // (dd's nocache: posix_fadvise DONTNEED); fincore counts the pages in memory.
    const dir = mkdtempSync(join(tmpdir(), "headsnet-read-ahead-cache-"));
    const BYTES = 3 * 2 ** 20 + 5000; // not a whole number of pages
    const onDisk: InputFile[] = Array.from({ length: 4 }, (_, i) => {
      const path = join(dir, `d${i}.ply`);
      const fd = openSync(path, "w");
      writeSync(fd, Buffer.alloc(BYTES, i + 1));
      fsyncSync(fd);
      closeSync(fd);
      execFileSync("dd", [`if=${path}`, "iflag=nocache", "count=0", "status=none"]);
      return { path, rel: `d${i}.ply`, label: path, size: BYTES, mtimeMs: 0 };
    });
    const resident = (f: InputFile) => Number(execFileSync("fincore", ["--bytes", "--noheadings", "--output", "RES", f.path], { encoding: "utf8" }).trim());
    for (const f of onDisk) expect(resident(f)).toBe(0);
    // A missing file among them: its worker reports it; read-ahead goes on.
    const missing = { ...onDisk[0], path: join(dir, "missing.ply"), rel: "missing.ply" };
    const files = [onDisk[0], missing, onDisk[1], onDisk[2], onDisk[3]];
    // The first three whole; the fourth only to its first megabyte (as a HeadsNet worker reads
    // a file's vertices and not its faces); a fixed setting, so no file is a probe.
    const extent = (head: Uint8Array, size: number) => (head[0] === 4 ? Math.min(size, 2 ** 20) : size);
    const r = new ReadAhead(files, 0, { files: 5, reads: 2 }, extent);
    await vi.waitFor(() => expect(r.filesDone).toBe(5), { timeout: 30_000 });
    r.stop();
    const pages = (bytes: number) => Math.ceil(bytes / 4096) * 4096; // fincore counts whole pages
    for (const f of onDisk.slice(0, 3)) expect(resident(f)).toBe(pages(BYTES));
    // The part a worker reads is in (the kernel's own read-ahead may read on past it).
    expect(resident(onDisk[3])).toBeGreaterThanOrEqual(2 ** 20);
    rmSync(dir, { recursive: true });
  });
});

// Read-ahead (src/compile/read-ahead.ts): a fixed setting reads so many files ahead of the
// workers; "auto" reads ahead only the files that are not in the page cache, which it tells by
// the time one-byte reads of two of their pages take.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { mkdtempSync, writeFileSync, statSync, openSync, writeSync, fsyncSync, closeSync, rmSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "node:fs/promises";
import { ReadAhead, pagesInMemory, handoverSetting, type HandedBytes } from "../src/compile/read-ahead.js";
import type { InputFile } from "../src/discover.js";

const SIZE = 1.25 * 2 ** 20;
const whole = (_head: Uint8Array, size: number) => size;

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
    r.stop();
    const none = new ReadAhead(files, 0, { files: 0, reads: 1 }, whole);
    none.handedOut(0);
    expect(none.active).toBe(false);
    expect(none.filesStarted).toBe(0);
  });

  it("auto reads ahead only the files that are not in memory, as many ahead as a fixed setting would", async () => {
    const cold = new Set([3, 4, 9, 20]);
    const asked: number[] = [];
    const r = new ReadAhead(files, 0, { auto: { files: 3, reads: 2 } }, whole, (f) => {
      const i = files.indexOf(f);
      asked.push(i);
      return !cold.has(i);
    });
    expect(asked).toEqual([0, 1, 2]); // the first files, before any is handed out: all in memory
    expect(r.active).toBe(false);
    expect(r.filesStarted).toBe(0);
    r.handedOut(0);
    r.handedOut(1);
    expect(r.active).toBe(true); // 4 was not in memory
    r.handedOut(2);
    await vi.waitFor(() => expect(r.filesDone).toBe(2)); // 3 and 4, not 5
    expect(asked).toEqual([0, 1, 2, 3, 4, 5]);
    expect(r.active).toBe(false);
    r.handedOut(8); // 6, 7 and 8 went to workers unasked
    await vi.waitFor(() => expect(r.filesDone).toBe(3)); // 9
    expect(asked).toEqual([0, 1, 2, 3, 4, 5, 9, 10, 11]);
    r.handedOut(19);
    await vi.waitFor(() => expect(r.filesDone).toBe(4)); // 20, of 20, 21, 22
    expect(asked).toEqual([0, 1, 2, 3, 4, 5, 9, 10, 11, 20, 21, 22]);
    expect(r.filesStarted).toBe(4);
    r.stop();
  });

  it("auto, once four files in a row were not in memory, asks only every eighth file, and reads the rest ahead", async () => {
    const asked: number[] = [];
    const warmFrom = 16;
    const r = new ReadAhead(files, 0, { auto: { files: 2, reads: 1 } }, whole, (f) => {
      const i = files.indexOf(f);
      asked.push(i);
      return i >= warmFrom;
    });
    for (let i = 0; i < files.length; i++) {
      await vi.waitFor(() => expect(r.filesDone).toBe(r.filesStarted));
      r.handedOut(i);
    }
    await vi.waitFor(() => expect(r.filesDone).toBe(r.filesStarted));
    // 0-3 asked (cold), then only 8 and 16 until one is in memory: 16 is, so 17 on are asked again.
    expect(asked).toEqual([0, 1, 2, 3, 8, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    expect(r.filesStarted).toBe(16); // 0-15, whether asked or not
    r.stop();
  });

  it("tells pages in the page cache from pages on the disk by the time one byte takes", () => {
    // Files on the disk, not in memory: written, synced, then dropped from the page cache (dd's
    // nocache: posix_fadvise DONTNEED); the disk's latency is tens of microseconds or more.
    const dir = mkdtempSync(join(tmpdir(), "headsnet-read-ahead-probe-"));
    const paths = Array.from({ length: 8 }, (_, i) => {
      const path = join(dir, `p${i}.ply`);
      const fd = openSync(path, "w");
      writeSync(fd, Buffer.alloc(2 ** 20, i + 1));
      fsyncSync(fd);
      closeSync(fd);
      return path;
    });
    for (const p of paths) execFileSync("dd", [`if=${p}`, "iflag=nocache", "count=0", "status=none"]);
    // Most of them: a busy machine may hold a reader long enough for one to look slow.
    expect(paths.filter((p) => !pagesInMemory(p)).length).toBeGreaterThanOrEqual(6);
    for (const p of paths) readFileSync(p);
    expect(paths.filter((p) => pagesInMemory(p)).length).toBeGreaterThanOrEqual(6);
    // A file that cannot be read counts as in memory: its worker reports it.
    expect(pagesInMemory(join(dir, "missing.ply"))).toBe(true);
    rmSync(dir, { recursive: true });
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

  /** Files on the disk, not in memory: random bytes, written, synced, dropped from the page cache. */
  function filesOnDisk(name: string, sizes: number[]): InputFile[] {
    const dir = mkdtempSync(join(tmpdir(), `headsnet-read-ahead-${name}-`));
    return sizes.map((size, i) => {
      const path = join(dir, `h${i}.ply`);
      const bytes = Buffer.alloc(size);
      for (let k = 0; k < size; k++) bytes[k] = (k * 2654435761 + i * 97) >>> 23;
      const fd = openSync(path, "w");
      writeSync(fd, bytes);
      fsyncSync(fd);
      closeSync(fd);
      execFileSync("dd", [`if=${path}`, "iflag=nocache", "count=0", "status=none"]);
      return { path, rel: `h${i}.ply`, label: path, size, mtimeMs: 0 };
    });
  }
  const resident = (f: InputFile) => Number(execFileSync("fincore", ["--bytes", "--noheadings", "--output", "RES", f.path], { encoding: "utf8" }).trim());
  const handed = (b: HandedBytes) => Buffer.from(new Uint8Array(b.memory, b.at, b.bytes));

  it("handover: reads cold files around the page cache into slots, the bytes a worker reads, no more slots than files ahead", async () => {
    // Sizes off the page grid; the third file's worker reads only its first 300,000 bytes.
    const files = filesOnDisk("handover", [1_000_003, 777_777, 900_000, 4096, 1_048_576, 123_457]);
    const extent = (_head: Uint8Array, size: number) => (size === 900_000 ? 300_000 : size);
    for (const f of files) expect(resident(f)).toBe(0);
    const r = new ReadAhead(files, 0, { files: 3, reads: 2 }, extent, undefined, { slotBytes: 1_048_576 });
    await vi.waitFor(() => expect(r.filesDone).toBe(3), { timeout: 30_000 });
    expect(r.filesHandedOver).toBe(3);
    expect(r.freeSlots).toBe(0);
    // Handed out and taken, not yet released: no slot for file 3, so it is not read ahead.
    const got: HandedBytes[] = [];
    for (let i = 0; i < 3; i++) {
      r.handedOut(i);
      got.push((await r.take(i)!)!);
    }
    await new Promise((done) => setTimeout(done, 200));
    expect(r.filesStarted).toBe(3);
    // O_DIRECT left nothing of them in the page cache (checked before reading them to compare).
    for (let i = 0; i < 3; i++) expect(resident(files[i])).toBe(0);
    expect(handed(got[0])).toEqual(readFileSync(files[0].path));
    expect(handed(got[1])).toEqual(readFileSync(files[1].path));
    expect(got[2].bytes).toBe(300_000);
    expect(handed(got[2])).toEqual(readFileSync(files[2].path).subarray(0, 300_000));
    r.release(0);
    await vi.waitFor(() => expect(r.filesDone).toBe(4), { timeout: 30_000 }); // file 3 in the freed slot
    expect(r.take(2)).toBeUndefined(); // taken once
    for (let i = 3; i < files.length; i++) {
      r.handedOut(i);
      const b = (await r.take(i)!)!;
      expect(resident(files[i])).toBe(0);
      expect(handed(b)).toEqual(readFileSync(files[i].path));
      r.release(i);
    }
    r.release(1);
    r.release(2);
    expect(r.freeSlots).toBe(3);
    r.stop();
  });

  it("handover: plain reads where O_DIRECT is refused; a file that cannot be read, or is larger than a slot, is left to its worker", async () => {
    const files = filesOnDisk("handover-fallback", [500_000, 70_000, 2_000_000, 300_001]);
    const missing = { ...files[1], path: join(files[1].path, "..", "missing.ply") };
    const list = [files[0], missing, files[2], files[3]];
    const opened: boolean[] = [];
    const noDirect = async (path: string, direct: boolean) => {
      opened.push(direct);
      if (direct) throw Object.assign(new Error("EINVAL: invalid argument"), { code: "EINVAL" });
      return open(path, "r");
    };
    const r = new ReadAhead(list, 0, { files: 4, reads: 1 }, whole, undefined, { slotBytes: 1_000_000, open: noDirect });
    await vi.waitFor(() => expect(r.filesDone).toBe(4), { timeout: 30_000 });
    // Refused once, then plain reads only; the 2 MB file went into the page cache as before.
    expect(opened[0]).toBe(true);
    expect(opened.slice(1).every((d) => !d)).toBe(true);
    expect(r.filesHandedOver).toBe(3);
    r.handedOut(0);
    expect(handed((await r.take(0)!)!)).toEqual(readFileSync(files[0].path));
    r.handedOut(1);
    expect(await r.take(1)!).toBeUndefined(); // missing: its worker names it
    r.handedOut(2);
    expect(r.take(2)).toBeUndefined(); // too large for a slot: read ahead into the page cache
    expect(resident(files[2])).toBeGreaterThan(0.9 * 2_000_000);
    r.handedOut(3);
    expect(handed((await r.take(3)!)!)).toEqual(readFileSync(files[3].path));
    r.release(0);
    r.release(3);
    expect(r.freeSlots).toBe(4);
    r.stop();
  });

  it("handover is chosen when the files are more than the memory available (auto), always (bypass) or never (use)", () => {
    const sized = (sizes: number[]) => sizes.map((size, i) => ({ path: `/c/h${i}.ply`, rel: `h${i}.ply`, label: `h${i}.ply`, size, mtimeMs: 0 }));
    const corpus = sized([5e6, 7e6, 6e6]); // 18 MB, the largest 7 MB
    expect(handoverSetting(corpus, "auto", 18e6)).toBeUndefined(); // fits: stays in the page cache
    expect(handoverSetting(corpus, "auto", 17e6)).toEqual({ slotBytes: 7e6 });
    expect(handoverSetting(corpus, "use", 1)).toBeUndefined();
    expect(handoverSetting(corpus, "bypass", 1e12)).toEqual({ slotBytes: 7e6 });
    // Slots of at most 32 MiB: larger files are read ahead into the page cache.
    expect(handoverSetting(sized([5e6, 100e6]), "bypass")).toEqual({ slotBytes: 32 * 2 ** 20 });
  });
});


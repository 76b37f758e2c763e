// The compile worker's hand-over: rows stay in the kernel memory where they were computed until
// the main thread releases them; only then is that memory used again, and a worker that has no
// memory free waits for a release.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import compileFileTask, { COMPUTE_NICENESS } from "../src/compile/worker.js";
import { releaseRows, type FileResult, type KernelSetup, type RowsMessage } from "../src/compile/protocol.js";
import { createPool } from "../src/pool.js";
import { synthCorpus } from "../src/synth.js";
import { generateIcosphere } from "../src/icosphere.js";
import { buildSpatialHash, kernelCells } from "../src/spatial-hash.js";
import { Kernel } from "../src/kernel.js";
import { compile } from "../src/compile/index.js";
import { bytesOf, expectSameBytes } from "./bytes.js";

/** Files a worker's kernel holds rows of at once (README: "holds three files' rows at once"). */
const HELD_AT_ONCE = 3;

describe("compile worker", () => {
  let files: string[];
  let setup: KernelSetup;
  /** Each file's rows (x then y) as a kernel of its own computes them, with id i/8. */
  let expected: Buffer[];
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "headsnet-worker-"));
    await synthCorpus({ out: dir, count: 7, vertices: 1500, seed: 3 });
    files = readdirSync(dir).sort().map((name) => join(dir, name));
    const icosphere = generateIcosphere(4);
    const hash = buildSpatialHash(icosphere.vertices);
    setup = { build: "debug", icosphere, hash, cells: kernelCells(hash, icosphere.count) };
    const alone = new Kernel(icosphere, { build: "debug" });
    expected = files.map((f, i) => {
      const out = alone.compileFile(f, i / 8);
      return Buffer.concat([bytesOf(out.x), bytesOf(out.y)]);
    });
  });

  const task = (i: number) => ({ path: files[i], label: files[i], id: i / 8, target: { kind: "headsnet" as const, options: {}, setup } });
  const outOf = (result: FileResult): RowsMessage => {
    if (!result.ok) throw new Error(result.error.message as string);
    return result.out;
  };
  const rowsOf = (m: RowsMessage) => Buffer.concat(m.parts.map((p) => Buffer.from(new Uint8Array(p.memory, p.at, p.bytes))));

  it("keeps every file's rows intact until they are released, and goes on in the memory released", () => {
    // In this thread: were a held file's memory reused, its rows would change; were released
    // memory never reused, the fourth file would wait for a release forever (the test's timeout).
    const held = new Map<number, RowsMessage>();
    const expectHeldIntact = () => {
      for (const [i, m] of held) expectSameBytes(rowsOf(m), expected[i], `file ${i}'s rows, held`);
    };
    for (let i = 0; i < HELD_AT_ONCE; i++) {
      held.set(i, outOf(compileFileTask(task(i))));
      expectHeldIntact();
    }
    // Release the middle one, then the oldest, then the newest: each time the next file compiles
    // and the files still held keep their rows.
    for (const [release, next] of [[1, 3], [0, 4], [4, 5], [2, 6]]) {
      releaseRows(held.get(release)!);
      held.delete(release);
      held.set(next, outOf(compileFileTask(task(next))));
      expectHeldIntact();
    }
    for (const m of held.values()) releaseRows(m);
  });

  it("in a worker thread: with every file's rows held, the next file waits for a release, and then compiles", async () => {
    const pool = createPool(1);
    try {
      const held = new Map<number, RowsMessage>();
      for (let i = 0; i < HELD_AT_ONCE; i++) held.set(i, outOf(await pool.run(task(i))));
      let settled = false;
      const waiting = pool.run(task(HELD_AT_ONCE)).finally(() => { settled = true; });
      // A worker that did not wait would finish this 1,500-vertex file in milliseconds, in memory
      // still held. However slow the machine, a waiting worker cannot finish before a release.
      await sleep(500);
      expect(settled).toBe(false);
      for (const [i, m] of held) expectSameBytes(rowsOf(m), expected[i], `file ${i}'s rows, held`);
      releaseRows(held.get(1)!);
      held.delete(1);
      held.set(HELD_AT_ONCE, outOf(await waiting));
      for (const [i, m] of held) expectSameBytes(rowsOf(m), expected[i], `file ${i}'s rows, held`);
      for (const m of held.values()) releaseRows(m);
      // All released: the next files go straight through.
      for (let i = HELD_AT_ONCE + 1; i < files.length; i++) {
        const m = outOf(await pool.run(task(i)));
        expectSameBytes(rowsOf(m), expected[i], `file ${i}'s rows`);
        releaseRows(m);
      }
    } finally {
      await pool.destroy();
    }
  });

  it("a region that must grow moves, and the rows of the other regions stay as they were", async () => {
    const dir = mkdtempSync(join(tmpdir(), "headsnet-regions-"));
    await synthCorpus({ out: join(dir, "small"), count: 2, vertices: 1200, seed: 5 });
    await synthCorpus({ out: join(dir, "big"), count: 2, vertices: 9000, seed: 6 });
    const [s0, s1] = readdirSync(join(dir, "small")).sort().map((n) => join(dir, "small", n));
    const [b0, b1] = readdirSync(join(dir, "big")).sort().map((n) => join(dir, "big", n));
    const alone = new Kernel(setup.icosphere, { build: "debug" });
    const expectedRows = (f: string) => { const o = alone.compileFile(f, 0.25); return Buffer.concat([bytesOf(o.x), bytesOf(o.y)]); };
    const kernel = new Kernel(setup.icosphere, { build: "debug" });
    let memoryBytes = 0;
    const runIn = (r: number, f: string) => {
      kernel.useRegion(r);
      const o = kernel.run(kernel.loadFile(f, f), f, 0.25);
      memoryBytes = o.x.buffer.byteLength;
      return () => Buffer.concat([bytesOf(o.x), bytesOf(o.y)]);
    };
    const first = runIn(0, s0);
    const second = runIn(1, s1);
    expectSameBytes(first(), expectedRows(s0), "region 0's small file");
    expectSameBytes(second(), expectedRows(s1), "region 1's small file");
    const grown = runIn(0, b0); // region 0 has region 1 above it: it moves to the top
    expectSameBytes(second(), expectedRows(s1), "region 1's rows once region 0 grew");
    expectSameBytes(grown(), expectedRows(b0), "region 0's big file");
    const grownMemory = memoryBytes;
    const third = runIn(2, s0); // a new region, in the room region 0 left: memory does not grow
    expect(memoryBytes).toBe(grownMemory);
    const grownToo = runIn(1, b1); // region 1 cannot grow in place either
    expectSameBytes(grown(), expectedRows(b0), "region 0's rows once region 1 grew");
    expectSameBytes(third(), expectedRows(s0), "region 2's rows once region 1 grew");
    expectSameBytes(grownToo(), expectedRows(b1), "region 1's big file");
    expect(() => kernel.useRegion(4)).toThrow(/no kernel region 4/);
  });

  it("compiles at a lower priority than the threads that read and write: the pool's threads, not the main thread (Linux)", async () => {
    // Each thread's niceness, field 19 of /proc/self/task/TID/stat (the fields after the name).
    const niceness = () => new Map(readdirSync("/proc/self/task").map((tid) =>
      [Number(tid), Number(readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1].split(" ")[16])]));
    const before = niceness();
    expect(before.get(process.pid)).toBe(0);
    expect([...before.values()].filter((n) => n === COMPUTE_NICENESS)).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), "headsnet-niceness-"));
    await synthCorpus({ out: join(dir, "heads"), count: 4, vertices: 1200, seed: 8 });
    const during: Map<number, number>[] = [];
    const { error } = await compile({ inputs: [join(dir, "heads")], out: join(dir, "out"), workers: 2, build: "debug", onProgress: () => during.push(niceness()) });
    expect(error).toBeUndefined();
    expect(during.length).toBeGreaterThan(0);
    // A thread lowers itself when it starts, and the second may start after the first file is done.
    const lowered = new Set<number>();
    for (const threads of during) {
      expect(threads.get(process.pid)).toBe(0);
      for (const [tid, n] of threads) {
        expect([0, COMPUTE_NICENESS]).toContain(n); // Node's own threads (libuv's pool, V8's) keep the default
        if (n === COMPUTE_NICENESS) lowered.add(tid);
      }
    }
    expect(lowered.size).toBeGreaterThanOrEqual(1);
    expect(lowered.size).toBeLessThanOrEqual(2);
  });
});

// The compile worker's hand-over: rows stay in the region of kernel memory where they were
// computed until the main thread releases them, and only then is that region used again.

import { describe, it, expect, beforeAll } from "vitest";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import compileFileTask from "../src/compile/worker.js";
import { releaseRows, type KernelSetup, type RowsMessage } from "../src/compile/protocol.js";
import { synthCorpus } from "../src/synth.js";
import { generateIcosphere } from "../src/icosphere.js";
import { buildSpatialHash, kernelCells } from "../src/spatial-hash.js";
import { Kernel } from "../src/kernel.js";

describe("compile worker", () => {
  let files: string[];
  let setup: KernelSetup;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "headsnet-worker-"));
    await synthCorpus({ out: dir, count: 5, vertices: 1500, seed: 3 });
    files = readdirSync(dir).sort().map((name) => join(dir, name));
    const icosphere = generateIcosphere(4);
    const hash = buildSpatialHash(icosphere.vertices);
    setup = { build: "debug", icosphere, hash, cells: kernelCells(hash, icosphere.count) };
  });

  const compileOne = (path: string, id: number): RowsMessage => {
    const result = compileFileTask({ path, label: path, id, target: { kind: "headsnet", options: {}, setup } });
    if (!result.ok) throw new Error(result.error.message as string);
    return result.out;
  };
  const rowsOf = (m: RowsMessage) => Buffer.concat(m.parts.map((p) => Buffer.from(new Uint8Array(m.memory, p.at, p.bytes))));

  it("rotates through its kernel regions and reuses one only once its rows are released", () => {
    const alone = new Kernel(setup.icosphere, { build: "debug" });
    const expected = files.map((f, i) => {
      const out = alone.compileFile(f, i / 8);
      return Buffer.concat([Buffer.from(out.x.buffer), Buffer.from(out.y.buffer)]);
    });
    const held = [0, 1, 2].map((i) => compileOne(files[i], i / 8));
    expect(held.map((m) => m.region).sort()).toEqual([0, 1, 2]);
    for (const m of held) expect(Atomics.load(m.held, m.region)).toBe(1);
    // The third file's region is released: the fourth file goes there, the others' rows stay.
    releaseRows(held[2]);
    expect(Atomics.load(held[2].held, held[2].region)).toBe(0);
    const fourth = compileOne(files[3], 3 / 8);
    expect(fourth.region).toBe(held[2].region);
    expect(rowsOf(held[0]).equals(expected[0])).toBe(true);
    expect(rowsOf(held[1]).equals(expected[1])).toBe(true);
    expect(rowsOf(fourth).equals(expected[3])).toBe(true);
    releaseRows(held[0]);
    const fifth = compileOne(files[4], 4 / 8);
    expect(fifth.region).toBe(held[0].region);
    expect(rowsOf(fifth).equals(expected[4])).toBe(true);
    expect(rowsOf(held[1]).equals(expected[1])).toBe(true);
    for (const m of [held[1], fourth, fifth]) releaseRows(m);
  });

  it("a region that must grow moves, and the rows of the other regions stay as they were", async () => {
    const dir = mkdtempSync(join(tmpdir(), "headsnet-regions-"));
    await synthCorpus({ out: join(dir, "small"), count: 2, vertices: 1200, seed: 5 });
    await synthCorpus({ out: join(dir, "big"), count: 2, vertices: 9000, seed: 6 });
    const [s0, s1] = readdirSync(join(dir, "small")).sort().map((n) => join(dir, "small", n));
    const [b0, b1] = readdirSync(join(dir, "big")).sort().map((n) => join(dir, "big", n));
    const alone = new Kernel(setup.icosphere, { build: "debug" });
    const expected = (f: string) => { const o = alone.compileFile(f, 0.25); return [Buffer.from(o.x.buffer), Buffer.from(o.y.buffer)]; };
    const kernel = new Kernel(setup.icosphere, { build: "debug" });
    let memoryBytes = 0;
    const runIn = (r: number, f: string) => {
      kernel.useRegion(r);
      const o = kernel.run(kernel.loadFile(f, f), f, 0.25);
      memoryBytes = o.x.buffer.byteLength;
      return () => [Buffer.from(o.x.buffer, o.x.byteOffset, o.x.byteLength), Buffer.from(o.y.buffer, o.y.byteOffset, o.y.byteLength)];
    };
    const first = runIn(0, s0);
    const second = runIn(1, s1);
    const grown = runIn(0, b0); // region 0 has region 1 above it: it moves to the top
    expect(second()).toEqual(expected(s1));
    expect(grown()).toEqual(expected(b0));
    const grownMemory = memoryBytes;
    const third = runIn(2, s0); // a new region, in the room region 0 left
    expect(memoryBytes).toBe(grownMemory);
    const grownToo = runIn(1, b1); // region 1 cannot grow in place either
    expect(grown()).toEqual(expected(b0));
    expect(third()).toEqual(expected(s0));
    expect(grownToo()).toEqual(expected(b1));
    expect(first).toBeTypeOf("function");
    expect(() => kernel.useRegion(4)).toThrow(/no kernel region 4/);
  }, 60_000);
});

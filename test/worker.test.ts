// The compile worker's hand-over: rows stay in the memory of the kernel instance that computed
// them until the main thread releases them, and only then is that instance used again.

import { describe, it, expect, beforeAll } from "vitest";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import compileFileTask, { releaseRows, type KernelSetup, type RowsMessage } from "../src/worker.js";
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
    const { port1, port2 } = new MessageChannel();
    const result = compileFileTask({ path, label: path, id, options: {}, port: port2, setup });
    expect(result.ok).toBe(true);
    const message = receiveMessageOnPort(port1)?.message as RowsMessage;
    port1.close();
    return message;
  };
  const rowsOf = (m: RowsMessage) => Buffer.concat([
    Buffer.from(new Uint8Array(m.memory, m.xAt, m.xBytes)), Buffer.from(new Uint8Array(m.memory, m.yAt, m.yBytes)),
  ]);

  it("rotates through its instances and reuses one only once its rows are released", () => {
    const alone = new Kernel(setup.icosphere, { build: "debug" });
    const expected = files.map((f, i) => {
      const out = alone.compileFile(f, i / 8);
      return Buffer.concat([Buffer.from(out.x.buffer), Buffer.from(out.y.buffer)]);
    });
    const held = [0, 1, 2].map((i) => compileOne(files[i], i / 8));
    expect(held.map((m) => m.instance).sort()).toEqual([0, 1, 2]);
    for (const m of held) expect(Atomics.load(m.held, m.instance)).toBe(1);
    // The third file's instance is released: the fourth file goes there, the others' rows stay.
    releaseRows(held[2]);
    expect(Atomics.load(held[2].held, held[2].instance)).toBe(0);
    const fourth = compileOne(files[3], 3 / 8);
    expect(fourth.instance).toBe(held[2].instance);
    expect(rowsOf(held[0]).equals(expected[0])).toBe(true);
    expect(rowsOf(held[1]).equals(expected[1])).toBe(true);
    expect(rowsOf(fourth).equals(expected[3])).toBe(true);
    releaseRows(held[0]);
    const fifth = compileOne(files[4], 4 / 8);
    expect(fifth.instance).toBe(held[0].instance);
    expect(rowsOf(fifth).equals(expected[4])).toBe(true);
    expect(rowsOf(held[1]).equals(expected[1])).toBe(true);
    for (const m of [held[1], fourth, fifth]) releaseRows(m);
  });
});

// The on-disk cache of the icosphere and its cube map: used when valid, never when damaged or
// keyed to another icosphere. What it stores and how is its own business: these tests watch what
// it gives back and whether it had to build the cube map (buildSpatialHash, counted).

import { describe, it, expect, beforeEach, vi } from "vitest";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSetup, setCacheDir, type Setup } from "../src/setup-cache.js";
import { generateIcosphere, loadIcosphere } from "../src/icosphere.js";
import { buildSpatialHash, kernelCells } from "../src/spatial-hash.js";
import { BLENDER_SHA256, BLENDER_TABLE } from "./reference.js";
import { bytesOf } from "./bytes.js";

// The real builder, counted: a cache hit builds nothing.
vi.mock("../src/spatial-hash.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../src/spatial-hash.js")>();
  return { ...real, buildSpatialHash: vi.fn(real.buildSpatialHash) };
});
const builds = () => vi.mocked(buildSpatialHash).mock.calls.length;

const same = (a: ArrayBufferView, b: ArrayBufferView) => bytesOf(a).equals(bytesOf(b));

/** Expects `s` to be exactly what building from scratch gives for this table. */
function expectBuiltFrom(s: Setup, table: Float32Array): void {
  const hash = vi.mocked(buildSpatialHash).getMockImplementation()!(table);
  const cells = kernelCells(hash, table.length / 3);
  expect(same(s.icosphere.vertices, table)).toBe(true);
  expect(s.icosphere.count).toBe(table.length / 3);
  expect(s.hash.grid).toBe(hash.grid);
  expect(same(s.hash.cellStart, hash.cellStart)).toBe(true);
  expect(same(s.hash.candidates, hash.candidates)).toBe(true);
  expect(s.cells.wide).toBe(cells.wide);
  expect(same(s.cells.cells, cells.cells)).toBe(true);
  expect(same(s.cells.candidates, cells.candidates)).toBe(true);
}

describe("icosphere and cube map cache", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "headsnet-cache-"));
    setCacheDir(dir);
    vi.mocked(buildSpatialHash).mockClear();
  });

  it("builds once, then gives back the same icosphere and cube map without building", () => {
    const table = generateIcosphere(3).vertices;
    const first = loadSetup(3);
    expect(builds()).toBe(1);
    expectBuiltFrom(first, table);
    for (const spec of [3, "3"]) {
      const again = loadSetup(spec);
      expectBuiltFrom(again, table);
      expect(again.icosphere.sha256).toBe(first.icosphere.sha256);
      expect(again.icosphere.source).toBe("level 3");
    }
    expect(builds()).toBe(1);
    // Another level is another icosphere: built, and then cached too.
    expectBuiltFrom(loadSetup(2), generateIcosphere(2).vertices);
    expect(builds()).toBe(2);
    loadSetup(2);
    loadSetup(3);
    expect(builds()).toBe(2);
  });

  it("keys a table by its contents: the built-in blender table and the same file share an entry; a file that changes is not served its old map", () => {
    const builtin = loadSetup("blender");
    expect(builtin.icosphere.sha256).toBe(BLENDER_SHA256);
    expect(builtin.icosphere.source).toBe("blender");
    expectBuiltFrom(builtin, loadIcosphere(BLENDER_TABLE).vertices);
    expect(builds()).toBe(1);
    const alias = loadSetup("reference");
    const file = loadSetup(BLENDER_TABLE);
    expect(builds()).toBe(1);
    expect(alias.icosphere.source).toBe("blender");
    expect(file.icosphere.source).toBe(BLENDER_TABLE);
    expectBuiltFrom(file, builtin.icosphere.vertices);

    // The same path, other contents: the new table's map, never the old one's.
    const path = join(mkdtempSync(join(tmpdir(), "headsnet-table-")), "table.f32");
    writeFileSync(path, bytesOf(generateIcosphere(1).vertices));
    expectBuiltFrom(loadSetup(path), generateIcosphere(1).vertices);
    writeFileSync(path, bytesOf(generateIcosphere(2).vertices));
    expectBuiltFrom(loadSetup(path), generateIcosphere(2).vertices);
    // The level those contents came from, keyed by its number, is its own entry and right too.
    expectBuiltFrom(loadSetup(2), generateIcosphere(2).vertices);
  });

  it("rebuilds, and gives the right map, when the cached file is damaged, cut short or replaced", () => {
    const table = generateIcosphere(2).vertices;
    loadSetup(2);
    expect(builds()).toBe(1);
    const [name] = readdirSync(dir);
    const file = join(dir, name);
    const good = readFileSync(file);
    const damages: [string, () => void][] = [
      ["a byte flipped near the end", () => { const b = Buffer.from(good); b[b.length - 5] ^= 0x10; writeFileSync(file, b); }],
      ["a byte flipped in the middle", () => { const b = Buffer.from(good); b[b.length >> 1] ^= 0x01; writeFileSync(file, b); }],
      ["a byte flipped at the start", () => { const b = Buffer.from(good); b[0] ^= 0x20; writeFileSync(file, b); }],
      ["cut short", () => { writeFileSync(file, good); truncateSync(file, good.length - 100); }],
      ["empty", () => writeFileSync(file, "")],
      ["not a cache file", () => writeFileSync(file, "not a cache file")],
    ];
    let expected = 1;
    for (const [what, damage] of damages) {
      damage();
      const s = loadSetup(2);
      expect(builds(), what).toBe(++expected);
      expectBuiltFrom(s, table);
      // The rebuilt entry is good again: read back, not built.
      expectBuiltFrom(loadSetup(2), table);
      expect(builds(), what).toBe(expected);
    }
  });

  it("works without a writable cache directory", () => {
    // A directory that cannot exist: its parent is a file.
    writeFileSync(join(dir, "file"), "");
    setCacheDir(join(dir, "file", "cache"));
    const s = loadSetup(1);
    expect(s.icosphere.count).toBe(42);
    expectBuiltFrom(s, generateIcosphere(1).vertices);
    expectBuiltFrom(loadSetup(1), generateIcosphere(1).vertices);
    expect(builds()).toBe(2);
  });
});

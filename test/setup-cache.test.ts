// The on-disk cache of the icosphere and its cube map: used when valid, never when damaged or
// keyed to another icosphere.

import { describe, it, expect, beforeEach } from "vitest";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { loadSetup, setCacheDir } from "../src/setup-cache.js";
import { generateIcosphere, loadIcosphere } from "../src/icosphere.js";
import { buildSpatialHash, kernelCells } from "../src/spatial-hash.js";
import { BLENDER_ICOSPHERE } from "./paths.js";

const same = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe("icosphere and cube map cache", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "headsnet-cache-"));
    setCacheDir(dir);
  });

  it("stores what it builds and gives back the same icosphere and lists", () => {
    const built = { icosphere: generateIcosphere(3), hash: buildSpatialHash(generateIcosphere(3).vertices) };
    const first = loadSetup(3);
    expect(readdirSync(dir)).toHaveLength(1);
    const second = loadSetup("3");
    for (const s of [first, second]) {
      expect(s.icosphere.sha256).toBe(built.icosphere.sha256);
      expect(same(s.icosphere.vertices, built.icosphere.vertices)).toBe(true);
      expect(same(s.hash.cellStart, built.hash.cellStart)).toBe(true);
      expect(same(s.hash.candidates, built.hash.candidates)).toBe(true);
      // The kernel's records too, as the workers would build them.
      const cells = kernelCells(built.hash, built.icosphere.count);
      expect(s.cells.wide).toBe(false);
      expect(s.cells.cells.constructor).toBe(Uint16Array);
      expect(same(s.cells.cells, cells.cells)).toBe(true);
      expect(same(s.cells.candidates, cells.candidates)).toBe(true);
    }
    // A table file is keyed by its contents, apart from every level.
    const table = loadSetup(BLENDER_ICOSPHERE);
    expect(table.icosphere.sha256).toBe(loadIcosphere(BLENDER_ICOSPHERE).sha256);
    expect(table.icosphere.source).toBe(BLENDER_ICOSPHERE);
    expect(readdirSync(dir)).toHaveLength(2);
  });

  it("reads the cache when it is valid (a doctored but well-formed file is believed) and rebuilds when it is damaged", () => {
    const fresh = loadSetup(2);
    const file = join(dir, readdirSync(dir)[0]);
    const bytes = readFileSync(file);
    const newline = bytes.indexOf(10);
    const header = JSON.parse(bytes.subarray(0, newline).toString());
    const body = Buffer.from(bytes.subarray(newline + 1));
    // Change one candidate and fix the checksum: the cache is used, so the change shows.
    const candidatesAt = header.sizes[0] + header.sizes[1];
    body.writeUInt16LE(body.readUInt16LE(candidatesAt) ^ 1, candidatesAt);
    header.body = createHash("sha256").update(body).digest("hex");
    writeFileSync(file, Buffer.concat([Buffer.from(JSON.stringify(header) + "\n"), body]));
    expect(loadSetup(2).hash.candidates[0]).toBe(fresh.hash.candidates[0] ^ 1);
    // Damage without fixing the checksum: rebuilt, correct again.
    body.writeUInt16LE(body.readUInt16LE(candidatesAt) ^ 1 ^ 2, candidatesAt);
    writeFileSync(file, Buffer.concat([Buffer.from(JSON.stringify(header) + "\n"), body]));
    expect(same(loadSetup(2).hash.candidates, fresh.hash.candidates)).toBe(true);
    writeFileSync(file, "not a cache file");
    expect(same(loadSetup(2).hash.candidates, fresh.hash.candidates)).toBe(true);
  });

  it("works without a writable cache directory", () => {
    // A directory that cannot exist: its parent is a file.
    writeFileSync(join(dir, "file"), "");
    setCacheDir(join(dir, "file", "cache"));
    const s = loadSetup(1);
    expect(s.icosphere.count).toBe(42);
    expect(same(s.hash.candidates, buildSpatialHash(s.icosphere.vertices).candidates)).toBe(true);
  });
});

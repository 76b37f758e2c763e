// FaceNet voxels: every byte as a plain TypeScript rendering of the formula computes it, empty
// voxels 0, one model never leaking into the next; and the front view that goes with them.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { MeshKernel } from "../src/mesh/kernel.js";
import { compileMeshTarget } from "../src/mesh/targets.js";
import { synthHead } from "../src/synth.js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromSynth, toPly, toObj, sphere, type TestMesh } from "./mesh-fixtures.js";

/** Generous: real work runs here, and the machine may be busy. */
const TIMEOUT = 180_000;
vi.setConfig({ testTimeout: TIMEOUT, hookTimeout: TIMEOUT });

const f = Math.fround;

/** C's roundf: halves away from zero. */
function roundf(x: number): number {
  const t = Math.trunc(x);
  return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
}

/**
 * The formula, step by step in float32: lax, the scale, each coordinate's cell, the colour value,
 * the sums, the bytes. `colors255`: each channel on 0-255 as the kernel should see it.
 */
function voxelsReference(positions: Float32Array, colors255: ArrayLike<number>, grid: number, occupancy = false): Uint8Array {
  const n = positions.length / 3;
  let lax = 0;
  for (let i = 0; i < positions.length; i++) lax = Math.max(lax, Math.abs(positions[i]));
  const scale = lax > 0 ? f(1 / f(lax)) : 0;
  const last = f(grid - 1);
  const sums = new Float32Array(grid ** 3), counts = new Uint32Array(grid ** 3);
  // The cell as a saturating conversion to an integer, then clamped: NaN is 0, infinities the ends.
  const cell = (v: number) => {
    const r = roundf(f(f(f(f(v * scale) + 1) * 0.5) * last));
    return Number.isNaN(r) ? 0 : Math.min(grid - 1, Math.max(0, r));
  };
  for (let i = 0; i < n; i++) {
    const x = cell(positions[3 * i]), y = cell(positions[3 * i + 1]), z = cell(positions[3 * i + 2]);
    const k = z * grid * grid + y * grid + x;
    const value = f(f(f(f(colors255[3 * i]) + f(colors255[3 * i + 1])) + f(colors255[3 * i + 2])) / 765);
    sums[k] = f(sums[k] + value);
    counts[k]++;
  }
  const out = new Uint8Array(grid ** 3);
  for (let k = 0; k < out.length; k++) {
    if (counts[k] === 0) continue;
    out[k] = occupancy ? 255 : Math.min(255, roundf(f(f(sums[k] / counts[k]) * 255)));
  }
  return out;
}

const buf = (a: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe("voxels", () => {
  let kernel: MeshKernel;
  let heads: TestMesh[];
  beforeAll(() => {
    kernel = new MeshKernel({ build: "debug" });
    heads = [1, 2, 3].map((seed) => fromSynth(synthHead({ vertices: 30000, seed })));
  });

  it("equal the formula byte for byte on synthesized heads (grids 32, 31, 64; colour and occupancy)", () => {
    for (const [k, head] of heads.entries()) {
      kernel.loadBytes(toPly(head), `head${k}.ply`);
      expect(kernel.info.colorBytes).toBe(true);
      for (const grid of [32, 31, 64]) {
        const { voxels, occupied } = kernel.voxelize({ grid });
        const expected = voxelsReference(head.positions, head.colors, grid);
        expect(buf(voxels).equals(buf(expected))).toBe(true);
        const occ = kernel.voxelize({ grid, value: "occupancy" });
        expect(buf(occ.voxels).equals(buf(voxelsReference(head.positions, head.colors, grid, true)))).toBe(true);
        expect(occ.occupied).toBe(occupied);
        expect(occupied).toBe(expected.reduce((s, _, i) => s + (occ.voxels[i] ? 1 : 0), 0));
      }
    }
  }, TIMEOUT);

  it("float colours (an OBJ's 0-1) count as colour × 255", () => {
    const head = heads[0];
    kernel.loadBytes(Buffer.from(toObj(head)), "head.obj");
    expect(kernel.info.colorBytes).toBe(false);
    const scale = f(0.003921569);
    const colors255 = Float32Array.from(head.colors, (c) => f(f(c * scale) * 255));
    expect(buf(kernel.voxelize().voxels).equals(buf(voxelsReference(head.positions, colors255, 32)))).toBe(true);
  }, TIMEOUT);

  it("empty voxels are 0 (not NaN), and a coordinate at a cell's half rounds away from zero", () => {
    // Four vertices: at the origin (x' = 0.5 on a grid of 2: roundf gives 1, nearest-even 0)
    // and at three corners.
    const mesh: TestMesh = {
      positions: Float32Array.from([0, 0, 0, 1, -1, -1, -1, 1, -1, -1, -1, 1]),
      colors: Uint8Array.from([30, 60, 90, 255, 255, 255, 0, 0, 0, 10, 20, 30]),
      triangles: Uint32Array.from([0, 1, 2, 0, 2, 3, 0, 3, 1, 1, 3, 2]),
    };
    kernel.loadBytes(toPly(mesh), "four.ply");
    const two = kernel.voxelize({ grid: 2 }).voxels;
    expect(Array.from(two)).toEqual(Array.from(voxelsReference(mesh.positions, mesh.colors, 2)));
    // The origin lands in voxel (1, 1, 1): index 7, value (30+60+90)/765·255 = 60.
    expect(two[7]).toBe(60);
    const { voxels, occupied } = kernel.voxelize({ grid: 32 });
    expect(occupied).toBe(4);
    expect(voxels.reduce((s, v) => s + (v === 0 ? 1 : 0), 0)).toBeGreaterThanOrEqual(32 ** 3 - 4);
    expect(buf(voxels).equals(buf(voxelsReference(mesh.positions, mesh.colors, 32)))).toBe(true);
  }, TIMEOUT);

  it("coordinates so small that 1 / lax overflows: 0 · ∞ (NaN) lands in cell 0, ±∞ at the ends", () => {
    // lax = 1e-39 (subnormal): the scale is +∞ in float32, so x' is NaN for a 0 and ±∞ otherwise.
    const t = 1e-39;
    const mesh: TestMesh = {
      positions: Float32Array.from([0, 0, 0, t, -t, -t, -t, t, -t, -t, -t, t]),
      colors: Uint8Array.from([30, 60, 90, 255, 255, 255, 0, 0, 0, 10, 20, 30]),
      triangles: Uint32Array.from([0, 1, 2, 0, 2, 3, 0, 3, 1, 1, 3, 2]),
    };
    expect(f(1 / f(t))).toBe(Infinity);
    kernel.loadBytes(toPly(mesh), "tiny.ply");
    for (const grid of [2, 32]) {
      const { voxels, occupied } = kernel.voxelize({ grid });
      expect(occupied).toBe(4);
      expect(buf(voxels).equals(buf(voxelsReference(mesh.positions, mesh.colors, grid)))).toBe(true);
      // The origin's voxel is (0, 0, 0); (t, -t, -t) is (G - 1, 0, 0).
      expect(voxels[0]).toBe(60);
      expect(voxels[grid - 1]).toBe(255);
    }
  }, TIMEOUT);

  it("two models do not leak into each other: sums start from zero each time", () => {
    const [a, b] = heads;
    kernel.loadBytes(toPly(a), "a.ply");
    const first = kernel.voxelize().voxels;
    kernel.loadBytes(toPly(b), "b.ply");
    const second = kernel.voxelize().voxels;
    kernel.loadBytes(toPly(a), "a.ply");
    const again = kernel.voxelize().voxels;
    expect(buf(again).equals(buf(first))).toBe(true);
    const fresh = new MeshKernel({ build: "debug" });
    fresh.loadBytes(toPly(b), "b.ply");
    expect(buf(fresh.voxelize().voxels).equals(buf(second))).toBe(true);
    expect(buf(second).equals(buf(voxelsReference(b.positions, b.colors, 32)))).toBe(true);
  }, TIMEOUT);

  it("a file without colours needs a default colour for colour voxels, not for occupancy", () => {
    const mesh = sphere(2);
    // The OBJ without its colour columns.
    const obj = toObj(mesh).split("\n").map((l) => (l.startsWith("v ") ? l.split(" ").slice(0, 4).join(" ") : l)).join("\n");
    kernel.loadBytes(Buffer.from(obj), "plain.obj");
    expect(kernel.info.hasColors).toBe(false);
    expect(() => kernel.voxelize()).toThrow(/plain\.obj: the mesh has no vertex colours.*default colour/);
    expect(kernel.voxelize({ value: "occupancy" }).occupied).toBeGreaterThan(0);
    kernel.loadBytes(Buffer.from(obj), "plain.obj", { defaultColor: [1, 0.5, 0] });
    const colors255 = new Float32Array(mesh.positions.length).map((_, i) => f([1, 0.5, 0][i % 3] * 255));
    expect(buf(kernel.voxelize().voxels).equals(buf(voxelsReference(mesh.positions, colors255, 32)))).toBe(true);
  }, TIMEOUT);

  it("equal the formula on random small meshes: every vertex count from 1 to 13 and odd larger ones, each layout, coordinates from 1e-42 to 3e38", () => {
    // The kernel takes vertices four at a time with a one-at-a-time tail, and finds the box while
    // decoding the exporters' layout (normals beside the colours) or in a pass of its own
    // (otherwise): every count modulo 4, both ways, against the formula.
    let seed = 7;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const counts = [...Array.from({ length: 13 }, (_, i) => i + 1), 29, 102, 257];
    let checked = 0;
    for (const n of counts) {
      for (const scale of [1, 1e-3, 1e-42, 3e38]) {
        // Zeros of both signs and the largest coordinate repeated, beside random ones.
        const pick = () => { const r = random(); return r < 0.1 ? 0 : r < 0.15 ? -0 : r < 0.2 ? -scale : (random() * 2 - 1) * scale; };
        const positions = Float32Array.from({ length: 3 * n }, pick);
        const colors = Uint8Array.from({ length: 3 * n }, () => Math.floor(random() * 256));
        const normals = Float32Array.from({ length: 3 * n }, () => random() * 2 - 1);
        const triangles = Uint32Array.from([0, Math.min(1, n - 1), Math.min(2, n - 1)]);
        const mesh: TestMesh = { positions, colors, normals, triangles };
        for (const options of [{ normals: true }, { normals: false }, { format: "ascii" as const, normals: true }]) {
          kernel.loadBytes(toPly(mesh, options), `random${n}.ply`);
          for (const grid of [2, 5, 32]) {
            const expected = voxelsReference(positions, colors, grid);
            expect(buf(kernel.voxelize({ grid }).voxels).equals(buf(expected)), `${n} vertices, scale ${scale}, ${JSON.stringify(options)}, grid ${grid}`).toBe(true);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(counts.length * 4 * 3 * 3);
  }, TIMEOUT);

  it("compileMeshTarget: voxels as y, the grayscale front view as x", () => {
    const dir = mkdtempSync(join(tmpdir(), "headsnet-voxels-"));
    const path = join(dir, "head.ply");
    writeFileSync(path, toPly(heads[1]));
    const r = compileMeshTarget(path, "voxels", { build: "debug" });
    expect(r.yShape).toEqual([32, 32, 32]);
    expect(r.yType).toBe("uint8");
    expect(buf(r.y).equals(buf(voxelsReference(heads[1].positions, heads[1].colors, 32)))).toBe(true);
    expect(r.xShape).toEqual([32, 32]);
    expect(r.x.length).toBe(32 * 32);
    // The head fills the middle of the picture; the corners are background (0).
    const at = (x: number, y: number) => r.x[y * 32 + x];
    expect(at(0, 0)).toBe(0);
    expect(at(31, 31)).toBe(0);
    expect(at(16, 16)).toBeGreaterThan(20);
    const lit = r.x.reduce((s, v) => s + (v > 0 ? 1 : 0), 0);
    expect(lit).toBeGreaterThan(200);
    expect(lit).toBeLessThan(1000);
    const sized = compileMeshTarget(path, "voxels", { build: "debug", grid: 16, imageSize: 24 });
    expect(sized.y.length).toBe(16 ** 3);
    expect(sized.xShape).toEqual([24, 24]);
  }, TIMEOUT);
});

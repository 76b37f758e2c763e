// Occupancy samples: the inside test against shapes whose inside is known exactly, a head with a
// hole punched in it, and the weights' volume estimate.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { MeshKernel, sampleSeed } from "../src/mesh/kernel.js";
import { compileMeshTarget } from "../src/mesh/targets.js";
import { iou, occupancyColumns } from "../src/mesh/metrics.js";
import { synthHead } from "../src/synth.js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sphere, cube, fromSynth, punchHole, meshVolume, toPly, type TestMesh } from "./mesh-fixtures.js";

/** Generous: real work runs here, and the machine may be busy. */
const TIMEOUT = 180_000;
vi.setConfig({ testTimeout: TIMEOUT, hookTimeout: TIMEOUT });

const buf = (a: Float32Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Share of the points farther than `gap` from the surface whose label matches `truth`. */
function agreement(points: Float32Array, labels: Uint8Array, truth: (x: number, y: number, z: number) => { inside: boolean; distance: number }, gap: number) {
  let judged = 0, right = 0;
  for (let i = 0; i < labels.length; i++) {
    const t = truth(points[3 * i], points[3 * i + 1], points[3 * i + 2]);
    if (t.distance <= gap) continue;
    judged++;
    if ((labels[i] === 1) === t.inside) right++;
  }
  return { judged, right, share: right / judged };
}

/** Points: the occupancy samples plus a lattice that hits axis-aligned edges, faces and vertices. */
function probePoints(kernel: MeshKernel, n: number, lattice: number, lo: number, hi: number): Float32Array {
  const { points } = occupancyColumns(kernel.sampleOccupancy(n, { seed: [9, 9], sigma: 0.02 }).rows);
  const grid: number[] = [];
  for (let i = 0; i <= lattice; i++) for (let j = 0; j <= lattice; j++) for (let k = 0; k <= lattice; k++) {
    grid.push(lo + ((hi - lo) * i) / lattice, lo + ((hi - lo) * j) / lattice, lo + ((hi - lo) * k) / lattice);
  }
  const all = new Float32Array(points.length + grid.length);
  all.set(points);
  all.set(grid, points.length);
  return all;
}

describe("occupancy samples", () => {
  let kernel: MeshKernel;
  beforeAll(() => {
    kernel = new MeshKernel({ build: "debug" });
  });

  it("sphere: every label right away from the surface", () => {
    const r = 0.5;
    const mesh = sphere(5, r); // 20,480 triangles: within 2e-4 of the true sphere
    kernel.loadBytes(toPly(mesh), "sphere.ply");
    const points = probePoints(kernel, 100_000, 24, -0.6, 0.6);
    const labels = kernel.labelPoints(points);
    const result = agreement(points, labels, (x, y, z) => {
      const d = Math.hypot(x, y, z);
      return { inside: d < r, distance: Math.abs(d - r) };
    }, 1e-3);
    expect(result.judged).toBeGreaterThan(90_000);
    expect(result.share).toBeGreaterThanOrEqual(0.999);
    expect(result.right).toBe(result.judged); // in practice: all of them
  }, TIMEOUT);

  for (const n of [1, 8]) {
    it(`cube of ${12 * n * n} triangles: every label right away from the surface, lattice points on its edges and diagonals included`, () => {
      const mesh = cube(n);
      kernel.loadBytes(toPly(mesh), "cube.ply");
      // The lattice puts points on the planes, lines and diagonals of the cube's own triangles.
      const points = probePoints(kernel, 100_000, 32, -0.75, 0.75);
      const labels = kernel.labelPoints(points);
      const result = agreement(points, labels, (x, y, z) => {
        const m = Math.max(Math.abs(x), Math.abs(y), Math.abs(z));
        return { inside: m < 0.5, distance: Math.abs(m - 0.5) };
      }, 1e-3);
      expect(result.judged).toBeGreaterThan(90_000);
      expect(result.right).toBe(result.judged);
    }, TIMEOUT);
  }

  it("two spheres, one inside the other: the shell between them is inside, the middle is not", () => {
    const outer = sphere(4, 0.5), inner = sphere(4, 0.25);
    const count = outer.positions.length / 3;
    // The inner sphere turned inside out (a cavity).
    const flipped = Uint32Array.from(inner.triangles, (v, i) => (i % 3 === 1 ? inner.triangles[i + 1] : i % 3 === 2 ? inner.triangles[i - 1] : v) + count);
    const mesh: TestMesh = {
      positions: Float32Array.from([...outer.positions, ...inner.positions]),
      colors: Uint8Array.from([...outer.colors, ...inner.colors]),
      triangles: Uint32Array.from([...outer.triangles, ...flipped]),
    };
    kernel.loadBytes(toPly(mesh), "shell.ply");
    const points = probePoints(kernel, 50_000, 16, -0.6, 0.6);
    const labels = kernel.labelPoints(points);
    const result = agreement(points, labels, (x, y, z) => {
      const d = Math.hypot(x, y, z);
      return { inside: d < 0.5 && d > 0.25, distance: Math.min(Math.abs(d - 0.5), Math.abs(d - 0.25)) };
    }, 2e-3);
    expect(result.share).toBeGreaterThanOrEqual(0.999);
  }, TIMEOUT);

  it("a head with a hole punched in it (or an open neck) stays sensible: at least 99% of labels agree with the whole head's", () => {
    const head = fromSynth(synthHead({ vertices: 20000, seed: 11 }));
    kernel.loadBytes(toPly(head), "head.ply");
    const { rows } = kernel.sampleOccupancy(100_000, { seed: [4, 2] });
    const { points, inside } = occupancyColumns(rows);
    // A hole on the cheek: the triangles within 0.04 of a vertex (about 2% of the head's width).
    const v = 3 * 5000;
    const holed = punchHole(head, [head.positions[v], head.positions[v + 1], head.positions[v + 2]], 0.04);
    const removed = (head.triangles.length - holed.triangles.length) / 3;
    expect(removed).toBeGreaterThan(20);
    kernel.loadBytes(toPly(holed), "holed.ply");
    const labels = kernel.labelPoints(points);
    let same = 0;
    for (let i = 0; i < labels.length; i++) if (labels[i] === inside[i]) same++;
    expect(same / labels.length).toBeGreaterThanOrEqual(0.99);
    // A bigger hole (0.1) still mostly agrees.
    kernel.loadBytes(toPly(punchHole(head, [head.positions[v], head.positions[v + 1], head.positions[v + 2]], 0.1)), "big-hole.ply");
    const big = kernel.labelPoints(points);
    same = 0;
    for (let i = 0; i < big.length; i++) if (big[i] === inside[i]) same++;
    expect(same / big.length).toBeGreaterThanOrEqual(0.97);
    // An open neck, as scanned heads often have: the flat cap under the neck removed.
    let minZ = Infinity;
    for (let i = 2; i < head.positions.length; i += 3) minZ = Math.min(minZ, head.positions[i]);
    const keep: number[] = [];
    for (let t = 0; t < head.triangles.length; t += 3) {
      if (![0, 1, 2].every((c) => head.positions[3 * head.triangles[t + c] + 2] < minZ + 0.001)) keep.push(head.triangles[t], head.triangles[t + 1], head.triangles[t + 2]);
    }
    expect(head.triangles.length / 3 - keep.length / 3).toBeGreaterThan(50);
    kernel.loadBytes(toPly({ ...head, triangles: Uint32Array.from(keep) }), "open-neck.ply");
    const open = kernel.labelPoints(points);
    same = 0;
    for (let i = 0; i < open.length; i++) if (open[i] === inside[i]) same++;
    expect(same / open.length).toBeGreaterThanOrEqual(0.995);
  }, TIMEOUT);

  it("weights: the weighted sum of inside estimates the volume (unit cube within 2% of 1, sphere within 2%)", () => {
    const estimate = (mesh: TestMesh, name: string, seed: number) => {
      kernel.loadBytes(toPly(mesh), name);
      const n = 200_000;
      const { rows, uniform } = kernel.sampleOccupancy(n, { seed: [seed, 0] });
      let sum = 0, zeroWeights = 0;
      for (let i = 0; i < n; i++) {
        sum += rows[5 * i + 3] * rows[5 * i + 4];
        if (rows[5 * i + 4] === 0) zeroWeights++;
      }
      expect(uniform).toBe(n / 2);
      expect(zeroWeights).toBe(n - uniform); // near-surface samples weigh nothing
      return sum;
    };
    const unit = cube(4, -0.5, 0.5);
    expect(meshVolume(unit)).toBeCloseTo(1, 6);
    expect(Math.abs(estimate(unit, "cube.ply", 1) - 1)).toBeLessThan(0.02);
    const ball = sphere(4, 0.5);
    const exact = meshVolume(ball);
    expect(Math.abs(estimate(ball, "sphere.ply", 2) / exact - 1)).toBeLessThan(0.02);
    // Unbiased: over many seeds the mean is closer still (sd of the mean ~0.1%).
    let mean = 0;
    for (let s = 0; s < 10; s++) mean += estimate(unit, "cube.ply", 100 + s) / 10;
    expect(Math.abs(mean - 1)).toBeLessThan(0.006);
  }, TIMEOUT);

  it("samples: half uniform in the grown box, half near the surface, about half of those inside", () => {
    const head = fromSynth(synthHead({ vertices: 20000, seed: 12 }));
    kernel.loadBytes(toPly(head), "head.ply");
    const n = 100_000;
    const { rows, inside, uniform } = kernel.sampleOccupancy(n, { seed: [1, 2], margin: 0.1, sigma: 0.01 });
    const min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
    for (let i = 0; i < head.positions.length; i++) {
      min[i % 3] = Math.min(min[i % 3], head.positions[i]);
      max[i % 3] = Math.max(max[i % 3], head.positions[i]);
    }
    const side = Math.max(...[0, 1, 2].map((k) => max[k] - min[k]));
    let nearInside = 0, near = 0, counted = 0, outOfBox = 0, misplaced = 0;
    for (let i = 0; i < n; i++) {
      const w = rows[5 * i + 4];
      counted += rows[5 * i + 3];
      if (w > 0) {
        for (let k = 0; k < 3; k++) {
          const v = rows[5 * i + k];
          if (v < Math.fround(min[k] - 0.1 * side) - 1e-6 || v > Math.fround(max[k] + 0.1 * side) + 1e-6) outOfBox++;
        }
      } else {
        near++;
        nearInside += rows[5 * i + 3];
      }
      // Uniform and near samples alternate (an even split spreads them evenly through the rows).
      if ((w > 0) !== (i % 2 === 1)) misplaced++;
    }
    expect(outOfBox).toBe(0);
    expect(misplaced).toBe(0);
    expect(counted).toBe(inside);
    expect(near).toBe(n - uniform);
    expect(nearInside / near).toBeGreaterThan(0.4);
    expect(nearInside / near).toBeLessThan(0.6);
    // Noise along the normal: also about half inside.
    const along = kernel.sampleOccupancy(20_000, { seed: [1, 2], noise: "normal", uniformFraction: 0 });
    expect(along.inside / 20_000).toBeGreaterThan(0.4);
    expect(along.inside / 20_000).toBeLessThan(0.6);
  }, TIMEOUT);

  it("are a pure function of (seed, key), and IoU of a mesh's labels with themselves is 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "headsnet-occupancy-"));
    const path = join(dir, "head.ply");
    writeFileSync(path, toPly(fromSynth(synthHead({ vertices: 5000, seed: 13 }))));
    const options = { build: "debug" as const, samples: 20_000, key: "head.ply" };
    const a = compileMeshTarget(path, "occupancy", options);
    const b = compileMeshTarget(path, "occupancy", options);
    expect(buf(a.y).equals(buf(b.y))).toBe(true);
    expect(a.yShape).toEqual([20_000, 5]);
    expect(a.x.length).toBe(0);
    const rows = new Float32Array(a.y.buffer, a.y.byteOffset, a.y.byteLength / 4);
    const { inside, weight } = occupancyColumns(rows);
    expect(iou(inside, inside, weight)).toBe(1);
    expect(sampleSeed(0, "head.ply", "occupancy")).not.toEqual(sampleSeed(0, "head.ply", "surface"));
  }, TIMEOUT);
});

// Metrics with known answers: identical sets, concentric spheres, a cube against itself shifted,
// the nearest neighbours against brute force, IoU.

import { describe, it, expect, vi } from "vitest";
import { compareClouds, nearest, iou, surfacePointSet } from "../src/mesh/metrics.js";
import { MeshKernel } from "../src/mesh/kernel.js";
import { fibonacciSphere, cube, toPly } from "./mesh-fixtures.js";

/** Generous: real work runs here, and the machine may be busy. */
const TIMEOUT = 180_000;
vi.setConfig({ testTimeout: TIMEOUT, hookTimeout: TIMEOUT });

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Distance from p to the surface of the axis-aligned box [lo, hi]³. */
function boxDistance(p: number[], lo: number[], hi: number[]): number {
  const outside = [0, 1, 2].map((k) => Math.max(lo[k] - p[k], 0, p[k] - hi[k]));
  const out = Math.hypot(outside[0], outside[1], outside[2]);
  if (out > 0) return out;
  return Math.min(...[0, 1, 2].map((k) => Math.min(p[k] - lo[k], hi[k] - p[k])));
}

describe("metrics", () => {
  const kernel = new MeshKernel({ build: "debug" });

  it("identical sets: Chamfer 0, F-score 1, normal consistency 1", () => {
    const s = fibonacciSphere(5000, 0.5);
    const m = compareClouds(s, s, { thresholds: [0.001, 0.01], kernel });
    expect(m.chamferL1).toBe(0);
    expect(m.chamferL2).toBe(0);
    expect(m.fscore.map((x) => x.f)).toEqual([1, 1]);
    expect(m.normalConsistency).toBeCloseTo(1, 6);
  }, TIMEOUT);

  it("concentric spheres of radii r1 and r2: Chamfer-L1 ≈ |r1 - r2|, Chamfer-L2 ≈ (r1 - r2)²", () => {
    const a = fibonacciSphere(100_000, 0.5), b = fibonacciSphere(100_000, 0.55);
    const m = compareClouds(a, b, { thresholds: [0.04, 0.06], kernel });
    expect(Math.abs(m.chamferL1 - 0.05) / 0.05).toBeLessThan(0.01);
    expect(Math.abs(m.chamferL2 - 0.0025) / 0.0025).toBeLessThan(0.02);
    expect(m.accuracy).toBeCloseTo(m.completeness, 3);
    // Every point is 0.05 (and a little more) from the other sphere.
    expect(m.fscore[0].f).toBe(0);
    expect(m.fscore[1].f).toBe(1);
    // Radial normals of concentric spheres agree.
    expect(m.normalConsistency).toBeGreaterThan(0.999);
  }, TIMEOUT);

  it("a cube against itself shifted: Chamfer matches the mean exact point-to-surface distance", () => {
    const k = new MeshKernel({ build: "debug" });
    k.loadBytes(toPly(cube(4)), "cube.ply");
    const n = 60_000;
    const ref = surfacePointSet(k.sampleSurface(n, { seed: [1, 0] }));
    const shift = [0.05, 0.02, 0];
    const pred = surfacePointSet(k.sampleSurface(n, { seed: [2, 0] }));
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) pred.points[3 * i + c] += shift[c];
    const m = compareClouds(pred, ref, { kernel });
    // Dense samples: each direction's mean nearest distance is the mean distance to the other
    // cube's surface, plus a little for the sample spacing (about 0.01 here).
    let acc = 0, comp = 0;
    for (let i = 0; i < n; i++) {
      const p = [pred.points[3 * i], pred.points[3 * i + 1], pred.points[3 * i + 2]];
      acc += boxDistance(p, [-0.5, -0.5, -0.5], [0.5, 0.5, 0.5]);
      const r = [ref.points[3 * i], ref.points[3 * i + 1], ref.points[3 * i + 2]];
      comp += boxDistance(r, [-0.5 + shift[0], -0.5 + shift[1], -0.5], [0.5 + shift[0], 0.5 + shift[1], 0.5]);
    }
    expect(Math.abs(m.accuracy - acc / n)).toBeLessThan(0.004);
    expect(Math.abs(m.completeness - comp / n)).toBeLessThan(0.004);
    expect(Math.abs(m.chamferL1 - (acc + comp) / (2 * n))).toBeLessThan(0.004);
    // Faces meet faces and normals line up, except in strips along the edges where a point's
    // nearest neighbour lies on the other cube's neighbouring face (about 7% here).
    expect(m.normalConsistency).toBeGreaterThan(0.9);
    expect(m.normalConsistency).toBeLessThan(0.97);
  }, TIMEOUT);

  it("nearest neighbours equal brute force", () => {
    const next = random(5);
    const ref = Float32Array.from({ length: 3 * 3000 }, () => next() * 2 - 1);
    // Queries: random, exact copies of reference points, and clusters.
    const queries = Float32Array.from({ length: 3 * 2000 }, (_, i) => (i < 1500 ? ref[i] : next() * 3 - 1.5));
    const { dist2, index } = nearest(ref, queries, kernel);
    for (let q = 0; q < 2000; q++) {
      let best = Infinity;
      for (let r = 0; r < 3000; r++) {
        const dx = ref[3 * r] - queries[3 * q], dy = ref[3 * r + 1] - queries[3 * q + 1], dz = ref[3 * r + 2] - queries[3 * q + 2];
        best = Math.min(best, dx * dx + dy * dy + dz * dz);
      }
      expect(dist2[q]).toBeCloseTo(best, 12);
      const i = index[q];
      const dx = ref[3 * i] - queries[3 * q], dy = ref[3 * i + 1] - queries[3 * q + 1], dz = ref[3 * i + 2] - queries[3 * q + 2];
      expect(dx * dx + dy * dy + dz * dz).toBeCloseTo(best, 12);
    }
  }, TIMEOUT);

  it("F-score: precision and recall from one-sided distances", () => {
    // P: 4 points on the reference, 1 far away. R: the 4 points and 4 more far from P.
    const near = [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];
    const p = Float32Array.from([...near, 5, 5, 5]);
    const r = Float32Array.from([...near, -5, 0, 0, 0, -5, 0, 0, 0, -5, -5, -5, -5]);
    const m = compareClouds({ points: p }, { points: r }, { thresholds: [0.1], kernel });
    expect(m.fscore[0].precision).toBeCloseTo(4 / 5, 12);
    expect(m.fscore[0].recall).toBeCloseTo(4 / 8, 12);
    expect(m.fscore[0].f).toBeCloseTo((2 * 0.8 * 0.5) / 1.3, 12);
    expect(m.normalConsistency).toBeUndefined();
  }, TIMEOUT);

  it("IoU: weighted, and NaN when nothing is inside", () => {
    expect(iou([1, 1, 0, 0], [1, 0, 1, 0])).toBeCloseTo(1 / 3, 12);
    expect(iou([1, 1, 0, 0], [1, 0, 1, 0], [2, 1, 1, 5])).toBeCloseTo(2 / 4, 12);
    expect(iou([1, 1, 0], [1, 1, 0], [0, 0, 1])).toBeNaN();
    expect(() => iou([1], [1, 0])).toThrow(/one length/);
  }, TIMEOUT);

  it("bad inputs are named", () => {
    expect(() => compareClouds({ points: new Float32Array(4) }, { points: new Float32Array(3) })).toThrow("metrics: the predicted set has 4 floats, not a multiple of 3 (x y z per point)");
    expect(() => compareClouds({ points: new Float32Array(0) }, { points: new Float32Array(3) })).toThrow("metrics: the predicted set has no points");
    expect(() => compareClouds({ points: new Float32Array(3) }, { points: Float32Array.from([0, NaN, 0]) })).toThrow("metrics: the reference set point 0 is not finite");
  }, TIMEOUT);
});

// Surface samples: on their triangles, area-weighted, uniform within a triangle, and a pure
// function of (seed, key): the same bytes on any thread, after any other file.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { Worker } from "node:worker_threads";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MeshKernel, sampleSeed } from "../src/mesh/kernel.js";
import { compileMeshTarget } from "../src/mesh/targets.js";
import { synthHead } from "../src/synth.js";
import { fromSynth, toPly, pointTriangleDistance, type TestMesh } from "./mesh-fixtures.js";

/** Generous: real work runs here, and the machine may be busy. */
const TIMEOUT = 180_000;
vi.setConfig({ testTimeout: TIMEOUT, hookTimeout: TIMEOUT });

const buf = (a: Float32Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const corner = (m: TestMesh, t: number, k: number) => {
  const v = 3 * m.triangles[3 * t + k];
  return [m.positions[v], m.positions[v + 1], m.positions[v + 2]];
};

describe("surface samples", () => {
  let kernel: MeshKernel;
  let head: TestMesh;
  beforeAll(() => {
    kernel = new MeshKernel({ build: "debug" });
    head = fromSynth(synthHead({ vertices: 800, seed: 7 }));
  });

  it("lie on their triangles, with the triangle's unit normal and a colour between its corners'", () => {
    kernel.loadBytes(toPly(head), "head.ply");
    const n = 20000;
    const tris = new Uint32Array(n);
    const rows = kernel.sampleSurface(n, { seed: sampleSeed(1, "head.ply", "surface") }, undefined, tris);
    const scale = Math.fround(0.003921569);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const t = tris[i];
      const a = corner(head, t, 0), b = corner(head, t, 1), c = corner(head, t, 2);
      const p = [rows[9 * i], rows[9 * i + 1], rows[9 * i + 2]];
      worst = Math.max(worst, pointTriangleDistance(p, a, b, c));
      const u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]], w = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
      const nrm = [u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]];
      const len = Math.hypot(nrm[0], nrm[1], nrm[2]);
      for (let k = 0; k < 3; k++) expect(Math.abs(rows[9 * i + 3 + k] - nrm[k] / len)).toBeLessThan(1e-6);
      for (let k = 0; k < 3; k++) {
        const cs = [0, 1, 2].map((j) => Math.fround(head.colors[3 * head.triangles[3 * t + j] + k] * scale));
        expect(rows[9 * i + 6 + k]).toBeGreaterThanOrEqual(Math.min(...cs) - 1e-6);
        expect(rows[9 * i + 6 + k]).toBeLessThanOrEqual(Math.max(...cs) + 1e-6);
      }
    }
    expect(worst).toBeLessThan(1e-6);
  }, TIMEOUT);

  it("pick triangles by area: areas 1 and 3 get a quarter and three quarters", () => {
    // Two disjoint right triangles in z = 0 and z = 1, legs sqrt(2) and sqrt(6).
    const s1 = Math.sqrt(2), s3 = Math.sqrt(6);
    const mesh: TestMesh = {
      positions: Float32Array.from([0, 0, 0, s1, 0, 0, 0, s1, 0, 0, 0, 1, s3, 0, 1, 0, s3, 1]),
      colors: new Uint8Array(18).fill(100),
      triangles: Uint32Array.from([0, 1, 2, 3, 4, 5]),
    };
    kernel.loadBytes(toPly(mesh), "two.ply");
    const areas = [0.5 * Math.fround(s1) ** 2, 0.5 * Math.fround(s3) ** 2];
    expect(kernel.area()).toBeCloseTo(areas[0] + areas[1], 5);
    const n = 200_000;
    const rows = kernel.sampleSurface(n, { seed: sampleSeed(0, "two", "surface") });
    let first = 0;
    for (let i = 0; i < n; i++) if (rows[9 * i + 2] === 0) first++;
    const p = areas[0] / (areas[0] + areas[1]);
    // Binomial: five standard deviations (about 0.005 here).
    expect(Math.abs(first / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
  }, TIMEOUT);

  it("are uniform within a triangle: a quarter in each of its four midpoint triangles", () => {
    const mesh: TestMesh = {
      positions: Float32Array.from([0, 0, 0, 2, 0, 0, 0.5, 1.5, 0]),
      colors: new Uint8Array(9).fill(100),
      triangles: Uint32Array.from([0, 1, 2]),
    };
    kernel.loadBytes(toPly(mesh), "one.ply");
    const n = 200_000;
    const rows = kernel.sampleSurface(n, { seed: sampleSeed(0, "one", "surface") });
    // Barycentric coordinates of each sample; the middle triangle is where all are below 1/2.
    const [ax, ay] = [0, 0], [bx, by] = [2, 0], [cx, cy] = [0.5, 1.5];
    const det = (bx - ax) * (cy - ay) - (cx - ax) * (by - ay);
    const counts = [0, 0, 0, 0];
    let sx = 0, sy = 0;
    for (let i = 0; i < n; i++) {
      const x = rows[9 * i], y = rows[9 * i + 1];
      sx += x; sy += y;
      const wb = ((x - ax) * (cy - ay) - (cx - ax) * (y - ay)) / det;
      const wc = ((bx - ax) * (y - ay) - (x - ax) * (by - ay)) / det;
      const wa = 1 - wb - wc;
      counts[wa > 0.5 ? 0 : wb > 0.5 ? 1 : wc > 0.5 ? 2 : 3]++;
    }
    const sd = Math.sqrt((0.25 * 0.75) / n);
    for (const c of counts) expect(Math.abs(c / n - 0.25)).toBeLessThan(5 * sd);
    // The mean is the centroid.
    expect(sx / n).toBeCloseTo(2.5 / 3, 2);
    expect(sy / n).toBeCloseTo(1.5 / 3, 2);
  }, TIMEOUT);

  it("vertex normals: interpolated and normalised", () => {
    kernel.loadBytes(toPly(head, { normals: true }), "head.ply");
    const n = 2000;
    const rows = kernel.sampleSurface(n, { seed: [5, 6], normals: "vertex" });
    for (let i = 0; i < n; i++) {
      expect(Math.hypot(rows[9 * i + 3], rows[9 * i + 4], rows[9 * i + 5])).toBeCloseTo(1, 5);
      // Outward on a star-shaped head: the normal points away from the middle, roughly.
      const dot = rows[9 * i] * rows[9 * i + 3] + rows[9 * i + 1] * rows[9 * i + 4] + rows[9 * i + 2] * rows[9 * i + 5];
      expect(dot).toBeGreaterThan(-0.2);
    }
    // The same points as with triangle normals: only the normals differ.
    const face = kernel.sampleSurface(n, { seed: [5, 6] });
    for (let i = 0; i < n; i++) for (const k of [0, 1, 2, 6, 7, 8]) expect(rows[9 * i + k]).toBe(face[9 * i + k]);
  }, TIMEOUT);

  it("are a pure function of (seed, key): same bytes again, after other files, in another kernel and thread", async () => {
    const dir = mkdtempSync(join(tmpdir(), "headsnet-surface-"));
    const a = join(dir, "a.ply"), b = join(dir, "b.ply");
    writeFileSync(a, toPly(head));
    writeFileSync(b, toPly(fromSynth(synthHead({ vertices: 900, seed: 8 }))));
    const options = { build: "debug" as const, samples: 5000, key: "heads/a.ply", seed: 3 };
    const first = compileMeshTarget(a, "surface", options).y;
    compileMeshTarget(b, "surface", { ...options, key: "heads/b.ply" });
    const again = compileMeshTarget(a, "surface", options).y;
    expect(buf(again).equals(buf(first))).toBe(true);
    // The key, not the path: a copy elsewhere with the same key gives the same bytes.
    expect(buf(compileMeshTarget(b, "surface", { ...options, key: "heads/a.ply" }).y).equals(buf(first))).toBe(false);
    expect(buf(compileMeshTarget(a, "surface", { ...options, key: "heads/other.ply" }).y).equals(buf(first))).toBe(false);
    expect(buf(compileMeshTarget(a, "surface", { ...options, seed: 4 }).y).equals(buf(first))).toBe(false);
    // A prefix of a longer run is the shorter run: sample k depends on k only.
    const longer = compileMeshTarget(a, "surface", { ...options, samples: 7777 }).y;
    expect(buf(longer.subarray(0, first.length)).equals(buf(first))).toBe(true);
    // Another thread, through the built module.
    const moduleUrl = new URL("../dist/src/mesh/targets.js", import.meta.url).href;
    const script = join(dir, "worker.mjs");
    writeFileSync(script, `import { parentPort, workerData } from "node:worker_threads";
import { compileMeshTarget } from ${JSON.stringify(moduleUrl)};
const r = compileMeshTarget(workerData.path, "surface", workerData.options);
parentPort.postMessage(r.y);`);
    const fromWorker = await new Promise<Uint8Array>((resolve, reject) => {
      const w = new Worker(script, { workerData: { path: a, options: { ...options, build: "release" } } });
      w.once("message", resolve);
      w.once("error", reject);
    });
    expect(buf(fromWorker).equals(buf(first))).toBe(true);
  }, TIMEOUT);

  it("refuse a mesh without faces or without area, naming the file", () => {
    const flat: TestMesh = { positions: Float32Array.from([0, 0, 0, 1, 0, 0, 2, 0, 0]), colors: new Uint8Array(9), triangles: Uint32Array.from([0, 1, 2]) };
    kernel.loadBytes(toPly(flat), "flat.ply");
    expect(() => kernel.sampleSurface(10, { seed: [1, 1] })).toThrow("flat.ply: every triangle of the mesh has zero area, so there is no surface to sample");
    kernel.loadBytes(toPly({ ...flat, triangles: new Uint32Array(0) }), "points.ply");
    expect(() => kernel.sampleSurface(10, { seed: [1, 1] })).toThrow("points.ply: the mesh has no faces; surface and occupancy samples need triangles");
  }, TIMEOUT);
});

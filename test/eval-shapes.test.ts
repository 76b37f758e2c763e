// `headsnet eval PRED --reference REF`: shapes against a mesh, on cases whose answers are known:
// concentric spheres of known radii, a cube against itself shifted by a known offset, and a point
// cloud against a mesh.

import { describe, it, expect, vi, beforeAll } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writePly } from "../src/ply-write.js";
import { generateIcosphereMesh } from "../src/icosphere.js";
import { compareMeshes } from "../src/mesh/compare.js";

vi.setConfig({ testTimeout: 120_000 });

let dir: string;

function meshPly(path: string, positions: Float32Array, faces?: Uint32Array): string {
  const n = positions.length / 3;
  const col = (c: number) => Float32Array.from({ length: n }, (_, i) => positions[i * 3 + c]);
  const elements: Parameters<typeof writePly>[0]["elements"] = [{
    name: "vertex", count: n,
    properties: [{ name: "x", type: "float", data: col(0) }, { name: "y", type: "float", data: col(1) }, { name: "z", type: "float", data: col(2) }],
  }];
  if (faces) {
    const count = faces.length / 3;
    elements.push({ name: "face", count, properties: [{ name: "vertex_indices", countType: "uchar", itemType: "uint", data: { offsets: Uint32Array.from({ length: count + 1 }, (_, k) => 3 * k), items: faces } }] });
  }
  writeFileSync(path, writePly({ format: "binary_little_endian", elements }));
  return path;
}

function sphere(name: string, r: number, options: { faces?: boolean; level?: number } = {}): string {
  const mesh = generateIcosphereMesh(options.level ?? 5);
  return meshPly(join(dir, name), mesh.vertices.map((v) => v * r), options.faces === false ? undefined : mesh.faces);
}

/** The unit cube [0,1]^3 moved by (dx, 0, 0): 8 vertices, 12 outward triangles. */
function cube(name: string, dx: number): string {
  const v = new Float32Array(24);
  for (let i = 0; i < 8; i++) {
    v[i * 3] = (i & 1) + dx;
    v[i * 3 + 1] = (i >> 1) & 1;
    v[i * 3 + 2] = (i >> 2) & 1;
  }
  const quads = [[0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5]];
  const faces = Uint32Array.from(quads.flatMap(([a, b, c, d]) => [a, b, c, a, c, d]));
  return meshPly(join(dir, name), v, faces);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "headsnet-eval-shapes-"));
});

describe("eval PRED --reference REF", () => {
  it("two concentric spheres of radii 0.5 and 0.4: Chamfer-L1 0.1, Chamfer-L2 0.01, IoU 0.4³/0.5³, normals agree", async () => {
    const r = await compareMeshes({ predicted: sphere("inner.ply", 0.4), reference: sphere("outer.ply", 0.5), samples: 50_000, occupancy: 200_000 });
    expect(r.error).toBeUndefined();
    const s = r.summary!;
    expect(s.reference).toMatchObject({ kind: "mesh", closed: true, triangles: 20480 });
    expect(s.chamferL1).toBeGreaterThan(0.0995);
    expect(s.chamferL1).toBeLessThan(0.1012);
    expect(s.chamferL2).toBeCloseTo(0.01, 3);
    expect(s.iou).not.toBeNull();
    expect(Math.abs(s.iou! - 0.512)).toBeLessThan(0.01);
    expect(s.normalConsistency).toBeGreaterThan(0.999);
    expect(s.fscore[0].tau).toBeCloseTo(0.01, 3);
    expect(s.fscore[0].f).toBe(0);
  });

  it("a unit cube against itself shifted by 0.2: IoU 0.8/1.2; unshifted, everything is perfect", async () => {
    const ref = cube("cube.ply", 0);
    const r = await compareMeshes({ predicted: cube("shifted.ply", 0.2), reference: ref, samples: 20_000, occupancy: 200_000 });
    expect(r.error).toBeUndefined();
    const s = r.summary!;
    expect(s.reference.closed).toBe(true);
    expect(Math.abs(s.iou! - 0.8 / 1.2)).toBeLessThan(0.01);
    expect(s.chamferL1).toBeGreaterThan(0.01);
    const same = (await compareMeshes({ predicted: ref, reference: ref, samples: 20_000, occupancy: 50_000 })).summary!;
    expect(same.chamferL1).toBe(0);
    expect(same.iou).toBe(1);
    expect(same.fscore[0].f).toBe(1);
    expect(same.normalConsistency).toBeCloseTo(1, 6);
  });

  it("a point cloud against a mesh: the cloud's own points, no IoU; an open or point-cloud reference is refused or has no IoU", async () => {
    const r = await compareMeshes({ predicted: sphere("cloud.ply", 0.45, { faces: false }), reference: sphere("outer2.ply", 0.5), samples: 100_000 });
    expect(r.error).toBeUndefined();
    const s = r.summary!;
    expect(s.predicted).toMatchObject({ kind: "points", points: 10242, closed: false });
    expect(s.accuracy).toBeGreaterThan(0.0499);
    expect(s.accuracy).toBeLessThan(0.0515);
    expect(s.iou).toBeNull();
    expect(s.normalConsistency).toBeNull();
    const refused = await compareMeshes({ predicted: sphere("p.ply", 0.5), reference: sphere("q.ply", 0.5, { faces: false }) });
    expect(refused.error?.message).toMatch(/the reference must be a mesh, and this file has no faces/);
    const open = generateIcosphereMesh(3);
    const half = meshPly(join(dir, "open.ply"), open.vertices.map((v) => v * 0.5), open.faces.subarray(0, open.faces.length / 2));
    const o = await compareMeshes({ predicted: half, reference: sphere("ref3.ply", 0.5, { level: 3 }), samples: 10_000 });
    expect(o.summary!.predicted.closed).toBe(false);
    expect(o.summary!.iou).toBeNull();
  });
});

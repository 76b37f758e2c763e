// `headsnet eval PRED --reference REF`: how close a shape (a mesh, or a point cloud) is to a
// reference mesh, with metrics.ts's functions (the ones HeadsNet's own evaluation uses):
//
//   Chamfer-L1/L2, F-score, normal consistency, colour error: between `samples` area-weighted
//     surface samples of each mesh (the mesh kernel's sampleSurface, face normals, one seeded
//     stream for both, so a mesh against itself scores exactly 0), or a point cloud's own points
//     (and its file normals, if it has them);
//   F-score at τ = 1% of the reference's extent (its bounding box's largest side), or the
//     thresholds given;
//   IoU over `occupancy` points uniform in the union of the two bounding boxes (grown by 5% of
//     their largest side), each labelled inside or outside by the mesh kernel's inside test: when
//     both are closed meshes (every edge shared by exactly two triangles, opposite ways), else null.

import { MeshKernel, sampleSeed, type MeshInfo } from "./kernel.js";
import { compareClouds, surfacePointSet, extent, isClosed, iou, type PointSet, type FScore } from "./metrics.js";
import { HeadsnetError, errors, opt } from "../errors.js";
import { Rng, mixSeed } from "../train/rng.js";

export interface CompareOptions {
  predicted: string;
  reference: string;
  /** Surface samples per mesh (default 100,000). */
  samples?: number;
  /** Points for the IoU (default 100,000). */
  occupancy?: number;
  /** F-score thresholds (default: 1% of the reference's extent). */
  thresholds?: number[];
  seed?: number;
}

export interface ShapeFacts {
  file: string;
  kind: "mesh" | "points";
  vertices: number;
  triangles: number;
  closed: boolean;
  /** Points compared: surface samples of a mesh, or a point cloud's points. */
  points: number;
  extent: number;
}

export interface CompareSummary {
  predicted: ShapeFacts;
  reference: ShapeFacts;
  chamferL1: number;
  chamferL2: number;
  accuracy: number;
  completeness: number;
  fscore: FScore[];
  normalConsistency: number | null;
  colorError: number | null;
  /** null unless both are closed meshes. */
  iou: number | null;
  seconds: number;
}

export const COMPARE_DEFAULTS = { samples: 100_000, occupancy: 100_000, seed: 0 };
const GREY: [number, number, number] = [0.8, 0.8, 0.8];

function shapeOf(kernel: MeshKernel, info: MeshInfo, samples: number, seed: number): { set: PointSet; facts: ShapeFacts; colors: boolean } {
  if (info.triangles > 0) {
    // One random stream for both meshes: a mesh against itself gets the same samples, and scores 0.
    const rows = kernel.sampleSurface(samples, { seed: sampleSeed(seed, "", "eval") });
    const set = surfacePointSet(rows);
    const colors = new Float32Array(samples * 3);
    for (let i = 0; i < samples; i++) for (let c = 0; c < 3; c++) colors[i * 3 + c] = rows[i * 9 + 6 + c];
    const triangles = kernel.arrays().triangles;
    return {
      set: { ...set, colors },
      facts: { file: info.file, kind: "mesh", vertices: info.vertices, triangles: info.triangles, closed: isClosed(triangles), points: samples, extent: extent(set.points) },
      colors: info.hasColors,
    };
  }
  const a = kernel.arrays();
  return {
    set: { points: a.positions, normals: info.normals === "file" ? a.normals : undefined, colors: a.colors },
    facts: { file: info.file, kind: "points", vertices: info.vertices, triangles: 0, closed: false, points: info.vertices, extent: extent(a.positions) },
    colors: info.hasColors,
  };
}

/** Points uniform in the union of two boxes grown by 5% of their largest side, seeded. */
function uniformPoints(a: Float32Array, b: Float32Array, count: number, seed: number): Float32Array {
  const min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
  for (const p of [a, b]) {
    for (let i = 0; i < p.length; i += 3) {
      for (let c = 0; c < 3; c++) {
        if (p[i + c] < min[c]) min[c] = p[i + c];
        if (p[i + c] > max[c]) max[c] = p[i + c];
      }
    }
  }
  const grow = 0.05 * Math.max(max[0] - min[0], max[1] - min[1], max[2] - min[2]);
  const rng = new Rng(mixSeed(seed, 77));
  const out = new Float32Array(count * 3);
  for (let i = 0; i < count; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = min[c] - grow + rng.next() * (max[c] - min[c] + 2 * grow);
  return out;
}

export async function compareMeshes(o: CompareOptions): Promise<{ error?: HeadsnetError; summary?: CompareSummary }> {
  try {
    const started = performance.now();
    const samples = o.samples ?? COMPARE_DEFAULTS.samples, occupancy = o.occupancy ?? COMPARE_DEFAULTS.occupancy, seed = o.seed ?? COMPARE_DEFAULTS.seed;
    for (const [name, v] of [["samples", samples], ["occupancy", occupancy]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > 10_000_000) throw errors.usage(`${opt(name)} must be an integer from 1 to 10,000,000, got ${v}`);
    }
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw errors.usage(`${opt("seed")} must be an integer from 0 to 4294967295, got ${seed}`);
    for (const t of o.thresholds ?? []) if (!(t > 0)) throw errors.usage(`${opt("threshold")} must be above 0, got ${t}`);
    const refKernel = new MeshKernel(), predKernel = new MeshKernel();
    const refInfo = refKernel.loadFile(o.reference, { defaultColor: GREY });
    if (refInfo.triangles === 0) throw errors.usage(`${o.reference}: the reference must be a mesh, and this file has no faces (a point cloud can be compared against a mesh: pass it as the shape to evaluate)`);
    const predInfo = predKernel.loadFile(o.predicted, { defaultColor: GREY });
    const ref = shapeOf(refKernel, refInfo, samples, seed);
    const pred = shapeOf(predKernel, predInfo, samples, seed);
    const thresholds = o.thresholds ?? [0.01 * ref.facts.extent];
    const both = ref.colors && pred.colors;
    const m = compareClouds(
      { points: pred.set.points, normals: pred.set.normals, colors: both ? pred.set.colors : undefined },
      { points: ref.set.points, normals: ref.set.normals, colors: both ? ref.set.colors : undefined },
      { thresholds },
    );
    let volume: number | null = null;
    if (ref.facts.closed && pred.facts.closed) {
      const points = uniformPoints(ref.set.points, pred.set.points, occupancy, seed);
      volume = iou(refKernel.labelPoints(points), predKernel.labelPoints(points));
      if (Number.isNaN(volume)) volume = null;
    }
    return {
      summary: {
        predicted: pred.facts, reference: ref.facts,
        chamferL1: m.chamferL1, chamferL2: m.chamferL2, accuracy: m.accuracy, completeness: m.completeness,
        fscore: m.fscore, normalConsistency: m.normalConsistency ?? null, colorError: m.colorError ?? null, iou: volume,
        seconds: (performance.now() - started) / 1000,
      },
    };
  } catch (e) {
    if (e instanceof HeadsnetError) return { error: e };
    throw e;
  }
}

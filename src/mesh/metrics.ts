// Reconstruction metrics, shared by the mesh targets' tests and the trainer's `eval`: Chamfer
// distances, F-score, normal consistency (as NeuralParts and Occupancy Networks evaluate them)
// and IoU over occupancy samples.
//
// Definitions, for a predicted point set P and a reference set R (float32 x y z, packed):
//   d(p, R) = Euclidean distance from p to its nearest point of R (a k-d tree in the mesh kernel)
//   accuracy      = mean over p in P of d(p, R)       accuracy2     = mean of d(p, R)²
//   completeness  = mean over r in R of d(r, P)       completeness2 = mean of d(r, P)²
//   chamferL1 = (accuracy + completeness) / 2         chamferL2 = (accuracy2 + completeness2) / 2
//   F-score at τ: precision = share of P with d(p, R) <= τ, recall = share of R with d(r, P) <= τ,
//     F = 2PR / (P + R) (0 when both are 0)
//   normal consistency = (mean over P of |n_p · n_nearest(p)| + mean over R of the same) / 2,
//     normals normalised first (so their sign does not matter)
//   colour error = (mean over P of |c_p - c_nearest(p)| + mean over R of the same) / 2, |·| the
//     mean absolute difference of the r g b channels (0-1): HeadsNet's colour outputs
//   IoU = Σ w·[a ∧ b] / Σ w·[a ∨ b] over occupancy samples, with their weights w (1 without):
//     with headsnet's occupancy weights only the uniform samples count, so it is the volumetric
//     IoU of the two shapes in the box (NeuralParts: IoU on uniform points).
// Sums run in float64. Chamfer-L1 here is NeuralParts' "Chamfer-L1" (the mean of the two
// directions, Euclidean distances); some papers report the sum of the two directions instead.

import { MeshKernel } from "./kernel.js";
import { meshErrors } from "../errors.js";

export interface PointSet {
  /** float32 x y z per point. */
  points: Float32Array;
  /** float32 x y z per point, any length (normalised here), for normal consistency. */
  normals?: Float32Array;
  /** float32 r g b (0-1) per point, for the colour error. */
  colors?: Float32Array;
}

export interface FScore {
  tau: number;
  precision: number;
  recall: number;
  f: number;
}

export interface CloudMetrics {
  accuracy: number;
  completeness: number;
  accuracy2: number;
  completeness2: number;
  chamferL1: number;
  chamferL2: number;
  /** Present when both sets have normals. */
  normalConsistency?: number;
  /** Present when both sets have colours. */
  colorError?: number;
  fscore: FScore[];
}

/** Nearest neighbours of `queries` among `reference`: squared distances and indices. */
export interface Nearest {
  dist2: Float64Array;
  index: Uint32Array;
}

let shared: MeshKernel | undefined;

function kernelFor(kernel?: MeshKernel): MeshKernel {
  if (kernel) return kernel;
  shared ??= new MeshKernel();
  return shared;
}

function checkSet(set: PointSet, name: string): number {
  if (set.points.length % 3 !== 0) throw meshErrors.badPoints(`${name} has ${set.points.length} floats, not a multiple of 3 (x y z per point)`);
  const n = set.points.length / 3;
  if (n === 0) throw meshErrors.badPoints(`${name} has no points`);
  for (let i = 0; i < set.points.length; i++) {
    if (!Number.isFinite(set.points[i])) throw meshErrors.badPoints(`${name} point ${Math.floor(i / 3)} is not finite`);
  }
  if (set.normals && set.normals.length !== set.points.length) throw meshErrors.badPoints(`${name} has ${n} points but ${set.normals.length / 3} normals`);
  if (set.colors && set.colors.length !== set.points.length) throw meshErrors.badPoints(`${name} has ${n} points but ${set.colors.length / 3} colours`);
  return n;
}

/**
 * For each query point, its nearest reference point. The kernel (a MeshKernel whose loaded mesh
 * this forgets; by default one shared by this module) does the work.
 */
export function nearest(reference: Float32Array, queries: Float32Array, kernel?: MeshKernel): Nearest {
  const m = queries.length / 3;
  const out = { dist2: new Float64Array(m), index: new Uint32Array(m) };
  kernelFor(kernel).nearest(reference, queries, out.dist2, out.index);
  return out;
}

/** |n_a · n_b| for unit-normalised normals; 0 where either has no length. */
function absDot(a: Float32Array, i: number, b: Float32Array, j: number): number {
  const ax = a[3 * i], ay = a[3 * i + 1], az = a[3 * i + 2];
  const bx = b[3 * j], by = b[3 * j + 1], bz = b[3 * j + 2];
  const la = Math.hypot(ax, ay, az), lb = Math.hypot(bx, by, bz);
  if (la === 0 || lb === 0) return 0;
  return Math.abs(ax * bx + ay * by + az * bz) / (la * lb);
}

/** Chamfer-L1/L2, F-score at each τ (default 0.01) and normal consistency of P against R. */
export function compareClouds(predicted: PointSet, reference: PointSet, options: { thresholds?: number[]; kernel?: MeshKernel } = {}): CloudMetrics {
  const np = checkSet(predicted, "the predicted set");
  const nr = checkSet(reference, "the reference set");
  const thresholds = options.thresholds ?? [0.01];
  for (const tau of thresholds) if (!(tau > 0)) throw meshErrors.badPoints(`an F-score threshold must be above 0, got ${tau}`);
  const toRef = nearest(reference.points, predicted.points, options.kernel);
  const toPred = nearest(predicted.points, reference.points, options.kernel);
  const side = (d: Nearest) => {
    let sum = 0, sum2 = 0;
    for (let i = 0; i < d.dist2.length; i++) {
      sum += Math.sqrt(d.dist2[i]);
      sum2 += d.dist2[i];
    }
    return { mean: sum / d.dist2.length, mean2: sum2 / d.dist2.length };
  };
  const a = side(toRef), c = side(toPred);
  const within = (d: Nearest, tau: number) => {
    const t2 = tau * tau;
    let k = 0;
    for (let i = 0; i < d.dist2.length; i++) if (d.dist2[i] <= t2) k++;
    return k / d.dist2.length;
  };
  const fscore = thresholds.map((tau) => {
    const precision = within(toRef, tau), recall = within(toPred, tau);
    return { tau, precision, recall, f: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0 };
  });
  let normalConsistency: number | undefined;
  if (predicted.normals && reference.normals) {
    let sp = 0, sr = 0;
    for (let i = 0; i < np; i++) sp += absDot(predicted.normals, i, reference.normals, toRef.index[i]);
    for (let i = 0; i < nr; i++) sr += absDot(reference.normals, i, predicted.normals, toPred.index[i]);
    normalConsistency = (sp / np + sr / nr) / 2;
  }
  let colorError: number | undefined;
  if (predicted.colors && reference.colors) {
    const side = (from: Float32Array, to: Float32Array, d: Nearest) => {
      let sum = 0;
      for (let i = 0; i < d.index.length; i++) {
        const j = d.index[i];
        sum += Math.abs(from[3 * i] - to[3 * j]) + Math.abs(from[3 * i + 1] - to[3 * j + 1]) + Math.abs(from[3 * i + 2] - to[3 * j + 2]);
      }
      return sum / (3 * d.index.length);
    };
    colorError = (side(predicted.colors, reference.colors, toRef) + side(reference.colors, predicted.colors, toPred)) / 2;
  }
  return {
    accuracy: a.mean, completeness: c.mean, accuracy2: a.mean2, completeness2: c.mean2,
    chamferL1: (a.mean + c.mean) / 2, chamferL2: (a.mean2 + c.mean2) / 2,
    normalConsistency, colorError, fscore,
  };
}

/** Chamfer-L1 alone (as compareClouds computes it), for comparing many pairs. */
export function chamferL1(a: Float32Array, b: Float32Array, kernel?: MeshKernel): number {
  const mean = (d: Nearest) => {
    let sum = 0;
    for (let i = 0; i < d.dist2.length; i++) sum += Math.sqrt(d.dist2[i]);
    return sum / d.dist2.length;
  };
  return (mean(nearest(b, a, kernel)) + mean(nearest(a, b, kernel))) / 2;
}

/** The largest side of the points' bounding box: what "1% of the extent" F-scores scale by. */
export function extent(points: Float32Array): number {
  const min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < points.length; i += 3) {
    for (let c = 0; c < 3; c++) {
      const v = points[i + c];
      if (v < min[c]) min[c] = v;
      if (v > max[c]) max[c] = v;
    }
  }
  return Math.max(max[0] - min[0], max[1] - min[1], max[2] - min[2], 0);
}

/**
 * Is a triangle mesh closed: every edge shared by exactly two triangles, once in each direction
 * (so the triangles also agree on which side is out)? `triangles`: three vertex indices each.
 */
export function isClosed(triangles: Uint32Array): boolean {
  if (triangles.length === 0) return false;
  let n = 0;
  for (let i = 0; i < triangles.length; i++) if (triangles[i] >= n) n = triangles[i] + 1;
  // Exact as long as n² < 2^53: up to 94 million vertices.
  const edges = new Map<number, number>();
  const key = (a: number, b: number) => a * n + b;
  for (let t = 0; t < triangles.length; t += 3) {
    for (let e = 0; e < 3; e++) {
      const a = triangles[t + e], b = triangles[t + ((e + 1) % 3)];
      if (a === b) return false;
      const k = key(a, b);
      if (edges.has(k)) return false; // the same directed edge twice: a third triangle, or a flipped one
      edges.set(k, 1);
    }
  }
  for (const k of edges.keys()) {
    const a = Math.floor(k / n), b = k % n;
    if (!edges.has(key(b, a))) return false;
  }
  return true;
}

/**
 * Intersection over union of two occupancy labellings of the same samples (non-zero = inside),
 * weighted by `weights` (every sample 1 without). NaN when neither labels anything inside.
 */
export function iou(a: ArrayLike<number>, b: ArrayLike<number>, weights?: ArrayLike<number>): number {
  if (a.length !== b.length || (weights && weights.length !== a.length)) {
    throw meshErrors.badPoints(`IoU needs labels and weights of one length, got ${a.length}, ${b.length}${weights ? `, ${weights.length}` : ""}`);
  }
  let both = 0, either = 0;
  for (let i = 0; i < a.length; i++) {
    const w = weights ? weights[i] : 1;
    const x = a[i] !== 0, y = b[i] !== 0;
    if (x && y) both += w;
    if (x || y) either += w;
  }
  return either > 0 ? both / either : NaN;
}

/** Columns of occupancy rows (x y z inside weight): the points, labels and weights. */
export function occupancyColumns(rows: Float32Array): { points: Float32Array; inside: Float32Array; weight: Float32Array } {
  const n = Math.floor(rows.length / 5);
  const points = new Float32Array(n * 3), inside = new Float32Array(n), weight = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    points[3 * i] = rows[5 * i];
    points[3 * i + 1] = rows[5 * i + 1];
    points[3 * i + 2] = rows[5 * i + 2];
    inside[i] = rows[5 * i + 3];
    weight[i] = rows[5 * i + 4];
  }
  return { points, inside, weight };
}

/** Columns of surface rows (x y z nx ny nz r g b) as a point set with normals. */
export function surfacePointSet(rows: Float32Array): PointSet {
  const n = Math.floor(rows.length / 9);
  const points = new Float32Array(n * 3), normals = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      points[3 * i + c] = rows[9 * i + c];
      normals[3 * i + c] = rows[9 * i + 3 + c];
    }
  }
  return { points, normals };
}

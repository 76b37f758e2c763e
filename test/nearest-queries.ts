// Query points for the spatial hash's tests against the reference's brute force (test/nearest.test.ts
// and the long sweep, test/long/nearest-sweep.test.ts): random points near and far from the
// sphere, points on and within a hair of the boundary between two vertices' regions, table
// vertices, cube-face edges and corners, the hash's grid lines, points the band sends to the
// brute force and non-finite ones; and the points real meshes query.

import type { Kernel } from "../src/kernel.js";
import type { Icosphere } from "../src/icosphere.js";
import { rng } from "./random.js";

const f = Math.fround;

/** Extra query points every call of queries() appends: the band's brute-force cases and non-points. */
export const EXTRA_QUERIES = 9;

/** Query points for a table, `count` of them plus EXTRA_QUERIES, float32 x y z. */
export function queries(ico: Icosphere, count: number, seed: number): Float32Array {
  const random = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const out: number[] = [];
  const push = (x: number, y: number, z: number) => out.push(f(x), f(y), f(z));
  const v = ico.vertices;
  const n = ico.count;
  const direction = () => {
    const x = gauss(), y = gauss(), z = gauss();
    const r = Math.hypot(x, y, z) || 1;
    return [x / r, y / r, z / r];
  };
  // Nearest other vertex of a few vertices, for points on the boundary between two regions.
  const pairs: [number, number][] = [];
  for (let k = 0; k < Math.min(n, 400); k++) {
    const a = Math.floor(random() * n);
    let best = Infinity, b = 0;
    for (let j = 0; j < n; j++) {
      if (j === a) continue;
      const d = (v[3 * j] - v[3 * a]) ** 2 + (v[3 * j + 1] - v[3 * a + 1]) ** 2 + (v[3 * j + 2] - v[3 * a + 2]) ** 2;
      if (d < best) { best = d; b = j; }
    }
    pairs.push([a, b]);
  }
  while (out.length < count * 3) {
    const kind = random();
    if (kind < 0.35) {
      // Near the sphere, where real meshes land.
      const [x, y, z] = direction();
      const r = 1 + 0.05 * gauss();
      push(x * r, y * r, z * r);
    } else if (kind < 0.5) {
      // Anywhere from the centre to far outside, across both ends of the hash's radius band.
      const [x, y, z] = direction();
      const r = random() < 0.5 ? random() * 0.3 : 0.3 + random() * 6;
      push(x * r, y * r, z * r);
    } else if (kind < 0.8) {
      // On or within a hair of the boundary between two vertices' regions, at various radii.
      const [a, b] = pairs[Math.floor(random() * pairs.length)];
      const t = 0.5 + (random() - 0.5) * 1e-6 * random();
      let x = v[3 * a] * t + v[3 * b] * (1 - t), y = v[3 * a + 1] * t + v[3 * b + 1] * (1 - t), z = v[3 * a + 2] * t + v[3 * b + 2] * (1 - t);
      const r = random() < 0.7 ? 1 : 0.07 + random() * 3.9;
      const norm = Math.hypot(x, y, z) / r;
      x /= norm; y /= norm; z /= norm;
      push(x, y, z);
    } else if (kind < 0.88) {
      // A table vertex itself, scaled: distance 0 or a near tie with every neighbour.
      const a = Math.floor(random() * n);
      const s = random() < 0.5 ? 1 : 0.9 + random() * 0.2;
      push(v[3 * a] * s, v[3 * a + 1] * s, v[3 * a + 2] * s);
    } else if (kind < 0.96) {
      // On cube-face edges and corners of the hash (|x| = |y|, |x| = |y| = |z|).
      const [x, y, z] = direction();
      const r = 0.5 + random() * 1.5;
      const m = Math.max(Math.abs(x), Math.abs(y));
      const sx = Math.sign(x) || 1, sy = Math.sign(y) || 1;
      if (random() < 0.5) push(sx * m * r, sy * m * r, z * r);
      else push(sx * r, sy * r, (Math.sign(z) || 1) * r);
    } else {
      // Grid lines of the hash: one coordinate ratio on a cell boundary, exactly so at radii
      // that are powers of two (the kernel's floor there may give either neighbouring cell).
      const g = random() < 0.5 ? 128 : 256;
      const u = -1 + (2 * Math.floor(random() * (g + 1))) / g;
      const r = random() < 0.5 ? [0.5, 1, 2][Math.floor(random() * 3)] : 0.5 + random();
      const face = Math.floor(random() * 3);
      const w = random() * 2 - 1;
      const p = face === 0 ? [r, u * r, w * r] : face === 1 ? [u * r, r, w * r] : [u * r, w * r, r];
      push(p[0], p[1], p[2]);
    }
  }
  // Points the band sends to the brute force, and points that are not points.
  for (const p of [[0, 0, 0], [NaN, 0, 0], [Infinity, 1, 1], [-Infinity, 0, 0], [1e30, 1e30, 1e30], [1e-40, 0, 0], [0.0625, 0, 0], [4, 0, 0], [0, 0, -1]]) {
    push(p[0], p[1], p[2]);
  }
  return Float32Array.from(out);
}

/** Each point's nearest vertex by the hash and by brute force: how many were compared, how many differ. */
export function mismatches(kernel: Kernel, points: Float32Array): { compared: number; count: number; first?: string } {
  let count = 0, compared = 0;
  let first: string | undefined;
  for (let k = 0; k < points.length; k += 3) {
    const a = kernel.nearest(points[k], points[k + 1], points[k + 2]);
    const b = kernel.nearestBrute(points[k], points[k + 1], points[k + 2]);
    compared++;
    if (a !== b) {
      count++;
      first ??= `(${points[k]}, ${points[k + 1]}, ${points[k + 2]}): hash ${a}, brute force ${b}`;
    }
  }
  return { compared, count, first };
}

/** Legacy-traced points of a mesh: what the kernel queries on real data. */
export function tracedPoints(kernel: Kernel, file: string): Float32Array {
  // With --inputs 5 the x rows carry the negated normal, so the trace can be redone here.
  const out = kernel.compileFile(file, 0, { inputs: 5 });
  const points = new Float32Array(out.rows * 3);
  for (let r = 0; r < out.rows; r++) {
    const v = out.y.subarray(r * 6, r * 6 + 3);
    const n = [-out.x[r * 5 + 2], -out.x[r * 5 + 3], -out.x[r * 5 + 4]];
    const p = kernel.trace(v, n);
    if (typeof p === "number") throw new Error(`trace failed with status ${p}`);
    points.set(p, r * 3);
  }
  return points;
}

/** Every `n`th point of `points` (float32 x y z), from the first. */
export function everyNth(points: Float32Array, n: number): Float32Array {
  const count = Math.ceil(points.length / 3 / n);
  const out = new Float32Array(count * 3);
  for (let k = 0; k < count; k++) out.set(points.subarray(k * n * 3, k * n * 3 + 3), k * 3);
  return out;
}

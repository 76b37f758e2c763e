// Surface samples (NeuralParts) and occupancy samples: points drawn on and around the current mesh.
//
// Surface: a triangle with probability proportional to its area (inverse CDF: float64 prefix sums
// of the areas and a guide table, Chen and Asau's indexed search, so a draw costs one table read
// and about one step instead of a binary search), then a uniform point in it by the square-root
// barycentric method: s = sqrt(r1), p = (1 - s)a + s(1 - r2)b + s·r2·c. Each row is float32
// x y z nx ny nz r g b: the triangle's unit normal (or the vertex normals interpolated and
// normalised), the colour interpolated.
//
// Speed: a draw reads the guide table, the prefix sums, the triangle and its vertices, each a
// cache miss on a large mesh and each depending on the one before. Samples go in batches, stage
// by stage (all guide reads, then all prefix-sum steps, then all triangles, ...), so that the
// misses of a batch overlap instead of queueing. Sample k draws random numbers k·STRIDE... of its
// file's counter-based stream (random.ts), so batching changes no bytes.
//
// Occupancy: see sampleOccupancy(); its inside test is in inside.ts.

import {
  S_NO_MEMORY, S_NO_FACES, S_NO_AREA, MR_COUNT, SURFACE_WIDTH, OCCUPANCY_WIDTH, NOISE_NORMAL,
} from "../../src/abi";
import { alloc, fail, ok, setWord, vertices, vertexCount, triangles, triangleCount, vertexAt } from "./state";
import { seedRandom, randomAt, toUniform, gaussianPair, gaussianSin } from "./random";
import { insideReady, cellOf, cellFirst, cellLast, cellLabel, insideCell } from "./inside";

let cdf: usize = 0; // f64 per triangle: the areas of triangles 0..t
let guide: usize = 0; // u32 per triangle: the first triangle of each 1/T of the total area
let total: f64 = 0;
let ready = false;

export function surfaceForget(): void {
  ready = false;
}

/** Build the area tables of the current mesh (once per mesh). */
export function prepareSurface(): i32 {
  const T = triangleCount;
  if (T == 0) return fail(S_NO_FACES, 0, 0);
  cdf = alloc(<usize>T * 8);
  guide = alloc(<usize>T * 4);
  if (cdf == 0 || guide == 0) return fail(S_NO_MEMORY, 0, 0);
  let sum: f64 = 0;
  for (let t: i32 = 0; t < T; t++) {
    const tri = triangles + <usize>t * 12;
    const a = vertexAt(load<u32>(tri)), b = vertexAt(load<u32>(tri, 4)), c = vertexAt(load<u32>(tri, 8));
    const ax = <f64>load<f32>(a), ay = <f64>load<f32>(a, 4), az = <f64>load<f32>(a, 8);
    const ux = <f64>load<f32>(b) - ax, uy = <f64>load<f32>(b, 4) - ay, uz = <f64>load<f32>(b, 8) - az;
    const wx = <f64>load<f32>(c) - ax, wy = <f64>load<f32>(c, 4) - ay, wz = <f64>load<f32>(c, 8) - az;
    const nx = uy * wz - uz * wy, ny = uz * wx - ux * wz, nz = ux * wy - uy * wx;
    sum += 0.5 * Math.sqrt(nx * nx + ny * ny + nz * nz);
    store<f64>(cdf + (<usize>t << 3), sum);
  }
  total = sum;
  if (!(total > 0 && total < Infinity)) return fail(S_NO_AREA, 0, 0);
  // guide[j]: the first triangle whose prefix sum passes j/T of the total, a hair low so that it
  // never passes the answer for any draw in bucket j despite rounding.
  let i: i32 = 0;
  const step = total / <f64>T * (1 - 1.0 / 1099511627776.0);
  for (let j: i32 = 0; j < T; j++) {
    const threshold = <f64>j * step;
    while (i < T - 1 && load<f64>(cdf + (<usize>i << 3)) <= threshold) i++;
    store<u32>(guide + (<usize>j << 2), i);
  }
  ready = true;
  return ok();
}

export function surfaceArea(): f64 {
  return total;
}

// ---------------------------------------------------------------------------------------------
// Batches

const BATCH: i32 = 64;
// Per sample of a batch: the draw, then the triangle, then its corners' rows.
const bDraw: usize = memory.data(BATCH * 8, 8); // r·total
const bBits: usize = memory.data(BATCH * 8, 8); // barycentric bits
const bTri: usize = memory.data(BATCH * 4, 4);
const bA: usize = memory.data(BATCH * 4, 4);
const bB: usize = memory.data(BATCH * 4, 4);
const bC: usize = memory.data(BATCH * 4, 4);
// Per sample: the point (float64), its triangle's unit normal and barycentric weights.
const bP: usize = memory.data(BATCH * 24, 8);
const bN: usize = memory.data(BATCH * 24, 8);
const bW: usize = memory.data(BATCH * 24, 8);
// Per occupancy sample: the float32 point, its cell, and the cell's records and label.
const bQ: usize = memory.data(BATCH * 12, 4);
const bCell: usize = memory.data(BATCH * 4, 4);
const bFirst: usize = memory.data(BATCH * 4, 4);
const bLast: usize = memory.data(BATCH * 4, 4);
const bLabel: usize = memory.data(BATCH * 4, 4);
// Loads made only to bring lines into the cache; stored so that they are not optimised away.
let touched: f32 = 0;

@inline
function at4(base: usize, b: i32): usize {
  return base + (<usize>b << 2);
}

@inline
function at8(base: usize, b: i32): usize {
  return base + (<usize>b << 3);
}

@inline
function at24(base: usize, b: i32): usize {
  return base + <usize>b * 24;
}

/**
 * Surface points for the batch slots where `want` says so (all when want is 0): slot b uses
 * counters first[b] and first[b] + 1. Leaves points, normals and weights in bP, bN, bW and the
 * corner rows in bA, bB, bC.
 */
function surfaceBatch(counter: u64, stride: u64, count: i32, want: usize): void {
  const T = triangleCount;
  // Stage 1: the draws and their guide entries.
  for (let b: i32 = 0; b < count; b++) {
    if (want != 0 && load<u8>(want + <usize>b) == 0) continue;
    const c = counter + <u64>b * stride;
    const r = toUniform(randomAt(c));
    let j = <i32>(r * <f64>T);
    if (j >= T) j = T - 1;
    store<f64>(at8(bDraw, b), r * total);
    store<u64>(at8(bBits, b), randomAt(c + 1));
    store<u32>(at4(bTri, b), load<u32>(guide + (<usize>j << 2)));
  }
  // Stage 2: forward from the guide to the first prefix sum past the draw.
  for (let b: i32 = 0; b < count; b++) {
    if (want != 0 && load<u8>(want + <usize>b) == 0) continue;
    const u = load<f64>(at8(bDraw, b));
    let i = <i32>load<u32>(at4(bTri, b));
    while (i < T - 1 && load<f64>(cdf + (<usize>i << 3)) <= u) i++;
    store<u32>(at4(bTri, b), i);
  }
  // Stage 3: the triangles' corners, and a first touch of their rows.
  let sum: f32 = 0;
  for (let b: i32 = 0; b < count; b++) {
    if (want != 0 && load<u8>(want + <usize>b) == 0) continue;
    const tri = triangles + <usize>load<u32>(at4(bTri, b)) * 12;
    const a = vertexAt(load<u32>(tri)), bb = vertexAt(load<u32>(tri, 4)), c = vertexAt(load<u32>(tri, 8));
    store<u32>(at4(bA, b), <u32>a);
    store<u32>(at4(bB, b), <u32>bb);
    store<u32>(at4(bC, b), <u32>c);
    sum += load<f32>(a, 32) + load<f32>(bb, 32) + load<f32>(c, 32);
  }
  touched = sum;
  // Stage 4: the points.
  for (let b: i32 = 0; b < count; b++) {
    if (want != 0 && load<u8>(want + <usize>b) == 0) continue;
    const va = <usize>load<u32>(at4(bA, b)), vb = <usize>load<u32>(at4(bB, b)), vc = <usize>load<u32>(at4(bC, b));
    const bits = load<u64>(at8(bBits, b));
    const r1 = <f64>(bits >> 32) * 2.3283064365386963e-10;
    const r2 = <f64>(bits & 0xffffffff) * 2.3283064365386963e-10;
    const s = Math.sqrt(r1);
    const wa = 1 - s, wb = s * (1 - r2), wc = s * r2;
    const ax = <f64>load<f32>(va), ay = <f64>load<f32>(va, 4), az = <f64>load<f32>(va, 8);
    const bx = <f64>load<f32>(vb), by = <f64>load<f32>(vb, 4), bz = <f64>load<f32>(vb, 8);
    const cx = <f64>load<f32>(vc), cy = <f64>load<f32>(vc, 4), cz = <f64>load<f32>(vc, 8);
    const p = at24(bP, b), n = at24(bN, b), w = at24(bW, b);
    store<f64>(p, wa * ax + wb * bx + wc * cx);
    store<f64>(p, wa * ay + wb * by + wc * cy, 8);
    store<f64>(p, wa * az + wb * bz + wc * cz, 16);
    const ux = bx - ax, uy = by - ay, uz = bz - az;
    const vx = cx - ax, vy = cy - ay, vz = cz - az;
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    const inv = 1 / Math.sqrt(nx * nx + ny * ny + nz * nz); // a drawn triangle has area
    store<f64>(n, nx * inv);
    store<f64>(n, ny * inv, 8);
    store<f64>(n, nz * inv, 16);
    store<f64>(w, wa);
    store<f64>(w, wb, 8);
    store<f64>(w, wc, 16);
  }
}

/** Weighted sum of one float32 at `offset` of the three corner rows of slot b. */
@inline
function blend(b: i32, offset: usize): f64 {
  const w = at24(bW, b);
  return load<f64>(w) * <f64>load<f32>(<usize>load<u32>(at4(bA, b)) + offset)
    + load<f64>(w, 8) * <f64>load<f32>(<usize>load<u32>(at4(bB, b)) + offset)
    + load<f64>(w, 16) * <f64>load<f32>(<usize>load<u32>(at4(bC, b)) + offset);
}

/**
 * `n` surface samples into rows of SURFACE_WIDTH float32 at `out`; with `trianglesOut` (not 0)
 * also each sample's triangle (u32). `vertexNormals`: interpolate the vertex normals instead of
 * the triangle's (where they cancel out, the triangle's). Sample k uses counters 2k and 2k + 1.
 */
export function sampleSurface(n: i32, seedLo: u32, seedHi: u32, vertexNormals: bool, out: usize, trianglesOut: usize): i32 {
  if (!ready) return fail(S_NO_FACES, 0, 0);
  seedRandom(seedLo, seedHi);
  for (let k0: i32 = 0; k0 < n; k0 += BATCH) {
    const count = min(BATCH, n - k0);
    surfaceBatch(<u64>k0 * 2, 2, count, 0);
    for (let b: i32 = 0; b < count; b++) {
      const row = out + <usize>(k0 + b) * (SURFACE_WIDTH * 4);
      const p = at24(bP, b), nrm = at24(bN, b);
      store<f32>(row, <f32>load<f64>(p));
      store<f32>(row, <f32>load<f64>(p, 8), 4);
      store<f32>(row, <f32>load<f64>(p, 16), 8);
      let nx = load<f64>(nrm), ny = load<f64>(nrm, 8), nz = load<f64>(nrm, 16);
      if (vertexNormals) {
        const x = blend(b, 12), y = blend(b, 16), z = blend(b, 20);
        const length = Math.sqrt(x * x + y * y + z * z);
        if (length > 0) { nx = x / length; ny = y / length; nz = z / length; }
      }
      store<f32>(row, <f32>nx, 12);
      store<f32>(row, <f32>ny, 16);
      store<f32>(row, <f32>nz, 20);
      store<f32>(row, <f32>blend(b, 24), 24);
      store<f32>(row, <f32>blend(b, 28), 28);
      store<f32>(row, <f32>blend(b, 32), 32);
      if (trianglesOut != 0) store<u32>(trianglesOut + (<usize>(k0 + b) << 2), load<u32>(at4(bTri, b)));
    }
  }
  setWord(MR_COUNT, n);
  return ok();
}

// Which batch slots are near-surface samples (1) rather than uniform (0).
const bNear: usize = memory.data(BATCH, 8);
// Counters per occupancy sample: uniform x y z, or the draw, the barycentric bits and two
// Gaussian pairs.
const OCCUPANCY_STRIDE: u64 = 8;

/**
 * `n` occupancy samples into rows of OCCUPANCY_WIDTH float32 at `out`: x y z inside weight.
 *
 * The box is the mesh's bounding box grown on every side by `margin` times its largest side.
 * `uniformCount` of the samples (spread evenly through the rows) are uniform in the box; the
 * others are surface samples moved by Gaussian noise of `sigma` times the largest side, in every
 * direction (NOISE_ISOTROPIC) or along the triangle's normal (NOISE_NORMAL).
 *
 * Weights (the estimator is stratified, so that it is exactly unbiased): a uniform sample weighs
 * box volume / uniformCount, a near-surface sample 0, so that the sum of weight·inside over the
 * rows is an unbiased estimate of the mesh's volume. The near-surface density (a sum of Gaussians
 * over every triangle) is not cheap to evaluate exactly, and an approximate density would bias
 * any weight that used it; near-surface samples teach the boundary, uniform ones measure volume.
 * MR_COUNT gets the number of samples inside.
 */
export function sampleOccupancy(
  n: i32, uniformCount: i32, seedLo: u32, seedHi: u32, margin: f64, sigma: f64, noise: i32, out: usize,
): i32 {
  if (uniformCount < n && !ready) return fail(S_NO_FACES, 0, 0);
  if (!insideReady()) return fail(S_NO_FACES, 0, 0);
  seedRandom(seedLo, seedHi);
  let minX: f64 = Infinity, minY: f64 = Infinity, minZ: f64 = Infinity;
  let maxX: f64 = -Infinity, maxY: f64 = -Infinity, maxZ: f64 = -Infinity;
  for (let i: i32 = 0; i < vertexCount; i++) {
    const row = vertexAt(<u32>i);
    const x = <f64>load<f32>(row), y = <f64>load<f32>(row, 4), z = <f64>load<f32>(row, 8);
    minX = min(minX, x); maxX = max(maxX, x);
    minY = min(minY, y); maxY = max(maxY, y);
    minZ = min(minZ, z); maxZ = max(maxZ, z);
  }
  const side = max(maxX - minX, max(maxY - minY, maxZ - minZ));
  const grow = margin * side;
  minX -= grow; minY -= grow; minZ -= grow;
  const sizeX = maxX - minX + grow, sizeY = maxY - minY + grow, sizeZ = maxZ - minZ + grow;
  const weight: f32 = uniformCount > 0 ? <f32>(sizeX * sizeY * sizeZ / <f64>uniformCount) : 0;
  const spread = sigma * side;
  const along = noise == NOISE_NORMAL;
  let inside: i32 = 0;
  for (let k0: i32 = 0; k0 < n; k0 += BATCH) {
    const count = min(BATCH, n - k0);
    // Sample k is uniform when the running share of uniform samples steps up at k.
    let near = 0;
    for (let b: i32 = 0; b < count; b++) {
      const k = <i64>(k0 + b);
      const isUniform = ((k + 1) * <i64>uniformCount) / <i64>n > (k * <i64>uniformCount) / <i64>n;
      store<u8>(bNear + <usize>b, isUniform ? 0 : 1);
      if (!isUniform) near++;
    }
    const counter = <u64>k0 * OCCUPANCY_STRIDE;
    if (near > 0) surfaceBatch(counter, OCCUPANCY_STRIDE, count, bNear);
    for (let b: i32 = 0; b < count; b++) {
      const c = counter + <u64>b * OCCUPANCY_STRIDE;
      let x: f32, y: f32, z: f32;
      if (load<u8>(bNear + <usize>b) == 0) {
        x = <f32>(minX + toUniform(randomAt(c)) * sizeX);
        y = <f32>(minY + toUniform(randomAt(c + 1)) * sizeY);
        z = <f32>(minZ + toUniform(randomAt(c + 2)) * sizeZ);
      } else {
        const p = at24(bP, b);
        if (along) {
          const nrm = at24(bN, b);
          const d = gaussianPair(c + 2) * spread;
          x = <f32>(load<f64>(p) + d * load<f64>(nrm));
          y = <f32>(load<f64>(p, 8) + d * load<f64>(nrm, 8));
          z = <f32>(load<f64>(p, 16) + d * load<f64>(nrm, 16));
        } else {
          const g0 = gaussianPair(c + 2), g1 = gaussianSin;
          const g2 = gaussianPair(c + 4);
          x = <f32>(load<f64>(p) + g0 * spread);
          y = <f32>(load<f64>(p, 8) + g1 * spread);
          z = <f32>(load<f64>(p, 16) + g2 * spread);
        }
      }
      const q = bQ + <usize>b * 12;
      store<f32>(q, x);
      store<f32>(q, y, 4);
      store<f32>(q, z, 8);
    }
    inside += labelBatch(count);
    for (let b: i32 = 0; b < count; b++) {
      const q = bQ + <usize>b * 12;
      const row = out + <usize>(k0 + b) * (OCCUPANCY_WIDTH * 4);
      store<f32>(row, load<f32>(q));
      store<f32>(row, load<f32>(q, 4), 4);
      store<f32>(row, load<f32>(q, 8), 8);
      store<f32>(row, <f32>load<u32>(at4(bLabel, b)), 12);
      store<f32>(row, load<u8>(bNear + <usize>b) == 0 ? weight : 0, 16);
    }
  }
  setWord(MR_COUNT, inside);
  return ok();
}

/** Label the batch's points in bQ (into bLabel, 0 or 1): cells first, so their misses overlap. */
function labelBatch(count: i32): i32 {
  for (let b: i32 = 0; b < count; b++) {
    const q = bQ + <usize>b * 12;
    const c = cellOf(load<f32>(q), load<f32>(q, 4), load<f32>(q, 8));
    store<i32>(at4(bCell, b), c);
    if (c < 0) continue;
    store<u32>(at4(bFirst, b), cellFirst(c));
    store<u32>(at4(bLast, b), cellLast(c));
    store<u32>(at4(bLabel, b), cellLabel(c));
  }
  let inside: i32 = 0;
  for (let b: i32 = 0; b < count; b++) {
    const c = load<i32>(at4(bCell, b));
    let label: u32 = 0;
    if (c >= 0) {
      label = load<u32>(at4(bLabel, b));
      const first = load<u32>(at4(bFirst, b)), last = load<u32>(at4(bLast, b));
      if (first != last) {
        const q = bQ + <usize>b * 12;
        label = insideCell(load<f32>(q), load<f32>(q, 4), load<f32>(q, 8), label, first, last);
      }
    }
    store<u32>(at4(bLabel, b), label);
    inside += <i32>label;
  }
  return inside;
}

/** Label `count` float32 x y z points (stride 12 bytes) into bytes 0/1 at `out`; MR_COUNT: inside. */
export function labelPoints(points: usize, count: i32, out: usize): i32 {
  if (!insideReady()) return fail(S_NO_FACES, 0, 0);
  let n: i32 = 0;
  for (let k0: i32 = 0; k0 < count; k0 += BATCH) {
    const size = min(BATCH, count - k0);
    memory.copy(bQ, points + <usize>k0 * 12, <usize>size * 12);
    n += labelBatch(size);
    for (let b: i32 = 0; b < size; b++) store<u8>(out + <usize>(k0 + b), <u8>load<u32>(at4(bLabel, b)));
  }
  setWord(MR_COUNT, n);
  return ok();
}

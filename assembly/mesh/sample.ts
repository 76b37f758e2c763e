// Surface samples (NeuralParts) and occupancy samples: points drawn on and around the current mesh.
//
// Surface: a triangle with probability proportional to its area, by Walker's alias method (Vose's
// construction, float64 thresholds): bucket j = floor(r·T) and the fraction of r·T left over
// decide between triangle j and its alias. Then a uniform point in the triangle by the
// square-root barycentric method: s = sqrt(r1), p = (1 - s)a + s(1 - r2)b + s·r2·c. Each row is
// float32 x y z nx ny nz r g b: the triangle's unit normal (or the vertex normals interpolated
// and normalised), the colour interpolated.
//
// Speed: on a large mesh every table read is a cache miss, so each triangle gets one 96-byte
// record holding its alias entry, corners and colours: a draw reads one record, or two when the
// alias wins. Samples go in batches, stage by stage (all bucket records, then all alias records,
// then the points), so that the misses of a batch overlap instead of queueing. Sample k draws
// numbers k·STRIDE... of its file's counter-based stream (random.ts), so batching changes no
// bytes.
//
// Occupancy: see sampleOccupancy(); its inside test is in inside.ts.

import {
  S_NO_MEMORY, S_NO_FACES, S_NO_AREA, MR_COUNT, SURFACE_WIDTH, OCCUPANCY_WIDTH, NOISE_NORMAL,
} from "../../src/abi";
import { alloc, fail, ok, setWord, triangles, triangleCount, vertexAt, computeBounds, boundMin, boundMax, copy12 } from "./state";
import { seedRandom, randomAt, toUniform, gaussianPair, gaussianSin } from "./random";
import { insideReady, labelBatch } from "./inside";

// Per triangle: f64 threshold, u32 alias, unit normal (x y z), corners a b c (x y z), colours
// a b c (r g b), float32. A record's triangle is its place in the table.
const RECORD: usize = 96;
const R_NORMAL: usize = 12;
const R_CORNERS: usize = 24;
const R_COLOURS: usize = 60;
let table: usize = 0;
let total: f64 = 0;
let ready = false;

export function surfaceForget(): void {
  ready = false;
  chunksReady = false;
}

/** Build the alias table of the current mesh (once per mesh). */
export function prepareSurface(): i32 {
  const T = triangleCount;
  if (T == 0) return fail(S_NO_FACES, 0, 0);
  table = alloc(<usize>T * RECORD);
  const small = alloc(<usize>T * 4), large = alloc(<usize>T * 4);
  if (table == 0 || small == 0 || large == 0) return fail(S_NO_MEMORY, 0, 0);
  let sum: f64 = 0;
  for (let t: i32 = 0; t < T; t++) {
    const tri = triangles + <usize>t * 12;
    const a = vertexAt(load<u32>(tri)), b = vertexAt(load<u32>(tri, 4)), c = vertexAt(load<u32>(tri, 8));
    const ax = <f64>load<f32>(a), ay = <f64>load<f32>(a, 4), az = <f64>load<f32>(a, 8);
    const ux = <f64>load<f32>(b) - ax, uy = <f64>load<f32>(b, 4) - ay, uz = <f64>load<f32>(b, 8) - az;
    const wx = <f64>load<f32>(c) - ax, wy = <f64>load<f32>(c, 4) - ay, wz = <f64>load<f32>(c, 8) - az;
    const nx = uy * wz - uz * wy, ny = uz * wx - ux * wz, nz = ux * wy - uy * wx;
    const length = Math.sqrt(nx * nx + ny * ny + nz * nz);
    const area = 0.5 * length;
    sum += area;
    const rec = table + <usize>t * RECORD;
    store<f64>(rec, area);
    store<u32>(rec, t, 8);
    // Degenerate triangles are never drawn: their normal does not matter.
    const inv = length > 0 ? 1 / length : 0;
    store<f32>(rec + R_NORMAL, <f32>(nx * inv));
    store<f32>(rec + R_NORMAL, <f32>(ny * inv), 4);
    store<f32>(rec + R_NORMAL, <f32>(nz * inv), 8);
    copy12(rec + R_CORNERS, a);
    copy12(rec + R_CORNERS + 12, b);
    copy12(rec + R_CORNERS + 24, c);
    copy12(rec + R_COLOURS, a + 24);
    copy12(rec + R_COLOURS + 12, b + 24);
    copy12(rec + R_COLOURS + 24, c + 24);
  }
  total = sum;
  if (!(total > 0 && total < Infinity)) return fail(S_NO_AREA, 0, 0);
  // Vose: scale the areas to a mean of 1; pair each bucket under 1 with one over 1.
  const scale = <f64>T / total;
  let ns: i32 = 0, nl: i32 = 0;
  for (let t: i32 = 0; t < T; t++) {
    const rec = table + <usize>t * RECORD;
    const p = load<f64>(rec) * scale;
    store<f64>(rec, p);
    if (p < 1) store<u32>(small + (<usize>(ns++) << 2), t);
    else store<u32>(large + (<usize>(nl++) << 2), t);
  }
  while (ns > 0 && nl > 0) {
    const s = load<u32>(small + (<usize>(--ns) << 2));
    const l = load<u32>(large + (<usize>(nl - 1) << 2));
    const rs = table + <usize>s * RECORD, rl = table + <usize>l * RECORD;
    store<u32>(rs, l, 8);
    const p = load<f64>(rl) + load<f64>(rs) - 1;
    store<f64>(rl, p);
    if (p < 1) {
      nl--;
      store<u32>(small + (<usize>(ns++) << 2), l);
    }
  }
  // What is left is 1 up to rounding: always itself.
  while (ns > 0) store<f64>(table + <usize>load<u32>(small + (<usize>(--ns) << 2)) * RECORD, 1);
  while (nl > 0) store<f64>(table + <usize>load<u32>(large + (<usize>(--nl) << 2)) * RECORD, 1);
  if (!prepareChunks()) return fail(S_NO_MEMORY, 0, 0);
  ready = true;
  return ok();
}

export function surfaceArea(): f64 {
  return total;
}

// ---------------------------------------------------------------------------------------------
// Chunks and batches

// Samples are made a chunk at a time, in the order of their alias buckets (a counting sort of
// the draws by bucket / BUCKET_RECORDS): the table is then read nearly in sequence, not at random
// (on a large mesh random reads cost more in address translation than in cache misses), and the
// near-surface points of an occupancy chunk come out spatially coherent for the inside test.
// Each sample still draws from its own counters and goes to its own row.
const CHUNK: i32 = 65536;
const BUCKET_SHIFT: i32 = 6; // 64 records (6 KB) per sort bucket
let order: usize = 0; // u32 per chunk sample: sample offsets in bucket order
let keys: usize = 0; // u32 per chunk sample: its bucket, or -1 (not drawn from the table)
let histogram: usize = 0; // u32 per bucket, and one more
let buckets: i32 = 0;

let chunksReady = false;

/** The chunk buffers (once per mesh). */
function prepareChunks(): bool {
  if (chunksReady) return true;
  chunksReady = true;
  buckets = (triangleCount >> BUCKET_SHIFT) + 1;
  order = alloc(<usize>CHUNK * 4);
  keys = alloc(<usize>CHUNK * 4);
  histogram = alloc(<usize>(buckets + 1) * 4);
  return order != 0 && keys != 0 && histogram != 0;
}

/** The alias bucket of draw number c, and the fraction of r·T left over (to `coinOf`). */
let coinOf: f64 = 0;
@inline
function bucketOf(c: u64): i32 {
  const T = triangleCount;
  const y = toUniform(randomAt(c)) * <f64>T;
  let j = <i32>y;
  if (j >= T) j = T - 1;
  coinOf = y - <f64>j;
  return j;
}

/**
 * Sort the first `m` samples of the chunk (keys set by the caller: the bucket of each drawn
 * sample, 0xffffffff for the others) into `order` by bucket; returns how many were drawn.
 */
function sortChunk(m: i32): i32 {
  memory.fill(histogram, 0, <usize>(buckets + 1) * 4);
  let drawn: i32 = 0;
  for (let i: i32 = 0; i < m; i++) {
    const key = load<u32>(keys + (<usize>i << 2));
    if (key == 0xffffffff) continue;
    const at = histogram + (<usize>(key >> BUCKET_SHIFT) << 2);
    store<u32>(at, load<u32>(at) + 1);
    drawn++;
  }
  let running: u32 = 0;
  for (let k: i32 = 0; k < buckets; k++) {
    const at = histogram + (<usize>k << 2);
    const count = load<u32>(at);
    store<u32>(at, running);
    running += count;
  }
  for (let i: i32 = 0; i < m; i++) {
    const key = load<u32>(keys + (<usize>i << 2));
    if (key == 0xffffffff) continue;
    const at = histogram + (<usize>(key >> BUCKET_SHIFT) << 2);
    const slot = load<u32>(at);
    store<u32>(at, slot + 1);
    store<u32>(order + (<usize>slot << 2), i);
  }
  return drawn;
}

const BATCH: i32 = 64;
// Per sample of a batch: its number, the barycentric bits, the triangle's record, and (for
// interpolated vertex normals) its corners' vertex rows.
const bSample: usize = memory.data(BATCH * 4, 4);
const bBits: usize = memory.data(BATCH * 8, 8);
const bRec: usize = memory.data(BATCH * 4, 4);
const bA: usize = memory.data(BATCH * 4, 4);
const bB: usize = memory.data(BATCH * 4, 4);
const bC: usize = memory.data(BATCH * 4, 4);
// Per occupancy sample: the float32 point and its label (BATCH must not pass LABEL_BATCH).
const bQ: usize = memory.data(BATCH * 12, 4);
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

/**
 * Choose the triangles of the batch's samples (bSample): sample k draws counters k·stride and
 * the one after. Leaves the records in bRec and the barycentric bits in bBits, the records' lines
 * in the cache; with `rows`, the corners' vertex rows in bA, bB, bC (for vertex normals).
 */
function drawBatch(stride: u64, count: i32, rows: bool): void {
  // Stage 1: the buckets' records decide between the bucket and its alias.
  for (let b: i32 = 0; b < count; b++) {
    const c = <u64>load<u32>(at4(bSample, b)) * stride;
    const j = bucketOf(c);
    const rec = table + <usize>j * RECORD;
    const t = coinOf < load<f64>(rec) ? <u32>j : load<u32>(rec, 8);
    store<u32>(at4(bRec, b), <u32>(table + <usize>t * RECORD));
    store<u64>(at8(bBits, b), randomAt(c + 1));
  }
  // Stage 2: bring the chosen records in (and the corners' rows when asked).
  let sum: f32 = 0;
  for (let b: i32 = 0; b < count; b++) {
    const rec = <usize>load<u32>(at4(bRec, b));
    sum += load<f32>(rec, R_NORMAL) + load<f32>(rec, 84);
    if (rows) {
      const tri = triangles + (rec - table) / RECORD * 12;
      const a = vertexAt(load<u32>(tri)), bb = vertexAt(load<u32>(tri, 4)), c = vertexAt(load<u32>(tri, 8));
      store<u32>(at4(bA, b), <u32>a);
      store<u32>(at4(bB, b), <u32>bb);
      store<u32>(at4(bC, b), <u32>c);
      sum += load<f32>(a, 12) + load<f32>(bb, 12) + load<f32>(c, 12) + load<f32>(a, 20) + load<f32>(bb, 20) + load<f32>(c, 20);
    }
  }
  touched = sum;
}

// The barycentric weights of the point being made.
let wa: f64 = 0, wb: f64 = 0, wc: f64 = 0;

/** Weights from slot b's bits: s = sqrt(r1), (1 - s, s(1 - r2), s·r2). */
@inline
function weights(b: i32): void {
  const bits = load<u64>(at8(bBits, b));
  const r1 = <f64><i64>(bits >> 32) * 2.3283064365386963e-10;
  const r2 = <f64><i64>(bits & 0xffffffff) * 2.3283064365386963e-10;
  const s = Math.sqrt(r1);
  wa = 1 - s;
  wb = s * (1 - r2);
  wc = s * r2;
}

/** The weighted sum of a float32 at `offset` of the three corners in the record. */
@inline
function blend(rec: usize, offset: usize): f64 {
  return wa * <f64>load<f32>(rec + offset) + wb * <f64>load<f32>(rec + offset + 12) + wc * <f64>load<f32>(rec + offset + 24);
}

/** Weighted sum of one float32 at `offset` of the three corner vertex rows of slot b. */
@inline
function blendRows(b: i32, offset: usize): f64 {
  return wa * <f64>load<f32>(<usize>load<u32>(at4(bA, b)) + offset)
    + wb * <f64>load<f32>(<usize>load<u32>(at4(bB, b)) + offset)
    + wc * <f64>load<f32>(<usize>load<u32>(at4(bC, b)) + offset);
}

/**
 * `n` surface samples into rows of SURFACE_WIDTH float32 at `out`; with `trianglesOut` (not 0)
 * also each sample's triangle (u32). `vertexNormals`: interpolate the vertex normals instead of
 * the triangle's (where they cancel out, the triangle's). Sample k uses counters 2k and 2k + 1.
 */
export function sampleSurface(n: i32, seedLo: u32, seedHi: u32, vertexNormals: bool, out: usize, trianglesOut: usize): i32 {
  if (!ready) return fail(S_NO_FACES, 0, 0);
  seedRandom(seedLo, seedHi);
  for (let k0: i32 = 0; k0 < n; k0 += CHUNK) {
    const m = min(CHUNK, n - k0);
    for (let i: i32 = 0; i < m; i++) store<u32>(keys + (<usize>i << 2), bucketOf(<u64>(k0 + i) * 2));
    sortChunk(m);
    for (let i0: i32 = 0; i0 < m; i0 += BATCH) {
      const count = min(BATCH, m - i0);
      for (let b: i32 = 0; b < count; b++) store<u32>(at4(bSample, b), <u32>k0 + load<u32>(order + (<usize>(i0 + b) << 2)));
      drawBatch(2, count, vertexNormals);
      for (let b: i32 = 0; b < count; b++) {
        const k = load<u32>(at4(bSample, b));
        const rec = <usize>load<u32>(at4(bRec, b));
        weights(b);
        const row = out + <usize>k * (SURFACE_WIDTH * 4);
        store<f32>(row, <f32>blend(rec, R_CORNERS));
        store<f32>(row, <f32>blend(rec, R_CORNERS + 4), 4);
        store<f32>(row, <f32>blend(rec, R_CORNERS + 8), 8);
        if (vertexNormals) {
          const x = blendRows(b, 12), y = blendRows(b, 16), z = blendRows(b, 20);
          const length = Math.sqrt(x * x + y * y + z * z);
          if (length > 0) {
            store<f32>(row, <f32>(x / length), 12);
            store<f32>(row, <f32>(y / length), 16);
            store<f32>(row, <f32>(z / length), 20);
          } else copy12(row + 12, rec + R_NORMAL);
        } else copy12(row + 12, rec + R_NORMAL);
        store<f32>(row, <f32>blend(rec, R_COLOURS), 24);
        store<f32>(row, <f32>blend(rec, R_COLOURS + 4), 28);
        store<f32>(row, <f32>blend(rec, R_COLOURS + 8), 32);
        if (trianglesOut != 0) store<u32>(trianglesOut + (<usize>k << 2), <u32>((rec - table) / RECORD));
      }
    }
  }
  setWord(MR_COUNT, n);
  return ok();
}

// Counters per occupancy sample: uniform x y z, or the draw, the barycentric bits and two
// Gaussian pairs.
const OCCUPANCY_STRIDE: u64 = 8;

// The occupancy sampler's box, weight and noise (set per call).
let boxX: f64 = 0, boxY: f64 = 0, boxZ: f64 = 0, sizeX: f64 = 0, sizeY: f64 = 0, sizeZ: f64 = 0;
let uniformWeight: f32 = 0;
let spread: f64 = 0;
let alongNormal = false;

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
  if (!prepareChunks()) return fail(S_NO_MEMORY, 0, 0);
  seedRandom(seedLo, seedHi);
  occupancyOut = out;
  computeBounds();
  const minX = boundMin(0), minY = boundMin(1), minZ = boundMin(2);
  const maxX = boundMax(0), maxY = boundMax(1), maxZ = boundMax(2);
  const side = max(maxX - minX, max(maxY - minY, maxZ - minZ));
  const grow = margin * side;
  boxX = minX - grow; boxY = minY - grow; boxZ = minZ - grow;
  sizeX = maxX - boxX + grow; sizeY = maxY - boxY + grow; sizeZ = maxZ - boxZ + grow;
  uniformWeight = uniformCount > 0 ? <f32>(sizeX * sizeY * sizeZ / <f64>uniformCount) : 0;
  spread = sigma * side;
  alongNormal = noise == NOISE_NORMAL;
  let inside: i32 = 0;
  for (let k0: i32 = 0; k0 < n; k0 += CHUNK) {
    const m = min(CHUNK, n - k0);
    // Sample k is uniform when the running share of uniform samples steps up at k; the others
    // are drawn from the table, in bucket order.
    for (let i: i32 = 0; i < m; i++) {
      const k = <i64>(k0 + i);
      const isUniform = ((k + 1) * <i64>uniformCount) / <i64>n > (k * <i64>uniformCount) / <i64>n;
      if (isUniform) {
        store<u32>(keys + (<usize>i << 2), 0xffffffff);
      } else store<u32>(keys + (<usize>i << 2), bucketOf(<u64>k * OCCUPANCY_STRIDE));
    }
    const near = sortChunk(m);
    for (let i0: i32 = 0; i0 < near; i0 += BATCH) {
      const count = min(BATCH, near - i0);
      for (let b: i32 = 0; b < count; b++) store<u32>(at4(bSample, b), <u32>k0 + load<u32>(order + (<usize>(i0 + b) << 2)));
      drawBatch(OCCUPANCY_STRIDE, count, false);
      for (let b: i32 = 0; b < count; b++) nearPoint(b);
      inside += finishBatch(count, 0);
    }
    // The uniform samples, in row order.
    let b: i32 = 0;
    for (let i: i32 = 0; i < m; i++) {
      if (load<u32>(keys + (<usize>i << 2)) != 0xffffffff) continue;
      const k = <u32>(k0 + i);
      const c = <u64>k * OCCUPANCY_STRIDE;
      store<u32>(at4(bSample, b), k);
      const q = bQ + <usize>b * 12;
      store<f32>(q, <f32>(boxX + toUniform(randomAt(c)) * sizeX));
      store<f32>(q, <f32>(boxY + toUniform(randomAt(c + 1)) * sizeY), 4);
      store<f32>(q, <f32>(boxZ + toUniform(randomAt(c + 2)) * sizeZ), 8);
      if (++b == BATCH) {
        inside += finishBatch(b, uniformWeight);
        b = 0;
      }
    }
    if (b > 0) inside += finishBatch(b, uniformWeight);
  }
  setWord(MR_COUNT, inside);
  return ok();
}

/** The near-surface point of batch slot b (its triangle drawn) into bQ. */
@inline
function nearPoint(b: i32): void {
  const c = <u64>load<u32>(at4(bSample, b)) * OCCUPANCY_STRIDE;
  const rec = <usize>load<u32>(at4(bRec, b));
  weights(b);
  const px = blend(rec, R_CORNERS), py = blend(rec, R_CORNERS + 4), pz = blend(rec, R_CORNERS + 8);
  let x: f32, y: f32, z: f32;
  if (alongNormal) {
    const d = gaussianPair(c + 2) * spread;
    x = <f32>(px + d * <f64>load<f32>(rec, R_NORMAL));
    y = <f32>(py + d * <f64>load<f32>(rec, R_NORMAL + 4));
    z = <f32>(pz + d * <f64>load<f32>(rec, R_NORMAL + 8));
  } else {
    const g0 = gaussianPair(c + 2), g1 = gaussianSin;
    const g2 = gaussianPair(c + 4);
    x = <f32>(px + g0 * spread);
    y = <f32>(py + g1 * spread);
    z = <f32>(pz + g2 * spread);
  }
  const q = bQ + <usize>b * 12;
  store<f32>(q, x);
  store<f32>(q, y, 4);
  store<f32>(q, z, 8);
}

/** Label the batch's points and write their rows (each at its sample's row) with `weight`. */
function finishBatch(count: i32, weight: f32): i32 {
  const inside = labelBatch(bQ, count, bLabel);
  for (let b: i32 = 0; b < count; b++) {
    const q = bQ + <usize>b * 12;
    const row = occupancyOut + <usize>load<u32>(at4(bSample, b)) * (OCCUPANCY_WIDTH * 4);
    store<f32>(row, load<f32>(q));
    store<f32>(row, load<f32>(q, 4), 4);
    store<f32>(row, load<f32>(q, 8), 8);
    store<f32>(row, <f32>load<u32>(at4(bLabel, b)), 12);
    store<f32>(row, weight, 16);
  }
  return inside;
}

let occupancyOut: usize = 0;

/** Label `count` float32 x y z points (stride 12 bytes) into bytes 0/1 at `out`; MR_COUNT: inside. */
export function labelPoints(points: usize, count: i32, out: usize): i32 {
  if (!insideReady()) return fail(S_NO_FACES, 0, 0);
  let n: i32 = 0;
  for (let k0: i32 = 0; k0 < count; k0 += BATCH) {
    const size = min(BATCH, count - k0);
    n += labelBatch(points + <usize>k0 * 12, size, bLabel);
    for (let b: i32 = 0; b < size; b++) store<u8>(out + <usize>(k0 + b), <u8>load<u32>(at4(bLabel, b)));
  }
  setWord(MR_COUNT, n);
  return ok();
}

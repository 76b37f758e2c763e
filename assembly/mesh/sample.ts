// Surface samples (NeuralParts) and occupancy samples: points drawn on and around the current mesh.
//
// Surface: a triangle with probability proportional to its area, by the inverse of the areas'
// running sum (float64): the first triangle whose running sum passes u·total, searched from a
// guide table (Chen and Asau 1974) that maps the top bits of u to the first triangle their draws
// can pick, so a search is a step or two. Then a uniform point in the triangle by the
// square-root barycentric method: s = sqrt(r1), p = (1 - s)a + s(1 - r2)b + s·r2·c. Each row is
// float32 x y z nx ny nz r g b: the triangle's unit normal (or the vertex normals interpolated
// and normalised), the colour interpolated.
//
// Speed: on a large mesh a random read of the tables costs a cache miss and an address
// translation, and a random write of a row as much. So samples are made a chunk at a time in the
// order of their draws (a counting sort by the top bits of u), which reads the running sums, the
// triangles (three vertex numbers) and their normals in one sweep, and the vertices nearly so
// (neighbouring triangles share them); the rows, made in that order, reach their places in two
// passes (see placeWindows; occupancy's, slotFor). Per triangle the sweep reads 32 bytes (sum, vertex
// numbers, normal): per-triangle copies of the corners (84 bytes) made it read more than the
// vertices it saved, and cost a copy per file. Sample k draws numbers k·STRIDE... of its file's
// counter-based stream (random.ts), so the order of work changes no bytes: they depend on
// (seed, key, k) only.
//
// Occupancy: see sampleOccupancy(); its inside test is in inside.ts.

import {
  S_OK, S_NO_MEMORY, S_NO_FACES, S_NO_AREA, MR_COUNT, SURFACE_WIDTH, OCCUPANCY_WIDTH, NOISE_NORMAL,
} from "../../src/abi";
import { alloc, fail, ok, setWord, triangles, triangleCount, vertexAt, computeBounds, boundMin, boundMax, triangleCrossSquared, crossX, crossY, crossZ } from "./state";
import { seedRandom, randomAt, toUniform, gaussianPair, gaussianSin } from "./random";
import { insideReady, labelBatch, cornerRecord, insideAreaSums, insideAreaTotal, insideLastWithArea } from "./inside";

let faceNormals: usize = 0; // float32 x y z per triangle: its unit normal
let cdf: usize = 0; // f64 per triangle: the running sum of the areas, then +infinity
let guide: usize = 0; // u32 per guide bucket: the first triangle a draw in the bucket can pick
let guideBits: i32 = 1; // log2 of the guide buckets: about the triangles
let lastDrawn: i32 = 0; // the last triangle with area
let total: f64 = 0;
let ready = false; // the normals and the draw tables
let drawReady = false; // the draw tables: cdf, guide, histogram

export function surfaceForget(): void {
  ready = false;
  drawReady = false;
  chunkCapacity = 0;
  windowCapacity = 0;
}

/** Build the normals, the running sums and the guide table of the current mesh (once per mesh). */
export function prepareSurface(): i32 {
  const T = triangleCount;
  if (T == 0) return fail(S_NO_FACES, 0, 0);
  faceNormals = alloc(<usize>T * 12 + 4); // + 4: the last normal is read 16 bytes at a time
  cdf = alloc(<usize>(T + 1) * 8);
  if (faceNormals == 0 || cdf == 0) return fail(S_NO_MEMORY, 0, 0);
  // Two triangles at a time: one square root and one division for both (the same operations,
  // lane by lane, as one at a time).
  let sum: f64 = 0;
  let last: i32 = 0;
  let t: i32 = 0;
  for (; t + 1 < T; t += 2) {
    const q0 = triangleCrossSquared(t);
    const x0 = crossX, y0 = crossY, z0 = crossZ;
    const q1 = triangleCrossSquared(t + 1);
    const x1 = crossX, y1 = crossY, z1 = crossZ;
    const length = f64x2.sqrt(f64x2.replace_lane(f64x2.splat(q0), 1, q1));
    const inv = v128.and(f64x2.div(f64x2.splat(1), length), f64x2.gt(length, f64x2.splat(0)));
    const area = f64x2.mul(f64x2.splat(0.5), length);
    const a0 = f64x2.extract_lane(area, 0), a1 = f64x2.extract_lane(area, 1);
    sum += a0;
    store<f64>(cdf + (<usize>t << 3), sum);
    sum += a1;
    store<f64>(cdf + (<usize>t << 3), sum, 8);
    if (a0 > 0) last = t;
    if (a1 > 0) last = t + 1;
    const i0 = f64x2.extract_lane(inv, 0), i1 = f64x2.extract_lane(inv, 1);
    const normal = faceNormals + <usize>t * 12;
    store<f32>(normal, <f32>(x0 * i0));
    store<f32>(normal, <f32>(y0 * i0), 4);
    store<f32>(normal, <f32>(z0 * i0), 8);
    store<f32>(normal, <f32>(x1 * i1), 12);
    store<f32>(normal, <f32>(y1 * i1), 16);
    store<f32>(normal, <f32>(z1 * i1), 20);
  }
  for (; t < T; t++) {
    const length = Math.sqrt(triangleCrossSquared(t));
    const nx = crossX, ny = crossY, nz = crossZ;
    const area = 0.5 * length;
    sum += area;
    store<f64>(cdf + (<usize>t << 3), sum);
    if (area > 0) last = t;
    // Degenerate triangles are never drawn: their normal does not matter.
    const inv = length > 0 ? 1 / length : 0;
    const normal = faceNormals + <usize>t * 12;
    store<f32>(normal, <f32>(nx * inv));
    store<f32>(normal, <f32>(ny * inv), 4);
    store<f32>(normal, <f32>(nz * inv), 8);
  }
  lastDrawn = last;
  store<f64>(cdf + (<usize>T << 3), Infinity);
  total = sum;
  if (!(total > 0 && total < Infinity)) return fail(S_NO_AREA, 0, 0);
  const status = prepareGuide();
  if (status != S_OK) return status;
  ready = true;
  return ok();
}

/**
 * The draw tables of the occupancy sampler from the inside test's running sums of the areas (the
 * same bits as prepareSurface()'s), without the surface records: near-surface points read the
 * inside test's corner records. prepareInside() first.
 */
export function prepareOccupancy(): i32 {
  if (drawReady) return ok();
  if (!insideReady()) return fail(S_NO_FACES, 0, 0);
  cdf = insideAreaSums();
  total = insideAreaTotal();
  lastDrawn = insideLastWithArea();
  if (!(total > 0 && total < Infinity)) return fail(S_NO_AREA, 0, 0);
  return prepareGuide();
}

/** The guide table over `cdf` (and the sort's histogram): the draw tables are then ready. */
function prepareGuide(): i32 {
  const T = triangleCount;
  guideBits = 1;
  while (guideBits < 30 && (<i32>1 << guideBits) < T) guideBits++;
  const G = <i32>1 << guideBits;
  guide = alloc(<usize>G * 4);
  histogram = alloc(<usize>(SORT_BUCKETS + 1) * 4);
  if (guide == 0 || histogram == 0) return fail(S_NO_MEMORY, 0, 0);
  // Guide bucket j holds the draws x = u·total with u in [j/G, (j+1)/G): its entry is the first
  // triangle whose running sum passes j/G·total, rounded as the draws are, so never past theirs
  // (rounding is monotonic). A zero-area triangle's sum equals the one before it, so no draw
  // stops on it.
  // 1/G passes through memory: TurboFan would recompute the division in the loop otherwise.
  store<f64>(guideScratch, 1 / <f64>G);
  fillGuide(G, load<f64>(guideScratch), total, cdf, guide);
  drawReady = true;
  return ok();
}

const guideScratch: usize = memory.data(8, 8);

/** Guide entries j = 0 .. G - 1 (see prepareGuide). */
function fillGuide(G: i32, step: f64, total: f64, cdf: usize, guide: usize): void {
  let t: i32 = 0;
  for (let j: i32 = 0; j < G; j++) {
    const y = <f64>j * step * total;
    while (load<f64>(cdf + (<usize>t << 3)) <= y) t++;
    store<u32>(guide + (<usize>j << 2), t);
  }
}

export function surfaceArea(): f64 {
  return total;
}

/** The triangle of a draw (random bits r): the first whose running sum passes u·total. */
@inline
function triangleOf(r: u64, cdf: usize, guide: usize, shift: u64, total: f64): i32 {
  const x = toUniform(r) * total;
  let t = <i32>load<u32>(guide + (<usize>(r >> shift) << 2));
  // The guide table has a bucket per triangle or more, so nearly every draw stops within two
  // steps: taken without branches (a mispredicted one costs as much as the rest of the search),
  // the rare longer walk by the loop. No step passes the +infinity at the end of the sums.
  t += <i32>(load<f64>(cdf + (<usize>t << 3)) <= x);
  t += <i32>(load<f64>(cdf + (<usize>t << 3)) <= x);
  while (load<f64>(cdf + (<usize>t << 3)) <= x) t++;
  return t < triangleCount ? t : lastDrawn;
}

// ---------------------------------------------------------------------------------------------
// Chunks: draws sorted, rows scattered

// The draws of a chunk are sorted by their top SORT_BITS bits (the guide table's order, so the
// records and sums are read in one sweep). A chunk has a few times as many samples as the mesh
// has triangles, so that the sweep reads each line once for several samples.
const SORT_BITS: i32 = 12;
const SORT_BUCKETS: i32 = 1 << SORT_BITS;
const MIN_CHUNK: i32 = 1 << 16;
const MAX_CHUNK: i32 = 1 << 19;
let chunkCapacity: i32 = 0; // samples the chunk buffers hold
let order: usize = 0; // u32 per chunk sample: sample offsets in draw order
let keys: usize = 0; // u32 per chunk sample: its sort key, or NOT_DRAWN
let histogram: usize = 0; // u32 per sort key, and one more
let staging: usize = 0; // STAGED bytes per chunk sample (occupancy)
const NOT_DRAWN: u32 = 0xffffffff;

/**
 * The chunk size for n samples of the current mesh, -1 when its buffers do not fit; `staged`:
 * with the staging area (occupancy's rows).
 */
function chunkFor(n: i32, staged: bool): i32 {
  let size = MIN_CHUNK;
  while (size < MAX_CHUNK && size < 2 * triangleCount) size <<= 1;
  size = min(size, n);
  if (size > chunkCapacity || (staged && staging == 0)) {
    order = alloc(<usize>size * 4);
    keys = alloc(<usize>size * 4);
    staging = staged ? alloc(<usize>size * STAGED) : 0;
    if (order == 0 || keys == 0 || (staged && staging == 0)) {
      chunkCapacity = 0;
      return -1;
    }
    chunkCapacity = size;
  }
  return size;
}

/** The sort key of a draw's random bits: their top bits. */
@inline
function keyOf(r: u64): u32 {
  return <u32>(r >> (64 - SORT_BITS));
}

/**
 * Sort the first `m` samples of the chunk by key into `order` (keys and their counts in
 * `histogram` set by the caller); returns how many were drawn.
 */
function sortChunk(m: i32): i32 {
  let running: u32 = 0;
  for (let k: i32 = 0; k < SORT_BUCKETS; k++) {
    const at = histogram + (<usize>k << 2);
    const count = load<u32>(at);
    store<u32>(at, running);
    running += count;
  }
  for (let i: i32 = 0; i < m; i++) {
    const key = load<u32>(keys + (<usize>i << 2));
    if (key == NOT_DRAWN) continue;
    const at = histogram + (<usize>key << 2);
    const slot = load<u32>(at);
    store<u32>(at, slot + 1);
    store<u32>(order + (<usize>slot << 2), i);
  }
  return <i32>running;
}

/** Set sample i's key and count it. */
@inline
function setKey(i: i32, key: u32): void {
  store<u32>(keys + (<usize>i << 2), key);
  const at = histogram + (<usize>key << 2);
  store<u32>(at, load<u32>(at) + 1);
}

// Rows made in draw order reach their places in two passes, as in a radix sort: first each into
// its group (GROUPS groups of consecutive rows, each a write stream of its own in `staging`),
// then group by group into the output, where a group's rows (about 70 KB) stay in the cache. A
// row written straight to its place would cost a cache miss and often an address translation.
const GROUPS: i32 = 256;
const STAGED: usize = 40; // a row (36 bytes at most) and its sample's offset in the chunk (u32)
const cursors: usize = memory.data(GROUPS * 4, 16);
let groupBits: i32 = 0;

/** Start the chunk's groups: group g's rows go to staging slots from g << groupBits. */
function startGroups(m: i32): void {
  groupBits = 0;
  while ((GROUPS << groupBits) < m) groupBits++;
  for (let g: i32 = 0; g < GROUPS; g++) store<u32>(cursors + (<usize>g << 2), <u32>g << groupBits);
}

/** The staging slot for the row of the chunk's sample at `offset`. */
@inline
function slotFor(offset: u32, shift: u32): usize {
  const at = cursors + (<usize>(offset >> shift) << 2);
  const slot = load<u32>(at);
  store<u32>(at, slot + 1);
  return staging + <usize>slot * STAGED;
}

/** The chunk's staged occupancy rows into their places from `rows`. */
function scatter(rows: usize): void {
  for (let g: i32 = 0; g < GROUPS; g++) {
    let from = staging + (<usize>g << groupBits) * STAGED;
    const end = staging + <usize>load<u32>(cursors + (<usize>g << 2)) * STAGED;
    for (; from < end; from += STAGED) {
      const to = rows + <usize>load<u32>(from, 36) * (OCCUPANCY_WIDTH * 4);
      v128.store(to, v128.load(from));
      store<u32>(to, load<u32>(from, 16), 16);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Surface

/** Two float32 at p as float64 lanes. */
@inline
function pair(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** A vertex's z and b (staging row at v) as float64 lanes. */
@inline
function zAndB(v: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load32_lane(v + 32, v128.load32_zero(v + 8), 1));
}

/**
 * The row at `row` of the point with weights (wa, wb, wc) in the triangle of vertices (staging
 * rows) a b c: x y z, the normal `n` (float32 x y z in lanes 0 to 2), r g b. Each coordinate and
 * colour is the float64 sum wa·a + wb·b + wc·c rounded to float32, two lanes at a time (the same
 * arithmetic, and so the same bits, as one at a time); the row goes out in three stores, not
 * seven: the lines it lands on are mostly cache misses.
 */
@inline
function placeRow(a: usize, b: usize, c: usize, n: v128, row: usize, wa: f64, wb: f64, wc: f64): void {
  const sa = f64x2.splat(wa), sb = f64x2.splat(wb), sc = f64x2.splat(wc);
  let xy = f64x2.mul(pair(a), sa), zb = f64x2.mul(zAndB(a), sa), rg = f64x2.mul(pair(a + 24), sa);
  xy = f64x2.add(xy, f64x2.mul(pair(b), sb));
  zb = f64x2.add(zb, f64x2.mul(zAndB(b), sb));
  rg = f64x2.add(rg, f64x2.mul(pair(b + 24), sb));
  xy = f64x2.add(xy, f64x2.mul(pair(c), sc));
  zb = f64x2.add(zb, f64x2.mul(zAndB(c), sc));
  rg = f64x2.add(rg, f64x2.mul(pair(c + 24), sc));
  const xyzb = f32x4.shuffle(f32x4.demote_f64x2_zero(xy), f32x4.demote_f64x2_zero(zb), 0, 1, 4, 5);
  v128.store(row, f32x4.shuffle(xyzb, n, 0, 1, 2, 4));
  v128.store(row, f32x4.shuffle(n, f32x4.demote_f64x2_zero(rg), 1, 2, 4, 5), 16);
  v128.store32_lane(row, xyzb, 3, 32);
}

/** s = sqrt(r1) and r2 from 64 random bits: the weights are (1 - s, s(1 - r2), s·r2). */
@inline
function rootOf(bits: u64): f64 {
  return Math.sqrt(<f64><i64>(bits >> 32) * 2.3283064365386963e-10);
}

@inline
function r2Of(bits: u64): f64 {
  return <f64><i64>(bits & 0xffffffff) * 2.3283064365386963e-10;
}

/**
 * `n` surface samples into rows of SURFACE_WIDTH float32 at `out`; with `trianglesOut` (not 0)
 * also each sample's triangle (u32). `vertexNormals`: interpolate the vertex normals instead of
 * the triangle's (where they cancel out, the triangle's). Sample k uses counters 2k and 2k + 1.
 */
export function sampleSurface(n: i32, seedLo: u32, seedHi: u32, vertexNormals: bool, out: usize, trianglesOut: usize): i32 {
  if (!ready) return fail(S_NO_FACES, 0, 0);
  const size = chunkFor(n, false);
  if (size < 0 || !windowsFor(size)) return fail(S_NO_MEMORY, 0, 0);
  seedRandom(seedLo, seedHi);
  for (let k0: i32 = 0; k0 < n; k0 += size) {
    const m = min(size, n - k0);
    memory.fill(histogram, 0, <usize>SORT_BUCKETS * 4);
    for (let i: i32 = 0; i < m; i++) setKey(i, keyOf(randomAt(<u64>(k0 + i) * 2)));
    sortChunk(m);
    startWindows(m);
    const rows = out + <usize>k0 * (SURFACE_WIDTH * 4);
    surfaceChunk(<u32>k0, m, trianglesOut, vertexNormals, rows, <u64>(64 - guideBits), (<u32>1 << <u32>windowBits) - 1);
    placeWindows(rows);
  }
  setWord(MR_COUNT, n);
  return ok();
}

// Surface rows need no staging area: the rows of window w (WINDOWS runs of consecutive rows of
// the chunk) are made in that window of the output, in draw order, each noting its place in the
// window (u16: a window has at most 2^19 / WINDOWS rows); then each window is put in order
// through a copy (about 1 MB, in the cache). Few windows make few write streams for the sweep,
// which cost less than smaller windows would save (16 against 256: 1M samples ~15% faster).
const WINDOWS: i32 = 16;
let windowBits: i32 = 0;
let positions: usize = 0; // u16 per chunk sample: its row's place in its window
let windowCopy: usize = 0;
let windowCapacity: i32 = 0;

/** Buffers for chunks of `size` surface samples; false when they do not fit. */
function windowsFor(size: i32): bool {
  if (size <= windowCapacity) return true;
  let bits = 0;
  while ((WINDOWS << bits) < size) bits++;
  positions = alloc(<usize>size * 2);
  windowCopy = alloc((<usize>1 << bits) * (SURFACE_WIDTH * 4));
  windowCapacity = positions != 0 && windowCopy != 0 ? size : 0;
  return windowCapacity > 0;
}

/** Start the chunk's windows: window w's rows are made from row w << windowBits on. */
function startWindows(m: i32): void {
  windowBits = 0;
  while ((WINDOWS << windowBits) < m) windowBits++;
  for (let w: i32 = 0; w < WINDOWS; w++) store<u32>(cursors + (<usize>w << 2), <u32>w << windowBits);
}

/** Each window's rows (made by surfaceChunk in draw order) into their places. */
function placeWindows(rows: usize): void {
  for (let w: i32 = 0; w < WINDOWS; w++) {
    const first = <usize>w << windowBits;
    const count = <usize>load<u32>(cursors + (<usize>w << 2)) - first;
    if (count == 0) continue;
    const window = rows + first * (SURFACE_WIDTH * 4);
    memory.copy(windowCopy, window, count * (SURFACE_WIDTH * 4));
    const places = positions + (first << 1);
    for (let j: usize = 0; j < count; j++) {
      const from = windowCopy + j * (SURFACE_WIDTH * 4);
      const to = window + <usize>load<u16>(places + (j << 1)) * (SURFACE_WIDTH * 4);
      v128.store(to, v128.load(from));
      v128.store(to, v128.load(from, 16), 16);
      store<u32>(to, load<u32>(from, 32), 32);
    }
  }
}

/**
 * The rows of the chunk's m samples from sample k0 on, made in draw order, into their groups.
 * `vertexNormals`: each row's normal interpolated from its corners' (see vertexNormal).
 */
function surfaceChunk(k0: u32, m: i32, trianglesOut: usize, vertexNormals: bool, rows: usize, shift: u64, mask: u32): void {
  // `shift` (the guide's) and `mask` (a window's rows) come from the caller: computed here,
  // TurboFan recomputed them in every iteration.
  const sums = cdf, firsts = guide, sorted = order, all = total, normals = faceNormals, corners = triangles;
  const windowShift = <u32>windowBits;
  for (let i: i32 = 0; i < m; i++) {
    const offset = load<u32>(sorted + (<usize>i << 2));
    const k = k0 + offset;
    const c = <u64>k * 2;
    const t = triangleOf(randomAt(c), sums, firsts, shift, all);
    const tri = corners + <usize>t * 12;
    const a = vertexAt(load<u32>(tri)), b = vertexAt(load<u32>(tri, 4)), cc = vertexAt(load<u32>(tri, 8));
    const bits = randomAt(c + 1);
    const s = rootOf(bits), r2 = r2Of(bits);
    const wa = 1 - s, wb = s * (1 - r2), wc = s * r2;
    let n = v128.load(normals + <usize>t * 12); // nx ny nz and a float of the next triangle's
    if (vertexNormals) n = vertexNormal(a, b, cc, wa, wb, wc, n);
    const at = cursors + (<usize>(offset >> windowShift) << 2);
    const slot = load<u32>(at);
    store<u32>(at, slot + 1);
    store<u16>(positions + (<usize>slot << 1), <u16>(offset & mask));
    placeRow(a, b, cc, n, rows + <usize>slot * (SURFACE_WIDTH * 4), wa, wb, wc);
    if (trianglesOut != 0) store<u32>(trianglesOut + (<usize>k << 2), <u32>t);
  }
}

/**
 * The corners' normals (staging rows a b c) with weights (wa, wb, wc), normalised, as float32 in
 * lanes 0 to 2; where they cancel out, `face`. In float64, x and y two lanes at a time.
 */
@inline
function vertexNormal(a: usize, b: usize, c: usize, wa: f64, wb: f64, wc: f64, face: v128): v128 {
  const xy = f64x2.add(f64x2.add(
    f64x2.mul(f64x2.splat(wa), pair(a + 12)),
    f64x2.mul(f64x2.splat(wb), pair(b + 12))),
    f64x2.mul(f64x2.splat(wc), pair(c + 12)));
  const z = wa * <f64>load<f32>(a, 20) + wb * <f64>load<f32>(b, 20) + wc * <f64>load<f32>(c, 20);
  const x = f64x2.extract_lane(xy, 0), y = f64x2.extract_lane(xy, 1);
  const length = Math.sqrt(x * x + y * y + z * z);
  if (!(length > 0)) return face;
  const unit = f32x4.demote_f64x2_zero(f64x2.div(xy, f64x2.splat(length)));
  return f32x4.replace_lane(unit, 2, <f32>(z / length));
}

// ---------------------------------------------------------------------------------------------
// Occupancy

// Counters per occupancy sample: uniform x y z, or the draw, the barycentric bits and two
// Gaussian pairs.
const OCCUPANCY_STRIDE: u64 = 8;

// The occupancy sampler's box, weight and noise (set per call).
let boxX: f64 = 0, boxY: f64 = 0, boxZ: f64 = 0, sizeX: f64 = 0, sizeY: f64 = 0, sizeZ: f64 = 0;
let uniformWeight: f32 = 0;
let spread: f64 = 0;
let alongNormal = false;

const BATCH: i32 = 64;
// Per occupancy sample of a batch: its offset in the chunk, the float32 point and its label
// (BATCH must not pass LABEL_BATCH).
const bOffset: usize = memory.data(BATCH * 4, 4);
const bTriangle: usize = memory.data(BATCH * 4, 4);
let touchedRecords: f32 = 0; // kept, so that the loads that touch the records are not dropped
const bQ: usize = memory.data(BATCH * 12, 4);
const bLabel: usize = memory.data(BATCH * 4, 4);

@inline
function at4(base: usize, b: i32): usize {
  return base + (<usize>b << 2);
}

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
 *
 * Near-surface samples are made and labelled in draw order (so that neighbours on the surface
 * are labelled together and share the inside grid's cache lines), and their rows scattered to
 * their places; uniform samples are made and written in row order.
 */
export function sampleOccupancy(
  n: i32, uniformCount: i32, seedLo: u32, seedHi: u32, margin: f64, sigma: f64, noise: i32, out: usize,
): i32 {
  if (uniformCount < n && !drawReady) return fail(S_NO_FACES, 0, 0);
  if (!insideReady()) return fail(S_NO_FACES, 0, 0);
  const size = chunkFor(n, true);
  if (size < 0) return fail(S_NO_MEMORY, 0, 0);
  seedRandom(seedLo, seedHi);
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
  for (let k0: i32 = 0; k0 < n; k0 += size) {
    const m = min(size, n - k0);
    const rows = out + <usize>k0 * (OCCUPANCY_WIDTH * 4);
    // Sample k is uniform when the running share of uniform samples steps up at k:
    // floor((k + 1)u / n) > floor(k·u / n), kept as the remainder of k·u by n.
    if (drawReady) memory.fill(histogram, 0, <usize>SORT_BUCKETS * 4);
    let remainder = (<i64>k0 * <i64>uniformCount) % <i64>n;
    for (let i: i32 = 0; i < m; i++) {
      remainder += <i64>uniformCount;
      if (remainder >= <i64>n) {
        remainder -= <i64>n;
        store<u32>(keys + (<usize>i << 2), NOT_DRAWN);
      } else setKey(i, keyOf(randomAt(<u64>(k0 + i) * OCCUPANCY_STRIDE)));
    }
    const near = drawReady ? sortChunk(m) : 0;
    startGroups(m);
    const groupShift = <u32>groupBits;
    for (let i0: i32 = 0; i0 < near; i0 += BATCH) {
      const count = min(BATCH, near - i0);
      // The batch's triangles first, each one's corner record touched, so that the cache misses
      // of a batch overlap; then the points.
      let touched: f32 = 0;
      for (let b: i32 = 0; b < count; b++) {
        const offset = load<u32>(order + (<usize>(i0 + b) << 2));
        store<u32>(at4(bOffset, b), offset);
        const t = triangleOf(randomAt(<u64>(<u32>k0 + offset) * OCCUPANCY_STRIDE), cdf, guide, <u64>(64 - guideBits), total);
        store<u32>(at4(bTriangle, b), t);
        touched += load<f32>(cornerRecord(t));
      }
      touchedRecords = touched;
      for (let b: i32 = 0; b < count; b++) nearPoint(b, <u32>k0 + load<u32>(at4(bOffset, b)), <i32>load<u32>(at4(bTriangle, b)));
      inside += labelBatch(bQ, count, bLabel);
      for (let b: i32 = 0; b < count; b++) {
        const offset = load<u32>(at4(bOffset, b));
        const row = slotFor(offset, groupShift);
        writeRow(row, b, 0);
        store<u32>(row, offset, 36);
      }
    }
    scatter(rows);
    // The uniform samples, in row order.
    let b: i32 = 0;
    for (let i: i32 = 0; i < m; i++) {
      if (load<u32>(keys + (<usize>i << 2)) != NOT_DRAWN) continue;
      const c = <u64>(k0 + i) * OCCUPANCY_STRIDE;
      store<u32>(at4(bOffset, b), i);
      const q = bQ + <usize>b * 12;
      store<f32>(q, <f32>(boxX + toUniform(randomAt(c)) * sizeX));
      store<f32>(q, <f32>(boxY + toUniform(randomAt(c + 1)) * sizeY), 4);
      store<f32>(q, <f32>(boxZ + toUniform(randomAt(c + 2)) * sizeZ), 8);
      if (++b == BATCH) {
        inside += uniformBatch(b, rows);
        b = 0;
      }
    }
    if (b > 0) inside += uniformBatch(b, rows);
  }
  setWord(MR_COUNT, inside);
  return ok();
}

/**
 * The near-surface point of sample k, whose draw is triangle t, into batch slot b of bQ. The
 * triangle's corners come from the inside test's records (48 bytes, where the surface records have
 * 84), its normal computed as prepareSurface() does.
 */
@inline
function nearPoint(b: i32, k: u32, t: i32): void {
  const c = <u64>k * OCCUPANCY_STRIDE;
  const rec = cornerRecord(t);
  const bits = randomAt(c + 1);
  const s = rootOf(bits), r2 = r2Of(bits);
  const wa = 1 - s, wb = s * (1 - r2), wc = s * r2;
  const ax = <f64>load<f32>(rec), ay = <f64>load<f32>(rec, 4), az = <f64>load<f32>(rec, 8);
  const bx = <f64>load<f32>(rec, 12), by = <f64>load<f32>(rec, 16), bz = <f64>load<f32>(rec, 20);
  const cx = <f64>load<f32>(rec, 24), cy = <f64>load<f32>(rec, 28), cz = <f64>load<f32>(rec, 32);
  const px = wa * ax + wb * bx + wc * cx;
  const py = wa * ay + wb * by + wc * cy;
  const pz = wa * az + wb * bz + wc * cz;
  let x: f32, y: f32, z: f32;
  if (alongNormal) {
    const ux = bx - ax, uy = by - ay, uz = bz - az;
    const vx = cx - ax, vy = cy - ay, vz = cz - az;
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    const length = Math.sqrt(nx * nx + ny * ny + nz * nz);
    const inv = length > 0 ? 1 / length : 0;
    const d = gaussianPair(c + 2) * spread;
    x = <f32>(px + d * <f64><f32>(nx * inv));
    y = <f32>(py + d * <f64><f32>(ny * inv));
    z = <f32>(pz + d * <f64><f32>(nz * inv));
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

/** The row of batch slot b: its point, its label and `weight`. */
@inline
function writeRow(row: usize, b: i32, weight: f32): void {
  const q = bQ + <usize>b * 12;
  store<u64>(row, load<u64>(q));
  store<f32>(row, load<f32>(q, 8), 8);
  store<f32>(row, <f32>load<u32>(at4(bLabel, b)), 12);
  store<f32>(row, weight, 16);
}

/** Label the batch's uniform points and write their rows (slot b's at its offset from `rows`). */
function uniformBatch(count: i32, rows: usize): i32 {
  const inside = labelBatch(bQ, count, bLabel);
  for (let b: i32 = 0; b < count; b++) {
    writeRow(rows + <usize>load<u32>(at4(bOffset, b)) * (OCCUPANCY_WIDTH * 4), b, uniformWeight);
  }
  return inside;
}

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

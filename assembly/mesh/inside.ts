// Is a point inside the current mesh? Ray parity on a uniform grid, with a three-axis vote.
//
// Structure. A uniform grid of cubic cells over the mesh's bounding box, padded by a cell and a
// fraction on every side (so that the outermost cells are empty and cell centres are unlikely to
// lie on axis-aligned geometry). Each cell lists the triangles whose bounding box meets it: per
// entry the triangle's number and its box in the cell's own coordinates, quantized to 1/128ths
// of the cell (8 bytes an entry, tested four at a time against a point: one saturating byte subtraction), so that a
// query reads a few cache lines, and the triangles' corners once each in a table of their own.
//
// Cell centres are labelled once per mesh. Along each axis, for each column of cells, the line
// through the column's centres is crossed with every triangle whose projection covers it (each
// triangle visits only the few columns its box spans); the parity of the crossings before each
// centre says inside or outside as seen from -infinity along that axis. The three axes vote, so
// that a hole in the surface misleads at most the one axis whose line passes through it.
//
// A query point in a cell with no triangles takes the cell's label (most points of a uniform
// sample), read from a table of two bits a cell. Otherwise it walks along one axis, cell by
// cell, to the first empty cell, and takes that cell's label flipped once for each crossing on
// the way: each cell knows which of its six axis directions reaches an empty cell soonest (a
// walk from each cell with triangles), so a walk is usually one or two cells and tests only the
// few triangles whose projection covers the point: O(triangles near the point) instead of
// O(triangles). A triangle listed in several cells is counted only in the cell that holds its
// crossing point. On a 188,000-triangle head a near-surface point walks about 1.1 cells, scans a
// few dozen entries and makes one or two exact tests.
//
// Degenerate hits. A line through an edge or a vertex must cross exactly one of the triangles
// that meet there. Each axis test is a 2D point-in-triangle test in the plane across the axis,
// made watertight two ways: every edge's function is computed from its lexicographically smaller
// end, so that the two triangles sharing an edge see exactly opposite values; and a value of
// exactly 0 is decided by simulation of simplicity, as if the point were moved by (ε, ε²) in the
// plane. Differences of float32 coordinates are exact in float64 and so are their products in
// the common case, so the signs are the true ones there. Triangles seen edge-on never count.
// A point exactly on the surface may go either way.
//
// Why not the generalised winding number (Barill et al. 2018)? It is the more graceful answer
// for meshes with large holes, but its tree walk costs microseconds per point; the goal here is
// millions of points per second, and for closed or nearly closed heads the vote is as robust.

import { S_NO_MEMORY, S_NO_FACES, MR_GRID, MR_RECORDS, MR_COUNT } from "../../src/abi";
import { alloc, fail, ok, setWord, triangles, triangleCount, vertexCount, vertexAt, computeBounds, boundMin, boundMax, copy12, triangleCross, crossOf } from "./state";

let ox: f64 = 0, oy: f64 = 0, oz: f64 = 0; // grid origin
let h: f64 = 1, inv: f64 = 1; // cell side and its reciprocal
let nx: i32 = 0, ny: i32 = 0, nz: i32 = 0;
// u32 per cell, and one past the last: the cell's first entry (bits 0-27), its walk direction
// (bits 28-30: 0 +x, 1 -x, 2 +y, 3 -y, 4 +z, 5 -z) and its centre's label (bit 31).
let cellWords: usize = 0;
// u64 per entry: bytes x0 y0 z0 0 x1' y1' z1' 0, in 1/128ths of the cell, the maximum stored as
// 127 - x1 (x1' etc.), so that a point passes when each of its bytes is at least the entry's.
let entryBox: usize = 0;
let entryTriangle: usize = 0; // u32 per entry
// Two bits per cell, four cells a byte: the cell's kind, for queries that need no more (most):
// KIND_OUT and KIND_IN for empty cells by their centre's label, KIND_WALK for cells with
// triangles. A hundred kilobytes, where the cell words are one and a half megabytes.
let cellKinds: usize = 0;
const KIND_OUT: u32 = 0, KIND_IN: u32 = 1, KIND_WALK: u32 = 2;
let corners: usize = 0; // per triangle: a b c (float32 x y z) and edge flags, TRI bytes
// The running sum of the triangles' areas (float64 per triangle, then +infinity), their total and
// the last triangle with area: the occupancy sampler draws from them (sample.ts).
let areaSums: usize = 0;
let areaTotal: f64 = 0;
let lastWithArea: i32 = 0;
let ready = false;

const TRI: usize = 40;
const SPAN: usize = 12; // per triangle while building: its box, u16 x0 y0 z0 x1 y1 z1 (see fineAlong)
const FIRST_MASK: u32 = 0x0fffffff;

export function insideForget(): void {
  ready = false;
}

export function insideReady(): bool {
  return ready;
}

/** Triangle t's corners a b c, float32 x y z each (the current mesh's, once prepareInside ran). */
@inline
export function cornerRecord(t: i32): usize {
  return corners + <usize>t * TRI;
}

export function insideAreaSums(): usize {
  return areaSums;
}

export function insideAreaTotal(): f64 {
  return areaTotal;
}

export function insideLastWithArea(): i32 {
  return lastWithArea;
}

// Largest cells per axis (memory: 4 bytes and a bit per cell), and the fewest along the longest side.
const MAX_CELLS_PER_AXIS: f64 = 192;
const MIN_CELLS_PER_AXIS: f64 = 8;

/**
 * The centre of cell i along an axis. Only empty cells' centre labels are used (a walk ends in
 * an empty cell), and no surface comes within half a cell of those centres, so rounding here
 * cannot move a crossing to the wrong side of one.
 */
@inline
function centre(axis: i32, i: i32): f64 {
  return origin(axis) + (<f64>i + 0.5) * h;
}

@inline
function origin(axis: i32): f64 {
  return axis == 0 ? ox : axis == 1 ? oy : oz;
}

@inline
function cells(axis: i32): i32 {
  return axis == 0 ? nx : axis == 1 ? ny : nz;
}

@inline
function cellIndex(i: i32, j: i32, k: i32): usize {
  return (<usize>k * <usize>ny + <usize>j) * <usize>nx + <usize>i;
}

/** v in 1/128ths of cell `i` along an axis, floored and clamped to 0-127. */
@inline
function quantize(v: f64, o: f64, i: i32): u64 {
  const q = ((v - o) * inv - <f64>i) * 128;
  return q <= 0 ? 0 : q >= 127 ? 127 : <u64>q; // truncation is the floor here
}

/** v in 1/128ths of a cell from the origin along an axis (floor), clamped to the grid. */
@inline
function fineAlong(v: f32, o: f64, n: i32): i32 {
  const q = (<f64>v - o) * inv * 128; // (v - o) * inv as quantize() has it, times 128 exactly
  const last = (n << 7) - 1;
  return q <= 0 ? 0 : q >= <f64>last ? last : <i32>q; // truncation is the floor here
}

/** The byte of a position q (see fineAlong) in cell i: as quantize(). */
@inline
function byteIn(q: i32, i: i32): u64 {
  const b = q - (i << 7);
  return <u64>(b < 0 ? 0 : b > 127 ? 127 : b);
}

// Entries read past a cell's last by the box test's four at a time (see walk): padding at the end.
const ENTRY_OVERRUN: usize = 3;

/** p before q in x, then y, then z order (without branches: the outcome is a coin toss). */
@inline
function lexLess(p: usize, q: usize): bool {
  const px = load<f32>(p), qx = load<f32>(q), py = load<f32>(p, 4), qy = load<f32>(q, 4);
  const pz = load<f32>(p, 8), qz = load<f32>(q, 8);
  return <bool>(<i32>(px < qx) | (<i32>(px == qx) & (<i32>(py < qy) | (<i32>(py == qy) & <i32>(pz < qz)))));
}

/** The corners of triangle t into `rec`, with which edges (ab, bc, ca) run from their smaller end. */
@inline
function writeCorners(rec: usize, t: i32): void {
  const tri = triangles + <usize>t * 12;
  const a = vertexAt(load<u32>(tri)), b = vertexAt(load<u32>(tri, 4)), c = vertexAt(load<u32>(tri, 8));
  copy12(rec, a);
  copy12(rec + 12, b);
  copy12(rec + 24, c);
  let flags: u32 = 0;
  if (lexLess(a, b)) flags |= 1;
  if (lexLess(b, c)) flags |= 2;
  if (lexLess(c, a)) flags |= 4;
  store<u32>(rec, flags, 36);
}

// The box of the last boxOf(): x0 x1 y0 y1 z0 z1, float32.
const box: usize = memory.data(24, 8);

@inline
function boxOf(rec: usize): void {
  for (let k: usize = 0; k < 3; k++) {
    const x = load<f32>(rec + (k << 2)), y = load<f32>(rec + 12 + (k << 2)), z = load<f32>(rec + 24 + (k << 2));
    store<f32>(box + (k << 3), min<f32>(x, min<f32>(y, z)));
    store<f32>(box + (k << 3), max<f32>(x, max<f32>(y, z)), 4);
  }
}

/**
 * The edge function of P -> Q at (pu, pv), computed from the edge's lexicographically smaller
 * end (`fromP` when that is P), watertight (see the header). Both ways computed and one chosen
 * without a branch: which end is smaller is a coin toss.
 */
@inline
function edgeValue(pu_: f64, pv_: f64, qu: f64, qv: f64, pu: f64, pv: f64, fromP: bool): f64 {
  const forward = (qu - pu_) * (pv - pv_) - (qv - pv_) * (pu - pu_);
  const backward = -((pu_ - qu) * (pv - qv) - (pv_ - qv) * (pu - qu));
  return select<f64>(forward, backward, fromP);
}

/** The sign of edge value e of P -> Q; 0 by simulation of simplicity only when P = Q. */
@inline
function edgeSign(e: f64, pu_: f64, pv_: f64, qu: f64, qv: f64): i32 {
  const sign = <i32>(e > 0) - <i32>(e < 0);
  if (sign != 0) return sign;
  // Simulation of simplicity: the point moved by (ε, ε²): the sign of -(qv - pv)ε + (qu - pu)ε².
  if (qv != pv_) return qv < pv_ ? 1 : -1;
  if (qu != pu_) return qu > pu_ ? 1 : -1;
  return 0;
}

/** Where the last crossing() hit, along its axis. */
let hitAt: f64 = 0;

/**
 * Does the line along `axis` through (pu, pv) cross the triangle at `rec`? (u, v) are the next
 * two axes in cyclic order: y z for x, z x for y, x y for z. Sets hitAt.
 */
function crossing(rec: usize, axis: i32, pu: f64, pv: f64): bool {
  return crossingAt(rec, axis, pu, pv);
}

/** crossing(), inlined where the axis is a constant. */
@inline
function crossingAt(rec: usize, axis: i32, pu: f64, pv: f64): bool {
  const uo = <usize>((axis + 1) % 3) << 2, vo = <usize>((axis + 2) % 3) << 2, ao = <usize>axis << 2;
  const au = <f64>load<f32>(rec + uo), av = <f64>load<f32>(rec + vo);
  const bu = <f64>load<f32>(rec + 12 + uo), bv = <f64>load<f32>(rec + 12 + vo);
  const cu = <f64>load<f32>(rec + 24 + uo), cv = <f64>load<f32>(rec + 24 + vo);
  const flags = load<u32>(rec, 36);
  const eab = edgeValue(au, av, bu, bv, pu, pv, (flags & 1) != 0);
  const ebc = edgeValue(bu, bv, cu, cv, pu, pv, (flags & 2) != 0);
  const eca = edgeValue(cu, cv, au, av, pu, pv, (flags & 4) != 0);
  const sab = edgeSign(eab, au, av, bu, bv);
  const sbc = edgeSign(ebc, bu, bv, cu, cv);
  const sca = edgeSign(eca, cu, cv, au, av);
  // One branch for the answer, which is as hard to predict as any.
  if (<i32>(sab == 0) | <i32>(sbc != sab) | <i32>(sca != sab)) return false;
  const sum = eab + ebc + eca;
  const aa = <f64>load<f32>(rec + ao), ba = <f64>load<f32>(rec + 12 + ao), ca = <f64>load<f32>(rec + 24 + ao);
  // On the projected boundary (ties decided by the perturbation) any point of the triangle does.
  hitAt = sum == 0 ? aa : (ebc * aa + eca * ba + eab * ca) / sum;
  // Kept within the triangle's extent, so that the cell it falls in lists the triangle.
  hitAt = min(max(hitAt, min(aa, min(ba, ca))), max(aa, max(ba, ca)));
  return true;
}

/** The first index i whose centre along `axis` is past v (see centre()), at most n. */
@inline
function firstCentreAbove(axis: i32, v: f64, n: i32): i32 {
  const f = (v - origin(axis)) * inv + 0.5; // centre(i) > v where i > f - 1
  const i = f < 0 ? 0 : <i32>f; // truncation is the floor here
  return i > n ? n : i;
}

/** The area of triangle t, from the vertices. */
function areaOf(t: i32): f64 {
  return 0.5 * triangleCross(t);
}

/**
 * Build the grid, the entries and the centre labels of the current mesh. MR_GRID gets the cells
 * along x, y and z, MR_RECORDS the entries, MR_COUNT the cells whose centre is inside.
 *
 * A pass over the vertices (their positions in 1/128ths of a cell), then two over the triangles:
 * their corner records, areas, boxes in 1/128ths of a cell (kept),
 * entries counted and centre-line crossings; then the entries placed from the kept boxes.
 * Positions in 1/128ths of a cell are integers, Q = floor(128 (v - origin) / h): the cell is
 * Q >> 7 and an entry's byte in cell i is Q - 128 i clamped to 0-127, the same as quantize()
 * gives ((v - origin)/h - i is exact within a cell, and so is a product by 128).
 */
export function prepareInside(): i32 {
  const T = triangleCount;
  if (T == 0) return fail(S_NO_FACES, 0, 0);
  computeBounds();
  const minX = boundMin(0), minY = boundMin(1), minZ = boundMin(2);
  const maxX = boundMax(0), maxY = boundMax(1), maxZ = boundMax(2);
  corners = alloc(<usize>T * TRI);
  const spans = alloc(<usize>T * SPAN);
  areaSums = alloc(<usize>(T + 1) * 8);
  if (corners == 0 || spans == 0 || areaSums == 0) return fail(S_NO_MEMORY, 0, 0);
  // Cells about 4 times the size of an average triangle (sqrt(2 area / T)): finer cells cost more
  // to build (entries), coarser ones more entries to scan per query. Since the entries are tested
  // four at a time, 4 beats 3 per file (the grid and 100,000 samples, half near the surface) by
  // about a tenth on 94,000-vertex heads, for a few percent more per near-surface point. The
  // average from a few thousand triangles spread through the list, so that one pass can build
  // the rest with the cell size known.
  const stride = max(1, T >> 12);
  let sampled: f64 = 0;
  let n: i32 = 0;
  for (let t: i32 = 0; t < T; t += stride, n++) sampled += areaOf(t);
  const side = max(maxX - minX, max(maxY - minY, maxZ - minZ));
  h = 4 * Math.sqrt(2 * sampled / <f64>n);
  if (side > 0) {
    h = max(h, side / MAX_CELLS_PER_AXIS);
    h = min(h, side / MIN_CELLS_PER_AXIS);
  } else {
    h = 1;
  }
  inv = 1 / h;
  const pad = h * 1.1371591;
  ox = minX - pad; oy = minY - pad; oz = minZ - pad;
  nx = <i32>Math.floor((maxX - minX + 2 * pad) * inv) + 1;
  ny = <i32>Math.floor((maxY - minY + 2 * pad) * inv) + 1;
  nz = <i32>Math.floor((maxZ - minZ + 2 * pad) * inv) + 1;
  const count = <usize>nx * <usize>ny * <usize>nz;
  cellWords = alloc((count + 1) * 4);
  const labels = alloc(count);
  cellKinds = alloc((count + 3) >> 2);
  if (cellWords == 0 || labels == 0 || cellKinds == 0) return fail(S_NO_MEMORY, 0, 0);

  // Each vertex's position in 1/128ths of a cell (see fineAlong), u16 x y z and two spare bytes
  // (a triangle's box is their least and greatest: see below).
  const fine = alloc(<usize>vertexCount * 8);
  if (fine == 0) return fail(S_NO_MEMORY, 0, 0);
  finePositions(fine);

  // Per triangle: its corner record; the running sum of the areas (as prepareSurface() has them,
  // to the bit); its box in 1/128ths of a cell (kept); its entries counted (cellWords holds
  // running ends while filling, and the starts afterwards); and the centre labels' crossings: a
  // crossing of a column's centre line toggles its axis's bit at the first centre past it ...
  memory.fill(cellWords, 0, (count + 1) * 4);
  memory.fill(labels, 0, count);
  const total = trianglePass(T, fine, spans, labels);
  if (total > <usize>FIRST_MASK) return fail(S_NO_MEMORY, 0, 0);
  entryBox = alloc((total + ENTRY_OVERRUN) * 8);
  entryTriangle = alloc(total * 4);
  if (entryBox == 0 || entryTriangle == 0) return fail(S_NO_MEMORY, 0, 0);
  let running: u32 = 0;
  for (let c: usize = 0; c < count; c++) {
    running += load<u32>(cellWords + (c << 2));
    store<u32>(cellWords + (c << 2), running);
  }
  store<u32>(cellWords + (count << 2), running);
  placeEntries(T, spans);
  // ... a running XOR along each axis turns toggles into parities, and the three axes vote.
  labelParities(labels);
  const inside = voteCells(labels, count);
  walkDirections(count);
  setWord(MR_GRID, nx);
  setWord(MR_GRID + 1, ny);
  setWord(MR_GRID + 2, nz);
  setWord(MR_RECORDS, <i32>total);
  setWord(MR_COUNT, inside);
  ready = true;
  return ok();
}

// prepareInside()'s passes, each a function of its own: in one large function TurboFan kept
// their loop values on the stack.

/** Each vertex's position in 1/128ths of a cell (see fineAlong), u16 x y z and two spare bytes. */
function finePositions(fine: usize): void {
  for (let v: i32 = 0; v < vertexCount; v++) {
    const row = vertexAt(<u32>v), f = fine + (<usize>v << 3);
    store<u16>(f, <u16>fineAlong(load<f32>(row), ox, nx));
    store<u16>(f, <u16>fineAlong(load<f32>(row, 4), oy, ny), 2);
    store<u16>(f, <u16>fineAlong(load<f32>(row, 8), oz, nz), 4);
  }
}

/**
 * The per-triangle pass (see prepareInside): corner records, area sums, boxes (kept at `spans`),
 * entries counted and centre-line crossings toggled in `labels`. Returns the entries.
 */
function trianglePass(T: i32, fine: usize, spans: usize, labels: usize): usize {
  let area: f64 = 0;
  let last: i32 = 0;
  let total: usize = 0;
  for (let t: i32 = 0; t < T; t++) {
    const rec = corners + <usize>t * TRI;
    writeCorners(rec, t);
    const a = 0.5 * crossOf(rec, rec + 12, rec + 24);
    area += a;
    store<f64>(areaSums + (<usize>t << 3), area);
    if (a > 0) last = t;
    // The box from the corners' positions in 1/128ths of a cell: fineAlong() never decreases
    // as v grows, so the least of the corners' is that of the least corner, and so on (the
    // loader admits finite coordinates only).
    const tri = triangles + <usize>t * 12;
    const fa = v128.load64_zero(fine + (<usize>load<u32>(tri) << 3));
    const fb = v128.load64_zero(fine + (<usize>load<u32>(tri, 4) << 3));
    const fc = v128.load64_zero(fine + (<usize>load<u32>(tri, 8) << 3));
    const low = i64x2.extract_lane(i16x8.min_u(i16x8.min_u(fa, fb), fc), 0);
    const high = i64x2.extract_lane(i16x8.max_u(i16x8.max_u(fa, fb), fc), 0);
    const span = spans + <usize>t * SPAN;
    store<u32>(span, <u32>low);
    store<u16>(span, <u16>(low >> 32), 4);
    store<u32>(span, <u32>high, 6);
    store<u16>(span, <u16>(high >> 32), 10);
    const qx0 = <i32>(low & 0xffff), qy0 = <i32>((low >> 16) & 0xffff), qz0 = <i32>((low >> 32) & 0xffff);
    const qx1 = <i32>(high & 0xffff), qy1 = <i32>((high >> 16) & 0xffff), qz1 = <i32>((high >> 32) & 0xffff);
    const i0 = qx0 >> 7, i1 = qx1 >> 7, j0 = qy0 >> 7, j1 = qy1 >> 7, k0 = qz0 >> 7, k1 = qz1 >> 7;
    for (let k = k0; k <= k1; k++) for (let j = j0; j <= j1; j++) for (let i = i0; i <= i1; i++) {
      const at = cellWords + (cellIndex(i, j, k) << 2);
      store<u32>(at, load<u32>(at) + 1);
      total++;
    }
    // Sweeps along the axes across which the box holds a column's centre (most triangles have
    // none: one test for all three).
    const hx = columnFirst(qx0) <= columnLast(qx1, nx), hy = columnFirst(qy0) <= columnLast(qy1, ny);
    const hz = columnFirst(qz0) <= columnLast(qz1, nz);
    if (<i32>(hy & hz) | <i32>(hz & hx) | <i32>(hx & hy)) {
      boxOf(rec);
      if (hy & hz) sweep(rec, 0, labels, span);
      if (hz & hx) sweep(rec, 1, labels, span);
      if (hx & hy) sweep(rec, 2, labels, span);
    }
  }
  store<f64>(areaSums + (<usize>T << 3), Infinity);
  areaTotal = area;
  lastWithArea = last;
  return total;
}

/** The entries from the kept boxes at `spans`: each cell's from its running end down. */
function placeEntries(T: i32, spans: usize): void {
  const words = cellWords, boxes = entryBox, owners = entryTriangle, sx = <usize>nx, sy = <usize>ny;
  for (let t: i32 = 0; t < T; t++) {
    const span = spans + <usize>t * SPAN;
    const qx0 = <i32>load<u16>(span), qy0 = <i32>load<u16>(span, 2), qz0 = <i32>load<u16>(span, 4);
    const qx1 = <i32>load<u16>(span, 6), qy1 = <i32>load<u16>(span, 8), qz1 = <i32>load<u16>(span, 10);
    const i0 = qx0 >> 7, i1 = qx1 >> 7, j0 = qy0 >> 7, j1 = qy1 >> 7, k0 = qz0 >> 7, k1 = qz1 >> 7;
    for (let k = k0; k <= k1; k++) {
      const z = byteIn(qz0, k) << 16 | (127 - byteIn(qz1, k)) << 48;
      for (let j = j0; j <= j1; j++) {
        const yz = z | byteIn(qy0, j) << 8 | (127 - byteIn(qy1, j)) << 40;
        const row = words + (((<usize>k * sy + <usize>j) * sx) << 2); // cellIndex(0, j, k)
        for (let i = i0; i <= i1; i++) {
          const at = row + (<usize>i << 2);
          const slot = load<u32>(at) - 1;
          store<u32>(at, slot);
          store<u64>(boxes + (<usize>slot << 3), yz | byteIn(qx0, i) | (127 - byteIn(qx1, i)) << 32);
          store<u32>(owners + (<usize>slot << 2), t);
        }
      }
    }
  }
}

/** The centre labels' toggles into parities along each axis (bits 0, 1, 2 of `labels`). */
function labelParities(labels: usize): void {
  for (let k: i32 = 0; k < nz; k++) for (let j: i32 = 0; j < ny; j++) {
    let parity: u8 = 0;
    const row = labels + cellIndex(0, j, k);
    for (let i: i32 = 0; i < nx; i++) {
      parity ^= load<u8>(row + <usize>i) & 1;
      store<u8>(row + <usize>i, (load<u8>(row + <usize>i) & 6) | parity);
    }
  }
  for (let k: i32 = 0; k < nz; k++) for (let j: i32 = 1; j < ny; j++) {
    const row = labels + cellIndex(0, j, k), prev = labels + cellIndex(0, j - 1, k);
    for (let i: i32 = 0; i < nx; i++) store<u8>(row + <usize>i, load<u8>(row + <usize>i) ^ (load<u8>(prev + <usize>i) & 2));
  }
  for (let k: i32 = 1; k < nz; k++) {
    const plane = labels + cellIndex(0, 0, k), prev = labels + cellIndex(0, 0, k - 1);
    const size = <usize>nx * <usize>ny;
    for (let c: usize = 0; c < size; c++) store<u8>(plane + c, load<u8>(plane + c) ^ (load<u8>(prev + c) & 4));
  }
}

/** The three axes' vote per cell into its word (bit 31) and its kind; returns the cells inside. */
function voteCells(labels: usize, count: usize): i32 {
  let inside: i32 = 0;
  for (let c0: usize = 0; c0 < count; c0 += 4) {
    let kinds: u32 = 0;
    const end = min(c0 + 4, count);
    for (let c = c0; c < end; c++) {
      const vote: u32 = popcnt<u32>(<u32>load<u8>(labels + c)) >= 2 ? 1 : 0;
      const word = load<u32>(cellWords + (c << 2));
      store<u32>(cellWords + (c << 2), word | vote << 31);
      inside += <i32>vote;
      const kind = word == (load<u32>(cellWords + (c << 2), 4) & FIRST_MASK) ? vote : KIND_WALK;
      kinds |= kind << (<u32>(c - c0) << 1);
    }
    store<u8>(cellKinds + (c0 >> 2), <u8>kinds);
  }
  return inside;
}

/** The first column whose centre may be at or past position q (see fineAlong) ... */
@inline
function columnFirst(q: i32): i32 {
  return max(0, (q + 62) >> 7);
}

/**
 * ... and the last at or before it: centre i is at 128 i + 64, and one 128th either side covers
 * the rounding of both (sweep() checks each exactly).
 */
@inline
function columnLast(q: i32, n: i32): i32 {
  return min(n - 1, (q - 63) >> 7);
}

/**
 * Toggle `labels`' bit of `axis` at the first centre past each crossing of the triangle at rec
 * (its box in `box`, in 1/128ths of a cell at `span`) with the centre lines of columns along the
 * axis. Inlined with a constant axis.
 */
@inline
function sweep(rec: usize, axis: i32, labels: usize, span: usize): void {
  const ua = (axis + 1) % 3, va = (axis + 2) % 3;
  const na = cells(axis);
  const u0 = columnFirst(<i32>load<u16>(span + (<usize>ua << 1))), u1 = columnLast(<i32>load<u16>(span + (<usize>ua << 1), 6), cells(ua));
  const v0 = columnFirst(<i32>load<u16>(span + (<usize>va << 1))), v1 = columnLast(<i32>load<u16>(span + (<usize>va << 1), 6), cells(va));
  const uMin = <f64>load<f32>(box + (<usize>ua << 3)), uMax = <f64>load<f32>(box + (<usize>ua << 3) + 4);
  const vMin = <f64>load<f32>(box + (<usize>va << 3)), vMax = <f64>load<f32>(box + (<usize>va << 3) + 4);
  const bit = <u8>(<i32>1 << axis);
  for (let iv = v0; iv <= v1; iv++) {
    const cv = centre(va, iv);
    if (cv < vMin || cv > vMax) continue;
    for (let iu = u0; iu <= u1; iu++) {
      const cu = centre(ua, iu);
      if (cu < uMin || cu > uMax) continue;
      if (!crossingAt(rec, axis, cu, cv)) continue;
      const ia = firstCentreAbove(axis, hitAt, na);
      if (ia >= na) continue;
      // Cell coordinates (i, j, k) from (axis, u, v).
      let c: usize;
      if (axis == 0) c = cellIndex(ia, iu, iv);
      else if (axis == 1) c = cellIndex(iv, ia, iu);
      else c = cellIndex(iu, iv, ia);
      store<u8>(labels + c, load<u8>(labels + c) ^ bit);
    }
  }
}

@inline
function empty(c: usize): bool {
  return (load<u32>(cellWords + (c << 2)) & FIRST_MASK) == (load<u32>(cellWords + (c << 2), 4) & FIRST_MASK);
}

/**
 * For every cell with triangles, the axis direction (0 +x, 1 -x, 2 +y, 3 -y, 4 +z, 5 -z) with the
 * fewest cells to the first empty one, into bits 28-30 of its word (the first direction wins
 * ties). Walks from each such cell; the padding keeps every walk inside the grid.
 */
function walkDirections(count: usize): void {
  const sx: isize = 1, sy: isize = <isize>nx, sz: isize = <isize>nx * <isize>ny;
  for (let c: usize = 0; c < count; c++) {
    if (empty(c)) continue;
    let best: i32 = 0x7fffffff, bestD: i32 = 0;
    for (let d: i32 = 0; d < 6 && best > 1; d++) {
      const axis = d >> 1;
      const step: isize = (axis == 0 ? sx : axis == 1 ? sy : sz) * ((d & 1) == 0 ? 1 : -1);
      let steps: i32 = 1;
      let at = <isize>c + step;
      while (steps < best && !empty(<usize>at)) {
        steps++;
        at += step;
      }
      if (steps < best) {
        best = steps;
        bestD = d;
      }
    }
    const word = cellWords + (c << 2);
    store<u32>(word, (load<u32>(word) & ~(<u32>7 << 28)) | <u32>bestD << 28);
  }
}

/** The cell of a point, or -1 outside the grid (and so outside the mesh). */
@inline
export function cellOf(px: f32, py: f32, pz: f32): i32 {
  const fx = (<f64>px - ox) * inv, fy = (<f64>py - oy) * inv, fz = (<f64>pz - oz) * inv;
  if (!(fx >= 0 && fx < <f64>nx && fy >= 0 && fy < <f64>ny && fz >= 0 && fz < <f64>nz)) return -1;
  return <i32>cellIndex(<i32>fx, <i32>fy, <i32>fz);
}

/** The kind of cell c (KIND_*). */
@inline
function cellKind(c: i32): u32 {
  return (<u32>load<u8>(cellKinds + (<usize>c >> 2)) >> (<u32>(c & 3) << 1)) & 3;
}

/** The cell's word: first entry, walk direction, centre label (see cellWords). */
@inline
export function cellWord(c: i32): u32 {
  return load<u32>(cellWords + (<usize>c << 2));
}


// Labelling in batches: stage by stage, so that the cache misses of a batch's points overlap
// (the cell words, then the cells' first entries, then the triangles that pass the box test).
export const LABEL_BATCH: i32 = 64;
const lCell: usize = memory.data(LABEL_BATCH * 4, 4);
const lKind: usize = memory.data(LABEL_BATCH * 4, 4); // KIND_* of the point's cell
const lWord: usize = memory.data(LABEL_BATCH * 4, 4);
const lParity: usize = memory.data(LABEL_BATCH * 4, 4);
const lEnd: usize = memory.data(LABEL_BATCH * 4, 4); // the label of the empty cell a walk ends in
const lFrame: usize = memory.data(LABEL_BATCH * 24, 8); // the point along the walk's axis, u, v
// Entries that passed the box test, for the exact test: the point, the triangle, the cell along
// the walk's axis it was listed in.
const SURVIVORS: i32 = 1024;
const sPoint: usize = memory.data(SURVIVORS * 4, 4);
const sTriangle: usize = memory.data(SURVIVORS * 4, 4);
const sCell: usize = memory.data(SURVIVORS * 4, 4);
let survivors: i32 = 0;
let touchedCorners: f32 = 0;

/**
 * Label `count` (at most LABEL_BATCH) float32 x y z points at `points` (12 bytes apart): u32 0 or
 * 1 each at `out`. Returns how many are inside. A point in a cell with triangles walks from it in
 * the cell's direction to the first empty cell and takes that cell's label, flipped for each
 * crossing on the way.
 */
export function labelBatch(points: usize, count: i32, out: usize): i32 {
  // Stage 1: the cells' kinds from the small table, and the words of the cells with triangles.
  for (let b: i32 = 0; b < count; b++) {
    const q = points + <usize>b * 12;
    const c = cellOf(load<f32>(q), load<f32>(q, 4), load<f32>(q, 8));
    store<i32>(lCell + (<usize>b << 2), c);
    const kind = c < 0 ? KIND_OUT : cellKind(c);
    store<u32>(lKind + (<usize>b << 2), kind);
    if (kind == KIND_WALK) store<u32>(lWord + (<usize>b << 2), cellWord(c));
  }
  // Stage 2: the first entries of the cells with triangles.
  let sum: f32 = 0;
  for (let b: i32 = 0; b < count; b++) {
    if (load<u32>(lKind + (<usize>b << 2)) != KIND_WALK) continue;
    const first = <usize>(load<u32>(lWord + (<usize>b << 2)) & FIRST_MASK);
    sum += <f32>(load<u64>(entryBox + (first << 3)) & 1) + <f32>load<u32>(entryTriangle + (first << 2));
  }
  touchedCorners = sum;
  // Stage 3: the walks; entries whose box holds the point are kept for stage 4.
  survivors = 0;
  for (let b: i32 = 0; b < count; b++) {
    store<u32>(lParity + (<usize>b << 2), 0);
    if (load<u32>(lKind + (<usize>b << 2)) != KIND_WALK) continue;
    const q = points + <usize>b * 12;
    walk(b, load<f32>(q), load<f32>(q, 4), load<f32>(q, 8), load<i32>(lCell + (<usize>b << 2)), load<u32>(lWord + (<usize>b << 2)));
  }
  exactTests();
  // Stage 5: the labels.
  let inside: i32 = 0;
  for (let b: i32 = 0; b < count; b++) {
    const kind = load<u32>(lKind + (<usize>b << 2));
    const label = kind == KIND_WALK ? load<u32>(lEnd + (<usize>b << 2)) ^ load<u32>(lParity + (<usize>b << 2)) : kind;
    store<u32>(out + (<usize>b << 2), label);
    inside += <i32>label;
  }
  return inside;
}

const walkPoint: usize = memory.data(16, 16);

/** The walk of point b from cell c: survivors of the box test go to the list. */
function walk(b: i32, px: f32, py: f32, pz: f32, c: i32, word: u32): void {
  const d = <i32>((word >> 28) & 7);
  const axis = d >> 1;
  const forward = (d & 1) == 0;
  // The point in the walk's frame: along the axis (a), and the next two axes (u, v).
  const pa = <f64>(axis == 0 ? px : axis == 1 ? py : pz);
  const pu = <f64>(axis == 0 ? py : axis == 1 ? pz : px);
  const pv = <f64>(axis == 0 ? pz : axis == 1 ? px : py);
  const frame = lFrame + <usize>b * 24;
  store<f64>(frame, pa);
  store<f64>(frame, pu, 8);
  store<f64>(frame, pv, 16);
  const ua = (axis + 1) % 3, va = (axis + 2) % 3;
  const iu = <i32>((pu - origin(ua)) * inv), iv = <i32>((pv - origin(va)) * inv);
  // The point's box bytes (see entryBox): p against the minimum, 127 - p against the maximum.
  // Entries whose box misses the point cannot cross the walk. Along the walk's own axis the
  // point's bytes are 127 both ways, which every entry passes.
  const qu = quantize(pu, origin(ua), iu), qv = quantize(pv, origin(va), iv);
  const us = <u64>(ua << 3), vs = <u64>(va << 3), as = <u64>(axis << 3);
  const pointLow = qu << us | qv << vs | <u64>127 << as;
  const pointHigh = ((127 - qu) << us | (127 - qv) << vs | <u64>127 << as) << 32;
  // Through memory: TurboFan would rebuild the point's bytes for every four entries otherwise.
  v128.store(walkPoint, i64x2.splat(<i64>(pointLow | pointHigh)));
  const point = v128.load(walkPoint);
  const zero = i64x2.splat(0);
  let ia = <i32>((pa - origin(axis)) * inv);
  const stride: isize = axis == 0 ? 1 : axis == 1 ? <isize>nx : <isize>nx * <isize>ny;
  const step: isize = forward ? stride : -stride;
  let cell = <usize>c;
  let first = word & FIRST_MASK;
  let sum: f32 = 0;
  while (true) {
    const last = load<u32>(cellWords + (cell << 2), 4) & FIRST_MASK;
    // Four entries at a time, without a branch per entry: an entry passes when no byte of it
    // exceeds the point's (a saturated difference of 0); one mask bit per entry.
    for (let r = first; r < last; r += 4) {
      const at = entryBox + (<usize>r << 3);
      const low = i64x2.eq(i8x16.sub_sat_u(v128.load(at), point), zero);
      const high = i64x2.eq(i8x16.sub_sat_u(v128.load(at, 16), point), zero);
      let passed = <u32>(i64x2.bitmask(low) | i64x2.bitmask(high) << 2);
      if (passed == 0) continue;
      const left = last - r;
      if (left < 4) passed &= (<u32>1 << left) - 1;
      while (passed != 0) {
        const e = r + <u32>ctz(passed);
        passed &= passed - 1;
        if (survivors == SURVIVORS) exactTests();
        const triangle = load<u32>(entryTriangle + (<usize>e << 2));
        store<u32>(sPoint + (<usize>survivors << 2), b);
        store<u32>(sTriangle + (<usize>survivors << 2), triangle);
        store<i32>(sCell + (<usize>survivors << 2), ia);
        survivors++;
        sum += load<f32>(corners + <usize>triangle * TRI);
      }
    }
    ia += forward ? 1 : -1;
    cell = <usize>(<isize>cell + step);
    const nextWord = load<u32>(cellWords + (cell << 2));
    first = nextWord & FIRST_MASK;
    if (first == (load<u32>(cellWords + (cell << 2), 4) & FIRST_MASK)) {
      store<u32>(lEnd + (<usize>b << 2), nextWord >> 31);
      break;
    }
  }
  touchedCorners += sum;
}

/** Stage 4: the exact tests of the listed entries; each crossing flips its point's parity. */
function exactTests(): void {
  for (let k: i32 = 0; k < survivors; k++) {
    const b = <i32>load<u32>(sPoint + (<usize>k << 2));
    const d = <i32>((load<u32>(lWord + (<usize>b << 2)) >> 28) & 7);
    const axis = d >> 1;
    const frame = lFrame + <usize>b * 24;
    const pa = load<f64>(frame), pu = load<f64>(frame, 8), pv = load<f64>(frame, 16);
    const rec = corners + <usize>load<u32>(sTriangle + (<usize>k << 2)) * TRI;
    if (!crossing(rec, axis, pu, pv)) continue;
    if ((d & 1) == 0 ? hitAt < pa : hitAt >= pa) continue;
    // Counted in the cell that holds it.
    if (<i32>Math.floor((hitAt - origin(axis)) * inv) != load<i32>(sCell + (<usize>k << 2))) continue;
    const parity = lParity + (<usize>b << 2);
    store<u32>(parity, load<u32>(parity) ^ 1);
  }
  survivors = 0;
}

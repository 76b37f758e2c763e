// Is a point inside the current mesh? Ray parity on a uniform grid, with a three-axis vote.
//
// Structure. A uniform grid of cubic cells over the mesh's bounding box, padded by a cell and a
// fraction on every side (so that the outermost cells are empty and cell centres are unlikely to
// lie on axis-aligned geometry). Each cell lists the triangles whose bounding box meets it, as
// 64-byte records (the three corners, the box, edge flags) stored cell after cell.
//
// Cell centres are labelled once per mesh. Along each axis, for each column of cells, the line
// through the column's centres is crossed with every triangle whose projection covers it (each
// triangle visits only the few columns its box spans); the parity of the crossings before each
// centre says inside or outside as seen from -infinity along that axis. The three axes vote, so
// that a hole in the surface misleads at most the one axis whose line passes through it.
//
// A query point in a cell with no triangles takes the cell's label. Otherwise its label is the
// centre's, flipped for each crossing on the three axis-aligned legs p -> (cx, py, pz) ->
// (cx, cy, pz) -> (cx, cy, cz), all inside the cell, so only the cell's triangles are tested:
// O(triangles per cell), about ten to thirty, instead of O(triangles).
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

import { INSIDE_RECORD_BYTES, S_NO_MEMORY, S_NO_FACES, MR_GRID, MR_RECORDS, MR_COUNT } from "../../src/abi";
import { alloc, fail, ok, setWord, vertexCount, triangles, triangleCount, vertexAt } from "./state";

let ox: f64 = 0, oy: f64 = 0, oz: f64 = 0; // grid origin
let h: f64 = 1, inv: f64 = 1; // cell side and its reciprocal
let nx: i32 = 0, ny: i32 = 0, nz: i32 = 0;
let cellStart: usize = 0; // u32 per cell, and one past the last: where its records start
let records: usize = 0;
let labels: usize = 0; // u8 per cell: its centre's label
let centres: usize = 0; // float32 centre coordinates: nx for x, then ny for y, then nz for z
let ready = false;

export function insideForget(): void {
  ready = false;
}

export function insideReady(): bool {
  return ready;
}

// Largest cells per axis (memory: 4 + 1 bytes per cell), and the fewest along the longest side.
const MAX_CELLS_PER_AXIS: f64 = 192;
const MIN_CELLS_PER_AXIS: f64 = 8;

@inline
function centre(axis: i32, i: i32): f32 {
  const offset = axis == 0 ? 0 : axis == 1 ? nx : nx + ny;
  return load<f32>(centres + (<usize>(offset + i) << 2));
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

/** The cell coordinate of v along an axis (floor), clamped to the grid. */
@inline
function cellAlong(v: f64, o: f64, n: i32): i32 {
  const f = Math.floor((v - o) * inv);
  return f < 0 ? 0 : f >= <f64>n ? n - 1 : <i32>f;
}

@inline
function lexLess(p: usize, q: usize): bool {
  const px = load<f32>(p), qx = load<f32>(q);
  if (px != qx) return px < qx;
  const py = load<f32>(p, 4), qy = load<f32>(q, 4);
  if (py != qy) return py < qy;
  return load<f32>(p, 8) < load<f32>(q, 8);
}

/** Fill a record: corners, box, and which edges (ab, bc, ca) run from their smaller end. */
@inline
function writeRecord(rec: usize, t: i32): void {
  const tri = triangles + <usize>t * 12;
  const a = vertexAt(load<u32>(tri)), b = vertexAt(load<u32>(tri, 4)), c = vertexAt(load<u32>(tri, 8));
  for (let k: usize = 0; k < 3; k++) {
    const x = load<f32>(a + (k << 2)), y = load<f32>(b + (k << 2)), z = load<f32>(c + (k << 2));
    store<f32>(rec + (k << 2), x);
    store<f32>(rec + 12 + (k << 2), y);
    store<f32>(rec + 24 + (k << 2), z);
    store<f32>(rec + 36 + (k << 3), min<f32>(x, min<f32>(y, z)));
    store<f32>(rec + 40 + (k << 3), max<f32>(x, max<f32>(y, z)));
  }
  let flags: u32 = 0;
  if (lexLess(a, b)) flags |= 1;
  if (lexLess(b, c)) flags |= 2;
  if (lexLess(c, a)) flags |= 4;
  store<u32>(rec, flags, 60);
}

/** Sign of the edge function of P -> Q at (pu, pv), watertight (see the header). */
@inline
function edgeSign(pu_: f64, pv_: f64, qu: f64, qv: f64, pu: f64, pv: f64, fromP: bool): i32 {
  const e = fromP
    ? (qu - pu_) * (pv - pv_) - (qv - pv_) * (pu - pu_)
    : -((pu_ - qu) * (pv - qv) - (pv_ - qv) * (pu - qu));
  edgeValue = e;
  if (e > 0) return 1;
  if (e < 0) return -1;
  // Simulation of simplicity: the point moved by (ε, ε²): the sign of -(qv - pv)ε + (qu - pu)ε².
  if (qv != pv_) return qv < pv_ ? 1 : -1;
  if (qu != pu_) return qu > pu_ ? 1 : -1;
  return 0;
}

let edgeValue: f64 = 0;
/** Where the last crossing() hit, along its axis. */
let hitAt: f64 = 0;

/**
 * Does the line along `axis` through (pu, pv) cross the record's triangle? (u, v) are the next
 * two axes in cyclic order: y z for x, z x for y, x y for z. Sets hitAt.
 */
function crossing(rec: usize, axis: i32, pu: f64, pv: f64): bool {
  const uo = <usize>((axis + 1) % 3) << 2, vo = <usize>((axis + 2) % 3) << 2, ao = <usize>axis << 2;
  const au = <f64>load<f32>(rec + uo), av = <f64>load<f32>(rec + vo);
  const bu = <f64>load<f32>(rec + 12 + uo), bv = <f64>load<f32>(rec + 12 + vo);
  const cu = <f64>load<f32>(rec + 24 + uo), cv = <f64>load<f32>(rec + 24 + vo);
  const flags = load<u32>(rec, 60);
  const sab = edgeSign(au, av, bu, bv, pu, pv, (flags & 1) != 0);
  if (sab == 0) return false;
  const eab = edgeValue;
  const sbc = edgeSign(bu, bv, cu, cv, pu, pv, (flags & 2) != 0);
  if (sbc != sab) return false;
  const ebc = edgeValue;
  const sca = edgeSign(cu, cv, au, av, pu, pv, (flags & 4) != 0);
  if (sca != sab) return false;
  const eca = edgeValue;
  const sum = eab + ebc + eca;
  if (sum == 0) {
    // The point is on the projected triangle's boundary (ties decided by the perturbation):
    // any point of the triangle's closure is as good as the exact one along the axis.
    hitAt = <f64>load<f32>(rec + ao);
    return true;
  }
  hitAt = (ebc * <f64>load<f32>(rec + ao) + eca * <f64>load<f32>(rec + 12 + ao) + eab * <f64>load<f32>(rec + 24 + ao)) / sum;
  return true;
}

// One triangle's record, for the column sweeps.
const scratch: usize = memory.data(INSIDE_RECORD_BYTES, 16);

/** The first index i in [0, n) whose centre along `axis` is >= v (n when none is). */
@inline
function firstCentreAtLeast(axis: i32, v: f64, n: i32): i32 {
  let i = <i32>Math.ceil((v - origin(axis)) * inv - 0.5);
  if (i < 0) i = 0;
  if (i > n) i = n;
  while (i > 0 && <f64>centre(axis, i - 1) >= v) i--;
  while (i < n && <f64>centre(axis, i) < v) i++;
  return i;
}

/** The first index i in [0, n) whose centre along `axis` is > v (n when none is). */
@inline
function firstCentreAbove(axis: i32, v: f64, n: i32): i32 {
  let i = <i32>Math.floor((v - origin(axis)) * inv + 0.5);
  if (i < 0) i = 0;
  if (i > n) i = n;
  while (i > 0 && <f64>centre(axis, i - 1) > v) i--;
  while (i < n && <f64>centre(axis, i) <= v) i++;
  return i;
}

/**
 * Build the grid, the records and the centre labels of the current mesh. MR_GRID gets the cells
 * along x, y and z, MR_RECORDS the records.
 */
export function prepareInside(): i32 {
  const T = triangleCount;
  if (T == 0) return fail(S_NO_FACES, 0, 0);
  let minX: f64 = Infinity, minY: f64 = Infinity, minZ: f64 = Infinity;
  let maxX: f64 = -Infinity, maxY: f64 = -Infinity, maxZ: f64 = -Infinity;
  for (let i: i32 = 0; i < vertexCount; i++) {
    const row = vertexAt(<u32>i);
    const x = <f64>load<f32>(row), y = <f64>load<f32>(row, 4), z = <f64>load<f32>(row, 8);
    minX = min(minX, x); maxX = max(maxX, x);
    minY = min(minY, y); maxY = max(maxY, y);
    minZ = min(minZ, z); maxZ = max(maxZ, z);
  }
  // Cells about twice the size of an average triangle: ten to thirty records per surface cell.
  let area: f64 = 0;
  for (let t: i32 = 0; t < T; t++) {
    const tri = triangles + <usize>t * 12;
    const a = vertexAt(load<u32>(tri)), b = vertexAt(load<u32>(tri, 4)), c = vertexAt(load<u32>(tri, 8));
    const ax = <f64>load<f32>(a), ay = <f64>load<f32>(a, 4), az = <f64>load<f32>(a, 8);
    const ux = <f64>load<f32>(b) - ax, uy = <f64>load<f32>(b, 4) - ay, uz = <f64>load<f32>(b, 8) - az;
    const wx = <f64>load<f32>(c) - ax, wy = <f64>load<f32>(c, 4) - ay, wz = <f64>load<f32>(c, 8) - az;
    const cx = uy * wz - uz * wy, cy = uz * wx - ux * wz, cz = ux * wy - uy * wx;
    area += 0.5 * Math.sqrt(cx * cx + cy * cy + cz * cz);
  }
  const side = max(maxX - minX, max(maxY - minY, maxZ - minZ));
  h = 2 * Math.sqrt(2 * area / <f64>T);
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
  centres = alloc(<usize>(nx + ny + nz) * 4);
  cellStart = alloc((count + 1) * 4);
  labels = alloc(count);
  if (centres == 0 || cellStart == 0 || labels == 0) return fail(S_NO_MEMORY, 0, 0);
  for (let i: i32 = 0; i < nx; i++) store<f32>(centres + (<usize>i << 2), <f32>(ox + (<f64>i + 0.5) * h));
  for (let i: i32 = 0; i < ny; i++) store<f32>(centres + (<usize>(nx + i) << 2), <f32>(oy + (<f64>i + 0.5) * h));
  for (let i: i32 = 0; i < nz; i++) store<f32>(centres + (<usize>(nx + ny + i) << 2), <f32>(oz + (<f64>i + 0.5) * h));

  // Count each cell's records, then place them: cellStart holds running ends while filling, and
  // the starts afterwards.
  memory.fill(cellStart, 0, (count + 1) * 4);
  let total: usize = 0;
  for (let t: i32 = 0; t < T; t++) {
    writeRecord(scratch, t);
    const i0 = cellAlong(<f64>load<f32>(scratch, 36), ox, nx), i1 = cellAlong(<f64>load<f32>(scratch, 40), ox, nx);
    const j0 = cellAlong(<f64>load<f32>(scratch, 44), oy, ny), j1 = cellAlong(<f64>load<f32>(scratch, 48), oy, ny);
    const k0 = cellAlong(<f64>load<f32>(scratch, 52), oz, nz), k1 = cellAlong(<f64>load<f32>(scratch, 56), oz, nz);
    for (let k = k0; k <= k1; k++) for (let j = j0; j <= j1; j++) for (let i = i0; i <= i1; i++) {
      const at = cellStart + (cellIndex(i, j, k) << 2);
      store<u32>(at, load<u32>(at) + 1);
      total++;
    }
  }
  records = alloc(total * INSIDE_RECORD_BYTES);
  if (records == 0) return fail(S_NO_MEMORY, 0, 0);
  let running: u32 = 0;
  for (let c: usize = 0; c < count; c++) {
    running += load<u32>(cellStart + (c << 2));
    store<u32>(cellStart + (c << 2), running);
  }
  store<u32>(cellStart + (count << 2), running);
  for (let t: i32 = 0; t < T; t++) {
    writeRecord(scratch, t);
    const i0 = cellAlong(<f64>load<f32>(scratch, 36), ox, nx), i1 = cellAlong(<f64>load<f32>(scratch, 40), ox, nx);
    const j0 = cellAlong(<f64>load<f32>(scratch, 44), oy, ny), j1 = cellAlong(<f64>load<f32>(scratch, 48), oy, ny);
    const k0 = cellAlong(<f64>load<f32>(scratch, 52), oz, nz), k1 = cellAlong(<f64>load<f32>(scratch, 56), oz, nz);
    for (let k = k0; k <= k1; k++) for (let j = j0; j <= j1; j++) for (let i = i0; i <= i1; i++) {
      const at = cellStart + (cellIndex(i, j, k) << 2);
      const slot = load<u32>(at) - 1;
      store<u32>(at, slot);
      memory.copy(records + <usize>slot * INSIDE_RECORD_BYTES, scratch, INSIDE_RECORD_BYTES);
    }
  }

  // Centre labels: crossings along each axis toggle a bit at the first centre past them ...
  memory.fill(labels, 0, count);
  for (let t: i32 = 0; t < T; t++) {
    writeRecord(scratch, t);
    for (let axis = 0; axis < 3; axis++) sweep(axis);
  }
  // ... a running XOR along the axis turns toggles into parities ...
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
  // ... and the three axes vote.
  let inside: i32 = 0;
  for (let c: usize = 0; c < count; c++) {
    const bits = <u32>load<u8>(labels + c);
    const vote: u8 = popcnt<u32>(bits) >= 2 ? 1 : 0;
    store<u8>(labels + c, vote);
    inside += vote;
  }
  setWord(MR_GRID, nx);
  setWord(MR_GRID + 1, ny);
  setWord(MR_GRID + 2, nz);
  setWord(MR_RECORDS, <i32>total);
  setWord(MR_COUNT, inside);
  ready = true;
  return ok();
}

/** Toggle the label bit of `axis` at the first centre past each crossing of the scratch triangle. */
function sweep(axis: i32): void {
  const ua = (axis + 1) % 3, va = (axis + 2) % 3;
  const nu = cells(ua), nv = cells(va), na = cells(axis);
  const uMin = <f64>load<f32>(scratch + 36 + (<usize>ua << 3)), uMax = <f64>load<f32>(scratch + 40 + (<usize>ua << 3));
  const vMin = <f64>load<f32>(scratch + 36 + (<usize>va << 3)), vMax = <f64>load<f32>(scratch + 40 + (<usize>va << 3));
  const u0 = firstCentreAtLeast(ua, uMin, nu), u1 = firstCentreAbove(ua, uMax, nu);
  if (u0 >= u1) return;
  const v0 = firstCentreAtLeast(va, vMin, nv), v1 = firstCentreAbove(va, vMax, nv);
  if (v0 >= v1) return;
  const bit = <u8>(<i32>1 << axis);
  for (let iv = v0; iv < v1; iv++) {
    const cv = <f64>centre(va, iv);
    for (let iu = u0; iu < u1; iu++) {
      if (!crossing(scratch, axis, <f64>centre(ua, iu), cv)) continue;
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

/** The cell of a point, or -1 outside the grid (and so outside the mesh). */
@inline
export function cellOf(px: f32, py: f32, pz: f32): i32 {
  const fx = (<f64>px - ox) * inv, fy = (<f64>py - oy) * inv, fz = (<f64>pz - oz) * inv;
  if (!(fx >= 0 && fx < <f64>nx && fy >= 0 && fy < <f64>ny && fz >= 0 && fz < <f64>nz)) return -1;
  return <i32>cellIndex(<i32>fx, <i32>fy, <i32>fz);
}

@inline
export function cellFirst(c: i32): u32 {
  return load<u32>(cellStart + (<usize>c << 2));
}

@inline
export function cellLast(c: i32): u32 {
  return load<u32>(cellStart + (<usize>c << 2), 4);
}

@inline
export function cellLabel(c: i32): u32 {
  return <u32>load<u8>(labels + <usize>c);
}

/**
 * The label of a point in a cell with records first..last: the centre's label, flipped by each
 * crossing on the legs p -> (cx, py, pz) -> (cx, cy, pz) -> (cx, cy, cz).
 */
export function insideCell(px: f32, py: f32, pz: f32, centreLabel: u32, first: u32, last: u32): u32 {
  const i = <i32>((<f64>px - ox) * inv), j = <i32>((<f64>py - oy) * inv), k = <i32>((<f64>pz - oz) * inv);
  let label = centreLabel;
  const cx = centre(0, i), cy = centre(1, j), cz = centre(2, k);
  const xLo = min<f32>(px, cx), xHi = max<f32>(px, cx);
  const yLo = min<f32>(py, cy), yHi = max<f32>(py, cy);
  const zLo = min<f32>(pz, cz), zHi = max<f32>(pz, cz);
  for (let r = first; r < last; r++) {
    const rec = records + <usize>r * INSIDE_RECORD_BYTES;
    const minX = load<f32>(rec, 36), maxX = load<f32>(rec, 40);
    const minY = load<f32>(rec, 44), maxY = load<f32>(rec, 48);
    const minZ = load<f32>(rec, 52), maxZ = load<f32>(rec, 56);
    // p -> (cx, py, pz), along x at (py, pz)
    if (minY <= py && py <= maxY && minZ <= pz && pz <= maxZ && minX <= xHi && maxX >= xLo) {
      if (crossing(rec, 0, <f64>py, <f64>pz) && hitAt >= <f64>xLo && hitAt < <f64>xHi) label ^= 1;
    }
    // (cx, py, pz) -> (cx, cy, pz), along y at (z, x) = (pz, cx)
    if (minX <= cx && cx <= maxX && minZ <= pz && pz <= maxZ && minY <= yHi && maxY >= yLo) {
      if (crossing(rec, 1, <f64>pz, <f64>cx) && hitAt >= <f64>yLo && hitAt < <f64>yHi) label ^= 1;
    }
    // (cx, cy, pz) -> (cx, cy, cz), along z at (x, y) = (cx, cy)
    if (minX <= cx && cx <= maxX && minY <= cy && cy <= maxY && minZ <= zHi && maxZ >= zLo) {
      if (crossing(rec, 2, <f64>cx, <f64>cy) && hitAt >= <f64>zLo && hitAt < <f64>zHi) label ^= 1;
    }
  }
  return label;
}

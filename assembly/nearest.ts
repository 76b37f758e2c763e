// Nearest icosphere vertex, exactly as the reference's brute force picks it.
//
// The host builds a cube map over directions (src/spatial-hash.ts): each cell lists every table
// vertex that can win, under the reference's float32 arithmetic, for any point whose direction
// falls in the cell and whose radius lies in [HASH_RMIN, HASH_RMAX]. A query ranks the cell's
// few candidates by a float32 squared distance; when no other candidate comes within rounding
// distance of the best, the best is the reference's answer. Otherwise the cell's candidates are
// ranked with the reference's own fused float32 distance, ties going to the lower index as its
// strict '<' in table order does. Points outside the band, and non-finite points, take the
// brute force itself. The map is kept compact so that it stays close in cache: queries on real
// meshes jump between cells, and memory latency is what they cost. With 16-bit indices (tables
// under 65,535 vertices) each cell is one 8-byte record: its four candidates inline when they fit
// in one group (nine cells in ten at level 5: one memory access, not two), else the marker 0xFFFF,
// the number of groups and where they start in the candidate list. Wider tables use a u32 start
// per cell into a u32 candidate list.

import { HASH_RMIN, HASH_RMAX, TABLE_STRIDE } from "../src/abi";
import { refDistance } from "./exact";

let ico: usize = 0; // float32 x y z, padded to TABLE_STRIDE bytes per vertex
let icoCount: i32 = 0;
let grid: i32 = 0; // cells per cube face edge
let halfGrid: f64 = 0;
let cells: usize = 0; // 8-byte records (16-bit indices), or a u32 start per cell, + 1 (wide)
let candidates: usize = 0; // u16 (or u32, for tables over 65,535 vertices) table indices
let wideIndices: bool = false;
const MULTI_GROUP: u16 = 0xffff;

// The float32 ranking distance and the reference's distance each differ from the exact one by a
// few float32 ulps (about 6e-8 each), so candidates within 4e-6 of the best are re-ranked exactly.
const TIE_SLACK: f32 = 4e-6;
const TIE_FLOOR: f32 = 1e-30;
const ROUNDING_SHIFT: f64 = 6755399441055744.0; // 1.5 * 2^52
const RMIN2: f64 = HASH_RMIN * HASH_RMIN;
const RMAX2: f64 = HASH_RMAX * HASH_RMAX;

export function setIcosphere(ptr: usize, count: i32): void {
  ico = ptr;
  icoCount = count;
}

export function setHash(cellsPerEdge: i32, cellsPtr: usize, candidatesPtr: usize, wide: bool): void {
  grid = cellsPerEdge;
  halfGrid = <f64>cellsPerEdge * 0.5;
  cells = cellsPtr;
  candidates = candidatesPtr;
  wideIndices = wide;
}

export function icosphereCount(): i32 {
  return icoCount;
}

// The reference loop: running best starts at 9999, first strictly smaller distance wins. -1 when
// no vertex is nearer than 9999 (or p is not finite): the reference then writes no row.
export function nearestBrute(px: f32, py: f32, pz: f32): i32 {
  let best: f32 = 9999.0;
  let bestIndex: i32 = -1;
  let q = ico;
  for (let i: i32 = 0; i < icoCount; i++, q += TABLE_STRIDE) {
    const d = refDistance(load<f32>(q), load<f32>(q, 4), load<f32>(q, 8), px, py, pz);
    if (d < best) {
      best = d;
      bestIndex = i;
    }
  }
  return bestIndex;
}

/** The cube-map cell of a point, or -1 when the point must take the brute force. */
@inline
export function cellOf(px: f32, py: f32, pz: f32): i32 {
  const x = <f64>px;
  const y = <f64>py;
  const z = <f64>pz;
  const r2 = x * x + y * y + z * z;
  // Written so that NaN fails the test too.
  if (!(r2 >= RMIN2 && r2 <= RMAX2) || grid == 0) return -1;
  const ax = abs<f64>(x);
  const ay = abs<f64>(y);
  const az = abs<f64>(z);
  // Face order and (u, v) axes must match src/spatial-hash.ts.
  let face: i32;
  let u: f64;
  let v: f64;
  if (ax >= ay && ax >= az) {
    face = x > 0 ? 0 : 1;
    const inv = 1.0 / ax;
    u = y * inv;
    v = z * inv;
  } else if (ay >= az) {
    face = y > 0 ? 2 : 3;
    const inv = 1.0 / ay;
    u = x * inv;
    v = z * inv;
  } else {
    face = z > 0 ? 4 : 5;
    const inv = 1.0 / az;
    u = x * inv;
    v = y * inv;
  }
  // floor(t) as round-to-nearest(t - 1/2) by adding 1.5 * 2^52, whose low bits then hold it:
  // cheaper than a checked conversion. At exact integers (cell edges) it may pick the cell
  // below; the cube map's cells overlap by CELL_PAD there, so either cell answers exactly.
  let iu = <i32>reinterpret<i64>((u + 1.0) * halfGrid - 0.5 + ROUNDING_SHIFT);
  let iv = <i32>reinterpret<i64>((v + 1.0) * halfGrid - 0.5 + ROUNDING_SHIFT);
  if (iu >= grid) iu = grid - 1;
  if (iv >= grid) iv = grid - 1;
  if (iu < 0) iu = 0;
  if (iv < 0) iv = 0;
  return (face * grid + iv) * grid + iu;
}

// Candidate lists are padded to groups of 4 with the index icoCount: a far-away row of the table.
@inline
function indexAt(list: usize, j: u32): i32 {
  return wideIndices ? load<i32>(list + (<usize>j << 2)) : <i32>load<u16>(list + (<usize>j << 1));
}

// Squared distances (float32, the reference's own differences) from p to candidates j .. j+3 of a
// list: four table rows, transposed into x, y and z vectors.
@inline
function groupDistances(list: usize, j: u32, px: v128, py: v128, pz: v128): v128 {
  const r0 = v128.load(ico + <usize>indexAt(list, j) * TABLE_STRIDE);
  const r1 = v128.load(ico + <usize>indexAt(list, j + 1) * TABLE_STRIDE);
  const r2 = v128.load(ico + <usize>indexAt(list, j + 2) * TABLE_STRIDE);
  const r3 = v128.load(ico + <usize>indexAt(list, j + 3) * TABLE_STRIDE);
  return rowDistances(r0, r1, r2, r3, px, py, pz);
}

// The smallest lane (pmin: plain minps; no NaN can occur here).
@inline
function laneMin(d: v128): f32 {
  const m = f32x4.pmin(d, v128.shuffle<f32>(d, d, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.pmin(m, v128.shuffle<f32>(m, m, 1, 0, 3, 2)), 0);
}

export function nearest(px: f32, py: f32, pz: f32): i32 {
  const cell = cellOf(px, py, pz);
  return nearestInCell(px, py, pz, cell, cellRecord(cell));
}

/**
 * A cell's 8-byte record (16-bit layout; 0 otherwise). The kernel reads a whole batch of them
 * in a loop of its own before ranking any candidates, so that their cache misses overlap.
 */
@inline
export function cellRecord(cell: i32): u64 {
  return cell >= 0 && !wideIndices ? load<u64>(cells + (<usize>cell << 3)) : 0;
}

// Squared distances from p to the four candidates of a one-group record held in a register.
@inline
function inlineDistances(record: u64, px: v128, py: v128, pz: v128): v128 {
  const r0 = v128.load(ico + <usize>(record & 0xffff) * TABLE_STRIDE);
  const r1 = v128.load(ico + <usize>((record >> 16) & 0xffff) * TABLE_STRIDE);
  const r2 = v128.load(ico + <usize>((record >> 32) & 0xffff) * TABLE_STRIDE);
  const r3 = v128.load(ico + <usize>(record >> 48) * TABLE_STRIDE);
  return rowDistances(r0, r1, r2, r3, px, py, pz);
}

// Squared distances from p to four table rows, transposed into x, y and z vectors.
@inline
function rowDistances(r0: v128, r1: v128, r2: v128, r3: v128, px: v128, py: v128, pz: v128): v128 {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5); // x0 x1 y0 y1
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5); // x2 x3 y2 y3
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7); // z0 z1 . .
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7); // z2 z3 . .
  const dx = f32x4.sub(v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), px);
  const dy = f32x4.sub(v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), py);
  const dz = f32x4.sub(v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), pz);
  return f32x4.add(f32x4.add(f32x4.mul(dx, dx), f32x4.mul(dy, dy)), f32x4.mul(dz, dz));
}

/** Nearest vertex to p, given p's cell from cellOf() and that cell's cellRecord(). */
@inline
export function nearestInCell(px: f32, py: f32, pz: f32, cell: i32, record: u64): i32 {
  if (cell < 0) return nearestBrute(px, py, pz);
  const vx = f32x4.splat(px);
  const vy = f32x4.splat(py);
  const vz = f32x4.splat(pz);
  let list: usize;
  let n: u32;
  if (!wideIndices) {
    if (<u16>record != MULTI_GROUP) {
      // One group, inline in the cell's record.
      const d = inlineDistances(record, vx, vy, vz);
      const limit = laneMin(d) * (<f32>1.0 + TIE_SLACK) + TIE_FLOOR;
      const mask = i32x4.bitmask(f32x4.le(d, f32x4.splat(limit)));
      if ((mask & (mask - 1)) == 0) return <i32>((record >> (<u64>ctz(mask) << 4)) & 0xffff);
      return nearestExact(px, py, pz, cells + (<usize>cell << 3), 4);
    }
    list = candidates + (<usize>(record >> 32) << 1);
    n = <u32>((record >> 16) & 0xffff) << 2;
  } else {
    const first = load<u32>(cells + (<usize>cell << 2));
    list = candidates + (<usize>first << 2);
    n = load<u32>(cells + (<usize>cell << 2), 4) - first;
  }
  let mins = f32x4.splat(Infinity);
  for (let j: u32 = 0; j < n; j += 4) mins = f32x4.pmin(mins, groupDistances(list, j, vx, vy, vz));
  const limit = f32x4.splat(laneMin(mins) * (<f32>1.0 + TIE_SLACK) + TIE_FLOOR);
  let found: i32 = -1;
  for (let j: u32 = 0; j < n; j += 4) {
    const mask = i32x4.bitmask(f32x4.le(groupDistances(list, j, vx, vy, vz), limit));
    if (mask == 0) continue;
    if ((mask & (mask - 1)) != 0 || found >= 0) return nearestExact(px, py, pz, list, n);
    found = indexAt(list, j + <u32>ctz(mask));
  }
  return found;
}

// Candidates within rounding distance of each other: rank the cell with the reference's
// arithmetic. The reference's winner is in the cell, and no lower index ties it anywhere.
function nearestExact(px: f32, py: f32, pz: f32, list: usize, n: u32): i32 {
  let best: f32 = Infinity;
  let bestIndex: i32 = 0x7fffffff;
  for (let j: u32 = 0; j < n; j++) {
    const i = indexAt(list, j);
    if (i >= icoCount) continue; // padding
    const q = ico + <usize>i * TABLE_STRIDE;
    const d = refDistance(load<f32>(q), load<f32>(q, 4), load<f32>(q, 8), px, py, pz);
    if (d < best || (d == best && i < bestIndex)) {
      best = d;
      bestIndex = i;
    }
  }
  return bestIndex;
}

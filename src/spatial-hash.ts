// The cube map that lets the kernel find the reference's nearest icosphere vertex among a few
// candidates instead of all of them (the kernel's query is assembly/nearest.ts).
//
// For a point p = r·u (u a unit direction, r = |p|) and a table vertex q,
//   |q - p|² = r² + |q|² - 2r·(q·u),
// so q beats q' exactly when score(q) = q·u - (|q|² - 1)/(2r) is larger. A cell of the cube map
// is a small cone of directions with centre c and angular radius α; over it, q·u stays within
//   (1 - cos α)·|q·c| + sin α·|q⊥|   of q·c   (q⊥: the part of q perpendicular to c),
// and over the radius band [HASH_RMIN, HASH_RMAX] the second term is bounded too. A vertex is a
// candidate of the cell when its best possible score reaches the best guaranteed score of any
// vertex, less a margin that covers the reference's float32 rounding. Cells are refined from one
// per face, each child filtering its parent's list, so building costs little.

import { HASH_RMIN, HASH_RMAX } from "./abi.js";

export interface SpatialHash {
  /** Cells per cube-face edge. */
  grid: number;
  /** Candidates of cell k are candidates[cellStart[k] .. cellStart[k + 1]). */
  cellStart: Uint32Array;
  /** Table indices, 16-bit while the table allows: the whole map stays small enough for L2. */
  candidates: Uint16Array | Uint32Array;
}

/** The cube map as the kernel reads it: see kernelCells(). */
export interface KernelCells {
  cells: Uint16Array | Uint32Array;
  candidates: Uint16Array | Uint32Array;
  /** 32-bit layout (tables of 65,535 vertices or more). */
  wide: boolean;
}

/** Cells per face edge for a table of n vertices: about 4 candidates per cell on an icosphere. */
export function gridFor(n: number): number {
  let g = 1;
  while (g < 1.25 * Math.sqrt(n) && g < 512) g *= 2;
  return g;
}

// Relative error of the reference's float32 distance (a few float32 ulps), with room to spare.
const DISTANCE_REL_ERROR = 1e-6;
// Cells are widened by this much in face coordinates, beyond any rounding of the query's cell.
const CELL_PAD = 1e-9;

/**
 * The cone of directions of one cell: centre c, and 1 - cos α and sin α of its radius α. Held
 * in a Float64Array: object fields that start as small integers slow the hot loop several-fold.
 */
class Cone {
  readonly v = new Float64Array(5); // cx cy cz oneMinusCos sin

  /** Cell (iu, iv) of a grid × grid face, widened by CELL_PAD (face order as the kernel's cellOf). */
  set(face: number, grid: number, iu: number, iv: number): void {
    const u0 = -1 + (2 * iu) / grid - CELL_PAD, u1 = -1 + (2 * (iu + 1)) / grid + CELL_PAD;
    const v0 = -1 + (2 * iv) / grid - CELL_PAD, v1 = -1 + (2 * (iv + 1)) / grid + CELL_PAD;
    const s = face % 2 === 0 ? 1 : -1;
    const axis = face >> 1;
    direction(axis, s, (u0 + u1) / 2, (v0 + v1) / 2, scratch);
    const cx = scratch[0], cy = scratch[1], cz = scratch[2];
    let oneMinusCos = 0, sin = 0;
    for (let corner = 0; corner < 4; corner++) {
      direction(axis, s, corner & 1 ? u1 : u0, corner & 2 ? v1 : v0, scratch);
      const kx = scratch[0], ky = scratch[1], kz = scratch[2];
      // Both measured without cancellation: |c - k|²/2 and |c × k|.
      const dx = cx - kx, dy = cy - ky, dz = cz - kz;
      oneMinusCos = Math.max(oneMinusCos, (dx * dx + dy * dy + dz * dz) / 2);
      const ox = cy * kz - cz * ky, oy = cz * kx - cx * kz, oz = cx * ky - cy * kx;
      sin = Math.max(sin, Math.sqrt(ox * ox + oy * oy + oz * oz));
    }
    // The farthest direction of a cell from its centre is a corner; widen a hair for float64 error.
    this.v[0] = cx; this.v[1] = cy; this.v[2] = cz;
    this.v[3] = oneMinusCos * (1 + 1e-9) + 1e-15;
    this.v[4] = sin * (1 + 1e-9) + 1e-15;
  }
}

const scratch = new Float64Array(3);

/** Unit direction of face coordinates (u, v) on the face with this axis and sign. */
function direction(axis: number, s: number, u: number, v: number, out: Float64Array): void {
  let x: number, y: number, z: number;
  if (axis === 0) { x = s; y = u; z = v; }
  else if (axis === 1) { x = u; y = s; z = v; }
  else { x = u; y = v; z = s; }
  const n = Math.sqrt(x * x + y * y + z * z);
  out[0] = x / n; out[1] = y / n; out[2] = z / n;
}

interface Vertices {
  qx: Float64Array; qy: Float64Array; qz: Float64Array; q2: Float64Array;
  radiusLo: Float64Array; radiusHi: Float64Array;
}

/**
 * Write to out[used..] the vertices of parent[from, to) that can win somewhere in the cone;
 * returns the new fill. Plain arguments and no object fields written: V8 keeps this optimized.
 */
function filterInto(q: Vertices, cone: Float64Array, margin: number, hi: Float64Array, parent: Uint32Array, from: number, to: number, out: Uint32Array, used: number): number {
  const { qx, qy, qz, q2, radiusLo, radiusHi } = q;
  const cx = cone[0], cy = cone[1], cz = cone[2], oneMinusCos = cone[3], sin = cone[4];
  let bestLo = -Infinity;
  for (let k = from; k < to; k++) {
    const i = parent[k];
    const dot = qx[i] * cx + qy[i] * cy + qz[i] * cz;
    const perp = Math.sqrt(Math.max(0, q2[i] - dot * dot));
    const spread = oneMinusCos * Math.abs(dot) + sin * perp;
    hi[k - from] = dot + spread + radiusHi[i];
    const l = dot - spread + radiusLo[i];
    if (l > bestLo) bestLo = l;
  }
  const threshold = bestLo - margin;
  for (let k = from; k < to; k++) if (hi[k - from] >= threshold) out[used++] = parent[k];
  return used;
}

/** Candidate lists of one level: list k is data[start[k] .. start[k + 1]). */
interface Lists { start: Uint32Array; data: Uint32Array; }

export function buildSpatialHash(table: Float32Array, grid = gridFor(table.length / 3)): SpatialHash {
  const n = table.length / 3;
  const qx = new Float64Array(n), qy = new Float64Array(n), qz = new Float64Array(n), q2 = new Float64Array(n);
  // Over the radius band, -(|q|² - 1)/(2r) lies in [radiusLo, radiusHi].
  const radiusLo = new Float64Array(n), radiusHi = new Float64Array(n);
  let qMax = 0;
  for (let i = 0; i < n; i++) {
    qx[i] = table[3 * i]; qy[i] = table[3 * i + 1]; qz[i] = table[3 * i + 2];
    q2[i] = qx[i] * qx[i] + qy[i] * qy[i] + qz[i] * qz[i];
    const e = q2[i] - 1;
    const a = -e / (2 * HASH_RMIN), b = -e / (2 * HASH_RMAX);
    radiusLo[i] = Math.min(a, b);
    radiusHi[i] = Math.max(a, b);
    qMax = Math.max(qMax, Math.sqrt(q2[i]));
  }
  // Score margin for rounding: the reference's winner is within a relative DISTANCE_REL_ERROR
  // (times 3, for both sides and the square) of the exact nearest, whose distance is at most
  // r + qMax; in score units that is divided by 2r. Take the worse end of the band, times 4.
  const margin = 4 * 3 * DISTANCE_REL_ERROR * Math.max(
    (HASH_RMIN + qMax) ** 2 / (2 * HASH_RMIN),
    (HASH_RMAX + qMax) ** 2 / (2 * HASH_RMAX),
  );

  const q: Vertices = { qx, qy, qz, q2, radiusLo, radiusHi };
  const hi = new Float64Array(n);
  const cone = new Cone();

  // Level 1: one cell per face, filtered from every vertex; then each level halves the cells,
  // each child filtering its parent's list.
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  let level = 1;
  let lists: Lists;
  {
    // A child's list is at most its parent's: each level's total is at most 4 × the last one's.
    const start = new Uint32Array(7);
    const out = new Uint32Array(6 * n);
    let used = 0;
    for (let face = 0; face < 6; face++) {
      start[face] = used;
      cone.set(face, 1, 0, 0);
      used = filterInto(q, cone.v, margin, hi, all, 0, n, out, used);
    }
    start[6] = used;
    lists = { start, data: out.slice(0, used) };
  }
  while (level < grid) {
    const next = level * 2;
    const start = new Uint32Array(6 * next * next + 1);
    const out = new Uint32Array(4 * lists.data.length);
    let used = 0;
    for (let face = 0; face < 6; face++) {
      for (let iv = 0; iv < next; iv++) {
        for (let iu = 0; iu < next; iu++) {
          const cell = (face * next + iv) * next + iu;
          const parent = (face * level + (iv >> 1)) * level + (iu >> 1);
          start[cell] = used;
          cone.set(face, next, iu, iv);
          used = filterInto(q, cone.v, margin, hi, lists.data, lists.start[parent], lists.start[parent + 1], out, used);
        }
      }
    }
    start[6 * next * next] = used;
    lists = { start, data: out.slice(0, used) };
    level = next;
  }

  const candidates = n <= 0xffff ? Uint16Array.from(lists.data) : lists.data;
  return { grid: level, cellStart: lists.start, candidates };
}

/** Marks a cell record whose candidates are in the list, not inline (assembly/nearest.ts). */
const MULTI_GROUP = 0xffff;

/**
 * The cube map as the kernel reads it (assembly/nearest.ts), candidates padded to groups of 4
 * with the index `count`. Tables under 65,535 vertices: an 8-byte record per cell, holding its
 * one group inline, or [MULTI_GROUP, groups, start (u32)] into a u16 list of the larger cells'
 * candidates. Wider tables: a u32 start per cell (+ 1) into a u32 list. Built once per
 * icosphere and cached with it (src/setup-cache.ts): cold, it costs each worker ~7 ms.
 */
export function kernelCells(hash: SpatialHash, count: number): KernelCells {
  const cellCount = hash.cellStart.length - 1;
  const from = hash.candidates, starts = hash.cellStart;
  if (count >= 0xffff) {
    const cells = new Uint32Array(cellCount + 1);
    let total = 0;
    for (let k = 0; k < cellCount; k++) {
      cells[k] = total;
      total += ((starts[k + 1] - starts[k] + 3) >>> 2) << 2;
    }
    cells[cellCount] = total;
    const candidates = new Uint32Array(total).fill(count);
    for (let k = 0; k < cellCount; k++) {
      for (let i = starts[k], j = cells[k], end = starts[k + 1]; i < end; i++, j++) candidates[j] = from[i];
    }
    return { cells, candidates, wide: true };
  }
  let total = 0;
  for (let k = 0; k < cellCount; k++) {
    const n = starts[k + 1] - starts[k];
    if (n > 4) total += ((n + 3) >>> 2) << 2;
  }
  const cells = new Uint16Array(cellCount * 4);
  const candidates = new Uint16Array(total).fill(count);
  let at = 0;
  for (let k = 0, r = 0; k < cellCount; k++, r += 4) {
    const first = starts[k], n = starts[k + 1] - first;
    if (n <= 4) {
      for (let j = 0; j < 4; j++) cells[r + j] = j < n ? from[first + j] : count;
      continue;
    }
    cells[r] = MULTI_GROUP;
    cells[r + 1] = (n + 3) >>> 2;
    cells[r + 2] = at & 0xffff;
    cells[r + 3] = at >>> 16;
    for (let i = 0; i < n; i++) candidates[at + i] = from[first + i];
    at += ((n + 3) >>> 2) << 2;
  }
  return { cells, candidates, wide: false };
}

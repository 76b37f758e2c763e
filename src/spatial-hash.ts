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

/** Direction of face coordinates (u, v) on face f, as the kernel's cellOf assigns them. */
function faceDirection(face: number, u: number, v: number, out: Float64Array): void {
  const s = face % 2 === 0 ? 1 : -1;
  const axis = face >> 1;
  let x: number, y: number, z: number;
  if (axis === 0) { x = s; y = u; z = v; }
  else if (axis === 1) { x = u; y = s; z = v; }
  else { x = u; y = v; z = s; }
  const n = Math.hypot(x, y, z);
  out[0] = x / n; out[1] = y / n; out[2] = z / n;
}

interface Cone { cx: number; cy: number; cz: number; oneMinusCos: number; sin: number }

function cellCone(face: number, grid: number, iu: number, iv: number): Cone {
  const u0 = -1 + (2 * iu) / grid - CELL_PAD, u1 = -1 + (2 * (iu + 1)) / grid + CELL_PAD;
  const v0 = -1 + (2 * iv) / grid - CELL_PAD, v1 = -1 + (2 * (iv + 1)) / grid + CELL_PAD;
  const c = new Float64Array(3);
  faceDirection(face, (u0 + u1) / 2, (v0 + v1) / 2, c);
  const k = new Float64Array(3);
  let oneMinusCos = 0, sin = 0;
  for (const [u, v] of [[u0, v0], [u1, v0], [u0, v1], [u1, v1]]) {
    faceDirection(face, u, v, k);
    // Both measured without cancellation: |c - k|²/2 and |c × k|.
    const dx = c[0] - k[0], dy = c[1] - k[1], dz = c[2] - k[2];
    oneMinusCos = Math.max(oneMinusCos, (dx * dx + dy * dy + dz * dz) / 2);
    const cx = c[1] * k[2] - c[2] * k[1], cy = c[2] * k[0] - c[0] * k[2], cz = c[0] * k[1] - c[1] * k[0];
    sin = Math.max(sin, Math.hypot(cx, cy, cz));
  }
  // The farthest direction of a cell from its centre is a corner; widen a hair for float64 error.
  return { cx: c[0], cy: c[1], cz: c[2], oneMinusCos: oneMinusCos * (1 + 1e-9) + 1e-15, sin: sin * (1 + 1e-9) + 1e-15 };
}

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

  const hi = new Float64Array(n), lo = new Float64Array(n);
  let level = 1;
  // One list per cell at the current level; level 1 has one cell per face with every vertex.
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  let lists: Uint32Array[] = [];
  for (let face = 0; face < 6; face++) lists.push(filter(all, cellCone(face, 1, 0, 0)));

  function filter(parent: Uint32Array, cone: Cone): Uint32Array {
    let bestLo = -Infinity;
    for (let k = 0; k < parent.length; k++) {
      const i = parent[k];
      const dot = qx[i] * cone.cx + qy[i] * cone.cy + qz[i] * cone.cz;
      const perp = Math.sqrt(Math.max(0, q2[i] - dot * dot));
      const spread = cone.oneMinusCos * Math.abs(dot) + cone.sin * perp;
      hi[k] = dot + spread + radiusHi[i];
      lo[k] = dot - spread + radiusLo[i];
      if (lo[k] > bestLo) bestLo = lo[k];
    }
    const keep: number[] = [];
    const threshold = bestLo - margin;
    for (let k = 0; k < parent.length; k++) if (hi[k] >= threshold) keep.push(parent[k]);
    return Uint32Array.from(keep);
  }

  while (level < grid) {
    const next = level * 2;
    const children: Uint32Array[] = new Array(6 * next * next);
    for (let face = 0; face < 6; face++) {
      for (let iv = 0; iv < next; iv++) {
        for (let iu = 0; iu < next; iu++) {
          const parent = lists[(face * level + (iv >> 1)) * level + (iu >> 1)];
          children[(face * next + iv) * next + iu] = filter(parent, cellCone(face, next, iu, iv));
        }
      }
    }
    lists = children;
    level = next;
  }

  const cellStart = new Uint32Array(lists.length + 1);
  let total = 0;
  lists.forEach((l, k) => { cellStart[k] = total; total += l.length; });
  cellStart[lists.length] = total;
  const candidates = n <= 0xffff ? new Uint16Array(total) : new Uint32Array(total);
  lists.forEach((l, k) => candidates.set(l, cellStart[k]));
  return { grid: level, cellStart, candidates };
}

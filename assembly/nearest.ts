// Nearest icosphere vertex, exactly as the reference's brute force picks it.
//
// The host builds a cube map over directions (src/spatial-hash.ts): each cell lists every table
// vertex that can win, under the reference's float32 arithmetic, for any point whose direction
// falls in the cell and whose radius lies in [HASH_RMIN, HASH_RMAX]. A query ranks the cell's
// candidates by a float64 squared distance; when no other candidate comes within rounding
// distance of the best, the best is the reference's answer. Otherwise the close ones are
// re-ranked with the reference's own fused float32 distance, ties going to the lower index as
// the reference's strict '<' in table order does. Points outside the band, and non-finite
// points, take the brute force itself.

import { HASH_RMIN, HASH_RMAX } from "../src/abi";
import { refDistance } from "./exact";

let ico: usize = 0; // float32 x y z per vertex
let icoCount: i32 = 0;
let grid: i32 = 0; // cells per cube face edge
let halfGrid: f64 = 0;
let cellStart: usize = 0; // u32, 6*grid*grid + 1 entries
let candidates: usize = 0; // u32 vertex indices, sorted within each cell

// Relative slack between the float64 ranking distance and the reference's float32 distance:
// each differs from the exact distance by a few float32 ulps (about 6e-8 each), so 4e-6 is ample.
const TIE_SLACK: f64 = 4e-6;
const TIE_FLOOR: f64 = 1e-40;
const RMIN2: f64 = HASH_RMIN * HASH_RMIN;
const RMAX2: f64 = HASH_RMAX * HASH_RMAX;

export function setIcosphere(ptr: usize, count: i32): void {
  ico = ptr;
  icoCount = count;
}

export function setHash(cellsPerEdge: i32, startPtr: usize, candidatePtr: usize): void {
  grid = cellsPerEdge;
  halfGrid = <f64>cellsPerEdge * 0.5;
  cellStart = startPtr;
  candidates = candidatePtr;
}

export function icosphereCount(): i32 {
  return icoCount;
}

// The reference loop: running best starts at 9999, first strictly smaller distance wins.
export function nearestBrute(px: f32, py: f32, pz: f32): i32 {
  let best: f32 = 9999.0;
  let bestIndex: i32 = 0;
  let q = ico;
  for (let i: i32 = 0; i < icoCount; i++, q += 12) {
    const d = refDistance(load<f32>(q), load<f32>(q, 4), load<f32>(q, 8), px, py, pz);
    if (d < best) {
      best = d;
      bestIndex = i;
    }
  }
  return bestIndex;
}

@inline
function cellOf(x: f64, y: f64, z: f64): i32 {
  const ax = abs<f64>(x);
  const ay = abs<f64>(y);
  const az = abs<f64>(z);
  // Face order and (u, v) axes must match src/spatial-hash.ts.
  let face: i32;
  let u: f64;
  let v: f64;
  if (ax >= ay && ax >= az) {
    face = x > 0 ? 0 : 1;
    u = y / ax;
    v = z / ax;
  } else if (ay >= az) {
    face = y > 0 ? 2 : 3;
    u = x / ay;
    v = z / ay;
  } else {
    face = z > 0 ? 4 : 5;
    u = x / az;
    v = y / az;
  }
  let iu = <i32>((u + 1.0) * halfGrid);
  let iv = <i32>((v + 1.0) * halfGrid);
  if (iu >= grid) iu = grid - 1;
  if (iv >= grid) iv = grid - 1;
  if (iu < 0) iu = 0;
  if (iv < 0) iv = 0;
  return (face * grid + iv) * grid + iu;
}

export function nearest(px: f32, py: f32, pz: f32): i32 {
  const x = <f64>px;
  const y = <f64>py;
  const z = <f64>pz;
  const r2 = x * x + y * y + z * z;
  // Written so that NaN fails the test and takes the brute force, which reproduces the reference.
  if (!(r2 >= RMIN2 && r2 <= RMAX2) || grid == 0) return nearestBrute(px, py, pz);

  const cell = cellOf(x, y, z);
  const first = load<u32>(cellStart + (<usize>cell << 2));
  const last = load<u32>(cellStart + (<usize>cell << 2), 4);

  let best: f64 = Infinity;
  let second: f64 = Infinity;
  let bestIndex: i32 = 0;
  for (let c = first; c < last; c++) {
    const i = load<u32>(candidates + (<usize>c << 2));
    const q = ico + <usize>i * 12;
    // The same float32 differences the reference takes, squared and summed in float64.
    const dx = <f64>(load<f32>(q) - px);
    const dy = <f64>(load<f32>(q, 4) - py);
    const dz = <f64>(load<f32>(q, 8) - pz);
    const d2 = dx * dx + dy * dy + dz * dz;
    if (d2 < best) {
      second = best;
      best = d2;
      bestIndex = <i32>i;
    } else if (d2 < second) {
      second = d2;
    }
  }
  const limit = best * (1.0 + TIE_SLACK) + TIE_FLOOR;
  if (second > limit) return bestIndex;
  return nearestAmongClose(px, py, pz, first, last, limit);
}

// Candidates within rounding distance of the best: rank them with the reference's arithmetic.
function nearestAmongClose(px: f32, py: f32, pz: f32, first: u32, last: u32, limit: f64): i32 {
  let best: f32 = Infinity;
  let bestIndex: i32 = 0x7fffffff;
  for (let c = first; c < last; c++) {
    const i = <i32>load<u32>(candidates + (<usize>c << 2));
    const q = ico + <usize>i * 12;
    const qx = load<f32>(q);
    const qy = load<f32>(q, 4);
    const qz = load<f32>(q, 8);
    const dx = <f64>(qx - px);
    const dy = <f64>(qy - py);
    const dz = <f64>(qz - pz);
    if (dx * dx + dy * dy + dz * dz > limit) continue;
    const d = refDistance(qx, qy, qz, px, py, pz);
    if (d < best || (d == best && i < bestIndex)) {
      best = d;
      bestIndex = i;
    }
  }
  return bestIndex;
}

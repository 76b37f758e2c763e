// The mesh kernel's state: an arena for the current file and its derived tables, the loaded mesh,
// and the result record the host reads after each call.
//
// The host resets the arena before each file. Everything the file needs (its bytes, vertices,
// triangles, sampling tables, the inside grid, output rows) is allocated upwards from the heap
// base; the arena grows memory when it must and reports S_NO_MEMORY when it cannot. Nothing is
// freed: the next reset drops it all.

import { MR_WORDS, MR_STATUS, MR_ERROR_AT, MR_ITEM, S_OK, STAGING_STRIDE } from "../../src/abi";

export const result: usize = memory.data(MR_WORDS * 4, 16);

@inline
export function setWord(word: i32, value: i32): void {
  store<i32>(result + (<usize>word << 2), value);
}

@inline
export function getWord(word: i32): i32 {
  return load<i32>(result + (<usize>word << 2));
}

/** Record a status, where it happened and the item it concerns; returns the status. */
export function fail(status: i32, at: usize, item: i32): i32 {
  setWord(MR_STATUS, status);
  setWord(MR_ERROR_AT, <i32>at);
  setWord(MR_ITEM, item);
  return status;
}

export function ok(): i32 {
  setWord(MR_STATUS, S_OK);
  return S_OK;
}

let top: usize = 0;

/** Drop every allocation: the next file starts at the heap base. Also forgets the mesh. */
export function arenaReset(): void {
  top = (__heap_base + 63) & ~(<usize>63);
  boxKnown = false;
  vertices = 0;
  vertexCount = 0;
  triangles = 0;
  triangleCount = 0;
  for (let w = 0; w < MR_WORDS; w++) setWord(w, 0);
}

/** The first free byte (64-aligned). */
export function arenaTop(): usize {
  return (top + 63) & ~(<usize>63);
}

/** Make memory reach `end` (exclusive); false when it cannot grow that far. */
export function ensure(end: usize): bool {
  if (end >= 0xffff0000) return false;
  const have = <usize>memory.size() << 16;
  if (end <= have) return true;
  return memory.grow(<i32>((end - have + 0xffff) >> 16)) >= 0;
}

/** `bytes` of memory, 64-aligned, or 0 when memory cannot grow. */
export function alloc(bytes: usize): usize {
  const at = arenaTop();
  if (bytes >= 0xffff0000 - at || !ensure(at + bytes)) return 0;
  top = at + bytes;
  return at;
}

/** Claim bytes written at arenaTop() by a reader that grew memory itself (open-ended arrays). */
export function commit(at: usize, bytes: usize): void {
  top = at + bytes;
}

// The loaded mesh: staging rows (float32 x y z nx ny nz r g b) and triangles (u32 a b c).
export let vertices: usize = 0;
export let vertexCount: i32 = 0;
export let triangles: usize = 0;
export let triangleCount: i32 = 0;

export function setMesh(v: usize, vCount: i32, t: usize, tCount: i32): void {
  vertices = v;
  vertexCount = vCount;
  triangles = t;
  triangleCount = tCount;
}

// The loaded mesh's bounding box, computed once: lanes 0-2 of the rows' float32 minimums, then of
// their maximums (lane 3 is not the box's). decodePlainVertices finds it as it writes the rows;
// otherwise meshBox() computes it on first use. Both fold the rows in order with pmin/pmax, so
// the box is the same either way, zero signs included.
const box: usize = memory.data(32, 16);
let boxKnown = false;

/** Record the box found while the rows were written. */
@inline
export function knowBox(lo: v128, hi: v128): void {
  v128.store(box, lo);
  v128.store(box, hi, 16);
  boxKnown = true;
}

/** The address of the box: 16 bytes of minimums, then 16 of maximums. */
export function meshBox(): usize {
  if (boxKnown) return box;
  const n = <usize>vertexCount;
  // No vertices: an empty box at 0.
  let lo = n > 0 ? v128.load(vertices) : f32x4.splat(0), hi = lo;
  for (let i: usize = 1; i < n; i++) {
    const row = v128.load(vertices + i * STAGING_STRIDE);
    lo = f32x4.pmin(lo, row);
    hi = f32x4.pmax(hi, row);
  }
  knowBox(lo, hi);
  return box;
}

@inline
export function vertexAt(i: u32): usize {
  return vertices + <usize>i * STAGING_STRIDE;
}

@inline
export function triangleAt(t: i32): usize {
  return triangles + <usize>t * 12;
}

/** The cross product (b - a) × (c - a) of the last triangleCross(), in float64. */
export let crossX: f64 = 0, crossY: f64 = 0, crossZ: f64 = 0;

/** Triangle t's cross product into crossX/Y/Z, and its length (twice the area): see crossOf(). */
@inline
export function triangleCross(t: i32): f64 {
  const tri = triangles + <usize>t * 12;
  return crossOf(vertexAt(load<u32>(tri)), vertexAt(load<u32>(tri, 4)), vertexAt(load<u32>(tri, 8)));
}

/**
 * The cross product of the float32 x y z corners at a, b, c into crossX/Y/Z, and its length:
 * float64, in one order, so that every table built from areas agrees to the bit.
 */
@inline
export function crossOf(a: usize, b: usize, c: usize): f64 {
  return Math.sqrt(crossSquared(a, b, c));
}

/** crossOf() before its square root: the cross product into crossX/Y/Z, and its squared length. */
@inline
export function crossSquared(a: usize, b: usize, c: usize): f64 {
  const ax = <f64>load<f32>(a), ay = <f64>load<f32>(a, 4), az = <f64>load<f32>(a, 8);
  const ux = <f64>load<f32>(b) - ax, uy = <f64>load<f32>(b, 4) - ay, uz = <f64>load<f32>(b, 8) - az;
  const wx = <f64>load<f32>(c) - ax, wy = <f64>load<f32>(c, 4) - ay, wz = <f64>load<f32>(c, 8) - az;
  crossX = uy * wz - uz * wy;
  crossY = uz * wx - ux * wz;
  crossZ = ux * wy - uy * wx;
  return crossX * crossX + crossY * crossY + crossZ * crossZ;
}

/** Triangle t's crossSquared(). */
@inline
export function triangleCrossSquared(t: i32): f64 {
  const tri = triangles + <usize>t * 12;
  return crossSquared(vertexAt(load<u32>(tri)), vertexAt(load<u32>(tri, 4)), vertexAt(load<u32>(tri, 8)));
}

// The current mesh's bounding box (computeBounds()): float64 minimum x y z, then maximum x y z.
const bounds: usize = memory.data(48, 8);

export function computeBounds(): void {
  // Four float32 lanes at a time (x y z and the normal's x, ignored): float32 to float64 keeps
  // the order (and -0 below +0), so the least and greatest are those of the float64 values.
  let low = f32x4.splat(Infinity), high = f32x4.splat(-Infinity);
  for (let i: i32 = 0; i < vertexCount; i++) {
    const row = v128.load(vertexAt(<u32>i));
    low = f32x4.min(low, row);
    high = f32x4.max(high, row);
  }
  store<f64>(bounds, <f64>f32x4.extract_lane(low, 0));
  store<f64>(bounds, <f64>f32x4.extract_lane(low, 1), 8);
  store<f64>(bounds, <f64>f32x4.extract_lane(low, 2), 16);
  store<f64>(bounds, <f64>f32x4.extract_lane(high, 0), 24);
  store<f64>(bounds, <f64>f32x4.extract_lane(high, 1), 32);
  store<f64>(bounds, <f64>f32x4.extract_lane(high, 2), 40);
}

@inline
export function boundMin(axis: i32): f64 {
  return load<f64>(bounds + (<usize>axis << 3));
}

@inline
export function boundMax(axis: i32): f64 {
  return load<f64>(bounds + (<usize>(axis + 3) << 3));
}

/** Copy 12 bytes (three float32): memory.copy costs a call for so few. */
@inline
export function copy12(to: usize, from: usize): void {
  store<u64>(to, load<u64>(from));
  store<u32>(to, load<u32>(from, 8), 8);
}

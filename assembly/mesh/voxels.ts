// FaceNet's voxel grid: the mean vertex colour (or occupancy) per voxel of a G³ grid, as uint8.
//
// In float32, in exactly this order (the original's arithmetic; C's roundf rounds halves away
// from zero, which WebAssembly's `nearest` does not):
//   lax = max over vertices of |x|, |y|, |z|;  s = 1 / lax  (0 when lax is 0: all in the middle)
//   x' = (((x * s) + 1) * 0.5) * (G - 1), the same for y and z
//   voxel (roundf(x'), roundf(y'), roundf(z')), index z*G*G + y*G + x
//   value = (R + G + B) / 765 with colours on 0-255: a uchar colour as read, a float one times 255
//   sum[voxel] += value, count[voxel] += 1;  byte = roundf(sum / count * 255), empty voxels 0.
// The original kept its sums across models and divided 0 by 0 for empty voxels; here every call
// starts from zero and empty voxels are 0. With `occupancy`, an occupied voxel is 255.

import { STAGING_STRIDE, S_NO_MEMORY, MR_PTR, MR_COUNT } from "../../src/abi";
import { alloc, fail, ok, setWord, meshBox, vertices, vertexCount } from "./state";

/** C's roundf: halves away from zero. */
@inline
export function roundf(x: f32): f32 {
  const t = trunc<f32>(x);
  return abs<f32>(x - t) >= <f32>0.5 ? t + copysign<f32>(1, x) : t;
}

/** 2^23: a float from 0 to 2^23 plus this holds its integer in its low 23 bits. */
const INT_BIAS: f32 = 8388608;

/** roundf in each lane: the same arithmetic, a lane select for the branch. */
@inline
function roundf4(x: v128): v128 {
  const t = f32x4.trunc(x);
  const away = f32x4.add(t, v128.or(v128.and(x, i32x4.splat(0x80000000)), f32x4.splat(1)));
  return v128.bitselect(away, t, f32x4.ge(f32x4.abs(f32x4.sub(x, t)), f32x4.splat(0.5)));
}

/**
 * A staging row's x y z (lanes 0-2) as voxel coordinates: roundf, kept within 0 to G - 1. The
 * arithmetic of the formula, lane by lane; clamped as floats (NaN to 0, infinities to the ends)
 * and turned into integers by their bits: the same numbers as a saturating conversion and then
 * clamping the integer, for less than the scalar conversions cost.
 */
@inline
function cells4(v: v128, scale: v128, last: v128): v128 {
  const r = roundf4(f32x4.mul(f32x4.mul(f32x4.add(f32x4.mul(v, scale), f32x4.splat(1)), f32x4.splat(0.5)), last));
  const clamped = v128.bitselect(v128.bitselect(last, r, f32x4.gt(r, last)), f32x4.splat(0), f32x4.ge(r, f32x4.splat(0)));
  return i32x4.sub(f32x4.add(clamped, f32x4.splat(INT_BIAS)), i32x4.splat(reinterpret<i32>(INT_BIAS)));
}

/** Four staging rows' lanes 0-3 (from `offset`), transposed: lane k of the result is row k's. */
@inline
function lanes4(at: usize, offset: usize, lane: i32): v128 {
  const r0 = v128.load(at + offset), r1 = v128.load(at + STAGING_STRIDE + offset);
  const r2 = v128.load(at + 2 * STAGING_STRIDE + offset), r3 = v128.load(at + 3 * STAGING_STRIDE + offset);
  // unpacklo/hi of 32-bit lanes, then of 64-bit halves: the shuffles V8 compiles to one instruction.
  const lo01 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), lo23 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const hi01 = i32x4.shuffle(r0, r1, 2, 6, 3, 7), hi23 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  if (lane == 0) return i64x2.shuffle(lo01, lo23, 0, 2);
  if (lane == 1) return i64x2.shuffle(lo01, lo23, 1, 3);
  if (lane == 2) return i64x2.shuffle(hi01, hi23, 0, 2);
  return i64x2.shuffle(hi01, hi23, 1, 3);
}

/**
 * One coordinate of four vertices as voxel coordinates: the formula, lane by lane, then roundf
 * kept within 0 to G - 1, as integers. pmax(0, ·) then pmin(G - 1, ·) clamp as the scalar code
 * does, NaN (0 · ∞, when 1 / lax overflows) to 0 and ±∞ to the ends; clamping before rounding
 * gives the same integers (0 and G - 1 round to themselves), and on 0 to G - 1 roundf is trunc
 * plus 1 when the fraction (exact) is at least a half.
 * Integers by their bits (INT_BIAS); a comparison's true is -1, hence the subtraction.
 */
@inline
function cellsOf(v: v128, scale: v128, last: v128): v128 {
  const x = f32x4.pmin(last, f32x4.pmax(f32x4.splat(0), f32x4.mul(f32x4.mul(f32x4.add(f32x4.mul(v, scale), f32x4.splat(1)), f32x4.splat(0.5)), last)));
  const t = f32x4.trunc(x);
  const up = f32x4.ge(f32x4.sub(x, t), f32x4.splat(0.5));
  return i32x4.sub(i32x4.sub(f32x4.add(t, f32x4.splat(INT_BIAS)), i32x4.splat(reinterpret<i32>(INT_BIAS))), up);
}

/**
 * A colour channel times 255, as roundf recovers the byte: for colours read as bytes it lies
 * within 1e-4 of an integer (byte · float32(1/255) · 255), so the nearest integer (INT_BIAS added
 * and taken away) is roundf's.
 */
@inline
function colorByte(v: v128): v128 {
  return f32x4.sub(f32x4.add(f32x4.mul(v, f32x4.splat(255)), f32x4.splat(INT_BIAS)), f32x4.splat(INT_BIAS));
}

/**
 * Each vertex's voxel index and value, into `cells` (u32) and `values` (f32): four vertices at a
 * time, their rows transposed so that each lane is a vertex. No vertex depends on another here;
 * the sums, which do, come after (addValues). The parameters come through memory (`params`: the
 * scale, then G - 1 as a float): see renderFront in raster.ts for why.
 */
function cellValues(cells: usize, values: usize, grid: i32, params: usize, colorBytes: bool): void {
  const scale = v128.load32_splat(params), last = v128.load32_splat(params, 4);
  const G = i32x4.splat(grid);
  const n = <usize>vertexCount & ~3;
  for (let i: usize = 0; i < n; i += 4) {
    const row = vertices + i * STAGING_STRIDE;
    const x = cellsOf(lanes4(row, 0, 0), scale, last);
    const y = cellsOf(lanes4(row, 0, 1), scale, last);
    const z = cellsOf(lanes4(row, 0, 2), scale, last);
    v128.store(cells + (i << 2), i32x4.add(i32x4.mul(i32x4.add(i32x4.mul(z, G), y), G), x));
    // Lanes 1-3 of the row from byte 20 are r g b.
    const r0 = lanes4(row, 20, 1), g0 = lanes4(row, 20, 2), b0 = lanes4(row, 20, 3);
    let r = colorByte(r0), g = colorByte(g0), b = colorByte(b0);
    if (!colorBytes) {
      r = f32x4.mul(r0, f32x4.splat(255));
      g = f32x4.mul(g0, f32x4.splat(255));
      b = f32x4.mul(b0, f32x4.splat(255));
    }
    v128.store(values + (i << 2), f32x4.div(f32x4.add(f32x4.add(r, g), b), f32x4.splat(765)));
  }
  // The last vertices one at a time, with the same arithmetic.
  for (let i = n; i < <usize>vertexCount; i++) {
    const row = vertices + i * STAGING_STRIDE;
    const xyz = cells4(v128.load(row), v128.load32_splat(params), v128.load32_splat(params, 4));
    store<u32>(cells + (i << 2), (<u32>i32x4.extract_lane(xyz, 2) * <u32>grid + <u32>i32x4.extract_lane(xyz, 1)) * <u32>grid
      + <u32>i32x4.extract_lane(xyz, 0));
    let rgb = f32x4.mul(v128.load(row, 20), f32x4.splat(255));
    if (colorBytes) rgb = roundf4(rgb);
    store<f32>(values + (i << 2), (f32x4.extract_lane(rgb, 1) + f32x4.extract_lane(rgb, 2) + f32x4.extract_lane(rgb, 3)) / <f32>765);
  }
}

/** The sums and counts, in vertex order (each voxel's float32 sum in the order of its vertices). */
function addValues(cells: usize, values: usize, sums: usize, counts: usize): void {
  const n = <usize>vertexCount;
  for (let i: usize = 0; i < n; i++) {
    const at = <usize>load<u32>(cells + (i << 2)) << 2;
    store<f32>(sums + at, load<f32>(sums + at) + load<f32>(values + (i << 2)));
    store<u32>(counts + at, load<u32>(counts + at) + 1);
  }
}

/**
 * Voxelize the current mesh's vertices into G³ bytes (address in MR_PTR, occupied voxels in
 * MR_COUNT). `colorBytes`: the file's colours were uchar, so that 0-255 is recovered exactly.
 */
export function voxelize(grid: i32, occupancy: bool, colorBytes: bool): i32 {
  const cells = <usize>grid * <usize>grid * <usize>grid;
  const sums = alloc(cells * 4), counts = alloc(cells * 4), out = alloc(cells);
  if (sums == 0 || counts == 0 || out == 0) return fail(S_NO_MEMORY, 0, 0);
  memory.fill(sums, 0, cells * 4);
  memory.fill(counts, 0, cells * 4);
  // The largest |x|, |y|, |z|: the box's ends (lanes 0-2) have them.
  const box = meshBox();
  const laxes = f32x4.pmax(f32x4.abs(v128.load(box)), f32x4.abs(v128.load(box, 16)));
  const lax = max<f32>(f32x4.extract_lane(laxes, 0), max<f32>(f32x4.extract_lane(laxes, 1), f32x4.extract_lane(laxes, 2)));
  // Through memory, so that TurboFan does not redo the division in every iteration of the loop.
  store<f32>(out, lax > 0 ? <f32>1 / lax : 0);
  store<f32>(out, <f32>(grid - 1), 4);
  const cellAt = alloc(<usize>vertexCount * 4), valueAt = alloc(<usize>vertexCount * 4);
  if (cellAt == 0 || valueAt == 0) return fail(S_NO_MEMORY, 0, 0);
  cellValues(cellAt, valueAt, grid, out, colorBytes);
  addValues(cellAt, valueAt, sums, counts);
  let occupied: i32 = 0;
  for (let k: usize = 0; k < cells; k++) {
    const n = load<u32>(counts + (k << 2));
    let byte: i32 = 0;
    if (n > 0) {
      occupied++;
      if (occupancy) byte = 255;
      else {
        byte = <i32>roundf(load<f32>(sums + (k << 2)) / <f32>n * <f32>255);
        if (byte > 255) byte = 255;
        if (byte < 0) byte = 0;
      }
    }
    store<u8>(out + k, <u8>byte);
  }
  setWord(MR_PTR, <i32>out);
  setWord(MR_COUNT, occupied);
  return ok();
}

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
import { alloc, fail, ok, setWord, vertices, vertexCount } from "./state";

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

/** Each vertex's value added to its voxel's sum, and 1 to its count. */
function accumulate(sums: usize, counts: usize, grid: i32, scale: f32, colorBytes: bool): void {
  const scales = f32x4.splat(scale), last = f32x4.splat(<f32>(grid - 1));
  for (let i: i32 = 0; i < vertexCount; i++) {
    const row = vertices + <usize>i * STAGING_STRIDE;
    const xyzCells = cells4(v128.load(row), scales, last);
    const index = (<usize>i32x4.extract_lane(xyzCells, 2) * <usize>grid + <usize>i32x4.extract_lane(xyzCells, 1)) * <usize>grid
      + <usize>i32x4.extract_lane(xyzCells, 0);
    let rgb = f32x4.mul(v128.load(row, 20), f32x4.splat(255));
    if (colorBytes) rgb = roundf4(rgb);
    const value = (f32x4.extract_lane(rgb, 1) + f32x4.extract_lane(rgb, 2) + f32x4.extract_lane(rgb, 3)) / <f32>765;
    store<f32>(sums + (index << 2), load<f32>(sums + (index << 2)) + value);
    store<u32>(counts + (index << 2), load<u32>(counts + (index << 2)) + 1);
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
  // Four lanes at a time: a row's x y z nx (nx masked off), and nz r g b for the colour.
  let laxes = f32x4.splat(0);
  const xyz = i32x4(-1, -1, -1, 0);
  for (let i: i32 = 0; i < vertexCount; i++) {
    laxes = f32x4.pmax(laxes, v128.and(f32x4.abs(v128.load(vertices + <usize>i * STAGING_STRIDE)), xyz));
  }
  const lax = max<f32>(f32x4.extract_lane(laxes, 0), max<f32>(f32x4.extract_lane(laxes, 1), f32x4.extract_lane(laxes, 2)));
  // Through memory, so that TurboFan does not redo the division in every iteration of the loop.
  store<f32>(out, lax > 0 ? <f32>1 / lax : 0);
  accumulate(sums, counts, grid, load<f32>(out), colorBytes);
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

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

/** C's roundf: halves away from zero. A select, not a branch: which way a coordinate or a colour
 * rounds is a coin toss per vertex, and mispredicted branches were most of voxelize's time. */
@inline
export function roundf(x: f32): f32 {
  const t = trunc<f32>(x);
  return select<f32>(t + copysign<f32>(1, x), t, abs<f32>(x - t) >= <f32>0.5);
}

/** Colour channel on 0-255: a uchar colour exactly as read, else the float colour times 255. */
@inline
function channel(c: f32, bytes: bool): f32 {
  const v = c * <f32>255;
  return bytes ? roundf(v) : v;
}

/** 2^23: a float from 0 to 2^23 plus this holds its integer in its low 23 bits. */
const INT_BIAS: f32 = 8388608;

/**
 * The voxel coordinate: roundf, kept within 0 to G - 1. Clamped as a float with selects and
 * turned into an integer by its bits: the same numbers as converting first and clamping the
 * integer (the vertices are finite), without wasm's saturating conversion and its checks, which
 * cost more than the rest of the loop.
 */
@inline
function cell(v: f32, scale: f32, last: f32): i32 {
  const r = roundf(((v * scale + <f32>1) * <f32>0.5) * last);
  const clamped = select<f32>(0, select<f32>(last, r, r > last), r < 0);
  return reinterpret<i32>(clamped + INT_BIAS) - reinterpret<i32>(INT_BIAS);
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
  let lax: f32 = 0;
  for (let i: i32 = 0; i < vertexCount; i++) {
    const row = vertices + <usize>i * STAGING_STRIDE;
    lax = max<f32>(lax, max<f32>(abs<f32>(load<f32>(row)), max<f32>(abs<f32>(load<f32>(row, 4)), abs<f32>(load<f32>(row, 8)))));
  }
  const scale: f32 = lax > 0 ? <f32>1 / lax : 0;
  const last = <f32>(grid - 1);
  for (let i: i32 = 0; i < vertexCount; i++) {
    const row = vertices + <usize>i * STAGING_STRIDE;
    const x = cell(load<f32>(row), scale, last);
    const y = cell(load<f32>(row, 4), scale, last);
    const z = cell(load<f32>(row, 8), scale, last);
    const index = (<usize>z * <usize>grid + <usize>y) * <usize>grid + <usize>x;
    const value = (channel(load<f32>(row, 24), colorBytes) + channel(load<f32>(row, 28), colorBytes) + channel(load<f32>(row, 32), colorBytes)) / <f32>765;
    store<f32>(sums + (index << 2), load<f32>(sums + (index << 2)) + value);
    store<u32>(counts + (index << 2), load<u32>(counts + (index << 2)) + 1);
  }
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

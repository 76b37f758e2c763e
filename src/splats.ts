// 3D Gaussian splats as compile sees them: points whose colour is the spherical harmonics' DC term
// and which may be left out for being nearly transparent.
//
// The header (ply-header.ts) reads f_dc_0..2 into the colour slots and the opacity logit into
// SLOT_OPACITY; the kernel decodes the splats into staging rows of SPLAT_STAGING_STRIDE bytes
// (x y z nx ny nz f_dc_0..2 opacity). This pass turns them, in place, into the kernel's staged
// vertices (STAGING_STRIDE: x y z nx ny nz r g b), leaving out the splats below minOpacity. It is
// a host pass, not kernel code, because it runs once per splat before the kernel's staged path,
// touches each value once and allocates nothing per splat: the kernel's hot path for ordinary
// meshes (compileVertices' common layout) stays exactly as it was.
//
// Colour = clamp(0.5 + SH_C0 * f_dc, 0, 1) per channel, in float32 as the 3DGS renderers compute
// it. Math.fround after each operation gives float32 arithmetic exactly: a product or sum of two
// float32 values, computed in float64 and rounded to float32, is the correctly rounded float32
// result.

import { SPLAT_STAGING_STRIDE, STAGING_STRIDE } from "./abi.js";

/** The degree-0 spherical harmonic, Y00 = 1 / (2 sqrt(pi)), as float32. */
export const SH_C0 = Math.fround(0.28209479);

/** The colour of a DC term: clamp(0.5 + SH_C0 * f_dc, 0, 1) in float32 (NaN stays NaN). */
export function dcColor(dc: number): number {
  const c = Math.fround(0.5 + Math.fround(SH_C0 * Math.fround(dc)));
  return c < 0 ? 0 : c > 1 ? 1 : c;
}

/** A splat's opacity: the sigmoid of the file's logit. */
export function opacityOf(logit: number): number {
  return 1 / (1 + Math.exp(-logit));
}

export interface SplatPass {
  /** Splats kept, now staged vertices at the start of the buffer. */
  kept: number;
  /** Splats left out for an opacity below minOpacity. */
  transparent: number;
  /** The opacity range of all splats (sigmoid), when the file has opacities. */
  opacity?: { min: number; max: number };
  /** With splats left out: the file's vertex number of each kept row, for error messages. */
  fileVertex?: Int32Array;
}

/**
 * Turn `count` staged splats in `rows` (SPLAT_STAGING_STRIDE bytes each) into staged vertices
 * (STAGING_STRIDE bytes each), in place, keeping those whose opacity is at least `minOpacity`
 * (all when it is undefined; a NaN opacity is never at least anything). The normals are zero:
 * a splat file is a point cloud.
 */
export function stageSplats(rows: Float32Array, count: number, hasOpacity: boolean, minOpacity?: number): SplatPass {
  const from = SPLAT_STAGING_STRIDE / 4, to = STAGING_STRIDE / 4;
  const filter = minOpacity !== undefined && hasOpacity;
  const fileVertex = filter ? new Int32Array(count) : undefined;
  let kept = 0;
  let lowest = Infinity, highest = -Infinity;
  for (let k = 0; k < count; k++) {
    // Row k is read whole before row `kept` (kept <= k, and a shorter row) is written over it.
    const i = k * from;
    const x = rows[i], y = rows[i + 1], z = rows[i + 2];
    const r = dcColor(rows[i + 6]), g = dcColor(rows[i + 7]), b = dcColor(rows[i + 8]);
    if (hasOpacity) {
      const logit = rows[i + 9];
      if (logit < lowest) lowest = logit;
      if (logit > highest) highest = logit;
      if (filter && !(opacityOf(logit) >= minOpacity!)) continue;
    }
    const o = kept * to;
    rows[o] = x; rows[o + 1] = y; rows[o + 2] = z;
    rows[o + 3] = 0; rows[o + 4] = 0; rows[o + 5] = 0;
    rows[o + 6] = r; rows[o + 7] = g; rows[o + 8] = b;
    if (fileVertex) fileVertex[kept] = k;
    kept++;
  }
  return {
    kept,
    transparent: count - kept,
    opacity: lowest <= highest ? { min: opacityOf(lowest), max: opacityOf(highest) } : undefined,
    fileVertex: kept < count ? fileVertex : undefined,
  };
}

// The front view of the loaded mesh (FaceNet's x, the `images` target's rows), drawn in the kernel
// so that the mesh never leaves it: the same picture, byte for byte, as the JavaScript renderer in
// src/view/raster.ts (renderPanels with one panel, drawMesh, downsample), which stays the
// reference. Every number is its arithmetic in the same order: float64 where it keeps numbers,
// float32 where it stores them in a Float32Array (normals, shaded colours, depth, colour), and
// JavaScript's Math.round (halves toward +∞, as AssemblyScript's Math.round) then a Uint8Array
// store (ToUint8: NaN to 0, modulo 256) for the bytes.
//
//   centre: the middle of the bounding box; R: the largest distance from it (at least 1e-6)
//   screen: cx + scale·(p − c)·right, cy − scale·(p − c)·up, depth (p − c)·forward,
//           scale = 0.94·W / 2 / R, (cx, cy) the image's middle
//   normals: per vertex, the sum of its triangles' cross products (area-weighted), float32
//   shaded: colour (clamped to 0-1) × (0.3 + 0.7·|n·light| / |n|), float32
//   each triangle: pixels whose centres lie in it (barycentric, all weights ≥ 0), nearer wins
//   bytes: the mean of each ss × ss block times 255, rounded; grey = 0.299 R + 0.587 G + 0.114 B
//
// Shading is deferred, which gives the same bytes for less work: the JavaScript renderer colours
// a pixel each time a nearer triangle covers it, so the colour left is the last such triangle's.
// Here the depth pass only records that triangle and its weights per pixel; then only the
// vertices of recorded triangles get normals (summed over all their triangles in the same order)
// and shades, and each pixel's colour is computed once, from those weights. Most of a head's
// triangles hold no pixel centre at all: each vertex's pixel spans (pixelSpans), computed once,
// let the depth pass rule those out with integer minimums before any float arithmetic.
//
// The host passes the camera frame and light (12 float64: right, up, forward, light) as the
// JavaScript renderer computes them, so both use the same numbers. Buffers come from the arena
// (dropped with the next file); the image's bytes go to MR_PTR.

import { STAGING_STRIDE, S_NO_MEMORY, MR_PTR } from "../../src/abi";
import { alloc, fail, ok, setWord, meshBox, vertices, vertexCount, triangles, triangleCount } from "./state";

/** A Uint8Array store of an integral number: NaN and ±∞ are 0, others modulo 256. */
@inline
function toUint8(v: f64): i32 {
  if (!isFinite<f64>(v)) return 0;
  return <i32>(v - 256 * Math.floor(v / 256));
}

/** The renderer's clamp01: NaN is 0. */
@inline
function clamp01(v: f64): f64 {
  return v > 1 ? 1 : v > 0 ? v : 0;
}

/** normals[i] += (x, y, z) as a Float32Array adds: a float64 sum, stored as float32. */
@inline
function addNormal(at: usize, xy: v128, z: f64): void {
  // x and y as two lanes: float32 to float64 and back are exact and rounding as the scalar ones.
  v128.store64_lane(at, f32x4.demote_f64x2_zero(f64x2.add(f64x2.promote_low_f32x4(v128.load64_zero(at)), xy)), 0);
  store<f32>(at, <f32>(<f64>load<f32>(at, 8) + z), 8);
}

/** The barycentric weight of the corner opposite edge bc at pixel centre (px, py), as drawMesh's. */
@inline
function weight(bx: f64, by: f64, cx: f64, cy: f64, px: f64, py: f64, area: f64): f64 {
  return ((bx - px) * (cy - py) - (by - py) * (cx - px)) / area;
}

/** 2^52 + 2^51: a float64 from -2^51 to 2^51 plus this is its nearest integer, held in the low bits. */
const ROUNDING: f64 = 6755399441055744.0;

/**
 * A vertex's pixel spans, four int16: the first column whose pixel centres are at or after it,
 * ceil(x - 0.5) kept within 0 to W, then the last column at or before it, negated:
 * -(floor(x - 0.5) kept within -1 to W - 1); then the same for the rows (y, H). The JavaScript
 * renderer clamps ceil(min over the corners - 0.5) and floor(max - 0.5); subtracting, ceil,
 * floor and clamps to integers are monotonic, so the min over the corners' spans gives its
 * numbers and a triangle is skipped exactly when it skips it. x and y are two lanes; ceil and
 * floor come from the nearest integer (ROUNDING) and a comparison, which V8 does faster than
 * f64.ceil, f64.floor and float-to-int conversions. Exact for finite coordinates (finishMesh
 * rejects non-finite vertices), which the first clamp keeps small. The constants come in as
 * arguments loaded from memory: as constants, TurboFan built each one again in every iteration.
 */
@inline
function pixelSpans(xy: v128, limits: v128, firstMax: v128, lastMax: v128, half: v128, minus2: v128, rounding: v128): u64 {
  const v = f64x2.pmax(minus2, f64x2.pmin(limits, f64x2.sub(xy, half)));
  const rounded = f64x2.add(v, rounding);
  const nearest = f64x2.sub(rounded, rounding);
  // A comparison's true is -1: the low 32 bits of each lane become ceil and floor.
  const ceil = i64x2.sub(rounded, f64x2.gt(v, nearest));
  const floor = i64x2.add(rounded, f64x2.lt(v, nearest));
  const first = i32x4.min_s(firstMax, i32x4.max_s(i32x4.splat(0), ceil));
  const last = i32x4.max_s(i32x4.splat(-1), i32x4.min_s(lastMax, floor));
  // int32 lanes 0 and 2 (x and y): first in the low half, -last in the high half.
  const both = v128.or(first, i32x4.shl(i32x4.neg(last), 16));
  return i64x2.extract_lane(i8x16.shuffle(both, both, 0, 1, 2, 3, 8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11), 0);
}

/**
 * Draw the loaded mesh's triangles into a size × size image, supersampled ss × ss, on a grey
 * background (0-255 per channel); `frame` holds the view (see above). With `rgb`, 3 bytes a
 * pixel, else 1 (the luma). Returns a status; the bytes are at MR_PTR.
 *
 * Each pass is a function of its own: inside one large function TurboFan kept loop values on the
 * stack and recomputed loop-invariant arithmetic (a square root, a division) in every iteration.
 * Values a loop needs that are computed, not loaded, reach it through `view` for the same reason.
 */
export function renderFront(size: i32, ss: i32, bgR: f64, bgG: f64, bgB: f64, frame: usize, rgb: bool): i32 {
  const W = size * ss, H = size * ss;
  const pixels = <usize>W * <usize>H;
  const n = <usize>vertexCount;
  const depth = alloc(pixels * 4);
  // Per pixel: the nearest triangle (-1: none) and its weights w0 w1 (float64) there.
  const nearest = alloc(pixels * 4), weights = alloc(pixels * 16);
  // Per vertex: float64 screen x, y and depth, and its pixel spans (see pixelSpans).
  const screen = alloc(n * 24), spans = alloc(n * 8);
  const normals = alloc(n * 12), marks = alloc(n), drawn = alloc(n * 4 + 4);
  const shaded = alloc(n * 12);
  const view = alloc(VIEW_BYTES);
  const out = alloc(<usize>size * <usize>size * (rgb ? 3 : 1));
  if (depth == 0 || nearest == 0 || weights == 0 || screen == 0 || spans == 0 || normals == 0 || marks == 0 || drawn == 0 || shaded == 0 || view == 0 || out == 0) return fail(S_NO_MEMORY, 0, 0);

  clearPixels(depth, nearest, pixels);
  boxCentre(view);
  const r2 = centredProjections(view, frame, screen);
  const R = Math.max(1e-6, Math.sqrt(r2));
  const fW = <f64>W, fH = <f64>H;
  const scale = (0.94 * Math.min(fW, fH)) / 2 / R;
  const mx = (0 + fW) / 2, my = fH / 2;
  // Screen x and y as lanes: my - scale·u is my + (-scale)·u, the same number.
  v128.store(view + V_ORIGIN, f64x2(mx, my));
  v128.store(view + V_SCALES, f64x2(scale, -scale));
  v128.store(view + V_LIMITS, f64x2(fW + 1, fH + 1));
  v128.store(view + V_FIRST_MAX, i32x4(W, 0, H, 0));
  v128.store(view + V_LAST_MAX, i32x4(W - 1, 0, H - 1, 0));
  v128.store(view + V_HALF, f64x2.splat(0.5));
  v128.store(view + V_MINUS2, f64x2.splat(-2));
  v128.store(view + V_ROUNDING, f64x2.splat(ROUNDING));
  screenSpans(view, screen, spans);
  drawDepths(screen, spans, depth, nearest, weights, W);
  shadeDrawnVertices(nearest, pixels, marks, drawn, normals, shaded, frame);
  resolve(nearest, weights, shaded, size, ss, bgR, bgG, bgB, rgb, out);
  setWord(MR_PTR, <i32>out);
  return ok();
}

// The view record: the box's middle, then what screenSpans needs.
const V_CENTRE = 0; // 3 float64
const V_ORIGIN = 32; // f64x2 (mx, my)
const V_SCALES = 48; // f64x2 (scale, -scale)
const V_LIMITS = 64; // f64x2 (W + 1, H + 1)
const V_FIRST_MAX = 80; // i32x4 (W, 0, H, 0)
const V_LAST_MAX = 96; // i32x4 (W - 1, 0, H - 1, 0)
const V_RIGHT_UP = 112; // 3 f64x2: (right.x, up.x), (right.y, up.y), (right.z, up.z)
const V_HALF = 160; // f64x2 (0.5, 0.5)
const V_MINUS2 = 176; // f64x2 (-2, -2)
const V_ROUNDING = 192; // f64x2 (ROUNDING, ROUNDING)
const VIEW_BYTES: usize = 208;

function clearPixels(depth: usize, nearest: usize, pixels: usize): void {
  memory.fill(nearest, 0xff, pixels << 2); // -1
  const far = f32x4.splat(Infinity);
  let p: usize = 0;
  for (; p + 4 <= pixels; p += 4) v128.store(depth + (p << 2), far);
  for (; p < pixels; p++) store<f32>(depth + (p << 2), Infinity);
}

/**
 * The bounding box's middle, into the view record. JavaScript's centre() skips non-finite values,
 * but a loaded mesh has none (finishMesh rejects them), so a float32 min/max gives the same box;
 * only the sign of a zero could differ, which no byte depends on.
 */
function boxCentre(view: usize): void {
  // The mesh's box (state.ts): found once per mesh, most often while its rows were decoded.
  const box = meshBox();
  const lo = v128.load(box), hi = v128.load(box, 16);
  store<f64>(view + V_CENTRE, (<f64>f32x4.extract_lane(lo, 0) + <f64>f32x4.extract_lane(hi, 0)) / 2);
  store<f64>(view + V_CENTRE, (<f64>f32x4.extract_lane(lo, 1) + <f64>f32x4.extract_lane(hi, 1)) / 2, 8);
  store<f64>(view + V_CENTRE, (<f64>f32x4.extract_lane(lo, 2) + <f64>f32x4.extract_lane(hi, 2)) / 2, 16);
}

/**
 * Each vertex's position from the middle along right, up and forward (unscaled: JavaScript's
 * projection before its scale and offset), into `screen`; returns the largest squared distance
 * from the middle, which JavaScript takes in a pass of its own: the same products in the same
 * order. Right and up are two lanes.
 */
function centredProjections(view: usize, frame: usize, screen: usize): f64 {
  const n = <usize>vertexCount;
  v128.store(view + V_RIGHT_UP, f64x2(load<f64>(frame), load<f64>(frame, 24)));
  v128.store(view + V_RIGHT_UP, f64x2(load<f64>(frame, 8), load<f64>(frame, 32)), 16);
  v128.store(view + V_RIGHT_UP, f64x2(load<f64>(frame, 16), load<f64>(frame, 40)), 32);
  const c0 = load<f64>(view + V_CENTRE), c1 = load<f64>(view + V_CENTRE, 8), c2 = load<f64>(view + V_CENTRE, 16);
  const px = v128.load(view + V_RIGHT_UP), py = v128.load(view + V_RIGHT_UP, 16), pz = v128.load(view + V_RIGHT_UP, 32);
  const fx = load<f64>(frame, 48), fy = load<f64>(frame, 56), fz = load<f64>(frame, 64);
  let r2 = f64x2.splat(0);
  for (let i: usize = 0; i < n; i++) {
    const row = vertices + i * STAGING_STRIDE, s = screen + i * 24;
    const x = <f64>load<f32>(row) - c0, y = <f64>load<f32>(row, 4) - c1, z = <f64>load<f32>(row, 8) - c2;
    // pmax is `d2 > r2 ? d2 : r2` in one instruction (a select became a branch); finite, so
    // JavaScript's `d2 < Infinity` holds.
    r2 = f64x2.pmax(r2, f64x2.splat(x * x + y * y + z * z));
    v128.store(s, f64x2.add(f64x2.add(f64x2.mul(f64x2.splat(x), px), f64x2.mul(f64x2.splat(y), py)), f64x2.mul(f64x2.splat(z), pz)));
    store<f64>(s, x * fx + y * fy + z * fz, 16);
  }
  return f64x2.extract_lane(r2, 0);
}

/** Screen x and y from the projections (in place), and each vertex's pixel spans. */
function screenSpans(view: usize, screen: usize, spans: usize): void {
  const n = <usize>vertexCount;
  const origin = v128.load(view + V_ORIGIN), scales = v128.load(view + V_SCALES);
  const limits = v128.load(view + V_LIMITS), firstMax = v128.load(view + V_FIRST_MAX), lastMax = v128.load(view + V_LAST_MAX);
  const half = v128.load(view + V_HALF), minus2 = v128.load(view + V_MINUS2), rounding = v128.load(view + V_ROUNDING);
  for (let i: usize = 0; i < n; i++) {
    const s = screen + i * 24;
    const xy = f64x2.add(origin, f64x2.mul(scales, v128.load(s)));
    v128.store(s, xy);
    store<u64>(spans + (i << 3), pixelSpans(xy, limits, firstMax, lastMax, half, minus2, rounding));
  }
}

/** The depth pass: per pixel, the nearest triangle whose inside holds the pixel's centre, and its weights there. */
function drawDepths(screen: usize, spans: usize, depth: usize, nearest: usize, weights: usize, W: i32): void {
  const tris = <usize>triangleCount;
  for (let t: usize = 0; t < tris; t++) {
    const tri = triangles + t * 12;
    const a = <usize>load<u32>(tri), b = <usize>load<u32>(tri, 4), c = <usize>load<u32>(tri, 8);
    // The pixels whose centres lie in the triangle's box, from its corners' spans: lanes 0 1 the
    // first column and the last one negated, lanes 2 3 the same for the rows. Most of a head's
    // triangles cover one pixel centre or none, and end here (lanes 1 and 3 get first - last).
    const box = i16x8.min_s(i16x8.min_s(v128.load64_zero(spans + (a << 3)), v128.load64_zero(spans + (b << 3))), v128.load64_zero(spans + (c << 3)));
    const empty = i16x8.gt_s(i16x8.add(box, i32x4.shl(box, 16)), i16x8.splat(0));
    // As an integer register: a vector kept to the end of the loop body went to the stack.
    const bits = i64x2.extract_lane(box, 0);
    if (i8x16.bitmask(empty) & 0b01000100) continue; // bytes 2 and 6: int16 lanes 1 and 3
    const sa = screen + a * 24, sb = screen + b * 24, sc = screen + c * 24;
    const ax = load<f64>(sa), ay = load<f64>(sa, 8);
    const bx = load<f64>(sb), by = load<f64>(sb, 8);
    const cx = load<f64>(sc), cy = load<f64>(sc, 8);
    const area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    if (!(Math.abs(area) > 1e-12)) continue;
    const az = load<f64>(sa, 16), bz = load<f64>(sb, 16), cz = load<f64>(sc, 16);
    const ix0 = <i32><i16>bits, ix1 = -<i32><i16>(bits >> 16);
    const iy0 = <i32><i16>(bits >> 32), iy1 = -<i32><i16>(bits >> 48);
    // The weights of a and b as two lanes, each lane the scalar arithmetic of weight():
    // ((bx - px)(cy - py) - (by - py)(cx - px)) / area and ((cx - px)(ay - py) - (cy - py)(ax - px)) / area.
    const x1 = f64x2(bx, cx), y1 = f64x2(cy, ay), y2 = f64x2(by, cy), x2 = f64x2(cx, ax);
    const areas = f64x2.splat(area);
    for (let y = iy0; y <= iy1; y++) {
      const py = f64x2.splat(<f64>y + 0.5);
      const dy1 = f64x2.sub(y1, py), dy2 = f64x2.sub(y2, py);
      for (let x = ix0; x <= ix1; x++) {
        const px = f64x2.splat(<f64>x + 0.5);
        const w = f64x2.div(f64x2.sub(f64x2.mul(f64x2.sub(x1, px), dy1), f64x2.mul(dy2, f64x2.sub(x2, px))), areas);
        const w0 = f64x2.extract_lane(w, 0), w1 = f64x2.extract_lane(w, 1);
        if (w0 < 0 || w1 < 0) continue;
        const w2 = 1 - w0 - w1;
        if (w2 < 0) continue;
        const z = w0 * az + w1 * bz + w2 * cz;
        const p = <usize>y * <usize>W + <usize>x;
        const d = depth + (p << 2);
        if (z >= <f64>load<f32>(d)) continue;
        store<f32>(d, <f32>z);
        store<i32>(nearest + (p << 2), <i32>t);
        v128.store(weights + (p << 4), w);
      }
    }
  }
}

/**
 * The shades of the vertices the picture shows (the corners of each pixel's nearest triangle):
 * their area-weighted normals, summed in float32 as a Float32Array sums them, triangle by
 * triangle, then the Lambert factor times the colour.
 */
function shadeDrawnVertices(nearest: usize, pixels: usize, marks: usize, drawn: usize, normals: usize, shaded: usize, frame: usize): void {
  const n = <usize>vertexCount, tris = <usize>triangleCount;
  memory.fill(marks, 0, n);
  // The marked vertices are listed for shadeVertices: as they are marked when there are few
  // pixels for the vertices (listing them from the marks would scan all vertices), else in
  // vertex order (in memory order, the many vertices of a large picture shade faster).
  const few = pixels * 3 < n;
  let count: usize = 0;
  for (let p: usize = 0; p < pixels; p++) {
    const t = load<i32>(nearest + (p << 2));
    if (t < 0) continue;
    const tri = triangles + <usize>t * 12;
    const a = <usize>load<u32>(tri), b = <usize>load<u32>(tri, 4), c = <usize>load<u32>(tri, 8);
    if (few) {
      count = markVertex(marks, drawn, count, a);
      count = markVertex(marks, drawn, count, b);
      count = markVertex(marks, drawn, count, c);
    } else {
      store<u8>(marks + a, 1);
      store<u8>(marks + b, 1);
      store<u8>(marks + c, 1);
    }
  }
  if (!few) count = markedVertices(marks, drawn);

  memory.fill(normals, 0, n * 12);
  for (let t: usize = 0; t < tris; t++) {
    const tri = triangles + t * 12;
    const a = <usize>load<u32>(tri), b = <usize>load<u32>(tri, 4), c = <usize>load<u32>(tri, 8);
    const ma = load<u8>(marks + a), mb = load<u8>(marks + b), mc = load<u8>(marks + c);
    if ((ma | mb | mc) == 0) continue;
    const pa = vertices + a * STAGING_STRIDE, pb = vertices + b * STAGING_STRIDE, pc = vertices + c * STAGING_STRIDE;
    const ax = <f64>load<f32>(pa), ay = <f64>load<f32>(pa, 4), az = <f64>load<f32>(pa, 8);
    const e10 = <f64>load<f32>(pb) - ax, e11 = <f64>load<f32>(pb, 4) - ay, e12 = <f64>load<f32>(pb, 8) - az;
    const e20 = <f64>load<f32>(pc) - ax, e21 = <f64>load<f32>(pc, 4) - ay, e22 = <f64>load<f32>(pc, 8) - az;
    const nx = e11 * e22 - e12 * e21, ny = e12 * e20 - e10 * e22, nz = e10 * e21 - e11 * e20;
    // Unmarked corners get sums too, never read: no branches, and one cross product (with a
    // branch per corner TurboFan computed it in each).
    const nxy = f64x2(nx, ny);
    addNormal(normals + a * 12, nxy, nz);
    addNormal(normals + b * 12, nxy, nz);
    addNormal(normals + c * 12, nxy, nz);
  }

  shadeVertices(drawn, count, normals, shaded, frame);
}

/** Marks vertex v, and lists it in `drawn` the first time; returns the new count. */
@inline
function markVertex(marks: usize, drawn: usize, count: usize, v: usize): usize {
  const seen = <usize>load<u8>(marks + v);
  store<u8>(marks + v, 1);
  store<u32>(drawn + (count << 2), <u32>v);
  return count + 1 - seen;
}

/** The marked vertices, in order, into `drawn`; returns how many (no branch: the count advances by the mark). */
function markedVertices(marks: usize, drawn: usize): usize {
  const n = <usize>vertexCount;
  let count: usize = 0;
  for (let i: usize = 0; i < n; i++) {
    store<u32>(drawn + (count << 2), <u32>i);
    count += <usize>load<u8>(marks + i);
  }
  return count;
}

/**
 * The Lambert factor times the colour, for the `count` vertices listed in `drawn`: two vertices
 * as two lanes (their square roots and divisions at once), each lane the scalar arithmetic.
 */
function shadeVertices(drawn: usize, count: usize, normals: usize, shaded: usize, frame: usize): void {
  const lx = f64x2.splat(load<f64>(frame, 72)), ly = f64x2.splat(load<f64>(frame, 80)), lz = f64x2.splat(load<f64>(frame, 88));
  if (count == 0) return;
  store<u32>(drawn + (count << 2), load<u32>(drawn + ((count - 1) << 2))); // an odd count's pair: the last again
  for (let k: usize = 0; k < count; k += 2) {
    const i = <usize>load<u32>(drawn + (k << 2)), j = <usize>load<u32>(drawn + (k << 2), 4);
    const ai = normals + i * 12, aj = normals + j * 12;
    const nx = f64x2(<f64>load<f32>(ai), <f64>load<f32>(aj));
    const ny = f64x2(<f64>load<f32>(ai, 4), <f64>load<f32>(aj, 4));
    const nz = f64x2(<f64>load<f32>(ai, 8), <f64>load<f32>(aj, 8));
    let len = f64x2.sqrt(f64x2.add(f64x2.add(f64x2.mul(nx, nx), f64x2.mul(ny, ny)), f64x2.mul(nz, nz)));
    // `|| 1` for 0 (a NaN length stays NaN, as before: its dot product is NaN either way).
    len = v128.bitselect(len, f64x2.splat(1), f64x2.ne(len, f64x2.splat(0)));
    const dot = f64x2.add(f64x2.add(f64x2.mul(nx, lx), f64x2.mul(ny, ly)), f64x2.mul(nz, lz));
    const k2 = f64x2.add(f64x2.splat(0.3), f64x2.mul(f64x2.splat(0.7), f64x2.abs(f64x2.div(dot, len))));
    shadeVertex(i, f64x2.extract_lane(k2, 0), shaded);
    shadeVertex(j, f64x2.extract_lane(k2, 1), shaded);
  }
}

/** shaded[i] = the clamped colour × k, float32. */
@inline
function shadeVertex(i: usize, k: f64, shaded: usize): void {
  const row = vertices + i * STAGING_STRIDE, s = shaded + i * 12;
  store<f32>(s, <f32>(clamp01(<f64>load<f32>(row, 24)) * k));
  store<f32>(s, <f32>(clamp01(<f64>load<f32>(row, 28)) * k), 4);
  store<f32>(s, <f32>(clamp01(<f64>load<f32>(row, 32)) * k), 8);
}

/** Each ss × ss block's mean (summed row by row, as downsample() sums), then the bytes. */
function resolve(nearest: usize, weights: usize, shaded: usize, size: i32, ss: i32, bgR: f64, bgG: f64, bgB: f64, rgb: bool, out: usize): void {
  const W = size * ss;
  const backR = <f64><f32>(bgR / 255), backG = <f64><f32>(bgG / 255), backB = <f64><f32>(bgB / 255);
  const norm = 255 / <f64>(ss * ss);
  for (let y: i32 = 0; y < size; y++) {
    for (let x: i32 = 0; x < size; x++) {
      let sr: f64 = 0, sg: f64 = 0, sb: f64 = 0;
      for (let j: i32 = 0; j < ss; j++) {
        const sy = y * ss + j;
        for (let i: i32 = 0; i < ss; i++) {
          const sx = x * ss + i;
          const p = <usize>sy * <usize>W + <usize>sx;
          const t = load<i32>(nearest + (p << 2));
          if (t < 0) {
            sr += backR;
            sg += backG;
            sb += backB;
            continue;
          }
          // The colour drawMesh left here: the nearest triangle's shades mixed with the depth
          // pass's weights, each channel stored as float32.
          const tri = triangles + <usize>t * 12;
          const ha = shaded + <usize>load<u32>(tri) * 12, hb = shaded + <usize>load<u32>(tri, 4) * 12, hc = shaded + <usize>load<u32>(tri, 8) * 12;
          const w0 = load<f64>(weights + (p << 4)), w1 = load<f64>(weights + (p << 4), 8);
          const w2 = 1 - w0 - w1;
          sr += <f64><f32>(w0 * <f64>load<f32>(ha) + w1 * <f64>load<f32>(hb) + w2 * <f64>load<f32>(hc));
          sg += <f64><f32>(w0 * <f64>load<f32>(ha, 4) + w1 * <f64>load<f32>(hb, 4) + w2 * <f64>load<f32>(hc, 4));
          sb += <f64><f32>(w0 * <f64>load<f32>(ha, 8) + w1 * <f64>load<f32>(hb, 8) + w2 * <f64>load<f32>(hc, 8));
        }
      }
      const r = toUint8(Math.round(sr * norm)), g = toUint8(Math.round(sg * norm)), b = toUint8(Math.round(sb * norm));
      const pixel = <usize>y * <usize>size + <usize>x;
      if (rgb) {
        store<u8>(out + pixel * 3, <u8>r);
        store<u8>(out + pixel * 3, <u8>g, 1);
        store<u8>(out + pixel * 3, <u8>b, 2);
      } else {
        store<u8>(out + pixel, <u8>toUint8(Math.round(0.299 * <f64>r + 0.587 * <f64>g + 0.114 * <f64>b)));
      }
    }
  }
}

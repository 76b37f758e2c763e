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
// and shades, and each pixel's colour is computed once, from those weights.
//
// The host passes the camera frame and light (12 float64: right, up, forward, light) as the
// JavaScript renderer computes them, so both use the same numbers. Buffers come from the arena
// (dropped with the next file); the image's bytes go to MR_PTR.

import { STAGING_STRIDE, S_NO_MEMORY, MR_PTR } from "../../src/abi";
import { alloc, fail, ok, setWord, vertices, vertexCount, triangles, triangleCount } from "./state";

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
function addNormal(at: usize, x: f64, y: f64, z: f64): void {
  store<f32>(at, <f32>(<f64>load<f32>(at) + x));
  store<f32>(at, <f32>(<f64>load<f32>(at, 4) + y), 4);
  store<f32>(at, <f32>(<f64>load<f32>(at, 8) + z), 8);
}

/** The barycentric weight of the corner opposite edge bc at pixel centre (px, py), as drawMesh's. */
@inline
function weight(bx: f64, by: f64, cx: f64, cy: f64, px: f64, py: f64, area: f64): f64 {
  return ((bx - px) * (cy - py) - (by - py) * (cx - px)) / area;
}

/**
 * Draw the loaded mesh's triangles into a size × size image, supersampled ss × ss, on a grey
 * background (0-255 per channel); `frame` holds the view (see above). With `rgb`, 3 bytes a
 * pixel, else 1 (the luma). Returns a status; the bytes are at MR_PTR.
 */
export function renderFront(size: i32, ss: i32, bgR: f64, bgG: f64, bgB: f64, frame: usize, rgb: bool): i32 {
  const W = size * ss, H = size * ss;
  const pixels = <usize>W * <usize>H;
  const n = <usize>vertexCount;
  const depth = alloc(pixels * 4);
  // Per pixel: the nearest triangle (-1: none) and its weights w0 w1 (float64) there.
  const nearest = alloc(pixels * 4), weights = alloc(pixels * 16);
  // Per vertex: float64 screen x, y and depth.
  const screen = alloc(n * 24);
  const normals = alloc(n * 12), marks = alloc(n);
  const shaded = alloc(n * 12);
  const out = alloc(<usize>size * <usize>size * (rgb ? 3 : 1));
  if (depth == 0 || nearest == 0 || weights == 0 || screen == 0 || normals == 0 || marks == 0 || shaded == 0 || out == 0) return fail(S_NO_MEMORY, 0, 0);

  for (let p: usize = 0; p < pixels; p++) {
    store<f32>(depth + (p << 2), Infinity);
    store<i32>(nearest + (p << 2), -1);
  }

  // The bounding box's middle (JavaScript's centre(): finite values only, first extreme wins).
  let minX: f64 = Infinity, minY: f64 = Infinity, minZ: f64 = Infinity;
  let maxX: f64 = -Infinity, maxY: f64 = -Infinity, maxZ: f64 = -Infinity;
  for (let i: usize = 0; i < n; i++) {
    const row = vertices + i * STAGING_STRIDE;
    const x = <f64>load<f32>(row), y = <f64>load<f32>(row, 4), z = <f64>load<f32>(row, 8);
    if (isFinite<f64>(x)) { if (x < minX) minX = x; if (x > maxX) maxX = x; }
    if (isFinite<f64>(y)) { if (y < minY) minY = y; if (y > maxY) maxY = y; }
    if (isFinite<f64>(z)) { if (z < minZ) minZ = z; if (z > maxZ) maxZ = z; }
  }
  const c0 = isFinite<f64>(minX) ? (minX + maxX) / 2 : 0;
  const c1 = isFinite<f64>(minY) ? (minY + maxY) / 2 : 0;
  const c2 = isFinite<f64>(minZ) ? (minZ + maxZ) / 2 : 0;
  let r2: f64 = 0;
  for (let i: usize = 0; i < n; i++) {
    const row = vertices + i * STAGING_STRIDE;
    const x = <f64>load<f32>(row) - c0, y = <f64>load<f32>(row, 4) - c1, z = <f64>load<f32>(row, 8) - c2;
    const d2 = x * x + y * y + z * z;
    if (d2 > r2 && d2 < Infinity) r2 = d2;
  }
  const R = Math.max(1e-6, Math.sqrt(r2));
  const fW = <f64>W, fH = <f64>H;
  const scale = (0.94 * Math.min(fW, fH)) / 2 / R;
  const mx = (0 + fW) / 2, my = fH / 2;

  const rx = load<f64>(frame), ry = load<f64>(frame, 8), rz = load<f64>(frame, 16);
  const ux = load<f64>(frame, 24), uy = load<f64>(frame, 32), uz = load<f64>(frame, 40);
  const fx = load<f64>(frame, 48), fy = load<f64>(frame, 56), fz = load<f64>(frame, 64);
  const lx = load<f64>(frame, 72), ly = load<f64>(frame, 80), lz = load<f64>(frame, 88);

  for (let i: usize = 0; i < n; i++) {
    const row = vertices + i * STAGING_STRIDE, s = screen + i * 24;
    const x = <f64>load<f32>(row) - c0, y = <f64>load<f32>(row, 4) - c1, z = <f64>load<f32>(row, 8) - c2;
    store<f64>(s, mx + scale * (x * rx + y * ry + z * rz));
    store<f64>(s, my - scale * (x * ux + y * uy + z * uz), 8);
    store<f64>(s, x * fx + y * fy + z * fz, 16);
  }

  // Depth pass: the nearest triangle per pixel.
  const tris = <usize>triangleCount;
  const lastX = <f64>(W - 1), lastY = <f64>(H - 1);
  for (let t: usize = 0; t < tris; t++) {
    const tri = triangles + t * 12;
    const sa = screen + <usize>load<u32>(tri) * 24, sb = screen + <usize>load<u32>(tri, 4) * 24, sc = screen + <usize>load<u32>(tri, 8) * 24;
    // The pixels whose centres lie in the triangle's box (most of a head's triangles cover one or
    // none), clamped to the image before they become integers.
    const ax = load<f64>(sa), ay = load<f64>(sa, 8);
    const bx = load<f64>(sb), by = load<f64>(sb, 8);
    const cx = load<f64>(sc), cy = load<f64>(sc, 8);
    const x0 = Math.max(0, Math.ceil(Math.min(Math.min(ax, bx), cx) - 0.5));
    const x1 = Math.min(lastX, Math.floor(Math.max(Math.max(ax, bx), cx) - 0.5));
    if (!(x0 <= x1)) continue;
    const y0 = Math.max(0, Math.ceil(Math.min(Math.min(ay, by), cy) - 0.5));
    const y1 = Math.min(lastY, Math.floor(Math.max(Math.max(ay, by), cy) - 0.5));
    if (!(y0 <= y1)) continue;
    const area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    if (!(Math.abs(area) > 1e-12)) continue;
    const az = load<f64>(sa, 16), bz = load<f64>(sb, 16), cz = load<f64>(sc, 16);
    const ix0 = <i32>x0, iy0 = <i32>y0, ix1 = <i32>x1, iy1 = <i32>y1;
    for (let y = iy0; y <= iy1; y++) {
      const py = <f64>y + 0.5;
      for (let x = ix0; x <= ix1; x++) {
        const px = <f64>x + 0.5;
        const w0 = weight(bx, by, cx, cy, px, py, area);
        if (w0 < 0) continue;
        const w1 = weight(cx, cy, ax, ay, px, py, area);
        if (w1 < 0) continue;
        const w2 = 1 - w0 - w1;
        if (w2 < 0) continue;
        const z = w0 * az + w1 * bz + w2 * cz;
        const p = <usize>y * <usize>W + <usize>x;
        const d = depth + (p << 2);
        if (z >= <f64>load<f32>(d)) continue;
        store<f32>(d, <f32>z);
        store<i32>(nearest + (p << 2), <i32>t);
        const q = weights + (p << 4);
        store<f64>(q, w0);
        store<f64>(q, w1, 8);
      }
    }
  }

  // The vertices whose shades the picture shows.
  memory.fill(marks, 0, n);
  for (let p: usize = 0; p < pixels; p++) {
    const t = load<i32>(nearest + (p << 2));
    if (t < 0) continue;
    const tri = triangles + <usize>t * 12;
    store<u8>(marks + <usize>load<u32>(tri), 1);
    store<u8>(marks + <usize>load<u32>(tri, 4), 1);
    store<u8>(marks + <usize>load<u32>(tri, 8), 1);
  }

  // Their area-weighted normals, summed in float32 as a Float32Array sums them, triangle by triangle.
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
    if (ma) addNormal(normals + a * 12, nx, ny, nz);
    if (mb) addNormal(normals + b * 12, nx, ny, nz);
    if (mc) addNormal(normals + c * 12, nx, ny, nz);
  }

  for (let i: usize = 0; i < n; i++) {
    if (!load<u8>(marks + i)) continue;
    const at = normals + i * 12, row = vertices + i * STAGING_STRIDE, s = shaded + i * 12;
    const nx = <f64>load<f32>(at), ny = <f64>load<f32>(at, 4), nz = <f64>load<f32>(at, 8);
    let len = Math.sqrt(nx * nx + ny * ny + nz * nz);
    if (!(len != 0)) len = 1; // `|| 1`: 0 and NaN
    const lambert = Math.abs((nx * lx + ny * ly + nz * lz) / len);
    const k = 0.3 + 0.7 * lambert;
    store<f32>(s, <f32>(clamp01(<f64>load<f32>(row, 24)) * k));
    store<f32>(s, <f32>(clamp01(<f64>load<f32>(row, 28)) * k), 4);
    store<f32>(s, <f32>(clamp01(<f64>load<f32>(row, 32)) * k), 8);
  }

  // Each ss × ss block's mean (summed row by row, as downsample() sums), then the bytes.
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
  setWord(MR_PTR, <i32>out);
  return ok();
}

// The headsnet kernel: PLY vertices in, HeadsNet training rows out, no allocation per vertex.
// The host owns the memory layout (src/kernel.ts): it places the icosphere, the spatial hash,
// the file bytes and the output rows, and reads status codes and offsets back.

import {
  T_U8, T_F32, FMT_ASCII, FMT_BINARY_BE, FMT_BINARY_LE,
  SLOT_NONE, SLOT_COUNT, SLOT_X, SLOT_Y, SLOT_Z, SLOT_NX, SLOT_NY, SLOT_NZ, SLOT_R, SLOT_G, SLOT_B, SLOT_OPACITY,
  LAYOUT_HEADER_WORDS, LAYOUT_PROP_WORDS, STAGING_STRIDE, UCHAR_COLOR_SCALE,
  OPT_PROJECTION_RAY, OPT_INPUTS_5, OPT_SKIP_INVALID, OPT_RADIAL,
  X_WIDTH_2, X_WIDTH_5, S_OK, S_TRUNCATED, S_NONFINITE, S_OUTSIDE_SPHERE, S_ZERO_NORMAL, S_BAD_INDEX, S_TOO_FAR, TRACE_BATCH,
} from "../src/abi";
import { fma32 } from "./exact";
import { addCorner } from "./normals";
import { cellOf, cellRecord, nearestInCell, nearestBrute, icosphereCount } from "./nearest";
import {
  cursor, end, status, slots, corners, cornerCount,
  readRecord, readFace, readBinary, storeSlot, skipRecords,
} from "./decode";

export { setIcosphere, setHash, nearest, nearestBrute } from "./nearest";
export { slots } from "./decode";

export function heapBase(): usize {
  return __heap_base;
}

// Where the last call stopped: byte address and vertex number (for the host's error message).
let errorAt: usize = 0;
let errorVertex: i32 = 0;
export function errorAddress(): usize { return errorAt; }
export function errorVertexIndex(): i32 { return errorVertex; }
export function cursorAddress(): usize { return cursor; }

// What the last compileVertices() did, read once by the host: a small record in static memory.
//   [0] rows written (i32), [4] vertices skipped as non-finite, [8] outside the sphere (ray),
//   [12] too far from every icosphere vertex, [16] the largest squared radius of a vertex (f64).
export const result: usize = memory.data(24, 8);
let rows: i32 = 0;
let skippedNonfinite: i32 = 0;
let skippedOutside: i32 = 0;
let skippedFar: i32 = 0;
let maxRadius2: f64 = 0;

function storeResult(): void {
  store<i32>(result, rows);
  store<i32>(result, skippedNonfinite, 4);
  store<i32>(result, skippedOutside, 8);
  store<i32>(result, skippedFar, 12);
  store<f64>(result, maxRadius2, 16);
}

// Skip the records of an element before the vertices; on failure errorAddress() says where.
export function skipElement(start: usize, stop: usize, count: i32, layout: usize): i32 {
  const result = skipRecords(start, stop, count, layout);
  errorAt = cursor;
  return result;
}

// The traced point of the last trace() call.
export const traced: usize = memory.data(12);

@inline
function finite3(a: f32, b: f32, c: f32): bool {
  // x - x is 0 for finite x and NaN for NaN or infinity.
  return (a - a) + (b - b) + (c - c) == 0;
}

// Trace a vertex to the sphere; the result goes to `traced`. Returns a status code.
@inline
function traceTo(x: f32, y: f32, z: f32, nx: f32, ny: f32, nz: f32, options: i32): i32 {
  if ((options & OPT_PROJECTION_RAY) == 0) {
    // The reference's step along the normal, with its fused multiply-adds.
    const r2 = fma32(z, z, fma32(x, x, y * y));
    const pd: f32 = <f32>1.0 - sqrt<f32>(r2);
    store<f32>(traced, fma32(pd, nx, x));
    store<f32>(traced, fma32(pd, ny, y), 4);
    store<f32>(traced, fma32(pd, nz, z), 8);
    return S_OK;
  }
  // Exact hit of v + t n, t >= 0, with the unit sphere, in float64.
  const vx = <f64>x, vy = <f64>y, vz = <f64>z;
  const dx = <f64>nx, dy = <f64>ny, dz = <f64>nz;
  const a = dx * dx + dy * dy + dz * dz;
  const c = vx * vx + vy * vy + vz * vz - 1.0;
  if (c > 0) return S_OUTSIDE_SPHERE;
  if (c == 0) {
    store<f32>(traced, x); store<f32>(traced, y, 4); store<f32>(traced, z, 8);
    return S_OK;
  }
  if (a == 0) return S_ZERO_NORMAL;
  const b = vx * dx + vy * dy + vz * dz; // half of the usual b
  const root = Math.sqrt(b * b - a * c);
  // The positive root, in the form that does not cancel.
  const t = b > 0 ? -c / (b + root) : (root - b) / a;
  store<f32>(traced, <f32>(vx + t * dx));
  store<f32>(traced, <f32>(vy + t * dy), 4);
  store<f32>(traced, <f32>(vz + t * dz), 8);
  return S_OK;
}

export function trace(x: f32, y: f32, z: f32, nx: f32, ny: f32, nz: f32, options: i32): i32 {
  return traceTo(x, y, z, nx, ny, nz, options);
}

/** fma32 as this build computes it: the host checks that a build's fma is fused before using it. */
export function fmaProbe(a: f32, b: f32, c: f32): f32 {
  return fma32(a, b, c);
}

// How the current file's vertex records are read (set by beginVertices).
const slotOffset: usize = memory.data(SLOT_COUNT * 4);
const slotType: usize = memory.data(SLOT_COUNT * 4);
let recordStride: usize = 0;
let recordFixed = false;
let recordCommon = false; // float32 positions and normals, uchar colours, little-endian
let recordBigEndian = false;
let recordPresent: i32 = 0;
let recordLayout: usize = 0;

// Read the layout; for fixed records, check the body holds `count` of them.
function beginVertices(start: usize, stop: usize, count: i32, layout: usize): i32 {
  cursor = start;
  end = stop;
  status = S_OK;
  errorVertex = 0;
  errorAt = start;
  const format = load<i32>(layout);
  const propCount = load<i32>(layout, 8);
  recordLayout = layout;
  recordStride = <usize>load<i32>(layout, 4);
  recordFixed = recordStride > 0 && format != FMT_ASCII;
  recordBigEndian = format == FMT_BINARY_BE;
  recordPresent = 0;
  recordCommon = recordFixed && format == FMT_BINARY_LE;
  if (!recordFixed) return S_OK;
  let prop = layout + (LAYOUT_HEADER_WORDS << 2);
  for (let k = 0; k < propCount; k++, prop += LAYOUT_PROP_WORDS << 2) {
    const slot = load<i32>(prop, 8);
    if (slot == SLOT_NONE) continue;
    const t = load<i32>(prop);
    recordPresent |= 1 << slot;
    store<i32>(slotOffset + (<usize>slot << 2), load<i32>(prop, 12));
    store<i32>(slotType + (<usize>slot << 2), t);
    if (slot < SLOT_R ? t != T_F32 : t != T_U8) recordCommon = false;
  }
  // The common layout has a mesh vertex's nine values (x to b) and nothing else.
  if (recordPresent != (1 << SLOT_OPACITY) - 1) recordCommon = false;
  const available = (stop - start) / recordStride;
  if (<usize>count > available) {
    errorVertex = <i32>available;
    errorAt = start + available * recordStride;
    return S_TRUNCATED;
  }
  return S_OK;
}

// Decode vertex k at `record` (fixed records) or at the cursor into `slots`; absent properties
// keep what the host put there. Returns the record's address, or 0 on a decoding error (with
// errorVertex, errorAt and status saying what and where).
@inline
function readVertex(record: usize, k: i32): usize {
  if (recordCommon) {
    const scale: f32 = <f32>UCHAR_COLOR_SCALE;
    store<f32>(slots, load<f32>(record + <usize>load<i32>(slotOffset)));
    store<f32>(slots, load<f32>(record + <usize>load<i32>(slotOffset, 4)), 4);
    store<f32>(slots, load<f32>(record + <usize>load<i32>(slotOffset, 8)), 8);
    store<f32>(slots, load<f32>(record + <usize>load<i32>(slotOffset, 12)), 12);
    store<f32>(slots, load<f32>(record + <usize>load<i32>(slotOffset, 16)), 16);
    store<f32>(slots, load<f32>(record + <usize>load<i32>(slotOffset, 20)), 20);
    store<f32>(slots, <f32>load<u8>(record + <usize>load<i32>(slotOffset, 24)) * scale, 24);
    store<f32>(slots, <f32>load<u8>(record + <usize>load<i32>(slotOffset, 28)) * scale, 28);
    store<f32>(slots, <f32>load<u8>(record + <usize>load<i32>(slotOffset, 32)) * scale, 32);
    return record;
  }
  if (recordFixed) {
    for (let s = 0; s < SLOT_COUNT; s++) {
      if ((recordPresent & (1 << s)) == 0) continue;
      const t = load<i32>(slotType + (<usize>s << 2));
      storeSlot(s, t, readBinary(record + <usize>load<i32>(slotOffset + (<usize>s << 2)), t, recordBigEndian));
    }
    return record;
  }
  const at = cursor;
  readRecord(recordLayout);
  if (status == S_OK) return at;
  errorVertex = k;
  errorAt = cursor;
  return 0;
}

// One batch of traced points: x y z, the cube-map cell, and the cell's record: 24 bytes each.
const batch: usize = memory.data(TRACE_BATCH * 24, 8);

/**
 * Decode `count` vertices starting at `start`, trace each to the sphere, find its icosphere
 * vertex, and write rows: x rows of 2 (or 5) float32 at xOut, y rows of 6 float32 at yOut.
 * The host fills `slots` with defaults for absent properties (normals 0, a default colour).
 * With OPT_SKIP_INVALID, vertices that cannot be traced are counted and get no row.
 */
export function compileVertices(
  start: usize, stop: usize, count: i32, layout: usize,
  xOut: usize, yOut: usize, id: f32, options: i32,
): i32 {
  rows = 0;
  skippedNonfinite = 0;
  skippedOutside = 0;
  skippedFar = 0;
  maxRadius2 = 0;
  const code = compileBatches(start, stop, count, layout, xOut, yOut, id, options);
  storeResult();
  return code;
}

// Where stage 1 stands between batches: the next record (fixed records) and vertex number, and
// the status code of a vertex that stops the file.
let batchRecord: usize = 0;
let batchVertex: i32 = 0;
let batchCode: i32 = S_OK;

// The stages are functions of their own: in one large function V8's optimizing compiler spilled
// the loops' values to the stack, and recomputed values computed once before the loops (a
// float32 division) inside them.
function compileBatches(
  start: usize, stop: usize, count: i32, layout: usize,
  xOut: usize, yOut: usize, id: f32, options: i32,
): i32 {
  const begun = beginVertices(start, stop, count, layout);
  if (begun != S_OK) return begun;

  const xRowBytes: usize = (options & OPT_INPUTS_5) != 0 ? X_WIDTH_5 << 2 : X_WIDTH_2 << 2;
  const tableFloats: i32 = 3 * icosphereCount();
  // The index value float32(3i) * float32(1 / 3n), as the reference's -Ofast build computes it
  // (dataset/format.ts indexValue() is the same formula for the host).
  const recip: f32 = <f32>1.0 / <f32>tableFloats;
  batchRecord = start;
  batchVertex = 0;

  // Stage 1 decodes and traces a batch of vertices, writing y rows; stage 2 then reads their
  // cube-map records and finds their icosphere vertices back to back, so that the cube map's
  // cache misses overlap.
  // The common layout in the default projection takes a loop of its own; a vertex it does not
  // serve (not finite, or off the cube map) goes through the general loop, one at a time.
  const fast = recordCommon && (options & OPT_PROJECTION_RAY) == 0;
  while (batchVertex < count) {
    let size: i32 = 0;
    while (size < TRACE_BATCH && batchVertex < count) {
      if (fast) {
        size = traceCommon(size, count, xOut, yOut, xRowBytes);
        if (size >= TRACE_BATCH || batchVertex >= count) break;
      }
      size = traceBatch(size, fast ? 1 : TRACE_BATCH, count, xOut, yOut, xRowBytes, options);
      if (size < 0) return batchCode;
    }
    cellRecords(size);
    nearestBatch(size, xOut + <usize>rows * xRowBytes, xRowBytes, id, recip);
    rows += size;
  }
  if (recordFixed) cursor = start + <usize>count * recordStride;
  errorAt = cursor;
  return S_OK;
}

// Stage 1 of the common layout (float32 positions and normals, uchar colours, little-endian) in
// the default projection: what traceBatch does, for vertices from batchVertex on until the batch
// (now `size` long) is full, the vertices end, or a vertex is not finite or off the cube map
// (left to traceBatch). Returns the batch's new size. No calls: its values stay in registers.
// Two loops, tracing then the cube-map cells: each iteration's chain of dependent operations is
// half as long, and the processor overlaps more of them.
function traceCommon(size: i32, count: i32, xOut: usize, yOut: usize, xRowBytes: usize): i32 {
  const first = size;
  let record = batchRecord;
  let k = batchVertex;
  let maxR2: f64 = maxRadius2;
  const stride = recordStride;
  const colourScale: f32 = <f32>UCHAR_COLOR_SCALE;
  const wide = xRowBytes == X_WIDTH_5 << 2;
  let yp = yOut + <usize>(rows + size) * 24;
  while (size < TRACE_BATCH && k < count) {
    const x = load<f32>(record + <usize>load<i32>(slotOffset));
    const y = load<f32>(record + <usize>load<i32>(slotOffset, 4));
    const z = load<f32>(record + <usize>load<i32>(slotOffset, 8));
    const nx = load<f32>(record + <usize>load<i32>(slotOffset, 12));
    const ny = load<f32>(record + <usize>load<i32>(slotOffset, 16));
    const nz = load<f32>(record + <usize>load<i32>(slotOffset, 20));
    // Colours from bytes are finite: positions and normals are checked, in one test.
    if (!((x - x) + (y - y) + (z - z) + ((nx - nx) + (ny - ny) + (nz - nz)) == 0)) break;
    // Vertices this call leaves to traceBatch after all count here too: the largest radius is
    // the same (and read only when the file compiles).
    const r2 = fma32(z, z, fma32(x, x, y * y));
    if (<f64>r2 > maxR2) maxR2 = <f64>r2;
    const pd: f32 = <f32>1.0 - sqrt<f32>(r2);
    const slot = batch + <usize>size * 24;
    store<f32>(slot, fma32(pd, nx, x));
    store<f32>(slot, fma32(pd, ny, y), 4);
    store<f32>(slot, fma32(pd, nz, z), 8);
    if (wide) {
      const xp = xOut + <usize>(rows + size) * xRowBytes;
      store<f32>(xp, -nx, 8);
      store<f32>(xp, -ny, 12);
      store<f32>(xp, -nz, 16);
    }
    store<f32>(yp, x);
    store<f32>(yp, y, 4);
    store<f32>(yp, z, 8);
    store<f32>(yp, <f32>load<u8>(record + <usize>load<i32>(slotOffset, 24)) * colourScale, 12);
    store<f32>(yp, <f32>load<u8>(record + <usize>load<i32>(slotOffset, 28)) * colourScale, 16);
    store<f32>(yp, <f32>load<u8>(record + <usize>load<i32>(slotOffset, 32)) * colourScale, 20);
    yp += 24;
    record += stride;
    size++;
    k++;
  }
  let j = first;
  for (; j < size; j++) {
    const slot = batch + <usize>j * 24;
    const cell = cellOf(load<f32>(slot), load<f32>(slot, 4), load<f32>(slot, 8));
    if (cell < 0) break;
    store<i32>(slot, cell, 12);
  }
  if (j < size) {
    // Vertex j is off the cube map: the batch ends before it, and traceBatch takes it (its rows
    // and those of the vertices after it are written again).
    k = batchVertex + (j - first);
    record = batchRecord + <usize>(j - first) * stride;
    size = j;
  }
  batchRecord = record;
  batchVertex = k;
  maxRadius2 = maxR2;
  return size;
}

// Stage 1: decode and trace vertices from batchVertex on, writing their y rows (and the normals
// of 5-wide x rows) and their traced points and cells to `batch` (now `size` long), until the
// batch is full, the vertices end, or `steps` vertices are done. Returns the batch's new size,
// or -1 when a vertex stops the file (batchCode, errorVertex and errorAt say why).
function traceBatch(size: i32, steps: i32, count: i32, xOut: usize, yOut: usize, xRowBytes: usize, options: i32): i32 {
  const skipInvalid = (options & OPT_SKIP_INVALID) != 0;
  let record = batchRecord;
  let k = batchVertex;
  // The common layout (float32 positions and normals, uchar colours, little-endian, any order)
  // is read straight from the record at offsets held in locals; others go through readVertex.
  const common = recordCommon;
  const oX = <usize>load<i32>(slotOffset), oY = <usize>load<i32>(slotOffset, 4), oZ = <usize>load<i32>(slotOffset, 8);
  const oNX = <usize>load<i32>(slotOffset, 12), oNY = <usize>load<i32>(slotOffset, 16), oNZ = <usize>load<i32>(slotOffset, 20);
  const oR = <usize>load<i32>(slotOffset, 24), oG = <usize>load<i32>(slotOffset, 28), oB = <usize>load<i32>(slotOffset, 32);
  const colourScale: f32 = <f32>UCHAR_COLOR_SCALE;
  const legacy = (options & OPT_PROJECTION_RAY) == 0;
  const radial = (options & OPT_RADIAL) != 0;
  let maxR2: f64 = maxRadius2;
  for (let step = 0; step < steps && size < TRACE_BATCH && k < count; step++) {
    let at = record;
    let x: f32, y: f32, z: f32, nx: f32, ny: f32, nz: f32, r: f32, g: f32, b: f32;
    if (common) {
      x = load<f32>(record + oX); y = load<f32>(record + oY); z = load<f32>(record + oZ);
      nx = load<f32>(record + oNX); ny = load<f32>(record + oNY); nz = load<f32>(record + oNZ);
      r = <f32>load<u8>(record + oR) * colourScale;
      g = <f32>load<u8>(record + oG) * colourScale;
      b = <f32>load<u8>(record + oB) * colourScale;
      record += recordStride;
    } else {
      at = readVertex(record, k);
      if (recordFixed) record += recordStride;
      if (at == 0) {
        batchCode = status;
        maxRadius2 = 0; // as before the stages were functions: not reported for decoding errors
        return -1;
      }
      x = load<f32>(slots + (SLOT_X << 2));
      y = load<f32>(slots + (SLOT_Y << 2));
      z = load<f32>(slots + (SLOT_Z << 2));
      nx = load<f32>(slots + (SLOT_NX << 2));
      ny = load<f32>(slots + (SLOT_NY << 2));
      nz = load<f32>(slots + (SLOT_NZ << 2));
      r = load<f32>(slots + (SLOT_R << 2));
      g = load<f32>(slots + (SLOT_G << 2));
      b = load<f32>(slots + (SLOT_B << 2));
    }
    let result = S_OK;
    let px: f32 = 0, py: f32 = 0, pz: f32 = 0;
    let cell: i32 = -1;
    if (!(finite3(x, y, z) && finite3(nx, ny, nz) && finite3(r, g, b))) result = S_NONFINITE;
    else if (legacy) {
      // The reference's step along the normal, inline (the hot path of the default mode).
      const r2 = fma32(z, z, fma32(x, x, y * y));
      if (<f64>r2 > maxR2) maxR2 = <f64>r2;
      const pd: f32 = <f32>1.0 - sqrt<f32>(r2);
      px = fma32(pd, nx, x);
      py = fma32(pd, ny, y);
      pz = fma32(pd, nz, z);
    } else {
      const r2 = <f64>x * <f64>x + <f64>y * <f64>y + <f64>z * <f64>z;
      if (r2 > maxR2) maxR2 = r2;
      if (radial) {
        // No normals: the ray from the centre through the vertex meets the sphere at v / |v|.
        const length = Math.sqrt(r2);
        if (length == 0) result = S_ZERO_NORMAL;
        px = <f32>(<f64>x / length);
        py = <f32>(<f64>y / length);
        pz = <f32>(<f64>z / length);
      } else {
        result = traceTo(x, y, z, nx, ny, nz, options);
        px = load<f32>(traced);
        py = load<f32>(traced, 4);
        pz = load<f32>(traced, 8);
      }
    }
    if (result == S_OK) {
      cell = cellOf(px, py, pz);
      // Points the cube map does not serve take the brute force now, so that a point the
      // reference gives no row (nothing nearer than 9999) is known before its row is written.
      // The answer rides in the cell field: -2 - index.
      if (cell < 0) {
        const index = nearestBrute(px, py, pz);
        if (index < 0) result = S_TOO_FAR;
        else cell = -2 - index;
      }
    }
    if (result != S_OK) {
      if (!skipInvalid || result == S_ZERO_NORMAL) {
        errorVertex = k;
        errorAt = at;
        maxRadius2 = maxR2;
        batchCode = result;
        return -1;
      }
      if (result == S_NONFINITE) skippedNonfinite++;
      else if (result == S_TOO_FAR) skippedFar++;
      else skippedOutside++;
      k++;
      continue;
    }
    const slot = batch + <usize>size * 24;
    store<f32>(slot, px);
    store<f32>(slot, py, 4);
    store<f32>(slot, pz, 8);
    store<i32>(slot, cell, 12);

    const row = rows + size;
    const xp = xOut + <usize>row * xRowBytes;
    if (xRowBytes == X_WIDTH_5 << 2) {
      store<f32>(xp, -nx, 8);
      store<f32>(xp, -ny, 12);
      store<f32>(xp, -nz, 16);
    }
    const yp = yOut + <usize>row * 24;
    store<f32>(yp, x);
    store<f32>(yp, y, 4);
    store<f32>(yp, z, 8);
    store<f32>(yp, r, 12);
    store<f32>(yp, g, 16);
    store<f32>(yp, b, 20);
    size++;
    k++;
  }
  batchRecord = record;
  batchVertex = k;
  maxRadius2 = maxR2;
  return size;
}

// The batch's cell records first, in a loop of nothing else: their cache misses overlap.
function cellRecords(size: i32): void {
  for (let j: i32 = 0; j < size; j++) {
    const slot = batch + <usize>j * 24;
    store<u64>(slot, cellRecord(load<i32>(slot, 12)), 16);
  }
}

// Stage 2: the batch's icosphere vertices, written as x rows from xp on.
function nearestBatch(size: i32, xp: usize, xRowBytes: usize, id: f32, recip: f32): void {
  for (let j: i32 = 0; j < size; j++, xp += xRowBytes) {
    const slot = batch + <usize>j * 24;
    const cell = load<i32>(slot, 12);
    const index = cell < 0 ? -2 - cell : nearestInCell(load<f32>(slot), load<f32>(slot, 4), load<f32>(slot, 8), cell, load<u64>(slot, 16));
    const indexFloat: i32 = 3 * index;
    store<f32>(xp, id);
    store<f32>(xp, <f32>indexFloat * recip, 4);
  }
}

/**
 * Decode `count` vertices into staging rows of float32 x y z nx ny nz r g b (`stride` =
 * STAGING_STRIDE bytes), for files whose normals are computed from the faces or whose positions
 * are rescaled before tracing; or, 3D Gaussian splats, the same and their opacity
 * (SPLAT_STAGING_STRIDE). Leaves the cursor after the vertices.
 */
export function decodeVertices(start: usize, stop: usize, count: i32, layout: usize, staging: usize, stride: usize): i32 {
  const begun = beginVertices(start, stop, count, layout);
  if (begun != S_OK) return begun;
  let record = start;
  for (let k: i32 = 0; k < count; k++) {
    const at = readVertex(record, k);
    if (recordFixed) record += recordStride;
    if (at == 0) return status;
    memory.copy(staging + <usize>k * stride, slots, stride);
  }
  if (recordFixed) cursor = start + <usize>count * recordStride;
  errorAt = cursor;
  return S_OK;
}

/**
 * Angle-weighted vertex normals from `faceCount` faces (polygons of any size), as Blender
 * computes them: each corner adds its polygon's unit normal (Newell's method) times the
 * corner's angle. Overwrites the staging rows' normals with the normalized sums.
 */
export function faceNormals(start: usize, stop: usize, faceCount: i32, layout: usize, staging: usize, vertexCount: i32): i32 {
  cursor = start;
  end = stop;
  status = S_OK;
  errorAt = start;
  for (let v: i32 = 0; v < vertexCount; v++) {
    const row = staging + <usize>v * STAGING_STRIDE;
    store<f32>(row, 0, 12);
    store<f32>(row, 0, 16);
    store<f32>(row, 0, 20);
  }
  // The sums accumulate in the staging rows' float32 normals: ample for a direction.
  for (let f: i32 = 0; f < faceCount; f++) {
    const at = cursor;
    readFace(layout);
    if (status != S_OK) {
      errorVertex = f;
      errorAt = cursor;
      return status;
    }
    const n = cornerCount;
    for (let j = 0; j < n; j++) {
      const i = load<f64>(corners + (<usize>j << 3));
      if (!(i >= 0 && i < <f64>vertexCount)) {
        errorVertex = f;
        errorAt = at;
        return S_BAD_INDEX;
      }
    }
    if (n < 3) continue;
    // Newell's normal of the polygon.
    let sx: f64 = 0, sy: f64 = 0, sz: f64 = 0;
    for (let j = 0; j < n; j++) {
      const a = staging + <usize>load<f64>(corners + (<usize>j << 3)) * STAGING_STRIDE;
      const b = staging + <usize>load<f64>(corners + (<usize>((j + 1) % n) << 3)) * STAGING_STRIDE;
      const ax = <f64>load<f32>(a), ay = <f64>load<f32>(a, 4), az = <f64>load<f32>(a, 8);
      const bx = <f64>load<f32>(b), by = <f64>load<f32>(b, 4), bz = <f64>load<f32>(b, 8);
      sx += (ay - by) * (az + bz);
      sy += (az - bz) * (ax + bx);
      sz += (ax - bx) * (ay + by);
    }
    const length = Math.sqrt(sx * sx + sy * sy + sz * sz);
    if (length == 0) continue;
    sx /= length; sy /= length; sz /= length;
    for (let j = 0; j < n; j++) {
      const prev = staging + <usize>load<f64>(corners + (<usize>((j + n - 1) % n) << 3)) * STAGING_STRIDE;
      const here = staging + <usize>load<f64>(corners + (<usize>j << 3)) * STAGING_STRIDE;
      const next = staging + <usize>load<f64>(corners + (<usize>((j + 1) % n) << 3)) * STAGING_STRIDE;
      const ux = <f64>load<f32>(prev) - <f64>load<f32>(here), uy = <f64>load<f32>(prev, 4) - <f64>load<f32>(here, 4), uz = <f64>load<f32>(prev, 8) - <f64>load<f32>(here, 8);
      const wx = <f64>load<f32>(next) - <f64>load<f32>(here), wy = <f64>load<f32>(next, 4) - <f64>load<f32>(here, 4), wz = <f64>load<f32>(next, 8) - <f64>load<f32>(here, 8);
      addCorner(here, sx, sy, sz, ux, uy, uz, wx, wy, wz);
    }
  }
  for (let v: i32 = 0; v < vertexCount; v++) {
    const row = staging + <usize>v * STAGING_STRIDE;
    const x = <f64>load<f32>(row, 12), y = <f64>load<f32>(row, 16), z = <f64>load<f32>(row, 20);
    const length = Math.sqrt(x * x + y * y + z * z);
    if (length == 0) continue; // a vertex in no face: the legacy step keeps it in place
    store<f32>(row, <f32>(x / length), 12);
    store<f32>(row, <f32>(y / length), 16);
    store<f32>(row, <f32>(z / length), 20);
  }
  errorAt = cursor;
  return S_OK;
}

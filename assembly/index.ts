// The headsnet kernel: PLY vertices in, HeadsNet training rows out, no allocation per vertex.
// The host owns the memory layout (src/kernel.ts): it places the icosphere, the spatial hash,
// the file bytes and the output rows, and reads status codes and offsets back.

import {
  T_U8, T_F32, FMT_ASCII, FMT_BINARY_BE, FMT_BINARY_LE,
  SLOT_NONE, SLOT_COUNT, SLOT_X, SLOT_Y, SLOT_Z, SLOT_NX, SLOT_NY, SLOT_NZ, SLOT_R, SLOT_G, SLOT_B,
  LAYOUT_HEADER_WORDS, LAYOUT_PROP_WORDS,
  OPT_PROJECTION_RAY, OPT_INPUTS_5,
  S_OK, S_TRUNCATED, S_NONFINITE, S_OUTSIDE_SPHERE, S_ZERO_NORMAL, TRACE_BATCH,
} from "../src/abi";
import { fma32 } from "./exact";
import { cellOf, nearestInCell, icosphereCount } from "./nearest";
import { cursor, end, status, slots, readRecord, readBinary, storeSlot, skipRecords } from "./decode";

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
  if (a == 0) return S_ZERO_NORMAL;
  const c = vx * vx + vy * vy + vz * vz - 1.0;
  if (c >= 0) {
    if (c > 0) return S_OUTSIDE_SPHERE;
    store<f32>(traced, x); store<f32>(traced, y, 4); store<f32>(traced, z, 8);
    return S_OK;
  }
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

// One batch of traced points: x y z and the cube-map cell, 16 bytes each.
const batch: usize = memory.data(TRACE_BATCH * 16);

// Slot tables for fixed-stride binary records.
const slotOffset: usize = memory.data(SLOT_COUNT * 4);
const slotType: usize = memory.data(SLOT_COUNT * 4);

/**
 * Decode `count` vertices starting at `start`, trace each to the sphere, find its icosphere
 * vertex, and write rows: x rows of 2 (or 5) float32 at xOut, y rows of 6 float32 at yOut.
 * The host fills `slots` with defaults for absent properties (normals 0, a default colour).
 */
export function compileVertices(
  start: usize, stop: usize, count: i32, layout: usize,
  xOut: usize, yOut: usize, id: f32, options: i32,
): i32 {
  cursor = start;
  end = stop;
  status = S_OK;
  errorVertex = 0;
  errorAt = start;

  const format = load<i32>(layout);
  const stride = <usize>load<i32>(layout, 4);
  const propCount = load<i32>(layout, 8);
  const fixed = stride > 0 && format != FMT_ASCII;
  const bigEndian = format == FMT_BINARY_BE;

  // For fixed records: which slots are present, and whether they are in the common
  // float32-position, uchar-colour, little-endian layout that Blender writes.
  let present: i32 = 0;
  let common = fixed && format == FMT_BINARY_LE;
  if (fixed) {
    let prop = layout + (LAYOUT_HEADER_WORDS << 2);
    for (let k = 0; k < propCount; k++, prop += LAYOUT_PROP_WORDS << 2) {
      const slot = load<i32>(prop, 8);
      if (slot == SLOT_NONE) continue;
      const t = load<i32>(prop);
      present |= 1 << slot;
      store<i32>(slotOffset + (<usize>slot << 2), load<i32>(prop, 12));
      store<i32>(slotType + (<usize>slot << 2), t);
      if (slot < SLOT_R ? t != T_F32 : t != T_U8) common = false;
    }
    if (present != (1 << SLOT_COUNT) - 1) common = false;
    const available = (stop - start) / stride;
    if (<usize>count > available) {
      errorVertex = <i32>available;
      errorAt = start + available * stride;
      return S_TRUNCATED;
    }
  }

  const xWidth: usize = (options & OPT_INPUTS_5) != 0 ? 20 : 8;
  const tableFloats: i32 = 3 * icosphereCount();
  const recip: f32 = <f32>1.0 / <f32>tableFloats;
  const scale: f32 = <f32>0.003921569;
  let record = start;

  // Stage 1 decodes and traces a batch of vertices, writing y rows; stage 2 then finds their
  // icosphere vertices back to back, so the cube map's cache misses overlap.
  for (let base: i32 = 0; base < count; base += TRACE_BATCH) {
    const size = min<i32>(TRACE_BATCH, count - base);
    for (let j: i32 = 0; j < size; j++) {
      const k = base + j;
      let x: f32, y: f32, z: f32, nx: f32, ny: f32, nz: f32, r: f32, g: f32, b: f32;
      if (common) {
        x = load<f32>(record + <usize>load<i32>(slotOffset));
        y = load<f32>(record + <usize>load<i32>(slotOffset, 4));
        z = load<f32>(record + <usize>load<i32>(slotOffset, 8));
        nx = load<f32>(record + <usize>load<i32>(slotOffset, 12));
        ny = load<f32>(record + <usize>load<i32>(slotOffset, 16));
        nz = load<f32>(record + <usize>load<i32>(slotOffset, 20));
        r = <f32>load<u8>(record + <usize>load<i32>(slotOffset, 24)) * scale;
        g = <f32>load<u8>(record + <usize>load<i32>(slotOffset, 28)) * scale;
        b = <f32>load<u8>(record + <usize>load<i32>(slotOffset, 32)) * scale;
      } else {
        if (fixed) {
          for (let s = 0; s < SLOT_COUNT; s++) {
            if ((present & (1 << s)) == 0) continue;
            const t = load<i32>(slotType + (<usize>s << 2));
            storeSlot(s, t, readBinary(record + <usize>load<i32>(slotOffset + (<usize>s << 2)), t, bigEndian));
          }
        } else {
          record = cursor;
          readRecord(layout);
          if (status != S_OK) {
            errorVertex = k;
            errorAt = cursor;
            return status;
          }
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

      if (!(finite3(x, y, z) && finite3(nx, ny, nz) && finite3(r, g, b))) {
        errorVertex = k;
        errorAt = record;
        return S_NONFINITE;
      }
      const traceStatus = traceTo(x, y, z, nx, ny, nz, options);
      if (traceStatus != S_OK) {
        errorVertex = k;
        errorAt = record;
        return traceStatus;
      }
      const px = load<f32>(traced);
      const py = load<f32>(traced, 4);
      const pz = load<f32>(traced, 8);
      const slot = batch + (<usize>j << 4);
      store<f32>(slot, px);
      store<f32>(slot, py, 4);
      store<f32>(slot, pz, 8);
      store<i32>(slot, cellOf(px, py, pz), 12);

      const xp = xOut + <usize>k * xWidth;
      if (xWidth == 20) {
        store<f32>(xp, -nx, 8);
        store<f32>(xp, -ny, 12);
        store<f32>(xp, -nz, 16);
      }
      const yp = yOut + <usize>k * 24;
      store<f32>(yp, x);
      store<f32>(yp, y, 4);
      store<f32>(yp, z, 8);
      store<f32>(yp, r, 12);
      store<f32>(yp, g, 16);
      store<f32>(yp, b, 20);
      if (fixed) record += stride;
    }
    for (let j: i32 = 0; j < size; j++) {
      const slot = batch + (<usize>j << 4);
      const index = nearestInCell(load<f32>(slot), load<f32>(slot, 4), load<f32>(slot, 8), load<i32>(slot, 12));
      const xp = xOut + <usize>(base + j) * xWidth;
      const indexFloat: i32 = 3 * index;
      store<f32>(xp, id);
      store<f32>(xp, <f32>indexFloat * recip, 4);
    }
  }
  if (fixed) cursor = start + <usize>count * stride;
  errorAt = cursor;
  return S_OK;
}

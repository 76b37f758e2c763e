// PLY body decoding. The host parses the header and hands over a numeric layout (src/abi.ts);
// this walks the body with one cursor and leaves each vertex's values in a fixed slot block.

import {
  T_I8, T_U8, T_I16, T_U16, T_I32, T_U32, T_F32, T_F64, T_NONE,
  FMT_ASCII, FMT_BINARY_BE,
  SLOT_NONE, SLOT_COUNT, SLOT_R, SLOT_B,
  LAYOUT_HEADER_WORDS, LAYOUT_PROP_WORDS,
  S_OK, S_TRUNCATED, S_BAD_NUMBER, S_BAD_LIST, S_BAD_TYPE, S_BIG_FACE,
  UCHAR_COLOR_SCALE, SLOT_FACE_INDICES, FACE_MAX_CORNERS,
} from "../src/abi";

// Host hook for the rare decimal that the exact fast path cannot round (more than 2^53 or an
// exponent past 1e±22): the host's correctly rounded parser.
@external("env", "parseDecimal")
declare function parseDecimal(ptr: usize, len: i32): f64;

export let cursor: usize = 0;
export let end: usize = 0;
export let status: i32 = S_OK;

// Decoded values of the current vertex, float32, indexed by slot.
export const slots: usize = memory.data(SLOT_COUNT * 4);

// Point the cursor at [start, stop) with a clear status, for readers in other modules.
export function begin(start: usize, stop: usize): void {
  cursor = start;
  end = stop;
  status = S_OK;
}

// Exact powers of ten for the decimal fast path.
const POW10: usize = memory.data<f64>([
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]);

@inline
export function typeSize(t: i32): i32 {
  if (t == T_I8 || t == T_U8) return 1;
  if (t == T_I16 || t == T_U16) return 2;
  if (t == T_I32 || t == T_U32 || t == T_F32) return 4;
  if (t == T_F64) return 8;
  return 0;
}

// Read one binary scalar as float64 (exact for every PLY type).
@inline
export function readBinary(p: usize, t: i32, bigEndian: bool): f64 {
  switch (t) {
    case T_U8: return <f64>load<u8>(p);
    case T_I8: return <f64>load<i8>(p);
    case T_F32: {
      const b = load<u32>(p);
      return <f64>reinterpret<f32>(bigEndian ? bswap<u32>(b) : b);
    }
    case T_F64: {
      const b = load<u64>(p);
      return reinterpret<f64>(bigEndian ? bswap<u64>(b) : b);
    }
    case T_U16: {
      const b = load<u16>(p);
      return <f64>(bigEndian ? bswap<u16>(b) : b);
    }
    case T_I16: {
      const b = load<u16>(p);
      return <f64><i16>(bigEndian ? bswap<u16>(b) : b);
    }
    case T_U32: {
      const b = load<u32>(p);
      return <f64>(bigEndian ? bswap<u32>(b) : b);
    }
    case T_I32: {
      const b = load<u32>(p);
      return <f64><i32>(bigEndian ? bswap<u32>(b) : b);
    }
  }
  return 0;
}

// A value as the reference stores it: read as double, stored as float32; colours scaled as
// uchar (times the reference's float32 constant), ushort (to [0,1]) or used as is (float).
@inline
export function storeSlot(slot: i32, t: i32, v: f64): void {
  let f = <f32>v;
  if (slot >= SLOT_R && slot <= SLOT_B) {
    if (t == T_U8 || t == T_I8) f = f * <f32>UCHAR_COLOR_SCALE;
    else if (t == T_U16 || t == T_I16) f = f * (<f32>1.0 / <f32>65535.0);
  }
  store<f32>(slots + (<usize>slot << 2), f);
}

@inline
function isSpace(c: u32): bool {
  return c == 32 || (c >= 9 && c <= 13);
}

// Next ASCII number as float64, correctly rounded (as strtod would), or sets status.
export function readAsciiNumber(): f64 {
  let p = cursor;
  while (p < end && isSpace(<u32>load<u8>(p))) p++;
  if (p >= end) {
    cursor = p;
    status = S_TRUNCATED;
    return 0;
  }
  const start = p;
  let negative = false;
  let c = <u32>load<u8>(p);
  if (c == 45 /* - */) { negative = true; p++; }
  else if (c == 43 /* + */) p++;

  let mantissa: u64 = 0;
  let exp10: i32 = 0;
  let digits = false;
  let exact = true; // mantissa holds every nonzero digit
  while (p < end) {
    c = <u32>load<u8>(p) - 48;
    if (c > 9) break;
    digits = true;
    if (mantissa < 100000000000000000) mantissa = mantissa * 10 + c;
    else { exp10++; if (c != 0) exact = false; }
    p++;
  }
  if (p < end && load<u8>(p) == 46 /* . */) {
    p++;
    while (p < end) {
      c = <u32>load<u8>(p) - 48;
      if (c > 9) break;
      digits = true;
      if (mantissa < 100000000000000000) { mantissa = mantissa * 10 + c; exp10--; }
      else if (c != 0) exact = false;
      p++;
    }
  }
  if (!digits) {
    // nan, inf, infinity: accepted so that the host can report them as non-finite values.
    const word = p;
    while (p < end && !isSpace(<u32>load<u8>(p))) p++;
    const len = <i32>(p - word);
    const c0 = <u32>load<u8>(word) | 32;
    if ((len == 3 || len == 8) && (c0 == 105 /* i */ || c0 == 110 /* n */)) {
      cursor = p;
      if (c0 == 110) return NaN;
      return negative ? -Infinity : Infinity;
    }
    cursor = start;
    status = S_BAD_NUMBER;
    return 0;
  }
  if (p < end && (load<u8>(p) | 32) == 101 /* e */) {
    p++;
    let expNegative = false;
    if (p < end && load<u8>(p) == 45) { expNegative = true; p++; }
    else if (p < end && load<u8>(p) == 43) p++;
    let e: i32 = 0;
    let expDigits = false;
    while (p < end) {
      c = <u32>load<u8>(p) - 48;
      if (c > 9) break;
      expDigits = true;
      if (e < 100000) e = e * 10 + <i32>c;
      p++;
    }
    if (!expDigits) {
      cursor = start;
      status = S_BAD_NUMBER;
      return 0;
    }
    exp10 += expNegative ? -e : e;
  }
  if (p < end && !isSpace(<u32>load<u8>(p))) {
    cursor = start;
    status = S_BAD_NUMBER;
    return 0;
  }
  cursor = p;
  let v: f64;
  if (exact && mantissa <= 9007199254740992 && exp10 >= -22 && exp10 <= 22) {
    // Clinger's fast path: both operands exact, so one rounding, as strtod does.
    v = <f64>mantissa;
    if (exp10 > 0) v *= load<f64>(POW10 + (<usize>exp10 << 3));
    else if (exp10 < 0) v /= load<f64>(POW10 + (<usize>(-exp10) << 3));
    return negative ? -v : v;
  }
  return parseDecimal(start, <i32>(p - start));
}

// Read one scalar of type t at the cursor in the given format, advancing; sets status on failure.
@inline
export function readScalar(format: i32, t: i32): f64 {
  if (format == FMT_ASCII) return readAsciiNumber();
  const size = <usize>typeSize(t);
  if (cursor + size > end) {
    status = S_TRUNCATED;
    return 0;
  }
  const v = readBinary(cursor, t, format == FMT_BINARY_BE);
  cursor += size;
  return v;
}

// Walk one record of an element with the generic layout, storing slotted values.
export function readRecord(layout: usize): void {
  const format = load<i32>(layout);
  const count = load<i32>(layout, 8);
  let prop = layout + (LAYOUT_HEADER_WORDS << 2);
  for (let k = 0; k < count; k++, prop += LAYOUT_PROP_WORDS << 2) {
    const t = load<i32>(prop);
    const listType = load<i32>(prop, 4);
    const slot = load<i32>(prop, 8);
    if (typeSize(t) == 0) { status = S_BAD_TYPE; return; }
    if (listType != T_NONE) {
      const n = readScalar(format, listType);
      if (status != S_OK) return;
      if (!(n >= 0) || n != Math.floor(n)) { status = S_BAD_LIST; return; }
      if (format == FMT_ASCII) {
        for (let j: f64 = 0; j < n; j++) {
          readAsciiNumber();
          if (status != S_OK) return;
        }
      } else {
        const bytes = n * <f64>typeSize(t);
        if (bytes > <f64>(end - cursor)) { status = S_TRUNCATED; return; }
        cursor += <usize>bytes;
      }
      continue;
    }
    const v = readScalar(format, t);
    if (status != S_OK) return;
    if (slot != SLOT_NONE) storeSlot(slot, t, v);
  }
}

// The corners of the face last read by readFace(), as vertex indices (float64: any PLY type).
export const corners: usize = memory.data(FACE_MAX_CORNERS * 8);
export let cornerCount: i32 = 0;

// Read one face record: the list in the SLOT_FACE_INDICES property goes to `corners`.
export function readFace(layout: usize): void {
  const format = load<i32>(layout);
  const count = load<i32>(layout, 8);
  cornerCount = 0;
  let prop = layout + (LAYOUT_HEADER_WORDS << 2);
  for (let k = 0; k < count; k++, prop += LAYOUT_PROP_WORDS << 2) {
    const t = load<i32>(prop);
    const listType = load<i32>(prop, 4);
    if (typeSize(t) == 0) { status = S_BAD_TYPE; return; }
    if (listType == T_NONE) {
      readScalar(format, t);
      if (status != S_OK) return;
      continue;
    }
    const n = readScalar(format, listType);
    if (status != S_OK) return;
    if (!(n >= 0) || n != Math.floor(n)) { status = S_BAD_LIST; return; }
    const wanted = load<i32>(prop, 8) == SLOT_FACE_INDICES;
    if (wanted && n > <f64>FACE_MAX_CORNERS) { status = S_BIG_FACE; return; }
    if (!wanted && format != FMT_ASCII) {
      const bytes = n * <f64>typeSize(t);
      if (bytes > <f64>(end - cursor)) { status = S_TRUNCATED; return; }
      cursor += <usize>bytes;
      continue;
    }
    for (let j: i32 = 0; j < <i32>n; j++) {
      const v = readScalar(format, t);
      if (status != S_OK) return;
      if (wanted) store<f64>(corners + (<usize>j << 3), v);
    }
    if (wanted) cornerCount = <i32>n;
  }
}

// Skip `count` records of an element that precedes the vertices.
export function skipRecords(start: usize, stop: usize, count: i32, layout: usize): i32 {
  cursor = start;
  end = stop;
  status = S_OK;
  const stride = load<i32>(layout, 4);
  if (stride > 0 && load<i32>(layout) != FMT_ASCII) {
    const bytes = <f64>count * <f64>stride;
    if (bytes > <f64>(end - cursor)) { status = S_TRUNCATED; cursor = end; return status; }
    cursor += <usize>bytes;
    return S_OK;
  }
  for (let i = 0; i < count; i++) {
    readRecord(layout);
    if (status != S_OK) return status;
  }
  return S_OK;
}

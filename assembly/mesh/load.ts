// Meshes into memory: a PLY file's faces as triangles (its vertices go through the HeadsNet
// kernel's decoder), an OBJ file's vertices, normals and faces, and the checks and normals that
// every mesh gets. Errors leave a status, the byte address and the vertex or face in `result`.

import {
  STAGING_STRIDE, FACE_MAX_CORNERS, S_OK, S_TRUNCATED, S_BAD_NUMBER, S_BAD_INDEX, S_NONFINITE,
  S_BIG_FACE, S_NO_MEMORY, S_NO_VERTICES, S_SHORT_FACE, S_BAD_ARITY, S_UNKNOWN_STATEMENT,
  S_MIXED_COLORS, S_BAD_CORNER, MR_VERTICES, MR_TRIANGLES, MR_NORMAL_COUNT, MR_PTR, MR_PTR2,
  MR_FLAGS, MR_STATUS, MR_ERROR_AT, MF_FILE_NORMALS, MF_COLORS, MF_FINITE,
  FMT_ASCII, FMT_BINARY_BE, FMT_BINARY_LE, LAYOUT_HEADER_WORDS, LAYOUT_PROP_WORDS, T_NONE, T_I32, T_U32,
  T_U8, T_F32, SLOT_FACE_INDICES, SLOT_NONE, SLOT_COUNT, SLOT_X, SLOT_Y, SLOT_Z, SLOT_NX, SLOT_NY,
  SLOT_NZ, SLOT_R, SLOT_G, SLOT_B, UCHAR_COLOR_SCALE,
} from "../../src/abi";
import { begin, cursor, status, slots, corners, cornerCount, readFace, readAsciiNumber } from "../decode";
import { addCorner } from "../normals";
import {
  fail, ok, setWord, getWord, arenaTop, ensure, commit, setMesh, knowBox,
  vertexCount, triangles, triangleCount, vertexAt,
} from "./state";

// ---------------------------------------------------------------------------------------------
// PLY faces

/**
 * Read `faceCount` face records at [start, stop) with the face layout, fanning each polygon into
 * triangles appended at the arena's top. Faces with fewer than three corners add nothing, as in
 * the HeadsNet kernel. The triangles' address and count go to MR_PTR2 and MR_TRIANGLES.
 */
export function readPlyTriangles(start: usize, stop: usize, faceCount: i32, layout: usize, vCount: i32): i32 {
  begin(start, stop);
  const out = arenaTop();
  let t: i32 = 0;
  const fast = binaryTriangleList(layout);
  const bigEndian = load<i32>(layout) == FMT_BINARY_BE;
  // Memory for every face as one triangle, up front; when it cannot grow that far, the tight
  // run stops where memory ends and the general way below reports S_NO_MEMORY as before.
  if (fast) ensure(out + <usize>min(faceCount, <i32>((stop - start) / 13)) * 12 + 4);
  for (let f: i32 = 0; f < faceCount; f++) {
    let at = cursor;
    if (fast) {
      // A run of triangles as exporters write them: count 3, three 32-bit indices, 13 bytes.
      // Each record is one 16-byte load (so the run stops 3 bytes before the file's end) and
      // one 16-byte store (the extra 4 bytes are overwritten by the next triangle or left
      // past the committed end), within the memory there is.
      const room = <usize>memory.size() << 16;
      let records = <usize>(faceCount - f);
      if (stop - at >= 16) records = min(records, (stop - at - 3) / 13); else records = 0;
      const p0 = out + <usize>t * 12;
      records = room >= p0 + 16 ? min(records, (room - p0 - 4) / 12) : 0;
      const done = bigEndian
        ? triangleRunBE(at, records, p0, vCount)
        : triangleRunLE(at, records, p0, vCount);
      f += done;
      t += done;
      at += <usize>done * 13;
      begin(at, stop);
      if (f == faceCount) break;
      if (at + 13 <= stop && load<u8>(at) == 3) {
        // The one record the run left: at the file's end, or at the memory's.
        let a = load<u32>(at, 1), b = load<u32>(at, 5), c = load<u32>(at, 9);
        if (bigEndian) { a = bswap<u32>(a); b = bswap<u32>(b); c = bswap<u32>(c); }
        const p = out + <usize>t * 12;
        // Negative int indices are 2^31 or more as u32: past any vertex count.
        if (a < <u32>vCount && b < <u32>vCount && c < <u32>vCount && ensure(p + 12)) {
          store<u32>(p, a);
          store<u32>(p, b, 4);
          store<u32>(p, c, 8);
          t++;
          begin(at + 13, stop);
          continue;
        }
      }
      // Anything else (other counts, an index out of range, too little memory, the file's end)
      // takes the general way, which reports it.
    }
    readFace(layout);
    if (status != S_OK) return fail(status, cursor, f);
    const n = cornerCount;
    for (let j = 0; j < n; j++) {
      const i = load<f64>(corners + (<usize>j << 3));
      if (!(i >= 0 && i < <f64>vCount)) return fail(S_BAD_INDEX, at, f);
    }
    if (n < 3) continue;
    if (!ensure(out + <usize>(t + n - 2) * 12)) return fail(S_NO_MEMORY, at, f);
    const a = <u32>load<f64>(corners);
    for (let j = 1; j + 1 < n; j++, t++) {
      const p = out + <usize>t * 12;
      store<u32>(p, a);
      store<u32>(p, <u32>load<f64>(corners + (<usize>j << 3)), 4);
      store<u32>(p, <u32>load<f64>(corners + (<usize>(j + 1) << 3)), 8);
    }
  }
  commit(out, <usize>t * 12);
  setWord(MR_PTR2, <i32>out);
  setWord(MR_TRIANGLES, t);
  setWord(MR_ERROR_AT, <i32>cursor);
  return ok();
}

/**
 * Copy up to `records` 13-byte triangle records at `at` (count 3, indices below vCount) to
 * triangles at `to`; returns how many, stopping before the first record that is anything else.
 * The caller guarantees 16 readable bytes per record and 16 writable bytes per triangle.
 */
@inline
function triangleRun(at: usize, records: usize, to: usize, vCount: i32, bigEndian: bool): i32 {
  const limit = i32x4.splat(vCount);
  let k: usize = 0;
  // Four records (52 bytes) to four triangles (48 bytes, three 16-byte stores): the twelve
  // indices regrouped by shuffles of neighbouring records, byte-swapped for big-endian files.
  for (; k + 4 <= records; k += 4) {
    const a = v128.load(at), b = v128.load(at, 13), c = v128.load(at, 26), d = v128.load(at, 39);
    const out0 = bigEndian
      ? i8x16.shuffle(a, b, 4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9, 20, 19, 18, 17)
      : i8x16.shuffle(a, b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 17, 18, 19, 20);
    const out1 = bigEndian
      ? i8x16.shuffle(b, c, 8, 7, 6, 5, 12, 11, 10, 9, 20, 19, 18, 17, 24, 23, 22, 21)
      : i8x16.shuffle(b, c, 5, 6, 7, 8, 9, 10, 11, 12, 17, 18, 19, 20, 21, 22, 23, 24);
    const out2 = bigEndian
      ? i8x16.shuffle(c, d, 12, 11, 10, 9, 20, 19, 18, 17, 24, 23, 22, 21, 28, 27, 26, 25)
      : i8x16.shuffle(c, d, 9, 10, 11, 12, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28);
    // Unsigned: negative int indices are 2^31 or more, past any vertex count.
    const inRange = v128.and(v128.and(i32x4.lt_u(out0, limit), i32x4.lt_u(out1, limit)), i32x4.lt_u(out2, limit));
    const counts = <u32>load<u8>(at) | <u32>load<u8>(at, 13) << 8 | <u32>load<u8>(at, 26) << 16 | <u32>load<u8>(at, 39) << 24;
    if (counts != 0x03030303 || !i32x4.all_true(inRange)) break;
    v128.store(to, out0);
    v128.store(to, out1, 16);
    v128.store(to, out2, 32);
    at += 52;
    to += 48;
  }
  // The rest one at a time, up to the first record that is not a triangle in range: indices to
  // lanes 0-2, lane 3 zero (below the limit ~0).
  const limit1 = i32x4(vCount, vCount, vCount, -1);
  const zero = i32x4.splat(0);
  for (; k < records; k++) {
    const record = v128.load(at);
    const indices = bigEndian
      ? i8x16.shuffle(record, zero, 4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9, 16, 16, 16, 16)
      : i8x16.shuffle(record, zero, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16, 16, 16, 16);
    if (load<u8>(at) != 3 || !i32x4.all_true(i32x4.lt_u(indices, limit1))) break;
    v128.store(to, indices);
    at += 13;
    to += 12;
  }
  return <i32>k;
}

function triangleRunLE(at: usize, records: usize, to: usize, vCount: i32): i32 {
  return triangleRun(at, records, to, vCount, false);
}

function triangleRunBE(at: usize, records: usize, to: usize, vCount: i32): i32 {
  return triangleRun(at, records, to, vCount, true);
}

/**
 * The face element is binary with one property, a uchar-counted list of int or uint indices:
 * Blender's and most exporters' layout, which readPlyTriangles reads without the general reader.
 */
function binaryTriangleList(layout: usize): bool {
  if (load<i32>(layout) == FMT_ASCII || load<i32>(layout, 8) != 1) return false;
  const prop = layout + (LAYOUT_HEADER_WORDS << 2);
  const t = load<i32>(prop);
  return (t == T_I32 || t == T_U32) && load<i32>(prop, 4) == T_U8 && load<i32>(prop, 8) == SLOT_FACE_INDICES;
}

// ---------------------------------------------------------------------------------------------
// PLY vertices, the common layouts

/** decodePlainVertices(): not a layout it reads; the host calls decodeVertices instead. */
export const NOT_PLAIN: i32 = -1;

/**
 * The HeadsNet kernel's decodeVertices (assembly/index.ts) for the layouts exporters write:
 * binary little-endian, fixed-size records, float x y z, optionally float nx ny nz, optionally
 * uchar red green blue, any other properties unread. Writes the same staging rows (absent
 * normals and colours from `slots`, as the host set them; colours u8 times UCHAR_COLOR_SCALE in
 * float32, as storeSlot computes them) and leaves the cursor after the vertices; MR_FLAGS gets
 * MF_FINITE when every value written is finite, which finishMesh then need not check. Returns S_OK, or
 * NOT_PLAIN for any other layout or a body too short for `count` records, having written nothing:
 * decodeVertices reads those and reports every error.
 */
export function decodePlainVertices(start: usize, stop: usize, count: i32, layout: usize, staging: usize): i32 {
  if (load<i32>(layout) != FMT_BINARY_LE) return NOT_PLAIN;
  const stride = <usize>load<i32>(layout, 4);
  if (<i32>stride <= 0 || count < 0 || <usize>count > (stop - start) / stride) return NOT_PLAIN;
  const propCount = load<i32>(layout, 8);
  let present: i32 = 0;
  let prop = layout + (LAYOUT_HEADER_WORDS << 2);
  for (let k = 0; k < propCount; k++, prop += LAYOUT_PROP_WORDS << 2) {
    const slot = load<i32>(prop, 8);
    if (slot == SLOT_NONE) continue;
    if (slot > SLOT_B || load<i32>(prop, 4) != T_NONE) return NOT_PLAIN;
    if (load<i32>(prop) != (slot < SLOT_R ? T_F32 : T_U8)) return NOT_PLAIN;
    present |= 1 << slot;
    store<i32>(plainOffset + (<usize>slot << 2), load<i32>(prop, 12));
  }
  const POSITIONS = 7, NORMALS = 7 << 3, COLOURS = 7 << 6;
  const normals = (present & NORMALS) == NORMALS, colours = (present & COLOURS) == COLOURS;
  if ((present & POSITIONS) != POSITIONS || (present & NORMALS) != (normals ? NORMALS : 0)
    || (present & COLOURS) != (colours ? COLOURS : 0)) return NOT_PLAIN;
  const oX = <usize>load<i32>(plainOffset), oR = <usize>load<i32>(plainOffset, SLOT_R << 2);
  // Exporters' order: x y z nx ny nz one after another, red green blue likewise.
  const packed = normals && colours && sameOffsets(oX, 4, SLOT_X, SLOT_NZ) && sameOffsets(oR, 1, SLOT_R, SLOT_B);
  let k: i32 = 0;
  let record = start, row = staging;
  // finishMesh's finite check, done here while the values pass: x - x is 0 for finite x and NaN
  // for NaN or infinity, and a sum with a NaN stays NaN. Colours from bytes are always finite.
  let sums = f32x4.splat(0);
  let sum: f32 = 0;
  // The box (state.ts), while the rows pass; only worth its meaning when they are finite.
  let lo = f32x4.splat(0), hi = lo;
  if (packed && count > 1) {
    lo = v128.load(start + oX);
    hi = lo;
    const scale = f32x4.splat(<f32>UCHAR_COLOR_SCALE);
    // The last row on its own: its colours' 16-byte store would pass the rows' end.
    for (; k < count - 1; k++, record += stride, row += STAGING_STRIDE) {
      // x y z nx, then z nx ny nz over it: 24 bytes in two 16-byte moves.
      const low = v128.load(record + oX), high = v128.load(record + oX, 8);
      v128.store(row, low);
      v128.store(row, high, 8);
      lo = f32x4.pmin(lo, low);
      hi = f32x4.pmax(hi, low);
      sums = f32x4.add(sums, f32x4.add(f32x4.sub(low, low), f32x4.sub(high, high)));
      // red green blue (and the next byte, unused) as four u32 lanes, to float32, scaled.
      const bytes = i32x4.splat(load<u32>(record + oR));
      const channels = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(bytes));
      v128.store(row, f32x4.mul(f32x4.convert_i32x4_u(channels), scale), 24);
    }
  }
  // Any of these layouts, a row at a time.
  const oY = <usize>load<i32>(plainOffset, SLOT_Y << 2), oZ = <usize>load<i32>(plainOffset, SLOT_Z << 2);
  const oNX = <usize>load<i32>(plainOffset, SLOT_NX << 2), oNY = <usize>load<i32>(plainOffset, SLOT_NY << 2);
  const oNZ = <usize>load<i32>(plainOffset, SLOT_NZ << 2);
  const oG = <usize>load<i32>(plainOffset, SLOT_G << 2), oB = <usize>load<i32>(plainOffset, SLOT_B << 2);
  const nx0 = load<f32>(slots + (SLOT_NX << 2)), ny0 = load<f32>(slots + (SLOT_NY << 2)), nz0 = load<f32>(slots + (SLOT_NZ << 2));
  const r0 = load<f32>(slots + (SLOT_R << 2)), g0 = load<f32>(slots + (SLOT_G << 2)), b0 = load<f32>(slots + (SLOT_B << 2));
  const scale = <f32>UCHAR_COLOR_SCALE;
  if (!normals) sum += (nx0 - nx0) + (ny0 - ny0) + (nz0 - nz0);
  if (!colours) sum += (r0 - r0) + (g0 - g0) + (b0 - b0);
  for (; k < count; k++, record += stride, row += STAGING_STRIDE) {
    const x = load<f32>(record + oX), y = load<f32>(record + oY), z = load<f32>(record + oZ);
    store<f32>(row, x);
    store<f32>(row, y, 4);
    store<f32>(row, z, 8);
    sum += (x - x) + (y - y) + (z - z);
    if (normals) {
      const nx = load<f32>(record + oNX), ny = load<f32>(record + oNY), nz = load<f32>(record + oNZ);
      store<f32>(row, nx, 12);
      store<f32>(row, ny, 16);
      store<f32>(row, nz, 20);
      sum += (nx - nx) + (ny - ny) + (nz - nz);
    } else {
      store<f32>(row, nx0, 12);
      store<f32>(row, ny0, 16);
      store<f32>(row, nz0, 20);
    }
    if (colours) {
      store<f32>(row, <f32>load<u8>(record + oR) * scale, 24);
      store<f32>(row, <f32>load<u8>(record + oG) * scale, 28);
      store<f32>(row, <f32>load<u8>(record + oB) * scale, 32);
    } else {
      store<f32>(row, r0, 24);
      store<f32>(row, g0, 28);
      store<f32>(row, b0, 32);
    }
  }
  begin(start + <usize>count * stride, stop);
  const finite = sum == 0 && !v128.any_true(f32x4.ne(sums, f32x4.splat(0)));
  setWord(MR_FLAGS, finite ? MF_FINITE : 0);
  if (packed && count > 1 && finite) {
    // The last row went the slow way: its x y z nx from its staging row.
    const last = v128.load(staging + <usize>(count - 1) * STAGING_STRIDE);
    knowBox(f32x4.pmin(lo, last), f32x4.pmax(hi, last));
  }
  return S_OK;
}

// Each slot's byte offset in the record, for decodePlainVertices.
const plainOffset: usize = memory.data(SLOT_COUNT * 4, 4);

/** Slots first..last sit at `base`, base + size, base + 2 size...: one after another. */
@inline
function sameOffsets(base: usize, size: usize, first: i32, last: i32): bool {
  for (let s = first; s <= last; s++) {
    if (<usize>load<i32>(plainOffset + (<usize>s << 2)) != base + <usize>(s - first) * size) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// OBJ

@inline
function isBlank(c: u32): bool {
  return c == 32 || c == 9 || c == 11 || c == 12;
}

@inline
function isEol(c: u32): bool {
  return c == 10 || c == 13;
}

/** The end of the line starting at p (the address of its \n or \r, or stop): 16 bytes a step. */
@inline
function lineEnd(p: usize, stop: usize): usize {
  const lf = i8x16.splat(10), cr = i8x16.splat(13);
  while (p + 16 <= stop) {
    const bytes = v128.load(p);
    const mask = i8x16.bitmask(v128.or(i8x16.eq(bytes, lf), i8x16.eq(bytes, cr)));
    if (mask != 0) return p + <usize>ctz<u32>(mask);
    p += 16;
  }
  while (p < stop && !isEol(<u32>load<u8>(p))) p++;
  return p;
}

@inline
function skipBlanks(p: usize, stop: usize): usize {
  while (p < stop && isBlank(<u32>load<u8>(p))) p++;
  return p;
}

/** The token [p, end of token) ends at a blank, the line's end or a comment. */
@inline
function tokenEnd(p: usize, stop: usize): usize {
  while (p < stop) {
    const c = <u32>load<u8>(p);
    if (isBlank(c) || c == 35 /* # */) break;
    p++;
  }
  return p;
}

// Keywords: as little-endian words of up to 8 bytes, with the token length.
const K_V: u64 = 0x76; // v
const K_VN: u64 = 0x6e76; // vn
const K_F: u64 = 0x66; // f

/** The token's bytes as a little-endian number (tokens longer than 8 bytes: 0, never a keyword). */
@inline
function keyword(p: usize, q: usize): u64 {
  const n = q - p;
  if (n == 0 || n > 8) return 0;
  let k: u64 = 0;
  for (let i: usize = 0; i < n; i++) k |= <u64>load<u8>(p + i) << (<u64>i << 3);
  return k;
}

/** Statements headsnet reads past: texture coordinates, groups, materials, lines, free-form geometry. */
function ignored(k: u64, p: usize, q: usize): bool {
  // Compare as strings: few of these lines occur, so plain byte comparison is fast enough.
  const n = <i32>(q - p);
  const names = IGNORED;
  let at: usize = names;
  while (true) {
    const len = <i32>load<u8>(at);
    if (len == 0) return false;
    if (len == n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (load<u8>(at + 1 + <usize>i) != load<u8>(p + <usize>i)) { same = false; break; }
      }
      if (same) return true;
    }
    at += 1 + <usize>len;
  }
  return false;
}

// Length-prefixed names, ending with a zero length.
const IGNORED: usize = memory.data<u8>([
  2, 0x76, 0x74, // vt
  2, 0x76, 0x70, // vp
  1, 0x6f, // o
  1, 0x67, // g
  1, 0x73, // s
  1, 0x6c, // l
  1, 0x70, // p
  6, 0x75, 0x73, 0x65, 0x6d, 0x74, 0x6c, // usemtl
  6, 0x6d, 0x74, 0x6c, 0x6c, 0x69, 0x62, // mtllib
  2, 0x6d, 0x67, // mg
  6, 0x63, 0x73, 0x74, 0x79, 0x70, 0x65, // cstype
  3, 0x64, 0x65, 0x67, // deg
  4, 0x62, 0x6d, 0x61, 0x74, // bmat
  4, 0x73, 0x74, 0x65, 0x70, // step
  4, 0x63, 0x75, 0x72, 0x76, // curv
  5, 0x63, 0x75, 0x72, 0x76, 0x32, // curv2
  4, 0x73, 0x75, 0x72, 0x66, // surf
  4, 0x70, 0x61, 0x72, 0x6d, // parm
  4, 0x74, 0x72, 0x69, 0x6d, // trim
  4, 0x68, 0x6f, 0x6c, 0x65, // hole
  4, 0x73, 0x63, 0x72, 0x76, // scrv
  2, 0x73, 0x70, // sp
  3, 0x65, 0x6e, 0x64, // end
  3, 0x63, 0x6f, 0x6e, // con
  3, 0x6c, 0x6f, 0x64, // lod
  5, 0x62, 0x65, 0x76, 0x65, 0x6c, // bevel
  8, 0x63, 0x5f, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x70, // c_interp
  8, 0x64, 0x5f, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x70, // d_interp
  5, 0x63, 0x74, 0x65, 0x63, 0x68, // ctech
  5, 0x73, 0x74, 0x65, 0x63, 0x68, // stech
  6, 0x6d, 0x61, 0x70, 0x6c, 0x69, 0x62, // maplib
  6, 0x75, 0x73, 0x65, 0x6d, 0x61, 0x70, // usemap
  10, 0x73, 0x68, 0x61, 0x64, 0x6f, 0x77, 0x5f, 0x6f, 0x62, 0x6a, // shadow_obj
  9, 0x74, 0x72, 0x61, 0x63, 0x65, 0x5f, 0x6f, 0x62, 0x6a, // trace_obj
  0,
]);

/**
 * First pass over an OBJ file: counts of "v" and "vn" lines and of the triangles the faces fan
 * into (MR_VERTICES, MR_NORMAL_COUNT, MR_TRIANGLES), so that the second pass writes into arrays
 * of the right size. Checks nothing: objParse() reports every error with its place.
 */
export function objCount(start: usize, stop: usize): i32 {
  let v: i32 = 0, vn: i32 = 0, t: i32 = 0;
  let p = start;
  while (p < stop) {
    const e = lineEnd(p, stop);
    const k0 = skipBlanks(p, e);
    const k1 = tokenEnd(k0, e);
    const k = keyword(k0, k1);
    if (k == K_V) v++;
    else if (k == K_VN) vn++;
    else if (k == K_F) {
      let n: i32 = 0;
      let q = skipBlanks(k1, e);
      while (q < e && load<u8>(q) != 35) {
        n++;
        q = skipBlanks(tokenEnd(q, e), e);
      }
      if (n > 2) t += n - 2;
    }
    p = e + 1;
  }
  setWord(MR_VERTICES, v);
  setWord(MR_NORMAL_COUNT, vn);
  setWord(MR_TRIANGLES, t);
  return ok();
}

// Numbers of the current "v" line.
const lineValues: usize = memory.data(8 * 8, 8);

/** Read the numbers on [p, e) into lineValues (at most 8); returns how many, or -1 on a bad one. */
function readNumbers(p: usize, e: usize): i32 {
  let n: i32 = 0;
  while (true) {
    p = skipBlanks(p, e);
    if (p >= e || load<u8>(p) == 35) return n;
    if (n == 8) { fail(S_BAD_ARITY, p, 9); return -1; }
    const q = tokenEnd(p, e);
    let value = quickNumber(p, q);
    if (!quickDone) {
      begin(p, q);
      value = readAsciiNumber();
      if (status != S_OK || cursor != q) { fail(S_BAD_NUMBER, p, 0); return -1; }
    }
    store<f64>(lineValues + (<usize>n << 3), value);
    n++;
    p = q;
  }
  return n;
}

// Exact powers of ten for quickNumber.
const TENS: usize = memory.data<f64>([
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]);
let quickDone = false;

/**
 * A plain decimal (sign, digits, point, digits, exponent) on [p, q), for values that end up
 * float32: up to 19 significant digits held exactly, then at most two float64 roundings (the
 * mantissa, the power of ten), so within an ulp of float64: the float32 it rounds to is the
 * correctly rounded one unless the decimal lies within two float64 ulps of a float32 midpoint.
 * Exporters' OBJ numbers (and JavaScript's 17-digit ones) all take this path; anything else
 * (nan, inf, more digits, large exponents, malformed) sets quickDone false for the exact parser.
 */
function quickNumber(p: usize, q: usize): f64 {
  quickDone = false;
  let negative = false;
  if (p < q) {
    const c = load<u8>(p);
    if (c == 45) { negative = true; p++; } else if (c == 43) p++;
  }
  let mantissa: u64 = 0;
  let digits: i32 = 0, exp10: i32 = 0;
  let any = false;
  while (p < q) {
    const d = <u32>load<u8>(p) - 48;
    if (d > 9) break;
    any = true;
    if (digits < 19) { mantissa = mantissa * 10 + <u64>d; if (mantissa != 0) digits++; }
    else exp10++;
    p++;
  }
  if (p < q && load<u8>(p) == 46) {
    p++;
    while (p < q) {
      const d = <u32>load<u8>(p) - 48;
      if (d > 9) break;
      any = true;
      if (digits < 19) { mantissa = mantissa * 10 + <u64>d; exp10--; if (mantissa != 0) digits++; }
      p++;
    }
  }
  if (!any) return 0;
  if (p < q && (load<u8>(p) | 32) == 101) {
    p++;
    let expNegative = false;
    if (p < q && load<u8>(p) == 45) { expNegative = true; p++; } else if (p < q && load<u8>(p) == 43) p++;
    let e: i32 = 0;
    let expDigits = false;
    while (p < q) {
      const d = <u32>load<u8>(p) - 48;
      if (d > 9) break;
      expDigits = true;
      if (e < 10000) e = e * 10 + <i32>d;
      p++;
    }
    if (!expDigits) return 0;
    exp10 += expNegative ? -e : e;
  }
  if (p != q || exp10 < -22 || exp10 > 22) return 0;
  let v = <f64>mantissa;
  if (exp10 > 0) v *= load<f64>(TENS + (<usize>exp10 << 3));
  else if (exp10 < 0) v /= load<f64>(TENS + (<usize>(-exp10) << 3));
  quickDone = true;
  return negative ? -v : v;
}

/** A face corner's index: optional sign and digits at [p, q); sets cornerEnd. 0: no digits. */
let cornerEnd: usize = 0;
let cornerOk = true;
function readIndex(p: usize, q: usize): i64 {
  let negative = false;
  if (p < q && load<u8>(p) == 45) { negative = true; p++; }
  let value: i64 = 0;
  let digits = false;
  while (p < q) {
    const c = <u32>load<u8>(p) - 48;
    if (c > 9) break;
    digits = true;
    if (value < 0x100000000) value = value * 10 + <i64>c;
    p++;
  }
  cornerEnd = p;
  cornerOk = digits;
  return negative ? -value : value;
}

/** An OBJ index (1-based, or negative: relative to `defined`) to a 0-based one; -1 if out of range. */
@inline
function resolve(index: i64, defined: i32, total: i32): i32 {
  if (index > 0) return index <= <i64>total ? <i32>(index - 1) : -1;
  if (index < 0) return -index <= <i64>defined ? <i32>(<i64>defined + index) : -1;
  return -1;
}

// Per corner of the current face: vertex index and normal index (-1: none).
const faceVertex: usize = memory.data(FACE_MAX_CORNERS * 4, 4);
const faceNormal: usize = memory.data(FACE_MAX_CORNERS * 4, 4);

/**
 * Second pass: vertices into staging rows at `staging` (colours, when the "v" lines have them, in
 * float 0-1 as written; else the host's default in `color`), normals ("vn") at `normalsAt`
 * (float32 x y z), triangles at `trianglesAt`; `vertexNormal` gets one int32 per vertex: the
 * "vn" its face corners name, -1 for none yet, -2 when corners disagree or name none. The counts
 * are objCount()'s. MR_FLAGS gets MF_COLORS when the file has colours and MF_FILE_NORMALS when
 * every corner names a normal consistently; the host then copies the normals in (objNormals()).
 */
export function objParse(
  start: usize, stop: usize, staging: usize, normalsAt: usize, trianglesAt: usize, vertexNormal: usize,
  vTotal: i32, vnTotal: i32, r: f32, g: f32, b: f32,
): i32 {
  let v: i32 = 0, vn: i32 = 0, t: i32 = 0;
  let colours: i32 = -1; // unknown until the first "v" line
  let consistent = true;
  for (let i: i32 = 0; i < vTotal; i++) store<i32>(vertexNormal + (<usize>i << 2), -1);
  let p = start;
  while (p < stop) {
    const e = lineEnd(p, stop);
    const k0 = skipBlanks(p, e);
    const k1 = tokenEnd(k0, e);
    if (k0 == k1) { p = e + 1; continue; } // blank line or comment
    const k = keyword(k0, k1);
    if (k == K_V) {
      const n = readNumbers(k1, e);
      if (n < 0) return getWord(MR_STATUS);
      if (n != 3 && n != 4 && n != 6) return fail(S_BAD_ARITY, k0, n);
      const hasColour: i32 = n == 6 ? 1 : 0;
      if (colours < 0) colours = hasColour;
      else if (colours != hasColour) return fail(S_MIXED_COLORS, k0, hasColour);
      const row = staging + <usize>v * STAGING_STRIDE;
      for (let c = 0; c < 3; c++) {
        const x = <f32>load<f64>(lineValues + (<usize>c << 3));
        if (!isFinite<f32>(x)) return fail(S_NONFINITE, k0, v);
        store<f32>(row + (<usize>c << 2), x);
      }
      store<f32>(row, 0, 12);
      store<f32>(row, 0, 16);
      store<f32>(row, 0, 20);
      if (hasColour) {
        for (let c = 3; c < 6; c++) {
          const x = <f32>load<f64>(lineValues + (<usize>c << 3));
          if (!isFinite<f32>(x)) return fail(S_NONFINITE, k0, v);
          store<f32>(row + (<usize>(c + 3) << 2), x);
        }
      } else {
        store<f32>(row, r, 24);
        store<f32>(row, g, 28);
        store<f32>(row, b, 32);
      }
      v++;
    } else if (k == K_VN) {
      const n = readNumbers(k1, e);
      if (n < 0) return getWord(MR_STATUS);
      if (n != 3) return fail(S_BAD_ARITY, k0, n);
      const at = normalsAt + <usize>vn * 12;
      for (let c = 0; c < 3; c++) {
        const x = <f32>load<f64>(lineValues + (<usize>c << 3));
        if (!isFinite<f32>(x)) return fail(S_NONFINITE, k0, vn);
        store<f32>(at + (<usize>c << 2), x);
      }
      vn++;
    } else if (k == K_F) {
      let n: i32 = 0;
      let q = skipBlanks(k1, e);
      while (q < e && load<u8>(q) != 35) {
        const end = tokenEnd(q, e);
        if (n == FACE_MAX_CORNERS) return fail(S_BIG_FACE, k0, t);
        // v, v/vt, v//vn or v/vt/vn
        const vi = readIndex(q, end);
        if (!cornerOk) return fail(S_BAD_CORNER, q, 0);
        let ni: i64 = 0;
        let c = cornerEnd;
        if (c < end && load<u8>(c) == 47 /* / */) {
          c++;
          if (c < end && load<u8>(c) != 47) {
            readIndex(c, end); // texture coordinate: checked, not used
            if (!cornerOk) return fail(S_BAD_CORNER, q, 0);
            c = cornerEnd;
          }
          if (c < end && load<u8>(c) == 47) {
            ni = readIndex(c + 1, end);
            if (!cornerOk) return fail(S_BAD_CORNER, q, 0);
            c = cornerEnd;
          }
        }
        if (c != end) return fail(S_BAD_CORNER, q, 0);
        const vr = resolve(vi, v, vTotal);
        if (vr < 0) return fail(S_BAD_INDEX, q, <i32>vi);
        let nr: i32 = -1;
        if (ni != 0) {
          nr = resolve(ni, vn, vnTotal);
          if (nr < 0) return fail(S_BAD_INDEX, q, <i32>ni);
        }
        store<i32>(faceVertex + (<usize>n << 2), vr);
        store<i32>(faceNormal + (<usize>n << 2), nr);
        n++;
        q = skipBlanks(end, e);
      }
      if (n < 3) return fail(S_SHORT_FACE, k0, n);
      for (let j = 0; j < n; j++) {
        const vr = load<i32>(faceVertex + (<usize>j << 2));
        const nr = load<i32>(faceNormal + (<usize>j << 2));
        const slot = vertexNormal + (<usize>vr << 2);
        const seen = load<i32>(slot);
        if (nr < 0) { store<i32>(slot, -2); consistent = false; }
        else if (seen == -1) store<i32>(slot, nr);
        else if (seen != nr && (seen < 0 || !sameNormal(normalsAt, seen, nr))) { store<i32>(slot, -2); consistent = false; }
      }
      const a = <u32>load<i32>(faceVertex);
      for (let j = 1; j + 1 < n; j++, t++) {
        const at = trianglesAt + <usize>t * 12;
        store<u32>(at, a);
        store<u32>(at, <u32>load<i32>(faceVertex + (<usize>j << 2)), 4);
        store<u32>(at, <u32>load<i32>(faceVertex + (<usize>(j + 1) << 2)), 8);
      }
    } else if (!ignored(k, k0, k1)) {
      return fail(S_UNKNOWN_STATEMENT, k0, 0);
    }
    p = e + 1;
  }
  if (v == 0) return fail(S_NO_VERTICES, stop, 0);
  let flags: i32 = colours == 1 ? MF_COLORS : 0;
  if (consistent && t > 0) flags |= MF_FILE_NORMALS;
  setWord(MR_FLAGS, flags);
  setWord(MR_VERTICES, v);
  setWord(MR_TRIANGLES, t);
  setWord(MR_PTR, <i32>staging);
  setWord(MR_PTR2, <i32>trianglesAt);
  return ok();
}

function sameNormal(normalsAt: usize, a: i32, b: i32): bool {
  const p = normalsAt + <usize>a * 12, q = normalsAt + <usize>b * 12;
  return load<u32>(p) == load<u32>(q) && load<u32>(p, 4) == load<u32>(q, 4) && load<u32>(p, 8) == load<u32>(q, 8);
}

/** Copy each vertex's "vn" into its staging row (after objParse() found them consistent). */
export function objNormals(staging: usize, vCount: i32, normalsAt: usize, vertexNormal: usize): void {
  for (let i: i32 = 0; i < vCount; i++) {
    const n = load<i32>(vertexNormal + (<usize>i << 2));
    if (n < 0) continue; // a vertex in no face
    const src = normalsAt + <usize>n * 12, row = staging + <usize>i * STAGING_STRIDE;
    store<f32>(row, load<f32>(src), 12);
    store<f32>(row, load<f32>(src, 4), 16);
    store<f32>(row, load<f32>(src, 8), 20);
  }
}

// ---------------------------------------------------------------------------------------------
// Every mesh

/**
 * Make the vertices and triangles at these addresses the current mesh: check that every value is
 * finite (S_NONFINITE names the vertex; `knownFinite`: decodePlainVertices found them so) and, unless `fileNormals`, compute angle-weighted vertex
 * normals from the triangles, as the HeadsNet kernel computes them from polygons (Blender's way):
 * each corner adds its triangle's unit normal times the corner's angle.
 */
export function finishMesh(v: usize, vCount: i32, t: usize, tCount: i32, fileNormals: bool, knownFinite: bool): i32 {
  setMesh(v, vCount, t, tCount);
  if (vCount == 0) return fail(S_NO_VERTICES, 0, 0);
  if (!knownFinite && !allFinite(v, <usize>vCount * STAGING_STRIDE)) {
    // Some value is not: find the first such vertex, one row at a time.
    for (let i: i32 = 0; i < vCount; i++) {
      const row = vertexAt(<u32>i);
      let sum: f32 = 0;
      for (let c = 0; c < 9; c++) {
        const x = load<f32>(row + (<usize>c << 2));
        sum += x - x;
      }
      if (sum != 0) return fail(S_NONFINITE, 0, i);
    }
  }
  if (!fileNormals) computeNormals();
  setWord(MR_VERTICES, vCount);
  setWord(MR_TRIANGLES, tCount);
  return ok();
}

/**
 * Whether the float32 values at [at, at + bytes) are all finite: x - x is 0 for finite x and NaN
 * for NaN or infinity, and a sum with a NaN stays NaN. Four sums of four lanes, 64 bytes a step.
 */
function allFinite(at: usize, bytes: usize): bool {
  let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
  const stop = at + bytes;
  let p = at;
  for (; p + 64 <= stop; p += 64) {
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    s0 = f32x4.add(s0, f32x4.sub(a, a));
    s1 = f32x4.add(s1, f32x4.sub(b, b));
    s2 = f32x4.add(s2, f32x4.sub(c, c));
    s3 = f32x4.add(s3, f32x4.sub(d, d));
  }
  for (; p + 16 <= stop; p += 16) {
    const a = v128.load(p);
    s0 = f32x4.add(s0, f32x4.sub(a, a));
  }
  let tail: f32 = 0;
  for (; p < stop; p += 4) {
    const x = load<f32>(p);
    tail += x - x;
  }
  const sum = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
  return tail == 0 && !v128.any_true(f32x4.ne(sum, f32x4.splat(0)));
}

function computeNormals(): void {
  for (let i: i32 = 0; i < vertexCount; i++) {
    const row = vertexAt(<u32>i);
    store<f32>(row, 0, 12);
    store<f32>(row, 0, 16);
    store<f32>(row, 0, 20);
  }
  for (let f: i32 = 0; f < triangleCount; f++) {
    const tri = triangles + <usize>f * 12;
    const pa = vertexAt(load<u32>(tri)), pb = vertexAt(load<u32>(tri, 4)), pc = vertexAt(load<u32>(tri, 8));
    const ax = <f64>load<f32>(pa), ay = <f64>load<f32>(pa, 4), az = <f64>load<f32>(pa, 8);
    const bx = <f64>load<f32>(pb), by = <f64>load<f32>(pb, 4), bz = <f64>load<f32>(pb, 8);
    const cx = <f64>load<f32>(pc), cy = <f64>load<f32>(pc, 4), cz = <f64>load<f32>(pc, 8);
    const ux = bx - ax, uy = by - ay, uz = bz - az;
    const wx = cx - ax, wy = cy - ay, wz = cz - az;
    let nx = uy * wz - uz * wy, ny = uz * wx - ux * wz, nz = ux * wy - uy * wx;
    const length = Math.sqrt(nx * nx + ny * ny + nz * nz);
    if (length == 0) continue;
    nx /= length; ny /= length; nz /= length;
    addCorner(pa, nx, ny, nz, bx - ax, by - ay, bz - az, cx - ax, cy - ay, cz - az);
    addCorner(pb, nx, ny, nz, cx - bx, cy - by, cz - bz, ax - bx, ay - by, az - bz);
    addCorner(pc, nx, ny, nz, ax - cx, ay - cy, az - cz, bx - cx, by - cy, bz - cz);
  }
  for (let i: i32 = 0; i < vertexCount; i++) {
    const row = vertexAt(<u32>i);
    const x = <f64>load<f32>(row, 12), y = <f64>load<f32>(row, 16), z = <f64>load<f32>(row, 20);
    const length = Math.sqrt(x * x + y * y + z * z);
    if (length == 0) continue;
    store<f32>(row, <f32>(x / length), 12);
    store<f32>(row, <f32>(y / length), 16);
    store<f32>(row, <f32>(z / length), 20);
  }
}


// PLY header parsing and the numeric layout the kernel decodes with.

import {
  T_NONE, T_I8, T_U8, T_I16, T_U16, T_I32, T_U32, T_F32, T_F64,
  FMT_ASCII, FMT_BINARY_LE, FMT_BINARY_BE,
  SLOT_X, SLOT_Y, SLOT_Z, SLOT_NX, SLOT_NY, SLOT_NZ, SLOT_R, SLOT_G, SLOT_B, SLOT_OPACITY, SLOT_NONE, SLOT_FACE_INDICES,
  LAYOUT_HEADER_WORDS, LAYOUT_PROP_WORDS, LAYOUT_MAX_PROPS, S_TRUNCATED,
} from "./abi.js";
import { errors } from "./errors.js";

/** A header longer than this is not a PLY header. */
export const MAX_HEADER_BYTES = 1 << 20;

export type PlyFormatName = "ascii" | "binary_little_endian" | "binary_big_endian";

export interface PlyProperty {
  name: string;
  type: number; // T_* code; for a list, the item type
  typeName: string;
  countType: number; // T_NONE for a scalar
  countTypeName?: string;
}

export interface PlyElement {
  name: string;
  count: number;
  properties: PlyProperty[];
  /** Bytes per record when every property is a scalar, else 0. */
  stride: number;
}

export interface PlyHeader {
  format: PlyFormatName;
  formatCode: number;
  version: string;
  comments: string[];
  elements: PlyElement[];
  /** Byte offset of the body, just past end_header's line ending. */
  bodyOffset: number;
}

export const TYPE_CODES: Record<string, number> = {
  char: T_I8, int8: T_I8,
  uchar: T_U8, uint8: T_U8,
  short: T_I16, int16: T_I16,
  ushort: T_U16, uint16: T_U16,
  int: T_I32, int32: T_I32,
  uint: T_U32, uint32: T_U32,
  float: T_F32, float32: T_F32,
  double: T_F64, float64: T_F64,
};

export const TYPE_SIZES: Record<number, number> = {
  [T_I8]: 1, [T_U8]: 1, [T_I16]: 2, [T_U16]: 2, [T_I32]: 4, [T_U32]: 4, [T_F32]: 4, [T_F64]: 8,
};

const FORMATS: Record<string, number> = {
  ascii: FMT_ASCII,
  binary_little_endian: FMT_BINARY_LE,
  binary_big_endian: FMT_BINARY_BE,
};

/** Property names that headsnet reads, and the slot each goes to. */
const SLOT_NAMES: Record<string, number> = {
  x: SLOT_X, y: SLOT_Y, z: SLOT_Z,
  nx: SLOT_NX, ny: SLOT_NY, nz: SLOT_NZ,
  normal_x: SLOT_NX, normal_y: SLOT_NY, normal_z: SLOT_NZ,
  red: SLOT_R, green: SLOT_G, blue: SLOT_B,
  r: SLOT_R, g: SLOT_G, b: SLOT_B,
  diffuse_red: SLOT_R, diffuse_green: SLOT_G, diffuse_blue: SLOT_B,
};

/**
 * 3D Gaussian splats (the layout of the 3DGS reference code and of what identity-field head
 * models export): x y z, nx ny nz (always zero), f_dc_0..2 (spherical-harmonic DC terms),
 * f_rest_*, opacity (a logit), scale_*, rot_*, no faces. A vertex element with all three f_dc
 * terms is read so: colours from f_dc (src/splats.ts), the opacity kept for minOpacity, and the
 * normals, which such files hold only as placeholders, ignored, so that they are a point cloud.
 * Deciding from the header costs nothing and does not depend on the values.
 */
const SPLAT_SLOT_NAMES: Record<string, number> = {
  x: SLOT_X, y: SLOT_Y, z: SLOT_Z,
  f_dc_0: SLOT_R, f_dc_1: SLOT_G, f_dc_2: SLOT_B,
  opacity: SLOT_OPACITY,
};
const SPLAT_DC_NAMES = ["f_dc_0", "f_dc_1", "f_dc_2"];

/**
 * Find the end of the header in the first bytes of a file. Returns the body offset, or -1 when
 * `end_header` is not in `bytes` (the caller reads more, up to MAX_HEADER_BYTES).
 */
export function findBodyOffset(bytes: Uint8Array): number {
  const marker = Buffer.from("end_header");
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = buf.indexOf(marker);
  while (at >= 0) {
    // end_header must start a line.
    if (at === 0 || buf[at - 1] === 0x0a || buf[at - 1] === 0x0d) {
      let p = at + marker.length;
      while (p < buf.length && (buf[p] === 0x20 || buf[p] === 0x09)) p++;
      if (p < buf.length && buf[p] === 0x0d) p++;
      if (p < buf.length && buf[p] === 0x0a) return p + 1;
      if (p === buf.length) return -1;
      // "\r" alone ends the line too (classic Mac line endings).
      if (buf[p - 1] === 0x0d) return p;
    }
    at = buf.indexOf(marker, at + 1);
  }
  return -1;
}

/** Parse a PLY header from the file's first bytes (which must include end_header). */
export function parseHeader(bytes: Uint8Array, file: string): PlyHeader {
  if (bytes.byteLength === 0) throw errors.empty(file);
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 4)).toString("latin1");
  if (!/^ply[\r\n]/.test(head)) {
    const firstLine = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 40)).toString("latin1").split(/[\r\n]/)[0];
    throw errors.notPly(file, firstLine);
  }
  const bodyOffset = findBodyOffset(bytes.subarray(0, Math.min(bytes.byteLength, MAX_HEADER_BYTES)));
  if (bodyOffset < 0) {
    const why = bytes.byteLength >= MAX_HEADER_BYTES
      ? `no end_header line in the first ${MAX_HEADER_BYTES} bytes`
      : `no end_header line before the end of the file (${bytes.byteLength} bytes)`;
    throw errors.header(file, why);
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bodyOffset).toString("latin1");
  const lines = text.split(/\r\n|\n|\r/);
  let format: PlyFormatName | undefined;
  let version = "";
  const comments: string[] = [];
  const elements: PlyElement[] = [];
  for (let i = 0; i < lines.length; i++) {
    const place = { line: i + 1 };
    const line = lines[i].trim();
    if (i === 0) continue; // "ply"
    if (line === "") continue;
    const words = line.split(/\s+/);
    const keyword = words[0];
    if (keyword === "end_header") break;
    if (keyword === "comment" || keyword === "obj_info") {
      comments.push(line.slice(keyword.length).trim());
      continue;
    }
    if (keyword === "format") {
      if (words.length !== 3 || !(words[1] in FORMATS)) {
        throw errors.header(file, `unknown format ${JSON.stringify(line)}; expected "format ascii|binary_little_endian|binary_big_endian 1.0"`, place);
      }
      if (words[2] !== "1.0" && words[2] !== "1") {
        throw errors.header(file, `unsupported PLY version ${words[2]}; expected 1.0`, place);
      }
      format = words[1] as PlyFormatName;
      version = words[2];
      continue;
    }
    if (keyword === "element") {
      const count = Number(words[2]);
      if (words.length !== 3 || !Number.isSafeInteger(count) || count < 0) {
        throw errors.header(file, `expected "element NAME COUNT" with a count of 0 or more, found ${JSON.stringify(line)}`, place);
      }
      elements.push({ name: words[1], count, properties: [], stride: 0 });
      continue;
    }
    if (keyword === "property") {
      const element = elements[elements.length - 1];
      if (!element) throw errors.header(file, `property before any element: ${JSON.stringify(line)}`, place);
      if (words[1] === "list") {
        const countType = TYPE_CODES[words[2]];
        const itemType = TYPE_CODES[words[3]];
        if (words.length !== 5 || countType === undefined || itemType === undefined) {
          throw errors.header(file, `expected "property list COUNT_TYPE ITEM_TYPE NAME" with PLY types, found ${JSON.stringify(line)}`, place);
        }
        if (countType === T_F32 || countType === T_F64) {
          throw errors.header(file, `a list count must have an integer type, found ${words[2]}`, place);
        }
        element.properties.push({ name: words[4], type: itemType, typeName: words[3], countType, countTypeName: words[2] });
      } else {
        const type = TYPE_CODES[words[1]];
        if (words.length !== 3 || type === undefined) {
          throw errors.header(file, `expected "property TYPE NAME" with a PLY type (char uchar short ushort int uint float double, or int8 … float64), found ${JSON.stringify(line)}`, place);
        }
        element.properties.push({ name: words[2], type, typeName: words[1], countType: T_NONE });
      }
      continue;
    }
    throw errors.header(file, `unknown header line ${JSON.stringify(line)}`, place);
  }
  if (!format) throw errors.header(file, `no "format" line`);
  for (const element of elements) {
    element.stride = element.properties.every((p) => p.countType === T_NONE)
      ? element.properties.reduce((sum, p) => sum + TYPE_SIZES[p.type], 0)
      : 0;
  }
  return { format, formatCode: FORMATS[format], version, comments, elements, bodyOffset };
}

export interface VertexLayout {
  /** i32 words for the kernel (see LAYOUT_* in abi.ts). */
  words: Int32Array;
  vertexCount: number;
  /** Elements before the vertex element, each with its own (all-skip) layout. */
  skip: { name: string; count: number; words: Int32Array }[];
  hasNormals: boolean;
  hasColors: boolean;
  /** 3D Gaussian splats (see SPLAT_SLOT_NAMES): colours from f_dc, normals ignored. */
  splats?: { hasOpacity: boolean };
  /** The fewest bytes one vertex record can take (an ASCII number takes at least two). */
  minVertexBytes: number;
  /** Binary files whose elements up to the vertices have fixed records: where the vertices end. */
  vertexEnd?: number;
  /** The face element, for computing normals: the elements between it and the vertices, and
   * its layout with SLOT_FACE_INDICES on the vertex index list. */
  faces?: { count: number; words: Int32Array; between: { name: string; count: number; words: Int32Array }[] };
}

const FACE_INDEX_NAMES = ["vertex_indices", "vertex_index"];

function layoutWords(format: number, element: PlyElement, slotOf: (p: PlyProperty) => number, file: string): Int32Array {
  if (element.properties.length > LAYOUT_MAX_PROPS) {
    throw errors.header(file, `element "${element.name}" has ${element.properties.length} properties; at most ${LAYOUT_MAX_PROPS} are supported`);
  }
  const words = new Int32Array(LAYOUT_HEADER_WORDS + LAYOUT_PROP_WORDS * element.properties.length);
  words[0] = format;
  words[1] = element.stride;
  words[2] = element.properties.length;
  let offset = 0;
  element.properties.forEach((p, k) => {
    const at = LAYOUT_HEADER_WORDS + LAYOUT_PROP_WORDS * k;
    words[at] = p.type;
    words[at + 1] = p.countType;
    words[at + 2] = slotOf(p);
    words[at + 3] = offset;
    if (p.countType === T_NONE) offset += TYPE_SIZES[p.type];
  });
  return words;
}

/** What the kernel needs to decode this file's vertices. */
export function vertexLayout(header: PlyHeader, file: string): VertexLayout {
  const index = header.elements.findIndex((e) => e.name === "vertex");
  if (index < 0) throw errors.noVertex(file);
  const vertex = header.elements[index];
  const scalar = (name: string) => vertex.properties.some((p) => p.name === name && p.countType === T_NONE);
  const dcTerms = SPLAT_DC_NAMES.filter(scalar).length;
  if (dcTerms !== 0 && dcTerms !== 3) throw errors.missingProperty(file, `the vertex element has only some of f_dc_0, f_dc_1, f_dc_2 (3D Gaussian splats' colours)`);
  const splats = dcTerms === 3;
  const names = splats ? SPLAT_SLOT_NAMES : SLOT_NAMES;
  const seen = new Map<number, PlyProperty>();
  for (const p of vertex.properties) {
    const slot = names[p.name];
    if (slot === undefined || p.countType !== T_NONE) continue;
    if (seen.has(slot)) throw errors.header(file, `vertex property "${p.name}" duplicates "${seen.get(slot)!.name}"`);
    if (slot >= SLOT_R && slot <= SLOT_B && (p.type === T_I32 || p.type === T_U32)) {
      throw errors.header(file, `colour property "${p.name}" is ${p.typeName}; expected uchar, ushort, float or double`);
    }
    if (splats && slot >= SLOT_R && p.type !== T_F32 && p.type !== T_F64) {
      throw errors.header(file, `3D Gaussian splat property "${p.name}" is ${p.typeName}; expected float or double`);
    }
    seen.set(slot, p);
  }
  const missing = ["x", "y", "z"].filter((_, k) => !seen.has(k));
  if (missing.length) {
    throw errors.missingProperty(file, `the vertex element has no ${missing.join(", ")} propert${missing.length > 1 ? "ies" : "y"}; positions are required`);
  }
  const normals = [SLOT_NX, SLOT_NY, SLOT_NZ].filter((s) => seen.has(s)).length;
  const colors = [SLOT_R, SLOT_G, SLOT_B].filter((s) => seen.has(s)).length;
  if (normals !== 0 && normals !== 3) throw errors.missingProperty(file, `the vertex element has only some of nx, ny, nz`);
  if (colors !== 0 && colors !== 3) throw errors.missingProperty(file, `the vertex element has only some of red, green, blue`);
  const slotOf = (p: PlyProperty) => {
    const slot = names[p.name];
    return slot !== undefined && p.countType === T_NONE && seen.get(slot) === p ? slot : SLOT_NONE;
  };
  const skip = header.elements.slice(0, index).map((e) => ({
    name: e.name, count: e.count, words: layoutWords(header.formatCode, e, () => SLOT_NONE, file),
  }));
  const minVertexBytes = header.formatCode === FMT_ASCII
    ? 2 * vertex.properties.length
    : vertex.properties.reduce((sum, p) => sum + TYPE_SIZES[p.countType === T_NONE ? p.type : p.countType], 0);
  const faceIndex = header.elements.findIndex((e, k) => k > index && e.name === "face");
  let faces: VertexLayout["faces"];
  if (faceIndex >= 0) {
    const face = header.elements[faceIndex];
    const list = face.properties.find((p) => p.countType !== T_NONE && FACE_INDEX_NAMES.includes(p.name));
    if (list) {
      if (list.type === T_F32 || list.type === T_F64) throw errors.header(file, `face property "${list.name}" holds ${list.typeName}; vertex indices must be integers`);
      faces = {
        count: face.count,
        words: layoutWords(header.formatCode, face, (p) => (p === list ? SLOT_FACE_INDICES : SLOT_NONE), file),
        between: header.elements.slice(index + 1, faceIndex).map((e) => ({
          name: e.name, count: e.count, words: layoutWords(header.formatCode, e, () => SLOT_NONE, file),
        })),
      };
    }
  }
  const fixedThroughVertices = header.formatCode !== FMT_ASCII && header.elements.slice(0, index + 1).every((e) => e.stride > 0 || e.count === 0);
  const vertexEnd = fixedThroughVertices
    ? header.bodyOffset + header.elements.slice(0, index + 1).reduce((sum, e) => sum + e.count * e.stride, 0)
    : undefined;
  return {
    vertexEnd,
    words: layoutWords(header.formatCode, vertex, slotOf, file),
    vertexCount: vertex.count,
    skip,
    hasNormals: normals === 3,
    hasColors: colors === 3,
    splats: splats ? { hasOpacity: seen.has(SLOT_OPACITY) } : undefined,
    minVertexBytes,
    faces,
  };
}

/** What a PLY file holds: a mesh (faces), a point cloud (no faces), or 3D Gaussian splats. */
export type InputKind = "mesh" | "point cloud" | "gaussian splats";

export function inputKind(layout: VertexLayout): InputKind {
  return layout.splats ? "gaussian splats" : layout.faces ? "mesh" : "point cloud";
}

/** The header's elements as they read in the header: "float x", "list uchar uint vertex_indices". */
export function describeElements(header: PlyHeader): { name: string; count: number; properties: string[] }[] {
  return header.elements.map((e) => ({
    name: e.name,
    count: e.count,
    properties: e.properties.map((p) => (p.countTypeName ? `list ${p.countTypeName} ${p.typeName} ${p.name}` : `${p.typeName} ${p.name}`)),
  }));
}

/**
 * A vertex count the body cannot hold fails here, before anything is allocated for it: with
 * fixed-size records, at the first incomplete vertex. `start` and `end` bound the vertex
 * element's bytes; `base` is the file's first byte (offsets in errors are the file's).
 */
export function checkVertexCount(header: PlyHeader, layout: VertexLayout, start: number, end: number, base: number, file: string): void {
  const count = layout.vertexCount;
  if (count * layout.minVertexBytes <= end - start) return;
  const stride = header.formatCode === FMT_ASCII ? 0 : layout.words[1];
  if (stride === 0) throw errors.bodyTooShort(file, count, end - start, layout.minVertexBytes, start - base);
  const vertex = Math.floor((end - start) / stride);
  throw errors.kernel(S_TRUNCATED, file, { offset: start - base + vertex * stride, vertex, count });
}

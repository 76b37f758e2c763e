// The triangles of a PLY mesh, for drawing it as a surface: walks the body element by element
// (ASCII or binary, lists included) and fans each face's vertex_indices into triangles.
// Throws on anything it cannot follow; the viewer then shows the vertices as points.

import { T_NONE, T_I8, T_U8, T_I16, T_U16, T_I32, T_U32, T_F32, T_F64, FMT_ASCII, FMT_BINARY_LE } from "../abi.js";
import { TYPE_SIZES, type PlyHeader } from "../ply-header.js";

const FACE_LISTS = ["vertex_indices", "vertex_index"];

export function readPlyFaces(data: Uint8Array, header: PlyHeader, vertexCount: number): Uint32Array | undefined {
  const faceAt = header.elements.findIndex((e) => e.name === "face");
  if (faceAt < 0) return undefined;
  const face = header.elements[faceAt];
  const listAt = face.properties.findIndex((p) => p.countType !== T_NONE && FACE_LISTS.includes(p.name));
  if (listAt < 0 || face.count === 0) return undefined;
  const reader = header.formatCode === FMT_ASCII ? asciiReader(data, header.bodyOffset) : binaryReader(data, header.bodyOffset, header.formatCode === FMT_BINARY_LE);
  // Skip everything before the faces: fixed-size binary elements in one step.
  for (let e = 0; e < faceAt; e++) {
    const element = header.elements[e];
    if (reader.skipBytes && element.stride > 0) {
      reader.skipBytes(element.stride * element.count);
      continue;
    }
    for (let r = 0; r < element.count; r++) {
      for (const p of element.properties) {
        if (p.countType === T_NONE) reader.read(p.type);
        else {
          const n = reader.read(p.countType);
          for (let k = 0; k < n; k++) reader.read(p.type);
        }
      }
    }
  }
  const triangles: number[] = [];
  const polygon: number[] = [];
  for (let r = 0; r < face.count; r++) {
    face.properties.forEach((p, k) => {
      if (p.countType === T_NONE) {
        reader.read(p.type);
        return;
      }
      const n = reader.read(p.countType);
      if (!Number.isInteger(n) || n < 0) throw new Error(`face ${r}: bad list count ${n}`);
      if (k !== listAt) {
        for (let j = 0; j < n; j++) reader.read(p.type);
        return;
      }
      polygon.length = 0;
      for (let j = 0; j < n; j++) {
        const v = reader.read(p.type);
        if (!Number.isInteger(v) || v < 0 || v >= vertexCount) throw new Error(`face ${r}: vertex index ${v} out of range`);
        polygon.push(v);
      }
      for (let j = 1; j + 1 < polygon.length; j++) triangles.push(polygon[0], polygon[j], polygon[j + 1]);
    });
  }
  return Uint32Array.from(triangles);
}

interface Reader {
  read(type: number): number;
  skipBytes?: (n: number) => void;
}

function binaryReader(data: Uint8Array, start: number, little: boolean): Reader {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = start;
  return {
    read(type: number): number {
      const size = TYPE_SIZES[type];
      if (at + size > data.byteLength) throw new Error("the file ends inside the face list");
      let v: number;
      switch (type) {
        case T_I8: v = view.getInt8(at); break;
        case T_U8: v = view.getUint8(at); break;
        case T_I16: v = view.getInt16(at, little); break;
        case T_U16: v = view.getUint16(at, little); break;
        case T_I32: v = view.getInt32(at, little); break;
        case T_U32: v = view.getUint32(at, little); break;
        case T_F32: v = view.getFloat32(at, little); break;
        case T_F64: v = view.getFloat64(at, little); break;
        default: throw new Error(`type ${type}`);
      }
      at += size;
      return v;
    },
    skipBytes(n: number) {
      at += n;
    },
  };
}

function asciiReader(data: Uint8Array, start: number): Reader {
  let at = start;
  return {
    read(): number {
      while (at < data.length && data[at] <= 0x20) at++;
      const begin = at;
      while (at < data.length && data[at] > 0x20) at++;
      if (begin === at) throw new Error("the file ends inside the face list");
      let text = "";
      for (let i = begin; i < at; i++) text += String.fromCharCode(data[i]);
      const v = Number(text);
      if (Number.isNaN(v)) throw new Error(`not a number: ${text}`);
      return v;
    },
  };
}

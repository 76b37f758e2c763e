// Metamorphic: the same mesh written every way PLY allows gives identical rows.

import { describe, it, expect, beforeAll } from "vitest";
import { Kernel, type CompiledFile } from "../src/kernel.js";
import { generateIcosphere } from "../src/icosphere.js";
import { writePly, type PlyElementSpec, type PlyFormat } from "../src/ply-write.js";
import { synthHead, type SynthMesh } from "../src/synth.js";

type Column = { name: string; type: string; data: ArrayLike<number> };

function columns(mesh: SynthMesh, positionType = "float"): Column[] {
  const n = mesh.positions.length / 3;
  const pick = (a: ArrayLike<number>, stride: number, k: number) => Float64Array.from({ length: n }, (_, i) => a[i * stride + k]);
  return [
    { name: "x", type: positionType, data: pick(mesh.positions, 3, 0) },
    { name: "y", type: positionType, data: pick(mesh.positions, 3, 1) },
    { name: "z", type: positionType, data: pick(mesh.positions, 3, 2) },
    { name: "nx", type: "float", data: pick(mesh.normals, 3, 0) },
    { name: "ny", type: "float", data: pick(mesh.normals, 3, 1) },
    { name: "nz", type: "float", data: pick(mesh.normals, 3, 2) },
    { name: "red", type: "uchar", data: pick(mesh.colors, 4, 0) },
    { name: "green", type: "uchar", data: pick(mesh.colors, 4, 1) },
    { name: "blue", type: "uchar", data: pick(mesh.colors, 4, 2) },
    { name: "alpha", type: "uchar", data: pick(mesh.colors, 4, 3) },
  ];
}

function faces(mesh: SynthMesh): PlyElementSpec {
  const count = mesh.faces.length / 3;
  return {
    name: "face",
    count,
    properties: [{ name: "vertex_indices", countType: "uchar", itemType: "uint", data: Array.from({ length: count }, (_, f) => mesh.faces.subarray(3 * f, 3 * f + 3)) }],
  };
}

function ply(mesh: SynthMesh, format: PlyFormat, cols: Column[], extra: { before?: PlyElementSpec[]; lineEnding?: "\n" | "\r\n"; comments?: string[] } = {}): Uint8Array {
  const n = mesh.positions.length / 3;
  return writePly({
    format,
    comments: extra.comments,
    lineEnding: extra.lineEnding,
    elements: [...(extra.before ?? []), { name: "vertex", count: n, properties: cols }, faces(mesh)],
  });
}

describe("the same mesh in every PLY layout gives identical rows", () => {
  let kernel: Kernel;
  let mesh: SynthMesh;
  let baseline: CompiledFile;
  const compile = (bytes: Uint8Array, label: string, options = {}) => kernel.compileBytes(bytes, label, 0.25, options);

  beforeAll(() => {
    kernel = new Kernel(generateIcosphere(5), { build: "debug" });
    mesh = synthHead({ vertices: 3000, seed: 11 });
    baseline = compile(ply(mesh, "binary_little_endian", columns(mesh)), "blender.ply");
    expect(baseline.rows).toBe(3000);
  });

  const variants: [string, () => Uint8Array][] = [
    ["ASCII", () => ply(mesh, "ascii", columns(mesh))],
    ["binary big-endian", () => ply(mesh, "binary_big_endian", columns(mesh))],
    ["properties in reverse order", () => ply(mesh, "binary_little_endian", columns(mesh).reverse())],
    ["properties shuffled, ASCII", () => {
      const c = columns(mesh);
      return ply(mesh, "ascii", [c[6], c[2], c[9], c[4], c[0], c[8], c[3], c[1], c[7], c[5]]);
    }],
    ["extra properties of every type", () => {
      const n = mesh.positions.length / 3;
      const c = columns(mesh);
      const ramp = (k: number) => Float64Array.from({ length: n }, (_, i) => (i * k) % 100);
      return ply(mesh, "binary_little_endian", [
        { name: "quality", type: "double", data: ramp(3) }, ...c.slice(0, 3),
        { name: "u", type: "int8", data: ramp(1) }, { name: "v", type: "uint16", data: ramp(7) },
        ...c.slice(3, 6), { name: "flags", type: "int", data: ramp(13) }, { name: "k", type: "uint", data: ramp(5) },
        ...c.slice(6), { name: "s", type: "short", data: ramp(2) },
      ]);
    }],
    ["double positions", () => ply(mesh, "binary_little_endian", columns(mesh, "double"))],
    ["float32/uint8 type names, big-endian", () => ply(mesh, "binary_big_endian", columns(mesh).map((c) => ({ ...c, type: c.type === "float" ? "float32" : "uint8" })))],
    ["elements with list properties before the vertices", () => ply(mesh, "binary_little_endian", columns(mesh), {
      before: [
        { name: "material", count: 3, properties: [{ name: "id", type: "int", data: [1, 2, 3] }, { name: "name", countType: "uchar", itemType: "char", data: [[65, 66], [], [67, 68, 69]] }] },
      ],
    })],
    ["elements with list properties before the vertices, ASCII", () => ply(mesh, "ascii", columns(mesh), {
      before: [{ name: "material", count: 2, properties: [{ name: "name", countType: "int", itemType: "float", data: [[1.5, 2], [3]] }] }],
    })],
    ["CRLF header lines, comments and obj_info", () => ply(mesh, "binary_little_endian", columns(mesh), { lineEnding: "\r\n", comments: ["made by a test", "second comment"] })],
  ];

  for (const [name, make] of variants) {
    it(name, () => {
      const out = compile(make(), `${name}.ply`);
      expect(out.rows).toBe(baseline.rows);
      expect(Buffer.from(out.y.buffer).equals(Buffer.from(baseline.y.buffer))).toBe(true);
      expect(Buffer.from(out.x.buffer).equals(Buffer.from(baseline.x.buffer))).toBe(true);
    });
  }

  it("a vertex list property is skipped", () => {
    const n = mesh.positions.length / 3;
    const cols = columns(mesh);
    const bytes = writePly({
      format: "binary_little_endian",
      elements: [{
        name: "vertex", count: n,
        properties: [...cols.slice(0, 5), { name: "tags", countType: "uchar", itemType: "float", data: Array.from({ length: n }, (_, i) => new Array(i % 4).fill(i)) }, ...cols.slice(5)],
      }],
    });
    const out = compile(bytes, "vertex-list.ply");
    expect(Buffer.from(out.y.buffer).equals(Buffer.from(baseline.y.buffer))).toBe(true);
    expect(Buffer.from(out.x.buffer).equals(Buffer.from(baseline.x.buffer))).toBe(true);
  });

  it("float colours are used as they are; uchar colours times float32 0.003921569", () => {
    const cols = columns(mesh).map((c) => (["red", "green", "blue"].includes(c.name)
      ? { ...c, type: "float", data: Float64Array.from(c.data as ArrayLike<number>, (v) => Math.fround(Math.fround(v) * Math.fround(0.003921569))) }
      : c));
    const out = compile(ply(mesh, "binary_little_endian", cols), "float-colours.ply");
    expect(Buffer.from(out.y.buffer).equals(Buffer.from(baseline.y.buffer))).toBe(true);
    expect(baseline.y[3]).toBe(Math.fround(Math.fround(mesh.colors[0]) * Math.fround(0.003921569)));
  });

  it("--inputs 5 appends the negated normal and keeps the first two columns", () => {
    const out = compile(ply(mesh, "binary_little_endian", columns(mesh)), "blender.ply", { inputs: 5 });
    for (let r = 0; r < out.rows; r++) {
      expect(out.x[5 * r]).toBe(baseline.x[2 * r]);
      expect(out.x[5 * r + 1]).toBe(baseline.x[2 * r + 1]);
      for (let c = 0; c < 3; c++) expect(out.x[5 * r + 2 + c]).toBe(-mesh.normals[3 * r + c]);
    }
  });
});

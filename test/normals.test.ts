// Normals computed from faces, and --normalize fit.

import { describe, it, expect, beforeAll } from "vitest";
import { Kernel } from "../src/kernel.js";
import { generateIcosphere } from "../src/icosphere.js";
import { writePly } from "../src/ply-write.js";
import { synthHead, type SynthMesh } from "../src/synth.js";
import { FIT_RADIUS } from "../src/kernel.js";

function meshPly(mesh: SynthMesh, opts: { normals?: boolean; faces?: number[][]; countType?: string; indexType?: string } = {}): Uint8Array {
  const n = mesh.positions.length / 3;
  const col = (a: ArrayLike<number>, stride: number, k: number) => Float64Array.from({ length: n }, (_, i) => a[i * stride + k]);
  const faces = opts.faces ?? Array.from({ length: mesh.faces.length / 3 }, (_, f) => Array.from(mesh.faces.subarray(3 * f, 3 * f + 3)));
  return writePly({
    format: "binary_little_endian",
    elements: [
      {
        name: "vertex", count: n,
        properties: [
          { name: "x", type: "float", data: col(mesh.positions, 3, 0) },
          { name: "y", type: "float", data: col(mesh.positions, 3, 1) },
          { name: "z", type: "float", data: col(mesh.positions, 3, 2) },
          ...(opts.normals === false ? [] : [
            { name: "nx", type: "float", data: col(mesh.normals, 3, 0) },
            { name: "ny", type: "float", data: col(mesh.normals, 3, 1) },
            { name: "nz", type: "float", data: col(mesh.normals, 3, 2) },
          ]),
          { name: "red", type: "uchar", data: col(mesh.colors, 4, 0) },
          { name: "green", type: "uchar", data: col(mesh.colors, 4, 1) },
          { name: "blue", type: "uchar", data: col(mesh.colors, 4, 2) },
        ],
      },
      { name: "edge", count: 1, properties: [{ name: "vertex1", type: "int", data: [0] }] },
      { name: "face", count: faces.length, properties: [{ name: "vertex_indices", countType: opts.countType ?? "uchar", itemType: opts.indexType ?? "uint", data: faces }] },
    ],
  });
}

/** The normal each row was traced along, from the x rows of an --inputs 5 compile. */
const normalsOf = (x: Float32Array) => Array.from({ length: x.length / 5 }, (_, r) => [-x[5 * r + 2], -x[5 * r + 3], -x[5 * r + 4]]);

describe("normals computed from faces", () => {
  let kernel: Kernel;
  let mesh: SynthMesh;
  beforeAll(() => {
    kernel = new Kernel(generateIcosphere(4), { build: "debug" });
    mesh = synthHead({ vertices: 6000, seed: 5 });
  });

  it("match the file's (angle-weighted) normals on a smooth mesh", () => {
    const fromFile = kernel.compileBytes(meshPly(mesh), "file.ply", 0.5, { inputs: 5 });
    const computed = kernel.compileBytes(meshPly(mesh), "compute.ply", 0.5, { inputs: 5, normals: "compute" });
    expect(fromFile.normals).toBe("file");
    expect(computed.normals).toBe("computed");
    const a = normalsOf(fromFile.x), b = normalsOf(computed.x);
    let worst = 1;
    for (let r = 0; r < a.length; r++) {
      worst = Math.min(worst, a[r][0] * b[r][0] + a[r][1] * b[r][1] + a[r][2] * b[r][2]);
      expect(Math.hypot(...b[r])).toBeCloseTo(1, 5);
    }
    expect(worst).toBeGreaterThan(0.99999);
    // Same positions and colours, and (almost always) the same icosphere vertex.
    expect(Buffer.from(computed.y.buffer).equals(Buffer.from(fromFile.y.buffer))).toBe(true);
    let sameIndex = 0;
    for (let r = 0; r < a.length; r++) if (computed.x[5 * r + 1] === fromFile.x[5 * r + 1]) sameIndex++;
    expect(sameIndex / a.length).toBeGreaterThan(0.99);
  });

  it("are computed when the file has none (--normals auto), and are unit length", () => {
    const out = kernel.compileBytes(meshPly(mesh, { normals: false }), "bare.ply", 0.5, { inputs: 5 });
    expect(out.normals).toBe("computed");
    const reference = kernel.compileBytes(meshPly(mesh), "file.ply", 0.5, { inputs: 5 });
    const a = normalsOf(out.x), b = normalsOf(reference.x);
    for (let r = 0; r < a.length; r += 97) expect(a[r][0] * b[r][0] + a[r][1] * b[r][1] + a[r][2] * b[r][2]).toBeGreaterThan(0.99999);
  });

  it("treat polygons as polygons: quads give the normals of their triangle split on a flat grid", () => {
    // A 4 x 4 grid of quads in the plane z = 0.3, counter-clockwise: every normal is +z.
    const size = 5;
    const positions = new Float32Array(size * size * 3);
    for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) positions.set([i * 0.1 - 0.2, j * 0.1 - 0.2, 0.3], 3 * (i * size + j));
    const quads: number[][] = [];
    for (let i = 0; i < size - 1; i++) for (let j = 0; j < size - 1; j++) {
      const a = i * size + j;
      quads.push([a, a + size, a + size + 1, a + 1]);
    }
    const flat: SynthMesh = { positions, normals: new Float32Array(positions.length), colors: new Uint8Array(size * size * 4).fill(200), faces: new Uint32Array(0) };
    const out = kernel.compileBytes(meshPly(flat, { normals: false, faces: quads, countType: "int", indexType: "short" }), "quads.ply", 0.5, { inputs: 5 });
    for (const n of normalsOf(out.x)) expect(n).toEqual([-0, -0, 1].map((v) => v + 0));
  });

  it("a face index out of range is an error naming the file, the face and the byte", () => {
    const bad = mesh.faces.slice();
    bad[3 * 10 + 1] = 6000;
    const bytes = meshPly({ ...mesh, faces: bad }, { normals: false });
    expect(() => kernel.compileBytes(bytes, "bad-index.ply", 0.5)).toThrow(/^bad-index\.ply: face 10 refers to a vertex that does not exist \(byte \d+, vertex 10\)/);
  });

  it("a point cloud (no normals, no faces) compiles: legacy keeps each point, ray traces it out from the centre", () => {
    const n = mesh.positions.length / 3;
    const bytes = writePly({
      format: "ascii",
      elements: [{ name: "vertex", count: n, properties: ["x", "y", "z", "red", "green", "blue"].map((name, k) => ({ name, type: k < 3 ? "float" : "uchar", data: Float64Array.from({ length: n }, (_, i) => (k < 3 ? mesh.positions[3 * i + k] : 128)) })) }],
    });
    const legacy = kernel.compileBytes(bytes, "cloud.ply", 0.5);
    const ray = kernel.compileBytes(bytes, "cloud.ply", 0.5, { projection: "ray" });
    expect([legacy.rows, ray.rows, legacy.normals, ray.normals]).toEqual([n, n, "none", "none"]);
    const recip = Math.fround(1 / Math.fround(3 * kernel.icosphere.count));
    for (let i = 0; i < n; i++) {
      const v = Array.from(legacy.y.subarray(6 * i, 6 * i + 3));
      // Zero normals: the reference's step leaves the point where it is.
      expect(legacy.x[2 * i + 1]).toBe(Math.fround(Math.fround(3 * kernel.nearestBrute(v[0], v[1], v[2])) * recip));
      const r = Math.hypot(v[0], v[1], v[2]);
      const radial = v.map((c) => Math.fround(c / r));
      const index = kernel.nearestBrute(radial[0], radial[1], radial[2]);
      expect(ray.x[2 * i + 1]).toBe(Math.fround(Math.fround(3 * index) * recip));
    }
  });

  it("--normals file needs the file's normals", () => {
    expect(() => kernel.compileBytes(meshPly(mesh, { normals: false }), "m.ply", 0.5, { normals: "file" })).toThrow(/m\.ply: `normals` file needs nx, ny, nz vertex properties/);
  });
});

describe("--normalize fit", () => {
  it("centres the bounding box and scales the largest half-extent to 0.55", () => {
    const kernel = new Kernel(generateIcosphere(3), { build: "debug" });
    const mesh = synthHead({ vertices: 3000, seed: 8 });
    const big: SynthMesh = { ...mesh, positions: mesh.positions.map((v, i) => v * 40 + (i % 3 === 0 ? 7 : -3)) };
    const out = kernel.compileBytes(meshPly(big), "big.ply", 0.5, { normalize: "fit" });
    const min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
    for (let r = 0; r < out.rows; r++) for (let c = 0; c < 3; c++) {
      min[c] = Math.min(min[c], out.y[6 * r + c]);
      max[c] = Math.max(max[c], out.y[6 * r + c]);
    }
    const half = [0, 1, 2].map((c) => (max[c] - min[c]) / 2);
    expect(Math.max(...half)).toBeCloseTo(FIT_RADIUS, 5);
    for (let c = 0; c < 3; c++) expect(Math.abs(min[c] + max[c]) / 2).toBeLessThan(1e-5);
    // The same mesh at its own scale fits to the same rows (up to float32 rounding).
    const same = kernel.compileBytes(meshPly(mesh), "small.ply", 0.5, { normalize: "fit" });
    let far = 0;
    for (let k = 0; k < out.y.length; k++) far = Math.max(far, Math.abs(out.y[k] - same.y[k]));
    expect(far).toBeLessThan(1e-5);
  });
});

// The mesh kernel's PLY loading fast paths give what the general readers give: decodePlainVertices
// (binary little-endian float xyz, float normals, uchar colours, in any order, among other
// properties) the same staging rows as decodeVertices, on every layout it takes and declining every
// other; the triangle run the same triangles and errors as the per-face reader; finishMesh's
// finite check the same first bad vertex.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { MeshKernel, type LoadOptions } from "../src/mesh/kernel.js";
import { synthHead, type SynthMesh } from "../src/synth.js";
import { writePly, type PlyFormat } from "../src/ply-write.js";
import { S_OK } from "../src/abi.js";

/** Generous: real work runs here, and the machine may be busy. */
const TIMEOUT = 180_000;
vi.setConfig({ testTimeout: TIMEOUT, hookTimeout: TIMEOUT });

type Column = { name: string; type: string; data: ArrayLike<number> } | { name: string; countType: string; itemType: string; data: number[][] };

/**
 * A kernel whose decodePlainVertices calls are counted (`plain`: how many wrote the rows), or,
 * with `general`, always decline, so that decodeVertices reads every file.
 */
function instrumented(build: "release" | "debug", general: boolean): { kernel: MeshKernel; plain: () => number } {
  const kernel = new MeshKernel({ build });
  const inner = kernel as unknown as { wasm: Record<string, unknown> };
  const exports = inner.wasm;
  const wasm: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(exports)) wasm[key] = exports[key];
  const decodePlain = exports.decodePlainVertices as (...a: number[]) => number;
  let plain = 0;
  wasm.decodePlainVertices = (...a: number[]) => {
    if (general) return -1;
    const status = decodePlain(...a);
    if (status === S_OK) plain++;
    return status;
  };
  inner.wasm = wasm;
  return { kernel, plain: () => plain };
}

/** As hex: a mismatch shows as one string, and comparing is quick. */
const bytesOf = (a: Float32Array | Uint32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex");

/** The loaded mesh's rows and triangles, bit for bit, and its facts. */
function snapshot(kernel: MeshKernel) {
  const a = kernel.arrays();
  return { info: kernel.info, positions: bytesOf(a.positions), normals: bytesOf(a.normals), colors: bytesOf(a.colors), triangles: bytesOf(a.triangles) };
}

/** What loading gives: the snapshot, or the error's message. */
function outcome(kernel: MeshKernel, file: Uint8Array, options: LoadOptions = {}) {
  try {
    kernel.loadBytes(file, "m.ply", options);
    return snapshot(kernel);
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function faceList(faces: Uint32Array): number[][] {
  return Array.from({ length: faces.length / 3 }, (_, f) => Array.from(faces.subarray(3 * f, 3 * f + 3)));
}

describe("PLY loading fast paths", () => {
  let head: SynthMesh;
  let n: number;
  const column = (name: string, type: string, values: ArrayLike<number>, k: number, width: number) =>
    ({ name, type, data: Float64Array.from({ length: n }, (_, i) => values[width * i + k]) });
  const xyz = (type = "float", names = ["x", "y", "z"]) => names.map((name, k) => column(name, type, head.positions, k, 3));
  const normals = (type = "float", names = ["nx", "ny", "nz"]) => names.map((name, k) => column(name, type, head.normals, k, 3));
  const rgb = (type = "uchar", names = ["red", "green", "blue"]) => names.map((name, k) => {
    const c = column(name, type, head.colors, k, 4);
    if (type === "ushort") c.data = c.data.map((v) => v * 257);
    if (type === "float") c.data = c.data.map((v) => v / 255);
    return c;
  });
  const extra = (name: string, type: string) => ({ name, type, data: Float64Array.from({ length: n }, (_, i) => (i * 7) % 100) });
  const ply = (vertex: Column[], format: PlyFormat = "binary_little_endian", faceProps: Column[] = []) => writePly({
    format,
    elements: [
      { name: "vertex", count: n, properties: vertex },
      { name: "face", count: head.faces.length / 3, properties: [{ name: "vertex_indices", countType: "uchar", itemType: "int", data: faceList(head.faces) }, ...faceProps] },
    ],
  } as Parameters<typeof writePly>[0]);

  beforeAll(() => {
    // An odd vertex count: the finite check's 64-, 16- and 4-byte steps all run.
    head = synthHead({ vertices: 3001, seed: 5 });
    n = head.positions.length / 3;
    expect(n % 2).toBe(1);
  });

  it("decodePlainVertices writes decodeVertices' rows on the layouts it takes, and declines the rest", () => {
    const [x, y, z] = xyz(), [nx, ny, nz] = normals(), [r, g, b] = rgb();
    const alpha = column("alpha", "uchar", head.colors, 3, 4);
    const layouts: { name: string; vertex: Column[]; plain: boolean; format?: PlyFormat }[] = [
      { name: "Blender: x y z nx ny nz red green blue alpha", vertex: [x, y, z, nx, ny, nz, r, g, b, alpha], plain: true },
      { name: "no alpha", vertex: [x, y, z, nx, ny, nz, r, g, b], plain: true },
      { name: "no normals", vertex: [x, y, z, r, g, b, alpha], plain: true },
      { name: "no colours", vertex: [x, y, z, nx, ny, nz], plain: true },
      { name: "positions only", vertex: [x, y, z], plain: true },
      { name: "groups apart, other names", vertex: [...xyz(), extra("u", "float"), extra("v", "float"), ...normals("float", ["normal_x", "normal_y", "normal_z"]), extra("quality", "double"), ...rgb("uchar", ["diffuse_red", "diffuse_green", "diffuse_blue"])], plain: true },
      { name: "any order, extra properties", vertex: [alpha, b, g, r, extra("quality", "double"), z, x, y, extra("flags", "int"), nz, ny, nx, extra("u", "float")], plain: true },
      { name: "double positions", vertex: [...xyz("double"), nx, ny, nz, r, g, b], plain: false },
      { name: "double normals", vertex: [x, y, z, ...normals("double"), r, g, b], plain: false },
      { name: "ushort colours", vertex: [x, y, z, nx, ny, nz, ...rgb("ushort")], plain: false },
      { name: "float colours", vertex: [x, y, z, nx, ny, nz, ...rgb("float")], plain: false },
      { name: "big-endian", vertex: [x, y, z, nx, ny, nz, r, g, b, alpha], plain: false, format: "binary_big_endian" },
      { name: "ascii", vertex: [x, y, z, nx, ny, nz, r, g, b, alpha], plain: false, format: "ascii" },
      { name: "a list property", vertex: [x, y, z, nx, ny, nz, r, g, b, { name: "tags", countType: "uchar", itemType: "int", data: Array.from({ length: n }, (_, i) => [i]) }], plain: false },
    ];
    for (const build of ["release", "debug"] as const) {
      const fast = instrumented(build, false), general = instrumented(build, true);
      for (const layout of layouts) {
        const file = ply(layout.vertex, layout.format);
        for (const options of [{}, { defaultColor: [0.25, 0.5, 0.75] as const }, { normals: "compute" as const }]) {
          const before = fast.plain();
          const got = outcome(fast.kernel, file, options), want = outcome(general.kernel, file, options);
          expect(got, `${build}, ${layout.name}, ${JSON.stringify(options)}`).toEqual(want);
          expect(fast.plain() - before, `${build}, ${layout.name}: fast path taken`).toBe(layout.plain ? 1 : 0);
        }
      }
      // The rows themselves, where the file's normals are kept: the file's values, colours u · float32(0.003921569).
      fast.kernel.loadBytes(ply(layouts[0].vertex), "m.ply");
      const rows = fast.kernel.arrays();
      const scale = Math.fround(0.003921569);
      expect(bytesOf(rows.positions)).toBe(bytesOf(head.positions));
      expect(bytesOf(rows.normals)).toBe(bytesOf(head.normals));
      const colours = Float32Array.from({ length: 3 * n }, (_, j) => head.colors[4 * Math.floor(j / 3) + (j % 3)] * scale);
      expect(bytesOf(rows.colors)).toBe(bytesOf(colours));
    }
  });

  it("errors are the general decoder's: a short body, NaN and infinity, the last vertex", () => {
    const [x, y, z] = xyz(), [nx, ny, nz] = normals(), [r, g, b] = rgb();
    const fast = instrumented("release", false), general = instrumented("release", true);
    const same = (file: Uint8Array, pattern: RegExp) => {
      const got = outcome(fast.kernel, file), want = outcome(general.kernel, file);
      expect(got).toEqual(want);
      expect((got as { error?: string }).error).toMatch(pattern);
    };
    const full = ply([x, y, z, nx, ny, nz, r, g, b]);
    const body = Buffer.from(full).indexOf("end_header\n") + 11;
    same(full.subarray(0, body + 27 * 1000 + 5), /^m\.ply: the file ends early.*before vertex 1000 is complete/);
    const broken = (vertex: number, k: number, value: number, columns: Column[]) => {
      const c = columns[k] as { data: Float64Array };
      const data = c.data.slice();
      data[vertex] = value;
      const copy = columns.slice();
      copy[k] = { ...c, data };
      return ply(copy);
    };
    // A NaN normal at vertex 37 and an infinite position at vertex 50: 37 is named, at its record.
    const two = broken(50, 0, Infinity, [x, y, z, nx, ny, nz, r, g, b]);
    const nan37 = new Float32Array([NaN]);
    const file = Buffer.from(two);
    file.set(new Uint8Array(nan37.buffer), body + 27 * 37 + 20);
    same(file, new RegExp(`^m\\.ply: vertex 37 has a NaN or infinite position, normal or colour \\(byte ${body + 27 * 37}`));
    // One bad value alone, in each float column, in the middle and at the last vertex.
    for (const vertex of [37, n - 1]) for (let k = 0; k < 6; k++) {
      for (const value of [NaN, Infinity]) same(broken(vertex, k, value, [x, y, z, nx, ny, nz, r, g, b]), new RegExp(`^m\\.ply: vertex ${vertex} has a NaN`));
    }
    // A default colour that is not finite is every colourless vertex's.
    for (const layout of [[x, y, z], [x, y, z, nx, ny, nz]]) {
      const file = ply(layout);
      expect(outcome(fast.kernel, file, { defaultColor: [0.5, NaN, 0.5] })).toEqual(outcome(general.kernel, file, { defaultColor: [0.5, NaN, 0.5] }));
    }
    // The last vertex's last value (a float colour, the general decoder's): the finite check's 4-byte tail.
    const floatColours = [x, y, z, nx, ny, nz, ...rgb("float")];
    same(broken(n - 1, 8, NaN, floatColours), new RegExp(`^m\\.ply: vertex ${n - 1} has a NaN`));
    same(broken(n - 1, 2, -Infinity, [x, y, z, nx, ny, nz, r, g, b]), new RegExp(`^m\\.ply: vertex ${n - 1} has a NaN`));
    same(broken(0, 0, NaN, [x, y, z, r, g, b]), /^m\.ply: vertex 0 has a NaN/);
  });

  it("the triangle run gives the per-face reader's triangles, little- and big-endian, int and uint", () => {
    const [x, y, z] = xyz();
    const base = faceList(head.faces);
    // Runs broken by a quad, a pentagon, a two-corner face and an empty one, at the start and the end.
    const faces = base.slice();
    faces.splice(0, 0, [0, 1, 2, 3]);
    faces.splice(40, 0, [4, 5, 6, 7, 8]);
    faces.splice(41, 0, [1, 2]);
    faces.splice(500, 0, []);
    faces.push([9, 10, 11, 12]);
    faces.push([13, 14, 15]);
    const expected: number[] = [];
    for (const f of faces) for (let j = 1; j + 1 < f.length; j++) expected.push(f[0], f[j], f[j + 1]);
    const kernel = new MeshKernel({ build: "debug" });
    for (const format of ["binary_little_endian", "binary_big_endian"] as const) {
      for (const itemType of ["int", "uint"]) {
        const file = (extraFaceProperty: boolean) => writePly({
          format,
          elements: [
            { name: "vertex", count: n, properties: [x, y, z] },
            {
              name: "face", count: faces.length, properties: [
                { name: "vertex_indices", countType: "uchar", itemType, data: faces },
                // A second face property: not the run's layout, so the per-face reader.
                ...(extraFaceProperty ? [{ name: "flags", type: "uchar", data: faces.map((_, i) => i % 256) }] : []),
              ],
            },
          ],
        } as Parameters<typeof writePly>[0]);
        kernel.loadBytes(file(true), "m.ply", { defaultColor: [1, 1, 1] });
        const general = kernel.arrays().triangles;
        kernel.loadBytes(file(false), "m.ply", { defaultColor: [1, 1, 1] });
        const run = kernel.arrays().triangles;
        expect(Array.from(general), `${format} ${itemType}`).toEqual(expected);
        expect(bytesOf(run), `${format} ${itemType}`).toBe(bytesOf(general));
      }
    }
  });

  it("a bad index anywhere in a run, or a face cut short, is named with its face and byte", () => {
    const [x, y, z] = xyz();
    const kernel = new MeshKernel({ build: "release" });
    const faces = faceList(head.faces);
    const count = faces.length;
    for (const format of ["binary_little_endian", "binary_big_endian"] as const) {
      for (const itemType of ["int", "uint"]) {
        for (const at of [0, 1, 15, 1000, count - 2, count - 1]) {
          for (const corner of [0, 1, 2]) {
            for (const bad of itemType === "int" ? [n, -1] : [n, 0xffffffff]) {
              const broken = faces.map((f) => f.slice());
              broken[at][corner] = bad;
              const file = writePly({
                format,
                elements: [
                  { name: "vertex", count: n, properties: [x, y, z] },
                  { name: "face", count, properties: [{ name: "vertex_indices", countType: "uchar", itemType, data: broken }] },
                ],
              } as Parameters<typeof writePly>[0]);
              const faceStart = Buffer.from(file).indexOf("end_header\n") + 11 + 12 * n;
              expect(() => kernel.loadBytes(file, "bad.ply", { defaultColor: [1, 1, 1] }), `${format} ${itemType} face ${at} corner ${corner} = ${bad}`)
                .toThrow(new RegExp(`^bad\\.ply: face ${at} refers to a vertex that does not exist \\(byte ${faceStart + 13 * at}, vertex ${at}\\)`));
            }
          }
        }
      }
    }
    // Cut within the last face: after its count and two indices the third is missing.
    const file = writePly({
      format: "binary_little_endian",
      elements: [
        { name: "vertex", count: n, properties: [x, y, z] },
        { name: "face", count, properties: [{ name: "vertex_indices", countType: "uchar", itemType: "int", data: faces }] },
      ],
    } as Parameters<typeof writePly>[0]);
    const lastFace = Buffer.from(file).indexOf("end_header\n") + 11 + 12 * n + 13 * (count - 1);
    expect(() => kernel.loadBytes(file.subarray(0, lastFace + 9), "cut.ply", { defaultColor: [1, 1, 1] }))
      .toThrow(new RegExp(`^cut\\.ply: the file ends early \\(byte ${lastFace + 9}, vertex ${count - 1}\\)`));
    // A count other than 3 that the file cannot hold.
    const big = Buffer.from(file);
    big[lastFace] = 200;
    expect(() => kernel.loadBytes(big, "big.ply", { defaultColor: [1, 1, 1] }))
      .toThrow(new RegExp(`^big\\.ply: the file ends early \\(byte ${lastFace + 13}, vertex ${count - 1}\\)`));
  });
});

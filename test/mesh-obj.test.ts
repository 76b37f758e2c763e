// OBJ input: every face-corner form, negative indices, polygons, ignored statements; the same mesh
// as PLY and OBJ gives identical samples; bad files get errors naming the file and the line.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { MeshKernel, sampleSeed } from "../src/mesh/kernel.js";
import { compileMeshTarget } from "../src/mesh/targets.js";
import { HeadsnetError } from "../src/errors.js";
import { synthHead } from "../src/synth.js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromSynth, toPly, toObj, type TestMesh } from "./mesh-fixtures.js";
import { writePly } from "../src/ply-write.js";

/** Generous: real work runs here, and the machine may be busy. */
const TIMEOUT = 180_000;
vi.setConfig({ testTimeout: TIMEOUT, hookTimeout: TIMEOUT });

const buf = (a: Float32Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe("OBJ meshes", () => {
  let kernel: MeshKernel;
  let head: TestMesh;
  beforeAll(() => {
    kernel = new MeshKernel({ build: "debug" });
    head = fromSynth(synthHead({ vertices: 3000, seed: 21 }));
  });

  it("the same mesh as PLY and as OBJ gives identical vertices, triangles, samples and voxels", () => {
    kernel.loadBytes(toPly(head, { normals: true }), "head.ply");
    const ply = kernel.arrays();
    const plyVoxels = kernel.voxelize().voxels;
    const plySurface = kernel.sampleSurface(20_000, { seed: [3, 4], normals: "vertex" });
    const plyOccupancy = kernel.sampleOccupancy(20_000, { seed: [3, 4] }).rows;
    for (const corners of ["v//vn", "v/vt/vn"] as const) {
      for (const negative of [false, true]) {
        const info = kernel.loadBytes(Buffer.from(toObj(head, { normals: true, corners, negative })), "head.obj");
        expect(info.format).toBe("obj");
        expect(info.normals).toBe("file");
        expect(info.hasColors).toBe(true);
        const obj = kernel.arrays();
        for (const k of ["positions", "normals", "colors", "triangles"] as const) expect(buf(obj[k]).equals(buf(ply[k]))).toBe(true);
        expect(buf(kernel.sampleSurface(20_000, { seed: [3, 4], normals: "vertex" })).equals(buf(plySurface))).toBe(true);
        expect(buf(kernel.sampleOccupancy(20_000, { seed: [3, 4] }).rows).equals(buf(plyOccupancy))).toBe(true);
      }
    }
    // Voxels: the OBJ's colours are floats (colour × 255 is not rounded), so compare with the
    // OBJ's own reference instead: they agree where the uchar colour × 255 rounds back exactly.
    const objVoxels = kernel.voxelize().voxels;
    let differ = 0;
    for (let i = 0; i < objVoxels.length; i++) if (Math.abs(objVoxels[i] - plyVoxels[i]) > 1) differ++;
    expect(differ).toBe(0);
  }, TIMEOUT);

  it("compileMeshTarget: a .ply and an .obj of one mesh with one key give the same bytes", () => {
    const dir = mkdtempSync(join(tmpdir(), "headsnet-obj-"));
    writeFileSync(join(dir, "head.ply"), toPly(head));
    writeFileSync(join(dir, "head.obj"), toObj(head));
    for (const target of ["surface", "occupancy"] as const) {
      const a = compileMeshTarget(join(dir, "head.ply"), target, { build: "debug", samples: 10_000, key: "head" });
      const b = compileMeshTarget(join(dir, "head.obj"), target, { build: "debug", samples: 10_000, key: "head" });
      expect(buf(a.y).equals(buf(b.y))).toBe(true);
    }
  }, TIMEOUT);

  it("reads every corner form, negative indices, polygons (fanned), comments, CRLF and statements it ignores", () => {
    const text = [
      "# a comment", "mtllib x.mtl", "o thing", "g group", "s off", "usemtl red",
      "v 0 0 0", "v 1 0 0", "v 1 1 0", "v 0 1 0   # trailing comment", "v 0 0 1 1.0",
      "vt 0 0", "vt 1 0 0", "vn 0 0 1", "vp 0.5",
      "f 1 2 3 4", // a quad: two triangles
      "f -5/1 -4/2 -1", // v/vt and negative
      "f 2//1 3//1 5//1",
      "f 3/1/1 4/2/1 5/1/1",
      "l 1 2", "p 3", "",
    ].join("\r\n");
    const info = kernel.loadBytes(Buffer.from(text), "forms.obj", { defaultColor: [0.5, 0.5, 0.5] });
    expect(info.vertices).toBe(5);
    expect(info.triangles).toBe(5);
    expect(info.hasColors).toBe(false);
    expect(info.defaultColor).toBe(true);
    // Not every corner names a normal: computed.
    expect(info.normals).toBe("computed");
    const { triangles, colors } = kernel.arrays();
    expect(Array.from(triangles)).toEqual([0, 1, 2, 0, 2, 3, 0, 1, 4, 1, 2, 4, 2, 3, 4]);
    expect(Array.from(colors.subarray(0, 3))).toEqual([0.5, 0.5, 0.5]);
  }, TIMEOUT);

  it("numbers: every written form parses to the float32 of its correctly rounded value", () => {
    let seed = 7;
    const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const forms = [
      () => (next() * 2 - 1).toString(), // JavaScript's shortest, up to 17 digits
      () => Math.fround(next() * 200 - 100).toString(),
      () => (next() * 2 - 1).toFixed(6), // what exporters write
      () => (next() * 1e6).toExponential(8),
      () => `${next() < 0.5 ? "-" : "+"}${(next() * 10).toFixed(12)}e-${Math.floor(next() * 20)}`,
      () => `${Math.floor(next() * 1e9)}.${Math.floor(next() * 1e9)}${Math.floor(next() * 1e9)}`, // 27 digits
      () => `.${Math.floor(next() * 1e5)}`,
      () => `${Math.floor(next() * 100)}.`,
      () => `1e${Math.floor(next() * 60) - 30}`,
    ];
    const tokens: string[] = [];
    for (let i = 0; i < 3000; i++) tokens.push(forms[i % forms.length]());
    const lines = [];
    for (let i = 0; i < tokens.length; i += 3) lines.push(`v ${tokens[i]} ${tokens[i + 1]} ${tokens[i + 2]}`);
    kernel.loadBytes(Buffer.from(lines.join("\n")), "numbers.obj", { defaultColor: [1, 1, 1] });
    const { positions } = kernel.arrays();
    const wrong = tokens.filter((t, i) => !Object.is(positions[i], Math.fround(Number(t))));
    expect(wrong).toEqual([]);
  }, TIMEOUT);

  it("normals: from vn when every corner names one consistently, else computed", () => {
    const consistent = kernel.loadBytes(Buffer.from(toObj(head, { normals: true })), "n.obj");
    expect(consistent.normals).toBe("file");
    expect(kernel.loadBytes(Buffer.from(toObj(head, { normals: true })), "n.obj", { normals: "compute" }).normals).toBe("computed");
    // One vertex named with two different normals.
    const lines = toObj(head, { normals: true }).split("\n");
    const first = lines.findIndex((l) => l.startsWith("f "));
    lines[first] = lines[first].replace(/\/\/(\d+)/, (_, n) => `//${Number(n) === 1 ? 2 : 1}`);
    expect(kernel.loadBytes(Buffer.from(lines.join("\n")), "n.obj").normals).toBe("computed");
    // Computed normals of a closed head are close to the synthesized (angle-weighted) ones.
    const { normals } = kernel.arrays();
    let worst = 1;
    for (let i = 0; i < normals.length; i += 3) {
      worst = Math.min(worst, normals[i] * head.normals![i] + normals[i + 1] * head.normals![i + 1] + normals[i + 2] * head.normals![i + 2]);
    }
    expect(worst).toBeGreaterThan(0.99);
  }, TIMEOUT);

  const failure = (text: string) => {
    try {
      kernel.loadBytes(Buffer.from(text), "bad.obj");
    } catch (e) {
      expect(e).toBeInstanceOf(HeadsnetError);
      return e as HeadsnetError;
    }
    throw new Error("no error");
  };
  const good = "v 0 0 0\nv 1 0 0\nv 0 1 0\n";

  it("bad files: errors name the file, the line and what was expected", () => {
    expect(failure(good + "v 1 2 x\nf 1 2 3\n").message).toBe('bad.obj: line 4: expected a number, found "x"');
    expect(failure(good + "v 1 2\n").message).toBe('bad.obj: line 4: a "v" line needs 3 numbers (x y z), 4 (x y z w) or 6 (x y z r g b), found 2');
    expect(failure(good + "vn 0 1\n").message).toBe('bad.obj: line 4: a "vn" line needs 3 numbers (x y z), found 2');
    expect(failure(good + "f 1 2 4\n").message).toBe('bad.obj: line 4: face corner "4" refers to index 4, which does not exist: the file has 3 vertices and 0 normals, numbered from 1 (or from -1 backwards for the ones defined above the line)');
    expect(failure(good + "f 1 2 0\n").message).toMatch(/^bad\.obj: line 4: face corner "0" refers to index 0, which does not exist/);
    expect(failure("f -1 -2 -3\n" + good).message).toMatch(/^bad\.obj: line 1: face corner "-1" refers to index -1/);
    expect(failure(good + "f 1//5 2//5 3//5\n").message).toMatch(/^bad\.obj: line 4: face corner "1\/\/5" refers to index 5/);
    expect(failure(good + "f 1 2\n").message).toBe("bad.obj: line 4: a face needs at least 3 corners, found 2");
    expect(failure(good + "f 1 2 3a\n").message).toBe('bad.obj: line 4: expected a face corner v, v/vt, v//vn or v/vt/vn (whole numbers), found "3a"');
    expect(failure(good + "f 1/2/3/4 2 3\n").message).toMatch(/found "1\/2\/3\/4"$/);
    expect(failure(good + "bogus 1 2 3\n").message).toMatch(/^bad\.obj: line 4: "bogus" is not an OBJ statement; .*is this an OBJ file\?\)$/);
    expect(failure("ply\nformat ascii 1.0\n").message).toMatch(/^bad\.obj: line 1: "ply" is not an OBJ statement/);
    expect(failure("").message).toBe('bad.obj: no vertices: an OBJ mesh needs "v x y z" lines');
    expect(failure("# nothing\ng x\n").message).toBe('bad.obj: no vertices: an OBJ mesh needs "v x y z" lines');
    expect(failure(good + "v 1 1 1 0.5 0.5 0.5\n").message).toBe('bad.obj: line 4: this "v" line has colour (r g b) but the ones before it have none; every vertex needs a colour, or none');
    expect(failure(good + "v nan 0 0\n").message).toBe('bad.obj: line 4: a NaN or infinite value in "v"');
    const e = failure("\r\n\r\n" + good.replace(/\n/g, "\r\n") + "f 1 2 x\r\n");
    expect(e.message).toMatch(/^bad\.obj: line 6: /);
    expect(e.line).toBe(6);
    expect(e.file).toBe("bad.obj");
    expect(e.code).toBe("E_SYNTAX");
  }, TIMEOUT);

  it("a file with vertices but no faces loads (voxels need no faces); samples need them", () => {
    kernel.loadBytes(Buffer.from(good), "points.obj", { defaultColor: [1, 1, 1] });
    expect(kernel.info.triangles).toBe(0);
    expect(kernel.voxelize().occupied).toBe(3);
    expect(() => kernel.sampleSurface(5, { seed: [1, 1] })).toThrow("points.obj: the mesh has no faces; surface and occupancy samples need triangles");
    expect(() => kernel.sampleOccupancy(5, { seed: [1, 1] })).toThrow(/points\.obj: the mesh has no faces/);
  }, TIMEOUT);

  it("binary PLY faces: triangles, polygons and short faces as in ASCII, for every index type; a bad index names its face", () => {
    // The head's triangles with a quad, a pentagon and a two-corner face among them.
    const n = head.positions.length / 3;
    const faces: number[][] = [];
    for (let f = 0; f < head.triangles.length / 3; f++) faces.push(Array.from(head.triangles.subarray(3 * f, 3 * f + 3)));
    faces.splice(5, 0, [0, 1, 2, 3]);
    faces.splice(9, 0, [4, 5, 6, 7, 8]);
    faces.splice(12, 0, [1, 2]);
    const col = (k: number) => Float64Array.from({ length: n }, (_, i) => head.positions[3 * i + k]);
    const ply = (format: "ascii" | "binary_little_endian" | "binary_big_endian", countType: string, itemType: string, data: number[][]) => writePly({
      format,
      elements: [
        { name: "vertex", count: n, properties: [{ name: "x", type: "float", data: col(0) }, { name: "y", type: "float", data: col(1) }, { name: "z", type: "float", data: col(2) }] },
        { name: "face", count: data.length, properties: [{ name: "vertex_indices", countType, itemType, data }] },
      ],
    } as Parameters<typeof writePly>[0]);
    kernel.loadBytes(ply("ascii", "uchar", "int", faces), "faces.ply", { defaultColor: [1, 1, 1] });
    const expected = kernel.arrays().triangles;
    expect(expected.length / 3).toBe(head.triangles.length / 3 + 2 + 3);
    for (const [format, countType, itemType] of [
      ["binary_little_endian", "uchar", "int"], ["binary_little_endian", "uchar", "uint"], ["binary_little_endian", "int", "int"],
      ["binary_little_endian", "uchar", "ushort"], ["binary_big_endian", "uchar", "int"],
    ] as const) {
      kernel.loadBytes(ply(format, countType, itemType, faces), "faces.ply", { defaultColor: [1, 1, 1] });
      expect(kernel.arrays().triangles, `${format} ${countType} ${itemType}`).toEqual(expected);
    }
    // Out of range either way, as the 8th face's record (after five triangles, a quad and a triangle).
    for (const bad of [n, -1]) {
      const broken = faces.map((f) => f.slice());
      broken[7][2] = bad;
      const file = ply("binary_little_endian", "uchar", "int", broken);
      const body = Buffer.from(file).indexOf("end_header\n") + 11;
      expect(() => kernel.loadBytes(file, "bad.ply"))
        .toThrow(new RegExp(`^bad\\.ply: face 7 refers to a vertex that does not exist \\(byte ${body + 12 * n + 6 * 13 + 17}, vertex 7\\)`));
    }
  }, TIMEOUT);

  it("bad PLY files are named too: an index out of range, a truncated body, NaN", () => {
    const ply = Buffer.from(toPly(head, { format: "ascii" })).toString("latin1");
    const lines = ply.split("\n");
    const second = lines.findIndex((l) => l.startsWith("3 ")) + 1; // the second face's line, 0-based
    lines[second] = "3 0 1 99999";
    expect(() => kernel.loadBytes(Buffer.from(lines.join("\n")), "bad.ply"))
      .toThrow(new RegExp(`^bad\\.ply: face 1 refers to a vertex that does not exist \\(line ${second + 1}, byte \\d+, vertex 1\\)`));
    const binary = toPly(head);
    expect(() => kernel.loadBytes(binary.subarray(0, binary.length - 100), "short.ply")).toThrow(/^short\.ply: /);
    const nan = Buffer.from(ply.replace(/\nend_header\n([^\n]*)/, (_, first) => `\nend_header\nnan ${first.split(" ").slice(1).join(" ")}`));
    expect(() => kernel.loadBytes(nan, "nan.ply")).toThrow(/^nan\.ply: vertex 0 has a NaN or infinite position, normal or colour/);
  }, TIMEOUT);
});

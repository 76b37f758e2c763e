// The mesh kernel's front view (assembly/mesh/raster.ts) against the JavaScript renderer it
// replaces for the mesh targets (src/mesh/render.ts on the kernel's arrays()): the same bytes on
// synthesized heads and on small meshes made to hit the corners (degenerate and coincident
// triangles, stray vertices, one point, huge coordinates, colours outside 0-1, no faces), grey
// and RGB, at several sizes, supersamplings and backgrounds; the targets' outputs through
// compileMeshTarget; and the PLY face reader's fast path for binary triangle lists.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MeshKernel, type MeshBuild } from "../src/mesh/kernel.js";
import { renderFront, renderFrontRgb } from "../src/mesh/render.js";
import { compileMeshTarget } from "../src/mesh/targets.js";
import { synthHead } from "../src/synth.js";
import { writePly } from "../src/ply-write.js";
import { fromSynth, toPly, toObj, sphere, cube, type TestMesh } from "./mesh-fixtures.js";

const TIMEOUT = 180_000;
vi.setConfig({ testTimeout: TIMEOUT, hookTimeout: TIMEOUT });

const buf = (a: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** [size, rgb, supersample, background]: the targets' defaults first. */
const VIEWS: [number, boolean, number | undefined, number | undefined][] = [
  [32, false, undefined, undefined],
  [224, true, undefined, undefined],
  [48, true, 3, 24],
  [17, false, 1, 255],
  [1, true, 5, 100],
];

/** The loaded mesh's front views, kernel and JavaScript, must be the same bytes. */
function expectSameViews(kernel: MeshKernel, name: string, views = VIEWS): void {
  const arrays = kernel.arrays();
  for (const [size, rgb, supersample, background] of views) {
    const options = { supersample, background };
    const js = rgb ? renderFrontRgb(arrays, size, options) : renderFront(arrays, size, options);
    const wasm = kernel.renderFront(size, { ...options, rgb });
    expect(wasm.length, `${name} ${size} ${rgb ? "rgb" : "grey"}`).toBe(size * size * (rgb ? 3 : 1));
    let differ = 0;
    for (let i = 0; i < js.length; i++) if (js[i] !== wasm[i]) differ++;
    expect(differ, `${name} ${size} ${rgb ? "rgb" : "grey"} ss ${supersample} bg ${background}: bytes that differ`).toBe(0);
  }
}

const mesh = (positions: number[], triangles: number[], colors?: number[]): TestMesh => ({
  positions: Float32Array.from(positions),
  triangles: Uint32Array.from(triangles),
  colors: Uint8Array.from(colors ?? positions.map((_, i) => (37 * i + 90) % 256)),
});

describe("the kernel's front view", () => {
  const kernels = {} as Record<MeshBuild, MeshKernel>;
  let heads: TestMesh[];
  beforeAll(() => {
    kernels.release = new MeshKernel({ build: "release" });
    kernels.debug = new MeshKernel({ build: "debug" });
    heads = [1, 2, 3].map((seed) => fromSynth(synthHead({ vertices: 30000, seed })));
    heads.push(fromSynth(synthHead({ seed: 4 }))); // full size, ~94,000 vertices
  });

  it("is the JavaScript renderer's, byte for byte, on synthesized heads (both builds)", () => {
    for (const build of ["release", "debug"] as const) {
      for (const [k, head] of heads.entries()) {
        kernels[build].loadBytes(toPly(head), `head${k}.ply`);
        expectSameViews(kernels[build], `${build} head ${k}`);
      }
    }
    // Not a blank picture: the head fills the middle.
    kernels.release.loadBytes(toPly(heads[0]), "head.ply");
    const grey = kernels.release.renderFront(32);
    expect(grey[16 * 32 + 16]).toBeGreaterThan(20);
    expect(grey[0]).toBe(0);
  });

  it("is the JavaScript renderer's on small meshes made to hit the corners", () => {
    const cases: [string, TestMesh][] = [
      ["one triangle", mesh([0, 0, 0, 1, 0, 0, 0, 0, 1], [0, 1, 2])],
      ["one triangle seen edge-on", mesh([0, 0, 0, 0, 1, 0, 0, 0, 1], [0, 1, 2])],
      // Zero-area triangles (a repeated corner, collinear corners) next to a real one: they
      // draw nothing but add zero normals to their corners.
      ["degenerate triangles", mesh([0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 0, 2, 0.5, 0, 0.5], [0, 0, 1, 0, 1, 2, 0, 4, 3, 2, 2, 2, 1, 3, 2])],
      // Two triangles in one place with different colours: the first drawn keeps each pixel.
      ["coincident triangles", mesh([0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1], [0, 1, 2, 3, 4, 5],
        [255, 0, 0, 255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255, 0, 0, 255])],
      // Triangles through each other, and a vertex in no triangle far away (the mesh shrinks to
      // a few pixels; that vertex's normal stays zero).
      ["crossing triangles and a stray vertex", mesh([-1, 0, -1, 1, 0.5, -1, 0, -0.5, 1, -1, 0.5, 1, 1, -0.5, 1, 0, 0, -1, 40, 30, 20],
        [0, 1, 2, 3, 4, 5])],
      ["every vertex in one point", mesh([0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25], [0, 1, 2])],
      ["far from the origin, huge", mesh([1e6, 2e6, 3e6, 1e6 + 3e5, 2e6, 3e6, 1e6, 2e6 + 1, 3e6 + 4e5, 1e6 + 1e5, 2e6 - 2e5, 3e6 + 1e5], [0, 1, 2, 0, 3, 1, 0, 2, 3])],
      ["a sphere", sphere(3, 0.7, [0.1, -0.2, 0.3])],
      ["a cube of many triangles", cube(6)],
    ];
    for (const [name, m] of cases) {
      kernels.release.loadBytes(toPly(m), `${name}.ply`);
      expectSameViews(kernels.release, name);
    }
  });

  it("is the JavaScript renderer's where corners and edges fall exactly on pixel centres and borders", () => {
    // The front view's right is +x and its up +z. Stray vertices at x = ±23.5 and y = ±0.09 fix
    // the middle at 0 and the radius at 23.5, so that a 50-pixel-wide drawing has scale
    // 0.94·50/2/23.5 = 1 exactly: screen x = 25 + x, y = 25 - z. A grid of half and quarter steps then puts corners
    // on pixel centres (k + 0.5), on pixel borders (k) and between, where the kernel's per-vertex
    // pixel spans must give exactly the renderer's ceil/floor of each triangle's box.
    const positions = [-23.5, 0, 0, 23.5, 0, 0, 0, 0.09, 0];
    const triangles: number[] = [];
    const side = 41, step = 0.75;
    for (let j = 0; j < side; j++) {
      for (let i = 0; i < side; i++) {
        const x = (i - 20) * step, z = (j - 20) * step;
        positions.push(x, 0.01 * ((i * 7 + j * 3) % 11) - 0.05, z);
      }
    }
    const at = (i: number, j: number) => 3 + j * side + i;
    for (let j = 0; j + 1 < side; j++) {
      for (let i = 0; i + 1 < side; i++) {
        triangles.push(at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j), at(i + 1, j + 1), at(i, j + 1));
      }
    }
    // Slivers along one row of pixel centres and one row of borders, and a triangle a point wide.
    const extra = positions.length / 3;
    positions.push(-5.5, -0.09, 3.5, 6.5, -0.09, 3.5, 0.5, -0.09, 3.49, -5, -0.09, -2, 7, -0.09, -2, 1, -0.09, -2.02, 1.5, -0.09, 1.5, 1.5, -0.09, 1.5, 1.5, -0.09, 0.5);
    triangles.push(extra, extra + 1, extra + 2, extra + 3, extra + 4, extra + 5, extra + 6, extra + 7, extra + 8);
    const m = mesh(positions, triangles);
    kernels.release.loadBytes(toPly(m), "pixel-exact.ply");
    expectSameViews(kernels.release, "pixel-exact", [[50, true, 1, 0], [25, false, 2, 30], [50, false, 1, 255], [10, true, 5, 0]]);
  });

  it("clamps colours outside 0-1 as the JavaScript renderer does (an OBJ's float colours)", () => {
    const m = sphere(2);
    const colours = [[1.5, -0.25, 0.5], [0, 2, 1], [-1, 0.3, 7]];
    const obj = toObj(m).split("\n").map((line, i) => {
      if (!line.startsWith("v ")) return line;
      const c = colours[i % 3];
      return line.split(" ").slice(0, 4).concat(c.map(String)).join(" ");
    }).join("\n");
    kernels.release.loadBytes(Buffer.from(obj), "bright.obj");
    expect(kernels.release.arrays().colors.some((c) => c > 1 || c < 0)).toBe(true);
    expectSameViews(kernels.release, "bright.obj");
  });

  it("draws a mesh without faces as the JavaScript renderer does (points)", () => {
    const m = sphere(2);
    kernels.release.loadBytes(Buffer.from(toObj(m).split("\n").filter((l) => !l.startsWith("f ")).join("\n")), "points.obj");
    expect(kernels.release.info.triangles).toBe(0);
    expectSameViews(kernels.release, "points.obj");
  });

  it("rejects sizes, supersamplings and backgrounds it cannot draw", () => {
    kernels.release.loadBytes(toPly(sphere(1)), "s.ply");
    expect(() => kernels.release.renderFront(0)).toThrow(/image size must be an integer from 1 to 4096, got 0/);
    expect(() => kernels.release.renderFront(32, { supersample: 0 })).toThrow(/supersample must be an integer/);
    expect(() => kernels.release.renderFront(32, { supersample: 1.5 })).toThrow(/supersample must be an integer/);
    expect(() => kernels.release.renderFront(32, { background: 256 })).toThrow(/background must be a grey from 0 to 255/);
  });

  it("the targets' front views are the JavaScript renderer's; their other outputs do not change", () => {
    const dir = mkdtempSync(join(tmpdir(), "headsnet-raster-"));
    const js = new MeshKernel({ build: "release" });
    for (const [k, head] of heads.slice(0, 2).entries()) {
      const path = join(dir, `head${k}.ply`);
      writeFileSync(path, toPly(head));
      js.loadFile(path);
      const arrays = js.arrays();
      const voxels = compileMeshTarget(path, "voxels", {});
      expect(buf(voxels.x).equals(buf(renderFront(arrays, 32)))).toBe(true);
      expect(buf(voxels.y).equals(buf(js.voxelize().voxels))).toBe(true);
      const small = compileMeshTarget(path, "voxels", { imageSize: 24, grid: 16 });
      expect(buf(small.x).equals(buf(renderFront(arrays, 24)))).toBe(true);
      const images = compileMeshTarget(path, "images", { imageSize: 96 });
      expect(images.yShape).toEqual([96, 96, 3]);
      expect(buf(images.y).equals(buf(renderFrontRgb(arrays, 96)))).toBe(true);
      const surface = compileMeshTarget(path, "surface", { samples: 500, image: true, key: "k" });
      expect(buf(surface.x).equals(buf(renderFront(arrays, 32)))).toBe(true);
      expect(buf(surface.y).equals(buf(compileMeshTarget(path, "surface", { samples: 500, key: "k" }).y))).toBe(true);
    }
  });
});

describe("PLY faces: the fast way for binary triangle lists reads what the general way reads", () => {
  let kernel: MeshKernel;
  let m: TestMesh;
  beforeAll(() => {
    kernel = new MeshKernel({ build: "debug" });
    m = sphere(2);
  });
  const facesOf = (triangles: Uint32Array) => Array.from({ length: triangles.length / 3 }, (_, f) => Array.from(triangles.subarray(3 * f, 3 * f + 3)));

  /** The mesh's PLY with its own face lists (count and item types chosen). */
  function plyWith(faces: number[][], format: "binary_little_endian" | "binary_big_endian" | "ascii", countType = "uchar", itemType = "int"): Uint8Array {
    const n = m.positions.length / 3;
    const col = (k: number) => Float64Array.from({ length: n }, (_, i) => m.positions[3 * i + k]);
    return writePly({
      format,
      elements: [
        { name: "vertex", count: n, properties: [{ name: "x", type: "float", data: col(0) }, { name: "y", type: "float", data: col(1) }, { name: "z", type: "float", data: col(2) }] },
        { name: "face", count: faces.length, properties: [{ name: "vertex_indices", countType, itemType, data: faces }] },
      ],
    });
  }

  it("triangles, quads among them, every binary form: the same triangles as the general reader's (ASCII, ushort counts)", () => {
    const faces = facesOf(m.triangles);
    // Join two triangles that share an edge into a quad here and there (a, b, c) + (a, c, d).
    const mixed: number[][] = [];
    for (let f = 0; f < faces.length; f++) {
      if (f % 7 === 3) mixed.push([faces[f][0], faces[f][1], faces[f][2], faces[f][0]]); // a quad with a repeated corner
      else mixed.push(faces[f]);
    }
    const expected = mixed.flatMap((c) => (c.length === 3 ? c : [c[0], c[1], c[2], c[0], c[2], c[3]]));
    for (const face of [faces, mixed]) {
      const want = face === faces ? Array.from(m.triangles) : expected;
      for (const [format, countType, itemType] of [
        ["binary_little_endian", "uchar", "int"], ["binary_little_endian", "uchar", "uint"], ["binary_big_endian", "uchar", "int"],
        ["binary_big_endian", "uchar", "uint"], ["binary_little_endian", "ushort", "int"], ["ascii", "uchar", "int"],
      ] as const) {
        kernel.loadBytes(plyWith(face, format, countType, itemType), "m.ply", { defaultColor: [1, 1, 1] });
        expect(Array.from(kernel.arrays().triangles), `${format} ${countType} ${itemType}`).toEqual(want);
      }
    }
  });

  it("bad faces are reported where they are: an index out of range, a negative one, a list too long, the file's end", () => {
    const faces = facesOf(m.triangles);
    const n = m.positions.length / 3, F = faces.length;
    const good = plyWith(faces, "binary_little_endian");
    const facesAt = good.length - F * 13;
    const failure = (bytes: Uint8Array) => {
      try {
        kernel.loadBytes(bytes, "bad.ply", { defaultColor: [1, 1, 1] });
      } catch (e) {
        return e as Error & { offset?: number; vertex?: number };
      }
      throw new Error("loaded");
    };
    const out = Buffer.from(good);
    out.writeInt32LE(n, facesAt + 5 * 13 + 5);
    let e = failure(out);
    expect(e.message).toMatch(/^bad\.ply: face 5 refers to a vertex that does not exist/);
    expect(e.offset).toBe(facesAt + 5 * 13);
    const negative = Buffer.from(good);
    negative.writeInt32LE(-1, facesAt + 7 * 13 + 9);
    e = failure(negative);
    expect(e.message).toMatch(/^bad\.ply: face 7 refers to a vertex that does not exist/);
    expect(e.offset).toBe(facesAt + 7 * 13);
    // A count of 200: the list runs past the faces after it, and the file ends first.
    const long = Buffer.from(good);
    long[facesAt + (F - 2) * 13] = 200;
    expect(failure(long).message).toMatch(/^bad\.ply: the file ends early/);
    expect(failure(good.subarray(0, good.length - 6)).message).toMatch(/^bad\.ply: the file ends early/);
    // The fast way's checks are unsigned: an uint index of 2^31 or more is out of range too.
    const big = Buffer.from(plyWith(faces, "binary_little_endian", "uchar", "uint"));
    const uintFacesAt = big.length - F * 13;
    big.writeUInt32LE(0x80000000, uintFacesAt + 2 * 13 + 1);
    e = failure(big);
    expect(e.message).toMatch(/^bad\.ply: face 2 refers to a vertex that does not exist/);
    expect(e.offset).toBe(uintFacesAt + 2 * 13);
  });
});

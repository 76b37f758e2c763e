// Meshes the mesh-target tests build: spheres, cubes, two triangles, holes punched in heads, and
// the same mesh written as PLY and as OBJ.

import { writePly } from "../src/ply-write.js";
import type { SynthMesh } from "../src/synth.js";

export interface TestMesh {
  positions: Float32Array;
  /** rgb 0-255 per vertex. */
  colors: Uint8Array;
  triangles: Uint32Array;
  normals?: Float32Array;
}

/** An icosphere of `level` subdivisions, radius r, centred at c, outward-facing triangles. */
export function sphere(level: number, r = 0.5, c: [number, number, number] = [0, 0, 0]): TestMesh {
  const t = (1 + Math.sqrt(5)) / 2;
  let verts: number[][] = [[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t], [0, -1, -t], [0, 1, -t], [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]];
  let faces = [[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4], [11, 10, 2], [10, 7, 6], [7, 1, 8],
    [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9], [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1]];
  const unit = (v: number[]) => { const n = Math.hypot(v[0], v[1], v[2]); return [v[0] / n, v[1] / n, v[2] / n]; };
  verts = verts.map(unit);
  for (let l = 0; l < level; l++) {
    const mid = new Map<string, number>();
    const midpoint = (a: number, b: number) => {
      const key = a < b ? `${a},${b}` : `${b},${a}`;
      let m = mid.get(key);
      if (m === undefined) {
        m = verts.length;
        verts.push(unit([(verts[a][0] + verts[b][0]) / 2, (verts[a][1] + verts[b][1]) / 2, (verts[a][2] + verts[b][2]) / 2]));
        mid.set(key, m);
      }
      return m;
    };
    faces = faces.flatMap(([a, b, c2]) => {
      const ab = midpoint(a, b), bc = midpoint(b, c2), ca = midpoint(c2, a);
      return [[a, ab, ca], [b, bc, ab], [c2, ca, bc], [ab, bc, ca]];
    });
  }
  const positions = new Float32Array(verts.length * 3);
  verts.forEach((v, i) => { for (let k = 0; k < 3; k++) positions[3 * i + k] = c[k] + r * v[k]; });
  const colors = new Uint8Array(verts.length * 3);
  verts.forEach((v, i) => { colors[3 * i] = 128 + Math.round(100 * v[0]); colors[3 * i + 1] = 128 + Math.round(100 * v[1]); colors[3 * i + 2] = 128 + Math.round(100 * v[2]); });
  return { positions, colors, triangles: Uint32Array.from(faces.flat()) };
}

/**
 * An axis-aligned cube from lo to hi, each face an n × n grid of quads split into two triangles,
 * outward-facing; shared corners are one vertex. n = 1: the classic 12-triangle cube.
 */
export function cube(n = 1, lo = -0.5, hi = 0.5): TestMesh {
  const index = new Map<string, number>();
  const positions: number[] = [];
  const vertex = (p: number[]) => {
    const key = p.join(",");
    let i = index.get(key);
    if (i === undefined) {
      i = positions.length / 3;
      positions.push(...p);
      index.set(key, i);
    }
    return i;
  };
  const triangles: number[] = [];
  const at = (k: number) => lo + ((hi - lo) * k) / n;
  // For each axis and side: the face's plane, and two in-plane axes ordered so that u × v points out.
  for (let axis = 0; axis < 3; axis++) {
    for (const side of [0, 1]) {
      const u = (axis + 1) % 3, v = (axis + 2) % 3;
      const [a1, a2] = side === 1 ? [u, v] : [v, u];
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        const corner = (di: number, dj: number) => {
          const p = [0, 0, 0];
          p[axis] = side ? hi : lo;
          p[a1] = at(i + di);
          p[a2] = at(j + dj);
          return vertex(p);
        };
        const p00 = corner(0, 0), p10 = corner(1, 0), p11 = corner(1, 1), p01 = corner(0, 1);
        triangles.push(p00, p10, p11, p00, p11, p01);
      }
    }
  }
  const count = positions.length / 3;
  const colors = new Uint8Array(count * 3).fill(200);
  return { positions: Float32Array.from(positions), colors, triangles: Uint32Array.from(triangles) };
}

/** Signed volume of a closed mesh (divergence theorem), float64. */
export function meshVolume(m: TestMesh): number {
  let v = 0;
  const p = m.positions;
  for (let t = 0; t < m.triangles.length; t += 3) {
    const a = 3 * m.triangles[t], b = 3 * m.triangles[t + 1], c = 3 * m.triangles[t + 2];
    v += p[a] * (p[b + 1] * p[c + 2] - p[b + 2] * p[c + 1]) - p[a + 1] * (p[b] * p[c + 2] - p[b + 2] * p[c]) + p[a + 2] * (p[b] * p[c + 1] - p[b + 1] * p[c]);
  }
  return v / 6;
}

/** A synthesized head as a TestMesh (rgb from its rgba). */
export function fromSynth(mesh: SynthMesh): TestMesh {
  const n = mesh.positions.length / 3;
  const colors = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) colors[3 * i + k] = mesh.colors[4 * i + k];
  return { positions: mesh.positions, colors, triangles: mesh.faces, normals: mesh.normals };
}

/** The mesh without the triangles that have a corner within `radius` of `centre`. */
export function punchHole(m: TestMesh, centre: ArrayLike<number>, radius: number): TestMesh {
  const keep: number[] = [];
  const p = m.positions;
  for (let t = 0; t < m.triangles.length; t += 3) {
    let near = false;
    for (let k = 0; k < 3; k++) {
      const v = 3 * m.triangles[t + k];
      if (Math.hypot(p[v] - centre[0], p[v + 1] - centre[1], p[v + 2] - centre[2]) < radius) near = true;
    }
    if (!near) keep.push(m.triangles[t], m.triangles[t + 1], m.triangles[t + 2]);
  }
  return { ...m, triangles: Uint32Array.from(keep) };
}

/** Binary little-endian PLY: float x y z, [nx ny nz], uchar red green blue, faces as list uchar int. */
export function toPly(m: TestMesh, options: { format?: "ascii" | "binary_little_endian" | "binary_big_endian"; normals?: boolean } = {}): Uint8Array {
  const n = m.positions.length / 3;
  const col = (a: ArrayLike<number>, k: number) => Float64Array.from({ length: n }, (_, i) => a[3 * i + k]);
  const faces = Array.from({ length: m.triangles.length / 3 }, (_, f) => Array.from(m.triangles.subarray(3 * f, 3 * f + 3)));
  return writePly({
    format: options.format ?? "binary_little_endian",
    elements: [
      {
        name: "vertex", count: n,
        properties: [
          { name: "x", type: "float", data: col(m.positions, 0) },
          { name: "y", type: "float", data: col(m.positions, 1) },
          { name: "z", type: "float", data: col(m.positions, 2) },
          ...(options.normals && m.normals ? [
            { name: "nx", type: "float", data: col(m.normals, 0) },
            { name: "ny", type: "float", data: col(m.normals, 1) },
            { name: "nz", type: "float", data: col(m.normals, 2) },
          ] : []),
          { name: "red", type: "uchar", data: col(m.colors, 0) },
          { name: "green", type: "uchar", data: col(m.colors, 1) },
          { name: "blue", type: "uchar", data: col(m.colors, 2) },
        ],
      },
      { name: "face", count: faces.length, properties: [{ name: "vertex_indices", countType: "uchar", itemType: "int", data: faces }] },
    ],
  });
}

/**
 * The same mesh as OBJ text: positions and colours exactly as PLY stores them (colours as the
 * float32 the PLY decoder makes of a uchar: u · float32(0.003921569)), so both load identically.
 */
export function toObj(m: TestMesh, options: { normals?: boolean; corners?: "v" | "v/vt" | "v//vn" | "v/vt/vn"; negative?: boolean } = {}): string {
  const n = m.positions.length / 3;
  const scale = Math.fround(0.003921569);
  const lines = ["# written by the headsnet tests", "mtllib none.mtl", "o head"];
  for (let i = 0; i < n; i++) {
    const c = [0, 1, 2].map((k) => Math.fround(m.colors[3 * i + k] * scale));
    lines.push(`v ${m.positions[3 * i]} ${m.positions[3 * i + 1]} ${m.positions[3 * i + 2]} ${c[0]} ${c[1]} ${c[2]}`);
  }
  const withNormals = options.normals && m.normals;
  if (withNormals) for (let i = 0; i < n; i++) lines.push(`vn ${m.normals![3 * i]} ${m.normals![3 * i + 1]} ${m.normals![3 * i + 2]}`);
  lines.push("vt 0 0", "g all", "s 1", "usemtl skin");
  const form = options.corners ?? (withNormals ? "v//vn" : "v");
  for (let t = 0; t < m.triangles.length; t += 3) {
    const corners = [0, 1, 2].map((k) => {
      const v = m.triangles[t + k];
      // Negative indices count back from the last "v" (all are defined above the faces here).
      const vi = options.negative ? v - n : v + 1;
      const ni = options.negative ? v - n : v + 1;
      switch (form) {
        case "v": return `${vi}`;
        case "v/vt": return `${vi}/1`;
        case "v//vn": return `${vi}//${ni}`;
        default: return `${vi}/1/${ni}`;
      }
    });
    lines.push(`f ${corners.join(" ")}`);
  }
  return lines.join("\n") + "\n";
}

/** Distance from p to triangle abc (float64), by the closest-point regions (Ericson). */
export function pointTriangleDistance(p: number[], a: number[], b: number[], c: number[]): number {
  const sub = (x: number[], y: number[]) => [x[0] - y[0], x[1] - y[1], x[2] - y[2]];
  const dot = (x: number[], y: number[]) => x[0] * y[0] + x[1] * y[1] + x[2] * y[2];
  const ab = sub(b, a), ac = sub(c, a), ap = sub(p, a);
  const d1 = dot(ab, ap), d2 = dot(ac, ap);
  let q: number[];
  if (d1 <= 0 && d2 <= 0) q = a;
  else {
    const bp = sub(p, b), d3 = dot(ab, bp), d4 = dot(ac, bp);
    const cp = sub(p, c), d5 = dot(ab, cp), d6 = dot(ac, cp);
    const vc = d1 * d4 - d3 * d2, vb = d5 * d2 - d1 * d6, va = d3 * d6 - d5 * d4;
    if (d3 >= 0 && d4 <= d3) q = b;
    else if (d6 >= 0 && d5 <= d6) q = c;
    else if (vc <= 0 && d1 >= 0 && d3 <= 0) { const v = d1 / (d1 - d3); q = [a[0] + v * ab[0], a[1] + v * ab[1], a[2] + v * ab[2]]; }
    else if (vb <= 0 && d2 >= 0 && d6 <= 0) { const w = d2 / (d2 - d6); q = [a[0] + w * ac[0], a[1] + w * ac[1], a[2] + w * ac[2]]; }
    else if (va <= 0 && d4 - d3 >= 0 && d5 - d6 >= 0) {
      const w = (d4 - d3) / ((d4 - d3) + (d5 - d6));
      q = [b[0] + w * (c[0] - b[0]), b[1] + w * (c[1] - b[1]), b[2] + w * (c[2] - b[2])];
    } else {
      const denom = 1 / (va + vb + vc), v = vb * denom, w = vc * denom;
      q = [a[0] + ab[0] * v + ac[0] * w, a[1] + ab[1] * v + ac[1] * w, a[2] + ab[2] * v + ac[2] * w];
    }
  }
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}

/** Points spread evenly on a sphere (Fibonacci lattice), float32 x y z, with unit normals. */
export function fibonacciSphere(count: number, r: number): { points: Float32Array; normals: Float32Array } {
  const points = new Float32Array(3 * count), normals = new Float32Array(3 * count);
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let i = 0; i < count; i++) {
    const z = 1 - (2 * i + 1) / count, rho = Math.sqrt(1 - z * z), phi = golden * i;
    const d = [rho * Math.cos(phi), rho * Math.sin(phi), z];
    for (let k = 0; k < 3; k++) { points[3 * i + k] = r * d[k]; normals[3 * i + k] = d[k]; }
  }
  return { points, normals };
}

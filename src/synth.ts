// Built-in corpus of synthetic head-like meshes, written in Blender's PLY export layout.
//
// The mesh is a star-shaped surface r(d)·d over unit directions d, sampled on a
// latitude/longitude layout with two pole vertices:
//   - R rings at polar angles θ_k = kπ/(R+1) (k = 1..R) around the +Z axis, plus a north pole
//     (vertex 0) and a south pole (vertex V-1). R ≈ π/spacing for an even spacing on the sphere.
//   - ring k holds n_k ≥ 3 vertices, n_k ∝ sin θ_k (near-uniform density), rounded by largest
//     remainder so that Σ n_k = V - 2 exactly: the mesh has exactly `vertices` vertices and
//     2·(V-2) triangles.
//   - adjacent rings (with different sizes) are joined by a "zipper" strip that walks both rings
//     by angle; poles are fans. Every triangle is wound counter-clockwise seen from outside.
//   Because the surface is a radial graph over the sphere with r > 0, it is closed, watertight,
//   2-manifold, genus 0 and free of self-intersections whatever the radius function.
//
// Orientation follows Blender's default PLY export (Z up, -Y forward): the top of the head is
// +Z and the face (nose) looks toward -Y; ears are on ±X.
//
// r(d) = smax( ellipsoid(d) · (1 + features(d) + noise(d)), neck(d) ), where the ellipsoid has a
// narrowing jaw, the features are anisotropic Gaussian bumps (nose, nose tip, brow ridge, eye
// sockets, cheekbones, lips, chin, ears, occiput) and noise is a sum of seeded low-frequency
// plane waves. The neck is a short cylinder with a flat cap (south pole at its centre), joined
// with a smooth max. All shape, colour and size parameters are jittered by a seeded PRNG.
// The result is re-centred on its bounding-box centre and scaled so that max |v| is a seeded
// value in [0.5, 0.85] (like the real corpus, pre-scaled by 0.55, it lies inside the unit sphere).
//
// Normals are angle-weighted averages of the face normals (computed from the float32 positions
// that are written), normalised. Colours are RGBA, alpha 255: a seeded skin tone with mottling
// and blush, hair (seeded colour and hairline) on the top/back, eyebrows, eyes (sclera, seeded
// iris, pupil) and lips.
//
// Determinism: only the seed and vertex count enter; all arithmetic is plain double math plus
// Math.sin/cos/exp/acos/sqrt, so two calls give byte-identical files (across machines too as long
// as the JS engine's Math functions agree, which V8's fdlibm ports do).

import { existsSync, statSync } from "node:fs";
import { errors, opt, usageError } from "./errors.js";
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writePly } from './ply-write.js';

export interface SynthHeadOptions {
  /** Exact number of vertices (default 94000, minimum 20). */
  vertices?: number;
  /** Seed (integer, taken modulo 2^32; default 0). */
  seed?: number;
}
export interface SynthMesh {
  /** xyz per vertex. */
  positions: Float32Array;
  /** Unit outward normal per vertex. */
  normals: Float32Array;
  /** rgba per vertex. */
  colors: Uint8Array;
  /** Triangles, 3 vertex indices per face, counter-clockwise seen from outside. */
  faces: Uint32Array;
}
export interface SynthCorpusOptions {
  out: string;
  count: number;
  /** The first head's number (default 0): a corpus can be written in parts, by several processes. */
  first?: number;
  vertices?: number;
  seed?: number;
  /** Called after each head is generated: heads done so far, and in all. */
  onProgress?: (done: number, total: number) => void;
}
export interface SynthCorpusResult {
  dir: string;
  /** Absolute paths, in order. */
  files: string[];
  /** Total vertices over all files. */
  vertices: number;
  /** Total bytes written. */
  bytes: number;
}

export const SYNTH_DEFAULT_VERTICES = 94000;
export const SYNTH_MIN_VERTICES = 20;
const SYNTH_MAX_VERTICES = 100_000_000;
export const SYNTH_COMMENT = 'Created by headsnet synth (Blender export layout)';

// ---------------------------------------------------------------------------------------------
// PRNG

/** 32-bit integer hash ("lowbias32", C. Wellons): strong avalanche, so nearby seeds diverge. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** splitmix32-style generator (Weyl sequence through mix32): uniform doubles in [0, 1). */
function splitmix32(seed: number): () => number {
  let s = mix32((seed ^ 0x5bd1e995) >>> 0);
  return () => {
    s = (s + 0x9e3779b9) | 0;
    return mix32(s) / 4294967296;
  };
}

/** The seed of head `index` of a corpus with seed `seed` (independent of the corpus size). */
export function corpusHeadSeed(seed: number, index: number): number {
  return mix32((mix32(seed >>> 0) + Math.imul(index >>> 0, 0x9e3779b9) + 0x632be5ab) | 0);
}

function checkSeed(seed: number): number {
  if (!Number.isInteger(seed)) throw usageError(`${opt("seed")} must be an integer, got ${seed}`);
  return seed >>> 0;
}

function checkVertices(v: number): number {
  if (!Number.isInteger(v) || v < SYNTH_MIN_VERTICES || v > SYNTH_MAX_VERTICES) {
    throw usageError(`${opt("vertices")} must be an integer from ${SYNTH_MIN_VERTICES} to ${SYNTH_MAX_VERTICES.toLocaleString("en-US")}, got ${v}`);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Topology

/** Ring sizes (each ≥ 3) summing exactly to `total` = V - 2. */
function ringSizes(total: number): Int32Array {
  const spacing = Math.sqrt((4 * Math.PI) / total);
  let R = Math.max(1, Math.round(Math.PI / spacing) - 1);
  R = Math.min(R, Math.floor(total / 3));
  const ideal = new Float64Array(R);
  let wsum = 0;
  for (let k = 0; k < R; k++) {
    ideal[k] = Math.sin(((k + 1) * Math.PI) / (R + 1));
    wsum += ideal[k];
  }
  const n = new Int32Array(R);
  let sum = 0;
  for (let k = 0; k < R; k++) {
    ideal[k] = (ideal[k] * total) / wsum;
    n[k] = Math.max(3, Math.floor(ideal[k]));
    sum += n[k];
  }
  while (sum < total) {
    let best = 0, bestGap = -Infinity;
    for (let k = 0; k < R; k++) {
      const gap = ideal[k] - n[k];
      if (gap > bestGap) { bestGap = gap; best = k; }
    }
    n[best]++;
    sum++;
  }
  while (sum > total) {
    let best = -1, bestGap = Infinity;
    for (let k = 0; k < R; k++) {
      const gap = ideal[k] - n[k];
      if (n[k] > 3 && gap < bestGap) { bestGap = gap; best = k; }
    }
    n[best]--;
    sum--;
  }
  return n;
}

const GOLDEN = 0.6180339887498949;

/** Unit directions (xyz) and triangles of the ring layout for exactly V vertices. */
function sphereLayout(V: number): { dirs: Float64Array; faces: Uint32Array } {
  const n = ringSizes(V - 2);
  const R = n.length;
  const dirs = new Float64Array(3 * V);
  const faces = new Uint32Array(3 * 2 * (V - 2));
  const start = new Int32Array(R);
  const offs = new Float64Array(R);

  dirs[2] = 1; // north pole (0, 0, 1)
  let v = 1;
  for (let k = 0; k < R; k++) {
    const theta = ((k + 1) * Math.PI) / (R + 1);
    const st = Math.sin(theta), ct = Math.cos(theta);
    const o = ((k + 1) * GOLDEN) % 1;
    offs[k] = o;
    start[k] = v;
    const nk = n[k];
    for (let i = 0; i < nk; i++, v++) {
      const phi = (2 * Math.PI * (i + o)) / nk;
      dirs[3 * v] = st * Math.cos(phi);
      dirs[3 * v + 1] = st * Math.sin(phi);
      dirs[3 * v + 2] = ct;
    }
  }
  dirs[3 * v + 2] = -1; // south pole
  const south = v;

  let f = 0;
  const tri = (a: number, b: number, c: number): void => {
    faces[f++] = a; faces[f++] = b; faces[f++] = c;
  };
  // North cap.
  {
    const s = start[0], m = n[0];
    for (let j = 0; j < m; j++) tri(0, s + j, s + ((j + 1) % m));
  }
  // Zipper strips between ring k (above, A) and ring k+1 (below, B).
  for (let k = 0; k + 1 < R; k++) {
    const sa = start[k], a = n[k], oa = offs[k];
    const sb = start[k + 1], b = n[k + 1], ob = offs[k + 1];
    let i = 0, j = 0;
    while (i < a || j < b) {
      const nextA = (i + 1 + oa) / a, nextB = (j + 1 + ob) / b;
      if (j >= b || (i < a && nextA <= nextB)) {
        tri(sa + (i % a), sb + (j % b), sa + ((i + 1) % a));
        i++;
      } else {
        tri(sa + (i % a), sb + (j % b), sb + ((j + 1) % b));
        j++;
      }
    }
  }
  // South cap.
  {
    const s = start[R - 1], m = n[R - 1];
    for (let i = 0; i < m; i++) tri(s + i, south, s + ((i + 1) % m));
  }
  if (f !== faces.length) throw new Error(`synth: internal face count mismatch (${f} != ${faces.length})`);
  return { dirs, faces };
}

// ---------------------------------------------------------------------------------------------
// Shape

/** Anisotropic Gaussian bump around unit direction c with tangent axes t1, t2. */
interface Bump {
  cx: number; cy: number; cz: number;
  ax: number; ay: number; az: number; // t1 / s1
  bx: number; by: number; bz: number; // t2 / s2
  nx: number; ny: number; nz: number; // c / sn
  amp: number;
}

function makeBump(c: [number, number, number], t1: [number, number, number], s1: number, s2: number, amp: number): Bump {
  const cl = Math.hypot(c[0], c[1], c[2]);
  const cx = c[0] / cl, cy = c[1] / cl, cz = c[2] / cl;
  // Orthogonalise t1 against c; t2 = c × t1.
  const d = t1[0] * cx + t1[1] * cy + t1[2] * cz;
  let ux = t1[0] - d * cx, uy = t1[1] - d * cy, uz = t1[2] - d * cz;
  const ul = Math.hypot(ux, uy, uz);
  ux /= ul; uy /= ul; uz /= ul;
  const wx = cy * uz - cz * uy, wy = cz * ux - cx * uz, wz = cx * uy - cy * ux;
  const sn = Math.min(s1, s2);
  return {
    cx, cy, cz,
    ax: ux / s1, ay: uy / s1, az: uz / s1,
    bx: wx / s2, by: wy / s2, bz: wz / s2,
    nx: cx / sn, ny: cy / sn, nz: cz / sn,
    amp,
  };
}

/** exp(-q/2) of the bump's normalised squared distance, 0 when negligible. */
function bumpWeight(b: Bump, x: number, y: number, z: number): number {
  const ex = x - b.cx, ey = y - b.cy, ez = z - b.cz;
  const p = ex * b.ax + ey * b.ay + ez * b.az;
  const q = ex * b.bx + ey * b.by + ez * b.bz;
  const r = ex * b.nx + ey * b.ny + ez * b.nz;
  const s = p * p + q * q + r * r;
  return s > 60 ? 0 : Math.exp(-0.5 * s);
}

function smoothstep(e0: number, e1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

/** Polynomial smooth max/min with blend width k. */
function smax(a: number, b: number, k: number): number {
  const h = Math.min(1, Math.max(0, 0.5 + (0.5 * (a - b)) / k));
  return b + (a - b) * h + k * h * (1 - h);
}
function smin(a: number, b: number, k: number): number {
  return -smax(-a, -b, k);
}

interface Wave { fx: number; fy: number; fz: number; phase: number; amp: number; }

interface HeadParams {
  axX: number; axY: number; axZ: number;
  jaw: number;
  bumps: Bump[];
  waves: Wave[];
  neckR: number; neckH: number;
  scale: number;
  // colour
  skin: [number, number, number];
  hair: [number, number, number];
  iris: [number, number, number];
  lip: [number, number, number];
  hairline: number;
  bald: boolean;
  mottle: Wave[];
  eyes: Bump[]; // sclera ellipses (unit amp)
  brows: Bump[];
  lips: Bump;
  cheeks: Bump[];
}

function randomUnit(rnd: () => number): [number, number, number] {
  const z = 2 * rnd() - 1;
  const phi = 2 * Math.PI * rnd();
  const s = Math.sqrt(Math.max(0, 1 - z * z));
  return [s * Math.cos(phi), s * Math.sin(phi), z];
}

const SKIN_TONES: [number, number, number][] = [
  [246, 214, 190], [234, 192, 160], [216, 168, 132], [192, 140, 104],
  [160, 110, 80], [126, 84, 58], [96, 62, 44],
];
const HAIR_COLOURS: [number, number, number][] = [
  [28, 22, 20], [52, 36, 26], [86, 58, 38], [122, 86, 52], [190, 150, 96],
  [150, 70, 38], [160, 156, 150], [60, 48, 40],
];
const IRIS_COLOURS: [number, number, number][] = [
  [82, 52, 30], [60, 40, 25], [70, 110, 150], [80, 120, 80], [110, 100, 70],
];

function pick<T>(rnd: () => number, list: T[]): T {
  return list[Math.min(list.length - 1, Math.floor(rnd() * list.length))];
}

function lerp3(a: [number, number, number], b: [number, number, number], t: number): [number, number, number] {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

function headParams(seed: number): HeadParams {
  const rnd = splitmix32(seed);
  const j = (lo: number, hi: number): number => lo + (hi - lo) * rnd();
  const X: [number, number, number] = [1, 0, 0];
  const Y: [number, number, number] = [0, 1, 0];

  const axX = j(0.72, 0.82), axY = j(0.9, 1.0), axZ = j(0.98, 1.08);
  const jaw = j(0.1, 0.22);
  const eyeX = j(0.29, 0.35), eyeZ = j(0.1, 0.16);
  const noseAmp = j(0.1, 0.17), noseLen = j(0.14, 0.2), noseZ = j(-0.06, 0.0);
  const earAmp = j(0.09, 0.14), earZ = j(-0.08, 0.02), earY = j(0.0, 0.1);
  const chinAmp = j(0.05, 0.1), browAmp = j(0.02, 0.045), cheekAmp = j(0.01, 0.03);
  const lipZ = j(-0.38, -0.3), lipAmp = j(0.015, 0.03);
  const occAmp = j(0.02, 0.06);

  const bumps: Bump[] = [
    makeBump([0, -1, noseZ], X, 0.085, noseLen, noseAmp), // nose ridge
    makeBump([0, -1, noseZ - noseLen * 0.55], X, 0.06, 0.06, noseAmp * 0.35), // nose tip
    makeBump([0, -0.95, eyeZ + 0.14], X, 0.36, 0.06, browAmp), // brow ridge
    makeBump([eyeX, -0.92, eyeZ], X, 0.085, 0.055, -0.035), // eye sockets
    makeBump([-eyeX, -0.92, eyeZ], X, 0.085, 0.055, -0.035),
    makeBump([0.5, -0.8, -0.05], X, 0.15, 0.1, cheekAmp), // cheekbones
    makeBump([-0.5, -0.8, -0.05], X, 0.15, 0.1, cheekAmp),
    makeBump([0, -0.95, lipZ], X, 0.13, 0.05, lipAmp), // lips
    makeBump([0, -0.78, -0.62], X, 0.15, 0.1, chinAmp), // chin
    makeBump([1, earY, earZ], Y, 0.08, 0.15, earAmp), // ears
    makeBump([-1, earY, earZ], Y, 0.08, 0.15, earAmp),
    makeBump([0, 0.85, 0.35], X, 0.5, 0.4, occAmp), // occiput
  ];
  const waves: Wave[] = [];
  for (let k = 0; k < 8; k++) {
    const u = randomUnit(rnd);
    const f = j(1.5, 4.5);
    waves.push({ fx: u[0] * f, fy: u[1] * f, fz: u[2] * f, phase: j(0, 2 * Math.PI), amp: (0.018 * 1.5) / f * j(0.5, 1) });
  }
  const neckR = j(0.4, 0.5), neckH = j(1.15, 1.35);
  const scale = j(0.5, 0.85);

  // Colours.
  const t = rnd() * (SKIN_TONES.length - 1);
  const ti = Math.min(SKIN_TONES.length - 2, Math.floor(t));
  const skin = lerp3(SKIN_TONES[ti], SKIN_TONES[ti + 1], t - ti);
  const hair = pick(rnd, HAIR_COLOURS);
  const iris = pick(rnd, IRIS_COLOURS);
  const lip: [number, number, number] = [skin[0] * 0.82 + 18, skin[1] * 0.55, skin[2] * 0.6];
  const hairline = j(-0.05, 0.2);
  const bald = rnd() < 0.12;
  const mottle: Wave[] = [];
  for (let k = 0; k < 4; k++) {
    const u = randomUnit(rnd);
    const f = j(3, 9);
    mottle.push({ fx: u[0] * f, fy: u[1] * f, fz: u[2] * f, phase: j(0, 2 * Math.PI), amp: 0.025 });
  }
  const eyes = [
    makeBump([eyeX, -0.92, eyeZ], X, 0.07, 0.04, 1),
    makeBump([-eyeX, -0.92, eyeZ], X, 0.07, 0.04, 1),
  ];
  const brows = [
    makeBump([eyeX, -0.9, eyeZ + 0.11], X, 0.1, 0.022, 1),
    makeBump([-eyeX, -0.9, eyeZ + 0.11], X, 0.1, 0.022, 1),
  ];
  const lips = makeBump([0, -0.95, lipZ], X, 0.1, 0.032, 1);
  const cheeks = [
    makeBump([0.48, -0.82, -0.1], X, 0.14, 0.1, 1),
    makeBump([-0.48, -0.82, -0.1], X, 0.14, 0.1, 1),
  ];
  return {
    axX, axY, axZ, jaw, bumps, waves, neckR, neckH, scale,
    skin, hair, iris, lip, hairline, bald, mottle, eyes, brows, lips, cheeks,
  };
}

function radius(P: HeadParams, x: number, y: number, z: number): number {
  // Ellipsoid with a jaw that narrows toward the bottom.
  const w = (1 - z) * 0.5;
  const narrow = 1 - P.jaw * w * w;
  const ex = x / (P.axX * narrow), ey = y / (P.axY * (1 - 0.5 * P.jaw * w * w)), ez = z / P.axZ;
  let r = 1 / Math.sqrt(ex * ex + ey * ey + ez * ez);
  let d = 0;
  const bumps = P.bumps;
  for (let k = 0; k < bumps.length; k++) {
    const b = bumps[k];
    const g = bumpWeight(b, x, y, z);
    if (g !== 0) d += b.amp * g;
  }
  const waves = P.waves;
  for (let k = 0; k < waves.length; k++) {
    const wv = waves[k];
    d += wv.amp * Math.sin(wv.fx * x + wv.fy * y + wv.fz * z + wv.phase);
  }
  r *= 1 + d;
  // Neck: a cylinder of radius neckR around -Z, capped at z = -neckH, joined smoothly.
  if (z < 0) {
    const s = Math.sqrt(x * x + y * y);
    const c = -z;
    const wall = s > 1e-9 ? P.neckR / s : 1e9;
    const cap = P.neckH / c;
    const neck = smin(wall, cap, 0.06);
    r = smax(r, neck, 0.12);
  }
  return r;
}

function colour(P: HeadParams, x: number, y: number, z: number, out: Uint8Array, o: number): void {
  // Skin with low-frequency mottling.
  let m = 1;
  const mottle = P.mottle;
  for (let k = 0; k < mottle.length; k++) {
    const wv = mottle[k];
    m += wv.amp * Math.sin(wv.fx * x + wv.fy * y + wv.fz * z + wv.phase);
  }
  const skin = P.skin, lip = P.lip;
  let cr = skin[0] * m, cg = skin[1] * m, cb = skin[2] * m;
  // Slightly darker neck / under-chin.
  if (z < -0.55) {
    const shade = 1 - 0.12 * smoothstep(-0.55, -0.9, z);
    cr *= shade; cg *= shade; cb *= shade;
  }
  // Face features (all centred near y = -0.9; negligible elsewhere).
  const face = y < -0.25;
  if (face) {
    // Blush.
    const blush = 0.108 * (bumpWeight(P.cheeks[0], x, y, z) + bumpWeight(P.cheeks[1], x, y, z));
    cr += (lip[0] - cr) * blush; cg += (lip[1] - cg) * blush; cb += (lip[2] - cb) * blush;
    // Lips.
    const lw = smoothstep(0.35, 0.6, bumpWeight(P.lips, x, y, z));
    cr += (lip[0] - cr) * lw; cg += (lip[1] - cg) * lw; cb += (lip[2] - cb) * lw;
  }
  // Hair: top and back; the hairline is higher at the front (y < 0) than at the back.
  const h = P.hairline - 0.45 * y;
  let hw = smoothstep(h - 0.04, h + 0.04, z);
  if (P.bald) hw *= 1 - smoothstep(0.45, 0.55, z);
  // Eyebrows.
  if (face) {
    hw = Math.max(hw,
      smoothstep(0.3, 0.55, bumpWeight(P.brows[0], x, y, z)),
      smoothstep(0.3, 0.55, bumpWeight(P.brows[1], x, y, z)));
  }
  if (hw > 0) {
    // Strand texture (integer angular frequency keeps it continuous around the axis).
    const strand = 0.85 + 0.15 * Math.sin(53 * Math.atan2(y, x) + 9 * z);
    const hair = P.hair;
    cr += (hair[0] * strand - cr) * hw; cg += (hair[1] * strand - cg) * hw; cb += (hair[2] * strand - cb) * hw;
  }
  // Eyes: sclera, iris, pupil (distance from the eye centre in sclera-ellipse units).
  if (face) {
    for (let k = 0; k < 2; k++) {
      const g = bumpWeight(P.eyes[k], x, y, z);
      if (g < 0.6) continue; // s > 1.02: outside the sclera
      const s = -2 * Math.log(g); // normalised squared distance, 1 at the sclera edge
      const sclera = 1 - smoothstep(0.8, 1.0, s);
      cr += (238 - cr) * sclera; cg += (236 - cg) * sclera; cb += (230 - cb) * sclera;
      const iris = 1 - smoothstep(0.2, 0.28, s);
      const ic = P.iris;
      cr += (ic[0] - cr) * iris; cg += (ic[1] - cg) * iris; cb += (ic[2] - cb) * iris;
      const pupil = 1 - smoothstep(0.04, 0.07, s);
      cr += (12 - cr) * pupil; cg += (10 - cg) * pupil; cb += (10 - cb) * pupil;
    }
  }
  out[o] = Math.round(Math.min(255, Math.max(0, cr)));
  out[o + 1] = Math.round(Math.min(255, Math.max(0, cg)));
  out[o + 2] = Math.round(Math.min(255, Math.max(0, cb)));
  out[o + 3] = 255;
}

/** Angle-weighted smooth vertex normals of a triangle mesh. */
function vertexNormals(pos: Float32Array, faces: Uint32Array, fallback: Float64Array): Float32Array {
  const V = pos.length / 3;
  const acc = new Float64Array(3 * V);
  for (let f = 0; f < faces.length; f += 3) {
    const i0 = 3 * faces[f], i1 = 3 * faces[f + 1], i2 = 3 * faces[f + 2];
    const x0 = pos[i0], y0 = pos[i0 + 1], z0 = pos[i0 + 2];
    const ax = pos[i1] - x0, ay = pos[i1 + 1] - y0, az = pos[i1 + 2] - z0; // e01
    const bx = pos[i2] - x0, by = pos[i2 + 1] - y0, bz = pos[i2 + 2] - z0; // e02
    const cx = pos[i2] - pos[i1], cy = pos[i2 + 1] - pos[i1 + 1], cz = pos[i2 + 2] - pos[i1 + 2]; // e12
    let nx = ay * bz - az * by, ny = az * bx - ax * bz, nz = ax * by - ay * bx;
    const nl = Math.sqrt(nx * nx + ny * ny + nz * nz);
    const la = Math.sqrt(ax * ax + ay * ay + az * az);
    const lb = Math.sqrt(bx * bx + by * by + bz * bz);
    const lc = Math.sqrt(cx * cx + cy * cy + cz * cz);
    if (nl === 0 || la === 0 || lb === 0 || lc === 0) continue;
    nx /= nl; ny /= nl; nz /= nl;
    const c0 = (ax * bx + ay * by + az * bz) / (la * lb);
    const c1 = -(ax * cx + ay * cy + az * cz) / (la * lc);
    const a0 = Math.acos(Math.min(1, Math.max(-1, c0)));
    const a1 = Math.acos(Math.min(1, Math.max(-1, c1)));
    const a2 = Math.max(0, Math.PI - a0 - a1);
    acc[i0] += nx * a0; acc[i0 + 1] += ny * a0; acc[i0 + 2] += nz * a0;
    acc[i1] += nx * a1; acc[i1 + 1] += ny * a1; acc[i1 + 2] += nz * a1;
    acc[i2] += nx * a2; acc[i2 + 1] += ny * a2; acc[i2 + 2] += nz * a2;
  }
  const out = new Float32Array(3 * V);
  for (let i = 0; i < 3 * V; i += 3) {
    let x = acc[i], y = acc[i + 1], z = acc[i + 2];
    let l = Math.sqrt(x * x + y * y + z * z);
    if (!(l > 1e-30)) {
      x = fallback[i]; y = fallback[i + 1]; z = fallback[i + 2];
      l = Math.sqrt(x * x + y * y + z * z);
    }
    out[i] = x / l; out[i + 1] = y / l; out[i + 2] = z / l;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Public API

/** Build one synthetic head mesh (exactly `vertices` vertices, 2·(vertices-2) triangles). */
export function synthHead(options: SynthHeadOptions = {}): SynthMesh {
  const V = checkVertices(options.vertices ?? SYNTH_DEFAULT_VERTICES);
  const seed = checkSeed(options.seed ?? 0);
  const P = headParams(seed);
  const { dirs, faces } = sphereLayout(V);

  const raw = new Float64Array(3 * V);
  let minX = Infinity, minY = Infinity, minZ = Infinity, maxX = -Infinity, maxY = -Infinity, maxZ = -Infinity;
  for (let i = 0; i < 3 * V; i += 3) {
    const x = dirs[i], y = dirs[i + 1], z = dirs[i + 2];
    const r = radius(P, x, y, z);
    const px = r * x, py = r * y, pz = r * z;
    raw[i] = px; raw[i + 1] = py; raw[i + 2] = pz;
    if (px < minX) minX = px; if (px > maxX) maxX = px;
    if (py < minY) minY = py; if (py > maxY) maxY = py;
    if (pz < minZ) minZ = pz; if (pz > maxZ) maxZ = pz;
  }
  const ox = (minX + maxX) / 2, oy = (minY + maxY) / 2, oz = (minZ + maxZ) / 2;
  let maxR2 = 0;
  for (let i = 0; i < 3 * V; i += 3) {
    const x = raw[i] - ox, y = raw[i + 1] - oy, z = raw[i + 2] - oz;
    const r2 = x * x + y * y + z * z;
    if (r2 > maxR2) maxR2 = r2;
  }
  const k = P.scale / Math.sqrt(maxR2);
  const positions = new Float32Array(3 * V);
  for (let i = 0; i < 3 * V; i += 3) {
    positions[i] = (raw[i] - ox) * k;
    positions[i + 1] = (raw[i + 1] - oy) * k;
    positions[i + 2] = (raw[i + 2] - oz) * k;
  }

  const normals = vertexNormals(positions, faces, dirs);
  const colors = new Uint8Array(4 * V);
  for (let v = 0; v < V; v++) colour(P, dirs[3 * v], dirs[3 * v + 1], dirs[3 * v + 2], colors, 4 * v);
  return { positions, normals, colors, faces };
}

/** Serialise a mesh in Blender's PLY export layout (binary little endian). */
export function meshToBlenderPly(mesh: SynthMesh, comment: string = SYNTH_COMMENT): Uint8Array {
  const V = mesh.positions.length / 3;
  const F = mesh.faces.length / 3;
  const x = new Float32Array(V), y = new Float32Array(V), z = new Float32Array(V);
  const nx = new Float32Array(V), ny = new Float32Array(V), nz = new Float32Array(V);
  const r = new Uint8Array(V), g = new Uint8Array(V), b = new Uint8Array(V), a = new Uint8Array(V);
  const p = mesh.positions, n = mesh.normals, c = mesh.colors;
  for (let i = 0; i < V; i++) {
    x[i] = p[3 * i]; y[i] = p[3 * i + 1]; z[i] = p[3 * i + 2];
    nx[i] = n[3 * i]; ny[i] = n[3 * i + 1]; nz[i] = n[3 * i + 2];
    r[i] = c[4 * i]; g[i] = c[4 * i + 1]; b[i] = c[4 * i + 2]; a[i] = c[4 * i + 3];
  }
  const offsets = new Uint32Array(F + 1);
  for (let f = 0; f <= F; f++) offsets[f] = 3 * f;
  return writePly({
    format: 'binary_little_endian',
    comments: [comment],
    elements: [
      {
        name: 'vertex',
        count: V,
        properties: [
          { name: 'x', type: 'float', data: x },
          { name: 'y', type: 'float', data: y },
          { name: 'z', type: 'float', data: z },
          { name: 'nx', type: 'float', data: nx },
          { name: 'ny', type: 'float', data: ny },
          { name: 'nz', type: 'float', data: nz },
          { name: 'red', type: 'uchar', data: r },
          { name: 'green', type: 'uchar', data: g },
          { name: 'blue', type: 'uchar', data: b },
          { name: 'alpha', type: 'uchar', data: a },
        ],
      },
      {
        name: 'face',
        count: F,
        properties: [{ name: 'vertex_indices', countType: 'uchar', itemType: 'uint', data: { offsets, items: mesh.faces } }],
      },
    ],
  });
}

/** One synthetic head as a PLY file in Blender's export layout (binary little endian). */
export function synthHeadPly(options: SynthHeadOptions = {}): Uint8Array {
  return meshToBlenderPly(synthHead(options));
}

/**
 * Write `count` heads as out/head_00000.ply, head_00001.ply, … (creating `out`). Head i uses
 * seed corpusHeadSeed(seed, i), so a corpus is a prefix of any larger one with the same seed.
 */
export async function synthCorpus(options: SynthCorpusOptions): Promise<SynthCorpusResult> {
  const { count } = options;
  if (!Number.isSafeInteger(count) || count < 1) throw usageError(`${opt("count")} must be a whole number of heads, 1 or more, got ${count}`);
  if (typeof options.out !== 'string' || options.out.length === 0) throw usageError(`synth needs an output directory (${opt("out")} DIR)`);
  const vertices = checkVertices(options.vertices ?? SYNTH_DEFAULT_VERTICES);
  const seed = checkSeed(options.seed ?? 0);
  const dir = resolve(options.out);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw errors.notDirectory(options.out, `${opt("out")} names the directory the heads go to`);
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw errors.output(options.out, (e as Error).message);
  }
  const files: string[] = [];
  let bytes = 0;
  let pending: Promise<void> | null = null;
  const firstHead = options.first ?? 0;
  if (!Number.isSafeInteger(firstHead) || firstHead < 0) throw usageError(`${opt("first")} must be a head number, 0 or more, got ${firstHead}`);
  for (let i = firstHead; i < firstHead + count; i++) {
    const data = synthHeadPly({ vertices, seed: corpusHeadSeed(seed, i) });
    const file = join(dir, `head_${String(i).padStart(5, '0')}.ply`);
    if (pending) await pending; // overlap generating head i with writing head i-1
    pending = writeFile(file, data).catch((e: Error) => { throw errors.output(file, e.message); });
    files.push(file);
    bytes += data.length;
    options.onProgress?.(i + 1 - firstHead, count);
  }
  if (pending) await pending;
  return { dir, files, vertices: vertices * count, bytes };
}

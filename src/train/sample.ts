// `headsnet sample`: a trained network's head for one model id, as a mesh or a point cloud.
//
// Mesh (the default for direction and fourier models): the network at every vertex of a generated
// icosphere (`--level L`, default 6: 40,962 vertices; 7: 163,842), written with the icosphere's
// triangles, so the file is a closed triangle mesh (binary little-endian PLY: x y z float,
// red green blue uchar, and a face element). Index models can only be asked at their own
// icosphere's vertices: with `--level` (their own level), that icosphere as a mesh.
//
// Point cloud (`--points P`; index models' default, the reference's 200,000): for an index model,
// point i is the network at (id, i/P), as the reference's predictor does; for the others, at the
// i-th of P directions on a Fibonacci spiral (evenly spread over the sphere). PLY or CSV.
//
// The id: `--id F`; else drawn from `--seed S` as the reference draws it (uniform uint32 times
// float32(1/4294967295)). `--random`: a new head between two training heads: a pair of
// neighbouring training ids and t uniform in [0, 1], seeded by --seed, id = a + t·(b - a); with the
// hat id encoding its code is (1 - t)·code(a) + t·code(b). Colours are clamped to [0, 1] and
// scaled to 0-255.
//
// Five-input (index) models also take a ray direction. The training rows carry [-nx, -ny, -nz],
// the inward normal at the vertex that landed on icosphere vertex q, and for a head that direction
// lies near -q. So point i takes the icosphere vertex its index value names (k = round(i/P · N),
// clamped to N-1) and a direction drawn uniformly from the cone of half-angle --cone degrees
// around -q_k (seeded by --seed, so a sample is reproducible). --cone 0 uses -q_k itself.

import { writeFile, mkdir } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { tf, initBackend } from "./backend.js";
import { loadModel } from "./model.js";
import { Encoder } from "./encoding.js";
import { headGrid, generateHead, modelEncoding, type GeneratedHead } from "./heads.js";
import { recordedIcosphere } from "../icosphere.js";
import { errors, captureErrors, opt } from "../errors.js";
import { Rng, mixSeed, SEED_SAMPLE_ID, SEED_CONE } from "./rng.js";
import { writePly } from "../ply-write.js";
import { loadIcosphere, type Icosphere } from "../icosphere.js";
import type { HeadsnetError } from "../errors.js";

export interface SampleOptions {
  model: string;
  out: string;
  /** The model id to draw; otherwise one is drawn from `seed`. */
  id?: number;
  /** A new head between two neighbouring training heads, drawn from `seed`. */
  random?: boolean;
  seed?: number;
  /** A point cloud of this many points (index models' default: 200,000). */
  points?: number;
  /** A mesh: the network at the vertices of a generated icosphere of this level (direction and fourier models' default: 6). */
  level?: number;
  format?: "ply" | "csv";
  /** Five-input models: half-angle of the cone of ray directions, in degrees. */
  cone?: number;
  /** Five-input models: the icosphere the index values refer to (default: the one the model was trained with). */
  icosphere?: number | string;
  /** Called as points are evaluated: done so far, and in all. */
  onProgress?: (done: number, total: number) => void;
}

export interface SampleSummary {
  model: string;
  out: string;
  format: "ply" | "csv";
  id: number;
  /** --random: the two training ids the head lies between, and where. */
  between: { a: number; b: number; t: number } | null;
  /** The encoding, as words. */
  encoding: string;
  points: number;
  /** Triangles written (0 for a point cloud). */
  faces: number;
  /** The icosphere level of a mesh. */
  level: number | null;
  inputs: number;
  cone: number | null;
  bytes: number;
  seconds: number;
}

import { SAMPLE_DEFAULTS } from "./defaults.js";
import { describeEncoding } from "./encoding.js";
export { SAMPLE_DEFAULTS };
const PREDICT_ROWS = 1 << 15;

/** The id the reference predictor would draw: a uniform 32-bit number times float32(1/4294967295). */
export function sampleId(seed: number): number {
  const draw = new Rng(mixSeed(seed, SEED_SAMPLE_ID)).nextU32();
  return Math.fround(Math.fround(draw) * Math.fround(1 / 4294967295));
}

/** The network inputs for points [first, first + n). */
export function sampleInputs(
  inputs: number, id: number, first: number, n: number, points: number,
  rays?: { icosphere: Icosphere; cosMax: number; rng: Rng },
): Float32Array {
  const x = new Float32Array(n * inputs);
  for (let r = 0; r < n; r++) {
    const i = first + r;
    const t = i / points;
    x[r * inputs] = id;
    x[r * inputs + 1] = t;
    if (rays) {
      const N = rays.icosphere.count;
      const k = Math.min(N - 1, Math.round(t * N));
      const v = rays.icosphere.vertices;
      const d = coneDirection(-v[3 * k], -v[3 * k + 1], -v[3 * k + 2], rays.cosMax, rays.rng);
      x[r * inputs + 2] = d[0];
      x[r * inputs + 3] = d[1];
      x[r * inputs + 4] = d[2];
    }
  }
  return x;
}

/** A direction uniform over the spherical cap of cos(angle) >= cosMax around the unit axis a. */
export function coneDirection(ax: number, ay: number, az: number, cosMax: number, rng: Rng): [number, number, number] {
  const len = Math.hypot(ax, ay, az) || 1;
  ax /= len; ay /= len; az /= len;
  const u = rng.next(), w = rng.next();
  const cos = 1 - u * (1 - cosMax);
  const sin = Math.sqrt(Math.max(0, 1 - cos * cos));
  const phi = 2 * Math.PI * w;
  // An orthonormal basis (b1, b2) perpendicular to a.
  const hx = Math.abs(ax) < 0.9 ? 1 : 0, hy = hx ? 0 : 1;
  let b1x = ay * 0 - az * hy, b1y = az * hx - ax * 0, b1z = ax * hy - ay * hx;
  const l1 = Math.hypot(b1x, b1y, b1z);
  b1x /= l1; b1y /= l1; b1z /= l1;
  const b2x = ay * b1z - az * b1y, b2y = az * b1x - ax * b1z, b2z = ax * b1y - ay * b1x;
  const c = Math.cos(phi) * sin, s = Math.sin(phi) * sin;
  return [cos * ax + c * b1x + s * b2x, cos * ay + c * b1y + s * b2y, cos * az + c * b1z + s * b2z];
}

export async function sample(options: SampleOptions): Promise<{ error?: HeadsnetError; summary?: SampleSummary }> {
  const r = await captureErrors(() => sampleOrThrow(options));
  return { error: r.error, summary: r.result };
}

/** P directions evenly spread over the sphere (a Fibonacci spiral), x y z each. */
export function spiralDirections(count: number): Float32Array {
  const out = new Float32Array(count * 3);
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let i = 0; i < count; i++) {
    const z = 1 - (2 * i + 1) / count;
    const r = Math.sqrt(Math.max(0, 1 - z * z));
    out[i * 3] = Math.cos(golden * i) * r;
    out[i * 3 + 1] = Math.sin(golden * i) * r;
    out[i * 3 + 2] = z;
  }
  return out;
}

/** --random: two neighbouring training ids (ascending) and t, drawn from `seed`. */
export function randomBetween(ids: number[], seed: number): { a: number; b: number; t: number; id: number } {
  const sorted = [...new Set(ids.map(Math.fround))].sort((x, y) => x - y);
  const rng = new Rng(mixSeed(seed, SEED_SAMPLE_ID, 1));
  if (sorted.length === 1) return { a: sorted[0], b: sorted[0], t: 0, id: sorted[0] };
  const k = rng.below(sorted.length - 1);
  const t = rng.next();
  const a = sorted[k], b = sorted[k + 1];
  return { a, b, t, id: Math.fround(a + t * (b - a)) };
}

async function sampleOrThrow(o: SampleOptions): Promise<SampleSummary> {
  const started = performance.now();
  if (o.points !== undefined && (!Number.isInteger(o.points) || o.points < 1 || o.points > 1 << 28)) throw errors.usage(`${opt("points")} must be an integer from 1 to ${1 << 28}, got ${o.points}`);
  if (o.points !== undefined && o.level !== undefined) throw errors.usage(`${opt("points")} writes a point cloud and ${opt("level")} a mesh: pass one of them`);
  if (o.id !== undefined && !(o.id >= 0 && o.id <= 1)) throw errors.usage(`${opt("id")} must be a model id from 0 to 1, got ${o.id}`);
  if (o.id !== undefined && o.random) throw errors.usage(`${opt("id")} names the id and ${opt("random")} draws one: pass one of them`);
  const seed = o.seed ?? SAMPLE_DEFAULTS.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw errors.usage(`${opt("seed")} must be an integer from 0 to 4294967295, got ${seed}`);
  const cone = o.cone ?? SAMPLE_DEFAULTS.cone;
  if (!(cone >= 0 && cone <= 180)) throw errors.usage(`${opt("cone")} must be an angle from 0 to 180 degrees, got ${cone}`);
  const extension = /\.(ply|csv)$/i.exec(o.out)?.[1].toLowerCase() as "ply" | "csv" | undefined;
  if (o.format && extension && o.format !== extension) {
    throw errors.usage(`${opt("format")} ${o.format} and the file name ${o.out} disagree: name the file .${o.format}, or pass ${opt("format")} ${extension}`);
  }
  const format = o.format ?? extension ?? "ply";
  await initBackend();
  const { model, meta, inputs, outputs } = await loadModel(o.model);
  try {
    const spec = modelEncoding({ inputs, encoding: meta.encoding, icosphere: meta.icosphere });
    const index = spec.name === "index";
    if (index && inputs !== 2 && inputs !== 5) throw errors.model(o.model, `the network takes ${inputs} inputs; headsnet models take 2 or 5`);
    const encoder = new Encoder(spec);
    if (!index && inputs !== encoder.width) throw errors.model(o.model, `the network takes ${inputs} inputs; its encoding (${describeEncoding(spec)}) makes ${encoder.width}`);
    if (outputs !== 6) throw errors.model(o.model, `the network gives ${outputs} outputs; headsnet models give 6 (x y z r g b)`);
    let id: number;
    let between: SampleSummary["between"] = null;
    if (o.id !== undefined) id = Math.fround(o.id);
    else if (o.random) {
      const ids = spec.ids ?? trainingIds(o.model);
      if (!ids.length) throw errors.usage(`${opt("random")} draws a head between two training heads, and ${o.model} does not record its training ids (its training data is gone): pass ${opt("id")}`);
      const r = randomBetween(ids, seed);
      ({ id } = r);
      between = { a: r.a, b: r.b, t: r.t };
    } else id = sampleId(seed);
    const mesh = o.points === undefined && (!index || o.level !== undefined);
    if (mesh && format === "csv") throw errors.usage(`a CSV file holds points, not triangles: write a .ply, or pass ${opt("points")} N for a point cloud`);
    let head: GeneratedHead;
    let points: number;
    let level: number | null = null;
    if (mesh) {
      const grid = headGrid(spec, { level: o.level ?? (index ? undefined : SAMPLE_DEFAULTS.level), icosphere: o.icosphere, dir: o.model });
      if (!grid.faces) throw errors.usage(`${o.model} was trained on the icosphere table ${grid.icosphere.source}, which has no triangles: pass ${opt("points")} N for a point cloud`);
      head = await generateHead(tf, model, encoder, id, grid);
      points = grid.icosphere.count;
      level = grid.level ?? null;
      o.onProgress?.(points, points);
    } else {
      points = o.points ?? SAMPLE_DEFAULTS.points;
      head = index ? await indexCloud(o, model, meta.icosphere, inputs, id, points, seed, cone) : await spiralCloud(o, model, encoder, id, points);
    }
    const rgb = [new Uint8Array(points), new Uint8Array(points), new Uint8Array(points)];
    const pos = [new Float32Array(points), new Float32Array(points), new Float32Array(points)];
    for (let i = 0; i < points; i++) {
      for (let c = 0; c < 3; c++) {
        pos[c][i] = head.points[i * 3 + c];
        rgb[c][i] = Math.round(head.colors[i * 3 + c] * 255);
      }
    }
    const faces = head.faces?.length ? head.faces.length / 3 : 0;
    let bytes: Uint8Array;
    if (format === "csv") {
      const lines = ["x,y,z,red,green,blue"];
      for (let i = 0; i < points; i++) lines.push(`${pos[0][i]},${pos[1][i]},${pos[2][i]},${rgb[0][i]},${rgb[1][i]},${rgb[2][i]}`);
      bytes = Buffer.from(lines.join("\n") + "\n");
    } else {
      const rays = index && inputs === 5 && !mesh;
      bytes = writePly({
        format: "binary_little_endian",
        comments: [`headsnet sample of ${o.model}: id ${id}, ${faces ? `icosphere level ${level}: ${points} vertices, ${faces} triangles` : `${points} points`}${rays ? `, ray cone ${cone} degrees` : ""}`],
        elements: [{
          name: "vertex",
          count: points,
          properties: [
            { name: "x", type: "float", data: pos[0] },
            { name: "y", type: "float", data: pos[1] },
            { name: "z", type: "float", data: pos[2] },
            { name: "red", type: "uchar", data: rgb[0] },
            { name: "green", type: "uchar", data: rgb[1] },
            { name: "blue", type: "uchar", data: rgb[2] },
          ],
        }, ...(faces ? [{
          name: "face",
          count: faces,
          properties: [{ name: "vertex_indices", countType: "uchar", itemType: "uint", data: { offsets: Uint32Array.from({ length: faces + 1 }, (_, k) => 3 * k), items: head.faces! } }],
        }] : [])],
      });
    }
    try {
      await mkdir(dirname(o.out), { recursive: true });
      await writeFile(o.out, bytes);
    } catch (e) {
      throw errors.output(o.out, (e as Error).message);
    }
    return {
      model: o.model, out: o.out, format, id, between, encoding: describeEncoding(spec), points, faces, level, inputs,
      cone: index && inputs === 5 && !mesh ? cone : null,
      bytes: bytes.byteLength, seconds: (performance.now() - started) / 1000,
    };
  } finally {
    model.dispose();
  }
}

/** The ids of the dataset a model was trained on (training.json's data source), when it is still there. */
function trainingIds(modelDir: string): number[] {
  try {
    const state = JSON.parse(readFileSync(join(modelDir, "training.json"), "utf8"));
    const source = state?.data?.source;
    for (const dir of [resolve(source), resolve(modelDir, source)]) {
      const manifest = join(dir, "manifest.json");
      if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, "utf8")).models ?? []).map((m: { id: number }) => m.id);
    }
  } catch {
    // No record: no ids.
  }
  return [];
}

/** An index model's point cloud: point i at (id, i/P), as the reference's predictor does. */
async function indexCloud(
  o: SampleOptions, model: tf.LayersModel, icosphereRecord: { vertices: number; sha256: string; source: string } | undefined,
  inputs: number, id: number, points: number, seed: number, cone: number,
): Promise<GeneratedHead> {
  let rays: { icosphere: Icosphere; cosMax: number; rng: Rng } | undefined;
  if (inputs === 5) {
    const icosphere = icosphereRecord ? recordedIcosphere(icosphereRecord, { override: o.icosphere, dir: o.model }) : loadIcosphere(o.icosphere);
    rays = { icosphere, cosMax: Math.cos((cone * Math.PI) / 180), rng: new Rng(mixSeed(seed, SEED_CONE)) };
  }
  const out: GeneratedHead = { points: new Float32Array(points * 3), colors: new Float32Array(points * 3) };
  for (let first = 0; first < points; first += PREDICT_ROWS) {
    const n = Math.min(PREDICT_ROWS, points - first);
    const x = sampleInputs(inputs, id, first, n, points, rays);
    await predictInto(model, x, n, inputs, out, first);
    o.onProgress?.(first + n, points);
  }
  return out;
}

/** A direction or fourier model's point cloud: P directions on a Fibonacci spiral. */
async function spiralCloud(o: SampleOptions, model: tf.LayersModel, encoder: Encoder, id: number, points: number): Promise<GeneratedHead> {
  const directions = spiralDirections(points);
  const out: GeneratedHead = { points: new Float32Array(points * 3), colors: new Float32Array(points * 3) };
  for (let first = 0; first < points; first += PREDICT_ROWS) {
    const n = Math.min(PREDICT_ROWS, points - first);
    await predictInto(model, encoder.directionInputs(id, directions, first, n), n, encoder.width, out, first);
    o.onProgress?.(first + n, points);
  }
  return out;
}

async function predictInto(model: tf.LayersModel, x: Float32Array, n: number, width: number, out: GeneratedHead, first: number): Promise<void> {
  const y = tf.tidy(() => model.predict(tf.tensor2d(x, [n, width])) as tf.Tensor);
  const values = (await y.data()) as Float32Array;
  y.dispose();
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < 3; c++) {
      out.points[(first + r) * 3 + c] = values[r * 6 + c];
      const v = values[r * 6 + 3 + c];
      out.colors[(first + r) * 3 + c] = Number.isNaN(v) ? 0 : Math.min(1, Math.max(0, v));
    }
  }
}

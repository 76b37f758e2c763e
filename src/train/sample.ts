// `headsnet sample`: evaluate a trained network over the index range, as the reference predictor
// does, and write the head as a point cloud (binary little-endian PLY, or CSV).
//
// For a model id F and P points, point i is the network's output at (F, i/P): [x, y, z, r, g, b].
// Colours are clamped to [0, 1] and scaled to 0-255.
//
// Five-input models also take a ray direction. The training rows carry [-nx, -ny, -nz], the
// inward normal at the vertex that landed on icosphere vertex q, and for a head that direction
// lies near -q. So point i takes the icosphere vertex its index value names (k = round(i/P · N),
// clamped to N-1) and a direction drawn uniformly from the cone of half-angle --cone degrees
// around -q_k (seeded by --seed, so a sample is reproducible). --cone 0 uses -q_k itself.

import { writeFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { tf, initBackend } from "./backend.js";
import { loadModel } from "./model.js";
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
  seed?: number;
  points?: number;
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
  points: number;
  inputs: number;
  cone: number | null;
  bytes: number;
  seconds: number;
}

import { SAMPLE_DEFAULTS } from "./defaults.js";
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

async function sampleOrThrow(o: SampleOptions): Promise<SampleSummary> {
  const started = performance.now();
  const points = o.points ?? SAMPLE_DEFAULTS.points;
  if (!Number.isInteger(points) || points < 1 || points > 1 << 28) throw errors.usage(`${opt("points")} must be an integer from 1 to ${1 << 28}, got ${points}`);
  if (o.id !== undefined && !(o.id >= 0 && o.id <= 1)) throw errors.usage(`${opt("id")} must be a model id from 0 to 1, got ${o.id}`);
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
    if (inputs !== 2 && inputs !== 5) throw errors.model(o.model, `the network takes ${inputs} inputs; headsnet models take 2 or 5`);
    if (outputs !== 6) throw errors.model(o.model, `the network gives ${outputs} outputs; headsnet models give 6 (x y z r g b)`);
    const id = o.id !== undefined ? Math.fround(o.id) : sampleId(seed);
    let rays: { icosphere: Icosphere; cosMax: number; rng: Rng } | undefined;
    if (inputs === 5) {
      const spec = o.icosphere ?? (meta.icosphere?.source?.startsWith("level ") ? Number(meta.icosphere.source.slice(6)) : meta.icosphere?.source);
      const icosphere = loadIcosphere(spec);
      if (meta.icosphere && icosphere.count !== meta.icosphere.vertices) {
        throw errors.usage(`the model was trained with an icosphere of ${meta.icosphere.vertices} vertices; ${opt("icosphere")} gives ${icosphere.count}`);
      }
      rays = { icosphere, cosMax: Math.cos((cone * Math.PI) / 180), rng: new Rng(mixSeed(seed, SEED_CONE)) };
    }
    const pos = [new Float32Array(points), new Float32Array(points), new Float32Array(points)];
    const rgb = [new Uint8Array(points), new Uint8Array(points), new Uint8Array(points)];
    for (let first = 0; first < points; first += PREDICT_ROWS) {
      const n = Math.min(PREDICT_ROWS, points - first);
      const x = sampleInputs(inputs, id, first, n, points, rays);
      const y = tf.tidy(() => model.predict(tf.tensor2d(x, [n, inputs])) as tf.Tensor);
      const values = (await y.data()) as Float32Array;
      y.dispose();
      o.onProgress?.(first + n, points);
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < 3; c++) {
          pos[c][first + r] = values[r * 6 + c];
          const v = values[r * 6 + 3 + c];
          rgb[c][first + r] = Number.isNaN(v) ? 0 : Math.round(Math.min(1, Math.max(0, v)) * 255);
        }
      }
    }
    let bytes: Uint8Array;
    if (format === "csv") {
      const lines = ["x,y,z,red,green,blue"];
      for (let i = 0; i < points; i++) lines.push(`${pos[0][i]},${pos[1][i]},${pos[2][i]},${rgb[0][i]},${rgb[1][i]},${rgb[2][i]}`);
      bytes = Buffer.from(lines.join("\n") + "\n");
    } else {
      bytes = writePly({
        format: "binary_little_endian",
        comments: [`headsnet sample of ${o.model}: id ${id}, ${points} points${rays ? `, ray cone ${cone} degrees` : ""}`],
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
        }],
      });
    }
    try {
      await mkdir(dirname(o.out), { recursive: true });
      await writeFile(o.out, bytes);
    } catch (e) {
      throw errors.output(o.out, (e as Error).message);
    }
    return {
      model: o.model, out: o.out, format, id, points, inputs, cone: rays ? cone : null,
      bytes: bytes.byteLength, seconds: (performance.now() - started) / 1000,
    };
  } finally {
    model.dispose();
  }
}

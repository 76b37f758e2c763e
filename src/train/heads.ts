// Where a model's heads are generated, and the network inputs that generate them: one point per
// vertex of an icosphere. The trainer's evaluation, `sample`, `eval`, `view` and `render` all
// build their inputs here, so they agree to the bit (the viewer page fetches them from the server).
//
// index models: the rows' own icosphere (the model's, as its training data recorded it), point i
//   at [id, index_value(i)] (and the ray -q_i for five-input models): the reference's grid.
// the other encodings: the vertices of a generated icosphere of any level (default 5: 10,242
//   points; 7: 163,842), each vertex's direction encoded as in training. Generated icospheres
//   come with their triangles, so the points are a closed mesh's vertices.

import { Encoder, legacyEncoding, type EncodingSpec } from "./encoding.js";
import {
  recordedIcosphere, generateIcosphereMesh, loadIcosphere, DEFAULT_ICOSPHERE_LEVEL, MAX_ICOSPHERE_LEVEL,
  type Icosphere, type IcosphereRecord,
} from "../icosphere.js";
import { indexValue } from "../dataset/format.js";
import { errors, opt } from "../errors.js";

export interface HeadGrid {
  icosphere: Icosphere;
  /** Its triangles (three vertex indices each, outward), when it is a generated level. */
  faces?: Uint32Array;
  /** The generated level, when it is one. */
  level?: number;
}

/** What a model file records that generation needs (model.json's headsnet block). */
export interface ModelRecord {
  inputs: number;
  encoding?: EncodingSpec;
  icosphere?: IcosphereRecord;
}

/** The model's encoding: its record, or for a model from before encodings, its rows as they are. */
export function modelEncoding(meta: ModelRecord): EncodingSpec {
  return meta.encoding ?? legacyEncoding(meta.inputs, meta.icosphere);
}

export interface GridOptions {
  /** Generated icosphere level (0-9): any for direction and fourier models; index models take their own. */
  level?: number;
  /** An index model's icosphere, where its record does not find it (a moved table), or the one to use. */
  icosphere?: number | string | Icosphere;
  /** Where relative table paths in the record are looked for too (the model's directory). */
  dir: string;
}

function levelOf(icosphere: Icosphere): number | undefined {
  const m = /^level (\d+)$/.exec(icosphere.source);
  return m ? Number(m[1]) : undefined;
}

/** The grid a model's heads are generated on. */
export function headGrid(spec: EncodingSpec, options: GridOptions): HeadGrid {
  if (options.level !== undefined && !(Number.isInteger(options.level) && options.level >= 0 && options.level <= MAX_ICOSPHERE_LEVEL)) {
    throw errors.usage(`${opt("level")} must be an icosphere level from 0 to ${MAX_ICOSPHERE_LEVEL}, got ${options.level}`);
  }
  if (spec.name !== "index") {
    const mesh = generateIcosphereMesh(options.level ?? DEFAULT_ICOSPHERE_LEVEL);
    return { icosphere: mesh, faces: mesh.faces, level: options.level ?? DEFAULT_ICOSPHERE_LEVEL };
  }
  const given = options.icosphere;
  const icosphere = typeof given === "object" ? given
    : spec.icosphere ? recordedIcosphere(spec.icosphere, { override: given, dir: options.dir })
    : loadIcosphere(given);
  const level = levelOf(icosphere);
  if (options.level !== undefined && options.level !== level) {
    throw errors.usage(`an index model generates on the icosphere its index values name (${icosphere.source}, ${icosphere.count} vertices), so ${opt("level")} ${options.level} does not apply${level !== undefined ? ` (it is level ${level})` : ""}; train with ${opt("encoding")} fourier or direction to generate at any level`);
  }
  if (level === undefined) return { icosphere };
  const mesh = generateIcosphereMesh(level);
  return { icosphere, faces: mesh.faces, level };
}

/** The network inputs that generate model id `id`'s head on `grid` (points [first, first + count)). */
export function headInputs(encoder: Encoder, id: number, grid: HeadGrid, first = 0, count = grid.icosphere.count - first): Float32Array {
  const spec = encoder.spec;
  if (spec.name !== "index") return encoder.directionInputs(id, grid.icosphere.vertices, first, count);
  const n = grid.icosphere.count, width = spec.rowWidth, q = grid.icosphere.vertices;
  const rows = new Float32Array(count * width);
  for (let r = 0; r < count; r++) {
    const i = first + r;
    rows[r * width] = id;
    rows[r * width + 1] = indexValue(i, n);
    if (width === 5) for (let c = 0; c < 3; c++) rows[r * width + 2 + c] = -q[i * 3 + c];
  }
  return rows;
}

/** A generated head: positions and colours (clamped to 0-1) per grid point, and the grid's faces. */
export interface GeneratedHead {
  points: Float32Array;
  colors: Float32Array;
  faces?: Uint32Array;
}

/** The network outputs [x y z r g b] per point as a head. */
export function headFromOutputs(values: Float32Array, count: number, outWidth: number, faces?: Uint32Array): GeneratedHead {
  const points = new Float32Array(count * 3), colors = new Float32Array(count * 3);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < 3; c++) {
      points[i * 3 + c] = values[i * outWidth + c];
      const v = outWidth === 6 ? values[i * outWidth + 3 + c] : 0.8;
      colors[i * 3 + c] = Number.isNaN(v) ? 0 : Math.min(1, Math.max(0, v));
    }
  }
  return { points, colors, faces };
}

type Tf = typeof import("@tensorflow/tfjs");
type LayersModel = import("@tensorflow/tfjs").LayersModel;

const PREDICT_ROWS = 1 << 15;

/** Generate model id `id`'s head on `grid` with `tf` (whichever backend the caller runs). */
export async function generateHead(tf: Tf, model: LayersModel, encoder: Encoder, id: number, grid: HeadGrid): Promise<GeneratedHead> {
  const n = grid.icosphere.count, width = encoder.width;
  const outShape = model.outputs[0].shape as (number | null)[];
  const outWidth = outShape[outShape.length - 1] ?? 6;
  const values = new Float32Array(n * outWidth);
  for (let first = 0; first < n; first += PREDICT_ROWS) {
    const count = Math.min(PREDICT_ROWS, n - first);
    const x = headInputs(encoder, id, grid, first, count);
    const y = tf.tidy(() => model.predict(tf.tensor2d(x, [count, width])) as import("@tensorflow/tfjs").Tensor);
    values.set((await y.data()) as Float32Array, first * outWidth);
    y.dispose();
  }
  return headFromOutputs(values, n, outWidth, grid.faces);
}

export { Encoder };

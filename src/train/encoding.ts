// The network's input: how a training row of the reference's format, [id, index value] (or with
// the ray [id, index value, -nx, -ny, -nz]), becomes the numbers the first Dense layer takes. The
// dataset on disk never changes; each batch is encoded on the fly into a buffer that is reused.
//
//   index       the row as it is: [id, i/N] (and the ray). The reference's network, bit for bit.
//   direction   [id part, q]           q = the unit direction the row stands for (below)
//   fourier     [id part, q, sin(f_j·π·q_c), cos(f_j·π·q_c) for j < K, c in x y z]
//               f_j = scale·2^j: `fourier:K:scale` (default K 4, scale 1: f = 1, 2, 4, 8)
//
// The id part: `scalar` is the id itself; `hat` is one weight per training head (the training ids,
// sorted): one-hot at a training id, and between two neighbouring training ids a and b the pair
// (1 - t, t), t = (id - a) / (b - a) (clamped to the first and last head outside them). Through the
// first Dense layer, a hat is a learned code per head, interpolated linearly between heads.
//
// The direction q: with the `vertex` key, the icosphere vertex the row's index value names,
// q_k with k = round(value·N) (a table lookup: the N·F features are computed once); with the
// `radial` key, the direction of the row's own target point, normalize(y.xyz), at train time only.
// Generation always feeds directions (icosphere vertices of any level), so a head comes out where
// the network was asked, whichever key trained it. Why radial: the reference's tracing sends the
// sides of the nose, the ears and the eye sockets to far-away icosphere vertices, whose rows are
// then averaged with unrelated ones; keyed by their own direction, rows of a star-shaped head are a
// function of it, and the face survives (research13's measurements, README "Encodings").
//
// Widths: index 2 (or 5); direction H + 3; fourier H + 3 + 6K, with H = 1 (scalar) or the number of
// training heads (hat). Encoding a row costs a table lookup (vertex key) or 6K sines (radial key):
// a few hundred nanoseconds, against ~60 µs of training per row.

import { errors, opt } from "../errors.js";
import type { Icosphere, IcosphereRecord } from "../icosphere.js";

export const ENCODINGS = ["index", "direction", "fourier"] as const;
export type EncodingName = (typeof ENCODINGS)[number];
export const ID_ENCODINGS = ["scalar", "hat"] as const;
export type IdEncoding = (typeof ID_ENCODINGS)[number];
export const DIRECTION_KEYS = ["vertex", "radial"] as const;
export type DirectionKey = (typeof DIRECTION_KEYS)[number];

/** fourier's default octaves and base frequency (multiples of π): f = 1, 2, 4, 8. */
export const FOURIER_DEFAULTS = { octaves: 4, scale: 1 };

/** What a model records of its input (model.json's headsnet.encoding, training.json's settings). */
export interface EncodingSpec {
  name: EncodingName;
  /** fourier: K, and the base frequency `scale` (f_j = scale·2^j, times π). */
  octaves?: number;
  scale?: number;
  /** The id part (index: always the raw id). */
  id: IdEncoding;
  /** hat: the training ids, ascending, as float32 values. */
  ids?: number[];
  /** Which direction trained each row (index: none; the raw index value). */
  key: DirectionKey;
  /** Width of the rows it reads (train_x: 2, or 5 with rays; direction and fourier read the first 2). */
  rowWidth: number;
  /** The icosphere the rows' index values name. */
  icosphere?: IcosphereRecord;
}

/** The options as the trainer takes them, before the data says what they resolve to. */
export interface EncodingChoice {
  /** `index`, `direction`, `fourier`, `fourier:K` or `fourier:K:scale`. */
  encoding?: string;
  idEncoding?: IdEncoding;
  key?: DirectionKey;
}

/** The default: what trained the best heads (README "Encodings"). */
export const DEFAULT_ENCODING = "fourier";

/**
 * The hat is the default id encoding up to this many training heads, the scalar id beyond: a hat
 * adds a network input per head, and the first layer's cost grows with it (at 256 heads with 384
 * units, about a fifth more work per row; at the published corpus's 6,748, several times more).
 */
export const MAX_DEFAULT_HAT_HEADS = 256;

/** Parse `--encoding`. */
export function parseEncoding(text: string): { name: EncodingName; octaves?: number; scale?: number } {
  const [name, k, s, ...rest] = text.trim().split(":");
  const bad = (why: string): never => {
    throw errors.usage(`${opt("encoding")} must be index, direction, or fourier[:K[:scale]] (K octaves from 1 to 16, a base frequency scale above 0); ${why}, got ${JSON.stringify(text)}`);
  };
  if (!(ENCODINGS as readonly string[]).includes(name)) bad(`${JSON.stringify(name)} is none of them`);
  if (name !== "fourier") {
    if (k !== undefined) bad(`${name} takes no parameters`);
    return { name: name as EncodingName };
  }
  if (rest.length) bad("too many parameters");
  const octaves = k === undefined || k === "" ? FOURIER_DEFAULTS.octaves : Number(k);
  const scale = s === undefined || s === "" ? FOURIER_DEFAULTS.scale : Number(s);
  if (!Number.isInteger(octaves) || octaves < 1 || octaves > 16) bad("K must be an integer from 1 to 16");
  if (!(Number.isFinite(scale) && scale > 0)) bad("scale must be a number above 0");
  return { name: "fourier", octaves, scale };
}

/**
 * The encoding a run trains with, from its options and its data: `index` keeps the rows as they
 * are; the others default to the radial key, and to the hat id when the data lists its heads' ids
 * and there are at most MAX_DEFAULT_HAT_HEADS of them (else the scalar id).
 */
export function resolveEncoding(choice: EncodingChoice, data: { rowWidth: number; ids: number[] | undefined; icosphere?: IcosphereRecord }): EncodingSpec {
  const parsed = parseEncoding(choice.encoding ?? DEFAULT_ENCODING);
  if (parsed.name === "index") {
    if (choice.idEncoding === "hat") throw errors.usage(`${opt("idEncoding")} hat needs ${opt("encoding")} direction or fourier: ${opt("encoding")} index feeds the rows as they are`);
    if (choice.key === "radial") throw errors.usage(`${opt("key")} radial needs ${opt("encoding")} direction or fourier: ${opt("encoding")} index feeds the rows as they are`);
    return { name: "index", id: "scalar", key: "vertex", rowWidth: data.rowWidth, icosphere: data.icosphere };
  }
  const heads = new Set((data.ids ?? []).map(Math.fround)).size;
  const id = choice.idEncoding ?? (heads > 0 && heads <= MAX_DEFAULT_HAT_HEADS ? "hat" : "scalar");
  const key = choice.key ?? "radial";
  let ids: number[] | undefined;
  if (id === "hat") {
    if (!data.ids?.length) throw errors.usage(`${opt("idEncoding")} hat needs the training heads' ids, and this row stream does not list them; pass ${opt("idEncoding")} scalar, or train from a compiled dataset`);
    ids = [...new Set(data.ids.map(Math.fround))].sort((a, b) => a - b);
  }
  if (key === "vertex" && !data.icosphere) throw errors.usage(`${opt("key")} vertex needs the icosphere the rows were compiled with, and the data does not say which`);
  return {
    name: parsed.name, ...(parsed.name === "fourier" ? { octaves: parsed.octaves, scale: parsed.scale } : {}),
    id, ...(ids ? { ids } : {}), key, rowWidth: data.rowWidth, icosphere: data.icosphere,
  };
}

/** The spec of a model saved before encodings existed: its rows as they are. */
export function legacyEncoding(inputs: number, icosphere?: IcosphereRecord): EncodingSpec {
  return { name: "index", id: "scalar", key: "vertex", rowWidth: inputs, icosphere };
}

/** `fourier:4:1, hat id (4 heads), radial key`: how summaries name an encoding. */
export function describeEncoding(spec: EncodingSpec): string {
  if (spec.name === "index") return `index ([id, index value${spec.rowWidth === 5 ? ", ray" : ""}], the reference's)`;
  const name = spec.name === "fourier" ? `fourier:${spec.octaves}:${spec.scale}` : spec.name;
  const id = spec.id === "hat" ? `hat id (${spec.ids!.length} heads)` : "scalar id";
  return `${name}, ${id}, ${spec.key} key`;
}

export function idWidth(spec: EncodingSpec): number {
  return spec.id === "hat" ? spec.ids!.length : 1;
}

export function directionWidth(spec: EncodingSpec): number {
  return spec.name === "fourier" ? 3 + 6 * spec.octaves! : 3;
}

/** The network's input width. */
export function encodedWidth(spec: EncodingSpec): number {
  return spec.name === "index" ? spec.rowWidth : idWidth(spec) + directionWidth(spec);
}

/** The frequencies f_j (multiples of π) of a fourier encoding. */
export function frequencies(spec: EncodingSpec): number[] {
  return spec.name === "fourier" ? Array.from({ length: spec.octaves! }, (_, j) => spec.scale! * 2 ** j) : [];
}

export class Encoder {
  /** The network's input width. */
  readonly width: number;
  readonly idWidth: number;
  readonly dirWidth: number;
  private readonly omegas: number[];
  private readonly ids: number[];
  private readonly headOf = new Map<number, number>();
  /** Vertex key: the direction features of every icosphere vertex, N × dirWidth. */
  private table?: Float32Array;
  private readonly n: number;

  /** `icosphere`: the rows' icosphere, which training with the vertex key needs (its table is built here). */
  constructor(readonly spec: EncodingSpec, icosphere?: Icosphere) {
    this.width = encodedWidth(spec);
    this.idWidth = spec.name === "index" ? 0 : idWidth(spec);
    this.dirWidth = spec.name === "index" ? 0 : directionWidth(spec);
    this.omegas = frequencies(spec).map((f) => f * Math.PI);
    this.ids = spec.ids ?? [];
    this.ids.forEach((id, h) => this.headOf.set(id, h));
    this.n = icosphere?.count ?? 0;
    if (spec.name !== "index" && spec.key === "vertex" && icosphere) {
      const v = icosphere.vertices, F = this.dirWidth;
      this.table = new Float32Array(this.n * F);
      for (let k = 0; k < this.n; k++) this.direction(v[3 * k], v[3 * k + 1], v[3 * k + 2], this.table, k * F);
    }
  }

  /** The id part of the input for model id `id`, at out[at .. at + idWidth). */
  idFeatures(id: number, out: Float32Array, at: number): void {
    if (this.spec.id === "scalar") {
      out[at] = id;
      return;
    }
    const ids = this.ids, H = ids.length;
    out.fill(0, at, at + H);
    const exact = this.headOf.get(Math.fround(id));
    if (exact !== undefined) out[at + exact] = 1;
    else if (!(id > ids[0])) out[at] = 1;
    else if (!(id < ids[H - 1])) out[at + H - 1] = 1;
    else {
      let lo = 0, hi = H - 1;
      while (hi - lo > 1) {
        const m = (lo + hi) >> 1;
        if (ids[m] <= id) lo = m;
        else hi = m;
      }
      const t = (id - ids[lo]) / (ids[hi] - ids[lo]);
      out[at + lo] = 1 - t;
      out[at + hi] = t;
    }
  }

  /** The direction part for the unit direction (x, y, z), at out[at .. at + dirWidth). */
  direction(x: number, y: number, z: number, out: Float32Array, at: number): void {
    out[at] = x;
    out[at + 1] = y;
    out[at + 2] = z;
    let o = at + 3;
    for (const w of this.omegas) {
      out[o] = Math.sin(w * x);
      out[o + 1] = Math.cos(w * x);
      out[o + 2] = Math.sin(w * y);
      out[o + 3] = Math.cos(w * y);
      out[o + 4] = Math.sin(w * z);
      out[o + 5] = Math.cos(w * z);
      o += 6;
    }
  }

  /**
   * Encode `rows` training rows: x (rowWidth floats each) and their targets y (6 each) into `out`
   * (rows × width floats; the index encoding returns x itself).
   */
  encodeRows(x: Float32Array, y: Float32Array, rows: number, out: Float32Array): Float32Array {
    if (this.spec.name === "index") return x;
    const W = this.width, X = this.spec.rowWidth, I = this.idWidth, F = this.dirWidth;
    const table = this.table, N = this.n;
    if (this.spec.key === "vertex" && !table) throw new Error("encoding rows with the vertex key needs the icosphere");
    for (let r = 0; r < rows; r++) {
      const at = r * W;
      this.idFeatures(x[r * X], out, at);
      if (table) {
        const k = Math.min(N - 1, Math.max(0, Math.round(x[r * X + 1] * N)));
        out.set(table.subarray(k * F, k * F + F), at + I);
      } else {
        const px = y[r * 6], py = y[r * 6 + 1], pz = y[r * 6 + 2];
        const len = Math.hypot(px, py, pz);
        if (len > 0) this.direction(px / len, py / len, pz / len, out, at + I);
        else this.direction(0, 0, 1, out, at + I);
      }
    }
    return out.subarray(0, rows * W);
  }

  /** Generation inputs: model id `id` at each unit direction of `directions` (x y z per point). */
  directionInputs(id: number, directions: Float32Array, first = 0, count = directions.length / 3): Float32Array {
    if (this.spec.name === "index") throw new Error("the index encoding takes index values, not directions");
    const W = this.width, I = this.idWidth;
    const out = new Float32Array(count * W);
    const idPart = new Float32Array(I);
    this.idFeatures(id, idPart, 0);
    for (let r = 0; r < count; r++) {
      const i = first + r;
      out.set(idPart, r * W);
      this.direction(directions[3 * i], directions[3 * i + 1], directions[3 * i + 2], out, r * W + I);
    }
    return out;
  }
}

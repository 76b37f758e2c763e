// The icosphere whose vertex indices label each row: generated for any subdivision level, read
// from a float32 x y z table, or built in: the reference's own table (its Blender export), shipped
// in assets/ and checked against its sha256 whenever it is loaded.

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, isAbsolute, join, resolve } from "node:path";
import { errors, opt, usageError } from "./errors.js";
import { PACKAGE_ROOT } from "./package.js";

export interface Icosphere {
  /** float32 x y z per vertex. */
  vertices: Float32Array;
  count: number;
  /** sha256 of the table as raw float32 little-endian bytes. */
  sha256: string;
  /** "level 5", a built-in table's name ("blender") or the table file's path. */
  source: string;
}

export const DEFAULT_ICOSPHERE_LEVEL = 5;
export const MAX_ICOSPHERE_LEVEL = 9;

function sha256(table: Float32Array): string {
  const bytes = Buffer.from(table.buffer, table.byteOffset, table.byteLength);
  return createHash("sha256").update(bytes).digest("hex");
}

/** Vertices of an icosahedron subdivided `level` times: 10 * 4^level + 2 unit vectors. */
export function generateIcosphere(level: number): Icosphere {
  const { vertices } = subdivide(level);
  return { vertices, count: vertices.length / 3, sha256: sha256(vertices), source: `level ${level}` };
}

/** An icosphere with its triangles: what `sample` writes a generated head's surface with. */
export interface IcosphereMesh extends Icosphere {
  /** Three vertex indices per triangle, counter-clockwise seen from outside: 20 * 4^level triangles. */
  faces: Uint32Array;
}

/**
 * generateIcosphere(level)'s vertices (the same table, the same order) and its 20 * 4^level
 * triangles, outward-facing. Every edge is shared by exactly two triangles: a closed surface.
 */
export function generateIcosphereMesh(level: number): IcosphereMesh {
  const { vertices, faces } = subdivide(level);
  return { vertices, faces, count: vertices.length / 3, sha256: sha256(vertices), source: `level ${level}` };
}

function subdivide(level: number): { vertices: Float32Array; faces: Uint32Array } {
  if (!Number.isInteger(level) || level < 0 || level > MAX_ICOSPHERE_LEVEL) {
    throw usageError(`${opt("icosphere")} must be a level from 0 to ${MAX_ICOSPHERE_LEVEL}, a built-in table's name or a table file; got ${level}`);
  }
  const t = (1 + Math.sqrt(5)) / 2;
  const points: number[][] = [
    [-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0],
    [0, -1, t], [0, 1, t], [0, -1, -t], [0, 1, -t],
    [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1],
  ].map(normalize);
  let faces: number[][] = [
    [0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11],
    [1, 5, 9], [5, 11, 4], [11, 10, 2], [10, 7, 6], [7, 1, 8],
    [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9],
    [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1],
  ];
  for (let l = 0; l < level; l++) {
    const midpoints = new Map<number, number>();
    const midpoint = (a: number, b: number): number => {
      const key = a < b ? a * 0x200000 + b : b * 0x200000 + a;
      let m = midpoints.get(key);
      if (m === undefined) {
        const pa = points[a], pb = points[b];
        m = points.length;
        points.push(normalize([(pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2, (pa[2] + pb[2]) / 2]));
        midpoints.set(key, m);
      }
      return m;
    };
    const next: number[][] = [];
    for (const [a, b, c] of faces) {
      const ab = midpoint(a, b), bc = midpoint(b, c), ca = midpoint(c, a);
      next.push([a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]);
    }
    faces = next;
  }
  const vertices = new Float32Array(points.length * 3);
  points.forEach((p, i) => vertices.set(p, i * 3));
  const triangles = new Uint32Array(faces.length * 3);
  faces.forEach((f, i) => triangles.set(f, i * 3));
  return { vertices, faces: triangles };
}

function normalize(p: number[]): number[] {
  const n = Math.hypot(p[0], p[1], p[2]);
  return [p[0] / n, p[1] / n, p[2] / n];
}

/** A table of float32 little-endian x y z triples. */
export function icosphereFromBytes(bytes: Uint8Array, source: string): Icosphere {
  if (bytes.byteLength === 0 || bytes.byteLength % 12 !== 0) {
    throw errors.icosphere(`${source}: expected float32 x y z triples (a multiple of 12 bytes), got ${bytes.byteLength} bytes`);
  }
  const count = bytes.byteLength / 12;
  const vertices = new Float32Array(count * 3);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count * 3; i++) {
    const v = view.getFloat32(i * 4, true);
    if (!Number.isFinite(v)) throw errors.icosphere(`${source}: vertex ${Math.floor(i / 3)} is not finite`);
    vertices[i] = v;
  }
  if (count > 5_000_000) throw errors.icosphere(`${source}: ${count} vertices; at most 5,000,000 are supported`);
  return { vertices, count, sha256: sha256(vertices), source };
}

/**
 * Tables shipped with the package, by name. `blender` is the reference's icosphere (an icosahedron
 * subdivided five times, in Blender's vertex order): the one its published data and golden
 * outputs index, so `--icosphere blender --projection legacy` reproduces them bit for bit.
 */
const BUILTIN_ICOSPHERES: Record<string, { file: string; vertices: number; sha256: string }> = {
  blender: {
    file: "icosphere_blender_10242.f32",
    vertices: 10_242,
    sha256: "3637e2b2efa76fca4b37469c7ea5ca1f9757a47c9d2ae08ea197dce114b8dc0f",
  },
};
const BUILTIN_ALIASES: Record<string, string> = { reference: "blender" };

/** The built-in table `spec` names (`blender`, or its alias `reference`), or undefined. */
export function builtinIcosphereName(spec: number | string | undefined): string | undefined {
  if (typeof spec !== "string") return undefined;
  const name = BUILTIN_ALIASES[spec] ?? spec;
  return Object.hasOwn(BUILTIN_ICOSPHERES, name) ? name : undefined;
}

/** A built-in table, read from the package's assets/ and checked against its sha256. */
function builtinIcosphere(name: string): Icosphere {
  const { file, sha256: expected, vertices } = BUILTIN_ICOSPHERES[name];
  const path = join(PACKAGE_ROOT, "assets", file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw errors.icosphere(`the built-in table "${name}" cannot be read from ${path}: ${(e as Error).message}; reinstall headsnet, or pass the table's file to --icosphere`);
  }
  const actual = createHash("sha256").update(bytes).digest("hex");
  if (actual !== expected) {
    throw errors.icosphere(`the built-in table "${name}" at ${path} is damaged: its sha256 is ${actual}, expected ${expected} (${vertices} vertices, ${vertices * 12} bytes; this file has ${bytes.byteLength}); reinstall headsnet`);
  }
  return icosphereFromBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), name);
}

/**
 * `--icosphere`: a subdivision level (0-9), a built-in table's name (`blender`, alias
 * `reference`; a file of that name needs a path such as `./blender`), or a path to a float32
 * x y z table.
 */
export function loadIcosphere(spec: number | string | undefined): Icosphere {
  if (spec === undefined || spec === "") return generateIcosphere(DEFAULT_ICOSPHERE_LEVEL);
  if (typeof spec === "number" || /^\d+$/.test(spec)) return generateIcosphere(Number(spec));
  const builtin = builtinIcosphereName(spec);
  if (builtin) return builtinIcosphere(builtin);
  let bytes: Buffer;
  try {
    bytes = readFileSync(spec);
  } catch (e) {
    throw errors.icosphere(`cannot read the table ${spec}: ${(e as Error).message}; pass a level (0-${MAX_ICOSPHERE_LEVEL}), "blender" (the reference's table, built in) or a float32 x y z table file`);
  }
  return icosphereFromBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), spec);
}

/** What a manifest, a row stream or a model records of its icosphere. */
export interface IcosphereRecord {
  vertices: number;
  sha256?: string;
  /** "level N", a built-in table's name, or the table file's path as given to compile. */
  source: string;
}

/** The built-in icosphere (a generated level or a shipped table) with this sha256, if any. */
export function builtinIcosphereBySha(sha: string, vertices: number): Icosphere | undefined {
  for (const name of Object.keys(BUILTIN_ICOSPHERES)) {
    if (BUILTIN_ICOSPHERES[name].sha256 === sha && BUILTIN_ICOSPHERES[name].vertices === vertices) return builtinIcosphere(name);
  }
  const level = Math.round(Math.log((vertices - 2) / 10) / Math.log(4));
  if (level >= 0 && level <= MAX_ICOSPHERE_LEVEL && 10 * 4 ** level + 2 === vertices) {
    const generated = generateIcosphere(level);
    if (generated.sha256 === sha) return generated;
  }
  return undefined;
}

/**
 * The icosphere a dataset or model was made with, from its record: `override` (--icosphere) when
 * given, which must have the recorded sha256; else a generated level or a built-in table, found by
 * its name or by its sha256 (a table file that has moved, but is one of the built-in ones); else
 * the table file, as recorded (relative to the working directory) or beside `dir`. Throws
 * E_ICOSPHERE naming `dir` and saying to pass --icosphere when none of these is it.
 */
export function recordedIcosphere(record: IcosphereRecord, options: { override?: number | string; dir: string }): Icosphere {
  const { source, sha256: sha, vertices } = record;
  const fail = (cause: string): never => {
    throw errors.datasetIcosphere(options.dir, source, cause);
  };
  const check = (ico: Icosphere, what: string): Icosphere => {
    if (ico.count !== vertices) fail(`${what} has ${ico.count} vertices, ${vertices} were recorded`);
    if (sha && ico.sha256 !== sha) fail(`${what} has sha256 ${ico.sha256}, ${sha} was recorded: it is another table`);
    return ico;
  };
  if (options.override !== undefined && options.override !== "") return check(loadIcosphere(options.override), `${opt("icosphere")} ${options.override}`);
  const level = /^level (\d+)$/.exec(source) ?? /^(\d+)$/.exec(source);
  if (level) return check(generateIcosphere(Number(level[1])), source);
  if (builtinIcosphereName(source)) return check(loadIcosphere(source), `the built-in table ${source}`);
  if (sha) {
    const builtin = builtinIcosphereBySha(sha, vertices);
    if (builtin) return builtin;
  }
  const candidates = [...new Set(isAbsolute(source) ? [source] : [resolve(source), join(options.dir, source), join(options.dir, basename(source))])];
  const found = candidates.find((p) => existsSync(p));
  if (!found) return fail(`the table file is not at ${candidates.join(" or ")}, and no built-in icosphere has its sha256 (${sha ?? "not recorded"})`);
  return check(loadIcosphere(found), `the table at ${found}`);
}

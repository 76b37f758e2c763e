// Every message headsnet prints about bad input or bad usage lives here: what happened, why, and
// what to do about it.

import {
  S_TRUNCATED, S_BAD_NUMBER, S_NONFINITE, S_OUTSIDE_SPHERE, S_ZERO_NORMAL, S_BAD_LIST, S_BAD_TYPE,
  S_BAD_INDEX, S_BIG_FACE, FACE_MAX_CORNERS, S_NO_MEMORY, S_NO_VERTICES, S_NO_FACES, S_SHORT_FACE,
  S_BAD_ARITY, S_UNKNOWN_STATEMENT, S_MIXED_COLORS, S_NO_AREA, S_BAD_CORNER,
} from "./abi.js";

export type ErrorCode =
  | "E_USAGE"
  | "E_INPUT_MISSING"
  | "E_NO_INPUTS"
  | "E_READ"
  | "E_NOT_PLY"
  | "E_EMPTY"
  | "E_HEADER"
  | "E_NO_VERTEX"
  | "E_MISSING_PROPERTY"
  | "E_TRUNCATED"
  | "E_BAD_NUMBER"
  | "E_NONFINITE"
  | "E_OUTSIDE_SPHERE"
  | "E_ZERO_NORMAL"
  | "E_BAD_LIST"
  | "E_BAD_TYPE"
  | "E_BAD_INDEX"
  | "E_ICOSPHERE"
  | "E_OUTPUT"
  | "E_WORKER"
  | "E_MANIFEST"
  | "E_INTERRUPTED"
  | "E_RESUME"
  | "E_NO_FACES"
  | "E_SYNTAX"
  | "E_NO_MEMORY";

export interface ErrorPlace {
  file?: string;
  offset?: number;
  line?: number;
  vertex?: number;
}

export class HeadsnetError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly offset?: number;
  readonly line?: number;
  readonly vertex?: number;

  constructor(code: ErrorCode, message: string, place: ErrorPlace = {}) {
    super(message);
    this.name = "HeadsnetError";
    this.code = code;
    this.file = place.file;
    this.offset = place.offset;
    this.line = place.line;
    this.vertex = place.vertex;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, file: this.file, offset: this.offset, line: this.line, vertex: this.vertex };
  }
}

function where(place: ErrorPlace): string {
  const parts: string[] = [];
  if (place.line !== undefined) parts.push(`line ${place.line}`);
  if (place.offset !== undefined) parts.push(`byte ${place.offset}`);
  if (place.vertex !== undefined) parts.push(`vertex ${place.vertex}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

export const errors = {
  inputMissing: (input: string) =>
    new HeadsnetError("E_INPUT_MISSING", `input not found: ${input} (pass existing .ply files or directories)`, { file: input }),
  noInputs: (inputs: string[]) =>
    new HeadsnetError("E_NO_INPUTS", `no .ply files found in ${inputs.join(", ")}`),
  read: (file: string, cause: string) =>
    new HeadsnetError("E_READ", `${file}: cannot read the file: ${cause}`, { file }),
  empty: (file: string) =>
    new HeadsnetError("E_EMPTY", `${file}: the file is empty; expected a PLY file starting with "ply"`, { file, offset: 0 }),
  notPly: (file: string, found: string) =>
    new HeadsnetError("E_NOT_PLY", `${file}: not a PLY file: expected "ply" on the first line, found ${JSON.stringify(found)}`, { file, offset: 0 }),
  header: (file: string, what: string, place: ErrorPlace = {}) =>
    new HeadsnetError("E_HEADER", `${file}: bad PLY header${where(place)}: ${what}`, { ...place, file }),
  noVertex: (file: string) =>
    new HeadsnetError("E_NO_VERTEX", `${file}: the header declares no "vertex" element`, { file }),
  missingProperty: (file: string, what: string) =>
    new HeadsnetError("E_MISSING_PROPERTY", `${file}: ${what}`, { file }),
  bodyTooShort: (file: string, count: number, bytes: number, perVertex: number, offset: number) =>
    new HeadsnetError("E_TRUNCATED",
      `${file}: the file ends early: the header promises ${count} vertices, which need at least ${count * perVertex} bytes, but the body from byte ${offset} has ${bytes}`, { file, offset }),
  noColors: (file: string) =>
    new HeadsnetError("E_MISSING_PROPERTY", `${file}: the vertex element has no red, green, blue colours; pass --default-color R,G,B (0-1 each) to use one colour`, { file }),
  noNormals: (file: string, why: string) =>
    new HeadsnetError("E_MISSING_PROPERTY", why
      ? `${file}: ${why} needs ${why.includes("compute") ? "a face element with a vertex_indices list" : "nx, ny, nz vertex properties"}, and the file has none`
      : `${file}: the file has no normals (nx, ny, nz) and no faces to compute them from`, { file }),
  icosphere: (what: string) => new HeadsnetError("E_ICOSPHERE", `icosphere: ${what}`),
  output: (path: string, cause: string) =>
    new HeadsnetError("E_OUTPUT", `cannot write ${path}: ${cause}`, { file: path }),
  worker: (file: string, cause: string) =>
    new HeadsnetError("E_WORKER", `${file}: the worker compiling this file failed: ${cause}`, { file }),
  interrupted: (dir: string, done: number, total: number) =>
    new HeadsnetError("E_INTERRUPTED", `interrupted after ${done} of ${total} files; the work so far is kept in ${dir}: run the same command with --resume to finish`),
  outputResumable: (error: HeadsnetError, done: number, total: number) =>
    new HeadsnetError("E_OUTPUT", `${error.message} (after ${done} of ${total} files; free space or fix the problem, then run the same command with --resume to finish)`, { file: error.file }),
  resumeMismatch: (dir: string) =>
    new HeadsnetError("E_RESUME", `${dir} holds an interrupted run of other inputs or options (or the inputs changed since); run the command it was started with, or drop --resume to start over`),
  resumeDamaged: (dir: string) =>
    new HeadsnetError("E_RESUME", `${dir}: the interrupted run's partial files are missing or shorter than its last checkpoint; drop --resume to start over`),
  manifest: (path: string, what: string) =>
    new HeadsnetError("E_MANIFEST", `${path}: ${what}`, { file: path }),

  /** Turn a kernel status into an error that names the file, the place and what was expected. */
  kernel(status: number, file: string, place: ErrorPlace & { count: number; token?: string }): HeadsnetError {
    const at = where(place);
    switch (status) {
      case S_TRUNCATED:
        return new HeadsnetError("E_TRUNCATED",
          `${file}: the file ends early${at}: the header promises ${place.count} vertices but the body stops before vertex ${place.vertex ?? "?"} is complete`, place);
      case S_BAD_NUMBER:
        return new HeadsnetError("E_BAD_NUMBER",
          `${file}: expected a number${at}, found ${JSON.stringify(place.token ?? "")}`, place);
      case S_NONFINITE:
        return new HeadsnetError("E_NONFINITE",
          `${file}: vertex ${place.vertex} has a NaN or infinite position, normal or colour${at}`, place);
      case S_OUTSIDE_SPHERE:
        return new HeadsnetError("E_OUTSIDE_SPHERE",
          `${file}: vertex ${place.vertex} lies outside the unit sphere${at}; --projection ray traces from inside it (scale the mesh into the sphere, or use --projection legacy)`, place);
      case S_ZERO_NORMAL:
        return new HeadsnetError("E_ZERO_NORMAL",
          `${file}: vertex ${place.vertex} has a zero-length normal${at}; --projection ray needs a direction (use --projection legacy)`, place);
      case S_BAD_LIST:
        return new HeadsnetError("E_BAD_LIST", `${file}: a list count is negative or not an integer${at}`, place);
      case S_BAD_INDEX:
        return new HeadsnetError("E_BAD_INDEX",
          `${file}: face ${place.vertex} refers to a vertex that does not exist${at}; the file has ${place.count} faces and its vertex indices must be below the vertex count`, place);
      case S_BIG_FACE:
        return new HeadsnetError("E_BAD_LIST", `${file}: face ${place.vertex} has more than ${FACE_MAX_CORNERS} corners${at}`, place);
      case S_BAD_TYPE:
        return new HeadsnetError("E_BAD_TYPE", `${file}: a property has a type the decoder cannot read${at}`, place);
      default:
        return new HeadsnetError("E_WORKER", `${file}: the kernel stopped with status ${status}${at}`, place);
    }
  },
};

/** Where an OBJ error is: its line, byte offset and the token there. */
export interface ObjPlace {
  line: number;
  offset: number;
  token: string;
  /** What the kernel said of it: the count of numbers or corners found, or the index. */
  item: number;
  vertices: number;
  normals: number;
}

/** Errors of the mesh targets (src/mesh/): OBJ syntax, meshes without faces or area. */
export const meshErrors = {
  /** An OBJ kernel status as an error naming the file, the line and what was expected. */
  obj(status: number, file: string, at: ObjPlace): HeadsnetError {
    const place = { file, line: at.line, offset: at.offset };
    const here = `${file}: line ${at.line}`;
    const token = JSON.stringify(at.token);
    switch (status) {
      case S_BAD_NUMBER:
        return new HeadsnetError("E_BAD_NUMBER", `${here}: expected a number, found ${token}`, place);
      case S_NONFINITE:
        return new HeadsnetError("E_NONFINITE", `${here}: a NaN or infinite value in ${token}`, place);
      case S_BAD_ARITY:
        return new HeadsnetError("E_SYNTAX", at.token === "vn"
          ? `${here}: a "vn" line needs 3 numbers (x y z), found ${at.item}`
          : `${here}: a "v" line needs 3 numbers (x y z), 4 (x y z w) or 6 (x y z r g b), found ${at.item > 8 ? "more than 8" : at.item}`, place);
      case S_MIXED_COLORS:
        return new HeadsnetError("E_SYNTAX",
          `${here}: this "v" line ${at.item ? "has" : "has no"} colour (r g b) but the ones before it ${at.item ? "have none" : "have"}; every vertex needs a colour, or none`, place);
      case S_BAD_INDEX:
        return new HeadsnetError("E_BAD_INDEX",
          `${here}: face corner ${token} refers to index ${at.item}, which does not exist: the file has ${at.vertices} vertices and ${at.normals} normals, numbered from 1 (or from -1 backwards for the ones defined above the line)`, place);
      case S_SHORT_FACE:
        return new HeadsnetError("E_BAD_LIST", `${here}: a face needs at least 3 corners, found ${at.item}`, place);
      case S_BIG_FACE:
        return new HeadsnetError("E_BAD_LIST", `${here}: a face has more than ${FACE_MAX_CORNERS} corners`, place);
      case S_BAD_CORNER:
        return new HeadsnetError("E_SYNTAX", `${here}: expected a face corner v, v/vt, v//vn or v/vt/vn (whole numbers), found ${token}`, place);
      case S_UNKNOWN_STATEMENT:
        return new HeadsnetError("E_SYNTAX",
          `${here}: ${token} is not an OBJ statement; expected v, vn, vt, f, o, g, s, usemtl, mtllib, another OBJ keyword or a # comment (is this an OBJ file?)`, place);
      case S_NO_VERTICES:
        return new HeadsnetError("E_NO_VERTEX", `${file}: no vertices: an OBJ mesh needs "v x y z" lines`, { file });
      default:
        return meshErrors.status(status, file);
    }
  },
  /** Statuses of the mesh targets that concern the mesh as a whole. */
  status(status: number, file: string): HeadsnetError {
    switch (status) {
      case S_NO_FACES:
        return new HeadsnetError("E_NO_FACES", `${file}: the mesh has no faces; surface and occupancy samples need triangles`, { file });
      case S_NO_AREA:
        return new HeadsnetError("E_NO_FACES", `${file}: every triangle of the mesh has zero area, so there is no surface to sample`, { file });
      case S_NO_MEMORY:
        return new HeadsnetError("E_NO_MEMORY", `${file}: the mesh needs more than the 4 GiB of memory WebAssembly can address`, { file });
      case S_NO_VERTICES:
        return new HeadsnetError("E_NO_VERTEX", `${file}: the mesh has no vertices`, { file });
      default:
        return new HeadsnetError("E_WORKER", `${file}: the mesh kernel stopped with status ${status}`, { file });
    }
  },
  noColors: (file: string, target: string) =>
    new HeadsnetError("E_MISSING_PROPERTY", `${file}: the mesh has no vertex colours, and ${target} needs them; pass a default colour (--default-color R,G,B, 0-1 each)`, { file }),
  badPoints: (what: string) => new HeadsnetError("E_USAGE", `metrics: ${what}`),
};

export function usageError(message: string): HeadsnetError {
  return new HeadsnetError("E_USAGE", message);
}

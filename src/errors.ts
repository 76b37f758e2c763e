// Every message headsnet gives about bad input, bad usage or a failed step lives here: what
// happened, where, and what to do about it. Library functions throw or return these; the command
// line prints them.
//
// Messages name options through opt("name"): the API's option name. HeadsnetError keeps the
// template, so the API reads "`defaultColor`" and the command line (cliMessage) reads
// "--default-color": library code never knows which flag spelled an option.

import {
  S_TRUNCATED, S_BAD_NUMBER, S_NONFINITE, S_OUTSIDE_SPHERE, S_ZERO_NORMAL, S_BAD_LIST, S_BAD_TYPE,
  S_BAD_INDEX, S_BIG_FACE, S_TOO_FAR, FACE_MAX_CORNERS, S_NO_MEMORY, S_NO_VERTICES, S_NO_FACES, S_SHORT_FACE,
  S_BAD_ARITY, S_UNKNOWN_STATEMENT, S_MIXED_COLORS, S_NO_AREA, S_BAD_CORNER,
} from "./abi.js";

export type ErrorCode =
  | "E_USAGE"
  | "E_INPUT_MISSING"
  | "E_NO_INPUTS"
  | "E_EXISTS"
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
  | "E_TOO_FAR"
  | "E_ZERO_NORMAL"
  | "E_BAD_LIST"
  | "E_BAD_TYPE"
  | "E_BAD_INDEX"
  | "E_ICOSPHERE"
  | "E_OUTPUT"
  | "E_WORKER"
  | "E_MANIFEST"
  | "E_NO_ROWS"
  | "E_SHARDS"
  | "E_INTERRUPTED"
  | "E_RESUME"
  | "E_TRAIN"
  | "E_INTERNAL"
  | "E_NO_FACES"
  | "E_SYNTAX"
  | "E_NO_MEMORY"
  | "E_PICTURE";

export interface ErrorPlace {
  file?: string;
  offset?: number;
  line?: number;
  vertex?: number;
}

/** What an error looks like when it crosses a thread or goes out as JSON. */
export interface ErrorJson extends ErrorPlace {
  code: ErrorCode;
  message: string;
  /** The message with its option references unresolved (see opt()). */
  template?: string;
}

const OPT_OPEN = "\u2039", OPT_CLOSE = "\u203a";
const OPT_PATTERN = /\u2039([A-Za-z0-9]+)\u203a/g;

/** A reference to an option in a message: `name` in the API, its flag on the command line. */
export function opt(name: string): string {
  return `${OPT_OPEN}${name}${OPT_CLOSE}`;
}

/** Flags whose spelling is not the kebab-case of the API name. */
const FLAG_NAMES: Record<string, string> = {
  inputWidth: "--inputs",
  out: "-o",
  onInvalid: "--on-nonfinite",
  fromPly: "--from-ply",
  fast: "--stock-kernels",
};

function flagOf(name: string): string {
  return FLAG_NAMES[name] ?? `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export type MessageStyle = "api" | "cli";
let defaultStyle: MessageStyle = "api";

/**
 * How messages made from now on name options: by their API names (the default) or by their
 * command-line flags (the command line sets this once, at its start).
 */
export function setMessageStyle(style: MessageStyle): void {
  defaultStyle = style;
}

function render(template: string, style: MessageStyle = defaultStyle): string {
  return template.replace(OPT_PATTERN, (_, name: string) => (style === "cli" ? flagOf(name) : `\`${name}\``));
}

export class HeadsnetError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly offset?: number;
  readonly line?: number;
  readonly vertex?: number;
  readonly template: string;

  constructor(code: ErrorCode, message: string, place: ErrorPlace = {}) {
    super(render(message));
    this.name = "HeadsnetError";
    this.template = message;
    this.code = code;
    this.file = place.file;
    this.offset = place.offset;
    this.line = place.line;
    this.vertex = place.vertex;
  }

  /** The message as the command line shows it: options by their flags, whatever the default style. */
  get cliMessage(): string {
    return render(this.template, "cli");
  }

  toJSON(): ErrorJson {
    return { code: this.code, message: this.message, template: this.template, file: this.file, offset: this.offset, line: this.line, vertex: this.vertex };
  }

  static fromJSON(e: ErrorJson): HeadsnetError {
    return new HeadsnetError(e.code, e.template ?? e.message, e);
  }
}

/** The message of any error (or a message template), as the command line shows it. */
export function cliMessage(e: unknown): string {
  if (e instanceof HeadsnetError) return e.cliMessage;
  if (e && typeof e === "object" && "template" in e && typeof e.template === "string") return render(e.template, "cli");
  return e instanceof Error ? e.message : String(e);
}

function where(place: ErrorPlace): string {
  const parts: string[] = [];
  if (place.line !== undefined) parts.push(`line ${place.line}`);
  if (place.offset !== undefined) parts.push(`byte ${place.offset}`);
  if (place.vertex !== undefined) parts.push(`vertex ${place.vertex}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

const DATASET_HINT = "pass a directory written by 'headsnet compile'";
const SHOWABLE = "pass a .ply file, a compiled dataset directory (with manifest.json) or a trained model directory (with model.json)";

export function usageError(message: string): HeadsnetError {
  return new HeadsnetError("E_USAGE", message);
}

export const errors = {
  usage: usageError,

  // Paths and inputs.
  /** A path named by the user that does not exist: the same words in every command. */
  notFound: (path: string, what = "file or directory") =>
    new HeadsnetError("E_INPUT_MISSING", `${path}: no such ${what}`, { file: path }),
  inputMissing: (input: string) =>
    new HeadsnetError("E_INPUT_MISSING", `${input}: no such file or directory (pass existing .ply files or directories)`, { file: input }),
  noInputs: (inputs: string[]) =>
    new HeadsnetError("E_NO_INPUTS", `no .ply files found in ${inputs.join(", ")}`),
  notDirectory: (path: string, what: string) =>
    new HeadsnetError("E_USAGE", `${path} is a file, not a directory; ${what}`, { file: path }),
  read: (file: string, cause: string) =>
    new HeadsnetError("E_READ", `${file}: cannot read the file: ${cause}`, { file }),
  output: (path: string, cause: string) =>
    new HeadsnetError("E_OUTPUT", `cannot write ${path}: ${cause}`, { file: path }),

  // PLY files.
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
    new HeadsnetError("E_MISSING_PROPERTY", `${file}: the vertex element has no red, green, blue colours; pass ${opt("defaultColor")} R,G,B (0-1 each) to use one colour`, { file }),
  noNormals: (file: string, why: "file" | "compute" | "splats") =>
    new HeadsnetError("E_MISSING_PROPERTY", why === "compute"
      ? `${file}: ${opt("normals")} compute needs a face element with a vertex_indices list, and the file has none`
      : why === "splats"
        ? `${file}: holds 3D Gaussian splats, which are points: their nx, ny, nz are placeholders (zeros) and are not used, and they have no faces to compute normals from; leave ${opt("normals")} at auto`
        : `${file}: ${opt("normals")} file needs nx, ny, nz vertex properties, and the file has none`, { file }),

  // Options that several commands take.
  defaultColor: (value: ArrayLike<number> | string) =>
    usageError(`${opt("defaultColor")} must be three numbers from 0 to 1, as R,G,B (e.g. 0.8,0.6,0.5); got ${typeof value === "string" ? JSON.stringify(value) : Array.from(value).join(",")}`),
  minOpacity: (value: unknown) =>
    usageError(`${opt("minOpacity")} must be a number from 0 to 1, got ${value}`),

  // Face pictures (compile --images).
  noPicture: (mesh: string, dir: string, looked: string[]) =>
    new HeadsnetError("E_PICTURE", `${mesh}: no picture for this mesh in ${dir} (looked for ${looked.join(", ")} at the mesh's path under its input, then anywhere in the folder)`, { file: mesh }),
  ambiguousPicture: (mesh: string, found: readonly string[]) =>
    new HeadsnetError("E_PICTURE", `${mesh}: ${found.length} pictures could be this mesh's: ${found.join(", ")}; keep one, or mirror the meshes' folders in ${opt("images")} so that paths decide`, { file: mesh }),
  picture: (path: string, mesh: string, what: string, offset?: number) =>
    new HeadsnetError("E_PICTURE", `${path} (the picture of ${mesh}): ${what}${offset !== undefined ? ` (byte ${offset})` : ""}`, { file: path, offset }),

  // The icosphere.
  icosphere: (what: string) => new HeadsnetError("E_ICOSPHERE", `icosphere: ${what}`),
  datasetIcosphere: (dir: string, source: string, cause: string) =>
    new HeadsnetError("E_ICOSPHERE", `${dir}: cannot load the icosphere it was compiled or trained with (${source}): ${cause}; pass ${opt("icosphere")} with the same level or table`, { file: dir }),

  // Compile runs.
  worker: (file: string, cause: string) =>
    new HeadsnetError("E_WORKER", `${file}: the worker compiling this file failed: ${cause}`, { file }),
  kernelFailed: (file: string, cause: string) =>
    new HeadsnetError("E_WORKER", `${file}: the kernel failed: ${cause}`, { file }),
  rowsNotWritten: (file: string, cause: string) =>
    new HeadsnetError("E_OUTPUT", `cannot write the rows of ${file}: ${cause}`, { file }),
  datasetExists: (dir: string, what: string) =>
    new HeadsnetError("E_EXISTS", `${dir} already holds ${what}; pass ${opt("overwrite")} to replace it (it stays as it is until the new dataset is complete), or choose another output directory`, { file: dir }),
  noneCompiled: (total: number, first: string) =>
    new HeadsnetError("E_NO_ROWS", `none of the ${total} input file${total === 1 ? "" : "s"} compiled, so no dataset was written (any dataset already in the output directory is unchanged). ${total > 1 ? "The first failure: " : ""}${first}`),
  strictStop: (message: string, file: string) =>
    new HeadsnetError("E_WORKER", `${message} (${opt("strict")}: stopped; no output was written)`, { file }),
  interrupted: (dir: string, done: number, total: number) =>
    new HeadsnetError("E_INTERRUPTED", `interrupted after ${done} of ${total} files; the work so far is kept in ${dir}: run the same command with ${opt("resume")} to finish`),
  outputResumable: (error: HeadsnetError, done: number, total: number) =>
    new HeadsnetError("E_OUTPUT", `${error.template} (after ${done} of ${total} files; free space or fix the problem, then run the same command with ${opt("resume")} to finish)`, { file: error.file }),
  resumeMismatch: (dir: string) =>
    new HeadsnetError("E_RESUME", `${dir} holds an interrupted run of other inputs or options (or the inputs changed since); run the command it was started with, or drop ${opt("resume")} to start over`),
  resumeDamaged: (dir: string) =>
    new HeadsnetError("E_RESUME", `${dir}: the interrupted run's partial files are missing or shorter than its last checkpoint; drop ${opt("resume")} to start over`),

  // Datasets (dataset/read.ts).
  noManifest: (dir: string) =>
    new HeadsnetError("E_MANIFEST", `${dir}: no manifest.json: not a finished headsnet dataset (${DATASET_HINT}; an interrupted compile finishes with ${opt("resume")})`, { file: dir }),
  manifest: (path: string, what: string) =>
    new HeadsnetError("E_MANIFEST", `${path}: ${what}`, { file: path }),
  dataFile: (path: string, what: string) =>
    new HeadsnetError("E_MANIFEST", `${path}: ${what}; the data does not match its manifest (run 'headsnet verify' on it, or compile it again)`, { file: path }),
  wrongTarget: (dir: string, target: string, wanted: string) =>
    new HeadsnetError("E_MANIFEST", `${dir} holds a ${target} dataset; this needs a ${wanted} dataset`, { file: dir }),
  shards: (path: string, what: string) =>
    new HeadsnetError("E_SHARDS", `${path} ${what}`, { file: path }),
  missingShards: (given: string[], missing: number[], count: number) =>
    new HeadsnetError("E_SHARDS", `shard${missing.length > 1 ? "s" : ""} ${missing.join(", ")} of ${count} ${missing.length > 1 ? "are" : "is"} missing (given: ${given.join(", ")}); compile ${missing.length > 1 ? "each" : "it"} with the same command and ${opt("shard")} ${missing[0]}/${count}${missing.length > 1 ? " and so on" : ""}, then name ${missing.length > 1 ? "them" : "it"} here too`),
  emptyDataset: (dir: string) =>
    new HeadsnetError("E_MANIFEST", `${dir}: the manifest lists no compiled models; there is nothing to show`, { file: dir }),

  // Training, sampling, models.
  model: (path: string, what: string) =>
    new HeadsnetError("E_READ", `${path}: ${what}`, { file: path }),
  stream: (source: string, what: string, offset?: number) =>
    new HeadsnetError("E_READ", `${source}: bad row stream${offset !== undefined ? ` (byte ${offset})` : ""}: ${what}`, { file: source, offset }),
  train: (what: string) => new HeadsnetError("E_TRAIN", what),
  trainInterrupted: (dir: string, epoch: number, step: number) =>
    new HeadsnetError("E_INTERRUPTED", `interrupted at epoch ${epoch}, step ${step.toLocaleString("en-US")}; the model so far is saved in ${dir}: run the same command with ${opt("resume")} to continue from there`, { file: dir }),

  // The viewer and renderer.
  unknownKind: (path: string, why: string) =>
    new HeadsnetError("E_USAGE", `${path}: ${why}; ${SHOWABLE}`, { file: path }),
  noModel: (dir: string, selector: string, hint: string) =>
    new HeadsnetError("E_USAGE", `${dir}: no model ${JSON.stringify(selector)} in the manifest (pass a model's path or its id${hint})`, { file: dir }),
  modelJson: (path: string, what: string) =>
    new HeadsnetError("E_MANIFEST", `${path}: not a TensorFlow.js layers model: ${what} (expected model.json with modelTopology and weightsManifest, as tf.LayersModel.save writes)`, { file: path }),
  modelShape: (path: string, what: string) =>
    new HeadsnetError("E_MANIFEST", `${path}: ${what}`, { file: path }),

  /** Turn a kernel status into an error that names the file, the place and what was expected. */
  kernel(status: number, file: string, place: ErrorPlace & { count: number; token?: string }): HeadsnetError {
    const at = where(place);
    const p = { ...place, file };
    switch (status) {
      case S_TRUNCATED:
        return new HeadsnetError("E_TRUNCATED",
          `${file}: the file ends early${at}: the header promises ${place.count} vertices but the body stops before vertex ${place.vertex ?? "?"} is complete`, p);
      case S_BAD_NUMBER:
        return new HeadsnetError("E_BAD_NUMBER",
          `${file}: expected a number${at}, found ${JSON.stringify(place.token ?? "")}`, p);
      case S_NONFINITE:
        return new HeadsnetError("E_NONFINITE",
          `${file}: vertex ${place.vertex} has a NaN or infinite position, normal or colour${at}; pass ${opt("onNonfinite")} skip to leave such vertices out`, p);
      case S_OUTSIDE_SPHERE:
        return new HeadsnetError("E_OUTSIDE_SPHERE",
          `${file}: vertex ${place.vertex} lies outside the unit sphere${at}; ${opt("projection")} ray traces from inside it (scale the mesh into the sphere with ${opt("normalize")} fit, or use ${opt("projection")} legacy)`, p);
      case S_TOO_FAR:
        return new HeadsnetError("E_TOO_FAR",
          `${file}: vertex ${place.vertex} is traced to a point 9999 or more from every icosphere vertex${at}, where the reference writes no row; scale the mesh into the unit sphere (${opt("normalize")} fit), or pass ${opt("onNonfinite")} skip to leave such vertices out as the reference does`, p);
      case S_ZERO_NORMAL:
        return new HeadsnetError("E_ZERO_NORMAL",
          `${file}: vertex ${place.vertex} has a zero-length normal${at}; ${opt("projection")} ray needs a direction (use ${opt("projection")} legacy)`, p);
      case S_BAD_LIST:
        return new HeadsnetError("E_BAD_LIST", `${file}: a list count is negative or not an integer${at}`, p);
      case S_BAD_INDEX:
        return new HeadsnetError("E_BAD_INDEX",
          `${file}: face ${place.vertex} refers to a vertex that does not exist${at}; the file has ${place.count} faces and its vertex indices must be below the vertex count`, p);
      case S_BIG_FACE:
        return new HeadsnetError("E_BAD_LIST", `${file}: face ${place.vertex} has more than ${FACE_MAX_CORNERS} corners${at}`, p);
      case S_BAD_TYPE:
        return new HeadsnetError("E_BAD_TYPE", `${file}: a property has a type the decoder cannot read${at}`, p);
      default:
        return new HeadsnetError("E_WORKER", `${file}: the kernel stopped with status ${status}${at}`, p);
    }
  },
};

/** What headsnet says about a file that compiled but may not be what the user meant. */
export const warnings = {
  outsideSphere: (radius: number) =>
    `vertices lie outside the unit sphere (the farthest at radius ${radius.toPrecision(4)}), where tracing to the sphere means little; pass ${opt("normalize")} fit to scale each mesh into it`,
};

/** What inspect, view and render say about a kind of input: what it is and what compile makes of it. */
export const notes = {
  pointCloud: (projection: "legacy" | "ray") =>
    `a point cloud (no normals, no faces): ${projection === "ray"
      ? `${opt("projection")} ray traces each point straight out from the centre`
      : `the legacy step keeps each point where it is, as the reference does with zero normals (${opt("projection")} ray traces it straight out from the centre)`}`,
  splats: (count: number, opacity: { min: number; max: number } | undefined, minOpacity: number | undefined, transparent: number) =>
    `3D Gaussian splats: ${count.toLocaleString("en-US")} splats, colour from f_dc (0.5 + 0.28209479·f_dc, clamped to 0-1), ${opacity
      ? `opacity ${Number(opacity.min.toPrecision(4))} to ${Number(opacity.max.toPrecision(4))}`
      : "no opacity"}; their nx, ny, nz are not used${minOpacity === undefined
      ? opacity ? ` (${opt("minOpacity")} X leaves out splats less opaque than X)` : ""
      : `; ${opt("minOpacity")} ${minOpacity} leaves out ${transparent.toLocaleString("en-US")} of them`}`,
};

/** A message template (see opt()) as the current style reads: options by API name or by flag. */
export function messageText(template: string): string {
  return render(template);
}

/** Run a function that throws HeadsnetErrors for user errors; return them instead. */
export async function captureErrors<T>(fn: () => Promise<T>): Promise<{ error?: HeadsnetError; result?: T }> {
  try {
    return { result: await fn() };
  } catch (e) {
    if (e instanceof HeadsnetError) return { error: e };
    throw e;
  }
}

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
    new HeadsnetError("E_MISSING_PROPERTY", `${file}: the mesh has no vertex colours, and ${target} needs them; pass a default colour (${opt("defaultColor")} R,G,B, 0-1 each)`, { file }),
  badPoints: (what: string) => new HeadsnetError("E_USAGE", `metrics: ${what}`),
};

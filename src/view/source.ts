// What `headsnet view` and `headsnet render` show: a PLY file, a compiled dataset or a trained
// model, each read into point clouds (positions, colours and, when known, the icosphere vertex of
// every point). Errors name the file.

import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { HeadsnetError, messageText, notes } from "../errors.js";
import { loadIcosphere, generateIcosphere, recordedIcosphere, type Icosphere, type IcosphereRecord } from "../icosphere.js";
import { Encoder, type EncodingSpec } from "../train/encoding.js";
import { headGrid, modelEncoding, type HeadGrid } from "../train/heads.js";
import { Kernel, type KernelOptions } from "../kernel.js";
import { validatePlyOptions } from "../compile/options.js";
import { parseHeader, vertexLayout, inputKind, MAX_HEADER_BYTES, describeElements, type InputKind as PlyKind } from "../ply-header.js";
import { MANIFEST_NAME, indexOfValue, type Manifest, type ModelEntry } from "../dataset/format.js";
import { readDataset, readFloatRowsSync } from "../dataset/read.js";
import { readPlyFaces } from "./faces.js";
import { errors } from "../errors.js";

export type InputKind = "ply" | "dataset" | "model";

/** Points to draw: float32 x y z and r g b (0-1) per point, and each point's icosphere vertex. */
export interface Cloud {
  count: number;
  positions: Float32Array;
  colors: Float32Array;
  index?: Uint32Array;
  /** Triangles (vertex indices), when the input is a mesh. */
  faces?: Uint32Array;
}

/** Which of the three inputs a path is. */
export function detectInput(path: string): InputKind {
  if (!existsSync(path)) throw errors.notFound(path);
  const stat = statSync(path);
  if (stat.isDirectory()) {
    if (existsSync(join(path, MANIFEST_NAME))) return "dataset";
    if (existsSync(join(path, "model.json"))) return "model";
    throw errors.unknownKind(path, "the directory holds neither manifest.json (a compiled dataset) nor model.json (a trained model)");
  }
  if (basename(path) === MANIFEST_NAME) return "dataset";
  if (basename(path) === "model.json") return "model";
  return "ply";
}

// ---------------------------------------------------------------------------------------------
// PLY

export interface PlyFacts {
  file: string;
  bytes: number;
  format: string;
  version: string;
  comments: string[];
  elements: { name: string; count: number; properties: string[] }[];
  vertices: number;
  faces: number;
  /** A mesh, a point cloud (no faces) or 3D Gaussian splats. */
  kind: PlyKind;
  hasNormals: boolean;
  /** Where compile takes the normals from; "none": a point cloud. */
  normals: "file" | "computed" | "none";
  hasColors: boolean;
  /** The colour the points are drawn in when the file has none: the default colour, or white. */
  shownColor?: [number, number, number];
  /** 3D Gaussian splats: their opacity range (sigmoid), and how many minOpacity leaves out. */
  splats?: { opacity?: { min: number; max: number }; transparent: number };
  /** What the input is and what compile makes of it, in words; and what compile would warn about. */
  notes: string[];
  warnings: string[];
  /** Points drawn: the vertices compile gives rows. */
  points: number;
  bounds: { min: number[]; max: number[]; maxRadius: number };
  icosphere: { vertices: number; source: string };
  indicesUsed: number;
}

export interface PlySource {
  kind: "ply";
  path: string;
  facts: PlyFacts;
  cloud: Cloud;
  icosphere: Icosphere;
}

/** How a PLY file is read for showing: as compile reads it with these options. */
export type PlyShowOptions = Pick<KernelOptions, "defaultColor" | "minOpacity">;

/**
 * Read a PLY file as compile sees it: positions and colours, and the icosphere vertex each traces
 * to. A file without colours is drawn in the default colour, or white.
 */
export function loadPly(path: string, icosphereSpec?: number | string, options: PlyShowOptions = {}): PlySource {
  validatePlyOptions(options);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw errors.read(path, (e as Error).message);
  }
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = parseHeader(data.subarray(0, MAX_HEADER_BYTES), path);
  const layout = vertexLayout(header, path);
  const icosphere = loadIcosphere(icosphereSpec);
  const shownColor = layout.hasColors ? undefined : options.defaultColor ?? [1, 1, 1];
  const out = new Kernel(icosphere).compileBytes(data, path, 0, { defaultColor: shownColor, minOpacity: options.minOpacity });
  const n = out.rows;
  const positions = new Float32Array(n * 3), colors = new Float32Array(n * 3), index = new Uint32Array(n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < 3; c++) {
      positions[r * 3 + c] = out.y[r * 6 + c];
      colors[r * 3 + c] = out.y[r * 6 + 3 + c];
    }
    index[r] = Math.round(out.x[r * 2 + 1] * icosphere.count);
  }
  // Faces are a bonus: a point cloud, or a face list the reader does not follow, shows as points.
  let faces: Uint32Array | undefined;
  try {
    faces = readPlyFaces(data, header, n);
  } catch {
    faces = undefined;
  }
  const facts: PlyFacts = {
    file: path,
    bytes: bytes.byteLength,
    format: header.format,
    version: header.version,
    comments: header.comments,
    elements: describeElements(header),
    vertices: layout.vertexCount,
    faces: faces ? faces.length / 3 : 0,
    kind: inputKind(layout),
    hasNormals: layout.hasNormals,
    normals: out.normals,
    hasColors: layout.hasColors,
    shownColor,
    splats: out.splats && { opacity: out.splats.opacity, transparent: out.skipped.transparent },
    notes: [
      ...(out.splats ? [notes.splats(layout.vertexCount, out.splats.opacity, options.minOpacity, out.skipped.transparent)] : []),
      ...(out.normals === "none" ? [notes.pointCloud("legacy")] : []),
    ].map(messageText),
    warnings: out.warnings.map(messageText),
    points: n,
    bounds: bounds(positions),
    icosphere: { vertices: icosphere.count, source: icosphere.source },
    indicesUsed: new Set(index).size,
  };
  return { kind: "ply", path, facts, cloud: { count: n, positions, colors, index, faces }, icosphere };
}

export function bounds(positions: Float32Array): { min: number[]; max: number[]; maxRadius: number } {
  const min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
  let maxRadius = 0;
  for (let i = 0; i < positions.length; i += 3) {
    for (let c = 0; c < 3; c++) {
      const v = positions[i + c];
      if (v < min[c]) min[c] = v;
      if (v > max[c]) max[c] = v;
    }
    maxRadius = Math.max(maxRadius, Math.hypot(positions[i], positions[i + 1], positions[i + 2]));
  }
  return { min, max, maxRadius };
}

// ---------------------------------------------------------------------------------------------
// Compiled datasets

export interface DatasetSource {
  kind: "dataset";
  dir: string;
  manifest: Manifest;
  models: ModelEntry[];
  /** Icosphere vertex count the index values are scaled by. */
  icosphereCount: number;
  /** Select a model by its path (as in the manifest, or its file name) or its id. */
  select(selector: string | number | undefined): number;
  /** The rows of model k as a cloud. */
  read(k: number): Cloud;
  /** The icosphere the dataset was compiled with (loaded on first use). */
  icosphere(override?: number | string): Icosphere;
}

export function openDataset(path: string): DatasetSource {
  const dataset = readDataset(path, { target: "headsnet" });
  const { dir, manifest } = dataset;
  const models = manifest.models;
  if (models.length === 0) throw errors.emptyDataset(dir);
  const count = manifest.icosphere!.vertices;
  const { x: xFile, y: yFile } = dataset.files;
  let icosphere: Icosphere | undefined;

  const select = (selector: string | number | undefined): number => {
    if (selector === undefined || selector === "") return 0;
    const text = String(selector);
    const byPath = models.findIndex((m) => m.path === text);
    if (byPath >= 0) return byPath;
    const byName = models.findIndex((m) => basename(m.path) === text || basename(m.path).replace(/\.ply$/i, "") === text);
    if (byName >= 0) return byName;
    const value = typeof selector === "number" ? selector : /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : NaN;
    if (Number.isFinite(value)) {
      const k = nearestModel(models, value);
      if (Math.abs(models[k].id - value) <= 5e-5) return k;
      throw errors.noModel(dir, text, `; the nearest id is ${models[k].id} (${models[k].path})`);
    }
    throw errors.noModel(dir, text, `, e.g. ${models[0].path} or ${models[0].id}`);
  };

  const read = (k: number): Cloud => {
    const m = models[k];
    const rowsX = readFloatRowsSync(xFile, m.firstRow, m.rows);
    const rowsY = readFloatRowsSync(yFile, m.firstRow, m.rows);
    const positions = new Float32Array(m.rows * 3), colors = new Float32Array(m.rows * 3), index = new Uint32Array(m.rows);
    for (let r = 0; r < m.rows; r++) {
      for (let c = 0; c < 3; c++) {
        positions[r * 3 + c] = rowsY[r * 6 + c];
        colors[r * 3 + c] = rowsY[r * 6 + 3 + c];
      }
      index[r] = Math.max(0, indexOfValue(rowsX[r * xFile.width + 1], count));
    }
    return { count: m.rows, positions, colors, index };
  };

  return {
    kind: "dataset",
    dir,
    manifest,
    models,
    icosphereCount: count,
    select,
    read,
    icosphere(override?: number | string): Icosphere {
      if (override !== undefined) return loadIcosphere(override);
      icosphere ??= datasetIcosphere(dir, manifest);
      return icosphere;
    },
  };
}

/** The model whose id is nearest `id` (the first on a tie). */
export function nearestModel(models: { id: number }[], id: number): number {
  let best = 0;
  for (let k = 1; k < models.length; k++) if (Math.abs(models[k].id - id) < Math.abs(models[best].id - id)) best = k;
  return best;
}

function datasetIcosphere(dir: string, manifest: Manifest): Icosphere {
  const record = manifest.icosphere!;
  return recordedIcosphere({ ...record, source: record.source ?? String(manifest.options?.icosphere ?? "") }, { dir });
}

// ---------------------------------------------------------------------------------------------
// Trained models (TensorFlow.js layers format: model.json + weight files)

export interface ModelSource {
  kind: "model";
  dir: string;
  modelJsonPath: string;
  modelJson: {
    modelTopology: unknown;
    weightsManifest: { paths: string[]; weights: unknown[] }[];
    userDefinedMetadata?: Record<string, unknown>;
    headsnet?: Record<string, unknown>;
  };
  /** Weight files named by the manifest, relative to dir. */
  weightFiles: string[];
  /** The training data, for the nearest training head, when known. */
  dataset?: DatasetSource;
  /** How the model's inputs are made (model.json's headsnet.encoding; index for older models). */
  encoding: EncodingSpec;
  encoder: Encoder;
  /** Where its heads are generated: the index models' own icosphere, else a generated level. */
  grid: HeadGrid;
  /** Points per generated head. */
  icosphereCount: number;
  icosphere(): Icosphere;
}

/**
 * What the model directory says about its training: model.json's "headsnet" block (written by
 * `headsnet train`: icosphere {vertices, source}) or userDefinedMetadata (a "dataset" path,
 * relative to the model directory), and training.json's data.source (the dataset trained on, as
 * given to `headsnet train`). A recorded dataset that is no longer there is left out.
 */
export function modelMetadata(dir: string, modelJson: ModelSource["modelJson"]): { dataset?: string; icosphere?: string | number; icosphereVertices?: number } {
  const out: { dataset?: string; icosphere?: string | number; icosphereVertices?: number } = {};
  const user = modelJson.userDefinedMetadata;
  const blocks = [
    modelJson.headsnet,
    user && typeof user.headsnet === "object" ? user.headsnet : user,
  ].filter((b): b is Record<string, unknown> => typeof b === "object" && b !== null);
  const datasets: string[] = [];
  for (const meta of blocks) {
    const ico = meta.icosphere;
    if (typeof ico === "string" || typeof ico === "number") out.icosphere ??= ico;
    else if (ico && typeof ico === "object") {
      const { source, vertices } = ico as { source?: unknown; vertices?: unknown };
      const level = typeof source === "string" ? /^level (\d+)$/.exec(source) : null;
      if (level) out.icosphere ??= Number(level[1]);
      else if (typeof source === "string" && existsSync(source)) out.icosphere ??= source;
      if (typeof vertices === "number") out.icosphereVertices ??= vertices;
    }
    if (typeof meta.icosphereVertices === "number") out.icosphereVertices ??= meta.icosphereVertices;
    const dataset = meta.dataset ?? meta.data;
    if (typeof dataset === "string") datasets.push(isAbsolute(dataset) ? dataset : resolve(dir, dataset));
  }
  try {
    const training = JSON.parse(readFileSync(join(dir, "training.json"), "utf8"));
    const source = training?.data?.source;
    if (typeof source === "string" && source !== "-") datasets.push(resolve(source), resolve(dir, source));
  } catch {
    // No training record: fine, the model is shown without its training heads.
  }
  out.dataset = datasets.find((d) => existsSync(join(d, MANIFEST_NAME)) || (basename(d) === MANIFEST_NAME && existsSync(d)));
  return out;
}

/** The input width a layers model's topology declares (its first layer's batch_input_shape), if it says. */
function topologyInputs(topology: unknown): number | undefined {
  type Layers = { config?: { layers?: { config?: { batch_input_shape?: (number | null)[] } }[] } };
  const t = topology as Layers & { model_config?: Layers };
  const shape = (t?.model_config ?? t)?.config?.layers?.[0]?.config?.batch_input_shape;
  const last = shape?.[shape.length - 1];
  return typeof last === "number" ? last : undefined;
}

export function openModel(path: string, options: { data?: string; icosphere?: number | string; level?: number } = {}): ModelSource {
  const dir = basename(path) === "model.json" ? dirname(path) : path;
  const modelJsonPath = join(dir, "model.json");
  let modelJson: ModelSource["modelJson"];
  try {
    modelJson = JSON.parse(readFileSync(modelJsonPath, "utf8"));
  } catch (e) {
    throw e instanceof SyntaxError ? errors.modelJson(modelJsonPath, `not valid JSON: ${e.message}`) : errors.read(modelJsonPath, (e as Error).message);
  }
  if (!modelJson || typeof modelJson.modelTopology !== "object" || modelJson.modelTopology === null) throw errors.modelJson(modelJsonPath, "no modelTopology");
  if (!Array.isArray(modelJson.weightsManifest)) throw errors.modelJson(modelJsonPath, "no weightsManifest");
  const weightFiles: string[] = [];
  for (const group of modelJson.weightsManifest) {
    for (const p of group.paths ?? []) {
      const clean = p.replace(/^\.\//, "");
      if (clean.includes("..") || isAbsolute(clean) || clean.includes("\\")) throw errors.modelJson(modelJsonPath, `weight path ${JSON.stringify(p)} leaves the model directory`);
      if (!existsSync(join(dir, clean))) throw errors.model(join(dir, clean), "missing: model.json lists this weight file");
      weightFiles.push(clean);
    }
  }
  const meta = modelMetadata(dir, modelJson);
  const dataPath = options.data ?? meta.dataset;
  let dataset: DatasetSource | undefined;
  if (dataPath !== undefined) {
    if (!existsSync(dataPath)) throw errors.notFound(dataPath);
    dataset = openDataset(dataPath);
  }
  const record = (modelJson.headsnet ?? {}) as { encoding?: EncodingSpec; icosphere?: IcosphereRecord };
  const inputs = record.encoding ? 0 : topologyInputs(modelJson.modelTopology) ?? 2;
  const encoding = modelEncoding({ inputs, encoding: record.encoding, icosphere: record.icosphere });
  let grid: HeadGrid;
  if (encoding.name !== "index" || encoding.icosphere) grid = headGrid(encoding, { level: options.level, icosphere: options.icosphere, dir });
  else {
    // A model from elsewhere: its index input is scaled by the icosphere its metadata or its dataset names.
    const load = (): Icosphere => {
      if (options.icosphere !== undefined) return loadIcosphere(options.icosphere);
      if (meta.icosphere !== undefined) return loadIcosphere(meta.icosphere);
      if (meta.icosphereVertices !== undefined) {
        const level = Math.round(Math.log((meta.icosphereVertices - 2) / 10) / Math.log(4));
        if (10 * 4 ** level + 2 === meta.icosphereVertices) return generateIcosphere(level);
      }
      if (dataset) return dataset.icosphere();
      return loadIcosphere(undefined);
    };
    grid = headGrid({ ...encoding, icosphere: undefined }, { level: options.level, icosphere: load(), dir });
  }
  return {
    kind: "model",
    dir,
    modelJsonPath,
    modelJson,
    weightFiles,
    dataset,
    encoding,
    encoder: new Encoder(encoding),
    grid,
    icosphereCount: grid.icosphere.count,
    icosphere: () => grid.icosphere,
  };
}

export type Source = PlySource | DatasetSource | ModelSource;

export interface OpenOptions extends PlyShowOptions {
  /** Icosphere for PLY input (level or table), or to override a model's. */
  icosphere?: number | string;
  /** Dataset a model was trained on. */
  data?: string;
  /** A direction or fourier model: the icosphere level its heads are generated on (default 5). */
  level?: number;
}

export function openSource(path: string, options: OpenOptions = {}): Source {
  const kind = detectInput(path);
  if (kind === "ply") return loadPly(path, options.icosphere, options);
  if (kind === "dataset") return openDataset(path);
  return openModel(path, { data: options.data, icosphere: options.icosphere, level: options.level });
}

/** The icosphere vertex positions for a dataset or model source. */
export function sourceIcosphere(source: Source): Icosphere {
  return source.kind === "ply" ? source.icosphere : source.icosphere();
}



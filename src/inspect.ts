// `headsnet inspect`: what a PLY file holds and what compile would make of it.

import { readFileSync } from "node:fs";
import { HeadsnetError, errors, messageText, notes } from "./errors.js";
import { loadIcosphere } from "./icosphere.js";
import { Kernel, type Projection, type SkippedVertices } from "./kernel.js";
import { parseHeader, vertexLayout, describeElements, inputKind, MAX_HEADER_BYTES, type PlyHeader, type InputKind } from "./ply-header.js";
import { validatePlyOptions } from "./compile/options.js";

export interface InspectReport {
  file: string;
  bytes: number;
  header?: {
    format: string;
    version: string;
    comments: string[];
    elements: { name: string; count: number; properties: string[] }[];
  };
  vertices?: number;
  kind?: InputKind;
  hasNormals?: boolean;
  hasColors?: boolean;
  /** 3D Gaussian splats: colours from f_dc, the opacity range (sigmoid) when the file has opacities. */
  splats?: { count: number; colors: "f_dc"; opacity?: { min: number; max: number } };
  bounds?: { min: number[]; max: number[]; maxRadius: number };
  colors?: { min: number[]; max: number[] };
  compile?: {
    rows: number; projection: Projection; icosphereVertices: number; indicesUsed: number; normals: "file" | "computed" | "none";
    /** Vertices compile gives no row (see CompiledFile.skipped). */
    skipped: SkippedVertices;
  };
  /** What the input is and what compile makes of it, in words (point clouds, splats). */
  notes: string[];
  /** What compile would warn about (the same messages). */
  warnings: string[];
  error?: ReturnType<HeadsnetError["toJSON"]>;
}

export interface InspectOptions {
  projection?: Projection;
  icosphere?: number | string;
  /** As compile's: 3D Gaussian splats below this opacity are counted as left out. */
  minOpacity?: number;
}

/** The report; bad options (E_USAGE) and files headsnet cannot read are its `error`, never thrown. */
export function inspect(file: string, options: InspectOptions = {}): InspectReport {
  try {
    validatePlyOptions(options);
  } catch (e) {
    if (!(e instanceof HeadsnetError)) throw e;
    return { file, bytes: 0, notes: [], warnings: [], error: e.toJSON() };
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    return { file, bytes: 0, notes: [], warnings: [], error: errors.read(file, (e as Error).message).toJSON() };
  }
  const report: InspectReport = { file, bytes: bytes.byteLength, notes: [], warnings: [] };
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    const header: PlyHeader = parseHeader(data.subarray(0, MAX_HEADER_BYTES), file);
    report.header = {
      format: header.format,
      version: header.version,
      comments: header.comments,
      elements: describeElements(header),
    };
    const layout = vertexLayout(header, file);
    report.vertices = layout.vertexCount;
    report.kind = inputKind(layout);
    report.hasNormals = layout.hasNormals;
    report.hasColors = layout.hasColors;
    const projection = options.projection ?? "legacy";
    const icosphere = loadIcosphere(options.icosphere);
    // Run as compile would, with a stand-in colour if the file has none (compile needs --default-color).
    const out = new Kernel(icosphere).compileBytes(data, file, 0, {
      projection, defaultColor: layout.hasColors ? undefined : [1, 1, 1], minOpacity: options.minOpacity,
    });
    const min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
    const cmin = [Infinity, Infinity, Infinity], cmax = [-Infinity, -Infinity, -Infinity];
    let maxRadius = 0;
    for (let r = 0; r < out.rows; r++) {
      for (let c = 0; c < 3; c++) {
        const v = out.y[r * 6 + c], k = out.y[r * 6 + 3 + c];
        if (v < min[c]) min[c] = v;
        if (v > max[c]) max[c] = v;
        if (k < cmin[c]) cmin[c] = k;
        if (k > cmax[c]) cmax[c] = k;
      }
      maxRadius = Math.max(maxRadius, Math.hypot(out.y[r * 6], out.y[r * 6 + 1], out.y[r * 6 + 2]));
    }
    report.bounds = { min, max, maxRadius };
    report.colors = { min: cmin, max: cmax };
    const used = new Set<number>();
    for (let r = 0; r < out.rows; r++) used.add(out.x[r * 2 + 1]);
    if (!layout.hasColors) report.colors = undefined;
    report.compile = { rows: out.rows, projection, icosphereVertices: icosphere.count, indicesUsed: used.size, normals: out.normals, skipped: out.skipped };
    if (out.splats) {
      report.splats = { count: layout.vertexCount, colors: "f_dc", opacity: out.splats.opacity };
      report.notes.push(messageText(notes.splats(layout.vertexCount, out.splats.opacity, options.minOpacity, out.skipped.transparent)));
    }
    if (out.normals === "none") report.notes.push(messageText(notes.pointCloud(projection)));
    report.warnings = out.warnings.map(messageText);
  } catch (e) {
    if (!(e instanceof HeadsnetError)) throw e;
    report.error = e.toJSON();
  }
  return report;
}

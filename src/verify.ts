// `headsnet verify`: check a compiled dataset against its manifest before anything trusts it.

import { open, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { MANIFEST_NAME, NPY_HEADER_BYTES, npyHeader, type Manifest } from "./output.js";

export interface ColumnStats {
  name: string;
  nan: number;
  inf: number;
  min: number;
  max: number;
}

export interface VerifyReport {
  dir: string;
  ok: boolean;
  problems: string[];
  warnings: string[];
  rows: number;
  models: number;
  failedModels: number;
  columns: { x: ColumnStats[]; y: ColumnStats[] };
  distinctIds: number;
  indicesUsed: number;
}

const CHUNK_ROWS = 1 << 18;

function newStats(names: string[]): ColumnStats[] {
  return names.map((name) => ({ name, nan: 0, inf: 0, min: Infinity, max: -Infinity }));
}

export async function verify(dir: string): Promise<VerifyReport> {
  const report: VerifyReport = {
    dir, ok: false, problems: [], warnings: [], rows: 0, models: 0, failedModels: 0,
    columns: { x: [], y: [] }, distinctIds: 0, indicesUsed: 0,
  };
  const problem = (p: string) => report.problems.push(p);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, MANIFEST_NAME), "utf8"));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT"
      ? `no ${MANIFEST_NAME}: the run did not finish (or this is not a headsnet output directory)`
      : `${MANIFEST_NAME} is not valid JSON: ${(e as Error).message}`;
    problem(why);
    return report;
  }
  if (manifest.tool !== "headsnet" || manifest.complete !== true || !manifest.files?.x || !manifest.files?.y) {
    problem(`${MANIFEST_NAME} does not describe a complete headsnet dataset`);
    return report;
  }
  report.rows = manifest.rows;
  report.models = manifest.models.length;
  report.failedModels = manifest.failed.length;
  for (const f of manifest.failed) problem(`model ${f.path} failed to compile: ${f.message}`);

  // Sizes and headers.
  const files = manifest.files;
  for (const key of ["x", "y"] as const) {
    const info = files[key];
    const expected = info.dataOffset + manifest.rows * info.width * 4;
    if (info.bytes !== expected) problem(`manifest says ${info.name} has ${info.bytes} bytes, but ${manifest.rows} rows of ${info.width} need ${expected}`);
    try {
      const size = (await stat(join(dir, info.name))).size;
      if (size !== expected) problem(`${info.name} has ${size} bytes; the manifest's ${manifest.rows} rows of ${info.width} float32 need ${expected}`);
    } catch {
      problem(`${info.name} is missing`);
    }
  }
  let rowsCovered = 0;
  for (const m of manifest.models) {
    if (m.firstRow !== rowsCovered) problem(`model ${m.path} starts at row ${m.firstRow}, expected ${rowsCovered}`);
    rowsCovered = m.firstRow + m.rows;
  }
  if (rowsCovered !== manifest.rows) problem(`models cover ${rowsCovered} rows but the manifest says ${manifest.rows}`);
  const ids = new Map<number, string>();
  for (const m of manifest.models) {
    if (ids.has(m.id)) report.warnings.push(`models ${ids.get(m.id)} and ${m.path} share the id ${m.id}`);
    ids.set(m.id, m.path);
  }
  report.distinctIds = ids.size;
  if (report.problems.length) return report;

  const n = manifest.icosphere.vertices;
  const recip = Math.fround(1 / Math.fround(3 * n));
  const xs = newStats(manifest.columns.x);
  const ys = newStats(manifest.columns.y);
  report.columns = { x: xs, y: ys };
  const used = new Uint8Array(n);
  const xHandle = await open(join(dir, files.x.name), "r");
  const yHandle = await open(join(dir, files.y.name), "r");
  try {
    if (manifest.format === "npy") {
      for (const [handle, info] of [[xHandle, files.x], [yHandle, files.y]] as const) {
        const head = Buffer.alloc(NPY_HEADER_BYTES);
        await handle.read(head, 0, NPY_HEADER_BYTES, 0);
        if (!head.equals(npyHeader(manifest.rows, info.width))) problem(`${info.name}: the .npy header does not say (${manifest.rows}, ${info.width}) float32`);
      }
    }
    let model = 0;
    let badIds = 0, badIndices = 0;
    for (let row = 0; row < manifest.rows; row += CHUNK_ROWS) {
      const count = Math.min(CHUNK_ROWS, manifest.rows - row);
      const x = await readRows(xHandle, files.x.dataOffset, row, count, files.x.width);
      const y = await readRows(yHandle, files.y.dataOffset, row, count, files.y.width);
      accumulate(xs, x, files.x.width);
      accumulate(ys, y, files.y.width);
      for (let r = 0; r < count; r++) {
        const global = row + r;
        while (model < manifest.models.length - 1 && global >= manifest.models[model].firstRow + manifest.models[model].rows) model++;
        if (x[r * files.x.width] !== manifest.models[model]?.id) badIds++;
        const v = x[r * files.x.width + 1];
        const i = Math.round(v * n);
        if (!(i >= 0 && i < n && Math.fround(Math.fround(3 * i) * recip) === v)) badIndices++;
        else used[i] = 1;
      }
    }
    if (badIds) problem(`${badIds} rows carry a model id other than their model's in the manifest`);
    if (badIndices) problem(`${badIndices} rows have an index value that is not float32(3i)·float32(1/${3 * n}) for an icosphere vertex i`);
  } finally {
    await xHandle.close();
    await yHandle.close();
  }
  for (const c of [...xs, ...ys]) {
    if (c.nan) problem(`column ${c.name} has ${c.nan} NaN values`);
    if (c.inf) problem(`column ${c.name} has ${c.inf} infinite values`);
  }
  if (xs[0] && (xs[0].min < 0 || xs[0].max > 1)) problem(`model ids range over [${xs[0].min}, ${xs[0].max}], outside [0, 1]`);
  report.indicesUsed = used.reduce((a, b) => a + b, 0);
  report.ok = report.problems.length === 0;
  return report;
}

async function readRows(handle: import("node:fs/promises").FileHandle, offset: number, row: number, count: number, width: number): Promise<Float32Array> {
  const bytes = count * width * 4;
  const buffer = new Uint8Array(bytes);
  let done = 0;
  while (done < bytes) {
    const { bytesRead } = await handle.read(buffer, done, bytes - done, offset + row * width * 4 + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return new Float32Array(buffer.buffer, 0, done / 4);
}

function accumulate(stats: ColumnStats[], data: Float32Array, width: number): void {
  for (let c = 0; c < width; c++) {
    const s = stats[c];
    let { nan, inf, min, max } = s;
    for (let k = c; k < data.length; k += width) {
      const v = data[k];
      if (v !== v) nan++;
      else if (v === Infinity || v === -Infinity) inf++;
      else {
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
    Object.assign(s, { nan, inf, min, max });
  }
}

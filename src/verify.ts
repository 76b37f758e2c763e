// `headsnet verify`: check a compiled dataset against its manifest before anything trusts it:
// the checks every reader makes (dataset/read.ts), then every row: NaN and Inf per column, each
// column's range, ids that match their model, index values that name an icosphere vertex, and
// ids shared between models. Files that failed to compile make the dataset not ok, but its rows
// are checked all the same.

import { indexOfValue } from "./dataset/format.js";
import { checkDatasets, RowReader, type Dataset, type DatasetFile } from "./dataset/read.js";

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
  columns: Record<string, ColumnStats[]>;
  distinctIds: number;
  indicesUsed: number;
}

const CHUNK_ROWS = 1 << 18;

function newStats(names: string[]): ColumnStats[] {
  return names.map((name) => ({ name, nan: 0, inf: 0, min: Infinity, max: -Infinity }));
}

/** Verify a dataset directory (merged, linked, or a run of its own), or shard directories as one. */
export async function verify(dir: string | string[]): Promise<VerifyReport> {
  const report: VerifyReport = {
    dir: Array.isArray(dir) ? dir.join(", ") : dir, ok: false, problems: [], warnings: [], rows: 0, models: 0, failedModels: 0,
    columns: {}, distinctIds: 0, indicesUsed: 0,
  };
  const check = checkDatasets(dir);
  report.problems.push(...check.problems.map((p) => p.message));
  const dataset = check.dataset;
  if (!dataset) return report;
  const { manifest } = dataset;
  report.dir = dataset.dir;
  report.rows = manifest.rows;
  report.models = manifest.models.length;
  report.failedModels = manifest.failed.length;
  for (const f of manifest.failed) report.problems.push(`model ${f.path} failed to compile: ${f.message}`);
  const holder = new Map<number, string>();
  for (const m of manifest.models) {
    const other = holder.get(m.id);
    if (other !== undefined) report.problems.push(`models ${other} and ${m.path} share the id ${m.id}; ids must tell models apart (compile again)`);
    else holder.set(m.id, m.path);
  }
  report.distinctIds = holder.size;
  if (check.readable) await scanRows(dataset, report);
  report.ok = report.problems.length === 0;
  return report;
}

/** Read every row once: column statistics, and the HeadsNet id and index checks. */
async function scanRows(dataset: Dataset, report: VerifyReport): Promise<void> {
  const { manifest } = dataset;
  const headsnet = dataset.target === "headsnet";
  const n = manifest.icosphere?.vertices ?? 0;
  const used = new Uint8Array(n);
  const files = Object.values(dataset.files);
  const stats = new Map<DatasetFile, ColumnStats[]>();
  for (const f of files) {
    // Version-1 manifests name HeadsNet's columns in `columns` only.
    const names = manifest.files[f.key].columns ?? (manifest.columns as Record<string, string[]> | undefined)?.[f.key] ?? [];
    stats.set(f, newStats(names.length === f.width ? names : [...Array(f.width).keys()].map((c) => `${f.key}${c}`)));
  }
  const readers = await Promise.all(files.map((f) => RowReader.open(f)));
  let badIds = 0, badIndices = 0, model = 0;
  try {
    for (let row = 0; row < manifest.rows; row += CHUNK_ROWS) {
      const count = Math.min(CHUNK_ROWS, manifest.rows - row);
      const chunks = await Promise.all(files.map(async (f, k) => {
        const bytes = new Uint8Array(count * f.rowBytes);
        await readers[k].read(row, bytes);
        return f.dtype === "float32" ? new Float32Array(bytes.buffer) : bytes;
      }));
      files.forEach((f, k) => accumulate(stats.get(f)!, chunks[k], f.width));
      if (!headsnet) continue;
      const x = chunks[files.indexOf(dataset.files.x)] as Float32Array;
      const width = dataset.files.x.width;
      for (let r = 0; r < count; r++) {
        const global = row + r;
        while (model < manifest.models.length - 1 && global >= manifest.models[model].firstRow + manifest.models[model].rows) model++;
        if (x[r * width] !== manifest.models[model]?.id) badIds++;
        const i = indexOfValue(x[r * width + 1], n);
        if (i < 0) badIndices++;
        else used[i] = 1;
      }
    }
  } finally {
    await Promise.all(readers.map((r) => r.close()));
  }
  const problem = (p: string) => report.problems.push(p);
  if (badIds) problem(`${badIds} rows carry a model id other than their model's in the manifest`);
  if (badIndices) problem(`${badIndices} rows have an index value that is not float32(3i)·float32(1/${3 * n}) for an icosphere vertex i`);
  for (const f of files) {
    const columns = stats.get(f)!;
    report.columns[f.key] = columns;
    for (const c of columns) {
      if (c.nan) problem(`column ${c.name} has ${c.nan} NaN values`);
      if (c.inf) problem(`column ${c.name} has ${c.inf} infinite values`);
    }
  }
  const ids = report.columns.x?.[0];
  if (headsnet && ids && manifest.rows && (ids.min < 0 || ids.max > 1)) problem(`model ids range over [${ids.min}, ${ids.max}], outside [0, 1]`);
  report.indicesUsed = used.reduce((a, b) => a + b, 0);
}

function accumulate(stats: ColumnStats[], data: ArrayLike<number>, width: number): void {
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

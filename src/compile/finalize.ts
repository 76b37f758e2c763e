// Finalize: a run whose files are all settled becomes a dataset. Its manifest is written beside
// the staged files, the journal marks the run as publishing, and the files move into place
// (dataset/writer.ts publish). A run in which no file compiled makes no dataset at all.

import { errors, type HeadsnetError } from "../errors.js";
import { MANIFEST_VERSION, type FailedEntry, type Manifest, type ModelEntry } from "../dataset/format.js";
import { publish, type DatasetWriter } from "../dataset/writer.js";
import { VERSION } from "../package.js";
import { writeJournal } from "./journal.js";
import type { SkippedVertices } from "../kernel.js";
import type { TargetPlan } from "./targets.js";
import type { ShardInfo } from "./shard.js";

export interface CompileSummary {
  out: string;
  target: string;
  files: number;
  compiled: number;
  failed: FailedEntry[];
  rows: number;
  /** With resume: what the interrupted run had already done. */
  resumedFrom?: { files: number; rows: number };
  /** Vertices without a row, in all models: onNonfinite skip, and splats below minOpacity. */
  skipped: SkippedVertices;
  /** Per file, what was worth saying but did not stop it. */
  warnings: { path: string; message: string }[];
  seconds: number;
  rowsPerSecond: number;
  bytesRead: number;
  bytesWritten: number;
  workers: number;
  icosphere: Manifest["icosphere"];
  outputs: string[];
  shard?: ShardInfo;
}

export interface CompileResult {
  error?: HeadsnetError;
  summary?: CompileSummary;
}

export interface RunTally {
  files: number;
  models: ModelEntry[];
  failed: FailedEntry[];
  warnings: { path: string; message: string }[];
  bytesRead: number;
  resumedFrom?: { files: number; rows: number };
  workers: number;
  started: number;
  shard?: ShardInfo;
}

/** Write the manifest and publish the dataset; or, when nothing compiled, leave no dataset. */
export async function finalize(out: string, key: string, writer: DatasetWriter, plan: TargetPlan, tally: RunTally): Promise<CompileResult> {
  // (A shard may hold no files at all: it is then an empty dataset, which merges as such.)
  if (tally.models.length === 0 && tally.files > 0) {
    await writer.close(true);
    return { error: errors.noneCompiled(tally.files, tally.failed[0]?.message ?? "") };
  }
  const files = writer.fileInfo();
  const manifest: Manifest = {
    tool: "headsnet",
    version: VERSION,
    manifestVersion: MANIFEST_VERSION,
    complete: true,
    target: plan.name,
    format: writer.format,
    options: plan.manifestOptions,
    ...plan.manifestFields,
    columns: { x: files.x?.columns ?? [], y: files.y?.columns ?? [] },
    files: files as Manifest["files"],
    rows: writer.rows,
    models: tally.models,
    failed: tally.failed,
    ...(tally.shard ? { shard: tally.shard } : {}),
  };
  await writer.finish(manifest);
  await writeJournal(out, { key, filesDone: tally.files, rows: writer.rows, bytes: [], models: [], failed: [], publishing: true });
  await publish(out);
  return { summary: summarize(out, manifest, tally) };
}

export function summarize(out: string, manifest: Manifest, tally: RunTally): CompileSummary {
  const seconds = (performance.now() - tally.started) / 1000;
  const resumedRows = tally.resumedFrom?.rows ?? 0;
  const sum = (k: keyof SkippedVertices) => manifest.models.reduce((n, m) => n + (m.skipped?.[k] ?? 0), 0);
  const files = Object.values(manifest.files);
  return {
    out,
    target: manifest.target ?? "headsnet",
    files: tally.files,
    compiled: manifest.models.length,
    failed: manifest.failed,
    rows: manifest.rows,
    resumedFrom: tally.resumedFrom,
    skipped: { nonfinite: sum("nonfinite"), outsideSphere: sum("outsideSphere"), tooFar: sum("tooFar"), transparent: sum("transparent") },
    warnings: tally.warnings,
    seconds,
    rowsPerSecond: (manifest.rows - resumedRows) / seconds,
    bytesRead: tally.bytesRead,
    bytesWritten: files.reduce((n, f) => n + f.bytes, 0),
    workers: tally.workers,
    icosphere: manifest.icosphere,
    outputs: [...files.map((f) => f.name), "manifest.json"],
    ...(manifest.shard ? { shard: manifest.shard } : {}),
  };
}

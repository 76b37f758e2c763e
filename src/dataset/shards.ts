// Datasets compiled in shards (compile/shard.ts), used as one: checked to belong together, then
// merged into the dataset a single run over all inputs makes (byte for byte: its files and its
// manifest), linked (a manifest that lists the shards' files in order, nothing copied), or read
// in place from a list of shard folders.

import { open, mkdir } from "node:fs/promises";
import { existsSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { errors, opt, HeadsnetError, captureErrors } from "../errors.js";
import { checkDataset, type Dataset } from "./read.js";
import {
  MANIFEST_NAME, describeFile, npyHeader, streamOf, type FailedEntry, type Manifest, type ModelEntry, type OutputFileInfo,
} from "./format.js";
import { publish, stagingDir, writeDurably } from "./writer.js";

/** Complete shards of one run, in shard order, and the manifest of the dataset they make up. */
export interface ShardSet {
  shards: Dataset[];
  /** The manifest a single run over all inputs would write (files as in the first shard). */
  manifest: Manifest;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Check that `paths` are the complete shards of one run, and put them in order. */
export function checkShardSet(paths: string[]): ShardSet {
  if (paths.length === 0) throw errors.usage("name the shard directories to merge");
  const shards: Dataset[] = paths.map((path) => {
    const check = checkDataset(path);
    if (!check.dataset || check.problems.length) throw check.problems[0];
    if (!check.dataset.manifest.shard) throw errors.shards(path, `is not a shard (its manifest has no "shard"; it was compiled without ${opt("shard")})`);
    if (check.dataset.files.x?.parts.length !== 1) throw errors.shards(path, "is a linked dataset, not a shard");
    return check.dataset;
  });
  const first = shards[0].manifest;
  const { count, totalFiles, inputs } = first.shard!;
  for (const d of shards) {
    const m = d.manifest;
    const differs = (what: string) => errors.shards(d.dir, `was compiled with other ${what} than ${shards[0].dir}; shards to merge come from one command with different --shard values`);
    if (m.shard!.count !== count) throw differs("a shard count");
    if (m.shard!.inputs !== inputs || m.shard!.totalFiles !== totalFiles) throw differs("inputs");
    if (m.target !== first.target || m.format !== first.format || !same(m.options, first.options)) throw differs("options");
    if (!same(m.icosphere, first.icosphere) || m.version !== first.version) throw differs("an icosphere or headsnet version");
    if (!same(Object.keys(m.files), Object.keys(first.files)) || Object.keys(m.files).some((k) => m.files[k].width !== first.files[k].width)) throw differs("output files");
  }
  const byIndex = new Map<number, Dataset>();
  for (const d of shards) {
    const other = byIndex.get(d.manifest.shard!.index);
    if (other) throw errors.shards(d.dir, `is shard ${d.manifest.shard!.index} of ${count}, and so is ${other.dir}`);
    byIndex.set(d.manifest.shard!.index, d);
  }
  const missing = Array.from({ length: count }, (_, k) => k + 1).filter((k) => !byIndex.has(k));
  if (missing.length) {
    throw errors.missingShards(paths, missing, count);
  }
  const ordered = [...byIndex.keys()].sort((a, b) => a - b).map((k) => byIndex.get(k)!);
  let nextFile = 0;
  for (const d of ordered) {
    if (d.manifest.shard!.firstFile !== nextFile) throw errors.shards(d.dir, `starts at input file ${d.manifest.shard!.firstFile}, but the shards before it end at ${nextFile}`);
    nextFile += d.manifest.shard!.files;
  }
  if (nextFile !== totalFiles) throw errors.shards(ordered[0].dir, `and the shards named with it hold ${nextFile} of their run's ${totalFiles} input files`);
  return { shards: ordered, manifest: joinedManifest(ordered) };
}

/** The manifest one run over every shard's inputs writes: models renumbered, in file order. */
function joinedManifest(shards: Dataset[]): Manifest {
  const m = shards[0].manifest;
  const models: ModelEntry[] = [];
  const failed: FailedEntry[] = [];
  let rows = 0;
  for (const d of shards) {
    for (const model of d.manifest.models) models.push({ ...model, firstRow: model.firstRow + rows });
    failed.push(...d.manifest.failed);
    rows += d.rows;
  }
  const files = Object.fromEntries(Object.entries(m.files).map(([key, info]) => [key, describeFile(streamOf(key, info), m.format, rows)]));
  // The fields in the order compile/finalize.ts writes them, so that the JSON is the same.
  const { shard: _, ...rest } = m;
  return { ...rest, files: files as Manifest["files"], rows, models, failed };
}

/** A list of shard folders, read in place as one dataset (what --link writes down). */
export function shardsAsDataset(paths: string[]): Dataset {
  const set = checkShardSet(paths);
  const manifest = linkedManifest(set, undefined);
  const files = Object.fromEntries(Object.keys(manifest.files).map((key) => {
    const parts = set.shards.map((d) => d.files[key].parts[0]);
    let firstRow = 0;
    const located = parts.map((p) => { const part = { ...p, firstRow }; firstRow += p.rows; return part; });
    const f = set.shards[0].files[key];
    return [key, { ...f, parts: located }];
  }));
  return { dir: set.shards.map((d) => d.dir).join(", "), manifestPath: set.shards[0].manifestPath, manifest, target: set.shards[0].target, rows: manifest.rows, files };
}

/** The joined manifest, with each file's rows left in the shards (paths relative to `dir`). */
function linkedManifest(set: ShardSet, dir: string | undefined): Manifest {
  const files = Object.fromEntries(Object.entries(set.manifest.files).map(([key, info]) => {
    const parts = set.shards.map((d) => {
      const p = d.files[key].parts[0];
      return { path: dir ? relative(dir, resolve(p.path)) : resolve(p.path), dataOffset: p.dataOffset, rows: p.rows };
    });
    // No file of its own: no name, no header; `bytes` counts the rows' bytes in the parts.
    const { name: _, ...rest } = info;
    return [key, { ...rest, dataOffset: 0, bytes: set.manifest.rows * set.shards[0].files[key].rowBytes, parts } as OutputFileInfo];
  }));
  return { ...set.manifest, files: files as Manifest["files"] };
}

export interface MergeOptions {
  shards: string[];
  out: string;
  /** Write only a manifest that lists the shards' files in order (nothing is copied). */
  link?: boolean;
  /** Replace a finished dataset in `out` (once the new one is complete). */
  overwrite?: boolean;
}

export interface MergeSummary {
  out: string;
  shards: number;
  rows: number;
  models: number;
  failed: number;
  bytes: number;
  linked: boolean;
  seconds: number;
}

/** `headsnet merge`: the shards of one run, joined. */
export async function merge(options: MergeOptions): Promise<{ error?: HeadsnetError; summary?: MergeSummary }> {
  const r = await captureErrors(() => mergeOrThrow(options));
  return { error: r.error, summary: r.result };
}

const COPY_BYTES = 16 << 20;

async function mergeOrThrow(o: MergeOptions): Promise<MergeSummary> {
  const started = performance.now();
  const set = checkShardSet(o.shards);
  if (existsSync(o.out) && !statSync(o.out).isDirectory()) throw errors.notDirectory(o.out, `${opt("out")} names the directory the dataset goes to`);
  if (!o.overwrite && existsSync(join(o.out, MANIFEST_NAME))) throw errors.datasetExists(o.out, "a dataset (manifest.json)");
  const staging = stagingDir(o.out);
  await mkdir(staging, { recursive: true });
  let bytes = 0;
  let manifest = set.manifest;
  if (o.link) {
    manifest = linkedManifest(set, o.out);
  } else {
    // Each file: the header a single run writes, then every shard's rows in order.
    for (const [key, info] of Object.entries(set.manifest.files)) {
      const target = await open(join(staging, info.name), "w");
      try {
        let at = 0;
        if (set.manifest.format === "npy") {
          const header = npyHeader(set.manifest.rows, info.width, info.dtype);
          await target.write(header, 0, header.byteLength, 0);
          at = header.byteLength;
        }
        const buffer = Buffer.allocUnsafe(COPY_BYTES);
        for (const d of set.shards) {
          const part = d.files[key].parts[0];
          const source = await open(part.path, "r");
          try {
            const end = part.dataOffset + part.rows * d.files[key].rowBytes;
            for (let from = part.dataOffset; from < end;) {
              const { bytesRead } = await source.read(buffer, 0, Math.min(COPY_BYTES, end - from), from);
              if (bytesRead === 0) throw errors.dataFile(part.path, `ends at byte ${from}, before the rows its manifest promises`);
              let written = 0;
              while (written < bytesRead) written += (await target.write(buffer, written, bytesRead - written, at + written)).bytesWritten;
              from += bytesRead;
              at += bytesRead;
            }
          } finally {
            await source.close();
          }
        }
        await target.sync();
        bytes += at;
      } catch (e) {
        if (e instanceof HeadsnetError) throw e;
        throw errors.output(join(o.out, info.name), (e as Error).message);
      } finally {
        await target.close();
      }
    }
  }
  await writeDurably(join(staging, MANIFEST_NAME), JSON.stringify(manifest, null, 2) + "\n");
  await publish(o.out);
  return {
    out: o.out, shards: set.shards.length, rows: manifest.rows, models: manifest.models.length, failed: manifest.failed.length,
    bytes, linked: Boolean(o.link), seconds: (performance.now() - started) / 1000,
  };
}

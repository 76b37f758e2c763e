// `headsnet compile` as a function: mesh files in, a dataset directory out. Returns errors rather
// than exiting; one bad file is recorded and skipped, never the end of the run.
//
// The stages, each in a module of its own:
//   options.ts   what a compile takes, checked before anything is touched
//   targets.ts   what each file becomes (the HeadsNet rows, ...), and the task a worker runs
//   dispatch.ts  files to the worker pool in order, a bounded number at a time
//   commit.ts    rows placed and written in file order, straight from the workers' memory
//   (here)       the run loop: outcomes in file order, checkpoints, progress, stopping
//   finalize.ts  the manifest, and the finished dataset moved into place
// journal.ts holds what --resume needs; dataset/writer.ts the staged files.

import { existsSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Piscina } from "piscina";
import { discoverInputs, type InputFile } from "../discover.js";
import { HeadsnetError, errors, messageText, opt } from "../errors.js";
import { assignIds } from "../ids.js";
import { shardRange, inputsDigest, type ShardInfo } from "./shard.js";
import { createPool, defaultWorkers } from "../pool.js";
import { VERSION } from "../package.js";
import { MANIFEST_NAME, allFileNames, type Manifest } from "../dataset/format.js";
import { DatasetWriter, publish, stagingDir, type RowsPlace } from "../dataset/writer.js";
import { checkDataset } from "../dataset/read.js";
import { readJournal, runKey, writeJournal } from "./journal.js";
import { validateCompileOptions, type CompileOptions } from "./options.js";
import { planTarget, inputPattern, type TargetPlan } from "./targets.js";
import { FileRecord } from "./files.js";
import { Dispatcher } from "./dispatch.js";
import { InOrderCommitter } from "./commit.js";
import { ReadAhead, handoverSetting } from "./read-ahead.js";
import type { FileTask } from "./protocol.js";
import { finalize, summarize, type CompileResult, type RunTally } from "./finalize.js";

export type { CompileOptions, CompileProgress } from "./options.js";
export type { CompileResult, CompileSummary } from "./finalize.js";

/** How often, by default, the partial files are synced and the journal rewritten. */
const CHECKPOINT_MS = 2000;
/**
 * Read-ahead (read-ahead.ts) by default: on while the files come from the disk, this many files
 * per worker ahead, four reads at once. Cold 200-head voxels runs (docs/mesh-targets.md): 2 files
 * and 2 reads 1.49 s, 2 and 3 1.30 s, 4 and 4 1.11 s, more no better than noise; the disk then
 * reads as fast as for a process that only reads. Memory: a 4 MB buffer per read, and when the
 * files are handed over (read-ahead.ts, handoverSetting) a slot per file ahead.
 */
const READ_AHEAD_FILES_PER_WORKER = 4;
const READ_AHEAD_READS = 4;
/** Bytes written between background flushes (dataset/writer.ts flushInBackground). */
const FLUSH_BYTES = 24 * 2 ** 20;

export async function compile(options: CompileOptions): Promise<CompileResult> {
  const started = performance.now();
  let files: InputFile[], ids: number[], shard: ShardInfo | undefined;
  try {
    validateCompileOptions(options);
    files = discoverInputs(options.inputs, options.cwd, inputPattern(options.target));
    checkOutputPath(options.out);
    // Ids over the whole input list, so that they do not depend on the sharding.
    ids = assignIds(files.map((f) => f.rel), options.seed ?? 0, options.ids);
    if (options.shard) {
      const [first, end] = shardRange(files.map((f) => f.size), options.shard);
      shard = { ...options.shard, firstFile: first, files: end - first, totalFiles: files.length, inputs: inputsDigest(files) };
      files = files.slice(first, end);
      ids = ids.slice(first, end);
    }
  } catch (e) {
    if (e instanceof HeadsnetError) return { error: e };
    throw e;
  }
  // The workers boot while this thread builds the icosphere and the cube map.
  const workers = Math.max(1, Math.min(options.workers ?? defaultWorkers(), files.length));
  const pool = createPool(workers, options.workerFile);
  try {
    return await run(pool, workers, files, ids, shard, options, started);
  } catch (e) {
    if (e instanceof HeadsnetError) return { error: e };
    throw e;
  } finally {
    await pool.destroy();
  }
}

function checkOutputPath(out: string): void {
  if (existsSync(out) && !statSync(out).isDirectory()) throw errors.notDirectory(out, `${opt("out")} names the directory the dataset goes to`);
}

/** Refuse to replace a finished dataset, or files a run would replace, unless told to. */
function checkOverwrite(options: CompileOptions, plan: TargetPlan): void {
  if (options.overwrite || !existsSync(options.out)) return;
  if (existsSync(join(options.out, MANIFEST_NAME))) {
    const check = checkDataset(options.out);
    const m = check.dataset?.manifest;
    throw errors.datasetExists(options.out, m ? `a finished dataset (${m.rows.toLocaleString("en-US")} rows, ${m.models.length} model${m.models.length === 1 ? "" : "s"})` : "a dataset (manifest.json)");
  }
  const present = allFileNames(plan.streams).filter((n) => existsSync(join(options.out, n)));
  if (present.length) throw errors.datasetExists(options.out, `${present.join(", ")}, which this run would replace`);
}

async function run(
  pool: Piscina, workers: number, files: InputFile[], ids: number[], shard: ShardInfo | undefined, options: CompileOptions, started: number,
): Promise<CompileResult> {
  const plan = planTarget(options);
  const format = options.format ?? "dat";
  // Everything the output depends on: a resumed run must match it exactly.
  const key = runKey({
    version: VERSION, target: plan.name, format, options: plan.manifestOptions, ...(plan.keyParts as object),
    files: files.map((f, i) => [f.rel, f.size, f.mtimeMs, ids[i]]), shard,
  });
  const tally: RunTally = { files: files.length, models: [], failed: [], warnings: [], bytesRead: 0, workers, started, shard };

  // Open the run: the interrupted one to resume, or a new one.
  const journal = options.resume ? await readJournal(options.out) : undefined;
  if (journal && journal.key !== key) throw errors.resumeMismatch(options.out);
  if (journal?.publishing) return finishPublishing(options.out, tally);
  if (!journal) checkOverwrite(options, plan);
  const first = journal?.filesDone ?? 0;
  // The disk starts on the first files while the output is set up.
  const reads = options.readAheadReads ?? READ_AHEAD_READS;
  const readAhead = new ReadAhead(files, first, options.readAhead === undefined || options.readAhead === "auto"
    ? { auto: { files: READ_AHEAD_FILES_PER_WORKER * workers, reads } }
    : { files: options.readAhead, reads }, plan.readExtent, undefined, handoverSetting(files.slice(first), options.pageCache));
  let writer: DatasetWriter | undefined;
  try {
    if (journal) {
      writer = await DatasetWriter.resume(options.out, format, plan.streams, journal);
      if (!writer) throw errors.resumeDamaged(options.out);
      tally.models.push(...journal.models);
      tally.failed.push(...journal.failed);
      tally.resumedFrom = { files: first, rows: journal.rows };
    } else {
      writer = await DatasetWriter.create(options.out, format, plan.streams);
    }
  } catch (e) {
    readAhead.stop();
    throw e;
  }

  options.onStart?.({ files: files.length, resumedFrom: tally.resumedFrom });
  const records = files.map((f, i) => new FileRecord(i, f, ids[i]));
  const committer = new InOrderCommitter(writer, records, first);
  const dispatcher = new Dispatcher(pool, records, first, 2 * workers,
    (r) => {
      const task: FileTask = { path: r.input.path, label: r.input.label, key: r.input.rel, id: r.id, target: plan.task(r.input.rel) };
      // Bytes read ahead for this file's worker: wait for them (the worker would wait for the disk).
      return readAhead.take(r.index)?.then((bytes) => (bytes ? { ...task, bytes } : task)) ?? task;
    },
    (r) => {
      readAhead.release(r.index);
      committer.arrived(r);
    },
    (r) => readAhead.handedOut(r.index));
  const out = writer;
  let filesDone = first;
  // Ctrl-C: start nothing more; the files in flight finish and are written, then a checkpoint.
  const onAbort = () => { dispatcher.stop(); readAhead.stop(); };
  options.signal?.addEventListener("abort", onAbort);
  try {
    if (options.signal?.aborted) dispatcher.stop();
    dispatcher.fill();
    filesDone = await commitInOrder(options, out, key, records, first, tally, () => { dispatcher.stop(); committer.stop(); });
    if (filesDone < files.length) throw errors.interrupted(options.out, filesDone, files.length);
    return await finalize(options.out, key, out, plan, tally);
  } catch (e) {
    dispatcher.stop();
    committer.stop();
    // Let workers still writing finish before the files close.
    await Promise.allSettled([...dispatcher.running, ...committer.running]);
    // Stopped by strict, or nothing to keep: no output. Interrupted, or the disk failed: keep the
    // staged files and the last checkpoint, so that --resume finishes the run. Nothing there
    // looks complete: the staging folder has no manifest, and any old dataset is untouched.
    await out.close(Boolean(options.strict));
    if (e instanceof HeadsnetError && e.code === "E_OUTPUT") throw errors.outputResumable(e, filesDone, files.length);
    throw e;
  } finally {
    readAhead.stop();
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * The run loop: take each file's outcome in input order, record it, checkpoint now and then,
 * and report progress. Returns how many files are done; fewer than all when it stopped.
 */
async function commitInOrder(
  options: CompileOptions, writer: DatasetWriter, key: string, records: FileRecord[], first: number, tally: RunTally, stop: () => void,
): Promise<number> {
  const checkpointMs = options.checkpointMs ?? CHECKPOINT_MS;
  const flushBytes = options.flushBytes ?? FLUSH_BYTES;
  let durable: RowsPlace = writer.end; // every row before this is written
  let flushedRows = durable.firstRow;
  const rowBytes = writer.after(durable, 1).at.reduce((n, a, k) => n + a - durable.at[k], 0);
  let lastCheckpoint = performance.now();
  const checkpoint = async (filesDone: number) => {
    const extent = await writer.checkpoint(durable);
    await writeJournal(options.out, { key, filesDone, ...extent, models: tally.models, failed: tally.failed });
    lastCheckpoint = performance.now();
  };
  let filesDone = first;
  for (let i = first; i < records.length; i++) {
    const record = records[i];
    const outcome = await record.outcome;
    if (outcome.kind === "skipped") break;
    const label = record.input.label;
    if (outcome.kind === "unwritten") {
      // Room was made for rows that were never written: nothing after them can be trusted.
      stop();
      throw HeadsnetError.fromJSON(outcome.error);
    }
    if (outcome.kind === "failed") {
      tally.failed.push({ path: record.input.rel, code: outcome.error.code, message: HeadsnetError.fromJSON(outcome.error).message });
      if (options.strict) {
        stop();
        throw errors.strictStop(HeadsnetError.fromJSON(outcome.error).template, label);
      }
    } else {
      const { stats, place } = outcome;
      const skipped = Object.values(stats.skipped).some((n) => n > 0) ? stats.skipped : undefined;
      tally.models.push({
        path: record.input.rel, id: record.id, firstRow: place.firstRow, rows: stats.rows,
        vertices: stats.vertices, normals: stats.normals, skipped,
      });
      for (const w of stats.warnings) {
        // The summary holds the message as this process reads (options by API name or by flag).
        tally.warnings.push({ path: record.input.rel, message: messageText(w) });
        options.onWarning?.(label, w);
      }
      durable = writer.after(place, stats.rows);
      tally.bytesRead += stats.bytesRead;
    }
    filesDone = i + 1;
    if (performance.now() - lastCheckpoint > checkpointMs) await checkpoint(filesDone);
    else if ((durable.firstRow - flushedRows) * rowBytes >= flushBytes) {
      writer.flushInBackground();
      flushedRows = durable.firstRow;
    }
    options.onProgress?.({
      filesDone, filesTotal: records.length, rows: durable.firstRow, failed: tally.failed.length,
      seconds: (performance.now() - tally.started) / 1000, file: label,
    });
  }
  if (filesDone < records.length) await checkpoint(filesDone);
  return filesDone;
}

/** A run that stopped while its finished dataset was being moved into place: finish the move. */
async function finishPublishing(out: string, tally: RunTally): Promise<CompileResult> {
  if (existsSync(join(stagingDir(out), MANIFEST_NAME))) await publish(out);
  else await rm(stagingDir(out), { recursive: true, force: true }); // it had moved; only the folder was left
  const check = checkDataset(out);
  if (!check.dataset || check.problems.length) throw check.problems[0] ?? errors.resumeDamaged(out);
  const manifest: Manifest = check.dataset.manifest;
  return { summary: summarize(out, manifest, { ...tally, models: manifest.models, failed: manifest.failed, resumedFrom: { files: tally.files, rows: manifest.rows } }) };
}

// Training rows with bounded memory: a compiled dataset read in chunks (checked against its manifest
// first), or a row stream (a pipe, or an in-process compile) spooled to disk for later epochs; then a
// seeded shuffle buffer that turns chunks into batches.
//
// Order of an epoch. The rows are cut into blocks of CHUNK_ROWS. Epoch 0 reads the blocks in order
// (a stream can only arrive in order, and a pipe and the files it would have written must train
// identically); epoch e ≥ 1 reads them in a random order drawn from (seed, e). The rows then pass
// through a shuffle buffer of `shuffleRows` rows (drawn from (seed, e)): each incoming row evicts a
// random buffered row into the current batch. Memory: the buffer plus one block.

import { open, mkdir, rm, type FileHandle } from "node:fs/promises";
import { basename, join } from "node:path";
import { HEADSNET_Y_WIDTH, type Manifest } from "../dataset/format.js";
import { readDataset, RowReader, type DatasetFile } from "../dataset/read.js";
import { errors } from "../errors.js";
import { HeadsnetError } from "../errors.js";
import { Rng, mixSeed, SEED_CHUNKS, SEED_SHUFFLE } from "./rng.js";
import type { RowChunk } from "./stream.js";

export const CHUNK_ROWS = 1 << 16;
export const Y_WIDTH = HEADSNET_Y_WIDTH;

export interface Dataset {
  dir: string;
  manifest: Manifest;
  files: { x: DatasetFile; y: DatasetFile };
  xWidth: number;
  rows: number;
}

/**
 * Find and check a compiled HeadsNet dataset: DATA is its directory, its manifest.json or one of
 * its files; or several shard directories, read as one dataset (dataset/shards.ts).
 */
export async function openDataset(data: string | string[]): Promise<Dataset> {
  const dataset = readDataset(data, { target: "headsnet" });
  if (dataset.rows === 0) throw errors.manifest(dataset.manifestPath, "the dataset has no rows to train on");
  const { x, y } = dataset.files;
  return { dir: dataset.dir, manifest: dataset.manifest, files: { x, y }, xWidth: x.width, rows: dataset.rows };
}

/** Where the rows of an epoch come from. */
export interface RowSource {
  xWidth: number;
  /** Total rows, when known before the first epoch ends. */
  rows: number | undefined;
  label: string;
  epoch(e: number): AsyncGenerator<RowChunk>;
  close(): Promise<void>;
}

/** Blocks of CHUNK_ROWS rows, in the epoch's order: from a dataset's files, or a spool's. */
async function* blocks(
  x: DatasetFile, y: DatasetFile, xWidth: number, rows: number, seed: number, e: number,
): AsyncGenerator<RowChunk> {
  const count = Math.ceil(rows / CHUNK_ROWS);
  const order = e === 0 ? Uint32Array.from({ length: count }, (_, i) => i) : new Rng(mixSeed(seed, SEED_CHUNKS, e)).permutation(count);
  let xr: RowReader | undefined, yr: RowReader | undefined;
  try {
    xr = await RowReader.open(x);
    yr = await RowReader.open(y);
    for (const b of order) {
      const first = b * CHUNK_ROWS;
      const n = Math.min(CHUNK_ROWS, rows - first);
      const xs = new Float32Array(n * xWidth);
      const ys = new Float32Array(n * Y_WIDTH);
      await xr.read(first, new Uint8Array(xs.buffer));
      await yr.read(first, new Uint8Array(ys.buffer));
      yield { x: xs, y: ys, rows: n };
    }
  } catch (err) {
    if (err instanceof HeadsnetError) throw err;
    throw errors.read(xr ? y.path : x.path, (err as Error).message);
  } finally {
    await xr?.close();
    await yr?.close();
  }
}

/** A raw float32 spool file as a one-part dataset file. */
function spoolFile(key: string, path: string, width: number, rows: number): DatasetFile {
  return { key, path, name: basename(path), dtype: "float32", width, rowBytes: width * 4, dataOffset: 0, parts: [{ path, dataOffset: 0, firstRow: 0, rows }] };
}

/** A compiled dataset on disk (the first `limit` rows). */
export function fileSource(dataset: Dataset, seed: number, limit?: number): RowSource {
  const rows = limit !== undefined ? Math.min(limit, dataset.rows) : dataset.rows;
  const { x, y } = dataset.manifest.files;
  return {
    xWidth: dataset.xWidth,
    rows,
    label: dataset.dir,
    epoch: (e) => blocks(dataset.files.x, dataset.files.y, dataset.xWidth, rows, seed, e),
    close: async () => {},
  };
}

/**
 * Rows that arrive once (a pipe, an in-process compile): epoch 0 trains on them as they arrive and,
 * when more epochs follow, spools them to `spoolDir`; later epochs read the spool like files.
 */
export function streamSource(options: {
  xWidth: number;
  label: string;
  chunks: AsyncGenerator<RowChunk>;
  /** Called when the limit is reached before the input ends (e.g. drain the pipe). */
  stop?: () => Promise<void>;
  seed: number;
  limit?: number;
  spoolDir?: string;
}): RowSource & { received(): number } {
  const { xWidth, seed, spoolDir } = options;
  const limit = options.limit ?? Infinity;
  let received = 0;
  let complete = false;
  let xSpool: FileHandle | undefined, ySpool: FileHandle | undefined;
  const xPath = spoolDir ? join(spoolDir, "spool_x.f32") : "";
  const yPath = spoolDir ? join(spoolDir, "spool_y.f32") : "";

  async function* arrive(): AsyncGenerator<RowChunk> {
    if (spoolDir) {
      await mkdir(spoolDir, { recursive: true });
      xSpool = await open(xPath, "w");
      ySpool = await open(yPath, "w");
    }
    try {
      for await (let chunk of options.chunks) {
        if (received + chunk.rows > limit) {
          const n = limit - received;
          chunk = { x: chunk.x.subarray(0, n * xWidth), y: chunk.y.subarray(0, n * Y_WIDTH), rows: n };
        }
        if (chunk.rows > 0) {
          if (xSpool && ySpool) {
            await xSpool.write(new Uint8Array(chunk.x.buffer, chunk.x.byteOffset, chunk.x.byteLength));
            await ySpool.write(new Uint8Array(chunk.y.buffer, chunk.y.byteOffset, chunk.y.byteLength));
          }
          received += chunk.rows;
          yield chunk;
        }
        if (received >= limit) {
          await options.chunks.return(undefined);
          await options.stop?.();
          break;
        }
      }
      complete = true;
    } finally {
      await xSpool?.close();
      await ySpool?.close();
      xSpool = ySpool = undefined;
    }
  }

  return {
    xWidth,
    get rows() { return complete ? received : undefined; },
    label: options.label,
    received: () => received,
    async *epoch(e: number) {
      if (!complete) {
        if (e === 0) {
          yield* arrive();
          return;
        }
        if (!spoolDir) throw new Error("a stream source needs a spool directory for more than one epoch");
        for await (const _ of arrive()) { /* spool only */ }
      }
      if (e === 0 && !spoolDir) throw new Error("the stream has been read already");
      yield* blocks(spoolFile("x", xPath, xWidth, received), spoolFile("y", yPath, Y_WIDTH, received), xWidth, received, seed, e);
    },
    async close() {
      if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
    },
  };
}

/**
 * Batches of `batch` rows from an epoch's chunks through a seeded shuffle buffer. The arrays
 * yielded are reused: use each batch before asking for the next.
 */
export async function* shuffledBatches(
  chunks: AsyncIterable<RowChunk>, xWidth: number, batch: number, bufferRows: number, seed: number, e: number,
): AsyncGenerator<{ x: Float32Array; y: Float32Array; rows: number }> {
  const rng = new Rng(mixSeed(seed, SEED_SHUFFLE, e));
  const cap = Math.max(1, bufferRows);
  const bx = new Float32Array(cap * xWidth);
  const by = new Float32Array(cap * Y_WIDTH);
  let held = 0;
  const ox = new Float32Array(batch * xWidth);
  const oy = new Float32Array(batch * Y_WIDTH);
  let filled = 0;
  const emit = (j: number) => {
    ox.set(bx.subarray(j * xWidth, j * xWidth + xWidth), filled * xWidth);
    oy.set(by.subarray(j * Y_WIDTH, j * Y_WIDTH + Y_WIDTH), filled * Y_WIDTH);
    filled++;
  };
  for await (const c of chunks) {
    for (let r = 0; r < c.rows; r++) {
      const xs = c.x.subarray(r * xWidth, r * xWidth + xWidth);
      const ys = c.y.subarray(r * Y_WIDTH, r * Y_WIDTH + Y_WIDTH);
      if (held < cap) {
        bx.set(xs, held * xWidth);
        by.set(ys, held * Y_WIDTH);
        held++;
        continue;
      }
      const j = rng.below(cap);
      emit(j);
      bx.set(xs, j * xWidth);
      by.set(ys, j * Y_WIDTH);
      if (filled === batch) {
        yield { x: ox, y: oy, rows: batch };
        filled = 0;
      }
    }
  }
  // Drain the buffer in random order.
  while (held > 0) {
    const j = rng.below(held);
    emit(j);
    held--;
    bx.copyWithin(j * xWidth, held * xWidth, held * xWidth + xWidth);
    by.copyWithin(j * Y_WIDTH, held * Y_WIDTH, held * Y_WIDTH + Y_WIDTH);
    if (filled === batch) {
      yield { x: ox, y: oy, rows: batch };
      filled = 0;
    }
  }
  if (filled > 0) yield { x: ox.subarray(0, filled * xWidth), y: oy.subarray(0, filled * Y_WIDTH), rows: filled };
}

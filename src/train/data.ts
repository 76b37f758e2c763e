// Training rows with bounded memory: a compiled dataset read in chunks (checked against its manifest
// first), or a row stream (a pipe, or an in-process compile) spooled to disk for later epochs; then a
// seeded shuffle buffer that turns chunks into batches.
//
// Order of an epoch. The rows are cut into blocks of CHUNK_ROWS. Epoch 0 reads the blocks in order
// (a stream can only arrive in order, and a pipe and the files it would have written must train
// identically); epoch e ≥ 1 reads them in a random order drawn from (seed, e). The rows then pass
// through a shuffle buffer of `shuffleRows` rows (drawn from (seed, e)): each incoming row evicts a
// random buffered row into the current batch. Memory: the buffer plus one block.

import { open, readFile, stat, mkdir, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { HEADSNET_Y_WIDTH, type Manifest } from "../dataset/format.js";
import { readDataset } from "../dataset/read.js";
import { errors } from "../errors.js";
import { HeadsnetError } from "../errors.js";
import { Rng, mixSeed, SEED_CHUNKS, SEED_SHUFFLE } from "./rng.js";
import type { RowChunk } from "./stream.js";

export const CHUNK_ROWS = 1 << 16;
export const Y_WIDTH = HEADSNET_Y_WIDTH;

export interface Dataset {
  dir: string;
  manifest: Manifest;
  xPath: string;
  yPath: string;
  xWidth: number;
  rows: number;
}

/** Find and check a compiled HeadsNet dataset: DATA is its directory, its manifest.json, or one of its files. */
export async function openDataset(data: string): Promise<Dataset> {
  const dataset = readDataset(data, { target: "headsnet" });
  if (dataset.rows === 0) throw errors.manifest(dataset.manifestPath, "the dataset has no rows to train on");
  const { x, y } = dataset.files;
  return { dir: dataset.dir, manifest: dataset.manifest, xPath: x.path, yPath: y.path, xWidth: x.width, rows: dataset.rows };
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

async function readExactly(handle: FileHandle, target: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const { bytesRead } = await handle.read(target, done, target.byteLength - done, position + done);
    if (bytesRead === 0) throw errors.dataFile(path, `ends at byte ${position + done}, before the rows the manifest promises`);
    done += bytesRead;
  }
}

/** Blocks of CHUNK_ROWS rows of two raw float32 files, in the epoch's order. */
async function* blocks(
  xPath: string, yPath: string, xOffset: number, yOffset: number, xWidth: number, rows: number, seed: number, e: number,
): AsyncGenerator<RowChunk> {
  const count = Math.ceil(rows / CHUNK_ROWS);
  const order = e === 0 ? Uint32Array.from({ length: count }, (_, i) => i) : new Rng(mixSeed(seed, SEED_CHUNKS, e)).permutation(count);
  let xh: FileHandle | undefined, yh: FileHandle | undefined;
  try {
    xh = await open(xPath, "r");
    yh = await open(yPath, "r");
    for (const b of order) {
      const first = b * CHUNK_ROWS;
      const n = Math.min(CHUNK_ROWS, rows - first);
      const x = new Float32Array(n * xWidth);
      const y = new Float32Array(n * Y_WIDTH);
      await readExactly(xh, new Uint8Array(x.buffer), xOffset + first * xWidth * 4, xPath);
      await readExactly(yh, new Uint8Array(y.buffer), yOffset + first * Y_WIDTH * 4, yPath);
      yield { x, y, rows: n };
    }
  } catch (e) {
    if (e instanceof HeadsnetError) throw e;
    throw errors.read(xh ? yPath : xPath, (e as Error).message);
  } finally {
    await xh?.close();
    await yh?.close();
  }
}

/** A compiled dataset on disk (the first `limit` rows). */
export function fileSource(dataset: Dataset, seed: number, limit?: number): RowSource {
  const rows = limit !== undefined ? Math.min(limit, dataset.rows) : dataset.rows;
  const { x, y } = dataset.manifest.files;
  return {
    xWidth: dataset.xWidth,
    rows,
    label: dataset.dir,
    epoch: (e) => blocks(dataset.xPath, dataset.yPath, x.dataOffset, y.dataOffset, dataset.xWidth, rows, seed, e),
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
      yield* blocks(xPath, yPath, 0, 0, xWidth, received, seed, e);
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

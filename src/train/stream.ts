// The row stream: how `headsnet compile --stdout` hands rows to `headsnet train -` through a pipe.
//
// Format (all numbers little-endian):
//
//   header   one line of JSON, UTF-8, ending in "\n":
//            {"format":"headsnet-rows","version":1,"xWidth":2,"yWidth":6,
//             "columns":{"x":[...],"y":[...]}, ...anything else the writer adds (ignored)}
//   frames   repeated: uint32 n (rows, 1 ≤ n ≤ 16,777,216), then n·xWidth float32 (the rows of
//            train_x, row-major), then n·yWidth float32 (the matching rows of train_y)
//   end      uint32 0, then one line of JSON ending in "\n": {"rows": total rows sent}
//
// A stream that stops before its end frame (a compile that crashed or was killed) is an error, so
// a reader never mistakes a partial dataset for a whole one. Frames can have any size; a compile
// writes one frame per file.

import type { Readable, Writable } from "node:stream";
import { errors } from "../errors.js";

export const ROW_STREAM_FORMAT = "headsnet-rows";
export const ROW_STREAM_VERSION = 1;
export const MAX_FRAME_ROWS = 1 << 24;
const MAX_HEADER_BYTES = 1 << 16;

export interface RowStreamHeader {
  format: typeof ROW_STREAM_FORMAT;
  version: number;
  xWidth: number;
  yWidth: number;
  columns?: { x: string[]; y: string[] };
  [key: string]: unknown;
}

export interface RowChunk {
  x: Float32Array;
  y: Float32Array;
  rows: number;
}

// ---------------------------------------------------------------------------------------------
// Writer

/** Writes a row stream to `out`, honouring backpressure. Same shape as DatasetWriter (append/finish). */
export class RowStreamWriter {
  rows = 0;
  private started = false;
  private readonly header: RowStreamHeader;

  constructor(readonly out: Writable, xWidth: number, extra: Record<string, unknown> = {}, readonly yWidth = 6) {
    if (xWidth !== 2 && xWidth !== 5) throw new Error(`row stream: xWidth must be 2 or 5, got ${xWidth}`);
    this.header = { ...extra, format: ROW_STREAM_FORMAT, version: ROW_STREAM_VERSION, xWidth, yWidth };
  }

  get xWidth(): number {
    return this.header.xWidth;
  }

  private async write(bytes: Uint8Array | string): Promise<void> {
    if (!this.out.write(bytes)) {
      await new Promise<void>((resolve, reject) => {
        const done = (e?: Error) => {
          this.out.off("drain", onDrain);
          this.out.off("error", onError);
          this.out.off("close", onClose);
          if (e) reject(e); else resolve();
        };
        const onDrain = () => done();
        const onError = (e: Error) => done(e);
        const onClose = () => done(new Error("the reader closed the pipe"));
        this.out.on("drain", onDrain);
        this.out.on("error", onError);
        this.out.on("close", onClose);
      });
    }
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.write(JSON.stringify(this.header) + "\n");
  }

  /** One frame: `x` holds rows·xWidth floats, `y` rows·yWidth (split into frames of at most MAX_FRAME_ROWS). */
  async append(x: Float32Array, y: Float32Array): Promise<void> {
    await this.start();
    const rows = y.length / this.yWidth;
    if (!Number.isInteger(rows) || x.length !== rows * this.xWidth) {
      throw new Error(`row stream: ${x.length} x floats and ${y.length} y floats are not whole rows of ${this.xWidth} and ${this.yWidth}`);
    }
    for (let first = 0; first < rows; first += MAX_FRAME_ROWS) {
      const n = Math.min(MAX_FRAME_ROWS, rows - first);
      const count = Buffer.alloc(4);
      count.writeUInt32LE(n, 0);
      await this.write(count);
      const xs = x.subarray(first * this.xWidth, (first + n) * this.xWidth);
      const ys = y.subarray(first * this.yWidth, (first + n) * this.yWidth);
      // Copies: the caller may reuse its arrays once append() resolves, the stream may hold ours.
      await this.write(new Uint8Array(xs.buffer.slice(xs.byteOffset, xs.byteOffset + xs.byteLength)));
      await this.write(new Uint8Array(ys.buffer.slice(ys.byteOffset, ys.byteOffset + ys.byteLength)));
      this.rows += n;
    }
  }

  /** The end frame and trailer. Does not end `out` (stdout must not be ended). */
  async finish(): Promise<void> {
    await this.start();
    await this.write(Buffer.alloc(4));
    await this.write(JSON.stringify({ rows: this.rows }) + "\n");
  }
}

/**
 * Write a whole row stream: the header, one frame per chunk, the end frame. `chunks` yields
 * {x, y} Float32Arrays (rows·xWidth and rows·6 floats).
 */
export async function writeRowStream(
  out: Writable,
  xWidth: number,
  chunks: Iterable<{ x: Float32Array; y: Float32Array }> | AsyncIterable<{ x: Float32Array; y: Float32Array }>,
  extra: Record<string, unknown> = {},
): Promise<{ rows: number }> {
  const writer = new RowStreamWriter(out, xWidth, extra);
  await writer.start();
  for await (const c of chunks) await writer.append(c.x, c.y);
  await writer.finish();
  return { rows: writer.rows };
}

// ---------------------------------------------------------------------------------------------
// Reader

/** Reads exact byte counts from an async byte source. */
class ByteReader {
  offset = 0;
  private readonly parts: Buffer[] = [];
  private buffered = 0;
  private done = false;
  private readonly source: AsyncIterator<Buffer | string>;

  constructor(input: AsyncIterable<Buffer | string>) {
    this.source = input[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.done) {
      const next = await this.source.next();
      if (next.done) {
        this.done = true;
        break;
      }
      const b = typeof next.value === "string" ? Buffer.from(next.value) : next.value;
      if (b.length) {
        this.parts.push(b);
        this.buffered += b.length;
      }
    }
    return this.buffered >= n;
  }

  /** Exactly n bytes into `target` (at byte `at`), or false at the end of the input. */
  async readInto(target: Uint8Array, at: number, n: number): Promise<boolean> {
    let filled = 0;
    while (filled < n) {
      if (!this.parts.length && !(await this.fill(1))) return false;
      const head = this.parts[0];
      const take = Math.min(head.length, n - filled);
      target.set(head.subarray(0, take), at + filled);
      filled += take;
      this.buffered -= take;
      this.offset += take;
      if (take === head.length) this.parts.shift();
      else this.parts[0] = head.subarray(take);
    }
    return true;
  }

  /** Bytes up to and including the next "\n" (at most `max`), or null at the end. */
  async readLine(max: number): Promise<Buffer | null> {
    const collected: Buffer[] = [];
    let length = 0;
    for (;;) {
      if (!this.parts.length && !(await this.fill(1))) return null;
      const head = this.parts[0];
      const nl = head.indexOf(10);
      const take = nl >= 0 ? nl + 1 : head.length;
      collected.push(head.subarray(0, take));
      length += take;
      this.buffered -= take;
      this.offset += take;
      if (take === head.length) this.parts.shift();
      else this.parts[0] = head.subarray(take);
      if (nl >= 0) return Buffer.concat(collected);
      if (length > max) return Buffer.concat(collected);
    }
  }

  /** Discard the rest of the input (so the writer never sees a broken pipe). */
  async drain(): Promise<void> {
    this.parts.length = 0;
    while (!(await this.source.next()).done) { /* discard */ }
    this.done = true;
  }
}

export interface RowStreamReader {
  header: RowStreamHeader;
  /** Frames in order; throws a HeadsnetError on a malformed or truncated stream. */
  chunks(): AsyncGenerator<RowChunk>;
  /** Stop early: read and discard the rest of the input. */
  drain(): Promise<void>;
}

/** Open a row stream: reads and checks the header. `source` names the input in errors. */
export async function openRowStream(input: Readable | AsyncIterable<Buffer | string>, source = "stdin"): Promise<RowStreamReader> {
  const reader = new ByteReader(input as AsyncIterable<Buffer | string>);
  const line = await reader.readLine(MAX_HEADER_BYTES);
  if (line === null || line.length === 0) {
    throw errors.stream(source, `the input is empty; expected a header line {"format":"${ROW_STREAM_FORMAT}",...} (pipe 'headsnet compile ... --stdout' into it)`, 0);
  }
  if (line[line.length - 1] !== 10) {
    throw errors.stream(source, `no header line: expected one line of JSON {"format":"${ROW_STREAM_FORMAT}",...} ending in a newline`, 0);
  }
  let header: RowStreamHeader;
  try {
    header = JSON.parse(line.toString("utf8"));
  } catch {
    throw errors.stream(source, `the first line is not JSON (found ${JSON.stringify(line.subarray(0, 40).toString("latin1"))}); expected {"format":"${ROW_STREAM_FORMAT}",...}`, 0);
  }
  if (!header || header.format !== ROW_STREAM_FORMAT) {
    throw errors.stream(source, `the header's format is ${JSON.stringify(header?.format)}, expected "${ROW_STREAM_FORMAT}"`, 0);
  }
  if (header.version !== ROW_STREAM_VERSION) {
    throw errors.stream(source, `row stream version ${header.version}; this headsnet reads version ${ROW_STREAM_VERSION}`, 0);
  }
  if (header.xWidth !== 2 && header.xWidth !== 5) throw errors.stream(source, `xWidth ${header.xWidth}; expected 2 or 5`, 0);
  if (header.yWidth !== 6) throw errors.stream(source, `yWidth ${header.yWidth}; expected 6`, 0);
  const { xWidth, yWidth } = header;

  async function* chunks(): AsyncGenerator<RowChunk> {
    const count = new Uint8Array(4);
    let total = 0;
    for (;;) {
      const at = reader.offset;
      if (!(await reader.readInto(count, 0, 4))) {
        throw errors.stream(source, `the stream ends after ${total} rows without its end frame: the writer stopped early (did the compile fail?)`, at);
      }
      const n = new DataView(count.buffer).getUint32(0, true);
      if (n === 0) {
        const trailer = await reader.readLine(MAX_HEADER_BYTES);
        let sent: number | undefined;
        try {
          sent = trailer ? JSON.parse(trailer.toString("utf8")).rows : undefined;
        } catch { /* checked below */ }
        if (sent !== total) {
          throw errors.stream(source, `the end frame says ${sent === undefined ? "nothing readable" : `${sent} rows`}, but ${total} rows arrived`, reader.offset);
        }
        return;
      }
      if (n > MAX_FRAME_ROWS) throw errors.stream(source, `a frame of ${n} rows; frames hold at most ${MAX_FRAME_ROWS}`, at);
      const x = new Float32Array(n * xWidth);
      const y = new Float32Array(n * yWidth);
      if (!(await reader.readInto(new Uint8Array(x.buffer), 0, x.byteLength)) ||
          !(await reader.readInto(new Uint8Array(y.buffer), 0, y.byteLength))) {
        throw errors.stream(source, `the stream ends inside a frame of ${n} rows (after ${total} whole rows)`, reader.offset);
      }
      total += n;
      yield { x, y, rows: n };
    }
  }

  return { header, chunks, drain: () => reader.drain() };
}

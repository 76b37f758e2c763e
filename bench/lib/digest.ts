// Checksums of compiled rows, computed outside every timed section: sha256 of train_y, of
// column 1 of train_x (the icosphere index value: deterministic) and of all of train_x, over the
// whole file and over chosen prefixes (the reference's subset, the kernel's one file).

import { createHash, type Hash } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

export interface RowDigest {
  rows: number;
  /** sha256 of train_y (6 float32 per row). */
  y: string;
  /** sha256 of column 1 of train_x (the index value), as float32 little-endian. */
  index: string;
  /** sha256 of all of train_x (model ids included: equal only between runs with the same ids). */
  x: string;
}

export interface FileDigests {
  /** Rows in the files (from their sizes), or an error if the sizes disagree. */
  rows: number;
  whole: RowDigest;
  /** The same digests over the first `rows` rows, for each prefix asked for. */
  prefixes: RowDigest[];
  problem?: string;
}

const CHUNK_ROWS = 1 << 18;

export function digestRows(xPath: string, yPath: string, prefixes: number[] = [], xWidth = 2): FileDigests {
  const fx = openSync(xPath, "r");
  const fy = openSync(yPath, "r");
  try {
    const xBytes = fstatSync(fx).size;
    const yBytes = fstatSync(fy).size;
    const rows = yBytes / 24;
    let problem: string | undefined;
    if (!Number.isInteger(rows) || xBytes !== rows * xWidth * 4) {
      problem = `sizes disagree: train_x ${xBytes} bytes, train_y ${yBytes} bytes`;
    }
    const hy = createHash("sha256"), hi = createHash("sha256"), hx = createHash("sha256");
    const bx = Buffer.allocUnsafeSlow(CHUNK_ROWS * xWidth * 4);
    const by = Buffer.allocUnsafeSlow(CHUNK_ROWS * 24);
    const index = new Uint32Array(CHUNK_ROWS);
    const wanted = [...new Set(prefixes.filter((p) => p <= rows))].sort((a, b) => a - b);
    const done = new Map<number, RowDigest>();
    const snapshot = (at: number) => done.set(at, { rows: at, y: copyHex(hy), index: copyHex(hi), x: copyHex(hx) });
    let at = 0;
    if (wanted[0] === 0) snapshot(0);
    while (at < Math.floor(rows)) {
      const next = Math.min(at + CHUNK_ROWS, Math.floor(rows), ...wanted.filter((p) => p > at));
      const n = next - at;
      readFully(fx, bx, n * xWidth * 4, at * xWidth * 4);
      readFully(fy, by, n * 24, at * 24);
      const xw = new Uint32Array(bx.buffer, bx.byteOffset, n * xWidth);
      for (let r = 0; r < n; r++) index[r] = xw[r * xWidth + 1];
      hx.update(bx.subarray(0, n * xWidth * 4));
      hy.update(by.subarray(0, n * 24));
      hi.update(new Uint8Array(index.buffer, 0, n * 4));
      at = next;
      if (wanted.includes(at)) snapshot(at);
    }
    const whole = { rows: at, y: hy.digest("hex"), index: hi.digest("hex"), x: hx.digest("hex") };
    const missing = prefixes.filter((p) => !done.has(p));
    if (missing.length) problem ??= `only ${at} rows, fewer than the ${missing.join(", ")} asked for`;
    return { rows: at, whole, prefixes: prefixes.map((p) => done.get(p) ?? { rows: p, y: "", index: "", x: "" }), problem };
  } finally {
    closeSync(fx);
    closeSync(fy);
  }
}

/** The same digests of rows held in memory (the kernel's output views). */
export function digestArrays(x: Float32Array, y: Float32Array, xWidth = 2): RowDigest {
  const rows = y.length / 6;
  const xw = new Uint32Array(x.buffer, x.byteOffset, rows * xWidth);
  const index = new Uint32Array(rows);
  for (let r = 0; r < rows; r++) index[r] = xw[r * xWidth + 1];
  const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return {
    rows,
    y: createHash("sha256").update(bytes(y)).digest("hex"),
    index: createHash("sha256").update(bytes(index)).digest("hex"),
    x: createHash("sha256").update(bytes(xw)).digest("hex"),
  };
}

function copyHex(h: Hash): string {
  return h.copy().digest("hex");
}

function readFully(fd: number, buf: Buffer, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

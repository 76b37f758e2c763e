// Inputs and timers for the micro benchmarks: nearest-vertex queries and PLY parsing.

import { performance } from "node:perf_hooks";

/**
 * The query points of `native --micro`, bit for bit: splitmix64 from the same state, uniform
 * directions by rejection, radius uniform in [0.95, 1.05], rounded to float32. The arithmetic is
 * the same IEEE double arithmetic as native.c's (built without contraction or fast-math), so the
 * C program and this one query the same points and their checksums can be compared.
 */
export function microPoints(count: number): Float32Array {
  // 64-bit state as two uint32 halves (BigInt would be 10x slower).
  let hi = 0x9e3779b9, lo = 0x7f4a7c15;
  const mul = (ahi: number, alo: number, bhi: number, blo: number): void => {
    const a0 = alo & 0xffff, a1 = alo >>> 16, b0 = blo & 0xffff, b1 = blo >>> 16;
    const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    const carry = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
    rhi = (carry + Math.imul(alo, bhi) + Math.imul(ahi, blo)) >>> 0;
    rlo = Math.imul(alo, blo) >>> 0;
  };
  let rhi = 0, rlo = 0;
  const next = (): number => {
    lo = (lo + 0x7f4a7c15) >>> 0;
    hi = (hi + 0x9e3779b9 + (lo < 0x7f4a7c15 ? 1 : 0)) >>> 0;
    let zh = hi, zl = lo;
    // z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
    zl = (zl ^ ((zl >>> 30) | (zh << 2))) >>> 0; zh = (zh ^ (zh >>> 30)) >>> 0;
    mul(zh, zl, 0xbf58476d, 0x1ce4e5b9); zh = rhi; zl = rlo;
    // z = (z ^ (z >> 27)) * 0x94D049BB133111EB
    zl = (zl ^ ((zl >>> 27) | (zh << 5))) >>> 0; zh = (zh ^ (zh >>> 27)) >>> 0;
    mul(zh, zl, 0x94d049bb, 0x133111eb); zh = rhi; zl = rlo;
    // z ^ (z >> 31), then >> 11 to 53 bits, times 2^-53
    zl = (zl ^ ((zl >>> 31) | (zh << 1))) >>> 0; zh = (zh ^ (zh >>> 31)) >>> 0;
    return (zh * 2097152 + (zl >>> 11)) * 1.1102230246251565e-16;
  };
  const pts = new Float32Array(3 * count);
  for (let i = 0; i < count; i++) {
    let x: number, y: number, z: number, r2: number;
    do {
      x = 2 * next() - 1; y = 2 * next() - 1; z = 2 * next() - 1;
      r2 = x * x + y * y + z * z;
    } while (r2 > 1 || r2 < 1e-6);
    const s = (0.95 + 0.1 * next()) / Math.sqrt(r2);
    pts[3 * i] = x * s; pts[3 * i + 1] = y * s; pts[3 * i + 2] = z * s;
  }
  return pts;
}

/** Time `count` single queries driven from JavaScript; the answers land in `out`. Seconds. */
export function timeQueries(query: (x: number, y: number, z: number) => number, pts: Float32Array, count: number, out: Uint32Array): number {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) out[i] = query(pts[3 * i], pts[3 * i + 1], pts[3 * i + 2]);
  return (performance.now() - t0) / 1000;
}

/** Sum of the first `count` answers (the checksum native --micro prints). */
export function indexSum(out: Uint32Array, count: number): number {
  let s = 0;
  for (let i = 0; i < count; i++) s += out[i];
  return s;
}

/** What `native --micro` printed. */
export interface NativeMicro {
  hashNs: number;
  hashChecksum: number;
  batchedNs: number;
  bruteNs: number;
  bruteKind: string;
  bruteScalarNs: number;
  mismatches: number;
}

export function parseNativeMicro(text: string): NativeMicro | undefined {
  const num = (re: RegExp) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : NaN;
  };
  const kind = /micro: brute \d+ queries, [\d.]+ ns\/query, checksum \d+ \(([^)]*)\)/.exec(text);
  const r: NativeMicro = {
    hashNs: num(/micro: hash \d+ queries, ([\d.]+) ns\/query/),
    hashChecksum: num(/micro: hash \d+ queries, [\d.]+ ns\/query, checksum (\d+)/),
    batchedNs: num(/micro: hash-batched \d+ queries, ([\d.]+) ns\/query/),
    bruteNs: num(/micro: brute \d+ queries, ([\d.]+) ns\/query/),
    bruteKind: kind ? kind[1] : "?",
    bruteScalarNs: num(/micro: brute-scalar \d+ queries, ([\d.]+) ns\/query/),
    mismatches: num(/mismatches (\d+)/),
  };
  return Number.isFinite(r.hashNs) ? r : undefined;
}

/** A binary PLY with its face element emptied: the same vertex records, nothing after them. */
export function vertexOnlyPly(bytes: Uint8Array, bodyOffset: number, vertexEnd: number): Uint8Array {
  const header = Buffer.from(bytes.buffer, bytes.byteOffset, bodyOffset).toString("latin1")
    .replace(/^element face \d+/m, "element face 0");
  const head = Buffer.from(header, "latin1");
  const out = new Uint8Array(head.length + vertexEnd - bodyOffset);
  out.set(head, 0);
  out.set(bytes.subarray(bodyOffset, vertexEnd), head.length);
  return out;
}

// The reference's data, as the tests have it: its icosphere table (built into the package, in
// assets/) and its golden outputs (test/fixtures/golden/, see the README there). Inputs are stored
// gzipped and unpacked once into a directory of their own under the system's temp dir; what the
// reference wrote is stored compactly: train_x's column 1 as the icosphere index (the value is
// recomputed from it and checked against the sha256 of the original column before use), train_y
// as its sha256. Nothing here reads anything outside the repository.

import { expect } from "vitest";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { bytesOf } from "./bytes.js";

const FIXTURES = fileURLToPath(new URL("fixtures/golden/", import.meta.url));

/** The reference's icosphere table as a file (the one `--icosphere blender` loads). */
export const BLENDER_TABLE = fileURLToPath(new URL("../assets/icosphere_blender_10242.f32", import.meta.url));
export const BLENDER_SHA256 = "3637e2b2efa76fca4b37469c7ea5ca1f9757a47c9d2ae08ea197dce114b8dc0f";
export const BLENDER_VERTICES = 10_242;

export const GOLDEN_NAMES = ["head_00000", "head_00001", "head_00002", "head_00000_ascii", "head_00000_be", "full_head", "near_ties"];

interface Record {
  rows: number;
  ply: { sha256: string; bytes: number };
  trainX: { column1Sha256: string };
  trainY: { sha256: string; bytes: number };
}
const RECORDS: { [name: string]: Record } = JSON.parse(readFileSync(join(FIXTURES, "golden.json"), "utf8"));

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

let unpacked: string | undefined;

/**
 * A directory holding the seven golden inputs, `NAME.ply`, and nothing else. Keyed by the
 * fixtures' record, so every test process shares one; each file is checked against the original's
 * sha256 and written whole (renamed into place) when missing or wrong.
 */
export function goldenDir(): string {
  if (unpacked) return unpacked;
  const key = sha256(readFileSync(join(FIXTURES, "golden.json"))).slice(0, 16);
  const dir = join(tmpdir(), `headsnet-golden-${key}`);
  mkdirSync(dir, { recursive: true });
  for (const name of GOLDEN_NAMES) {
    const file = join(dir, `${name}.ply`);
    const want = RECORDS[name].ply;
    if (existsSync(file) && statSync(file).size === want.bytes && sha256(readFileSync(file)) === want.sha256) continue;
    const bytes = gunzipSync(readFileSync(join(FIXTURES, `${name}.ply.gz`)));
    if (sha256(bytes) !== want.sha256) throw new Error(`test/fixtures/golden/${name}.ply.gz does not unpack to the reference's ${name}.ply (sha256 ${want.sha256})`);
    // Written beside the directory, then renamed in: a process that lists it never sees half a file.
    const temp = join(tmpdir(), `headsnet-golden-${key}-${name}.${process.pid}.${Date.now()}.tmp`);
    writeFileSync(temp, bytes);
    renameSync(temp, file);
  }
  unpacked = dir;
  return dir;
}

/** The golden input `NAME.ply`. */
export function goldenPly(name: string): string {
  return join(goldenDir(), `${name}.ply`);
}

const f = Math.fround;
const STEP = f(1 / (3 * BLENDER_VERTICES));

export interface Golden {
  rows: number;
  /** Column 1 of the reference's train_x, as float32 bits. */
  indexBits: Uint32Array;
  /** sha256 of the reference's train_y. */
  ySha256: string;
}

const goldens = new Map<string, Golden>();

/** What the reference wrote for `NAME.ply`. */
export function golden(name: string): Golden {
  let g = goldens.get(name);
  if (g) return g;
  const record = RECORDS[name];
  if (!record) throw new Error(`no golden output ${name}`);
  const stored = readFileSync(join(FIXTURES, `${name}.index.u16`));
  const index = new Uint16Array(stored.buffer.slice(stored.byteOffset, stored.byteOffset + stored.byteLength));
  if (index.length !== record.rows) throw new Error(`test/fixtures/golden/${name}.index.u16: ${index.length} rows, the record says ${record.rows}`);
  // The reference's index value: float32(3i) * float32(1/30726) (its -Ofast build's reciprocal).
  const values = new Float32Array(record.rows);
  for (let r = 0; r < record.rows; r++) values[r] = f(f(3 * index[r]) * STEP);
  if (sha256(bytesOf(values)) !== record.trainX.column1Sha256) {
    throw new Error(`test/fixtures/golden/${name}.index.u16 does not give the reference's train_x column 1 (sha256 ${record.trainX.column1Sha256})`);
  }
  g = { rows: record.rows, indexBits: new Uint32Array(values.buffer), ySha256: record.trainY.sha256 };
  goldens.set(name, g);
  return g;
}

/**
 * Expects rows that are the reference's for `names`, concatenated in that order: column 1 of x
 * (rows of `xWidth` float32) bit for bit, y byte for byte (by sha256), and, when `idBits` is
 * given, that id in column 0 of every row.
 */
export function expectGoldenRows(x: ArrayBufferView, xWidth: number, y: ArrayBufferView, names: string[], idBits?: number): void {
  const xb = bytesOf(x), yb = bytesOf(y);
  const xu = new Uint32Array(xb.buffer.slice(xb.byteOffset, xb.byteOffset + xb.byteLength));
  const total = names.reduce((n, name) => n + golden(name).rows, 0);
  expect(xu.length, "train_x floats").toBe(total * xWidth);
  expect(yb.byteLength, "train_y bytes").toBe(total * 24);
  let first = 0;
  for (const name of names) {
    const g = golden(name);
    let mismatches = 0, at = -1;
    let badIds = 0;
    for (let r = 0; r < g.rows; r++) {
      const bits = xu[(first + r) * xWidth + 1];
      if (bits !== g.indexBits[r]) {
        mismatches++;
        if (at < 0) at = r;
      }
      if (idBits !== undefined && xu[(first + r) * xWidth] !== idBits) badIds++;
    }
    expect(mismatches, at < 0 ? "" : `${name}: ${mismatches} of ${g.rows} index values differ; first at row ${at}: bits ${xu[(first + at) * xWidth + 1].toString(16)}, expected ${g.indexBits[at].toString(16)}`).toBe(0);
    expect(badIds, `${name}: rows without the id`).toBe(0);
    const ySha = sha256(yb.subarray(first * 24, (first + g.rows) * 24));
    expect(ySha, `${name}: sha256 of its train_y rows`).toBe(g.ySha256);
    first += g.rows;
  }
}

/** Expects a compiled dataset directory (manifest.json, train_x.dat, train_y.dat) to hold the reference's rows for each golden input in it. */
export function expectGoldenDataset(dir: string): void {
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  const xWidth: number = manifest.files.x.width;
  const x = readFileSync(join(dir, "train_x.dat"));
  const y = readFileSync(join(dir, "train_y.dat"));
  const models: { path: string; firstRow: number; rows: number }[] = manifest.models;
  expect(models.map((m) => m.path).sort()).toEqual(GOLDEN_NAMES.map((n) => `${n}.ply`).sort());
  for (const m of models as { path: string; id: number; firstRow: number; rows: number }[]) {
    const name = m.path.replace(/\.ply$/, "");
    const idBits = new Uint32Array(new Float32Array([m.id]).buffer)[0];
    expectGoldenRows(x.subarray(m.firstRow * xWidth * 4, (m.firstRow + m.rows) * xWidth * 4), xWidth, y.subarray(m.firstRow * 24, (m.firstRow + m.rows) * 24), [name], idBits);
  }
}

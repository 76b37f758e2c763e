// Checks bench/c/native.c, the native C peer of headsnet used by the benchmark (the same
// algorithm as the WebAssembly kernel: legacy trace, cube map, exact tie re-ranking), against
// the golden outputs the original program wrote (test/fixtures/golden), and its cube map and
// generated icosphere against src/ bit for bit.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLENDER_TABLE, GOLDEN_NAMES, goldenDir as unpackedGoldenDir, expectGoldenRows, golden } from './reference.js';
import { expectSameBytes } from './bytes.js';
import { generateIcosphere, icosphereFromBytes } from '../src/icosphere.js';
import { buildSpatialHash } from '../src/spatial-hash.js';

const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;

const source = fileURLToPath(new URL('../bench/c/native.c', import.meta.url));
const goldenDir = unpackedGoldenDir();
const icosphere = BLENDER_TABLE;
const GOLDEN = GOLDEN_NAMES;

// A float32 model id, passed as the shortest decimal of its double value so
// that strtof in the C program rounds it back to exactly this float.
const ID = Math.fround(0.4242);
const ID_BITS = new Uint32Array(new Float32Array([ID]).buffer)[0];

const TIMEOUT = 60_000;

function bytes(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** A cube map's candidate lists as native --dump-tables writes them: u32 [grid, cell starts (6*grid*grid + 1), candidates]. */
function candidateLists(table: Float32Array): Buffer {
  const hash = buildSpatialHash(table);
  return Buffer.concat([bytes(new Uint32Array([hash.grid])), bytes(hash.cellStart), bytes(Uint32Array.from(hash.candidates))]);
}

/** Expects train_x (column 1 bit for bit, column 0 = ID) and train_y of `out` to be `names`' golden rows, concatenated. */
function expectGolden(out: string, names: string[]): void {
  expectGoldenRows(readFileSync(path.join(out, 'train_x.dat')), 2, readFileSync(path.join(out, 'train_y.dat')), names, ID_BITS);
}

describe.runIf(hasCc)('native C peer (bench/c/native.c) against the golden outputs', () => {
  let work = '';
  let bin = '';
  let runs = 0;

  function run(args: string[]) {
    return spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  }

  function freshOut(): string {
    const dir = path.join(work, `out${runs++}`);
    mkdirSync(dir);
    return dir;
  }

  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'headsnet-cnative-'));
    bin = path.join(work, 'native');
    // exactly the benchmark's build command
    const cc = spawnSync('cc', ['-O3', '-march=native', '-pthread', '-o', bin, source, '-lm'], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`cc failed (${cc.status}):\n${cc.stderr}`);
  }, TIMEOUT);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const name of GOLDEN) {
    it(
      `${name}.ply: train_y byte-identical, index column bit-identical, id constant`,
      () => {
        const out = freshOut();
        const r = run(['--id', String(ID), icosphere, out, path.join(goldenDir, `${name}.ply`)]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toMatch(/^native: 1 files, \d+ rows, [\d.]+ s, \d+ rows\/s, 1 threads$/m);
        expectGolden(out, [name]);
      },
      TIMEOUT,
    );
  }

  it(
    '-j 1, -j 2 and -j 3 write byte-identical outputs, in argument order',
    () => {
      // more files than the ring of 2N buffers, of different sizes, so that threads finish out of order
      const names = [...GOLDEN, ...GOLDEN.slice().reverse()];
      const files = names.map((n) => path.join(goldenDir, `${n}.ply`));
      const outs: string[] = [];
      for (const j of ['1', '2', '3']) {
        const out = freshOut();
        const r = run(['-j', j, '--id', String(ID), icosphere, out, ...files]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toMatch(new RegExp(`^native: ${names.length} files, \\d+ rows, .* ${j} threads$`, 'm'));
        outs.push(out);
      }
      expectGolden(outs[0], names);
      for (const out of outs.slice(1)) {
        for (const f of ['train_x.dat', 'train_y.dat']) {
          expectSameBytes(readFileSync(path.join(out, f)), readFileSync(path.join(outs[0], f)), `${out}/${f}`);
        }
      }
    },
    TIMEOUT,
  );

  it(
    'without --id: one random id per file; unreadable and malformed files are reported and skipped',
    () => {
      const out = freshOut();
      const names = ['head_00000', 'head_00001'];
      const missing = path.join(work, 'no-such-file.ply');
      const r = run([
        '-j',
        '2',
        icosphere,
        out,
        path.join(goldenDir, `${names[0]}.ply`),
        missing,
        icosphere, // not a PLY
        path.join(goldenDir, `${names[1]}.ply`),
      ]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('cannot open');
      expect(r.stderr).toContain(missing);
      expect(r.stderr).toMatch(/bad PLY/);
      expect(r.stderr).toMatch(/^native: 2 files, 4608 rows, .* 2 threads$/m);

      const x = readFileSync(path.join(out, 'train_x.dat'));
      expectGoldenRows(x, 2, readFileSync(path.join(out, 'train_y.dat')), names);
      const f = new Float32Array(x.buffer, x.byteOffset, x.byteLength / 4);
      expect(f.length).toBe(2 * 4608);
      const first = f[0];
      const second = f[2 * 2304];
      for (let i = 0; i < 2304; i++) {
        expect(f[2 * i]).toBe(first);
        expect(f[2 * (2304 + i)]).toBe(second);
      }
      // two random 32-bit draws collide with probability ~2^-32
      expect(first).not.toBe(second);
      for (const id of [first, second]) {
        expect(id).toBeGreaterThanOrEqual(0);
        expect(id).toBeLessThanOrEqual(1);
      }
    },
    TIMEOUT,
  );

  it('rejects a bad icosphere table and bad options', () => {
    const out = freshOut();
    const ply = path.join(goldenDir, 'head_00000.ply');
    let r = run([ply, out, ply]); // a PLY is not a multiple of 12 bytes of float32 triples
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/icosphere table size/);
    r = run(['-j', '0', icosphere, out, ply]);
    expect(r.status).toBe(2);
    r = run(['--level', '10', out, ply]);
    expect(r.status).toBe(2);
    expect(existsSync(path.join(out, 'train_x.dat'))).toBe(false);
  });

  it(
    '--dump-tables: the cube map has the candidate lists of src/spatial-hash.ts buildSpatialHash',
    () => {
      const out = freshOut();
      const r = run(['--dump-tables', icosphere, out]);
      expect(r.status, r.stderr).toBe(0);
      const table = readFileSync(icosphere);
      expectSameBytes(readFileSync(path.join(out, 'icosphere.f32')), table, 'icosphere.f32');
      const ico = icosphereFromBytes(new Uint8Array(table.buffer, table.byteOffset, table.byteLength), icosphere);
      const want = candidateLists(ico.vertices);
      const got = readFileSync(path.join(out, 'cubemap.u32'));
      expect(got.byteLength).toBe(want.byteLength);
      expectSameBytes(got, want, 'cubemap.u32');
    },
    TIMEOUT,
  );

  for (const level of [0, 1, 3, 5]) {
    it(
      `--level ${level}: the icosphere is generateIcosphere bit for bit, the cube map has the same lists`,
      () => {
        const out = freshOut();
        const r = run(['--dump-tables', '--level', String(level), out]);
        expect(r.status, r.stderr).toBe(0);
        const ico = generateIcosphere(level);
        expectSameBytes(readFileSync(path.join(out, 'icosphere.f32')), ico.vertices, 'icosphere.f32');
        const want = candidateLists(ico.vertices);
        expectSameBytes(readFileSync(path.join(out, 'cubemap.u32')), want, 'cubemap.u32');
      },
      TIMEOUT,
    );
  }

  it(
    '--level 5 compiles a head; --micro: the cube map agrees with the brute force on random queries',
    () => {
      const out = freshOut();
      let r = run(['--level', '5', '--id', String(ID), out, path.join(goldenDir, 'head_00001.ply')]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^native: 1 files, 2304 rows, /m);
      // train_y does not depend on the table
      const y = readFileSync(path.join(out, 'train_y.dat'));
      expect(createHash('sha256').update(y).digest('hex')).toBe(golden('head_00001').ySha256);

      for (const spec of [[icosphere], ['--level', '3']]) {
        r = run(['--micro', ...spec, '20000', '5000']);
        expect(r.status, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toMatch(/^micro: hash 20000 queries, [\d.]+ ns\/query, checksum \d+$/m);
        expect(r.stdout).toMatch(/^micro: hash-batched 20000 queries, [\d.]+ ns\/query, checksum \d+/m);
        expect(r.stdout).toMatch(/^micro: brute 5000 queries, [\d.]+ ns\/query, checksum \d+/m);
        expect(r.stdout).toMatch(/mismatches 0$/m);
        const sums = [...r.stdout.matchAll(/^micro: (hash|hash-batched) 20000 queries, .* checksum (\d+)/gm)].map((m) => m[2]);
        expect(sums.length).toBe(2);
        expect(sums[0]).toBe(sums[1]);
      }
    },
    TIMEOUT,
  );
});

// Checks bench/c/reference.c, the C re-creation of the original DatasetGen
// used as the benchmark yardstick, against the golden outputs the original
// program wrote (test/fixtures/golden).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLENDER_TABLE, GOLDEN_NAMES, goldenDir as unpackedGoldenDir, expectGoldenRows } from './reference.js';
import { expectSameBytes } from './bytes.js';

const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;

const source = fileURLToPath(new URL('../bench/c/reference.c', import.meta.url));
const goldenDir = unpackedGoldenDir();
const icosphere = BLENDER_TABLE;
// The two large inputs (full_head, near_ties: 153,636 rows of brute force and per-row
// open/close, most of this file's time) are npm run test:long's (test/long/c-reference-large.test.ts).
const LARGE = ['full_head', 'near_ties'];
const GOLDEN = GOLDEN_NAMES.filter((name) => !LARGE.includes(name));

// A float32 model id, passed as the shortest decimal of its double value so
// that strtof in the C program rounds it back to exactly this float.
const ID = Math.fround(0.4242);
const ID_BITS = new Uint32Array(new Float32Array([ID]).buffer)[0];

const TIMEOUT = 180_000;

describe.runIf(hasCc)('C reference (bench/c/reference.c) against the golden outputs', () => {
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
    work = mkdtempSync(path.join(tmpdir(), 'headsnet-cref-'));
    bin = path.join(work, 'reference');
    // exactly the reference makefile's flags
    const cc = spawnSync('cc', ['-Ofast', '-march=native', '-o', bin, source, '-lm'], { encoding: 'utf8' });
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
        // default mode: fopen/fwrite/fclose per row, as the original did
        const r = run(['--id', String(ID), icosphere, out, path.join(goldenDir, `${name}.ply`)]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toMatch(/^reference: 1 files, \d+ rows, /m);

        const x = readFileSync(path.join(out, 'train_x.dat'));
        const y = readFileSync(path.join(out, 'train_y.dat'));
        expectGoldenRows(x, 2, y, [name], ID_BITS);
      },
      TIMEOUT,
    );
  }

  it(
    '--buffered writes the same bytes as the per-row open/close mode',
    () => {
      const ply = path.join(goldenDir, 'head_00001.ply');
      const a = freshOut();
      const b = freshOut();
      expect(run(['--id', String(ID), icosphere, a, ply]).status).toBe(0);
      expect(run(['--buffered', '--id', String(ID), icosphere, b, ply]).status).toBe(0);
      for (const f of ['train_x.dat', 'train_y.dat']) {
        expectSameBytes(readFileSync(path.join(b, f)), readFileSync(path.join(a, f)), f);
      }
    },
    TIMEOUT,
  );

  it(
    'appends several files in argument order, one random id per file, and reports unreadable files',
    () => {
      const out = freshOut();
      const names = ['head_00000', 'head_00001'];
      const missing = path.join(work, 'no-such-file.ply');
      const r = run([
        '--buffered',
        icosphere,
        out,
        path.join(goldenDir, `${names[0]}.ply`),
        missing,
        path.join(goldenDir, `${names[1]}.ply`),
      ]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('cannot open');
      expect(r.stderr).toContain(missing);
      expect(r.stderr).toMatch(/^reference: 2 files, 4608 rows, /m);

      const x = readFileSync(path.join(out, 'train_x.dat'));
      expectGoldenRows(x, 2, readFileSync(path.join(out, 'train_y.dat')), names);

      const f = new Float32Array(x.buffer, x.byteOffset, x.byteLength / 4);
      const ids = new Set<number>();
      for (let i = 0; i < f.length; i += 2) ids.add(f[i]);
      // one id per file; two random 32-bit draws collide with probability ~2^-32
      expect(ids.size).toBe(2);
      for (const id of ids) {
        expect(id).toBeGreaterThanOrEqual(0);
        expect(id).toBeLessThanOrEqual(1);
      }
      const first = f[0];
      for (let i = 0; i < 2304 * 2; i += 2) expect(f[i]).toBe(first);
    },
    TIMEOUT,
  );

  it('rejects a bad PLY header with a clear error', () => {
    const out = freshOut();
    const r = run([icosphere, out, icosphere]); // the table is not a PLY
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad PLY/);
    expect(existsSync(path.join(out, 'train_x.dat'))).toBe(false);
  });
});

// Checks bench/c/reference.c, the C re-creation of the original DatasetGen
// used as the benchmark yardstick, against the golden outputs the original
// program wrote (shared/reference/golden, a sibling of the repository).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOLDEN_DIR, BLENDER_ICOSPHERE, GOLDEN_NAMES } from './paths.js';

const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;

const source = fileURLToPath(new URL('../bench/c/reference.c', import.meta.url));
const goldenDir = GOLDEN_DIR;
const icosphere = BLENDER_ICOSPHERE;
const GOLDEN = GOLDEN_NAMES;

// A float32 model id, passed as the shortest decimal of its double value so
// that strtof in the C program rounds it back to exactly this float.
const ID = Math.fround(0.4242);
const ID_BITS = new Uint32Array(new Float32Array([ID]).buffer)[0];

const TIMEOUT = 120_000;

function u32(file: string): Uint32Array {
  const buf = readFileSync(file);
  expect(buf.byteLength % 4).toBe(0);
  return new Uint32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

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

        const gotY = readFileSync(path.join(out, 'train_y.dat'));
        const wantY = readFileSync(path.join(goldenDir, `${name}.train_y.dat`));
        expect(gotY.byteLength).toBe(wantY.byteLength);
        expect(gotY.equals(wantY)).toBe(true);

        const gotX = u32(path.join(out, 'train_x.dat'));
        const wantX = u32(path.join(goldenDir, `${name}.train_x.dat`));
        expect(gotX.length).toBe(wantX.length);
        const rows = wantX.length / 2;
        expect(rows * 6 * 4).toBe(wantY.byteLength);
        let mismatches = 0;
        let first = -1;
        let badId = 0;
        for (let i = 0; i < rows; i++) {
          if (gotX[2 * i + 1] !== wantX[2 * i + 1]) {
            mismatches++;
            if (first < 0) first = i;
          }
          if (gotX[2 * i] !== ID_BITS) badId++;
        }
        expect(
          mismatches,
          first < 0
            ? ''
            : `${mismatches} of ${rows} index values differ; first at row ${first}: ` +
                `got bits ${gotX[2 * first + 1].toString(16)}, want ${wantX[2 * first + 1].toString(16)}`,
        ).toBe(0);
        expect(badId).toBe(0);
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
        expect(readFileSync(path.join(b, f)).equals(readFileSync(path.join(a, f)))).toBe(true);
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

      const wantY = Buffer.concat(names.map((n) => readFileSync(path.join(goldenDir, `${n}.train_y.dat`))));
      expect(readFileSync(path.join(out, 'train_y.dat')).equals(wantY)).toBe(true);

      const x = readFileSync(path.join(out, 'train_x.dat'));
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

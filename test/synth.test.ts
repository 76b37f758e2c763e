import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, isAbsolute } from 'node:path';
import { synthHead, synthHeadPly, synthCorpus, corpusHeadSeed, type SynthMesh } from '../src/synth.js';
import { expectSameBytes } from './bytes.js';

const BLENDER_HEADER = (v: number, f: number): string =>
  [
    'ply',
    'format binary_little_endian 1.0',
    'comment Created by headsnet synth (Blender export layout)',
    `element vertex ${v}`,
    'property float x',
    'property float y',
    'property float z',
    'property float nx',
    'property float ny',
    'property float nz',
    'property uchar red',
    'property uchar green',
    'property uchar blue',
    'property uchar alpha',
    `element face ${f}`,
    'property list uchar uint vertex_indices',
    'end_header',
    '',
  ].join('\n');

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

/** Decode a file in the Blender layout back into a mesh. */
function parseBlenderPly(bytes: Uint8Array): { header: string; mesh: SynthMesh } {
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.length, 4096)));
  const end = text.indexOf('end_header\n') + 'end_header\n'.length;
  const header = text.slice(0, end);
  const V = Number(/element vertex (\d+)/.exec(header)![1]);
  const F = Number(/element face (\d+)/.exec(header)![1]);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + end, bytes.length - end);
  const positions = new Float32Array(3 * V), normals = new Float32Array(3 * V), colors = new Uint8Array(4 * V);
  let o = 0;
  for (let i = 0; i < V; i++) {
    for (let k = 0; k < 3; k++, o += 4) positions[3 * i + k] = dv.getFloat32(o, true);
    for (let k = 0; k < 3; k++, o += 4) normals[3 * i + k] = dv.getFloat32(o, true);
    for (let k = 0; k < 4; k++, o += 1) colors[4 * i + k] = dv.getUint8(o);
  }
  const faces = new Uint32Array(3 * F);
  for (let f = 0; f < F; f++) {
    if (dv.getUint8(o) !== 3) throw new Error(`face ${f} is not a triangle`);
    o += 1;
    for (let k = 0; k < 3; k++, o += 4) faces[3 * f + k] = dv.getUint32(o, true);
  }
  expect(o).toBe(dv.byteLength);
  return { header, mesh: { positions, normals, colors, faces } };
}

function checkMesh(m: SynthMesh, requested: number): void {
  const V = m.positions.length / 3;
  const F = m.faces.length / 3;
  expect(m.normals.length).toBe(3 * V);
  expect(m.colors.length).toBe(4 * V);
  // Vertex count near the requested one (the builder is exact).
  expect(Math.abs(V - requested)).toBeLessThanOrEqual(requested * 0.01);
  expect(V).toBe(requested);
  // Closed genus-0 triangle mesh: Euler characteristic 2.
  expect(F).toBe(2 * (V - 2));

  // Inside the unit sphere, centred near the origin, reasonable size.
  let maxR = 0, cx = 0, cy = 0, cz = 0;
  for (let i = 0; i < V; i++) {
    const x = m.positions[3 * i], y = m.positions[3 * i + 1], z = m.positions[3 * i + 2];
    maxR = Math.max(maxR, Math.hypot(x, y, z));
    cx += x; cy += y; cz += z;
  }
  cx /= V; cy /= V; cz /= V;
  expect(maxR).toBeLessThan(1);
  expect(maxR).toBeGreaterThan(0.45);
  expect(maxR).toBeLessThan(0.9);
  expect(Math.hypot(cx, cy, cz)).toBeLessThan(0.2);

  // Face indices in range; no degenerate index triples.
  for (let f = 0; f < F; f++) {
    const a = m.faces[3 * f], b = m.faces[3 * f + 1], c = m.faces[3 * f + 2];
    if (!(a < V && b < V && c < V) || a === b || b === c || a === c) throw new Error(`bad face ${f}: ${a} ${b} ${c}`);
  }

  // Watertight and consistently wound: every directed edge appears once and its reverse once,
  // so every undirected edge is shared by exactly two faces.
  const directed = new Map<number, number>();
  for (let f = 0; f < F; f++) {
    for (let e = 0; e < 3; e++) {
      const a = m.faces[3 * f + e], b = m.faces[3 * f + ((e + 1) % 3)];
      const key = a * V + b;
      directed.set(key, (directed.get(key) ?? 0) + 1);
    }
  }
  expect(directed.size).toBe(3 * F);
  for (const [key, n] of directed) {
    if (n !== 1) throw new Error(`directed edge ${key} used ${n} times`);
    const a = Math.floor(key / V), b = key % V;
    if (directed.get(b * V + a) !== 1) throw new Error(`edge ${a}-${b} is not shared by exactly two faces`);
  }

  // Wound outward: positive signed volume.
  let vol = 0;
  const p = m.positions;
  for (let f = 0; f < F; f++) {
    const i = 3 * m.faces[3 * f], j = 3 * m.faces[3 * f + 1], k = 3 * m.faces[3 * f + 2];
    vol += p[i] * (p[j + 1] * p[k + 2] - p[j + 2] * p[k + 1])
      - p[i + 1] * (p[j] * p[k + 2] - p[j + 2] * p[k])
      + p[i + 2] * (p[j] * p[k + 1] - p[j + 1] * p[k]);
  }
  expect(vol / 6).toBeGreaterThan(0.02);

  // Normals: unit length, pointing outward for the vast majority.
  let outward = 0;
  for (let i = 0; i < V; i++) {
    const nx = m.normals[3 * i], ny = m.normals[3 * i + 1], nz = m.normals[3 * i + 2];
    const len = Math.hypot(nx, ny, nz);
    if (Math.abs(len - 1) > 1e-5) throw new Error(`normal ${i} has length ${len}`);
    const d = nx * (p[3 * i] - cx) + ny * (p[3 * i + 1] - cy) + nz * (p[3 * i + 2] - cz);
    if (d > 0) outward++;
  }
  expect(outward / V).toBeGreaterThan(0.95);

  // Colours: opaque, not all the same.
  const distinct = new Set<number>();
  for (let i = 0; i < V; i++) {
    if (m.colors[4 * i + 3] !== 255) throw new Error(`vertex ${i} alpha ${m.colors[4 * i + 3]}`);
    distinct.add((m.colors[4 * i] << 16) | (m.colors[4 * i + 1] << 8) | m.colors[4 * i + 2]);
  }
  expect(distinct.size).toBeGreaterThan(Math.min(10, V / 4));
}

describe('synthHead', () => {
  for (const vertices of [20, 21, 50, 500, 3001]) {
    it(`builds a closed outward mesh with ${vertices} vertices`, () => {
      for (const seed of [0, 1, 7]) checkMesh(synthHead({ vertices, seed }), vertices);
    });
  }

  it('defaults to 94000 vertices', () => {
    const m = synthHead();
    expect(m.positions.length).toBe(3 * 94000);
    checkMesh(m, 94000);
  });

  it('is deterministic and seed-dependent', () => {
    const a = synthHeadPly({ vertices: 2000, seed: 3 });
    const b = synthHeadPly({ vertices: 2000, seed: 3 });
    const c = synthHeadPly({ vertices: 2000, seed: 4 });
    expect(same(a, b)).toBe(true);
    expect(a.length).toBe(c.length);
    expect(same(a, c)).toBe(false);
    expect(same(synthHeadPly({ vertices: 2000 }), synthHeadPly({ vertices: 2000, seed: 0 }))).toBe(true);
  });

  it('varies size with the seed', () => {
    const sizes = new Set<number>();
    for (let seed = 0; seed < 8; seed++) {
      const p = synthHead({ vertices: 200, seed }).positions;
      let maxR = 0;
      for (let i = 0; i < p.length; i += 3) maxR = Math.max(maxR, Math.hypot(p[i], p[i + 1], p[i + 2]));
      sizes.add(Math.round(maxR * 100));
    }
    expect(sizes.size).toBeGreaterThan(3);
  });

  it('rejects bad options', () => {
    expect(() => synthHead({ vertices: 19 })).toThrow(/from 20 to/);
    expect(() => synthHead({ vertices: 0 })).toThrow(/from 20 to/);
    expect(() => synthHead({ vertices: 100.5 })).toThrow(/integer/);
    expect(() => synthHead({ vertices: NaN })).toThrow(/integer/);
    expect(() => synthHead({ vertices: 100, seed: 1.5 })).toThrow(/integer/);
  });
});

describe('synthHeadPly', () => {
  it("writes Blender's export layout and decodes back to the mesh", () => {
    const mesh = synthHead({ vertices: 700, seed: 11 });
    const bytes = synthHeadPly({ vertices: 700, seed: 11 });
    const { header, mesh: back } = parseBlenderPly(bytes);
    expect(header).toBe(BLENDER_HEADER(700, 2 * 698));
    expect(bytes.length).toBe(header.length + 700 * 28 + 2 * 698 * 13);
    for (const key of ['positions', 'normals', 'colors', 'faces'] as const) {
      expect(back[key].length, key).toBe(mesh[key].length);
      expectSameBytes(back[key], mesh[key], key);
    }
    checkMesh(back, 700);
  });
});

describe('synthCorpus', () => {
  it('writes head_NNNNN.ply files; a smaller corpus is a prefix of a larger one', async () => {
    const root = await mkdtemp(join(tmpdir(), 'headsnet-synth-'));
    try {
      const a = await synthCorpus({ out: join(root, 'a', 'nested'), count: 3, vertices: 300, seed: 5 });
      const b = await synthCorpus({ out: join(root, 'b'), count: 5, vertices: 300, seed: 5 });
      const c = await synthCorpus({ out: join(root, 'c'), count: 3, vertices: 300, seed: 6 });
      expect(isAbsolute(a.dir)).toBe(true);
      expect(a.files).toEqual([0, 1, 2].map((i) => join(a.dir, `head_0000${i}.ply`)));
      expect((await readdir(b.dir)).sort()).toEqual(['head_00000.ply', 'head_00001.ply', 'head_00002.ply', 'head_00003.ply', 'head_00004.ply']);
      expect(a.vertices).toBe(900);
      expect(b.vertices).toBe(1500);
      let total = 0;
      for (let i = 0; i < 5; i++) {
        const fb = await readFile(b.files[i]);
        total += fb.length;
        expect(same(fb, synthHeadPly({ vertices: 300, seed: corpusHeadSeed(5, i) }))).toBe(true);
        if (i < 3) {
          expect(same(await readFile(a.files[i]), fb)).toBe(true);
          expect(same(await readFile(c.files[i]), fb)).toBe(false);
        }
        // Heads within a corpus differ.
        if (i > 0) expect(same(fb, await readFile(b.files[i - 1]))).toBe(false);
      }
      expect(b.bytes).toBe(total);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('rejects bad options', async () => {
    await expect(synthCorpus({ out: join(tmpdir(), 'never'), count: -1 })).rejects.toThrow(/count/);
    await expect(synthCorpus({ out: join(tmpdir(), 'never'), count: 1, vertices: 5 })).rejects.toThrow(/from 20 to/);
  });
});

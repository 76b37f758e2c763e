import { describe, it, expect } from 'vitest';
import { writePly, type PlyElementSpec, type PlyFormat, type PlyListColumn } from '../src/ply-write.js';

const dec = new TextDecoder();

/** Split a written file into header text (through end_header + line ending) and body bytes. */
function splitHeader(bytes: Uint8Array, nl = '\n'): { header: string; body: Uint8Array } {
  const marker = new TextEncoder().encode('end_header' + nl);
  outer: for (let i = 0; i + marker.length <= bytes.length; i++) {
    for (let k = 0; k < marker.length; k++) if (bytes[i + k] !== marker[k]) continue outer;
    const end = i + marker.length;
    return { header: dec.decode(bytes.subarray(0, end)), body: bytes.subarray(end) };
  }
  throw new Error('no end_header');
}

/** Small deterministic PRNG for test data. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const small: PlyElementSpec[] = [
  {
    name: 'vertex',
    count: 3,
    properties: [
      { name: 'x', type: 'float', data: [0.5, -1.25, 3] },
      { name: 'y', type: 'float32', data: [1, 2, 3] },
      { name: 'd', type: 'double', data: [0.1, -2.5e-300, 1e300] },
      { name: 'c', type: 'char', data: [-128, 0, 127] },
      { name: 'uc', type: 'uint8', data: [0, 128, 255] },
      { name: 's', type: 'short', data: [-32768, 1, 32767] },
      { name: 'us', type: 'uint16', data: [0, 1000, 65535] },
      { name: 'i', type: 'int', data: [-2147483648, -1, 2147483647] },
      { name: 'ui', type: 'uint32', data: [0, 123456789, 4294967295] },
    ],
  },
  {
    name: 'face',
    count: 2,
    properties: [
      { name: 'vertex_indices', countType: 'uchar', itemType: 'int', data: [[0, 1, 2], [2, 1, 0, 1]] },
      { name: 'flags', type: 'ushort', data: [7, 9] },
    ],
  },
];

const smallHeader = (fmt: PlyFormat, nl = '\n'): string =>
  [
    'ply',
    `format ${fmt} 1.0`,
    'comment hello world',
    'comment second',
    'element vertex 3',
    'property float x',
    'property float32 y',
    'property double d',
    'property char c',
    'property uint8 uc',
    'property short s',
    'property uint16 us',
    'property int i',
    'property uint32 ui',
    'element face 2',
    'property list uchar int vertex_indices',
    'property ushort flags',
    'end_header',
    '',
  ].join(nl);

function decodeSmallBinary(body: Uint8Array, le: boolean) {
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let o = 0;
  const verts: number[][] = [];
  for (let r = 0; r < 3; r++) {
    const row: number[] = [];
    row.push(dv.getFloat32(o, le)); o += 4;
    row.push(dv.getFloat32(o, le)); o += 4;
    row.push(dv.getFloat64(o, le)); o += 8;
    row.push(dv.getInt8(o)); o += 1;
    row.push(dv.getUint8(o)); o += 1;
    row.push(dv.getInt16(o, le)); o += 2;
    row.push(dv.getUint16(o, le)); o += 2;
    row.push(dv.getInt32(o, le)); o += 4;
    row.push(dv.getUint32(o, le)); o += 4;
    verts.push(row);
  }
  const faces: { idx: number[]; flags: number }[] = [];
  for (let r = 0; r < 2; r++) {
    const n = dv.getUint8(o); o += 1;
    const idx: number[] = [];
    for (let i = 0; i < n; i++) { idx.push(dv.getInt32(o, le)); o += 4; }
    const flags = dv.getUint16(o, le); o += 2;
    faces.push({ idx, flags });
  }
  return { verts, faces, consumed: o };
}

const expectedVerts = [
  [0.5, 1, 0.1, -128, 0, -32768, 0, -2147483648, 0],
  [-1.25, 2, -2.5e-300, 0, 128, 1, 1000, -1, 123456789],
  [3, 3, 1e300, 127, 255, 32767, 65535, 2147483647, 4294967295],
];
const expectedFaces = [
  { idx: [0, 1, 2], flags: 7 },
  { idx: [2, 1, 0, 1], flags: 9 },
];

describe('writePly header', () => {
  it('writes the exact header text', () => {
    for (const format of ['ascii', 'binary_little_endian', 'binary_big_endian'] as const) {
      const bytes = writePly({ format, comments: ['hello world', 'second'], elements: small });
      expect(splitHeader(bytes).header).toBe(smallHeader(format));
    }
  });

  it('uses CRLF line endings when asked', () => {
    const bytes = writePly({ format: 'binary_little_endian', comments: ['hello world', 'second'], elements: small, lineEnding: '\r\n' });
    const { header, body } = splitHeader(bytes, '\r\n');
    expect(header).toBe(smallHeader('binary_little_endian', '\r\n'));
    expect(header.replace(/\r\n/g, '').includes('\n')).toBe(false);
    // The binary body is unaffected by the line ending.
    const lf = splitHeader(writePly({ format: 'binary_little_endian', elements: small })).body;
    expect(Array.from(body)).toEqual(Array.from(lf));
    // ASCII bodies use the same line ending.
    const ascii = dec.decode(writePly({ format: 'ascii', elements: small, lineEnding: '\r\n' }));
    expect(ascii.endsWith('\r\n')).toBe(true);
    expect(ascii.split('\r\n').join('').includes('\n')).toBe(false);
  });

  it('writes an empty element and a header-only file', () => {
    const bytes = writePly({ format: 'ascii', elements: [{ name: 'vertex', count: 0, properties: [{ name: 'x', type: 'float', data: [] }] }] });
    expect(dec.decode(bytes)).toBe('ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nend_header\n');
  });
});

describe('writePly binary', () => {
  for (const [format, le] of [['binary_little_endian', true], ['binary_big_endian', false]] as const) {
    it(`round-trips every scalar type and lists (${format})`, () => {
      const bytes = writePly({ format, elements: small });
      const { body } = splitHeader(bytes);
      const got = decodeSmallBinary(body, le);
      expect(got.consumed).toBe(body.length);
      expect(got.verts).toEqual(expectedVerts);
      expect(got.faces).toEqual(expectedFaces);
    });
  }

  it('narrows floats with Math.fround and truncates integers toward zero', () => {
    const bytes = writePly({
      format: 'binary_little_endian',
      elements: [{
        name: 'v', count: 4, properties: [
          { name: 'f', type: 'float', data: [0.1, 1 / 3, 1e-40, -123.456] },
          { name: 'i', type: 'int', data: [2.9, -2.9, -0.5, 7] },
        ],
      }],
    });
    const { body } = splitHeader(bytes);
    const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const f: number[] = [], i: number[] = [];
    for (let r = 0; r < 4; r++) { f.push(dv.getFloat32(8 * r, true)); i.push(dv.getInt32(8 * r + 4, true)); }
    expect(f).toEqual([0.1, 1 / 3, 1e-40, -123.456].map(Math.fround));
    expect(i).toEqual([2, -2, 0, 7]);
  });

  it('accepts flat {offsets, items} lists (CSR and starts-only) identical to nested arrays', () => {
    const nested = [[0, 1, 2], [3, 4, 5, 6], [], [7]];
    const items = new Uint32Array([0, 1, 2, 3, 4, 5, 6, 7]);
    const mk = (data: PlyListColumn['data']) =>
      writePly({ format: 'binary_big_endian', elements: [{ name: 'face', count: 4, properties: [{ name: 'vertex_indices', countType: 'uchar', itemType: 'uint', data }] }] });
    const a = mk(nested);
    const b = mk({ offsets: [0, 3, 7, 7, 8], items });
    const c = mk({ offsets: [0, 3, 7, 7], items });
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).toEqual(Array.from(a));
    const { body } = splitHeader(a);
    const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    let o = 0;
    const rows: number[][] = [];
    for (let r = 0; r < 4; r++) {
      const n = dv.getUint8(o++);
      const row: number[] = [];
      for (let k = 0; k < n; k++, o += 4) row.push(dv.getUint32(o, false));
      rows.push(row);
    }
    expect(rows).toEqual(nested);
    expect(o).toBe(body.length);
  });

  it('writes large meshes', () => {
    const V = 20000, F = 40000;
    const x = new Float32Array(V).map((_, i) => i * 0.5);
    const items = new Uint32Array(3 * F).map((_, i) => i % V);
    const offsets = new Uint32Array(F + 1).map((_, i) => 3 * i);
    const bytes = writePly({
      format: 'binary_little_endian',
      elements: [
        { name: 'vertex', count: V, properties: [{ name: 'x', type: 'float', data: x }] },
        { name: 'face', count: F, properties: [{ name: 'vertex_indices', countType: 'uchar', itemType: 'uint', data: { offsets, items } }] },
      ],
    });
    const { body } = splitHeader(bytes);
    expect(body.length).toBe(4 * V + 13 * F);
    const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    expect(dv.getFloat32(4 * (V - 1), true)).toBe((V - 1) * 0.5);
    const lastFace = 4 * V + 13 * (F - 1);
    expect(dv.getUint8(lastFace)).toBe(3);
    expect(dv.getUint32(lastFace + 9, true)).toBe(items[3 * F - 1]);
  });
});

describe('writePly ascii', () => {
  it('writes one record per line, single spaces', () => {
    const text = dec.decode(writePly({ format: 'ascii', comments: ['hello world', 'second'], elements: small }));
    const { header } = splitHeader(new TextEncoder().encode(text));
    const lines = text.slice(header.length).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toEqual([
      '0.5 1 0.1 -128 0 -32768 0 -2147483648 0',
      '-1.25 2 -2.5e-300 0 128 1 1000 -1 123456789',
      '3 3 1e+300 127 255 32767 65535 2147483647 4294967295',
      '3 0 1 2 7',
      '4 2 1 0 1 9',
    ]);
  });

  it('float tokens round-trip exactly to the same float32', () => {
    const r = rng(42);
    const N = 20000;
    const vals = new Float32Array(N);
    const bits = new Uint32Array(vals.buffer);
    for (let i = 0; i < N; i++) {
      if (i % 2 === 0) {
        // Arbitrary bit patterns (every exponent, subnormals), skipping NaN/Inf.
        let b: number;
        do { b = Math.floor(r() * 4294967296) >>> 0; } while (((b >>> 23) & 0xff) === 0xff);
        bits[i] = b;
      } else {
        vals[i] = (r() - 0.5) * Math.pow(10, Math.floor(r() * 12) - 6);
      }
    }
    vals[0] = 2 ** -30; vals[2] = 2 ** 70; vals[4] = -0; vals[6] = 1.401298464324817e-45; vals[8] = 3.4028234663852886e38;
    const text = dec.decode(writePly({ format: 'ascii', elements: [{ name: 'v', count: N, properties: [{ name: 'f', type: 'float', data: vals }] }] }));
    const tokens = text.slice(splitHeader(new TextEncoder().encode(text)).header.length).trim().split('\n');
    expect(tokens.length).toBe(N);
    for (let i = 0; i < N; i++) {
      const got = Math.fround(parseFloat(tokens[i]));
      if (!Object.is(got, vals[i])) throw new Error(`row ${i}: ${tokens[i]} -> ${got}, want ${vals[i]}`);
    }
    // JS exponent forms are written as-is.
    // (String of the float32's double value, e.g. 2^-30 and 2^70.)
    expect(tokens[0]).toBe('9.313225746154785e-10');
    expect(tokens[2]).toBe('1.1805916207174113e+21');
    expect(tokens[4]).toBe('-0');
    expect(tokens.some((t) => /e[+-]/.test(t))).toBe(true);
  });

  it('double tokens round-trip exactly', () => {
    const r = rng(7);
    const vals = Array.from({ length: 2000 }, () => (r() - 0.5) * Math.pow(10, Math.floor(r() * 40) - 20));
    const text = dec.decode(writePly({ format: 'ascii', elements: [{ name: 'v', count: vals.length, properties: [{ name: 'd', type: 'float64', data: vals }] }] }));
    const tokens = text.slice(text.indexOf('end_header\n') + 11).trim().split('\n');
    expect(tokens.map(Number)).toEqual(vals);
  });

  it('writes lists and truncated integers', () => {
    const text = dec.decode(writePly({
      format: 'ascii',
      elements: [{
        name: 'face', count: 2, properties: [
          { name: 'vertex_indices', countType: 'uint8', itemType: 'uint32', data: { offsets: [0, 3, 5], items: [4, 5, 6, 7.9, 8] } },
          { name: 'k', type: 'short', data: [-3.7, -0.2] },
        ],
      }],
    }));
    expect(text.slice(text.indexOf('end_header\n') + 11)).toBe('3 4 5 6 -3\n2 7 8 0\n');
  });
});

describe('writePly errors', () => {
  const one = (type: string, v: number) => () =>
    writePly({ format: 'binary_little_endian', elements: [{ name: 'v', count: 1, properties: [{ name: 'p', type, data: [v] }] }] });
  const oneAscii = (type: string, v: number) => () =>
    writePly({ format: 'ascii', elements: [{ name: 'v', count: 1, properties: [{ name: 'p', type, data: [v] }] }] });

  it('throws on out-of-range integers', () => {
    for (const [type, v] of [['uchar', 256], ['uchar', -1], ['char', 128], ['char', -129], ['short', 32768], ['ushort', 65536],
      ['int', 2147483648], ['int', -2147483649], ['uint', 4294967296], ['uint', -1], ['uint8', 1e10]] as const) {
      expect(one(type, v), `${type} ${v}`).toThrow(/does not fit PLY type/);
      expect(oneAscii(type, v), `${type} ${v}`).toThrow(/does not fit PLY type/);
    }
    // Truncation toward zero happens first: these are in range.
    expect(one('uchar', 255.9)).not.toThrow();
    expect(one('uchar', -0.9)).not.toThrow();
  });

  it('throws on non-finite integers', () => {
    for (const v of [NaN, Infinity, -Infinity]) {
      expect(one('int', v)).toThrow(/does not fit PLY type/);
      expect(oneAscii('ushort', v)).toThrow(/does not fit PLY type/);
    }
  });

  it('throws on out-of-range list counts and items', () => {
    const long = Array.from({ length: 256 }, (_, i) => i);
    expect(() => writePly({ format: 'binary_little_endian', elements: [{ name: 'f', count: 1, properties: [{ name: 'l', countType: 'uchar', itemType: 'int', data: [long] }] }] }))
      .toThrow(/list length/);
    expect(() => writePly({ format: 'binary_big_endian', elements: [{ name: 'f', count: 1, properties: [{ name: 'l', countType: 'uchar', itemType: 'uint', data: [[1, -2]] }] }] }))
      .toThrow(/does not fit/);
  });

  it('throws on bad layouts', () => {
    expect(one('int24', 1)).toThrow(/unknown PLY scalar type/);
    expect(() => writePly({ format: 'ascii', elements: [{ name: 'v', count: 2, properties: [{ name: 'p', type: 'float', data: [1] }] }] }))
      .toThrow(/element count is 2/);
    expect(() => writePly({ format: 'ascii', elements: [{ name: 'v', count: 1, properties: [{ name: 'l', countType: 'float', itemType: 'int', data: [[1]] }] }] }))
      .toThrow(/integer type/);
    expect(() => writePly({ format: 'ascii', comments: ['a\nb'], elements: [] })).toThrow(/line break/);
    expect(() => writePly({ format: 'ascii', elements: [{ name: 'bad name', count: 0, properties: [] }] })).toThrow(/invalid element name/);
    expect(() => writePly({ format: 'binary' as PlyFormat, elements: [] })).toThrow(/invalid format/);
  });
});

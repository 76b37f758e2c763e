// The trainer's input encodings, the learning-rate schedule, the icosphere's triangles and the
// icosphere records, and the quality metrics on cases small enough to know the answer.

import { describe, it, expect, vi } from "vitest";
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Encoder, parseEncoding, resolveEncoding, encodedWidth, frequencies, type EncodingSpec,
} from "../src/train/encoding.js";
import { learningRate } from "../src/train/schedule.js";
import { generateIcosphere, generateIcosphereMesh, loadIcosphere, recordedIcosphere } from "../src/icosphere.js";
import { indexValue } from "../src/dataset/format.js";
import { headGrid, headInputs } from "../src/train/heads.js";
import { isClosed, compareClouds, chamferL1, extent } from "../src/mesh/metrics.js";
import { scoreHeads, floorHead, baselineHeads, type TrainingHead } from "../src/train/evaluate.js";
import { HeadsnetError } from "../src/errors.js";

vi.setConfig({ testTimeout: 120_000 });

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `headsnet-encoding-${name}-`));

/** The rows a compile writes for icosphere vertices `ks` of n: [id, index_value(k)]. */
function rowsFor(id: number, ks: number[], n: number): Float32Array {
  const x = new Float32Array(ks.length * 2);
  ks.forEach((k, r) => { x[r * 2] = id; x[r * 2 + 1] = indexValue(k, n); });
  return x;
}

function spec(over: Partial<EncodingSpec>): EncodingSpec {
  return { name: "direction", id: "scalar", key: "vertex", rowWidth: 2, ...over };
}

describe("encodings", () => {
  it("direction: the row of icosphere vertex i is fed table[i] exactly, for a generated level and for the blender table", () => {
    for (const icosphere of [generateIcosphere(3), loadIcosphere("blender")]) {
      const n = icosphere.count;
      const ks = Array.from({ length: n }, (_, k) => k);
      const enc = new Encoder(spec({ icosphere: { vertices: n, sha256: icosphere.sha256, source: icosphere.source } }), icosphere);
      expect(enc.width).toBe(4);
      const out = enc.encodeRows(rowsFor(0.25, ks, n), new Float32Array(n * 6), n, new Float32Array(n * 4));
      for (let k = 0; k < n; k++) {
        expect(out[k * 4]).toBe(Math.fround(0.25));
        for (let c = 0; c < 3; c++) expect(out[k * 4 + 1 + c]).toBe(icosphere.vertices[k * 3 + c]);
      }
    }
  });

  it("fourier:K:scale: q, then sin and cos of scale·2^j·π·q_c, j < K, for x, y and z", () => {
    const s = spec({ name: "fourier", octaves: 3, scale: 0.5 });
    expect(frequencies(s)).toEqual([0.5, 1, 2]);
    expect(encodedWidth(s)).toBe(1 + 3 + 18);
    const enc = new Encoder(s);
    const q = [0.6, -0.48, 0.64];
    const out = enc.directionInputs(0.5, Float32Array.from(q));
    expect(out[0]).toBe(0.5);
    expect(Array.from(out.subarray(1, 4))).toEqual(q.map(Math.fround));
    let at = 4;
    for (const f of [0.5, 1, 2]) {
      for (const v of q) {
        expect(out[at++]).toBe(Math.fround(Math.sin(f * Math.PI * Math.fround(v))));
        expect(out[at++]).toBe(Math.fround(Math.cos(f * Math.PI * Math.fround(v))));
      }
    }
  });

  it("hat: one-hot at a training id, linear between neighbouring ids, clamped outside them", () => {
    const ids = [0.2, 0.5, 0.9].map(Math.fround);
    const enc = new Encoder(spec({ id: "hat", ids }));
    const hat = (id: number) => {
      const out = new Float32Array(3);
      enc.idFeatures(id, out, 0);
      return Array.from(out);
    };
    expect(hat(ids[1])).toEqual([0, 1, 0]);
    expect(hat(0.05)).toEqual([1, 0, 0]);
    expect(hat(0.95)).toEqual([0, 0, 1]);
    const mid = hat(0.7);
    expect(mid[0]).toBe(0);
    expect(mid[1]).toBeCloseTo((0.9 - 0.7) / (0.9 - 0.5), 6);
    expect(mid[2]).toBeCloseTo((0.7 - 0.5) / (0.9 - 0.5), 6);
  });

  it("radial: a row is fed the direction of its own target point", () => {
    const enc = new Encoder(spec({ key: "radial" }));
    const y = Float32Array.from([0, 0, 0.5, 1, 1, 1, 0.3, -0.4, 0, 0, 0, 0]);
    const out = enc.encodeRows(Float32Array.from([0.1, 0.3, 0.1, 0.7]), y, 2, new Float32Array(8));
    expect(Array.from(out)).toEqual([0.1, 0, 0, 1, 0.1, 0.6, -0.8, 0].map(Math.fround));
  });

  it("index: the rows go in as they are (no copy)", () => {
    const enc = new Encoder({ name: "index", id: "scalar", key: "vertex", rowWidth: 2 });
    const x = Float32Array.from([0.1, 0.2]);
    expect(enc.encodeRows(x, new Float32Array(6), 1, new Float32Array(2))).toBe(x);
  });

  it("the options resolve against the data, and bad ones are usage errors that say what to pass", () => {
    const data = { rowWidth: 2, ids: [0.9, 0.1, 0.5, 0.1], icosphere: { vertices: 42, sha256: "x", source: "level 1" } };
    const d = resolveEncoding({}, data);
    expect(d).toMatchObject({ name: "fourier", octaves: 4, scale: 1, id: "hat", key: "radial" });
    expect(d.ids).toEqual([0.1, 0.5, 0.9].map(Math.fround));
    expect(resolveEncoding({ encoding: "index" }, data)).toMatchObject({ name: "index", rowWidth: 2 });
    expect(parseEncoding("fourier:6:0.5")).toEqual({ name: "fourier", octaves: 6, scale: 0.5 });
    expect(() => parseEncoding("fourier:0")).toThrow(/`encoding` must be index, direction, or fourier\[:K\[:scale\]\]/);
    expect(() => parseEncoding("sine")).toThrow(HeadsnetError);
    expect(() => resolveEncoding({ encoding: "index", idEncoding: "hat" }, data)).toThrow(/`idEncoding` hat needs `encoding` direction or fourier/);
    expect(() => resolveEncoding({ idEncoding: "hat" }, { ...data, ids: undefined })).toThrow(/does not list them; pass `idEncoding` scalar/);
    // Without the ids (a stream that does not list them), or with more heads than a hat is worth: the scalar id.
    expect(resolveEncoding({}, { ...data, ids: undefined }).id).toBe("scalar");
    const many = Array.from({ length: 257 }, (_, k) => (k + 0.5) / 257);
    expect(resolveEncoding({}, { ...data, ids: many }).id).toBe("scalar");
    expect(resolveEncoding({}, { ...data, ids: many.slice(1) }).id).toBe("hat");
  });
});

describe("learning-rate schedule", () => {
  it("const, warm-up, and cosine from the peak to lrMin over the run", () => {
    const s = { schedule: "cosine" as const, lr: 0.002, warmup: 10, lrMin: 0.1 };
    expect(learningRate(s, 0, 110)).toBeCloseTo(0.0002, 12);
    expect(learningRate(s, 9, 110)).toBeCloseTo(0.002, 12);
    expect(learningRate(s, 10, 110)).toBeCloseTo(0.002, 12);
    expect(learningRate(s, 60, 110)).toBeCloseTo(0.002 * (0.1 + 0.9 * 0.5), 12);
    expect(learningRate(s, 110, 110)).toBeCloseTo(0.0002, 12);
    expect(learningRate(s, 60, undefined)).toBe(0.002); // a stream's first epoch: the peak
    expect(learningRate({ ...s, schedule: "const" }, 60, 110)).toBe(0.002);
  });
});

describe("icosphere triangles and records", () => {
  it("a generated icosphere's mesh: its vertices, 20·4^level outward triangles, closed", () => {
    for (const level of [0, 1, 3, 5]) {
      const mesh = generateIcosphereMesh(level);
      expect(mesh.vertices).toEqual(generateIcosphere(level).vertices);
      expect(mesh.sha256).toBe(generateIcosphere(level).sha256);
      expect(mesh.faces.length).toBe(3 * 20 * 4 ** level);
      expect(isClosed(mesh.faces)).toBe(true);
      // Outward: the signed volume is positive, and approaches the unit ball's.
      const v = mesh.vertices;
      let volume = 0;
      for (let t = 0; t < mesh.faces.length; t += 3) {
        const [a, b, c] = [mesh.faces[t], mesh.faces[t + 1], mesh.faces[t + 2]].map((i) => [v[3 * i], v[3 * i + 1], v[3 * i + 2]]);
        volume += (a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) + a[2] * (b[0] * c[1] - b[1] * c[0])) / 6;
      }
      expect(volume).toBeGreaterThan(0);
      if (level === 5) expect(volume).toBeCloseTo((4 / 3) * Math.PI, 1);
    }
  });

  it("isClosed: an open mesh, a doubled edge and a flipped triangle are not closed", () => {
    const tetra = Uint32Array.from([0, 2, 1, 0, 1, 3, 1, 2, 3, 0, 3, 2]);
    expect(isClosed(tetra)).toBe(true);
    expect(isClosed(tetra.subarray(0, 9))).toBe(false);
    expect(isClosed(Uint32Array.from([0, 2, 1, 0, 1, 3, 1, 2, 3, 0, 2, 3]))).toBe(false);
  });

  it("a record finds generated levels and built-in tables by name or by sha256; a moved table file is found among the built-ins, else the error says to pass --icosphere", () => {
    const blender = loadIcosphere("blender");
    const dir = tmp("ico");
    expect(recordedIcosphere({ vertices: 642, sha256: generateIcosphere(3).sha256, source: "level 3" }, { dir }).count).toBe(642);
    // The blender table copied to a file that has since moved: found by its sha256.
    const moved = recordedIcosphere({ vertices: 10242, sha256: blender.sha256, source: join(dir, "gone", "table.f32") }, { dir });
    expect(moved.vertices).toEqual(blender.vertices);
    // A generated level's table written to a file that moved: found by its sha256 too.
    expect(recordedIcosphere({ vertices: 162, sha256: generateIcosphere(2).sha256, source: "/nowhere/ico2.f32" }, { dir }).source).toBe("level 2");
    // A table of its own, moved: a clear error; passing it works, a different one is refused.
    const own = generateIcosphere(2).vertices.map((v) => v * 0.5);
    const path = join(dir, "own.f32");
    writeFileSync(path, new Uint8Array(own.buffer));
    const record = { vertices: 162, sha256: loadIcosphere(path).sha256, source: "/somewhere/else/own.f32" };
    expect(() => recordedIcosphere(record, { dir })).toThrow(/the table file is not at .*and no built-in icosphere has its sha256.*pass `icosphere`/);
    expect(recordedIcosphere(record, { dir, override: path }).vertices).toEqual(own);
    expect(() => recordedIcosphere(record, { dir, override: 2 })).toThrow(/has sha256 .* was recorded: it is another table/);
    expect(readFileSync(path).byteLength).toBe(162 * 12);
  });

  it("heads: index models generate at [id, i/N] on their own icosphere, the others at any level's vertices", () => {
    const index: EncodingSpec = { name: "index", id: "scalar", key: "vertex", rowWidth: 2, icosphere: { vertices: 162, sha256: generateIcosphere(2).sha256, source: "level 2" } };
    const grid = headGrid(index, { dir: "." });
    expect(grid.faces!.length).toBe(3 * 320);
    const rows = headInputs(new Encoder(index), 0.5, grid);
    expect(rows[2 * 7 + 1]).toBe(indexValue(7, 162));
    expect(() => headGrid(index, { dir: ".", level: 4 })).toThrow(/does not apply \(it is level 2\)/);
    const fourier: EncodingSpec = { name: "fourier", octaves: 2, scale: 1, id: "scalar", key: "radial", rowWidth: 2 };
    const g7 = headGrid(fourier, { dir: ".", level: 4 });
    expect(g7.icosphere.count).toBe(2562);
    const inputs = headInputs(new Encoder(fourier), 0.5, g7);
    expect(inputs[15 * 16 + 2]).toBe(g7.icosphere.vertices[15 * 3 + 1]);
  });
});

describe("quality metrics on known answers", () => {
  it("Chamfer, F-score and colour error of a tiny hand-made pair", () => {
    // P: two points; R: three. d(P->R) = 0, 1; d(R->P) = 0, 1, 2.
    const P = { points: Float32Array.from([0, 0, 0, 3, 0, 0]), colors: Float32Array.from([1, 0, 0, 0, 0, 1]) };
    const R = { points: Float32Array.from([0, 0, 0, 2, 0, 0, 5, 0, 0]), colors: Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0, 1]) };
    const m = compareClouds(P, R, { thresholds: [0.5, 1.5] });
    expect(m.accuracy).toBeCloseTo(0.5, 12);
    expect(m.completeness).toBeCloseTo(1, 12);
    expect(m.chamferL1).toBeCloseTo(0.75, 12);
    expect(m.chamferL2).toBeCloseTo((0.5 + 5 / 3) / 2, 12);
    expect(m.fscore[0]).toMatchObject({ precision: 0.5, recall: 1 / 3 });
    expect(m.fscore[1]).toMatchObject({ precision: 1, recall: 2 / 3 });
    // Colours: P->R: |0-0|, |(0,0,1)-(0,0,0)| = 1/3 per channel mean -> (0 + 1/3) / 2; R->P: 0, 1/3 ((0,0,0) vs (0,0,1) at x=3), 0.
    expect(m.colorError).toBeCloseTo((1 / 6 + 1 / 9) / 2, 12);
    expect(chamferL1(P.points, R.points)).toBeCloseTo(0.75, 12);
    expect(extent(R.points)).toBe(5);
  });

  it("eval's head scores: a generated head that is its training head shifted by d has Chamfer d (on a dense sphere), and the ids match", () => {
    const ico = generateIcosphere(4);
    const head = (r: number, id: number, path: string): TrainingHead => ({
      path, id, points: ico.vertices.map((v) => v * r), colors: new Float32Array(ico.count * 3).fill(0.5),
      index: Uint32Array.from({ length: ico.count }, (_, i) => i),
    });
    const heads = [head(0.5, 0.2, "a"), head(0.6, 0.7, "b")];
    // Generated: each training head's own points scaled by (r + 0.01)/r: every point 0.01 away, radially.
    const generated = heads.map((h, k) => ({ points: h.points.map((v) => v * (1 + 0.01 / [0.5, 0.6][k])), colors: h.colors }));
    const q = scoreHeads(generated, heads);
    for (const s of q.heads) {
      expect(s.chamferL1).toBeGreaterThan(0.0095);
      expect(s.chamferL1).toBeLessThanOrEqual(0.0100001);
      expect(s.colorError).toBe(0);
      expect(s.matched).toBe(true);
    }
    expect(q.matched).toBe(2);
    // The floor of rows that are exactly the icosphere's vertices is the head itself.
    const f = floorHead(heads[0], ico);
    expect(chamferL1(f.points, heads[0].points)).toBe(0);
    const b = baselineHeads(heads, ico);
    expect(b.sphere.points[2]).toBeCloseTo(ico.vertices[2] * 0.55, 5);
    expect(b.meanHead.points[2]).toBeCloseTo(ico.vertices[2] * 0.55, 5);
  });
});

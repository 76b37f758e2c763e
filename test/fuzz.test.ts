// Property: any mutation or truncation of a valid PLY ends in rows or a clear HeadsnetError:
// never a trap, a crash, a hang or a NaN in the output. A short run in npm test; `npm run fuzz`
// and `npm run test:long` run HEADSNET_FUZZ_RUNS (100,000) cases.

import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { Kernel, type KernelOptions } from "../src/kernel.js";
import { generateIcosphere } from "../src/icosphere.js";
import { HeadsnetError } from "../src/errors.js";
import { writePly, type PlyFormat } from "../src/ply-write.js";
import { synthHead } from "../src/synth.js";

const RUNS = Number(process.env.HEADSNET_FUZZ_RUNS ?? 1500);
/** Generous: a case takes well under a millisecond; allow 20 ms each, and two minutes at least. */
const TIMEOUT = Math.max(120_000, RUNS * 20);

function samples(): Uint8Array[] {
  const mesh = synthHead({ vertices: 60, seed: 2 });
  const n = 60;
  const col = (a: ArrayLike<number>, stride: number, k: number) => Float64Array.from({ length: n }, (_, i) => a[i * stride + k]);
  const faces = { name: "face", count: mesh.faces.length / 3, properties: [{ name: "vertex_indices", countType: "uchar", itemType: "int", data: Array.from({ length: mesh.faces.length / 3 }, (_, f) => mesh.faces.subarray(3 * f, 3 * f + 3)) }] };
  const vertex = (withNormals: boolean, positionType = "float") => ({
    name: "vertex", count: n,
    properties: [
      ...["x", "y", "z"].map((name, k) => ({ name, type: positionType, data: col(mesh.positions, 3, k) })),
      ...(withNormals ? ["nx", "ny", "nz"].map((name, k) => ({ name, type: "float", data: col(mesh.normals, 3, k) })) : []),
      ...["red", "green", "blue", "alpha"].map((name, k) => ({ name, type: "uchar", data: col(mesh.colors, 4, k) })),
    ],
  });
  const formats: PlyFormat[] = ["binary_little_endian", "binary_big_endian", "ascii"];
  return formats.flatMap((format) => [
    writePly({ format, elements: [vertex(true), faces] }),
    writePly({ format, elements: [{ name: "material", count: 2, properties: [{ name: "tag", countType: "uchar", itemType: "short", data: [[1, 2], [3]] }] }, vertex(false, "double"), faces] }),
  ]);
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("byte" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant("header-number" as const), which: fc.nat(), value: fc.oneof(fc.integer({ min: -5, max: 300 }), fc.constantFrom(2147483647, 4294967295, 1e12)) }),
  fc.record({ kind: fc.constant("header-word" as const), at: fc.nat(), word: fc.constantFrom("float", "uchar", "list", "double", "vertex", "face", "ascii", "end_header", "x", "nx", "", "property", "element") }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
  const buf = Buffer.from(bytes);
  const headerEnd = buf.indexOf("end_header") + 10;
  switch (m.kind) {
    case "truncate": return buf.subarray(0, m.at % (buf.length + 1));
    case "byte": { const out = Buffer.from(buf); out[m.at % out.length] = m.value; return out; }
    case "insert": { const at = m.at % (buf.length + 1); return Buffer.concat([buf.subarray(0, at), m.bytes, buf.subarray(at)]); }
    case "header-number": {
      const header = buf.subarray(0, headerEnd).toString("latin1");
      const numbers = [...header.matchAll(/\d+/g)];
      if (!numbers.length) return buf;
      const hit = numbers[m.which % numbers.length];
      const text = header.slice(0, hit.index) + String(m.value) + header.slice(hit.index! + hit[0].length);
      return Buffer.concat([Buffer.from(text, "latin1"), buf.subarray(headerEnd)]);
    }
    case "header-word": {
      const header = buf.subarray(0, headerEnd).toString("latin1");
      const words = [...header.matchAll(/[a-z_]+/g)];
      if (!words.length) return buf;
      const hit = words[m.at % words.length];
      const text = header.slice(0, hit.index) + m.word + header.slice(hit.index! + hit[0].length);
      return Buffer.concat([Buffer.from(text, "latin1"), buf.subarray(headerEnd)]);
    }
  }
}

describe(`mutated and truncated PLYs (${RUNS} cases)`, () => {
  let kernel: Kernel;
  let bases: Uint8Array[];
  beforeAll(() => {
    kernel = new Kernel(generateIcosphere(3));
    bases = samples();
    for (const b of bases) expect(kernel.compileBytes(b, "base.ply", 0.5).rows).toBe(60);
  });

  it("every case ends in rows or a clear error naming the file", () => {
    let rows = 0, errors = 0;
    fc.assert(
      fc.property(
        fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.record({ projection: fc.constantFrom("legacy", "ray"), onInvalid: fc.constantFrom("fail", "skip"), normals: fc.constantFrom("auto", "compute"), normalize: fc.constantFrom("none", "fit") }),
        (pick, mutations, options) => {
          const bytes = mutations.reduce(apply, bases[pick % bases.length]);
          try {
            const out = kernel.compileBytes(bytes, "fuzz.ply", 0.5, options as KernelOptions);
            expect(out.rows).toBeLessThanOrEqual(out.vertices);
            expect(out.x.every(Number.isFinite) && out.y.every(Number.isFinite)).toBe(true);
            rows++;
          } catch (e) {
            if (!(e instanceof HeadsnetError)) throw e;
            expect(e.message.startsWith("fuzz.ply: ")).toBe(true);
            errors++;
          }
        },
      ),
      { numRuns: RUNS, seed: Number(process.env.HEADSNET_FUZZ_SEED ?? 20261121) },
    );
    // Both outcomes occur: the mutations are neither all harmless nor all fatal.
    expect(rows).toBeGreaterThan(0);
    expect(errors).toBeGreaterThan(0);
  }, TIMEOUT);
});

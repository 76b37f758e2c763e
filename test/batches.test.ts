// compileVertices decodes, traces and looks up vertices in batches; every row must still be what
// the one-vertex step (the reference's arithmetic, kernel.trace) and the brute force give.

import { describe, it, expect } from "vitest";
import { Kernel } from "../src/kernel.js";
import { generateIcosphere } from "../src/icosphere.js";
import { writePly } from "../src/ply-write.js";
import { rng as seeded } from "./random.js";

interface Vertex { p: [number, number, number]; n: [number, number, number] }

/** Vertices that exercise the batches: ordinary ones, zeros (fma32's slow path), non-finite ones. */
function vertices(count: number, seed: number): Vertex[] {
  const random = seeded(seed);
  const rng = { next: random };
  const out: Vertex[] = [];
  for (let i = 0; i < count; i++) {
    const kind = rng.next();
    const dir = (): [number, number, number] => {
      const v = [rng.next() * 2 - 1, rng.next() * 2 - 1, rng.next() * 2 - 1];
      const l = Math.hypot(...v) || 1;
      return v.map((c) => c / l) as [number, number, number];
    };
    if (kind < 0.08) {
      // A zero coordinate with a zero normal component: the sum is 0, below float32's normal
      // range, which fma32 sends down its slow path.
      const p = dir().map((c) => c * (0.3 + rng.next())) as [number, number, number];
      const n = dir();
      const k = Math.floor(rng.next() * 3);
      p[k] = 0;
      n[k] = 0;
      out.push({ p, n });
    } else if (kind < 0.1) {
      out.push({ p: [0, 0, 0], n: [0, 0, 0] });
    } else if (kind < 0.14) {
      out.push({ p: [NaN, 0.5, 0.5], n: dir() });
    } else {
      out.push({ p: dir().map((c) => c * (0.2 + 1.5 * rng.next())) as [number, number, number], n: dir() });
    }
  }
  return out;
}

function plyOf(vs: Vertex[]): Uint8Array {
  const col = (name: string, f: (v: Vertex) => number) => ({ name, type: "float", data: vs.map(f) });
  const colour = (name: string) => ({ name, type: "uchar", data: vs.map(() => 200) });
  return writePly({
    format: "binary_little_endian",
    elements: [{
      name: "vertex", count: vs.length,
      properties: [
        col("x", (v) => v.p[0]), col("y", (v) => v.p[1]), col("z", (v) => v.p[2]),
        col("nx", (v) => v.n[0]), col("ny", (v) => v.n[1]), col("nz", (v) => v.n[2]),
        colour("red"), colour("green"), colour("blue"),
      ],
    }],
  });
}

describe("legacy rows in batches", () => {
  it("every row's index is the one-vertex step's nearest vertex (zeros, non-finite skips, odd batch ends)", () => {
    const kernel = new Kernel(generateIcosphere(4), { build: "debug" });
    const n = kernel.icosphere.count;
    // 1,001 vertices: batches of 128 and a last one of a size that is not a multiple of four.
    const vs = vertices(1001, 5);
    const out = kernel.compileBytes(plyOf(vs), "batch.ply", 0.5, { onInvalid: "skip" });
    const kept = vs.filter((v) => Number.isFinite(v.p[0]));
    expect(kept.length).toBeLessThan(vs.length);
    expect(out.rows).toBe(kept.length);
    const recip = Math.fround(1 / (3 * n));
    let zeros = 0;
    kept.forEach((v, r) => {
      const traced = kernel.trace(v.p, v.n);
      if (typeof traced === "number") throw new Error(`trace failed with status ${traced}`);
      const index = kernel.nearestBrute(traced[0], traced[1], traced[2]);
      expect(out.x[2 * r + 1], `row ${r}`).toBe(Math.fround(Math.fround(3 * index) * recip));
      expect(out.y[6 * r], `row ${r}`).toBe(Math.fround(v.p[0]));
      if (v.p.includes(0)) zeros++;
    });
    expect(zeros).toBeGreaterThan(50);
  });
});


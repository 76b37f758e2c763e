// The long sweep (npm run test:long): the spatial hash against the reference's brute force on
// over a million random and mesh-derived queries, icosphere levels 0-7 and the reference's own
// table. test/nearest.test.ts runs a smaller sweep of the same kinds of query, with other seeds,
// in npm test.

import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel.js";
import { generateIcosphere, loadIcosphere } from "../../src/icosphere.js";
import { golden, goldenPly } from "../reference.js";
import { EXTRA_QUERIES, mismatches, queries, tracedPoints } from "../nearest-queries.js";

// Queries per table: more where brute force is cheap. 1,030,000 (+ 9 each) in all, then 200,000
// on the reference's table, every point of its two golden meshes (153,636) and 10,000 on level 7.
const PLAN: [number, number][] = [[0, 200_000], [1, 200_000], [2, 200_000], [3, 160_000], [4, 120_000], [5, 60_000], [6, 20_000]];
const TIMEOUT = 600_000;

describe("spatial hash equals the reference's brute force: over a million queries", () => {
  for (const [level, count] of PLAN) {
    it(`icosphere level ${level}: ${count} + ${EXTRA_QUERIES} queries`, () => {
      const kernel = new Kernel(generateIcosphere(level));
      const result = mismatches(kernel, queries(kernel.icosphere, count, 1000 + level));
      expect(result.first).toBeUndefined();
      expect(result.count).toBe(0);
      expect(result.compared).toBe(count + EXTRA_QUERIES);
    }, TIMEOUT);
  }

  it("the reference's Blender table: 200,000 random and near-tie queries, and every point of two meshes (full_head, near_ties)", () => {
    const kernel = new Kernel(loadIcosphere("blender"));
    const random = mismatches(kernel, queries(kernel.icosphere, 200_000, 7));
    expect(random.first).toBeUndefined();
    expect(random.compared).toBe(200_000 + EXTRA_QUERIES);
    for (const name of ["full_head", "near_ties"]) {
      const mesh = mismatches(kernel, tracedPoints(kernel, goldenPly(name)));
      expect(mesh.first, name).toBeUndefined();
      expect(mesh.count, name).toBe(0);
      expect(mesh.compared, name).toBe(golden(name).rows);
    }
  }, TIMEOUT);

  it(`icosphere level 7 (163,842 vertices: 32-bit candidate lists): 10,000 + ${EXTRA_QUERIES} queries`, () => {
    const kernel = new Kernel(generateIcosphere(7));
    const result = mismatches(kernel, queries(kernel.icosphere, 10_000, 1107));
    expect(result.first).toBeUndefined();
    expect(result.count).toBe(0);
    expect(result.compared).toBe(10_000 + EXTRA_QUERIES);
  }, TIMEOUT);
});

// The spatial hash against the reference's brute force: the same index for every query, ties,
// points off the sphere, cube-face edges and non-finite points included. About 135,000 queries
// here, icosphere levels 0-6 and the reference's table; `npm run test:long` runs 1.4 million
// (test/long/nearest-sweep.test.ts), with other seeds, and level 7 (163,842 vertices: 32-bit
// candidate lists), whose cube map alone takes longer to build than all of this file's queries.

import { describe, it, expect } from "vitest";
import { Kernel } from "../src/kernel.js";
import { generateIcosphere, loadIcosphere } from "../src/icosphere.js";
import { golden, goldenPly } from "./reference.js";
import { EXTRA_QUERIES, everyNth, mismatches, queries, tracedPoints } from "./nearest-queries.js";

// Queries per table: more where brute force is cheap. 96,000 (+ 9 each) in all.
const PLAN: [number, number][] = [[0, 20_000], [1, 20_000], [2, 20_000], [3, 16_000], [4, 12_000], [5, 6_000], [6, 2_000]];
const TIMEOUT = 120_000;

describe("spatial hash equals the reference's brute force", () => {
  for (const [level, count] of PLAN) {
    it(`icosphere level ${level}: ${count} + ${EXTRA_QUERIES} queries`, () => {
      const kernel = new Kernel(generateIcosphere(level));
      const result = mismatches(kernel, queries(kernel.icosphere, count, 2000 + level));
      expect(result.first).toBeUndefined();
      expect(result.count).toBe(0);
      expect(result.compared).toBe(count + EXTRA_QUERIES);
    }, TIMEOUT);
  }

  // The golden tests check every row of these meshes against the reference's own brute force;
  // here every 8th point, the long sweep takes them all.
  it("the reference's Blender table: 20,000 random and near-tie queries, and every 8th point of two meshes (full_head, near_ties)", () => {
    const kernel = new Kernel(loadIcosphere("blender"));
    const random = mismatches(kernel, queries(kernel.icosphere, 20_000, 8));
    expect(random.first).toBeUndefined();
    expect(random.count).toBe(0);
    expect(random.compared).toBe(20_000 + EXTRA_QUERIES);
    for (const name of ["full_head", "near_ties"]) {
      const mesh = mismatches(kernel, everyNth(tracedPoints(kernel, goldenPly(name)), 8));
      expect(mesh.first, name).toBeUndefined();
      expect(mesh.count, name).toBe(0);
      expect(mesh.compared, name).toBe(Math.ceil(golden(name).rows / 8));
    }
  }, TIMEOUT);
});

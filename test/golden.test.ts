import { describe, it, expect, beforeAll } from "vitest";
import { Kernel, fusedFma } from "../src/kernel.js";
import { loadIcosphere } from "../src/icosphere.js";
import { GOLDEN_NAMES, goldenPly, expectGoldenRows } from "./reference.js";

// Every build: the emulated fma (debug, release-emulated) and release, which fuses in hardware
// where this process has been checked to (see the last test).
describe.each(["debug", "release-emulated", "release"] as const)("golden outputs of the reference, --projection legacy with its icosphere table (%s)", (build) => {
  let kernel: Kernel;
  beforeAll(() => {
    kernel = new Kernel(loadIcosphere("blender"), { build });
  });

  for (const name of GOLDEN_NAMES) {
    it(`${name}: train_x column 1 and all of train_y bit for bit`, () => {
      const out = kernel.compileFile(goldenPly(name), 0.5);
      expectGoldenRows(out.x, 2, out.y, [name], new Uint32Array(new Float32Array([0.5]).buffer)[0]);
    });
  }
});

describe("the reference's fused multiply-add", () => {
  it("is rounded once in every build, whether fused in hardware or emulated", () => {
    const f = Math.fround;
    const a = f(1 + 2 ** -12), c = f(-(1 + 2 ** -11)); // a*a + c is exactly 2^-24; unfused, 0
    const ico = loadIcosphere("blender");
    for (const build of ["debug", "release-emulated", "release"] as const) {
      const kernel = new Kernel(ico, { build });
      expect(kernel.fma).toBe(build === "release" && fusedFma() ? "fused" : "emulated");
      expect(kernel.fma32(a, a, c)).toBe(2 ** -24);
      expect(kernel.fma32(-a, a, -c)).toBe(-(2 ** -24));
    }
  });
});

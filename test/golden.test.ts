import { describe, it, expect, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Kernel, fusedFma } from "../src/kernel.js";
import { loadIcosphere } from "../src/icosphere.js";
import { GOLDEN_DIR, BLENDER_ICOSPHERE, GOLDEN_NAMES } from "./paths.js";

function bits(bytes: Buffer | Float32Array): Uint32Array {
  const b = bytes instanceof Float32Array ? bytes : new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return new Uint32Array(b.buffer, b.byteOffset, b.length);
}

// Every build: the emulated fma (debug, release-emulated) and release, which fuses in hardware
// where this process has been checked to (see the last test).
describe.each(["debug", "release-emulated", "release"] as const)("golden outputs of the reference, --projection legacy with its icosphere table (%s)", (build) => {
  let kernel: Kernel;
  beforeAll(() => {
    kernel = new Kernel(loadIcosphere(BLENDER_ICOSPHERE), { build });
  });

  for (const name of GOLDEN_NAMES) {
    it(`${name}: train_x column 1 and all of train_y bit for bit`, () => {
      const out = kernel.compileFile(join(GOLDEN_DIR, `${name}.ply`), 0.5);
      const goldenX = bits(readFileSync(join(GOLDEN_DIR, `${name}.train_x.dat`)));
      const goldenY = bits(readFileSync(join(GOLDEN_DIR, `${name}.train_y.dat`)));
      expect(out.rows * 2).toBe(goldenX.length);
      expect(out.rows * 6).toBe(goldenY.length);
      const x = bits(out.x);
      let indexMismatches = 0;
      for (let r = 0; r < out.rows; r++) if (x[2 * r + 1] !== goldenX[2 * r + 1]) indexMismatches++;
      expect(indexMismatches).toBe(0);
      const y = bits(out.y);
      let yMismatches = 0;
      for (let k = 0; k < y.length; k++) if (y[k] !== goldenY[k]) yMismatches++;
      expect(yMismatches).toBe(0);
    });
  }
});

describe("the reference's fused multiply-add", () => {
  it("is rounded once in every build, whether fused in hardware or emulated", () => {
    const f = Math.fround;
    const a = f(1 + 2 ** -12), c = f(-(1 + 2 ** -11)); // a*a + c is exactly 2^-24; unfused, 0
    const ico = loadIcosphere(BLENDER_ICOSPHERE);
    for (const build of ["debug", "release-emulated", "release"] as const) {
      const kernel = new Kernel(ico, { build });
      expect(kernel.fma).toBe(build === "release" && fusedFma() ? "fused" : "emulated");
      expect(kernel.fma32(a, a, c)).toBe(2 ** -24);
      expect(kernel.fma32(-a, a, -c)).toBe(-(2 ** -24));
    }
  });
});

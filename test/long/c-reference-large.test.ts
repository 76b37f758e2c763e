// npm run test:long: bench/c/reference.c (the C re-creation of the original DatasetGen) on the two
// large golden inputs, full_head (93,636 vertices) and near_ties (60,000 points on near ties), in
// the original's mode (fopen/fwrite/fclose per row). test/c-reference.test.ts checks the five
// small ones and the program's other behaviour in npm test.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BLENDER_TABLE, expectGoldenRows, goldenPly } from "../reference.js";

const source = fileURLToPath(new URL("../../bench/c/reference.c", import.meta.url));
const ID = Math.fround(0.4242);
const ID_BITS = new Uint32Array(new Float32Array([ID]).buffer)[0];
const TIMEOUT = 600_000;

describe("C reference (bench/c/reference.c) against the golden outputs: the large inputs", () => {
  let work = "";
  let bin = "";
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "headsnet-cref-large-"));
    bin = join(work, "reference");
    // exactly the reference makefile's flags
    const cc = spawnSync("cc", ["-Ofast", "-march=native", "-o", bin, source, "-lm"], { encoding: "utf8" });
    if (cc.status !== 0) throw new Error(`cc failed (${cc.error?.message ?? cc.status}):\n${cc.stderr}`);
  }, TIMEOUT);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const name of ["full_head", "near_ties"]) {
    it(`${name}.ply: train_y byte-identical, index column bit-identical, id constant`, () => {
      const out = mkdtempSync(join(work, `${name}-`));
      const r = spawnSync(bin, ["--id", String(ID), BLENDER_TABLE, out, goldenPly(name)], { encoding: "utf8", maxBuffer: 1 << 20 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^reference: 1 files, \d+ rows, /m);
      expectGoldenRows(readFileSync(join(out, "train_x.dat")), 2, readFileSync(join(out, "train_y.dat")), [name], ID_BITS);
    }, TIMEOUT);
  }
});

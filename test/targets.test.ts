// The other compile targets through the whole pipeline: FaceNet's volumes, NeuralParts' surface
// and occupancy samples, and renders. Each is the per-file mesh kernel's output (src/mesh/,
// tested on its own in mesh-*.test.ts), in file order, whatever the workers, resumable, in .dat or
// .npy, with its manifest, verify and the same errors as HeadsNet's rows.

import { describe, it, expect, beforeAll } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile, type CompileOptions } from "../src/compile/index.js";
import { compileMeshTarget, type MeshTarget } from "../src/mesh/targets.js";
import { verify } from "../src/verify.js";
import { train } from "../src/train/train.js";
import { synthCorpus, synthHead } from "../src/synth.js";
import { NPY_HEADER_BYTES, type Manifest } from "../src/dataset/format.js";
import { PACKAGE_ROOT } from "../src/package.js";

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `headsnet-targets-${name}-`));
const read = (dir: string, name: string) => readFileSync(join(dir, name));
const manifestOf = (dir: string): Manifest => JSON.parse(read(dir, "manifest.json").toString());

async function run(options: CompileOptions) {
  const r = await compile({ build: "debug", ...options });
  if (r.error) throw r.error;
  return r.summary!;
}

/** A synthesized head as an OBJ with vertex colours. */
function objHead(seed: number): string {
  const m = synthHead({ vertices: 1500, seed });
  const lines = [];
  for (let i = 0; i < m.positions.length / 3; i++) {
    const c = [0, 1, 2].map((k) => (m.colors[4 * i + k] / 255).toFixed(4));
    lines.push(`v ${m.positions[3 * i]} ${m.positions[3 * i + 1]} ${m.positions[3 * i + 2]} ${c.join(" ")}`);
  }
  for (let f = 0; f < m.faces.length; f += 3) lines.push(`f ${m.faces[f] + 1} ${m.faces[f + 1] + 1} ${m.faces[f + 2] + 1}`);
  return lines.join("\n") + "\n";
}

describe("mesh targets through compile", () => {
  let corpus: string;
  const files = ["a/head_00000.ply", "a/head_00001.ply", "b/head.obj", "c/head_00000.ply"];
  beforeAll(async () => {
    corpus = tmp("corpus");
    await synthCorpus({ out: join(corpus, "a"), count: 2, vertices: 2000, seed: 3 });
    await synthCorpus({ out: join(corpus, "c"), count: 1, vertices: 1200, seed: 4 });
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(corpus, "b"));
    writeFileSync(join(corpus, "b", "head.obj"), objHead(9));
  }, 60_000);

  const cases: [MeshTarget, Partial<CompileOptions>, string[], (r: ReturnType<typeof compileMeshTarget>) => Uint8Array[]][] = [
    ["voxels", { grid: 16, imageSize: 24 }, ["train_x", "train_y"], (r) => [r.x, r.y]],
    ["surface", { samples: 3000 }, ["surface"], (r) => [r.y]],
    ["occupancy", { samples: 2000, sigma: 0.02 }, ["occupancy"], (r) => [r.y]],
    ["images", { imageSize: 48 }, ["images"], (r) => [r.y]],
  ];

  it.each(cases)("--target %s: each file's rows, in file order, the same at -j1 and -j2", async (target, options, stems, parts) => {
    const one = tmp(`${target}-1`), two = tmp(`${target}-2`);
    const s = await run({ inputs: [corpus], out: one, target, workers: 1, seed: 5, ...options });
    await run({ inputs: [corpus], out: two, target, workers: 2, seed: 5, ...options });
    expect(s.compiled).toBe(files.length);
    expect(s.target).toBe(target);
    const m = manifestOf(one);
    expect(m.target).toBe(target);
    expect(m.models.map((x) => x.path)).toEqual(files);
    for (const stem of stems) expect(read(one, `${stem}.dat`).equals(read(two, `${stem}.dat`)), stem).toBe(true);
    // The pipeline writes exactly what the mesh kernel makes of each file.
    const expected = stems.map(() => [] as Uint8Array[]);
    for (const f of files) {
      const r = compileMeshTarget(join(corpus, f), target, {
        key: f, seed: 5, build: "debug", samples: options.samples, grid: options.grid, imageSize: options.imageSize,
        sigma: options.sigma, margin: 0.1, uniformFraction: 0.5, voxelValue: "color",
      });
      parts(r).forEach((p, k) => expected[k].push(p));
    }
    stems.forEach((stem, k) => expect(read(one, `${stem}.dat`).equals(Buffer.concat(expected[k])), stem).toBe(true));
    const report = await verify(one);
    expect(report.ok, report.problems.join("; ")).toBe(true);
    expect(report.target).toBe(target);
  }, 120_000);

  it("manifests describe each file: dtype, width, columns; numpy-ready .npy has the same rows", async () => {
    const dat = tmp("dat"), npy = tmp("npy");
    await run({ inputs: [corpus], out: dat, target: "occupancy", samples: 500 });
    await run({ inputs: [corpus], out: npy, target: "occupancy", samples: 500, format: "npy" });
    const m = manifestOf(dat);
    expect(m.files.points).toEqual({ name: "occupancy.dat", width: 5, dtype: "float32", dataOffset: 0, bytes: 4 * 500 * 20, columns: ["x", "y", "z", "inside", "weight"] });
    expect(read(npy, "occupancy.npy").subarray(NPY_HEADER_BYTES).equals(read(dat, "occupancy.dat"))).toBe(true);
    expect(read(npy, "occupancy.npy").subarray(0, NPY_HEADER_BYTES).toString("latin1")).toMatch(/'descr': '<f4', 'fortran_order': False, 'shape': \(2000, 5\)/);
    const vox = tmp("vox");
    await run({ inputs: [corpus], out: vox, target: "voxels", format: "npy" });
    expect(read(vox, "train_y.npy").subarray(0, NPY_HEADER_BYTES).toString("latin1")).toMatch(/'descr': '\|u1', 'fortran_order': False, 'shape': \(4, 32768\)/);
    expect(read(vox, "train_x.npy").length).toBe(NPY_HEADER_BYTES + 4 * 1024);
  }, 120_000);

  it("an interrupted run resumes to the same bytes", async () => {
    const many = tmp("many");
    await synthCorpus({ out: many, count: 16, vertices: 600, seed: 8 });
    const straight = tmp("straight"), resumed = tmp("resumed");
    await run({ inputs: [many], out: straight, target: "surface", samples: 4000, workers: 1 });
    // headsnet's own worker, slowed down after the first file, so that the stop comes while
    // most files are still to be started.
    const workerFile = join(many, "slow-worker.cjs");
    writeFileSync(workerFile, `const real = require(${JSON.stringify(join(PACKAGE_ROOT, "dist", "src", "worker.bundle.cjs"))});
module.exports = (task) => { if (!task.label.endsWith("head_00000.ply")) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100); return real.default(task); };`);
    const stop = new AbortController();
    const first = await compile({
      inputs: [many], out: resumed, target: "surface", samples: 4000, workers: 1, build: "debug", signal: stop.signal, workerFile,
      onProgress: (p) => { if (p.filesDone === 1) stop.abort(); },
    });
    expect(first.error?.code).toBe("E_INTERRUPTED");
    const rest = await run({ inputs: [many], out: resumed, target: "surface", samples: 4000, workers: 1, resume: true });
    expect(rest.resumedFrom?.files).toBeGreaterThanOrEqual(1);
    for (const name of ["surface.dat", "manifest.json"]) expect(read(resumed, name).equals(read(straight, name)), name).toBe(true);
  }, 120_000);

  it("bad files fail alone with clear errors; HeadsNet reads only PLY; train takes only HeadsNet data", async () => {
    const dir = tmp("bad");
    copyFileSync(join(corpus, "a", "head_00000.ply"), join(dir, "good.ply"));
    writeFileSync(join(dir, "cloud.obj"), "v 0 0 0 1 0 0\nv 1 0 0 0 1 0\nv 0 1 0 0 0 1\n");
    writeFileSync(join(dir, "broken.obj"), "v 0 0 0\nv 1 zero 0\n");
    const out = tmp("bad-out");
    const s = await run({ inputs: [dir], out, target: "surface", samples: 100 });
    expect(s.compiled).toBe(1);
    const failed = Object.fromEntries(s.failed.map((f) => [f.path, f.message]));
    expect(failed["broken.obj"]).toMatch(/broken\.obj: line 2: expected a number, found "zero"/);
    expect(failed["cloud.obj"]).toMatch(/cloud\.obj: .*(no triangles|no faces)/);
    // HeadsNet's target does not take OBJ files: they are not its inputs at all.
    const h = await run({ inputs: [dir], out: tmp("h"), workers: 1 });
    expect(h.files).toBe(1);
    expect(readdirSync(out).sort()).toEqual(["manifest.json", "surface.dat"]);
    const t = await train({ data: out, out: join(tmp("model"), "m"), epochs: 1, threads: 1 });
    expect(t.error?.message).toBe(`${out} holds a surface dataset; this needs a headsnet dataset`);
  }, 120_000);
});

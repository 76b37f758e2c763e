// Micro-benchmark of the mesh targets (issue #14) on one synthesized 94,000-vertex head:
// surface samples/s and labelled occupancy points/s per core, the steady rate (tables built) and
// per file (load, tables and 100,000 samples), Chamfer of 100k × 100k points; and the same mesh
// through the fast numpy way (bench/numpy/*.py), timed side by side in this run.
//
//   npm run build && node dist/bench/mesh.js [--runs 7] [--samples 1000000] [--no-numpy]
//
// Prints medians with min–max over the runs, wall clock and this process's CPU time (the machine
// is shared: CPU time is the steadier of the two), and writes bench/results/mesh.md.

import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { PACKAGE_ROOT } from "../src/package.js";
import { MeshKernel, sampleSeed } from "../src/mesh/kernel.js";
import { compareClouds, surfacePointSet, occupancyColumns } from "../src/mesh/metrics.js";
import { synthHeadPly } from "../src/synth.js";
import { summarize, si, sig, type Stat } from "./lib/stats.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const RUNS = option("--runs", 7);
const N = option("--samples", 1_000_000);
const PER_FILE = 100_000;
const numpy = !args.includes("--no-numpy");

interface Timing { wall: Stat; cpu: Stat }

/** Run f `runs` times after one warm-up; wall and CPU seconds of each. */
function time(f: () => void, runs = RUNS): Timing {
  f();
  const wall: number[] = [], cpu: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    f();
    wall.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  return { wall: summarize(wall), cpu: summarize(cpu) };
}

const rate = (count: number, s: Stat): Stat => ({ n: s.n, median: count / s.median, min: count / s.max, max: count / s.min });
const fmtRate = (r: Stat, unit: string) => `${si(r.median)} ${unit} (${si(r.min)}–${si(r.max)})`;
const fmtTime = (s: Stat) => `${sig(s.median * 1000)} ms (${sig(s.min * 1000)}–${sig(s.max * 1000)})`;

const dir = mkdtempSync(join(tmpdir(), "headsnet-bench-mesh-"));
const lines: string[] = [];
const say = (line = "") => {
  console.log(line);
  lines.push(line);
};

try {
  const ply = synthHeadPly({ vertices: 94_000, seed: 1 });
  const path = join(dir, "head.ply");
  writeFileSync(path, ply);
  const kernel = new MeshKernel();
  const mesh = kernel.loadFile(path);
  say(`# Mesh targets benchmark`);
  say();
  say(`Mesh: a synthesized head, ${mesh.vertices.toLocaleString("en")} vertices, ${mesh.triangles.toLocaleString("en")} triangles (${(ply.byteLength / 1e6).toFixed(1)} MB binary PLY).`);
  say(`Runs: ${RUNS} after a warm-up, medians (min–max); one thread; Node ${process.version}. Steady rates draw ${N.toLocaleString("en")} samples a run with the tables built; per file is load + tables + ${PER_FILE.toLocaleString("en")} samples.`);
  say();

  // The mesh for numpy: raw arrays.
  const arrays = kernel.arrays();
  writeFileSync(join(dir, "positions.f32"), arrays.positions);
  writeFileSync(join(dir, "colors.f32"), arrays.colors);
  writeFileSync(join(dir, "triangles.u32"), arrays.triangles);

  const seed = sampleSeed(0, "head.ply", "surface");
  const surfaceOut = new Float32Array(N * 9);
  kernel.area();
  const surface = time(() => kernel.sampleSurface(N, { seed }, surfaceOut));
  let checksum = 0;
  for (let i = 0; i < N; i++) checksum += surfaceOut[9 * i] + surfaceOut[9 * i + 1] + surfaceOut[9 * i + 2];
  const surfaceFile = time(() => {
    kernel.loadFile(path);
    kernel.sampleSurface(PER_FILE, { seed });
  });
  // What numpy's run does and more: load the file, build the tables, draw N.
  const surfaceFull = time(() => {
    kernel.loadFile(path);
    kernel.sampleSurface(N, { seed }, surfaceOut);
  }, Math.min(RUNS, 5));

  const occSeed = sampleSeed(0, "head.ply", "occupancy");
  const occOut = new Float32Array(N * 5);
  kernel.loadFile(path);
  const grid = kernel.insideGrid();
  let inside = 0;
  const occupancy = time(() => { inside = kernel.sampleOccupancy(N, { seed: occSeed }, occOut).inside; });
  const occupancyFile = time(() => {
    kernel.loadFile(path);
    kernel.sampleOccupancy(PER_FILE, { seed: occSeed });
  });
  const occupancyFull = time(() => {
    kernel.loadFile(path);
    kernel.sampleOccupancy(N, { seed: occSeed }, occOut);
  }, Math.min(RUNS, 5));
  // The labelling alone, on near-surface and on uniform points.
  kernel.loadFile(path);
  const near = occupancyColumns(kernel.sampleOccupancy(N, { seed: occSeed, uniformFraction: 0 }).rows).points;
  const uniform = occupancyColumns(kernel.sampleOccupancy(N, { seed: occSeed, uniformFraction: 1 }).rows).points;
  const labels = new Uint8Array(N);
  const labelNear = time(() => kernel.labelPoints(near, labels));
  const labelUniform = time(() => kernel.labelPoints(uniform, labels));
  const load = time(() => kernel.loadFile(path));

  // Chamfer, 100k against 100k.
  kernel.loadFile(path);
  const a = surfacePointSet(kernel.sampleSurface(100_000, { seed: [1, 0] }));
  const b = surfacePointSet(kernel.sampleSurface(100_000, { seed: [2, 0] }));
  const metricsKernel = new MeshKernel();
  let chamfer = 0;
  const metrics = time(() => { chamfer = compareClouds(a, b, { kernel: metricsKernel }).chamferL1; }, Math.min(RUNS, 5));

  say(`| what | rate per core (wall) | rate per core (CPU time) | time |`);
  say(`|---|---|---|---|`);
  say(`| surface samples, steady | ${fmtRate(rate(N, surface.wall), "samples/s")} | ${fmtRate(rate(N, surface.cpu), "samples/s")} | ${fmtTime(surface.wall)} per ${si(N)} |`);
  say(`| surface, per file (load + guide table + ${si(PER_FILE)}) | ${fmtRate(rate(PER_FILE, surfaceFile.wall), "samples/s")} | ${fmtRate(rate(PER_FILE, surfaceFile.cpu), "samples/s")} | ${fmtTime(surfaceFile.wall)} |`);
  say(`| occupancy samples (half near the surface), steady | ${fmtRate(rate(N, occupancy.wall), "points/s")} | ${fmtRate(rate(N, occupancy.cpu), "points/s")} | ${fmtTime(occupancy.wall)} per ${si(N)} |`);
  say(`| occupancy, per file (load + tables + grid + ${si(PER_FILE)}) | ${fmtRate(rate(PER_FILE, occupancyFile.wall), "points/s")} | ${fmtRate(rate(PER_FILE, occupancyFile.cpu), "points/s")} | ${fmtTime(occupancyFile.wall)} |`);
  say(`| inside test alone, near-surface points | ${fmtRate(rate(N, labelNear.wall), "points/s")} | ${fmtRate(rate(N, labelNear.cpu), "points/s")} | |`);
  say(`| inside test alone, uniform points | ${fmtRate(rate(N, labelUniform.wall), "points/s")} | ${fmtRate(rate(N, labelUniform.cpu), "points/s")} | |`);
  say(`| load the PLY (read, decode, triangles) | | | ${fmtTime(load.wall)} |`);
  say(`| Chamfer-L1, F-score, 100k × 100k points | | | ${fmtTime(metrics.wall)} |`);
  say();
  say(`Inside grid: ${grid.cells.join(" × ")} cells, ${grid.records.toLocaleString("en")} entries. Occupancy: ${(inside / N * 100).toFixed(1)}% of the samples inside. Surface checksum ${checksum.toFixed(3)}. Chamfer-L1 of two 100k sample sets of the head: ${chamfer.toExponential(3)}.`);

  if (numpy) {
    const py = (script: string, extra: string[] = []) => JSON.parse(execFileSync("python3", [join(PACKAGE_ROOT, "bench", "numpy", script), dir, String(N), String(Math.min(RUNS, 5)), ...extra], { encoding: "utf8", maxBuffer: 1 << 20 }));
    const npSurface = py("surface.py");
    // numpy labels headsnet's own occupancy points too, to compare the labels.
    const pointsFile = join(dir, "points.f32");
    const sample = occupancyColumns(occOut.subarray(0, 5 * 200_000)).points;
    writeFileSync(pointsFile, sample);
    const npOccupancy = py("occupancy.py", [pointsFile]);
    const npLabels = readFileSync(join(dir, "points.inside.u8"));
    let agree = 0;
    for (let i = 0; i < npLabels.length; i++) if (npLabels[i] === occOut[5 * i + 3]) agree++;
    const npS = summarize(npSurface.seconds), npO = summarize(npOccupancy.seconds);
    const npSc = summarize(npSurface.cpu), npOc = summarize(npOccupancy.cpu);
    say();
    say(`## Against numpy ${npSurface.numpy} (bench/numpy/, one thread, the same mesh and ${si(N)} samples a run)`);
    say();
    say(`Both sides do the whole job each run: numpy builds its CDF (and for occupancy its grid) and draws; headsnet loads the PLY, builds its tables and draws (more work than numpy's). Ratios of medians, wall clock and CPU time.`);
    say();
    say(`| what | numpy (wall) | headsnet (wall) | numpy (CPU) | headsnet (CPU) | ratio, wall | ratio, CPU |`);
    say(`|---|---|---|---|---|---|---|`);
    say(`| surface samples | ${fmtRate(rate(N, npS), "/s")} | ${fmtRate(rate(N, surfaceFull.wall), "/s")} | ${fmtRate(rate(N, npSc), "/s")} | ${fmtRate(rate(N, surfaceFull.cpu), "/s")} | ${sig(npS.median / surfaceFull.wall.median)}× | ${sig(npSc.median / surfaceFull.cpu.median)}× |`);
    say(`| occupancy: sample and label | ${fmtRate(rate(N, npO), "/s")} | ${fmtRate(rate(N, occupancyFull.wall), "/s")} | ${fmtRate(rate(N, npOc), "/s")} | ${fmtRate(rate(N, occupancyFull.cpu), "/s")} | ${sig(npO.median / occupancyFull.wall.median)}× | ${sig(npOc.median / occupancyFull.cpu.median)}× |`);
    say();
    say(`Labels: numpy's ray parity and headsnet's vote agree on ${(agree / npLabels.length * 100).toFixed(3)}% of ${npLabels.length.toLocaleString("en")} of headsnet's occupancy points (${npLabels.length - agree} differ). numpy's share inside on its own samples: ${(npOccupancy.inside * 100).toFixed(1)}%.`);
  }
  mkdirSync(join(PACKAGE_ROOT, "bench", "results"), { recursive: true });
  writeFileSync(join(PACKAGE_ROOT, "bench", "results", "mesh.md"), lines.join("\n") + "\n");
} finally {
  rmSync(dir, { recursive: true, force: true });
}

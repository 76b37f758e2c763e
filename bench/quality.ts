// `npm run bench:quality`: what each input encoding learns in equal steps. Synthesizes the same
// heads every run (4 x 20,000 vertices, seed 0), compiles them (the reference's format), trains the
// reference's network (4 x Dense(384, selu) + Dense(6), Adam, batch 256) with each encoding for the
// same number of steps, and prints the symmetric Chamfer-L1 of the generated heads against their
// training heads at steps 250, 1,000, 3,000 and 6,000, the ids matched, wall time and rows/s,
// beside the baselines (sphere, mean head, per-vertex floor). Writes bench/results/quality.md,
// quality.json and quality.svg (Chamfer and loss against steps).
//
//   node dist/bench/quality.js [--quick] [--steps 6000] [--threads 2] [--heads 4] [--vertices 20000]
//                              [--configs index,direction,...] [--eval-every 250] [--out bench/results]
//                              [--keep DIR]  (keep each trained model in DIR/NAME)
//   node dist/bench/quality.js --merge DIR,DIR,... [--out bench/results]
//
// --quick: 1,000 steps, evaluations at 250 and 1,000. Training time excludes the evaluations.
// --merge: one table from runs of some configs each (say, one process per encoding side by side,
// or on several machines): each DIR holds a quality.json this benchmark wrote.

import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir, availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { synthCorpus } from "../src/synth.js";
import { compile } from "../src/compile/index.js";
import { openDataset } from "../src/train/data.js";
import { train, type TrainOptions, type EvalRecord } from "../src/train/train.js";
import { readHeads, scoreBaselines, spreadHeads } from "../src/train/evaluate.js";
import { recordedIcosphere } from "../src/icosphere.js";
import { tf } from "../src/train/backend.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

interface Config {
  name: string;
  /** The flags, as a user types them. */
  flags: string;
  options: Partial<TrainOptions>;
}

/** The encodings compared: the reference, the issue's direction, and what research13 found better. */
export const CONFIGS: Config[] = [
  { name: "index", flags: "--encoding index", options: { encoding: "index" } },
  { name: "direction", flags: "--encoding direction --id-encoding scalar --key vertex --lr-schedule const", options: { encoding: "direction", idEncoding: "scalar", key: "vertex", lrSchedule: "const" } },
  { name: "direction-cosine", flags: "--encoding direction --id-encoding scalar --key vertex", options: { encoding: "direction", idEncoding: "scalar", key: "vertex", lrSchedule: "cosine" } },
  { name: "fourier-vertex", flags: "--encoding fourier --id-encoding scalar --key vertex", options: { encoding: "fourier", idEncoding: "scalar", key: "vertex" } },
  { name: "fourier-radial", flags: "--encoding fourier --id-encoding scalar", options: { encoding: "fourier", idEncoding: "scalar" } },
  { name: "fourier-radial-hat", flags: "--encoding fourier --id-encoding hat --key radial --lr-schedule cosine", options: { encoding: "fourier", idEncoding: "hat", key: "radial", lrSchedule: "cosine", lr: 0.001, warmup: 0 } },
  { name: "fourier-radial-hat-lr3", flags: "--encoding fourier --id-encoding hat --key radial --lr 0.003 --warmup 300", options: { encoding: "fourier", idEncoding: "hat", key: "radial", lrSchedule: "cosine", lr: 0.003, warmup: 300 } },
  { name: "fourier3-radial-hat", flags: "--encoding fourier:3 --id-encoding hat --key radial --lr 0.001 --warmup 0", options: { encoding: "fourier:3", idEncoding: "hat", key: "radial", lrSchedule: "cosine", lr: 0.001, warmup: 0 } },
  { name: "fourier3-radial-hat-lr3", flags: "--encoding fourier:3 --id-encoding hat --key radial --lr 0.003 --warmup 300", options: { encoding: "fourier:3", idEncoding: "hat", key: "radial", lrSchedule: "cosine", lr: 0.003, warmup: 300 } },
];

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const log = (t: string) => process.stdout.write(t + "\n");

interface RunResult {
  name: string;
  flags: string;
  encoding: string;
  evaluations: EvalRecord[];
  seconds: number;
  rowsPerSecond: number;
  threads: number;
}

function svg(results: RunResult[], floor: number, steps: number): string {
  const W = 640, H = 300, left = 56, right = 150, top = 16, bottom = 36;
  const pw = W - left - right, ph = H - top - bottom;
  const yMin = Math.log10(Math.min(floor * 0.8, ...results.flatMap((r) => r.evaluations.map((e) => e.chamferL1)))), yMax = Math.log10(0.5);
  const x = (s: number) => left + (s / steps) * pw;
  const y = (v: number) => top + ((yMax - Math.log10(v)) / (yMax - yMin)) * ph;
  const colors = ["#8a8f98", "#e0a040", "#d06030", "#50a0e0", "#40b080", "#c080f0", "#f0f0f0", "#f06090", "#a0e060"];
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#181a1f"/>`,
    `<text x="${left}" y="11" fill="#c8ccd4">Chamfer-L1 of the generated heads (log scale) against steps; 4 heads x 20k vertices</text>`,
  ];
  for (const v of [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5]) {
    if (Math.log10(v) < yMin) continue;
    out.push(`<line x1="${left}" x2="${left + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#2c3038"/>`, `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" fill="#8a8f98" text-anchor="end">${v}</text>`);
  }
  for (let s = 0; s <= steps; s += steps / 4) out.push(`<text x="${x(s).toFixed(1)}" y="${H - bottom + 16}" fill="#8a8f98" text-anchor="middle">${fmt(s)}</text>`);
  out.push(`<text x="${left + pw / 2}" y="${H - 4}" fill="#8a8f98" text-anchor="middle">steps (batch 256)</text>`);
  out.push(`<line x1="${left}" x2="${left + pw}" y1="${y(floor).toFixed(1)}" y2="${y(floor).toFixed(1)}" stroke="#8a8f98" stroke-dasharray="4 3"/>`,
    `<text x="${left + pw + 6}" y="${(y(floor) + 4).toFixed(1)}" fill="#8a8f98">floor ${floor.toFixed(4)}</text>`);
  results.forEach((r, k) => {
    const pts = r.evaluations.map((e) => `${x(e.step).toFixed(1)},${y(e.chamferL1).toFixed(1)}`).join(" ");
    const c = colors[k % colors.length];
    out.push(`<polyline points="${pts}" fill="none" stroke="${c}" stroke-width="1.5"/>`);
    const last = r.evaluations[r.evaluations.length - 1];
    if (last) out.push(`<text x="${left + pw + 6}" y="${(top + 14 + k * 15).toFixed(1)}" fill="${c}">${r.name} ${last.chamferL1.toFixed(4)}</text>`);
  });
  out.push("</svg>", "");
  return out.join("\n");
}

interface Saved {
  stamp: string;
  steps: number;
  threads: number;
  heads: number;
  vertices: number;
  marks: number[];
  baselines: { sphere: { chamferL1: number; fscore: number; colorError: number }; meanHead: { chamferL1: number; fscore: number; colorError: number }; floor: { chamferL1: number; fscore: number; colorError: number; matched: number | null } };
  results: RunResult[];
}

function table(saved: Saved): string {
  const { marks, steps, baselines: base, heads, results } = saved;
  const row = (name: string, b: { chamferL1: number; fscore: number; colorError: number; matched?: number | null }) =>
    `| ${name} | | ${marks.map(() => "").join(" | ")}${b.chamferL1.toFixed(4)} | ${b.fscore.toFixed(3)} | ${b.colorError.toFixed(4)} | ${b.matched != null ? `${b.matched}/${heads}` : "-"} | | |`;
  return [
    `| encoding | flags | ${marks.map((m) => `Chamfer @ ${fmt(m)}`).join(" | ")} | F-score @ ${fmt(steps)} | colour @ ${fmt(steps)} | ids matched | train time | rows/s |`,
    `|---|---|${marks.map(() => "---|").join("")}---|---|---|---|---|`,
    ...results.map((r) => {
      const last = r.evaluations[r.evaluations.length - 1];
      const at = marks.map((m) => r.evaluations.find((e) => e.step === m)?.chamferL1.toFixed(4) ?? "-");
      return `| ${r.name} | \`${r.flags}\` | ${at.join(" | ")} | ${last.fscore.toFixed(3)} | ${last.colorError.toFixed(4)} | ${last.matched}/${last.heads} | ${r.seconds.toFixed(0)} s | ${fmt(r.rowsPerSecond)} |`;
    }),
    row("sphere (mean radius)", base.sphere),
    row("mean head", base.meanHead),
    row("floor (per-vertex mean rows)", base.floor),
  ].join("\n");
}

function write(outDir: string, saved: Saved): void {
  const md = table(saved);
  log("\n" + md);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "quality.md"), `# bench:quality (${saved.stamp})\n\n${md}\n\n![Chamfer against steps](quality.svg)\n`);
  writeFileSync(join(outDir, "quality.json"), JSON.stringify(saved, null, 1) + "\n");
  writeFileSync(join(outDir, "quality.svg"), svg(saved.results, saved.baselines.floor.chamferL1, saved.steps));
}

async function main(): Promise<void> {
  const outDir = arg("out", join("bench", "results"));
  const merging = arg("merge", "");
  if (merging) {
    const parts = merging.split(",").map((d) => JSON.parse(readFileSync(join(d, "quality.json"), "utf8")) as Saved);
    const order = CONFIGS.map((c) => c.name);
    const results = parts.flatMap((p) => p.results).sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    write(outDir, { ...parts[0], stamp: parts.map((p) => p.stamp).join("; "), results });
    return;
  }
  const quick = flag("quick");
  const steps = Number(arg("steps", quick ? "1000" : "6000"));
  const threads = Number(arg("threads", "2"));
  const heads = Number(arg("heads", "4")), vertices = Number(arg("vertices", "20000"));
  const every = Number(arg("eval-every", "250"));
  const wanted = arg("configs", "");
  const keep = arg("keep", "");
  const configs = wanted ? CONFIGS.filter((c) => wanted.split(",").includes(c.name)) : CONFIGS;
  const marks = [250, 1000, 3000, 6000].filter((s) => s <= steps);
  if (!marks.includes(steps)) marks.push(steps);
  const work = mkdtempSync(join(tmpdir(), "headsnet-bench-quality-"));
  try {
    log(`headsnet quality benchmark: ${availableParallelism()} cores (${cpus()[0]?.model ?? "?"}), Node ${process.version}, tfjs ${tf.version.tfjs} (wasm backend), ${threads} thread(s)`);
    await synthCorpus({ out: join(work, "corpus"), count: heads, vertices, seed: 0 });
    const c = await compile({ inputs: [join(work, "corpus")], out: join(work, "data") });
    if (c.error) throw c.error;
    const ds = await openDataset(join(work, "data"));
    log(`data: ${heads} synthetic heads x ${fmt(vertices)} vertices, ${fmt(ds.rows)} rows; 4 x Dense(384, selu) + Dense(6), Adam lr 0.001, batch 256, ${fmt(steps)} steps, seed 0\n`);
    const trainingHeads = readHeads(ds, spreadHeads(ds.manifest.models.length, ds.manifest.models.length));
    const base = scoreBaselines(trainingHeads, recordedIcosphere(ds.manifest.icosphere!, { dir: ds.dir }));
    const results: RunResult[] = [];
    for (const config of configs) {
      const evaluations: EvalRecord[] = [];
      const modelDir = keep ? join(keep, config.name) : join(work, `m-${config.name}`);
      const t = await train({
        data: ds.dir, out: modelDir, steps, threads, seed: 0, checkpointSeconds: 0,
        evalSteps: Array.from({ length: Math.floor(steps / every) }, (_, k) => (k + 1) * every).concat(marks),
        onEval: (e) => evaluations.push(e),
        ...config.options,
      });
      if (t.error) throw t.error;
      const s = t.summary!;
      const r: RunResult = { name: config.name, flags: config.flags, encoding: s.encoding, evaluations, seconds: s.seconds, rowsPerSecond: s.rowsPerSecond, threads: s.threads };
      results.push(r);
      const at = marks.map((m) => evaluations.find((e) => e.step === m)?.chamferL1.toFixed(4) ?? "-");
      log(`${config.name.padEnd(17)} ${at.join(" / ")}  ${evaluations[evaluations.length - 1].matched}/${heads} matched  ${s.seconds.toFixed(0)} s  ${fmt(s.rowsPerSecond)} rows/s  (${s.encoding})`);
      if (!keep) rmSync(modelDir, { recursive: true, force: true });
    }
    const stamp = `${new Date().toISOString()}, ${availableParallelism()} cores, ${threads} thread(s), ${fmt(steps)} steps`;
    const score = (q: typeof base.sphere) => ({ chamferL1: q.chamferL1, fscore: q.fscore, colorError: q.colorError, matched: q.matched });
    write(outDir, { stamp, steps, threads, heads, vertices, marks, baselines: { sphere: score(base.sphere), meanHead: score(base.meanHead), floor: score(base.floor) }, results });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`bench:quality: ${(e as Error).message}\n`);
  process.exitCode = 1;
});

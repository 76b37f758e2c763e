// `npm run bench -- --corpus-scale DIR`: the whole published-size corpus, larger than memory, so
// that reads come from the disk. Synthesizes 6,748 heads of 94,000 vertices into DIR once
// (about 34 GB; the free space is checked first), then runs, alternated and each started cold
// (the corpus dropped from the page cache first), and timed from spawn to the outputs synced:
//   floor     read each file's header and vertex element while writing the rows' bytes, fdatasync
//             (bench/c/io.c), with the reading alone and the writing alone beside it;
//   headsnet  headsnet compile -j2;
//   native    bench/c/native.c -j 2, the same algorithm in C.
// Writes bench/results/corpus-scale.{md,json}.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, statfsSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, hostname, totalmem } from "node:os";
import { join } from "node:path";
import { PACKAGE_ROOT, VERSION } from "../src/package.js";
import { run, memoryProbe, type ProcResult } from "./lib/proc.js";
import { summarize } from "./lib/stats.js";
import { IO_TOOL, ensureBuilt, evict } from "./lib/page-cache.js";

export interface CorpusScaleOptions {
  dir: string;
  heads: number;
  vertices: number;
  rounds: number;
  /** Also time reading alone and writing alone. */
  halves: boolean;
  /** Also time headsnet with these read-ahead settings ("files" or "files:reads"; 0: none). */
  readAhead: string[];
}

const ROOT = PACKAGE_ROOT;
const CLI = join(ROOT, "bin", "headsnet.js");
const IO = IO_TOOL;
const NATIVE = join(ROOT, "bench", "c", "build", "native");
const log = (t = "") => process.stdout.write(t + "\n");
const gb = (b: number) => `${(b / 1e9).toFixed(1)} GB`;

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** The corpus in DIR/heads, synthesized once (DIR/heads/.complete marks a finished one). */
async function corpus(o: CorpusScaleOptions): Promise<{ files: string[]; bytes: number }> {
  const heads = join(o.dir, "heads");
  const marker = join(heads, ".complete");
  if (!existsSync(marker)) {
    mkdirSync(heads, { recursive: true });
    const perHead = 54 * o.vertices + 1000; // binary PLY of Blender's layout: 28 B a vertex, 13 B a face, two faces a vertex
    const need = perHead * o.heads + 32 * o.vertices * o.heads * 1.05;
    const have = freeBytes(o.dir);
    if (have < need) {
      process.stderr.write(`bench: the corpus (${gb(perHead * o.heads)}) and one run's outputs (${gb(32 * o.vertices * o.heads)}) need ${gb(need)} in ${o.dir}; there are ${gb(have)} free\n`);
      process.exit(1);
    }
    // One synth process a core, each writing its part of the corpus.
    const parts = availableParallelism();
    log(`synthesizing ${o.heads.toLocaleString("en-US")} heads of ${o.vertices.toLocaleString("en-US")} vertices into ${heads} (${gb(perHead * o.heads)}; once, ${parts} processes)`);
    const codes = await Promise.all(Array.from({ length: parts }, (_, k) => {
      const first = Math.floor((k * o.heads) / parts), end = Math.floor(((k + 1) * o.heads) / parts);
      return run(process.execPath, [CLI, "synth", "-o", heads, "--first", String(first), "-n", String(end - first), "--vertices", String(o.vertices), "-q"], { timeoutSeconds: 6 * 3600 });
    }));
    if (codes.some((r) => r.code !== 0)) {
      process.stderr.write(`bench: synth failed: ${codes.map((r) => r.stderr).join("")}\n`);
      process.exit(1);
    }
    writeFileSync(marker, `${o.heads} ${o.vertices}\n`);
  }
  const files = readdirSync(heads).filter((n) => n.endsWith(".ply")).sort().map((n) => join(heads, n));
  return { files, bytes: files.reduce((n, f) => n + statSync(f).size, 0) };
}

/** Time a contender from spawn until its outputs are synced. */
async function timed(cmd: string, args: string[], out: string, env?: Record<string, string>): Promise<ProcResult & { total: number }> {
  const r = await run(cmd, args, { timeoutSeconds: 3600, env });
  if (r.code !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(" ")} … failed (${r.code}): ${r.stderr.slice(-2000)}`);
  const t0 = performance.now();
  const outputs = ["train_x.dat", "train_y.dat"].map((n) => join(out, n)).filter((f) => existsSync(f));
  spawnSync("sync", outputs);
  return { ...r, total: r.seconds + (performance.now() - t0) / 1000 };
}

export async function corpusScale(o: CorpusScaleOptions): Promise<void> {
  for (const tool of [IO, NATIVE]) ensureBuilt(tool);
  const c = await corpus(o);
  const rows = c.files.length * o.vertices;
  log(`corpus: ${c.files.length.toLocaleString("en-US")} files, ${gb(c.bytes)}, ${rows.toLocaleString("en-US")} rows (${gb(rows * 32)} out); memory ${gb(totalmem())}`);
  // Each run's outputs, before the first run rather than as a full disk halfway through.
  const outNeed = rows * 32 * 1.05, outHave = freeBytes(o.dir);
  if (outHave < outNeed) {
    process.stderr.write(`bench: one run's outputs need ${gb(outNeed)} in ${o.dir}; there are ${gb(outHave)} free\n`);
    process.exit(1);
  }
  const out = join(o.dir, "out");
  const list = join(o.dir, "files.txt");
  writeFileSync(list, c.files.join("\n") + "\n");
  const cores = availableParallelism();
  const contenders: Record<string, { label: string; run: () => Promise<ProcResult & { total: number }> }> = {
    floor: { label: "disk floor: read headers and vertex elements while writing the rows' bytes, fdatasync", run: () => timed(IO, ["floor", "-t", String(cores), out, list], out) },
    headsnet: { label: `headsnet compile -j${cores}`, run: () => timed(process.execPath, [CLI, "compile", join(o.dir, "heads"), "-o", out, "-j", String(cores), "--quiet", "--overwrite"], out) },
    native: { label: `native C (bench/c/native.c, -j ${cores})`, run: () => timed(NATIVE, ["-j", String(cores), "--level", "5", out, ...c.files], out) },
    ...Object.fromEntries(o.readAhead.map((setting) => {
      const [files, reads = "1"] = setting.split(":");
      return [`headsnet@${setting}`, {
        label: `headsnet compile -j${cores}, read-ahead ${files === "0" ? "off" : `${files} files, ${reads} at once`}`,
        run: () => timed(process.execPath, [CLI, "compile", join(o.dir, "heads"), "-o", out, "-j", String(cores), "--quiet", "--overwrite"], out,
          { HEADSNET_READAHEAD: files, HEADSNET_READAHEAD_READS: reads }),
      }];
    })),
    ...(o.halves ? {
      read: { label: "of which reading alone", run: () => timed(IO, ["floor", "-t", String(cores), "--read-only", out, list], out) },
      write: { label: "of which writing alone", run: () => timed(IO, ["floor", "--write-only", out, list], out) },
    } : {}),
  };
  const keys = Object.keys(contenders);
  const results: Record<string, (ProcResult & { total: number })[]> = Object.fromEntries(keys.map((k) => [k, []]));
  for (let round = 0; round < o.rounds; round++) {
    // Alternated: each round in the other order.
    const order = round % 2 ? [...keys].reverse() : keys;
    for (const key of order) {
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      evict(c.files);
      const r = await contenders[key].run();
      results[key].push(r);
      log(`round ${round + 1}: ${key.padEnd(9)} ${r.total.toFixed(1)} s${r.peakRss ? `, peak ${(r.peakRss / 1e6).toFixed(0)} MB` : ""}`);
    }
  }
  rmSync(out, { recursive: true, force: true });
  const median = (k: string) => summarize(results[k].map((r) => r.total)).median;
  const peak = (k: string) => Math.max(...results[k].map((r) => r.peakRss ?? NaN));
  const date = new Date().toISOString().slice(0, 10);
  const machine = `${hostname()} (${cpus()[0]?.model ?? "?"}, ${cores} cores, ${gb(totalmem())}; Node ${process.version})`;
  const lines = [
    `Measured ${date} on ${machine} with headsnet ${VERSION}: ${c.files.length.toLocaleString("en-US")} synthesized heads of ${o.vertices.toLocaleString("en-US")} vertices (${gb(c.bytes)} of PLY, ${c.bytes > totalmem() ? "more" : "less"} than the ${gb(totalmem())} of memory), ${rows.toLocaleString("en-US")} rows, ${gb(rows * 32)} out. Each run starts with the corpus dropped from the page cache and is timed from its start until its outputs are synced; the contenders alternate, ${o.rounds} rounds. Peak memory by ${memoryProbe}.`,
    "",
    "| | wall time, each run | median | rows/s | peak memory |",
    "|---|---|---|---|---|",
    ...keys.map((k) => `| ${contenders[k].label} | ${results[k].map((r) => `${r.total.toFixed(1)} s`).join(", ")} | ${median(k).toFixed(1)} s | ${k === "read" || k === "write" ? "–" : `${(rows / median(k) / 1e6).toFixed(1)} M`} | ${Number.isFinite(peak(k)) ? `${(peak(k) / 1e6).toFixed(0)} MB` : "–"} |`),
    "",
    `headsnet: ${(median("headsnet") / median("floor")).toFixed(2)}× the disk floor (goal ≤ 1.1×), ${(median("headsnet") / median("native")).toFixed(2)}× native C; native C ${(median("native") / median("floor")).toFixed(2)}× the floor.`,
  ];
  const md = lines.join("\n") + "\n";
  const resultsDir = join(ROOT, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, "corpus-scale.md"), md);
  writeFileSync(join(resultsDir, "corpus-scale.json"), JSON.stringify({
    tool: "headsnet", version: VERSION, date, machine, heads: c.files.length, vertices: o.vertices, rows, inputBytes: c.bytes, rounds: o.rounds,
    runs: Object.fromEntries(keys.map((k) => [k, results[k].map((r) => ({ seconds: r.total, peakRss: r.peakRss ?? null }))])),
  }, null, 1) + "\n");
  log("");
  log(md);
  log(`wrote bench/results/corpus-scale.md and .json`);
}

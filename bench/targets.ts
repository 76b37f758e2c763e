// `npm run bench -- --targets`: the compile targets end to end on the benchmark's synthesized
// corpus (200 heads of 94,000 vertices by default), each as a user runs it: `headsnet compile
// --target T -j N` in a child process, startup, file reads and the fsynced output included. The
// contenders run round-robin, so that a shared machine's noise hits all alike, beside two floors
// the voxels target is measured against: the time to read every input file in this process (one
// thread), and a Node process that reads every file and does nothing else (bench/read-files.ts),
// started and timed as the targets are. Writes bench/results/targets.md and targets.json.
//
// With `cold`, the corpus is dropped from the page cache before every contender, the reads
// included, so that each reads it from the disk; the read floor is then also taken with as many
// readers at once as the compile has workers. Writes targets-cold.md and targets-cold.json.

import { mkdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { run } from "./lib/proc.js";
import { readWhole, readAllAtOnce } from "./lib/read.js";
import { evict } from "./lib/page-cache.js";
import { summarize, si, sig, duration, times, type Stat } from "./lib/stats.js";

export interface TargetsBenchOptions {
  files: string[];
  /** Where the corpus lies (compile's input). */
  dir: string;
  heads: number;
  vertices: number;
  rounds: number;
  cli: string;
  outDir: string;
  results: string;
  samples: number;
  /** Every contender reads the corpus from the disk (see above). */
  cold?: boolean;
  /** The targets to run (default: all four). */
  only?: string[];
}

interface Contender {
  name: string;
  /** What one run makes: rows, samples or volumes. */
  unit: string;
  args: string[];
}

const log = (text = "") => process.stdout.write(text + "\n");
/** The reading process (bench/read-files.ts), beside this file once built. */
const READ_FILES = fileURLToPath(new URL("./read-files.js", import.meta.url));

/** Read every input once, one large read per file into a reused buffer (the page cache is warm). */
function readAll(files: string[]): number {
  let buf = Buffer.allocUnsafeSlow(8 << 20);
  const t0 = performance.now();
  for (const f of files) buf = readWhole(f, buf);
  return (performance.now() - t0) / 1000;
}

export async function benchTargets(o: TargetsBenchOptions): Promise<void> {
  const workers = availableParallelism();
  const samples = String(o.samples);
  const all: Contender[] = [
    { name: "headsnet", unit: "rows", args: ["--target", "headsnet"] },
    { name: "voxels", unit: "volumes", args: ["--target", "voxels"] },
    { name: "surface", unit: "samples", args: ["--target", "surface", "--samples", samples] },
    { name: "occupancy", unit: "points", args: ["--target", "occupancy", "--samples", samples] },
  ];
  const contenders = o.only ? all.filter((c) => o.only!.includes(c.name)) : all;
  if (contenders.length === 0) throw new Error(`no such targets: ${o.only?.join(", ")} (there are ${all.map((c) => c.name).join(", ")})`);
  const cold = o.cold ?? false;
  const where = cold ? "read from the disk: the corpus is dropped from the page cache before every contender" : "warm in the page cache";
  log(`targets benchmark: ${o.heads} heads x ${o.vertices.toLocaleString("en-US")} vertices, ${where}; ${o.rounds} rounds round-robin, -j ${workers} (${cpus()[0]?.model ?? "?"}), load ${loadavg()[0].toFixed(1)}`);
  const read: number[] = [], readParallel: number[] = [], readProcess: number[] = [];
  // The process reader's list of files.
  mkdirSync(o.outDir, { recursive: true });
  const list = join(o.outDir, "read-files.txt");
  writeFileSync(list, o.files.join("\n") + "\n");
  const seconds = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const made = new Map<string, number>();
  if (!cold) readAll(o.files); // the page cache warm for everyone
  for (let round = 0; round < o.rounds; round++) {
    if (cold) evict(o.files);
    read.push(readAll(o.files));
    if (cold) {
      evict(o.files);
      const t0 = performance.now();
      await readAllAtOnce(o.files, workers);
      readParallel.push((performance.now() - t0) / 1000);
      log(`  round ${round + 1}: read all, ${workers} readers ${duration(readParallel[readParallel.length - 1])}`);
    }
    if (cold) evict(o.files);
    const p = await run(process.execPath, [READ_FILES, list, String(workers)], { timeoutSeconds: 1800 });
    if (p.code !== 0) throw new Error(`read-files failed (${p.code}): ${p.stderr.trim().slice(0, 500)}`);
    readProcess.push(p.seconds);
    log(`  round ${round + 1}: a process reading all, ${workers} reads at once ${duration(p.seconds)}`);
    for (const c of contenders) {
      if (cold) evict(o.files);
      const out = join(o.outDir, `target-${c.name}`);
      rmSync(out, { recursive: true, force: true });
      mkdirSync(o.outDir, { recursive: true });
      const r = await run(process.execPath, [o.cli, "compile", o.dir, "-o", out, "-j", String(workers), "-q", ...c.args], { timeoutSeconds: 1800 });
      if (r.code !== 0) throw new Error(`headsnet compile --target ${c.name} failed (${r.code}): ${r.stderr.trim().slice(0, 500)}`);
      const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as { rows: number };
      made.set(c.name, manifest.rows);
      seconds.get(c.name)!.push(r.seconds);
      rmSync(out, { recursive: true, force: true });
      log(`  round ${round + 1}: ${c.name.padEnd(9)} ${duration(r.seconds).padStart(9)}  ${si(manifest.rows / r.seconds)} ${c.unit}/s`);
    }
    log(`  round ${round + 1}: read all ${duration(read[read.length - 1])}`);
  }

  const readStat = summarize(read);
  const readParallelStat = cold ? summarize(readParallel) : undefined;
  const readProcessStat = summarize(readProcess);
  // The floor: the faster way to read the files.
  const floor = Math.min(readStat.median, readParallelStat?.median ?? Infinity);
  const rows = contenders.map((c) => {
    const st = summarize(seconds.get(c.name)!);
    const n = made.get(c.name)!;
    return {
      name: c.name, unit: c.unit, count: n, seconds: st, perSecond: n / st.median, perCore: n / st.median / workers,
      vsRead: st.median / floor, vsReadProcess: st.median / readProcessStat.median,
    };
  });
  const spread = (st: Stat) => `${duration(st.median)} (${sig(st.min)}–${sig(st.max)})`;
  const md = [
    "# Compile targets, end to end",
    "",
    `Corpus: ${o.heads} synthesized heads x ${o.vertices.toLocaleString("en-US")} vertices (\`npm run bench\`'s corpus, ${where}). Each run is \`headsnet compile DIR -o OUT --target T -j ${workers}\` in a child process: Node's startup, reading and decoding every file, the kernel, writing and fsyncing the output. ${o.rounds} rounds, round-robin; medians (min–max). Per core: the rate divided by the ${workers} workers. Surface and occupancy: ${o.samples.toLocaleString("en-US")} samples per head. Machine: ${cpus()[0]?.model ?? "?"}, ${workers} cores, shared; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} at the end.`,
    "",
    `Two floors: reading every file in this process (no start-up: the least any reading can take), and a Node process that reads every file and does nothing else (\`bench/read-files.ts\`, ${workers} reads at once), started and timed as the targets are: what a tool that reads the files, and no more, takes.`,
    "",
    "| target | time per run | made | per second | per core | time / read floor | time / reading process |",
    "|---|---|---|---|---|---|---|",
    `| read every input file (1 thread, in process) | ${spread(readStat)} | | | | ${times(readStat.median / floor)} | |`,
    ...(readParallelStat ? [`| read every input file (${workers} reads at once, in process) | ${spread(readParallelStat)} | | | | ${times(readParallelStat.median / floor)} | |`] : []),
    `| a process reading every input file (${workers} reads at once) | ${spread(readProcessStat)} | | | | ${times(readProcessStat.median / floor)} | 1.0× |`,
    ...rows.map((r) => `| \`--target ${r.name}\` | ${spread(r.seconds)} | ${r.count.toLocaleString("en-US")} ${r.unit} | ${si(r.perSecond)} | ${si(r.perCore)} | ${times(r.vsRead)} | ${times(r.vsReadProcess)} |`),
    "",
  ].join("\n");
  log("\n" + md);
  mkdirSync(o.results, { recursive: true });
  const name = cold ? "targets-cold" : "targets";
  writeFileSync(join(o.results, `${name}.md`), md);
  writeFileSync(join(o.results, `${name}.json`), JSON.stringify({ heads: o.heads, vertices: o.vertices, rounds: o.rounds, workers, samples: o.samples, cold, read: readStat, readParallel: readParallelStat, readProcess: readProcessStat, targets: rows }, null, 1) + "\n");
  log(`written: ${join(o.results, `${name}.md`)}, ${name}.json`);
}

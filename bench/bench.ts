// `npm run bench`: headsnet against the reference DatasetGen (C, brute force, per-row
// open/close), against native C running headsnet's own algorithm, and against the I/O floor, on a
// synthesized corpus of heads; plus the kernel alone and two micro benchmarks. Every contender
// runs once per round, round-robin, so that the noise of a shared machine hits all alike; each
// reports its median and spread. Checksums are taken outside the timed parts, and every
// implementation's deterministic columns must be byte-identical.
//
//   npm run build && npm run bench                 # 200 heads x 94,000 vertices, ~3 min (+20 s to synthesize once)
//   npm run bench -- --quick                       # 20 heads, 3 rounds, about a minute
//   npm run bench -- --heads 50 --vertices 94000 --rounds 5 --ref-heads 5 --out-json r.json

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync,
  writeFileSync, writeSync,
} from "node:fs";
import { availableParallelism, cpus, hostname, loadavg, release, totalmem, type as osType } from "node:os";
import { join, relative, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { PLYLoader } from "three/examples/jsm/loaders/PLYLoader.js";
import { loadIcosphere } from "../src/icosphere.js";
import { Kernel } from "../src/kernel.js";
import { PACKAGE_ROOT, VERSION } from "../src/package.js";
import { parseHeader, vertexLayout } from "../src/ply-header.js";
import { corpusHeadSeed, synthCorpus, synthHeadPly } from "../src/synth.js";
import { digestArrays, digestRows, type FileDigests, type RowDigest } from "./lib/digest.js";
import { indexSum, microPoints, parseNativeMicro, timeQueries, vertexOnlyPly, type NativeMicro } from "./lib/micro.js";
import { memoryProbe, run, versionLine } from "./lib/proc.js";
import { renderMarkdown, renderSvg, type BenchResult, type Contender, type Check, type Target } from "./lib/report.js";
import { duration, mb, sig, si, summarize, times } from "./lib/stats.js";
import { readWhole } from "./lib/read.js";

// The published dataset the projections are for (the reference data's README).
const FULL_HEADS = 6748;
const FULL_ROWS = 632_847_695;
const KERNEL_VERTICES = 94000;

const HELP = `usage: npm run bench -- [options]

  --heads N        heads in the synthesized corpus (default 200; --quick 20)
  --vertices V     vertices per head (default 94000)
  --seed S         corpus seed (default 0)
  --rounds R       rounds of every contender, round-robin (default 9; --quick 3; at least 3)
  --ref-heads K    heads the reference runs on (default 10; --quick 2)
  --quick          about a minute: 20 heads, 3 rounds, 2 reference heads, fewer queries
  --out-json PATH  where to write the JSON results (default bench/results/latest.json; with
                   --quick, bench/.cache/results/latest.json, beside its latest.md and chart)
  --corpus-scale DIR  instead: the whole published-size corpus (6,748 heads, ~34 GB, synthesized
                   into DIR once), read from the disk: the disk floor, headsnet and native C,
                   alternated, each started cold (bench/corpus-scale.ts; --rounds, default 2;
                   --read-ahead FILES[:READS] adds headsnet with that read-ahead, e.g. 0 for none)
  --targets        instead: every compile target (headsnet, voxels, surface, occupancy) end to
                   end on the corpus, beside the time to read it (bench/targets.ts; --rounds,
                   default 3; --samples per head for surface and occupancy, default 100000;
                   --only T,T... some targets; --cold drops the corpus from the page cache before
                   every contender, so that each reads it from the disk)
  -h, --help       this text

Inputs are warm in the page cache for every contender, but with --corpus-scale and --targets
--cold. Outputs go to bench/.cache/out/, on the same filesystem as the corpus, and are removed at
the end.`;

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

function positiveInt(value: string | undefined, fallback: number, name: string, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got ${value}`);
  return n;
}

const { values: argv } = (() => {
  try {
    return parseArgs({
      options: {
        heads: { type: "string" }, vertices: { type: "string" }, seed: { type: "string" },
        rounds: { type: "string" }, "ref-heads": { type: "string" },
        quick: { type: "boolean", default: false }, "out-json": { type: "string" },
        "corpus-scale": { type: "string" }, halves: { type: "boolean", default: true }, "read-ahead": { type: "string", multiple: true },
        targets: { type: "boolean", default: false }, samples: { type: "string" },
        cold: { type: "boolean", default: false }, only: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    });
  } catch (e) {
    fail(`${(e as Error).message}\n\n${HELP}`);
  }
})();
if (argv.help) {
  process.stdout.write(HELP + "\n");
  process.exit(0);
}
if (argv["corpus-scale"] !== undefined) {
  const { corpusScale } = await import("./corpus-scale.js");
  await corpusScale({
    dir: resolve(argv["corpus-scale"]), heads: positiveInt(argv.heads, 6748, "heads"), vertices: positiveInt(argv.vertices, 94000, "vertices", 20),
    rounds: positiveInt(argv.rounds, 2, "rounds"), halves: argv.halves, readAhead: argv["read-ahead"] ?? [],
  });
  process.exit(0);
}

const quick = argv.quick;
const HEADS = positiveInt(argv.heads, quick ? 20 : 200, "heads");
const VERTICES = positiveInt(argv.vertices, 94000, "vertices", 20);
const SEED = positiveInt(argv.seed, 0, "seed", 0);
const ROUNDS = argv.targets ? 0 : positiveInt(argv.rounds, quick ? 3 : 9, "rounds", 3); // --targets counts its own
const REF_HEADS = Math.min(HEADS, positiveInt(argv["ref-heads"], quick ? 2 : 10, "ref-heads"));
const REF_ROUNDS = 3; // the reference is the slow one: three rounds (the first three) suffice
const KERNEL_RUNS = quick ? 10 : 50; // timed kernel runs per round
const QUERIES = quick ? 200_000 : 1_000_000; // hash queries per round (JS-driven and native)
const BRUTE_QUERIES = quick ? 500 : 2000; // wasm brute force per round (~50 µs each)
const NATIVE_BRUTE_QUERIES = quick ? 5000 : 20000;
const PLY_PARSES = quick ? 1 : 2; // PLYLoader parses of each file per round
const CORES = availableParallelism();
const THREADS = [...new Set([1, CORES])];
const SMALL_HEADS = Math.min(CORES, HEADS); // the small runs that measure each program's fixed cost

const ROOT = PACKAGE_ROOT;
const CACHE = join(ROOT, "bench", ".cache");
const OUT = join(CACHE, "out");
const RESULTS = quick ? join(CACHE, "results") : join(ROOT, "bench", "results");
const C_DIR = join(ROOT, "bench", "c");
const NATIVE = join(C_DIR, "build", "native");
const REFERENCE = join(C_DIR, "build", "reference");
const CLI = join(ROOT, "bin", "headsnet.js");
const rel = (p: string) => relative(process.cwd(), p) || ".";
const log = (text = "") => process.stdout.write(text + "\n");

// ------------------------------------------------------------------------------------ setup --

/** What is being measured: the commit, whether src/ or assembly/ differ from it, and a hash of the built kernel and host code. */
function buildIdentity(): { commit: string; dirty: boolean; build: string } {
  const git = (args: string[]) => spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });
  const head = git(["rev-parse", "--short", "HEAD"]);
  const status = git(["status", "--porcelain", "--", "src", "assembly", "bin"]);
  const h = createHash("sha256");
  h.update(readFileSync(join(ROOT, "build", "release.wasm")));
  const dist = join(ROOT, "dist", "src");
  for (const f of readdirSync(dist).filter((f) => f.endsWith(".js")).sort()) h.update(f).update(readFileSync(join(dist, f)));
  return { commit: head.status === 0 ? head.stdout.trim() : "unknown", dirty: !!status.stdout?.trim(), build: h.digest("hex").slice(0, 16) };
}

function prerequisites(): { cc: string } {
  for (const f of [join(ROOT, "build", "release.wasm"), join(ROOT, "dist", "src", "cli.js")]) {
    if (!existsSync(f)) fail(`${rel(f)} is missing: run 'npm run build' first`);
  }
  const wasm = statSync(join(ROOT, "build", "release.wasm")).mtimeMs;
  const assembly = join(ROOT, "assembly");
  if (existsSync(assembly)) {
    const newer = spawnSync("find", [assembly, "-newer", join(ROOT, "build", "release.wasm"), "-name", "*.ts"], { encoding: "utf8" });
    if (newer.stdout?.trim()) log(`warning: assembly/ has changed since build/release.wasm (${new Date(wasm).toISOString()}); run 'npm run build'`);
  }
  const cc = versionLine("cc");
  if (!cc) fail("no C compiler ('cc'): the reference and native contenders need one");
  // bench/c/Makefile: reference with -Ofast -march=native (the original's flags), native with -O3 -march=native -pthread.
  const make = spawnSync("make", ["-s", "-C", C_DIR], { encoding: "utf8" });
  if (make.status !== 0) fail(`building bench/c failed:\n${make.stdout}${make.stderr}`);
  return { cc };
}

/**
 * The reference's Blender icosphere table: the one built into headsnet (--icosphere blender), as
 * its file for the C contenders. Loading it checks the file against its sha256.
 */
function icosphereTable(): { path: string; note: string } {
  loadIcosphere("blender");
  return { path: join(PACKAGE_ROOT, "assets", "icosphere_blender_10242.f32"), note: "the reference's Blender table, built in: --icosphere blender" };
}

interface Corpus {
  dir: string;
  files: string[];
  rows: number[];
  bytes: number;
  synthSeconds?: number;
}

/** The synthesized corpus, cached under bench/.cache keyed by heads, vertices and seed. */
async function corpus(): Promise<Corpus> {
  const dir = join(CACHE, `corpus-h${HEADS}-v${VERTICES}-s${SEED}`);
  const marker = join(dir, "corpus.json");
  let synthSeconds: number | undefined;
  let files: string[] | undefined;
  if (existsSync(marker)) {
    const m = JSON.parse(readFileSync(marker, "utf8")) as { files: { name: string; bytes: number }[] };
    if (m.files.length === HEADS && m.files.every((f) => existsSync(join(dir, f.name)) && statSync(join(dir, f.name)).size === f.bytes)) {
      files = m.files.map((f) => join(dir, f.name));
    }
  }
  if (!files) {
    log(`synthesizing ${HEADS} heads of ${VERTICES} vertices (seed ${SEED}) into ${rel(dir)} ...`);
    rmSync(dir, { recursive: true, force: true });
    const t0 = performance.now();
    const r = await synthCorpus({ out: dir, count: HEADS, vertices: VERTICES, seed: SEED });
    synthSeconds = (performance.now() - t0) / 1000;
    files = r.files;
    writeFileSync(marker, JSON.stringify({ heads: HEADS, vertices: VERTICES, seed: SEED, files: files.map((f) => ({ name: relative(dir, f), bytes: statSync(f).size })) }, null, 1));
  }
  files.sort();
  const rows = files.map((f) => vertexCount(f));
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  return { dir, files, rows, bytes, synthSeconds };
}

function headBytes(path: string, max = 65536): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(Math.min(max, fstatSync(fd).size));
    readSync(fd, buf, 0, buf.length, 0);
    return buf;
  } finally {
    closeSync(fd);
  }
}

function vertexCount(path: string): number {
  return vertexLayout(parseHeader(headBytes(path), path), path).vertexCount;
}

// --------------------------------------------------------------------------------- contenders --

/** Timed samples of one contender. */
interface Samples {
  seconds: number[];
  processSeconds: number[];
  fsyncSeconds: number[];
  readWriteSeconds: number[];
  peakRss: number[];
  selfRowsPerSecond: number[];
}
const samples = new Map<string, Samples>();
function sampleOf(key: string): Samples {
  let s = samples.get(key);
  if (!s) samples.set(key, (s = { seconds: [], processSeconds: [], fsyncSeconds: [], readWriteSeconds: [], peakRss: [], selfRowsPerSecond: [] }));
  return s;
}
const digests = new Map<string, FileDigests>();

function freshDir(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

function fsyncFiles(paths: string[]): number {
  const t0 = performance.now();
  for (const p of paths) {
    const fd = openSync(p, "r");
    fsyncSync(fd);
    closeSync(fd);
  }
  return (performance.now() - t0) / 1000;
}

/**
 * The I/O floor, cat-like: read every input file with one large read into a reused buffer, write
 * train_x-sized (8 B/row) and train_y-sized (24 B/row) chunks of it per file to two output files,
 * then fsync both (as headsnet does before it writes its manifest). One thread, in this process.
 */
function ioFloor(c: Corpus, outDir: string): { seconds: number; readWrite: number; fsync: number } {
  freshDir(outDir);
  let buf = Buffer.allocUnsafeSlow(8 << 20);
  const t0 = performance.now();
  const fx = openSync(join(outDir, "train_x.dat"), "w");
  const fy = openSync(join(outDir, "train_y.dat"), "w");
  c.files.forEach((f, i) => {
    buf = readWhole(f, buf, c.rows[i] * 24);
    writeAll(fx, buf, c.rows[i] * 8);
    writeAll(fy, buf, c.rows[i] * 24);
  });
  const t1 = performance.now();
  fsyncSync(fx);
  fsyncSync(fy);
  closeSync(fx);
  closeSync(fy);
  const t2 = performance.now();
  return { seconds: (t2 - t0) / 1000, readWrite: (t1 - t0) / 1000, fsync: (t2 - t1) / 1000 };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function writeAll(fd: number, buf: Buffer, length: number): void {
  let done = 0;
  while (done < length) done += writeSync(fd, buf, done, length - done);
}

// ------------------------------------------------------------------------------------- main --

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = loadavg()[0];
  const { cc } = prerequisites();
  const identity = buildIdentity();
  const table = icosphereTable();
  const ico = loadIcosphere(table.path);
  const c = await corpus();
  const totalRows = c.rows.reduce((a, b) => a + b, 0);
  const refFiles = c.files.slice(0, REF_HEADS);
  const refRows = c.rows.slice(0, REF_HEADS).reduce((a, b) => a + b, 0);

  // What the data looks like.
  const header = parseHeader(headBytes(c.files[0]), c.files[0]);
  const vertexEl = header.elements.find((e) => e.name === "vertex")!;
  const faceEl = header.elements.find((e) => e.name === "face");
  const describeProps = vertexEl.properties.map((p) => `${p.typeName} ${p.name}`).join(", ");
  const outBytes = totalRows * 32;
  log(`headsnet ${VERSION} benchmark${quick ? " (--quick)" : ""} on ${hostname()}: ${cpus()[0]?.model ?? "?"}, ${CORES} cores, node ${process.version}`);
  log(`corpus: ${c.files.length} heads in ${rel(c.dir)}${c.synthSeconds ? ` (synthesized in ${duration(c.synthSeconds)})` : " (cached)"}; ${totalRows.toLocaleString("en-US")} rows, ${mb(c.bytes)} in, ${mb(outBytes)} out per run`);
  log(`  each: ${header.format}, ${vertexEl.count.toLocaleString("en-US")} vertices (${describeProps}; ${vertexEl.stride} B/vertex)${faceEl ? `, ${faceEl.count.toLocaleString("en-US")} faces (${faceEl.properties.map((p) => `list ${p.countTypeName} ${p.typeName}`).join("")})` : ""}, ${mb(statSync(c.files[0]).size)}`);
  log(`build: commit ${identity.commit}${identity.dirty ? " with uncommitted changes in src/, assembly/ or bin/" : ""}; build/release.wasm + dist/src ${identity.build}`);
  log(`icosphere: ${ico.count} vertices, ${rel(table.path)} (${table.note}), sha256 ${ico.sha256.slice(0, 16)}…`);
  log(`reference subset: the first ${REF_HEADS} heads, ${refRows.toLocaleString("en-US")} rows`);
  log(`rounds: ${ROUNDS} (reference in the first ${Math.min(REF_ROUNDS, ROUNDS)}), contenders interleaved round-robin; inputs warm in the page cache for all; outputs in ${rel(OUT)}`);
  log(`load average (1 min) at the start: ${loadBefore.toFixed(2)} on ${CORES} cores${loadBefore > CORES / 2 ? " — the machine is busy; expect noisy numbers" : ""}`);
  log(`peak memory: ${memoryProbe === "time -v" ? "/usr/bin/time -v (Maximum resident set size)" : memoryProbe === "VmHWM" ? "polling /proc/PID/status VmHWM" : "not measurable here"}`);
  log();

  // Kernel alone: one 94k-vertex head already in kernel memory.
  let kernelFile = c.files[0];
  let kernelBytes: Uint8Array;
  if (VERTICES === KERNEL_VERTICES) {
    kernelBytes = readFileSync(kernelFile);
  } else {
    kernelFile = join(CACHE, `kernel-head-v${KERNEL_VERTICES}-s${SEED}.ply`);
    if (!existsSync(kernelFile)) writeFileSync(kernelFile, synthHeadPly({ vertices: KERNEL_VERTICES, seed: corpusHeadSeed(SEED, 0) }));
    kernelBytes = readFileSync(kernelFile);
  }
  const kernel = new Kernel(ico);
  const kernelSize = kernel.load(kernelBytes);
  const kernelLabel = relative(c.dir, kernelFile);
  const kernelRows = vertexCount(kernelFile);

  // Micro: the queries of native --micro, and the PLY files for PLYLoader.
  const points = microPoints(QUERIES);
  const answers = new Uint32Array(QUERIES);
  const bruteAnswers = new Uint32Array(BRUTE_QUERIES);
  const kHeader = parseHeader(kernelBytes.subarray(0, 65536), kernelFile);
  const kVertex = kHeader.elements.findIndex((e) => e.name === "vertex");
  const kVertexEnd = kHeader.bodyOffset + kHeader.elements.slice(0, kVertex + 1).reduce((sum, e) => sum + e.count * e.stride, 0);
  const plyInputs = [
    { key: "faces", bytes: kernelBytes },
    { key: "vertexOnly", bytes: vertexOnlyPly(kernelBytes, kHeader.bodyOffset, kVertexEnd) },
  ];
  const loader = new PLYLoader();
  const arrayBuffer = (b: Uint8Array) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  const plySamples = { faces: [] as number[], vertexOnly: [] as number[] };
  const hashNs: number[] = [], bruteNs: number[] = [];
  const nativeMicro: NativeMicro[] = [];
  const parallelProbe: number[] = [];
  let hashChecksum = 0, bruteMismatches = 0;

  // ---- warm-up (untimed): page cache, binaries, JIT
  log("warm-up ...");
  const warm = freshDir(join(OUT, "warm"));
  ioFloor(c, join(OUT, "warm-floor"));
  for (const [cmd, args] of [
    [NATIVE, [table.path, warm, ...c.files.slice(0, 2)]],
    [process.execPath, [CLI, "compile", ...c.files.slice(0, 2), "-o", join(OUT, "warm-hn"), "-j", String(CORES), "--icosphere", table.path, "--quiet"]],
  ] as const) {
    const r = await run(cmd, [...args], { timeoutSeconds: 120 });
    if (r.code !== 0) throw new Error(`warm-up: ${cmd === NATIVE ? "native" : "headsnet compile"} on 2 files exited with status ${r.code ?? r.signal}:\n${r.stderr}`);
  }
  for (let i = 0; i < 5; i++) kernel.run(kernelSize, kernelLabel, 0, { projection: "legacy" });
  timeQueries((x, y, z) => kernel.nearest(x, y, z), points, Math.min(QUERIES, 50000), answers);
  timeQueries((x, y, z) => kernel.nearestBrute(x, y, z), points, Math.min(BRUTE_QUERIES, 100), bruteAnswers);
  for (const p of plyInputs) loader.parse(arrayBuffer(p.bytes));
  for (const d of ["warm", "warm-floor", "warm-hn"]) rmSync(join(OUT, d), { recursive: true, force: true });

  // ---- the contenders of a round
  type Step = { key: string; rounds: number; run: () => Promise<string> };
  const child = async (key: string, cmd: string, args: string[], outDir: string, ownFsync: boolean, digest = true): Promise<string> => {
    freshDir(outDir);
    // Far longer than any healthy run takes; a hung child fails the benchmark instead of stalling it.
    const r = await run(cmd, args, { timeoutSeconds: key === "reference" ? 900 : 300 });
    if (r.code !== 0) throw new Error(`${key} exited with status ${r.code}${r.signal ? ` (${r.signal})` : ""}:\n${r.stderr}`);
    const outputs = [join(outDir, "train_x.dat"), join(outDir, "train_y.dat")];
    const s = sampleOf(key);
    // headsnet fsyncs its outputs before writing its manifest; the C programs do not, so the
    // bench fsyncs theirs right after they exit and counts it: the same work for everyone.
    const fs = ownFsync ? 0 : fsyncFiles(outputs);
    s.processSeconds.push(r.seconds);
    s.fsyncSeconds.push(fs);
    s.seconds.push(r.seconds + fs);
    if (r.peakRss) s.peakRss.push(r.peakRss);
    const self = /(\d+) rows\/s/.exec(r.stderr);
    if (self) s.selfRowsPerSecond.push(Number(self[1]));
    if (!digest) {
      // small runs: only the size
    } else if (!digests.has(key)) {
      digests.set(key, digestRows(outputs[0], outputs[1], [c.rows[0], refRows]));
    } else if (statSync(outputs[1]).size !== digests.get(key)!.rows * 24) {
      throw new Error(`${key}: train_y has ${statSync(outputs[1]).size} bytes this round, ${digests.get(key)!.rows * 24} before`);
    }
    return `${duration(r.seconds + fs)}${r.peakRss ? `, ${mb(r.peakRss)}` : ""}`;
  };

  // The same commands on the first few heads (one per thread): with the full runs, they split
  // each time into a fixed cost per run (startup, table build, final fsync) and a cost per row.
  const nativeArgs = (n: number, out: string, files: string[]) => ["-j", String(n), table.path, out, ...files];
  const headsnetArgs = (n: number, out: string, inputs: string[]) =>
    [CLI, "compile", ...inputs, "-o", out, "-j", String(n), "--icosphere", table.path, "--quiet"];
  const smallFiles = c.files.slice(0, SMALL_HEADS);
  const steps: Step[] = [
    {
      key: "floor", rounds: ROUNDS, run: async () => {
        const f = ioFloor(c, join(OUT, "floor"));
        const s = sampleOf("floor");
        s.seconds.push(f.seconds); s.readWriteSeconds.push(f.readWrite); s.fsyncSeconds.push(f.fsync);
        return duration(f.seconds);
      },
    },
    {
      key: "reference", rounds: Math.min(REF_ROUNDS, ROUNDS),
      run: () => child("reference", REFERENCE, [table.path, join(OUT, "reference"), ...refFiles], join(OUT, "reference"), false),
    },
    ...THREADS.map((n): Step => ({
      key: `native-j${n}`, rounds: ROUNDS,
      run: () => child(`native-j${n}`, NATIVE, nativeArgs(n, join(OUT, `native-j${n}`), c.files), join(OUT, `native-j${n}`), false),
    })),
    ...THREADS.map((n): Step => ({
      key: `headsnet-j${n}`, rounds: ROUNDS,
      run: () => child(`headsnet-j${n}`, process.execPath, headsnetArgs(n, join(OUT, `headsnet-j${n}`), [c.dir]), join(OUT, `headsnet-j${n}`), true),
    })),
    ...(SMALL_HEADS < HEADS ? [{
      key: "small", rounds: ROUNDS, run: async () => {
        const parts: string[] = [];
        for (const n of THREADS) {
          const out = join(OUT, `native-j${n}-small`);
          parts.push(`native-j${n} ${await child(`native-j${n}-small`, NATIVE, nativeArgs(n, out, smallFiles), out, false, false)}`);
        }
        for (const n of THREADS) {
          const out = join(OUT, `headsnet-j${n}-small`);
          parts.push(`headsnet-j${n} ${await child(`headsnet-j${n}-small`, process.execPath, headsnetArgs(n, out, smallFiles), out, true, false)}`);
        }
        return `(${SMALL_HEADS} heads: ${parts.join(", ")})`;
      },
    }] : []),
    {
      key: "kernel", rounds: ROUNDS, run: async () => {
        const s = sampleOf("kernel");
        kernel.run(kernelSize, kernelLabel, 0, { projection: "legacy" });
        for (let i = 0; i < KERNEL_RUNS; i++) {
          const t0 = performance.now();
          kernel.run(kernelSize, kernelLabel, 0, { projection: "legacy" });
          s.seconds.push((performance.now() - t0) / 1000);
        }
        const last = s.seconds.slice(-KERNEL_RUNS);
        return `${si(kernelRows / summarize(last).median)} rows/s`;
      },
    },
    {
      key: "micro", rounds: ROUNDS, run: async () => {
        const th = timeQueries((x, y, z) => kernel.nearest(x, y, z), points, QUERIES, answers);
        const tb = timeQueries((x, y, z) => kernel.nearestBrute(x, y, z), points, BRUTE_QUERIES, bruteAnswers);
        hashNs.push((th * 1e9) / QUERIES);
        bruteNs.push((tb * 1e9) / BRUTE_QUERIES);
        hashChecksum = indexSum(answers, QUERIES);
        for (let i = 0; i < BRUTE_QUERIES; i++) if (bruteAnswers[i] !== answers[i]) bruteMismatches++;
        const nm = await run(NATIVE, ["--micro", table.path, String(QUERIES), String(NATIVE_BRUTE_QUERIES)]);
        const parsed = parseNativeMicro(nm.stdout);
        if (!parsed) throw new Error(`native --micro printed nothing usable (status ${nm.code}):\n${nm.stdout}${nm.stderr}`);
        nativeMicro.push(parsed);
        if (CORES > 1) {
          // How much parallel throughput the machine gives right now: a shared VM's vCPUs may be
          // hyperthreads of one core, or busy with a neighbour.
          const probe = ["--micro", table.path, "1", "20000"];
          const bruteNs = (p: { stdout: string }) => parseNativeMicro(p.stdout)?.bruteNs ?? NaN;
          const one = bruteNs(await run(NATIVE, probe));
          const many = (await Promise.all(Array.from({ length: CORES }, () => run(NATIVE, probe)))).map(bruteNs);
          parallelProbe.push((CORES * one) / (many.reduce((a, b) => a + b, 0) / many.length));
        }
        for (const p of plyInputs) {
          for (let i = 0; i < PLY_PARSES; i++) {
            const ab = arrayBuffer(p.bytes);
            const t0 = performance.now();
            const g = loader.parse(ab);
            const t = (performance.now() - t0) / 1000;
            plySamples[p.key as "faces" | "vertexOnly"].push(g.attributes.position.count / t / 1e6);
          }
        }
        return `hash ${sig(hashNs.at(-1)!)} ns, PLYLoader ${sig(plySamples.faces.at(-1)!)} M vertices/s`;
      },
    },
  ];

  for (let r = 0; r < ROUNDS; r++) {
    const k = r % steps.length;
    const order = [...steps.slice(k), ...steps.slice(0, k)].filter((s) => r < s.rounds);
    const parts: string[] = [];
    for (const step of order) parts.push(`${step.key} ${await step.run()}`);
    log(`round ${r + 1}/${ROUNDS}: ${parts.join("; ")}`);
  }

  const after = buildIdentity();
  const buildChanged = after.build !== identity.build;
  if (buildChanged) log(`warning: build/release.wasm or dist/src changed during the run (${identity.build} -> ${after.build}): the results mix two builds; run again`);

  // ---- checks (outside every timed part)
  const kernelOut = kernel.run(kernelSize, kernelLabel, 0, { projection: "legacy" });
  const kernelDigest = digestArrays(kernelOut.x, kernelOut.y);
  const kernelXyz = new Float32Array(kernelRows * 3);
  for (let i = 0; i < kernelRows; i++) kernelXyz.set(kernelOut.y.subarray(6 * i, 6 * i + 3), 3 * i);
  const threePositions = loader.parse(arrayBuffer(kernelBytes)).attributes.position.array as Float32Array;
  const checks: Check[] = [];
  const same = (a: RowDigest | undefined, b: RowDigest | undefined, x = false) =>
    !!a && !!b && a.rows === b.rows && a.y === b.y && a.index === b.index && (!x || a.x === b.x) && a.y !== "";
  const nKey = (n: number) => `native-j${n}`, hKey = (n: number) => `headsnet-j${n}`;
  const ref = digests.get("reference")!;
  const prefixOf = (key: string) => digests.get(key)!.prefixes[1];
  const refOthers = [...THREADS.map(nKey), ...THREADS.map(hKey)];
  checks.push({
    name: `reference subset (${REF_HEADS} heads, ${refRows.toLocaleString("en-US")} rows): train_y and train_x column 1 of reference = ${refOthers.join(" = ")}`,
    ok: refOthers.every((k) => same(ref.whole, prefixOf(k))),
    detail: `train_y sha256 ${ref.whole.y.slice(0, 12)}…, index ${ref.whole.index.slice(0, 12)}…`,
  });
  const first = digests.get(hKey(CORES))!;
  checks.push({
    name: `whole corpus (${totalRows.toLocaleString("en-US")} rows): train_y and train_x column 1 of ${refOthers.join(" = ")}`,
    ok: refOthers.every((k) => same(first.whole, digests.get(k)!.whole)) && refOthers.every((k) => !digests.get(k)!.problem),
    detail: `train_y sha256 ${first.whole.y.slice(0, 12)}…, index ${first.whole.index.slice(0, 12)}…`,
  });
  if (THREADS.length > 1) {
    checks.push({
      name: `headsnet -j1 = -j${CORES}, all of train_x (model ids are a function of the seed and path)`,
      ok: same(digests.get(hKey(1))!.whole, digests.get(hKey(CORES))!.whole, true),
      detail: `train_x sha256 ${first.whole.x.slice(0, 12)}…`,
    });
  }
  if (kernelFile === c.files[0]) {
    checks.push({
      name: `kernel alone (${kernelLabel}) = headsnet compile's first ${kernelRows.toLocaleString("en-US")} rows (train_y, column 1)`,
      ok: same(kernelDigest, first.prefixes[0]),
      detail: `train_y sha256 ${kernelDigest.y.slice(0, 12)}…`,
    });
  }
  const nm0 = nativeMicro[0];
  checks.push({
    name: `nearest: wasm hash = wasm brute force on ${BRUTE_QUERIES} queries per round; wasm hash = native hash on ${QUERIES.toLocaleString("en-US")} (index sums)`,
    ok: bruteMismatches === 0 && nativeMicro.every((m) => m.hashChecksum === hashChecksum && m.mismatches === 0),
    detail: `${bruteMismatches} brute-force mismatches; index sum ${hashChecksum} (wasm) vs ${nm0.hashChecksum} (native), native hash/brute mismatches ${nm0.mismatches}`,
  });
  checks.push({
    name: `PLYLoader positions = headsnet train_y x y z (${kernelLabel})`,
    ok: threePositions.length === kernelXyz.length && Buffer.from(threePositions.buffer, threePositions.byteOffset, threePositions.byteLength)
      .equals(Buffer.from(kernelXyz.buffer)),
    detail: `${threePositions.length / 3} positions`,
  });

  // ---- results
  const stat = (xs: number[]) => summarize(xs);
  const contenders: Contender[] = [];
  const add = (key: string, label: string, what: string, rows: number, threads: number) => {
    const s = sampleOf(key);
    const seconds = stat(s.seconds);
    // Fixed cost and cost per row from the small runs (medians), when there are any:
    // t(rows) = fixed + rows / perRow. Without them, the projection is linear from zero.
    const small = samples.get(`${key}-small`);
    let fixedSeconds: number | undefined, perRowRate: number | undefined;
    if (small?.seconds.length) {
      const smallRows = c.rows.slice(0, SMALL_HEADS).reduce((a, b) => a + b, 0);
      const ts = stat(small.seconds).median;
      const slope = (seconds.median - ts) / (rows - smallRows);
      if (slope > 0) {
        fixedSeconds = Math.max(0, ts - slope * smallRows);
        perRowRate = 1 / slope;
      }
    }
    contenders.push({
      key, label, what, rows, threads,
      seconds,
      processSeconds: s.processSeconds.length ? stat(s.processSeconds) : undefined,
      fsyncSeconds: s.fsyncSeconds.length ? stat(s.fsyncSeconds) : undefined,
      readWriteSeconds: s.readWriteSeconds.length ? stat(s.readWriteSeconds) : undefined,
      rowsPerSecond: { n: seconds.n, median: rows / seconds.median, min: rows / seconds.max, max: rows / seconds.min },
      selfRowsPerSecond: s.selfRowsPerSecond.length ? stat(s.selfRowsPerSecond) : undefined,
      peakRss: s.peakRss.length ? stat(s.peakRss) : undefined,
      smallRunSeconds: small?.seconds.length ? stat(small.seconds) : undefined,
      fixedSeconds, perRowRate,
      fullCorpusSeconds: fixedSeconds !== undefined && perRowRate ? fixedSeconds + FULL_ROWS / perRowRate : (seconds.median * FULL_ROWS) / rows,
      samples: s.seconds.map((x) => Math.round(x * 1e6) / 1e6),
    });
  };
  add("floor", "I/O floor", "read every input, write 32 B/row, fsync (Node, 1 thread, in process)", totalRows, 1);
  add("reference", "reference C", `DatasetGen re-created: brute force, per-row fopen/fclose (-Ofast), ${REF_HEADS} heads`, refRows, 1);
  for (const n of THREADS) add(nKey(n), `native C -j${n}`, "headsnet's algorithm in C (-O3, AVX2), + fsync by the bench", totalRows, n);
  for (const n of THREADS) add(hKey(n), `headsnet -j${n}`, "`headsnet compile` end to end, child process incl. startup", totalRows, n);
  add("kernel", "headsnet kernel", `one ${kernelRows.toLocaleString("en-US")}-vertex file in wasm memory, 1 thread, fma ${kernel.fma === "fused" ? "in hardware" : "emulated"}`, kernelRows, 1);
  const get = (key: string) => contenders.find((x) => x.key === key)!;

  const kernelRate = get("kernel").rowsPerSecond.median;
  const native1Self = get(nKey(1)).selfRowsPerSecond?.median ?? get(nKey(1)).rowsPerSecond.median;
  const hnN = get(hKey(CORES)), natN = get(nKey(CORES)), floor = get("floor"), refC = get("reference");
  const plyFaces = stat(plySamples.faces), plyVertexOnly = stat(plySamples.vertexOnly);
  const peak = hnN.peakRss?.max;
  const targets: Target[] = [
    { name: `headsnet -j${CORES} rows/s vs reference rows/s`, value: hnN.rowsPerSecond.median / refC.rowsPerSecond.median, goal: 300, higher: true, unit: "×" },
    { name: "kernel rows/s vs native -j1 rows/s (native's own timer: excl. startup, incl. its file I/O)", value: kernelRate / native1Self, goal: 0.7, higher: true, unit: "×" },
    { name: `headsnet -j${CORES} time vs native -j${CORES} time (+fsync)`, value: hnN.seconds.median / natN.seconds.median, goal: 1.3, higher: false, unit: "×" },
    { name: `headsnet -j${CORES} time vs I/O floor time`, value: hnN.seconds.median / floor.seconds.median, goal: 1.3, higher: false, unit: "×" },
    {
      name: `kernel (decode+trace+lookup) vs PLYLoader on the same file, vertices/s (on the file without faces: ${times(kernelRate / 1e6 / plyVertexOnly.median)})`,
      value: kernelRate / 1e6 / plyFaces.median, goal: 20, higher: true, unit: "×",
    },
    { name: "kernel rows/s", value: kernelRate, goal: 20e6, higher: true, unit: "rows/s" },
    { name: `headsnet -j${CORES} peak memory (max over runs)`, value: peak ?? NaN, goal: 300e6, higher: false, unit: "bytes" },
  ];
  for (const t of targets) t.pass = Number.isFinite(t.value) ? (t.higher ? t.value >= t.goal : t.value <= t.goal) : undefined;

  const nmStat = (f: (m: NativeMicro) => number) => stat(nativeMicro.map(f));
  const date = new Date().toISOString().slice(0, 10);
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, "-");
  const result: BenchResult = {
    tool: "headsnet", version: VERSION, date, host,
    commit: identity.commit, dirty: identity.dirty, build: identity.build, buildChangedDuringRun: buildChanged,
    machine: {
      cpu: cpus()[0]?.model ?? "?", cores: CORES, memory: totalmem(), os: `${osType()} ${release()}`, node: process.version, cc,
      memoryProbe, loadAverage: { start: round2(loadBefore), end: round2(loadavg()[0]) },
    },
    params: {
      heads: HEADS, vertices: VERTICES, seed: SEED, quick, rounds: ROUNDS, referenceHeads: REF_HEADS, referenceRounds: Math.min(REF_ROUNDS, ROUNDS),
      kernelRunsPerRound: KERNEL_RUNS, smallRunHeads: SMALL_HEADS, queries: QUERIES, bruteQueries: BRUTE_QUERIES, nativeBruteQueries: NATIVE_BRUTE_QUERIES,
    },
    corpus: {
      files: c.files.length, rows: totalRows, inputBytes: c.bytes, outputBytes: outBytes, format: header.format,
      vertex: describeProps, faces: faceEl?.count ?? 0, icosphere: { table: rel(table.path), vertices: ico.count, sha256: ico.sha256 },
    },
    full: { heads: FULL_HEADS, rows: FULL_ROWS },
    contenders,
    micro: {
      hashNs: { headsnet: stat(hashNs), native: nmStat((m) => m.hashNs), nativeBatched: nmStat((m) => m.batchedNs) },
      bruteNs: { headsnet: stat(bruteNs), native: nmStat((m) => m.bruteNs), nativeKind: nm0.bruteKind, nativeScalar: nmStat((m) => m.bruteScalarNs) },
      fma: kernel.fma,
      parseMVerticesPerSecond: { kernel: summarize(get("kernel").samples.map((t) => kernelRows / t / 1e6)), plyLoaderFaces: plyFaces, plyLoaderVertexOnly: plyVertexOnly },
    },
    parallelProbe: parallelProbe.length ? stat(parallelProbe) : undefined,
    checks,
    targets,
    seconds: 0,
  };
  result.seconds = Math.round((performance.now() - started) / 1000);

  mkdirSync(RESULTS, { recursive: true });
  // One result per kind of run, replaced each time (the date, host and commit are inside): git
  // keeps the history of the full runs; quick runs stay out of it, in bench/.cache/results.
  const jsonPath = argv["out-json"] ? resolve(argv["out-json"]) : join(RESULTS, "latest.json");
  const svgPath = join(RESULTS, "rows-per-second.svg");
  const mdPath = join(RESULTS, "latest.md");
  const markdown = renderMarkdown(result, relative(ROOT, svgPath));
  writeFileSync(jsonPath, JSON.stringify(result, null, 1) + "\n");
  writeFileSync(svgPath, renderSvg(result));
  writeFileSync(mdPath, markdown);
  rmSync(OUT, { recursive: true, force: true });

  log();
  log(markdown);
  log(`wrote ${rel(jsonPath)}, ${rel(mdPath)}, ${rel(svgPath)} (${duration(result.seconds)} in all)`);
  if (checks.some((x) => !x.ok)) {
    process.stderr.write("bench: outputs differ between implementations (see the checks above)\n");
    process.exitCode = 1;
  }
}

async function targets(): Promise<void> {
  const { benchTargets } = await import("./targets.js");
  const c = await corpus();
  await benchTargets({
    files: c.files, dir: c.dir, heads: HEADS, vertices: VERTICES, rounds: positiveInt(argv.rounds, 3, "rounds"), cli: CLI,
    outDir: OUT, results: RESULTS, samples: positiveInt(argv.samples, 100_000, "samples"),
    cold: argv.cold, only: argv.only?.split(",").map((t) => t.trim()).filter(Boolean),
  });
  rmSync(OUT, { recursive: true, force: true });
}

(argv.targets ? targets() : main()).catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});

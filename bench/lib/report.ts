// What the benchmark writes: the JSON record, the markdown for the README's "Performance"
// section, and a hand-written SVG bar chart of rows per second (log scale, no dependencies).

import { duration, mb, sig, si, times, timeSpread, type Stat } from "./stats.js";

export interface Contender {
  key: string;
  label: string;
  what: string;
  rows: number;
  threads: number;
  /** Seconds per run: what the ratios use (for the C programs, process + fsync of its outputs). */
  seconds: Stat;
  processSeconds?: Stat;
  fsyncSeconds?: Stat;
  readWriteSeconds?: Stat;
  rowsPerSecond: Stat;
  /** Rows/s as the C programs' own timers print it (no process startup, no table build). */
  selfRowsPerSecond?: Stat;
  peakRss?: Stat;
  /** The same command on the first few heads (params.smallRunHeads). */
  smallRunSeconds?: Stat;
  /** t(rows) = fixedSeconds + rows / perRowRate, through the medians of the small and the full runs. */
  fixedSeconds?: number;
  perRowRate?: number;
  /** fixed + rows / rate where known, else linear in rows. */
  fullCorpusSeconds: number;
  samples: number[];
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Target {
  name: string;
  value: number;
  goal: number;
  higher: boolean;
  unit: "×" | "rows/s" | "bytes";
  pass?: boolean;
}

export interface BenchResult {
  tool: string;
  version: string;
  date: string;
  host: string;
  commit: string;
  dirty: boolean;
  /** sha256 prefix of build/release.wasm and dist/src/*.js. */
  build: string;
  buildChangedDuringRun: boolean;
  machine: {
    cpu: string; cores: number; memory: number; os: string; node: string; cc: string; memoryProbe: string;
    loadAverage: { start: number; end: number };
  };
  params: {
    heads: number; vertices: number; seed: number; quick: boolean; rounds: number; referenceHeads: number; referenceRounds: number;
    kernelRunsPerRound: number; smallRunHeads: number; queries: number; bruteQueries: number; nativeBruteQueries: number;
  };
  corpus: {
    files: number; rows: number; inputBytes: number; outputBytes: number; format: string; vertex: string; faces: number;
    icosphere: { table: string; vertices: number; sha256: string };
  };
  full: { heads: number; rows: number };
  contenders: Contender[];
  micro: {
    hashNs: { headsnet: Stat; native: Stat; nativeBatched: Stat };
    bruteNs: { headsnet: Stat; native: Stat; nativeKind: string; nativeScalar: Stat };
    /** How the headsnet kernel computed the reference's fused multiply-adds. */
    fma: "fused" | "emulated";
    parseMVerticesPerSecond: { kernel: Stat; plyLoaderFaces: Stat; plyLoaderVertexOnly: Stat };
  };
  /** Throughput of N concurrent compute-bound processes over one (N = cores): what -jN can gain here. */
  parallelProbe?: Stat;
  checks: Check[];
  targets: Target[];
  seconds: number;
}

const n = (x: number) => x.toLocaleString("en-US");

function targetValue(t: Target, v: number): string {
  if (t.unit === "×") return times(v);
  if (t.unit === "rows/s") return `${si(v)} rows/s`;
  return mb(v);
}

function spreadRate(st: Stat): string {
  return `${si(st.median)} (${si(st.min)}–${si(st.max)})`;
}

function nsSpread(st: Stat): string {
  const f = (x: number) => (x >= 1000 ? `${sig(x / 1000)} µs` : `${sig(x)} ns`);
  return `${f(st.median)} (${sig(st.min >= 1000 ? st.min / 1000 : st.min)}–${sig(st.max >= 1000 ? st.max / 1000 : st.max)})`;
}

export function renderMarkdown(r: BenchResult, svgPath: string): string {
  const get = (k: string) => r.contenders.find((c) => c.key === k)!;
  const N = r.machine.cores;
  const lines: string[] = [];
  const ref = get("reference");
  lines.push(
    `Measured ${r.date} on \`${r.host}\` (${r.machine.cpu}, ${N} cores, ${Math.round(r.machine.memory / 2 ** 30)} GiB, ${r.machine.os}; ` +
      `Node ${r.machine.node}; ${r.machine.cc}) with headsnet ${r.version} (commit ${r.commit}${r.dirty ? " plus local changes" : ""}): ${n(r.corpus.files)} synthesized heads of ${n(r.params.vertices)} vertices ` +
      `(${n(r.corpus.rows)} rows; ${mb(r.corpus.inputBytes)} of ${r.corpus.format} PLY in, ${mb(r.corpus.outputBytes)} of rows out per run), ` +
      `icosphere of ${n(r.corpus.icosphere.vertices)} vertices (\`${r.corpus.icosphere.table}\`). ` +
      `Each time is the median of ${r.params.rounds} runs (the reference: ${r.params.referenceRounds} runs on the first ${r.params.referenceHeads} heads, ${n(ref.rows)} rows) ` +
      `with the spread (min–max); the contenders take turns, round-robin. Inputs are warm in the page cache for every contender; ` +
      `outputs are written to the same filesystem and fsynced. The 1-minute load average was ${r.machine.loadAverage.start} just before the run ` +
      `and ${r.machine.loadAverage.end} at its end (which counts the benchmark itself).`,
    "",
    `| | what runs | time per run | rows/s | fixed cost per run | peak memory | ${n(r.full.heads)} heads (${n(r.full.rows)} rows), projected |`,
    "|---|---|---|---|---|---|---|",
  );
  for (const c of r.contenders) {
    const time = c.key === "kernel" ? `${timeSpread(c.seconds)} per file` : timeSpread(c.seconds);
    const fixed = c.fixedSeconds !== undefined ? duration(c.fixedSeconds) : "–";
    lines.push(`| **${c.label}** | ${c.what} | ${time} | ${spreadRate(c.rowsPerSecond)} | ${fixed} | ${c.peakRss ? mb(c.peakRss.max) : "–"} | ${duration(c.fullCorpusSeconds)} |`);
  }
  lines.push("");
  const notes: string[] = [];
  const floor = get("floor");
  notes.push(`The I/O floor is ${duration(floor.readWriteSeconds!.median)} of reading and writing plus ${duration(floor.fsyncSeconds!.median)} of fsync.`);
  for (const c of r.contenders.filter((c) => c.key.startsWith("native") || c.key === "reference")) {
    notes.push(`${c.label}: the process ran ${duration(c.processSeconds!.median)}, the fsync of its outputs after it exited ${duration(c.fsyncSeconds!.median)}` +
      (c.selfRowsPerSecond ? `; its own timer (no startup, no table build) says ${si(c.selfRowsPerSecond.median)} rows/s.` : "."));
  }
  const split = r.contenders.filter((c) => c.fixedSeconds !== undefined);
  if (split.length) {
    notes.push(`Fixed cost per run: each program also ran on the first ${r.params.smallRunHeads} heads every round; the line through the two medians ` +
      `splits a run into a fixed part (startup, icosphere table and cube map, threads, final fsync) and a rate per row: ` +
      split.map((c) => `${c.label} ${duration(c.fixedSeconds!)} + ${si(c.perRowRate!)} rows/s (small run ${timeSpread(c.smallRunSeconds!)})`).join("; ") + ".");
  }
  notes.push("Projections to the full dataset add the fixed cost once and scale the rest by rows where the split is known; otherwise they scale the whole time by rows.");
  if (r.parallelProbe) {
    notes.push(`Parallel capacity of this machine: ${N} copies of a compute-bound loop (\`native --micro\`'s AVX2 brute force) at once ran ` +
      `${times(r.parallelProbe.median)} (${sig(r.parallelProbe.min, 2)}–${sig(r.parallelProbe.max, 2)}) the throughput of one, so -j${N} cannot beat -j1 by more than that here.`);
  }
  lines.push(...notes.map((x) => `- ${x}`), "");

  lines.push("Targets (ratios of medians measured in this run):", "", "| target | measured | goal | |", "|---|---|---|---|");
  for (const t of r.targets) {
    lines.push(`| ${t.name} | ${targetValue(t, t.value)} | ${t.higher ? "≥" : "≤"} ${targetValue(t, t.goal)} | ${t.pass === undefined ? "n/a" : t.pass ? "PASS" : "MISS"} |`);
  }
  lines.push("");

  const m = r.micro;
  lines.push(
    "Micro benchmarks (medians, min–max):",
    "",
    "| | headsnet (WebAssembly) | native C | other |",
    "|---|---|---|---|",
    `| nearest icosphere vertex, cube map | ${nsSpread(m.hashNs.headsnet)} per query, each call made from JavaScript (the JS→wasm call is included) | ${nsSpread(m.hashNs.native)} one at a time; ${nsSpread(m.hashNs.nativeBatched)} in prefetched blocks of 32 | |`,
    `| nearest icosphere vertex, brute force | ${nsSpread(m.bruteNs.headsnet)} per query (fused multiply-add ${m.fma === "fused" ? "in hardware, relaxed SIMD" : "emulated exactly"}) | ${nsSpread(m.bruteNs.native)} (${m.bruteNs.nativeKind}); ${nsSpread(m.bruteNs.nativeScalar)} scalar | the reference's loop |`,
    `| PLY parsing, M vertices/s | ${sig(m.parseMVerticesPerSecond.kernel.median)} (${sig(m.parseMVerticesPerSecond.kernel.min)}–${sig(m.parseMVerticesPerSecond.kernel.max)}): the whole kernel, decode + trace + lookup + rows, so an upper bound on decoding's cost | | three.js \`PLYLoader.parse\`: ${sig(m.parseMVerticesPerSecond.plyLoaderVertexOnly.median)} (${sig(m.parseMVerticesPerSecond.plyLoaderVertexOnly.min)}–${sig(m.parseMVerticesPerSecond.plyLoaderVertexOnly.max)}) on the head without its faces, ${sig(m.parseMVerticesPerSecond.plyLoaderFaces.median)} (${sig(m.parseMVerticesPerSecond.plyLoaderFaces.min)}–${sig(m.parseMVerticesPerSecond.plyLoaderFaces.max)}) with them (headsnet never reads the faces) |`,
    "",
    `The query points are those of \`native --micro\` (${n(r.params.queries)} for the cube map; ${n(r.params.bruteQueries)} for the WebAssembly brute force, ${n(r.params.nativeBruteQueries)} for C's).`,
    "",
    "Byte-identical outputs (checksums taken outside the timed parts):",
    "",
    ...r.checks.map((c) => `- ${c.ok ? "identical" : "**DIFFERENT**"}: ${c.name} (${c.detail})`),
    "",
    `![Rows per second, log scale](${svgPath})`,
    "",
    `Reproduce: \`npm run build && npm run bench\` (${r.params.quick ? "this was a \`--quick\` run" : `about ${Math.max(1, Math.round(r.seconds / 60))} min here`}; ` +
      "`npm run bench -- --quick` takes about a minute). It needs a C compiler; results go to `bench/results/`.",
    "",
  );
  return lines.join("\n");
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Horizontal bars of rows/s on a log axis, with min–max whiskers. */
export function renderSvg(r: BenchResult): string {
  const order = ["reference", ...r.contenders.filter((c) => c.key.startsWith("native")).map((c) => c.key),
    ...r.contenders.filter((c) => c.key.startsWith("headsnet")).map((c) => c.key), "kernel", "floor"];
  const bars = order.map((k) => r.contenders.find((c) => c.key === k)!).filter(Boolean);
  const colour = (k: string) =>
    k === "reference" ? "#c0392b" : k.startsWith("native") ? "#7f8c8d" : k === "kernel" ? "#5dade2" : k === "floor" ? "#d5d8dc" : "#1f6fb2";
  const name = (c: Contender) =>
    c.key === "reference" ? "reference C (DatasetGen)" : c.key === "kernel" ? "headsnet kernel alone" : c.key === "floor" ? "I/O floor (read, write, fsync)" : c.label;
  const note = (c: Contender) =>
    c.key === "kernel" ? "1 thread, file in memory" : c.key === "floor" ? "no compute, 1 thread"
      : `${c.threads} thread${c.threads > 1 ? "s" : ""}, end to end${c.key === "reference" ? `, ${r.params.referenceHeads} heads` : ""}`;
  const decade = (d: number) => d < 3 ? String(10 ** d) : d < 6 ? `${10 ** (d - 3)}k` : d < 9 ? `${10 ** (d - 6)}M` : `${10 ** (d - 9)}G`;

  const W = 820, left = 230, right = 700, top = 64, barH = 24, gap = 14;
  const values = bars.flatMap((c) => [c.rowsPerSecond.min, c.rowsPerSecond.max]).filter((v) => v > 0 && Number.isFinite(v));
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)));
  const x = (v: number) => left + ((Math.log10(v) - lo) / (hi - lo)) * (right - left);
  const H = top + bars.length * (barH + gap) + 56;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="600" fill="#1b1f24">Rows per second (log scale, higher is better)</text>`,
    `<text x="16" y="44" fill="#57606a">${esc(`${r.corpus.files} heads × ${r.params.vertices.toLocaleString("en-US")} vertices; ${r.machine.cores} cores (${r.machine.cpu}); ${r.date}; medians of ${r.params.rounds} runs, whiskers min–max`)}</text>`,
  );
  const axisY = top + bars.length * (barH + gap);
  for (let d = lo; d <= hi; d++) {
    const gx = x(10 ** d);
    out.push(`<line x1="${gx.toFixed(1)}" y1="${top - 6}" x2="${gx.toFixed(1)}" y2="${axisY}" stroke="#d0d7de" stroke-width="1"/>`);
    out.push(`<text x="${gx.toFixed(1)}" y="${axisY + 18}" text-anchor="middle" fill="#57606a">${decade(d)}</text>`);
  }
  out.push(`<text x="${((left + right) / 2).toFixed(1)}" y="${axisY + 38}" text-anchor="middle" fill="#57606a">rows/s</text>`);
  bars.forEach((c, i) => {
    const y = top + i * (barH + gap);
    const v = c.rowsPerSecond;
    const x0 = x(10 ** lo), xv = x(v.median);
    out.push(`<text x="${left - 10}" y="${y + 11}" text-anchor="end" fill="#1b1f24" font-weight="600">${esc(name(c))}</text>`);
    out.push(`<text x="${left - 10}" y="${y + 25}" text-anchor="end" fill="#57606a" font-size="11">${esc(note(c))}</text>`);
    out.push(`<rect x="${x0.toFixed(1)}" y="${y}" width="${Math.max(1, xv - x0).toFixed(1)}" height="${barH}" fill="${colour(c.key)}"${c.key === "floor" ? ` stroke="#8c959f" stroke-dasharray="4 3"` : ""}/>`);
    const wy = y + barH / 2;
    out.push(`<line x1="${x(v.min).toFixed(1)}" y1="${wy}" x2="${x(v.max).toFixed(1)}" y2="${wy}" stroke="#1b1f24" stroke-width="1.5"/>`);
    for (const e of [v.min, v.max]) out.push(`<line x1="${x(e).toFixed(1)}" y1="${wy - 5}" x2="${x(e).toFixed(1)}" y2="${wy + 5}" stroke="#1b1f24" stroke-width="1.5"/>`);
    out.push(`<text x="${(Math.max(xv, x(v.max)) + 8).toFixed(1)}" y="${wy + 4}" fill="#1b1f24">${esc(si(v.median))}</text>`);
  });
  out.push("</svg>", "");
  return out.join("\n");
}

// `npm run bench:train`: training throughput on the reference's network (4 x Dense(384, selu) +
// Dense(6), MSE, Adam 0.001, batch 256) on tfjs-backend-wasm, stock against headsnet's trainer,
// and the loss curves of the two on the same data and seed.
//
//   node dist/bench/train.js [--heads 4] [--rows 131072] [--repeats 3] [--stock-steps 24] [--curve-steps 60]
//
// Stock: tf.LayersModel.fit with tfjs's own wasm kernels (in memory, one thread).
// headsnet: train() streaming the compiled files, fast kernels, 1 and 2 threads (checkpoint
// writing and thread start-up included in its time), with the default encoding (fourier, hat id,
// radial key: 30 inputs for 4 heads) and with --encoding index (the reference's 2 inputs); and
// the encoding alone (Encoder.encodeRows on batches of 256 rows), in rows per second of CPU time.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir, availableParallelism } from "node:os";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { synthCorpus } from "../src/synth.js";
import { compile } from "../src/compile/index.js";
import { tf, initBackend } from "../src/train/backend.js";
import { buildNetwork } from "../src/train/model.js";
import { openDataset } from "../src/train/data.js";
import { train } from "../src/train/train.js";
import { Encoder, resolveEncoding } from "../src/train/encoding.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const log = (t: string) => process.stdout.write(t + "\n");

async function main(): Promise<void> {
  const heads = arg("heads", 4), rows = arg("rows", 131072), repeats = arg("repeats", 3);
  const stockSteps = arg("stock-steps", 24), curveSteps = arg("curve-steps", 60);
  const work = mkdtempSync(join(tmpdir(), "headsnet-bench-train-"));
  try {
    log(`headsnet train benchmark: ${availableParallelism()} cores, Node ${process.version}, tfjs ${tf.version.tfjs} (wasm backend)`);
    await synthCorpus({ out: join(work, "corpus"), count: heads, vertices: 94000 });
    const c = await compile({ inputs: [join(work, "corpus")], out: join(work, "data") });
    if (c.error) throw c.error;
    const ds = await openDataset(join(work, "data"));
    log(`data: ${heads} synthetic heads, ${fmt(ds.rows)} rows; network 4 x Dense(384, selu) + Dense(6), Adam 0.001, batch 256\n`);

    // Stock: model.fit, stock kernels, rows in memory.
    await initBackend({ fast: false });
    const n = stockSteps * 256;
    const x = new Float32Array((await readFile(ds.files.x.path)).buffer.slice(0, n * 8));
    const y = new Float32Array((await readFile(ds.files.y.path)).buffer.slice(0, n * 24));
    const stockRates: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const model = buildNetwork({ inputs: 2, layers: 4, units: 384, activation: "selu", outputs: 6, seed: r });
      model.compile({ optimizer: tf.train.adam(0.001, 0.9, 0.999, 1e-7), loss: "meanSquaredError" });
      const xs = tf.tensor2d(x, [n, 2]), ys = tf.tensor2d(y, [n, 6]);
      const t0 = performance.now();
      await model.fit(xs, ys, { batchSize: 256, epochs: 1, shuffle: false, verbose: 0 });
      stockRates.push(n / ((performance.now() - t0) / 1000));
      tf.dispose([xs, ys]);
      model.dispose();
    }
    log(`stock model.fit (tfjs wasm kernels, 1 thread):  median ${fmt(median(stockRates))} rows/s  [${stockRates.map(fmt).join(", ")}]`);

    // The encoding alone: the default one (radial key: sines per row) and the vertex key (a table lookup).
    {
      const xs = new Float32Array((await readFile(ds.files.x.path)).buffer.slice(0, 65536 * 8));
      const ys = new Float32Array((await readFile(ds.files.y.path)).buffer.slice(0, 65536 * 24));
      const ids = ds.manifest.models.map((m) => m.id);
      for (const key of ["radial", "vertex"] as const) {
        const encoder = new Encoder(resolveEncoding({ key }, { rowWidth: 2, ids, icosphere: ds.manifest.icosphere }), key === "vertex" ? (await import("../src/icosphere.js")).generateIcosphere(5) : undefined);
        const out = new Float32Array(256 * encoder.width);
        const rates: number[] = [];
        for (let r = 0; r < 5; r++) {
          const t0 = process.cpuUsage();
          for (let b = 0; b < 256; b++) encoder.encodeRows(xs.subarray(b * 512, b * 512 + 512), ys.subarray(b * 1536, b * 1536 + 1536), 256, out);
          const cpu = process.cpuUsage(t0);
          rates.push(65536 / ((cpu.user + cpu.system) / 1e6));
        }
        log(`encoding alone (fourier:4, hat, ${key} key, ${encoder.width} inputs): median ${fmt(median(rates))} rows/s of CPU time`);
      }
    }

    // headsnet: train() from the files, fast kernels; the default encoding and the reference's.
    for (const encoding of ["fourier", "index"]) {
      const ours: Record<number, number[]> = { 1: [], 2: [] };
      for (let r = 0; r < repeats; r++) {
        for (const threads of [1, 2]) {
          const out = join(work, `m-${encoding}-${threads}-${r}`);
          const t = await train({ data: ds.dir, out, epochs: 1, limit: rows, threads, seed: r, encoding });
          if (t.error) throw t.error;
          ours[threads].push(t.summary!.rowsPerSecond);
          rmSync(out, { recursive: true, force: true });
        }
      }
      const label = encoding === "index" ? "--encoding index" : "default encoding";
      log(`headsnet train, ${label}, 1 thread:   median ${fmt(median(ours[1]))} rows/s  [${ours[1].map(fmt).join(", ")}]`);
      log(`headsnet train, ${label}, 2 threads:  median ${fmt(median(ours[2]))} rows/s  [${ours[2].map(fmt).join(", ")}]`);
      log(`speed-up over stock: ${(median(ours[2]) / median(stockRates)).toFixed(1)}x (2 threads), ${(median(ours[1]) / median(stockRates)).toFixed(1)}x (1 thread)\n`);
    }

    // Loss curves on the same rows, order and seed: stock kernels against fast, 1 and 2 threads.
    const curve = async (fast: boolean, threads: number) => {
      const losses: number[] = [];
      const out = join(work, `curve-${fast}-${threads}`);
      const t = await train({ data: ds.dir, out, epochs: 1, limit: curveSteps * 256, threads, fast, seed: 7, shuffleBuffer: 1 << 16, encoding: "index", onStep: (l) => losses.push(l) });
      if (t.error) throw t.error;
      rmSync(out, { recursive: true, force: true });
      return losses;
    };
    const stock = await curve(false, 1);
    const fast1 = await curve(true, 1);
    const fast2 = await curve(true, 2);
    await initBackend({ fast: true });
    const window = 10;
    const smooth = (l: number[]) => l.map((_, i) => median(l.slice(Math.max(0, i - window + 1), i + 1)));
    const rel = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.abs(b[i])));
    log(`loss curves, ${curveSteps} steps, same data and seed (step 1 -> last):`);
    log(`  stock kernels:     ${stock[0].toPrecision(4)} -> ${stock[stock.length - 1].toPrecision(4)}`);
    log(`  fast, 1 thread:    ${fast1[0].toPrecision(4)} -> ${fast1[fast1.length - 1].toPrecision(4)}  max relative difference per step ${rel(fast1, stock).toExponential(2)}, smoothed ${rel(smooth(fast1), smooth(stock)).toExponential(2)}`);
    log(`  fast, 2 threads:   ${fast2[0].toPrecision(4)} -> ${fast2[fast2.length - 1].toPrecision(4)}  max relative difference per step ${rel(fast2, stock).toExponential(2)}, smoothed ${rel(smooth(fast2), smooth(stock)).toExponential(2)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`bench:train: ${(e as Error).message}\n`);
  process.exitCode = 1;
});

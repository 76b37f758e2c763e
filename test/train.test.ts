// The trainer: fast kernels against stock ones, streaming data, checkpoints, pipes, sample, export.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync, truncateSync, existsSync, statSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { synthCorpus } from "../src/synth.js";
import { compile } from "../src/compile/index.js";
import { parseHeader, vertexLayout } from "../src/ply-header.js";
import { tf, initBackend } from "../src/train/backend.js";
import { installFastKernels, uninstallFastKernels } from "../src/train/fast-kernels.js";
import { buildNetwork, saveModel, loadModel, makeOptimizer, MODEL_JSON, WEIGHTS_BIN } from "../src/train/model.js";
import { train, TRAINING_JSON } from "../src/train/train.js";
import { openDataset, fileSource, shuffledBatches, CHUNK_ROWS } from "../src/train/data.js";
import { writeRowStream, openRowStream, RowStreamWriter } from "../src/train/stream.js";
import { compileToRowStream } from "../src/train/compile-stream.js";
import { sample, coneDirection } from "../src/train/sample.js";
import { exportModel } from "../src/train/export.js";
import { Rng } from "../src/train/rng.js";
import { runTrainCommand } from "./train-cli.js";
import { expectSameBytes } from "./bytes.js";

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `headsnet-train-${name}-`));
// The reference's [id, index] network unless a test says otherwise (test/train-encoding.test.ts covers the encodings).
const SMALL = { layers: 2, units: 48, batch: 32, shuffleBuffer: 400, threads: 1, encoding: "index" };
/** Generous: real work runs here, and the machine may be busy. */
const TIMEOUT = 180_000;
vi.setConfig({ testTimeout: TIMEOUT, hookTimeout: TIMEOUT });

let corpus: string;
let data: string;

beforeAll(async () => {
  const dir = tmp("data");
  corpus = join(dir, "corpus");
  data = join(dir, "dataset");
  await synthCorpus({ out: corpus, count: 3, vertices: 500 });
  const r = await compile({ inputs: [corpus], out: data, build: "debug", workers: 1 });
  expect(r.error).toBeUndefined();
  await initBackend();
}, TIMEOUT);

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Run f with the stock kernels and with the fast ones; returns both results as arrays. */
function bothWays(f: () => tf.Tensor[]): [Float32Array[], Float32Array[]] {
  uninstallFastKernels();
  const stock = tf.tidy(f).map((t) => { const v = t.dataSync().slice() as Float32Array; t.dispose(); return v; });
  installFastKernels();
  const fast = tf.tidy(f).map((t) => { const v = t.dataSync().slice() as Float32Array; t.dispose(); return v; });
  return [stock, fast];
}

describe("fast kernels", () => {
  it("matMul gives the stock values and gradients, with and without transposes, 2-D and batched", () => {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      for (const batch of [[], [3]]) {
        const a = tf.randomNormal([...batch, ...(ta ? [37, 23] : [23, 37])], 0, 1, "float32", 1);
        const b = tf.randomNormal([...batch, ...(tb ? [19, 37] : [37, 19])], 0, 1, "float32", 2);
        const [stock, fast] = bothWays(() => {
          const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), tf.range(0, 23 * 19).reshape([23, 19]).div(100))));
          return [tf.matMul(a, b, ta, tb), ...g([a, b])];
        });
        for (let k = 0; k < 3; k++) expect(maxDiff(stock[k], fast[k])).toBeLessThan(1e-5 * Math.max(1, ...Array.from(stock[k], Math.abs)));
        tf.dispose([a, b]);
      }
    }
  });

  it("fused matMul with bias gives the stock values and gradients, transposes included", () => {
    // Stock wasm _FusedMatMul drops the bias when an input is transposed, so the stock side here
    // is what the fused op means: matMul, then add the bias (stock kernels).
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = tf.randomNormal(ta ? [40, 16] : [16, 40], 0, 1, "float32", 3);
      const b = tf.randomNormal(tb ? [24, 40] : [40, 24], 0, 1, "float32", 4);
      const bias = tf.randomNormal([24], 0, 1, "float32", 5);
      const fused = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, transposeA: ta, transposeB: tb, bias: z, activation: "linear" });
      const plain = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => tf.add(tf.matMul(x, y, ta, tb), z);
      const run = (f: typeof fused) => tf.tidy(() => {
        const g = tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => tf.sum(tf.square(f(x, y, z))));
        return [f(a, b, bias), ...g([a, b, bias])].map((t) => t.dataSync().slice() as Float32Array);
      });
      uninstallFastKernels();
      const stock = run(plain);
      installFastKernels();
      const fast = run(fused);
      for (let k = 0; k < 4; k++) expect(maxDiff(stock[k], fast[k])).toBeLessThan(1e-5 * Math.max(1, ...Array.from(stock[k], Math.abs)));
      tf.dispose([a, b, bias]);
    }
  });

  it("selu and its gradient match the stock kernels, zero and large values included", () => {
    const x = tf.concat([tf.randomNormal([5000], 0, 3, "float32", 6), tf.tensor1d([0, -0, 1e-8, -1e-8, 40, -40, 88, -100])]);
    const dy = tf.randomNormal([5008], 0, 1, "float32", 7);
    const [stock, fast] = bothWays(() => {
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.selu(v), dy)));
      return [tf.selu(x), g(x)];
    });
    expect(maxDiff(stock[0], fast[0])).toBeLessThan(1e-5 * 100);
    expect(maxDiff(stock[1], fast[1])).toBeLessThan(1e-5);
    tf.dispose([x, dy]);
  });

  it("sum over rows (the bias gradient) matches the stock kernel; other sums keep the stock path", () => {
    // 37 columns: the SIMD loop and its scalar tail both run.
    const x = tf.randomNormal([129, 37], 0, 2, "float32", 21);
    const x3 = tf.randomNormal([3, 5, 7], 0, 1, "float32", 22);
    const [stock, fast] = bothWays(() => [
      tf.sum(x, 0), tf.sum(x, -2), tf.sum(x, 0, true), tf.sum(x, 1), tf.sum(x), tf.sum(x3, 0),
      tf.sum(tf.cast(tf.round(x), "int32"), 0),
    ]);
    for (let k = 0; k < stock.length; k++) expect(maxDiff(stock[k], fast[k])).toBeLessThan(1e-4);
    expect(stock[0].length).toBe(37);
    expect(fast[2].length).toBe(37);
    tf.dispose([x, x3]);
  });

  it("a whole dense selu network: same loss and weight gradients", () => {
    const model = buildNetwork({ inputs: 2, layers: 3, units: 64, activation: "selu", outputs: 6, seed: 9 });
    const xs = tf.randomUniform([128, 2], 0, 1, "float32", 10);
    const ys = tf.randomUniform([128, 6], -1, 1, "float32", 11);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const [stock, fast] = bothWays(() => {
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(model.apply(xs) as tf.Tensor, ys)) as tf.Scalar, vars);
      return [value, ...vars.map((v) => grads[v.name])];
    });
    for (let k = 0; k < stock.length; k++) expect(maxDiff(stock[k], fast[k])).toBeLessThan(1e-5);
    tf.dispose([xs, ys]);
    model.dispose();
  });
  it("the one-pass Adam follows tfjs's Adam step for step", () => {
    const start = tf.randomNormal([300], 0, 1, "float32", 12);
    const target = tf.randomNormal([300], 0, 1, "float32", 13);
    const run = (fast: boolean) => {
      const v = tf.variable(start.clone());
      const opt = makeOptimizer("adam", 0.01, fast);
      for (let i = 0; i < 20; i++) opt.minimize(() => tf.sum(tf.square(tf.sub(v, target))) as tf.Scalar, false, [v]);
      const out = v.dataSync().slice();
      v.dispose();
      opt.dispose();
      return out;
    };
    const stock = run(false), fast = run(true);
    expect(maxDiff(stock, start.dataSync())).toBeGreaterThan(0.1);
    expect(maxDiff(stock, fast)).toBeLessThan(1e-5);
    tf.dispose([start, target]);
  });
});

describe("data", () => {
  it("checks the manifest first and names the file that does not match", async () => {
    const dir = tmp("bad");
    const copy = join(dir, "d");
    await compile({ inputs: [corpus], out: copy, build: "debug", workers: 1 });
    truncateSync(join(copy, "train_y.dat"), 1000);
    const r = await train({ data: copy, out: join(dir, "m"), epochs: 1, ...SMALL });
    expect(r.error?.message).toBe(`${join(copy, "train_y.dat")}: has 1000 bytes, but the manifest's 1500 rows of 6 float32 need 36000; the data does not match its manifest (run 'headsnet verify' on it, or compile it again)`);
    expect(existsSync(join(dir, "m", MODEL_JSON))).toBe(false);

    const noManifest = await train({ data: corpus, out: join(dir, "m2"), epochs: 1 });
    expect(noManifest.error?.code).toBe("E_MANIFEST");
    expect(noManifest.error?.message).toMatch(/no manifest\.json: not a finished headsnet dataset/);

    const manifest = JSON.parse(readFileSync(join(data, "manifest.json"), "utf8"));
    manifest.files.x.width = 3;
    const odd = join(dir, "odd");
    await compile({ inputs: [corpus], out: odd, build: "debug", workers: 1 });
    writeFileSync(join(odd, "manifest.json"), JSON.stringify(manifest));
    expect((await train({ data: odd, out: join(dir, "m3") })).error?.message).toMatch(/manifest\.json: files\.x\.width is 3; train_x rows are 2 or 5 floats wide/);
  });

  it("the shuffle buffer yields every row exactly once per epoch, in a seeded order", async () => {
    const ds = await openDataset(data);
    const source = fileSource(ds, 7);
    const collect = async (seed: number, e: number) => {
      const ids: number[] = [];
      for await (const b of shuffledBatches(source.epoch(e), 2, 100, 300, seed, e)) {
        // Row identity: the y row's x coordinate and index value together.
        for (let r = 0; r < b.rows; r++) ids.push(b.y[r * 6] * 1e6 + b.x[r * 2 + 1]);
      }
      return ids;
    };
    const a = await collect(7, 1), b = await collect(7, 1), c = await collect(8, 1);
    expect(a.length).toBe(1500);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect([...a].sort()).toEqual([...c].sort());
    expect(CHUNK_ROWS).toBeGreaterThan(0);
  });
});

describe("train", () => {
  it("lowers the loss over a few hundred steps, and saves a model that loads and predicts the same", async () => {
    const out = join(tmp("fit"), "m");
    const r = await train({ data, out, epochs: 6, ...SMALL, seed: 3 });
    expect(r.error).toBeUndefined();
    const s = r.summary!;
    expect(s.steps).toBe(6 * Math.ceil(1500 / 32));
    expect(s.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4, 5, 6]);

    // Loss on the whole dataset: the initial network (same seed) against the trained one.
    const ds = await openDataset(data);
    const x = new Float32Array(readFileSync(ds.files.x.path).buffer.slice(0));
    const y = new Float32Array(readFileSync(ds.files.y.path).buffer.slice(0));
    const xs = tf.tensor2d(x, [1500, 2]), ys = tf.tensor2d(y, [1500, 6]);
    const mse = (m: tf.LayersModel) => tf.tidy(() => tf.mean(tf.squaredDifference(m.predict(xs) as tf.Tensor, ys)).dataSync()[0]);
    const initial = buildNetwork({ inputs: 2, layers: 2, units: 48, activation: "selu", outputs: 6, seed: 3 });
    const loaded = await loadModel(out);
    const before = mse(initial), after = mse(loaded.model);
    expect(after).toBeLessThan(before * 0.5);
    expect(Math.abs(after - s.loss)).toBeLessThan(0.5 * s.loss);

    // Save the loaded model again, load that: bit-identical predictions.
    const again = join(tmp("again"), "m");
    await saveModel(loaded.model, again, { tool: "headsnet", version: "test", inputs: 2, outputs: 6 });
    const reloaded = await loadModel(again);
    const p1 = (loaded.model.predict(xs) as tf.Tensor).dataSync();
    const p2 = (reloaded.model.predict(xs) as tf.Tensor).dataSync();
    expectSameBytes(p2 as Float32Array, p1 as Float32Array, "predictions of the model saved again");
    expectSameBytes(readFileSync(join(again, WEIGHTS_BIN)), readFileSync(join(out, WEIGHTS_BIN)), WEIGHTS_BIN);
    tf.dispose([xs, ys]);
    initial.dispose(); loaded.model.dispose(); reloaded.model.dispose();
  });

  it("--resume continues from the last checkpoint: the same weights as one straight run", async () => {
    for (const optimizer of ["adam", "nadam", "adamax"] as const) {
      const dir = tmp(`resume-${optimizer}`);
      const opts = { data, ...SMALL, optimizer, limit: 1000, seed: 5 };
      const straight = await train({ ...opts, out: join(dir, "straight"), epochs: 3 });
      expect(straight.error).toBeUndefined();
      const first = await train({ ...opts, out: join(dir, "resumed"), epochs: 1 });
      expect(first.summary!.epochsRun).toBe(1);
      const refused = await train({ ...opts, out: join(dir, "resumed"), epochs: 3 });
      expect(refused.error?.message).toMatch(/already holds a trained model.*`resume`/);
      const rest = await train({ data, out: join(dir, "resumed"), epochs: 3, resume: true, threads: 1 });
      expect(rest.error).toBeUndefined();
      expect(rest.summary!.resumedFrom).toBe(1);
      expect(rest.summary!.epochsRun).toBe(2);
      expect(rest.summary!.rowsPerEpoch).toBe(1000);
      expectSameBytes(readFileSync(join(dir, "resumed", WEIGHTS_BIN)), readFileSync(join(dir, "straight", WEIGHTS_BIN)), "resumed weights");
      const state = JSON.parse(readFileSync(join(dir, "resumed", TRAINING_JSON), "utf8"));
      expect(state.epochsDone).toBe(3);
      expect(state.history.map((h: { loss: number }) => h.loss)).toEqual(straight.summary!.history.map((h) => h.loss));
    }
  });

  it("two threads averaging gradients train the same network as one, to rounding", async () => {
    const dir = tmp("threads");
    const opts = { data, ...SMALL, epochs: 2, seed: 2 };
    const one = await train({ ...opts, out: join(dir, "one"), threads: 1 });
    const two = await train({ ...opts, out: join(dir, "two"), threads: 2 });
    expect(two.error).toBeUndefined();
    expect(two.summary!.threads).toBe(2);
    const a = new Float32Array(readFileSync(join(dir, "one", WEIGHTS_BIN)).buffer.slice(0));
    const b = new Float32Array(readFileSync(join(dir, "two", WEIGHTS_BIN)).buffer.slice(0));
    expect(maxDiff(a, b)).toBeLessThan(1e-3);
    expect(a).not.toEqual(new Float32Array(a.length));
    two.summary!.history.forEach((h, k) => expect(Math.abs(h.loss - one.summary!.history[k].loss)).toBeLessThan(1e-4));
  });

  it("three threads, with a last batch too small to give every thread rows, still train the same network", async () => {
    const dir = tmp("threads3");
    // 162 rows: five batches of 32, then 2 rows, so the third thread's share of that step is empty
    // and it must still apply the update (the second epoch would go wrong otherwise).
    const opts = { data, ...SMALL, epochs: 2, seed: 3, limit: 162 };
    const one = await train({ ...opts, out: join(dir, "one"), threads: 1 });
    const three = await train({ ...opts, out: join(dir, "three"), threads: 3 });
    expect(three.error).toBeUndefined();
    expect(three.summary!.threads).toBe(3);
    expect(three.summary!.history.map((h) => h.rows)).toEqual([162, 162]);
    const a = new Float32Array(readFileSync(join(dir, "one", WEIGHTS_BIN)).buffer.slice(0));
    const b = new Float32Array(readFileSync(join(dir, "three", WEIGHTS_BIN)).buffer.slice(0));
    expect(maxDiff(a, b)).toBeLessThan(1e-4);
    three.summary!.history.forEach((h, k) => expect(Math.abs(h.loss - one.summary!.history[k].loss)).toBeLessThan(1e-5));
  });

  it("nothing to resume is a clear error", async () => {
    const out = join(tmp("nores"), "m");
    const r = await train({ data, out, resume: true });
    expect(r.error?.message).toBe(`${join(out, TRAINING_JSON)}: nothing to resume: no checkpoint here (train without \`resume\` first)`);
  });
});

describe("piping", () => {
  async function datasetChunks(frameRows: number) {
    const ds = await openDataset(data);
    const x = new Float32Array(readFileSync(ds.files.x.path).buffer.slice(0));
    const y = new Float32Array(readFileSync(ds.files.y.path).buffer.slice(0));
    const chunks = [];
    for (let r = 0; r < ds.rows; r += frameRows) {
      const n = Math.min(frameRows, ds.rows - r);
      chunks.push({ x: x.slice(r * 2, (r + n) * 2), y: y.slice(r * 6, (r + n) * 6) });
    }
    return chunks;
  }

  it("a row stream round-trips, and a truncated one is an error", async () => {
    const pipe = new PassThrough();
    const chunks = await datasetChunks(333);
    const writing = writeRowStream(pipe, 2, chunks).then(() => pipe.end());
    const reader = await openRowStream(pipe);
    expect(reader.header.xWidth).toBe(2);
    const got = [];
    for await (const c of reader.chunks()) got.push(c);
    await writing;
    expect(got.map((c) => c.rows)).toEqual([333, 333, 333, 333, 168]);
    expectSameBytes(got[4].y, chunks[4].y, "the last chunk's y rows");

    const cut = new PassThrough();
    const w = new RowStreamWriter(cut, 2);
    await w.append(chunks[0].x, chunks[0].y);
    cut.end();
    const r2 = await openRowStream(cut, "stdin");
    await expect((async () => { for await (const _ of r2.chunks()) { /* read */ } })()).rejects.toThrow(
      /^stdin: bad row stream \(byte \d+\): the stream ends after 333 rows without its end frame/);

    const junk = new PassThrough();
    junk.end("ply\nformat ascii 1.0\n");
    await expect(openRowStream(junk, "stdin")).rejects.toThrow(/stdin: bad row stream \(byte 0\): the first line is not JSON/);
  });

  it("training from a pipe, from files and --from-ply: the same weights", async () => {
    const dir = tmp("pipe");
    const opts = { ...SMALL, epochs: 2, seed: 11 };
    const files = await train({ data, out: join(dir, "files"), ...opts });
    expect(files.error).toBeUndefined();

    const pipe = new PassThrough();
    const writing = writeRowStream(pipe, 2, await datasetChunks(257)).then(() => pipe.end());
    const piped = await train({ data: "-", input: pipe, out: join(dir, "pipe"), ...opts });
    await writing;
    expect(piped.error).toBeUndefined();
    expect(piped.summary!.rowsPerEpoch).toBe(1500);
    expect(existsSync(join(dir, "pipe", ".spool"))).toBe(false);

    const ply = await train({ fromPly: [corpus], build: "debug", out: join(dir, "ply"), ...opts });
    expect(ply.error).toBeUndefined();

    // What `compile --stdout | train -` runs: the compile side writing into the pipe.
    const compilePipe = new PassThrough();
    const compiling = compileToRowStream({ inputs: [corpus] }, compilePipe).then((r) => { compilePipe.end(); return r; });
    const streamed = await train({ data: "-", input: compilePipe, out: join(dir, "compiled"), ...opts });
    const written = await compiling;
    expect(written.error).toBeUndefined();
    expect(written.summary).toMatchObject({ files: 3, compiled: 3, rows: 1500, failed: [] });
    expect(streamed.error).toBeUndefined();

    const weights = readFileSync(join(dir, "files", WEIGHTS_BIN));
    for (const way of ["pipe", "ply", "compiled"]) expectSameBytes(readFileSync(join(dir, way, WEIGHTS_BIN)), weights, `weights trained from ${way}`);
    expect(piped.summary!.history).toHaveLength(2);
    expect(piped.summary!.history.map((h) => h.loss)).toEqual(files.summary!.history.map((h) => h.loss));
  });
});

describe("sample and export", () => {
  let modelDir: string;
  beforeAll(async () => {
    modelDir = join(tmp("model"), "m");
    const r = await train({ data, out: modelDir, epochs: 1, ...SMALL });
    expect(r.error).toBeUndefined();
  });

  it("sample writes a binary PLY that headsnet's parser reads back with the requested points", async () => {
    const out = join(tmp("sample"), "head.ply");
    const r = await sample({ model: modelDir, out, points: 1234, seed: 4 });
    expect(r.error).toBeUndefined();
    const bytes = new Uint8Array(readFileSync(out));
    const header = parseHeader(bytes, out);
    expect(header.format).toBe("binary_little_endian");
    const layout = vertexLayout(header, out);
    expect(layout.vertexCount).toBe(1234);
    expect(layout.hasColors).toBe(true);
    expect(header.elements[0].properties.map((p) => `${p.typeName} ${p.name}`)).toEqual(
      ["float x", "float y", "float z", "uchar red", "uchar green", "uchar blue"]);
    expect(bytes.length).toBe(header.bodyOffset + 1234 * 15);

    // Point 0 is the network at (id, 0).
    const { model } = await loadModel(modelDir);
    const expected = (model.predict(tf.tensor2d([r.summary!.id, 0], [1, 2])) as tf.Tensor).dataSync();
    const view = new DataView(bytes.buffer, bytes.byteOffset + header.bodyOffset);
    expect(view.getFloat32(0, true)).toBe(expected[0]);
    expect(view.getUint8(12)).toBe(Math.round(Math.min(1, Math.max(0, expected[3])) * 255));
    model.dispose();

    const csv = join(tmp("csv"), "head.csv");
    expect((await sample({ model: modelDir, out: csv, points: 10, id: r.summary!.id })).error).toBeUndefined();
    const lines = readFileSync(csv, "utf8").trim().split("\n");
    expect(lines).toHaveLength(11);
    expect(Number(lines[1].split(",")[0])).toBe(expected[0]);
  });

  it("five-input models sample ray directions in a cone around each icosphere point", async () => {
    const dir = join(tmp("five"), "m");
    const model = buildNetwork({ inputs: 5, layers: 1, units: 8, activation: "selu", outputs: 6, seed: 1 });
    await saveModel(model, dir, { tool: "headsnet", version: "test", inputs: 5, outputs: 6, icosphere: { vertices: 42, sha256: "", source: "level 1" } });
    model.dispose();
    const out = join(tmp("five-s"), "h.ply");
    const r = await sample({ model: dir, out, points: 500, cone: 20 });
    expect(r.error).toBeUndefined();
    expect(r.summary!.inputs).toBe(5);
    expect(vertexLayout(parseHeader(new Uint8Array(readFileSync(out)), out), out).vertexCount).toBe(500);
    const rng = new Rng(1);
    for (let i = 0; i < 1000; i++) {
      const axis = [0.3, -0.5, 0.81];
      const n = Math.hypot(...axis);
      const d = coneDirection(axis[0], axis[1], axis[2], Math.cos((20 * Math.PI) / 180), rng);
      expect(Math.hypot(...d)).toBeCloseTo(1, 6);
      const cos = (d[0] * axis[0] + d[1] * axis[1] + d[2] * axis[2]) / n;
      expect(cos).toBeGreaterThanOrEqual(Math.cos((20 * Math.PI) / 180) - 1e-9);
    }
  });

  it("export --format c-header writes each unit's weights followed by its bias, per layer", async () => {
    const out = join(tmp("export"), "net.h");
    const r = await exportModel({ model: modelDir, out });
    expect(r.error).toBeUndefined();
    const text = readFileSync(out, "utf8");
    const arrays = [...text.matchAll(/static const float headsnet_layer(\d+)\[(\d+)\] = \{([^}]*)\};/g)];
    expect(arrays.map((a) => Number(a[2]))).toEqual([48 * 3, 48 * 49, 6 * 49]);
    const { model } = await loadModel(modelDir);
    model.layers.forEach((layer, k) => {
      const [kernel, bias] = layer.getWeights();
      const [inputs, units] = kernel.shape;
      const kv = kernel.dataSync(), bv = bias.dataSync();
      const values = arrays[k][3].split(",").map((s) => s.trim()).filter(Boolean).map((s) => Math.fround(parseFloat(s)));
      for (let u = 0; u < units; u++) {
        for (let i = 0; i < inputs; i++) expect(values[u * (inputs + 1) + i]).toBe(kv[i * units + u]);
        expect(values[u * (inputs + 1) + inputs]).toBe(bv[u]);
      }
    });
    model.dispose();
    expect(text).toMatch(/#define HEADSNET_INPUTS 2\n#define HEADSNET_OUTPUTS 6\n#define HEADSNET_LAYERS 3/);
  });

  it("the commands: train --json, sample, export to stdout, and usage errors", async () => {
    const run = runTrainCommand;
    const dir = tmp("cli");
    const t = await run("train", data, "-o", join(dir, "m"), "--layers", "1", "--units", "16", "--epochs", "1", "--batch", "64", "--threads", "1", "--json");
    expect(t.code).toBe(0);
    const summary = JSON.parse(t.out);
    expect(summary.ok).toBe(true);
    expect(summary.settings).toMatchObject({ layers: 1, units: 16, batch: 64, optimizer: "adam", lr: 0.003, lrSchedule: "cosine", warmup: 300 });
    expect(summary.rowsPerEpoch).toBe(1500);
    const s = await run("sample", join(dir, "m"), "-o", join(dir, "h.ply"), "--points", "77");
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/^wrote 77 points of model id /);
    expect(statSync(join(dir, "h.ply")).size).toBeGreaterThan(77 * 15);
    const e = await run("export", join(dir, "m"));
    expect(e.out).toMatch(/^\/\* Generated by headsnet/);
    const bad = await run("train", data, "-o", join(dir, "m2"), "--optimizer", "lbfgs");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/Invalid values:[\s\S]*optimizer/);
    const badLr = await run("train", data, "-o", join(dir, "m3"), "--lr", "-1");
    expect(badLr.code).toBe(2);
    expect(badLr.err).toBe("headsnet: --lr must be a positive number, got -1\nRun 'headsnet train --help' for usage.\n");
    const missing = await run("sample", join(dir, "nope"), "-o", join(dir, "x.ply"));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/nope: no such file or directory/);
    const empty = join(dir, "empty");
    mkdirSync(empty);
    const notModel = await run("sample", empty, "-o", join(dir, "s2.ply"));
    expect(notModel.code).toBe(1);
    expect(notModel.err).toMatch(/empty\/model\.json: no model\.json: not a model directory/);
  });
});

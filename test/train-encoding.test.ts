// Training with an input encoding (the default, fourier with the hat id and the radial key, and a
// cosine schedule): the model records its encoding and everything that generates from it (sample,
// eval, export, the viewer's server) uses it; threads, pipes, --from-ply, --steps and --eval-every
// work with it. The reference's [id, index] path is test/train.test.ts's.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { synthCorpus } from "../src/synth.js";
import { compile } from "../src/compile/index.js";
import { tf, initBackend } from "../src/train/backend.js";
import { loadModel, MODEL_JSON, WEIGHTS_BIN } from "../src/train/model.js";
import { train, TRAINING_JSON } from "../src/train/train.js";
import { sample } from "../src/train/sample.js";
import { exportModel } from "../src/train/export.js";
import { compileToRowStream } from "../src/train/compile-stream.js";
import { Encoder } from "../src/train/encoding.js";
import { headGrid, headInputs } from "../src/train/heads.js";
import { generateIcosphereMesh } from "../src/icosphere.js";
import { MeshKernel } from "../src/mesh/kernel.js";
import { isClosed } from "../src/mesh/metrics.js";
import { decodePng } from "../src/view/png.js";
import { startViewServer } from "../src/view/server.js";
import { runTrainCommand } from "./train-cli.js";
import { expectSameBytes } from "./bytes.js";

const TIMEOUT = 240_000;
vi.setConfig({ testTimeout: TIMEOUT, hookTimeout: TIMEOUT });

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `headsnet-enc-${name}-`));
const SMALL = { layers: 2, units: 48, batch: 32, shuffleBuffer: 400, threads: 1 };
const hasCc = spawnSync("cc", ["--version"], { stdio: "ignore" }).status === 0;

let corpus: string;
let data: string;
let model: string;

beforeAll(async () => {
  const dir = tmp("data");
  corpus = join(dir, "corpus");
  data = join(dir, "dataset");
  await synthCorpus({ out: corpus, count: 3, vertices: 500 });
  expect((await compile({ inputs: [corpus], out: data, build: "debug", workers: 1 })).error).toBeUndefined();
  await initBackend();
  model = join(tmp("model"), "m");
  const r = await train({ data, out: model, epochs: 2, ...SMALL });
  expect(r.error).toBeUndefined();
}, TIMEOUT);

const run = runTrainCommand;

describe("a model with an encoding", () => {
  it("records its encoding in model.json and training.json", () => {
    const meta = JSON.parse(readFileSync(join(model, MODEL_JSON), "utf8")).headsnet;
    const ids = JSON.parse(readFileSync(join(data, "manifest.json"), "utf8")).models.map((m: { id: number }) => Math.fround(m.id)).sort((a: number, b: number) => a - b);
    expect(meta.encoding).toMatchObject({ name: "fourier", octaves: 4, scale: 1, id: "hat", ids, key: "radial", rowWidth: 2 });
    expect(meta.inputs).toBe(3 + 3 + 24);
    const state = JSON.parse(readFileSync(join(model, TRAINING_JSON), "utf8"));
    expect(state.settings.encoding).toEqual(meta.encoding);
    expect(state.settings).toMatchObject({ lrSchedule: "cosine", lr: 0.003, warmup: 300, lrMin: 0 });
  });

  it("sample writes a closed mesh on the icosphere of --level, the reloaded network's outputs at its vertices", async () => {
    const out = join(tmp("sample"), "head.ply");
    const id = JSON.parse(readFileSync(join(data, "manifest.json"), "utf8")).models[1].id;
    const r = await sample({ model, out, level: 3, id });
    expect(r.error).toBeUndefined();
    expect(r.summary).toMatchObject({ points: 642, faces: 1280, level: 3 });
    const kernel = new MeshKernel();
    const info = kernel.loadFile(out);
    expect(info).toMatchObject({ vertices: 642, triangles: 1280, hasColors: true });
    const { positions, triangles } = kernel.arrays();
    expect(Array.from(triangles)).toEqual(Array.from(generateIcosphereMesh(3).faces));
    expect(isClosed(triangles)).toBe(true);
    // The same points as the network reloaded from disk, fed the recorded encoding at those vertices.
    const loaded = await loadModel(model);
    const encoder = new Encoder(loaded.meta.encoding!);
    const grid = headGrid(loaded.meta.encoding!, { level: 3, dir: model });
    const y = tf.tidy(() => (loaded.model.predict(tf.tensor2d(headInputs(encoder, Math.fround(id), grid), [642, encoder.width])) as tf.Tensor).dataSync());
    loaded.model.dispose();
    const expected = new Float32Array(642 * 3);
    for (let i = 0; i < 642; i++) for (let c = 0; c < 3; c++) expected[i * 3 + c] = y[i * 6 + c];
    expectSameBytes(positions, expected, "sampled vertex positions");
    // Twice: the same bytes. A point cloud and a --random head between two training ids.
    const again = join(tmp("sample2"), "head.ply");
    await sample({ model, out: again, level: 3, id });
    expectSameBytes(readFileSync(again), readFileSync(out), "a second sample");
    const cloud = await sample({ model, out: join(tmp("cloud"), "c.ply"), points: 500 });
    expect(cloud.summary).toMatchObject({ points: 500, faces: 0, level: null });
    const random = await sample({ model, out: join(tmp("rnd"), "r.ply"), random: true, seed: 3, level: 2 });
    expect(random.error).toBeUndefined();
    const b = random.summary!.between!;
    expect(random.summary!.id).toBeGreaterThanOrEqual(b.a);
    expect(random.summary!.id).toBeLessThanOrEqual(b.b);
    expect((await sample({ model, out: join(tmp("csv"), "h.csv"), level: 3 })).error?.message).toMatch(/a CSV file holds points, not triangles/);
  });

  it("eval --data: the quality table, the baselines, and the PNG grid (CLI, --json)", async () => {
    const dir = tmp("eval");
    const png = join(dir, "grid.png");
    const r = await run("eval", model, "--data", data, "--png", png, "--grid-rows", "2", "--panel-size", "64", "--json");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s).toMatchObject({ ok: true, heads: 3, points: 10242, level: 5 });
    expect(s.quality.heads).toHaveLength(3);
    for (const h of s.quality.heads) {
      expect(h.chamferL1).toBeGreaterThan(0);
      expect(h.tau).toBeGreaterThan(0);
      expect(typeof h.matched).toBe("boolean");
    }
    expect(s.baselines.floor.chamferL1).toBeLessThan(s.baselines.sphere.chamferL1);
    expect(s.baselines.sphere.matched).toBeNull();
    const image = decodePng(readFileSync(png));
    expect([image.width, image.height]).toEqual([128, 128]);
    const text = await run("eval", model, "--data", data, "--no-baselines");
    expect(text.out).toMatch(/fourier:4:1, hat id \(3 heads\), radial key/);
    expect(text.out).toMatch(/Chamfer-L1 +Chamfer-L2 +F-score@1% +colour +matched/);
    const bad = await run("eval", corpus, "--data", data);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/is not a model directory \(no model\.json\)/);
  });

  it("export: the header adds the encoding's constants and encode(); compiled with cc, it gives the network's outputs", async () => {
    const dir = tmp("export");
    const header = join(dir, "net.h");
    const r = await exportModel({ model, out: header });
    expect(r.error).toBeUndefined();
    const text = readFileSync(header, "utf8");
    expect(text).toMatch(/#define HEADSNET_ENCODING "fourier"\n#define HEADSNET_ID_WIDTH 3\n#define HEADSNET_FREQUENCIES 4/);
    expect(text).toMatch(/static void headsnet_encode\(float id, float qx, float qy, float qz, float \*in\)/);
    if (!hasCc) {
      console.warn("no C compiler (cc): the exported header is not compiled");
      return;
    }
    const id = Math.fround(JSON.parse(readFileSync(join(data, "manifest.json"), "utf8")).models[0].id);
    const q = [0.48, -0.6, 0.64];
    writeFileSync(join(dir, "main.c"), `#include <stdio.h>
#include "net.h"
static float act(float x) { return x > 0 ? 1.0507009873554805f * x : 1.0507009873554805f * 1.6732632423543772f * (expf(x) - 1.0f); }
int main(void) {
  float a[512], b[512];
  const float *w[HEADSNET_LAYERS] = {headsnet_layer0, headsnet_layer1, headsnet_layer2};
  int k, u, i;
  headsnet_encode(${id}f, ${q[0]}f, ${q[1]}f, ${q[2]}f, a);
  for (k = 0; k < HEADSNET_LAYERS; k++) {
    int n = headsnet_layer_inputs[k], m = headsnet_layer_units[k];
    for (u = 0; u < m; u++) {
      float s = w[k][u * (n + 1) + n];
      for (i = 0; i < n; i++) s += w[k][u * (n + 1) + i] * a[i];
      b[u] = k + 1 < HEADSNET_LAYERS ? act(s) : s;
    }
    for (u = 0; u < m; u++) a[u] = b[u];
  }
  for (u = 0; u < 6; u++) printf("%.9g\\n", a[u]);
  return 0;
}
`);
    const cc = spawnSync("cc", ["-O1", "-o", join(dir, "net"), join(dir, "main.c"), "-lm"], { encoding: "utf8" });
    expect(cc.status, cc.stderr).toBe(0);
    const got = spawnSync(join(dir, "net"), { encoding: "utf8" }).stdout.trim().split("\n").map(Number);
    const loaded = await loadModel(model);
    const encoder = new Encoder(loaded.meta.encoding!);
    const want = tf.tidy(() => (loaded.model.predict(tf.tensor2d(encoder.directionInputs(id, Float32Array.from(q)), [1, encoder.width])) as tf.Tensor).dataSync());
    loaded.model.dispose();
    for (let c = 0; c < 6; c++) expect(Math.abs(got[c] - want[c])).toBeLessThan(1e-4);
  });

  it("the viewer's server hands the page the rows heads.ts makes, and the grid's triangles", async () => {
    const server = await startViewServer({ input: model, data });
    try {
      const info = await (await fetch(`${server.url}api/info`)).json();
      expect(info.encoding).toMatchObject({ name: "fourier", inputs: 30 });
      expect(info.faces).toBe(20480);
      const id = 0.3125;
      const rows = new Float32Array(await (await fetch(`${server.url}api/inputs?id=${id}`)).arrayBuffer());
      const spec = JSON.parse(readFileSync(join(model, MODEL_JSON), "utf8")).headsnet.encoding;
      expectSameBytes(rows, headInputs(new Encoder(spec), Math.fround(id), headGrid(spec, { dir: model })), "/api/inputs");
      const faces = new Uint32Array(await (await fetch(`${server.url}api/faces`)).arrayBuffer());
      expect(faces).toEqual(generateIcosphereMesh(5).faces);
    } finally {
      await server.close();
    }
  });
});

describe("training with an encoding", () => {
  it("two threads train the same network as one, to rounding (hat ids, radial key, cosine schedule)", async () => {
    const dir = tmp("threads");
    const opts = { data, ...SMALL, epochs: 2, seed: 2 };
    const one = await train({ ...opts, out: join(dir, "one"), threads: 1 });
    const two = await train({ ...opts, out: join(dir, "two"), threads: 2 });
    expect(two.error).toBeUndefined();
    const a = new Float32Array(readFileSync(join(dir, "one", WEIGHTS_BIN)).buffer.slice(0));
    const b = new Float32Array(readFileSync(join(dir, "two", WEIGHTS_BIN)).buffer.slice(0));
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
    expect(d).toBeLessThan(1e-3);
    two.summary!.history.forEach((h, k) => expect(Math.abs(h.loss - one.summary!.history[k].loss)).toBeLessThan(1e-4));
  });

  it("compile --stdout | train -, --from-ply and the files, with --steps: the same weights (the stream lists the ids first)", async () => {
    const dir = tmp("pipe");
    const opts = { ...SMALL, steps: 70, seed: 11 };
    const files = await train({ data, out: join(dir, "files"), ...opts });
    expect(files.error).toBeUndefined();
    expect(files.summary!.history.map((h) => h.steps)).toEqual([47, 23]);
    const ply = await train({ fromPly: [corpus], build: "debug", out: join(dir, "ply"), ...opts });
    expect(ply.error).toBeUndefined();
    const pipe = new PassThrough();
    const compiling = compileToRowStream({ inputs: [corpus] }, pipe).then((r) => { pipe.end(); return r; });
    const streamed = await train({ data: "-", input: pipe, out: join(dir, "compiled"), ...opts });
    expect((await compiling).error).toBeUndefined();
    expect(streamed.error).toBeUndefined();
    const weights = readFileSync(join(dir, "files", WEIGHTS_BIN));
    for (const way of ["ply", "compiled"]) expectSameBytes(readFileSync(join(dir, way, WEIGHTS_BIN)), weights, `weights trained from ${way}`);
    expect(existsSync(join(dir, "compiled", ".spool"))).toBe(false);
    // --resume with a larger --steps continues the same run.
    const more = await train({ data, out: join(dir, "files"), resume: true, steps: 100, threads: 1 });
    expect(more.error).toBeUndefined();
    expect(more.summary!.history.reduce((a, h) => a + h.steps, 0)).toBe(100);
  });

  it("--eval-every evaluates as training goes, records it in training.json, and prints a line each time", async () => {
    const dir = tmp("evalevery");
    const seen: number[] = [];
    const r = await train({ data, out: join(dir, "m"), ...SMALL, steps: 60, evalEvery: 25, onEval: (e) => seen.push(e.step) });
    expect(r.error).toBeUndefined();
    expect(seen).toEqual([25, 50, 60]);
    const state = JSON.parse(readFileSync(join(dir, "m", TRAINING_JSON), "utf8"));
    expect(state.evaluations.map((e: { step: number }) => e.step)).toEqual([25, 50, 60]);
    for (const e of state.evaluations) {
      expect(e).toMatchObject({ heads: 3 });
      expect(e.chamferL1).toBeGreaterThan(0);
      expect(e.loss).toBeGreaterThan(0);
    }
    const cli = await run("train", data, "-o", join(dir, "cli"), "--layers", "1", "--units", "16", "--steps", "20", "--eval-every", "10", "--threads", "1");
    expect(cli.code).toBe(0);
    expect(cli.err).toMatch(/headsnet: step 10: loss [\d.]+, Chamfer-L1 [\d.]+ \(L2 [\d.e-]+\), F-score [\d.]+, colour [\d.]+, \d\/3 ids matched/);
    expect(cli.out).toMatch(/encoding: fourier:4:1, hat id \(3 heads\), radial key/);
    const empty = new PassThrough();
    empty.end();
    const stream = await train({ data: "-", input: empty, out: join(dir, "s"), ...SMALL, evalEvery: 5 });
    expect(stream.error?.message).toMatch(/`evalEvery` compares the heads with a compiled dataset's: pass `evalData` DIR/);
  });
});

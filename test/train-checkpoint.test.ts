// Interrupting a long training run keeps its work: checkpoints come by time as well as at each
// epoch's end, Ctrl-C saves one, and --resume continues from the very step where it stopped, to
// the same weights as a run that was never interrupted.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { synthCorpus } from "../src/synth.js";
import { compile } from "../src/compile/index.js";
import { train, TRAINING_JSON, type CheckpointInfo } from "../src/train/train.js";
import { WEIGHTS_BIN } from "../src/train/model.js";

/** Generous: real work runs here, and the machine may be busy. */
const TIMEOUT = 180_000;
vi.setConfig({ testTimeout: TIMEOUT, hookTimeout: TIMEOUT });

const BIN = fileURLToPath(new URL("../bin/headsnet.js", import.meta.url));
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `headsnet-ckpt-${name}-`));
const SMALL = { layers: 2, units: 32, batch: 32, shuffleBuffer: 300, threads: 1, limit: 1200, seed: 3 };

let data: string;
beforeAll(async () => {
  const dir = tmp("data");
  await synthCorpus({ out: join(dir, "corpus"), count: 2, vertices: 800 });
  data = join(dir, "dataset");
  expect((await compile({ inputs: [join(dir, "corpus")], out: data, build: "debug", workers: 1 })).error).toBeUndefined();
}, TIMEOUT);

describe("training checkpoints", () => {
  it("a stop within an epoch saves a checkpoint, and --resume continues from that step to the same weights", async () => {
    const dir = tmp("stop");
    const straight = await train({ data, ...SMALL, epochs: 2, out: join(dir, "straight"), checkpointSeconds: 0 });
    expect(straight.error).toBeUndefined();
    // Stop at step 20 of epoch 1 (of 38 steps).
    const stop = new AbortController();
    let steps = 0;
    const seen: CheckpointInfo[] = [];
    const first = await train({
      data, ...SMALL, epochs: 2, out: join(dir, "resumed"), checkpointSeconds: 0, signal: stop.signal,
      onStep: () => { if (++steps === 20) stop.abort(); }, onCheckpoint: (c) => seen.push(c),
    });
    expect(first.error?.code).toBe("E_INTERRUPTED");
    expect(first.error?.message).toMatch(/^interrupted at epoch 1, step 20; the model so far is saved in .*: run the same command with `resume` to continue from there$/);
    expect(seen).toEqual([{ epoch: 1, step: 20, endOfEpoch: false, loss: expect.any(Number), out: join(dir, "resumed") }]);
    const state = JSON.parse(readFileSync(join(dir, "resumed", TRAINING_JSON), "utf8"));
    expect([state.epochsDone, state.position.epoch, state.position.steps]).toEqual([0, 0, 20]);
    const rest = await train({ data, out: join(dir, "resumed"), epochs: 2, resume: true, threads: 1, checkpointSeconds: 0 });
    expect(rest.error).toBeUndefined();
    expect(readFileSync(join(dir, "resumed", WEIGHTS_BIN)).equals(readFileSync(join(dir, "straight", WEIGHTS_BIN)))).toBe(true);
    const done = JSON.parse(readFileSync(join(dir, "resumed", TRAINING_JSON), "utf8"));
    expect(done.position).toBeUndefined();
    expect(done.history.map((h: { loss: number; rows: number }) => [h.loss, h.rows])).toEqual(straight.summary!.history.map((h) => [h.loss, h.rows]));
  }, TIMEOUT);

  it("checkpoints come by time too, and change nothing about what is learned", async () => {
    const dir = tmp("time");
    const seen: CheckpointInfo[] = [];
    const straight = await train({ data, ...SMALL, epochs: 2, out: join(dir, "straight"), checkpointSeconds: 0 });
    // A checkpoint after every step that takes over a millisecond: many within each epoch.
    const r = await train({ data, ...SMALL, epochs: 2, out: join(dir, "often"), checkpointSeconds: 0.001, onCheckpoint: (c) => seen.push(c) });
    expect(r.error).toBeUndefined();
    expect(seen.filter((c) => !c.endOfEpoch).length).toBeGreaterThan(5);
    expect(seen.filter((c) => c.endOfEpoch).map((c) => c.epoch)).toEqual([1, 2]);
    // Checkpointing changes nothing about what is learned.
    expect(readFileSync(join(dir, "often", WEIGHTS_BIN)).equals(readFileSync(join(dir, "straight", WEIGHTS_BIN)))).toBe(true);
  }, TIMEOUT);

  it("a run killed (SIGKILL) between checkpoints resumes from the last one to the same weights", async () => {
    const dir = tmp("kill");
    const straight = await train({ data, ...SMALL, epochs: 2, out: join(dir, "straight"), checkpointSeconds: 0 });
    const out = join(dir, "killed");
    const child = spawn(process.execPath, [BIN, "train", data, "-o", out, "--layers", "2", "--units", "32", "--batch", "32",
      "--shuffle-buffer", "300", "-j", "1", "--limit", "1200", "--seed", "3", "--epochs", "2", "--checkpoint-every", "0.01"], { env: { ...process.env, CI: "true" } });
    let stderr = "";
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    await new Promise<void>((resolve) => child.stderr.on("data", (d) => {
      stderr += d;
      if (/checkpoint: epoch 1, step/.test(stderr)) resolve();
    }));
    child.kill("SIGKILL");
    await exited;
    const rest = await train({ data, out, epochs: 2, resume: true, threads: 1, checkpointSeconds: 0 });
    expect(rest.error).toBeUndefined();
    expect(readFileSync(join(out, WEIGHTS_BIN)).equals(readFileSync(join(dir, "straight", WEIGHTS_BIN)))).toBe(true);
    expect(rest.summary!.history.map((h) => h.loss)).toEqual(straight.summary!.history.map((h) => h.loss));
  }, TIMEOUT);

  it("the command: Ctrl-C saves a checkpoint and says how to resume (exit 130); logs get a line per checkpoint", async () => {
    const dir = tmp("cli");
    const out = join(dir, "model");
    const args = [BIN, "train", data, "-o", out, "--layers", "2", "--units", "32", "--batch", "16", "--epochs", "50", "-j", "1", "--checkpoint-every", "0.2"];
    const child = spawn(process.execPath, args, { env: { ...process.env, CI: "true" } });
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await new Promise<void>((resolve) => child.stderr.on("data", (d) => {
      stderr += d;
      // Interrupt once a checkpoint line has shown that training is under way.
      if (/checkpoint: epoch/.test(stderr)) resolve();
    }));
    child.kill("SIGINT");
    const code = await exited;
    expect(code).toBe(130);
    expect(stderr).toMatch(/^headsnet: checkpoint: epoch 1, step [\d,]+, loss [\d.e-]+ \(.*model\)$/m);
    expect(stderr).toMatch(/headsnet: stopping after this step, with a checkpoint \(press Ctrl-C again to quit at once\)\n/);
    expect(stderr).toMatch(/headsnet: interrupted at epoch \d+, step [\d,]+; the model so far is saved in .*model: run the same command with --resume to continue from there\n$/);
    expect(existsSync(join(out, TRAINING_JSON))).toBe(true);
    const state = JSON.parse(readFileSync(join(out, TRAINING_JSON), "utf8"));
    expect(state.position?.steps ?? state.epochsDone).toBeGreaterThan(0);
  }, TIMEOUT);
});

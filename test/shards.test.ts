// A corpus compiled in shards, as separate processes (as many machines would), then merged: the
// same dataset as one run over all inputs, byte for byte; shards that do not belong together, or
// one that is missing, are refused naming it.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { synthCorpus } from "../src/synth.js";
import { shardRange, parseShard } from "../src/compile/shard.js";
import { verify } from "../src/verify.js";
import { readDataset } from "../src/dataset/read.js";
import { train } from "../src/train/train.js";
import { WEIGHTS_BIN } from "../src/train/model.js";
import { rng } from "./random.js";

/** Generous: real work runs here, and the machine may be busy. */
const TIMEOUT = 180_000;
vi.setConfig({ testTimeout: TIMEOUT, hookTimeout: TIMEOUT });

const BIN = fileURLToPath(new URL("../bin/headsnet.js", import.meta.url));
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `headsnet-shards-${name}-`));
const env = { ...process.env, CI: "true", HEADSNET_CHECKPOINT_MS: "20" };

function headsnet(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...env, ...extraEnv } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run commands as separate processes at once, as an engine would. */
function together(commands: string[][]): Promise<{ code: number | null; stderr: string }[]> {
  return Promise.all(commands.map((args) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stderr }));
  })));
}

const same = (a: string, b: string, name: string) => readFileSync(join(a, name)).equals(readFileSync(join(b, name)));

describe("shard ranges", () => {
  it("are contiguous, cover every file once, and balance bytes", () => {
    const random = rng(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(random() * 60);
      const count = 1 + Math.floor(random() * 9);
      const sizes = Array.from({ length: n }, () => 1000 + Math.floor(random() * 100_000));
      let next = 0;
      const total = sizes.reduce((a, b) => a + b, 0);
      for (let k = 1; k <= count; k++) {
        const [first, end] = shardRange(sizes, { index: k, count });
        expect(first).toBe(next);
        expect(end).toBeGreaterThanOrEqual(first);
        const bytes = sizes.slice(first, end).reduce((a, b) => a + b, 0);
        // Within one file of its share.
        expect(Math.abs(bytes - total / count)).toBeLessThanOrEqual(Math.max(...sizes));
        next = end;
      }
      expect(next).toBe(n);
    }
  });

  it("--shard auto reads Slurm and Kubernetes, and says what it needs", () => {
    expect(parseShard("3/8", {})).toEqual({ index: 3, count: 8 });
    expect(parseShard("auto", { SLURM_ARRAY_TASK_ID: "4", SLURM_ARRAY_TASK_MIN: "0", SLURM_ARRAY_TASK_COUNT: "8" })).toEqual({ index: 5, count: 8 });
    expect(parseShard("auto", { SLURM_ARRAY_TASK_ID: "8", SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_COUNT: "8" })).toEqual({ index: 8, count: 8 });
    expect(parseShard("auto/6", { JOB_COMPLETION_INDEX: "0" })).toEqual({ index: 1, count: 6 });
    expect(parseShard("auto", { JOB_COMPLETION_INDEX: "5", HEADSNET_SHARDS: "6" })).toEqual({ index: 6, count: 6 });
    expect(() => parseShard("auto", { JOB_COMPLETION_INDEX: "5" })).toThrow(/HEADSNET_SHARDS .*pass --shard auto\/N|Kubernetes does not say how many/);
    expect(() => parseShard("auto", {})).toThrow(/no shard index in the environment/);
    expect(() => parseShard("9/8", {})).toThrow(/must be K\/N with 1 ≤ K ≤ N, got 9\/8/);
    expect(() => parseShard("auto/6", { JOB_COMPLETION_INDEX: "6" })).toThrow(/got 7\/6/);
  });
});

describe("compile --shard, then merge", () => {
  let corpus: string;
  let single: string;
  beforeAll(async () => {
    corpus = tmp("corpus");
    // Heads of several sizes, so that balancing by bytes matters.
    for (const [k, vertices] of [[0, 2000], [1, 6000], [2, 1500]] as const) await synthCorpus({ out: join(corpus, `part${k}`), count: 5, vertices, seed: 40 + k });
    single = tmp("single");
    expect(headsnet(["compile", corpus, "-o", single, "-q"]).code).toBe(0);
  }, TIMEOUT);

  it("N shards as separate processes merge into the single run's dataset, byte for byte (and the same for .npy)", async () => {
    const root = tmp("run");
    const shards = [1, 2, 3, 4].map((k) => join(root, `shard${k}`));
    const results = await together(shards.map((dir, k) => ["compile", corpus, "-o", dir, "--shard", `${k + 1}/4`, "-j", "1", "-q"]));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    const sizes = shards.map((d) => statSync(join(d, "train_y.dat")).size);
    expect(Math.max(...sizes) / Math.min(...sizes)).toBeLessThan(3);
    const merged = join(root, "merged");
    const m = headsnet(["merge", ...[...shards].reverse(), "-o", merged]);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/^merged 4 shards: [\d,]+ rows, 15 models in /);
    for (const name of ["train_x.dat", "train_y.dat", "manifest.json"]) expect(same(single, merged, name), name).toBe(true);
    expect(readdirSync(merged).sort()).toEqual(["manifest.json", "train_x.dat", "train_y.dat"]);

    const npySingle = join(root, "npy-single");
    expect(headsnet(["compile", corpus, "-o", npySingle, "--format", "npy", "-q"]).code).toBe(0);
    const npyShards = [1, 2].map((k) => join(root, `npy${k}`));
    for (const [k, dir] of npyShards.entries()) expect(headsnet(["compile", corpus, "-o", dir, "--format", "npy", "--shard", `${k + 1}/2`, "-q"]).code).toBe(0);
    const npyMerged = join(root, "npy-merged");
    expect(headsnet(["merge", ...npyShards, "-o", npyMerged, "-q"]).code).toBe(0);
    for (const name of ["train_x.npy", "train_y.npy", "manifest.json"]) expect(same(npySingle, npyMerged, name), name).toBe(true);
  }, TIMEOUT);

  it("a shard interrupted and resumed merges the same; a missing or foreign shard is refused, naming it", async () => {
    const root = tmp("resume");
    const shards = [1, 2, 3].map((k) => join(root, `shard${k}`));
    // Shard 2 is killed part-way, then resumed.
    const child = spawn(process.execPath, [BIN, "compile", corpus, "-o", shards[1], "--shard", "2/3", "-j", "1", "-q"], { env });
    const killed = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    const partial = join(shards[1], ".headsnet-staging", "train_y.dat");
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        try {
          if (statSync(partial).size > 24 * 4000) { clearInterval(timer); child.kill("SIGKILL"); resolve(); }
        } catch { /* not yet */ }
      }, 2);
      child.on("exit", () => { clearInterval(timer); resolve(); });
    });
    await killed;
    const resumed = headsnet(["compile", corpus, "-o", shards[1], "--shard", "2/3", "-j", "1", "--resume"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const k of [0, 2]) expect(headsnet(["compile", corpus, "-o", shards[k], "--shard", `${k + 1}/3`, "-q"]).code).toBe(0);

    const missing = headsnet(["merge", shards[0], shards[2], "-o", join(root, "m1")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^headsnet: shard 2 of 3 is missing \(given: .*shard1, .*shard3\); compile it with the same command and --shard 2\/3/);
    const twice = headsnet(["merge", shards[0], shards[1], shards[1], "-o", join(root, "m2")]);
    expect(twice.stderr).toMatch(/shard2 is shard 2 of 3, and so is .*shard2/);
    const foreign = join(root, "foreign");
    expect(headsnet(["compile", corpus, "-o", foreign, "--shard", "3/3", "--seed", "9", "-q"]).code).toBe(0);
    const mixed = headsnet(["merge", shards[0], shards[1], foreign, "-o", join(root, "m3")]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toMatch(/foreign was compiled with other options than .*shard1/);
    const notShard = headsnet(["merge", single, "-o", join(root, "m4")]);
    expect(notShard.stderr).toMatch(/is not a shard/);

    const merged = join(root, "merged");
    expect(headsnet(["merge", ...shards, "-o", merged, "-q"]).code).toBe(0);
    for (const name of ["train_x.dat", "train_y.dat", "manifest.json"]) expect(same(single, merged, name), name).toBe(true);
  }, TIMEOUT);

  it("train and verify read a merged, a linked, or a list of shard directories, all alike", async () => {
    const root = tmp("readers");
    const shards = [1, 2, 3].map((k) => join(root, `shard${k}`));
    for (const [k, dir] of shards.entries()) expect(headsnet(["compile", corpus, "-o", dir, "--shard", `${k + 1}/3`, "-q"]).code).toBe(0);
    const linked = join(root, "linked");
    const link = headsnet(["merge", ...shards, "-o", linked, "--link"]);
    expect(link.code, link.stderr).toBe(0);
    expect(readdirSync(linked)).toEqual(["manifest.json"]);
    const reports = await Promise.all([verify(single), verify(linked), verify(shards)]);
    for (const r of reports) expect(r.ok, r.problems.join("; ")).toBe(true);
    expect(reports[1].columns).toEqual(reports[0].columns);
    expect(reports[2].columns).toEqual(reports[0].columns);
    expect(headsnet(["verify", ...shards, "-q"]).code).toBe(0);
    expect(readDataset(shards).rows).toBe(readDataset(single).rows);

    const options = { layers: 1, units: 16, batch: 64, epochs: 2, threads: 1, shuffleBuffer: 500, seed: 1, limit: 20_000 };
    const weights = [];
    for (const [name, data] of [["single", single], ["linked", linked], ["list", shards]] as const) {
      const r = await train({ ...options, data, out: join(root, `model-${name}`) });
      expect(r.error).toBeUndefined();
      weights.push(readFileSync(join(root, `model-${name}`, WEIGHTS_BIN)));
    }
    expect(weights[1].equals(weights[0])).toBe(true);
    expect(weights[2].equals(weights[0])).toBe(true);
  }, TIMEOUT);
});

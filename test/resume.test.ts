// Interruption: SIGKILL at random points of a real run, or Ctrl-C, then --resume: the output is
// byte-identical to an uninterrupted run's.

import { describe, it, expect, beforeAll } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { synthCorpus } from "../src/synth.js";
import { rng } from "./random.js";

const BIN = fileURLToPath(new URL("../bin/headsnet.js", import.meta.url));
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `headsnet-resume-${name}-`));
const OUTPUTS = ["train_x.dat", "train_y.dat", "manifest.json"];
const env = { ...process.env, CI: "true", HEADSNET_CHECKPOINT_MS: "30" };
/** Generous: real work runs here, and the machine may be busy. */
const TIMEOUT = 300_000;

function compileArgs(corpus: string, out: string, ...more: string[]) {
  return [BIN, "compile", corpus, "-o", out, "-j", "1", "--quiet", "--json", ...more];
}

/**
 * Start a compile into `out` and send `signal` once its partial train_y holds `bytes` bytes
 * (a point in the run, whatever the machine's speed); resolves with its exit code and stderr.
 */
function interrupt(args: string[], out: string, bytes: number, signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string; signalled: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const partial = join(out, ".headsnet-staging", "train_y.dat");
    const timer = setInterval(() => {
      let size = 0;
      try {
        size = statSync(partial).size;
      } catch {
        return;
      }
      if (size >= bytes) {
        clearInterval(timer);
        child.kill(signal);
      }
    }, 2);
    child.on("exit", (code, sig) => {
      clearInterval(timer);
      resolve({ code, stderr, signalled: sig === signal });
    });
  });
}

describe("interrupted runs resume to byte-identical output", () => {
  let corpus: string;
  let reference: string;
  beforeAll(async () => {
    corpus = tmp("corpus");
    await synthCorpus({ out: corpus, count: 60, vertices: 5000, seed: 21 });
    reference = tmp("reference");
    const r = spawnSync(process.execPath, compileArgs(corpus, reference), { env, encoding: "utf8" });
    expect(r.status).toBe(0);
  }, TIMEOUT);

  const same = (out: string) => {
    expect(readdirSync(out).sort()).toEqual([...OUTPUTS].sort());
    for (const name of OUTPUTS) expect(readFileSync(join(out, name)).equals(readFileSync(join(reference, name)))).toBe(true);
  };

  it("SIGKILL at random points, then --resume (killed again while resuming)", async () => {
    const random = rng(2026);
    const total = statSync(join(reference, "train_y.dat")).size;
    let resumedMidway = 0;
    for (let trial = 0; trial < 4; trial++) {
      const out = tmp(`kill${trial}`);
      const at = 0.05 + random() * 0.5;
      const first = await interrupt(compileArgs(corpus, out), out, total * at, "SIGKILL");
      expect(first.signalled).toBe(true);
      expect(existsSync(join(out, "manifest.json"))).toBe(false);
      if (trial % 2 === 1) await interrupt(compileArgs(corpus, out, "--resume"), out, total * (at + 0.3), "SIGKILL");
      const done = spawnSync(process.execPath, compileArgs(corpus, out, "--resume"), { env, encoding: "utf8" });
      expect(done.stderr).toBe("");
      expect(done.status).toBe(0);
      const summary = JSON.parse(done.stdout);
      if (summary.resumedFrom?.files > 0) resumedMidway++;
      same(out);
    }
    // The kills landed mid-run: at least one resume picked up a checkpoint rather than starting over.
    expect(resumedMidway).toBeGreaterThan(0);
  }, TIMEOUT);

  it("Ctrl-C stops cleanly, says how to resume, and --resume finishes", async () => {
    const out = tmp("sigint");
    const stopped = await interrupt(compileArgs(corpus, out), out, statSync(join(reference, "train_y.dat")).size / 3, "SIGINT");
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/stopping after the files in flight/);
    expect(stopped.stderr).toMatch(/interrupted after \d+ of 60 files; the work so far is kept in .*: run the same command with --resume to finish/);
    expect(existsSync(join(out, "manifest.json"))).toBe(false);
    const done = spawnSync(process.execPath, compileArgs(corpus, out, "--resume"), { env, encoding: "utf8" });
    expect(done.status).toBe(0);
    expect(JSON.parse(done.stdout).resumedFrom.files).toBeGreaterThan(0);
    same(out);
  }, TIMEOUT);

  it("--resume refuses a run of other options, and starts afresh where nothing was interrupted", async () => {
    const out = tmp("other");
    await interrupt(compileArgs(corpus, out), out, statSync(join(reference, "train_y.dat")).size / 3, "SIGINT");
    const other = spawnSync(process.execPath, compileArgs(corpus, out, "--resume", "--seed", "7"), { env, encoding: "utf8" });
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/holds an interrupted run of other inputs or options/);
    const fresh = tmp("fresh");
    const r = spawnSync(process.execPath, compileArgs(corpus, fresh, "--resume"), { env, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).resumedFrom).toBeUndefined();
    same(fresh);
  }, TIMEOUT);
});

describe("a full disk", () => {
  it("is reported as such, and leaves nothing that looks complete", async () => {
    const corpus = tmp("disk");
    await synthCorpus({ out: corpus, count: 3, vertices: 2000, seed: 4 });
    const out = tmp("disk-out");
    // Writes to /dev/full fail with ENOSPC, as on a full disk.
    const { symlinkSync } = await import("node:fs");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(out, ".headsnet-staging"));
    symlinkSync("/dev/full", join(out, ".headsnet-staging", "train_y.dat"));
    const r = spawnSync(process.execPath, compileArgs(corpus, out), { env, encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^headsnet: cannot write .*: ENOSPC: no space left on device.*then run the same command with --resume to finish\)\n$/);
    expect(existsSync(join(out, "manifest.json"))).toBe(false);
    expect(existsSync(join(out, "train_y.dat"))).toBe(false);
    expect(existsSync(join(out, "train_x.dat"))).toBe(false);
  }, TIMEOUT);
});

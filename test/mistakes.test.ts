// A user's mistake never costs a dataset, and the command line answers every mistake the same
// way: one line naming what was wrong, the exit code the README gives, never a stack trace.
// Each test here pins a behaviour that was wrong before (issue #12).

import { describe, it, expect, beforeAll, vi } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "../src/compile/index.js";
import { verify } from "../src/verify.js";
import { synthCorpus } from "../src/synth.js";
import { assignIds, modelId } from "../src/ids.js";
import { main } from "../src/cli.js";
import type { Manifest } from "../src/dataset/format.js";

/** Generous: real work runs here, and the machine may be busy. */
const TIMEOUT = 180_000;
vi.setConfig({ testTimeout: TIMEOUT, hookTimeout: TIMEOUT });

const BIN = fileURLToPath(new URL("../bin/headsnet.js", import.meta.url));
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `headsnet-mistake-${name}-`));
const read = (dir: string, name: string) => readFileSync(join(dir, name));
const manifestOf = (dir: string): Manifest => JSON.parse(read(dir, "manifest.json").toString());

function headsnet(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd, env: { ...process.env, CI: "true" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** main() in this process, with stdout and stderr captured. */
async function cli(args: string[], extra: { stdoutIsTerminal?: boolean } = {}) {
  let out = "", err = "";
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t), ...extra });
  return { code, out, err };
}

const STACK = /\n\s+at .+:\d+:\d+/;

describe("nothing a user does loses data", () => {
  let corpus: string;
  beforeAll(async () => {
    corpus = tmp("corpus");
    await synthCorpus({ out: corpus, count: 2, vertices: 5000, seed: 11 });
  }, TIMEOUT);

  it("a finished dataset is not replaced without --overwrite, and a run that fails leaves it as it was", async () => {
    const keep = tmp("keep");
    expect((await compile({ inputs: [corpus], out: keep, build: "debug" })).summary!.rows).toBe(10_000);
    const before = ["manifest.json", "train_x.dat", "train_y.dat"].map((n) => read(keep, n));
    const unchanged = () => ["manifest.json", "train_x.dat", "train_y.dat"].every((n, k) => read(keep, n).equals(before[k]));

    const refused = await compile({ inputs: [corpus], out: keep, build: "debug" });
    expect(refused.error?.code).toBe("E_EXISTS");
    expect(refused.error?.message).toBe(`${keep} already holds a finished dataset (10,000 rows, 2 models); pass \`overwrite\` to replace it (it stays as it is until the new dataset is complete), or choose another output directory`);
    const viaCli = headsnet(["compile", corpus, "-o", keep]);
    expect(viaCli.code).toBe(2);
    expect(viaCli.stderr).toMatch(/already holds a finished dataset .*; pass --overwrite to replace it/);

    // `compile fake.ply -o keep`: nothing compiles, so there is no new dataset, and the old one stays.
    const fake = join(tmp("fake"), "fake.ply");
    writeFileSync(fake, "not a mesh at all");
    const failed = await compile({ inputs: [fake], out: keep, build: "debug", overwrite: true });
    expect(failed.error?.code).toBe("E_NO_ROWS");
    expect(failed.error?.message).toBe(`none of the 1 input file compiled, so no dataset was written (any dataset already in the output directory is unchanged). ${fake}: not a PLY file: expected "ply" on the first line, found "not a mesh at all"`);
    expect(unchanged()).toBe(true);
    expect((await verify(keep)).ok).toBe(true);
    expect(readdirSync(keep).sort()).toEqual(["manifest.json", "train_x.dat", "train_y.dat"]);

    const cliFailed = headsnet(["compile", fake, "-o", keep, "--overwrite"]);
    expect(cliFailed.code).toBe(1);
    expect(cliFailed.stderr).toMatch(/^headsnet: none of the 1 input file compiled, so no dataset was written/);
    expect(cliFailed.stdout).toBe("");
    expect(unchanged()).toBe(true);

    // With --overwrite and good inputs it is replaced, in one step at the end.
    const other = tmp("other");
    await synthCorpus({ out: other, count: 1, vertices: 3000, seed: 12 });
    expect((await compile({ inputs: [other], out: keep, build: "debug", overwrite: true })).summary!.rows).toBe(3000);
    expect(manifestOf(keep).rows).toBe(3000);
    expect(readdirSync(keep).sort()).toEqual(["manifest.json", "train_x.dat", "train_y.dat"]);
  }, TIMEOUT);

  it("files a run would replace are not overwritten either (train_x.dat without a manifest)", async () => {
    const dir = tmp("loose");
    writeFileSync(join(dir, "train_x.dat"), "precious");
    const r = await compile({ inputs: [corpus], out: dir, build: "debug" });
    expect(r.error?.code).toBe("E_EXISTS");
    expect(r.error?.message).toMatch(/already holds train_x\.dat, which this run would replace/);
    expect(read(dir, "train_x.dat").toString()).toBe("precious");
  }, TIMEOUT);

  it("two inputs with files of the same name: distinct ids and unambiguous paths", async () => {
    const root = tmp("two");
    await synthCorpus({ out: join(root, "corpA"), count: 1, vertices: 800, seed: 1 });
    await synthCorpus({ out: join(root, "corpB"), count: 1, vertices: 900, seed: 2 });
    const out = join(root, "dup");
    const r = await compile({ inputs: ["corpA", "corpB"], out, build: "debug", cwd: root });
    expect(r.error).toBeUndefined();
    const m = manifestOf(out);
    expect(m.models.map((x) => x.path)).toEqual(["corpA/head_00000.ply", "corpB/head_00000.ply"]);
    expect(m.models[0].id).not.toBe(m.models[1].id);
    expect((await verify(out)).ok).toBe(true);
    // One input: paths relative to it, as before (ids do not change for single-folder runs).
    const single = join(root, "single");
    await compile({ inputs: ["corpA"], out: single, build: "debug", cwd: root });
    expect(manifestOf(single).models.map((x) => [x.path, x.id])).toEqual([["head_00000.ply", modelId(0, "head_00000.ply")]]);
  }, TIMEOUT);

  it("float32 ids that collide are drawn again, so ids are distinct (and --ids spread spaces them evenly)", async () => {
    // Find two names whose hashed ids collide as float32 (about one pair in 2^24 draws near 1).
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let k = 0; !pair; k++) {
      const name = `head_${k}.ply`;
      const id = modelId(0, name);
      const other = seen.get(id);
      if (other !== undefined) pair = [other, name];
      seen.set(id, name);
    }
    expect(modelId(0, pair[0])).toBe(modelId(0, pair[1]));
    const ids = assignIds([...pair].sort(), 0);
    expect(new Set(ids).size).toBe(2);
    // The first by path keeps its id; the other draws again.
    expect(ids[0]).toBe(modelId(0, [...pair].sort()[0]));
    // And through a real compile.
    const dir = tmp("collide");
    const head = readFileSync(join(corpus, "head_00000.ply"));
    for (const name of pair) writeFileSync(join(dir, name), head);
    const out = tmp("collide-out");
    await compile({ inputs: [dir], out, build: "debug" });
    const m = manifestOf(out);
    expect(new Set(m.models.map((x) => x.id)).size).toBe(2);
    expect((await verify(out)).ok).toBe(true);
    const spread = tmp("spread");
    await compile({ inputs: [dir], out: spread, build: "debug", ids: "spread" });
    expect(manifestOf(spread).models.map((x) => x.id)).toEqual([0.25, 0.75]);
  }, TIMEOUT);

  it("verify fails (not warns) on shared ids", async () => {
    const out = tmp("shared-ids");
    await compile({ inputs: [corpus], out, build: "debug" });
    const m = manifestOf(out);
    m.models[1].id = m.models[0].id;
    writeFileSync(join(out, "manifest.json"), JSON.stringify(m));
    const report = await verify(out);
    expect(report.ok).toBe(false);
    expect(report.problems.join("\n")).toMatch(/models head_00000\.ply and head_00001\.ply share the id/);
  }, TIMEOUT);

  it("verify checks every row even when some files failed", async () => {
    const dir = tmp("partly");
    copyFileSync(join(corpus, "head_00000.ply"), join(dir, "a.ply"));
    writeFileSync(join(dir, "b.ply"), "broken");
    const out = tmp("partly-out");
    await compile({ inputs: [dir], out, build: "debug" });
    const report = await verify(out);
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(report.columns.x.map((c) => c.name)).toEqual(["model_id", "index_value"]);
    expect(report.columns.y[0].min).toBeLessThan(report.columns.y[0].max);
    expect(report.indicesUsed).toBeGreaterThan(100);
  }, TIMEOUT);
});

describe("a vertex the reference gives no row", () => {
  // Traced 9999 or more from every icosphere vertex: the reference's running best starts at 9999
  // with no index, so it writes no row for it. headsnet used to write index 0 there.
  const ply = (far: string) => [
    "ply", "format ascii 1.0", "element vertex 3", "property float x", "property float y", "property float z",
    "property float nx", "property float ny", "property float nz",
    "property uchar red", "property uchar green", "property uchar blue", "end_header",
    "0.1 0.2 0.3 0 0 1 10 20 30", far, "0.3 -0.2 0.1 1 0 0 40 50 60", "",
  ].join("\n");

  it("fails its file with a clear error, or with --on-nonfinite skip is left out and counted", async () => {
    const dir = tmp("far");
    writeFileSync(join(dir, "far.ply"), ply("20000 0 0 0 0 0 1 2 3"));
    const failed = await compile({ inputs: [dir], out: tmp("far-out"), build: "debug" });
    expect(failed.error?.message).toMatch(/far\.ply: vertex 1 is traced to a point 9999 or more from every icosphere vertex \(line 14, byte \d+, vertex 1\), where the reference writes no row; scale the mesh into the unit sphere \(`normalize` fit\), or pass `onNonfinite` skip/);
    const out = tmp("far-skip");
    const r = await compile({ inputs: [dir], out, build: "debug", onNonfinite: "skip" });
    expect(r.summary!.rows).toBe(2);
    expect(r.summary!.skipped.tooFar).toBe(1);
    expect(manifestOf(out).models[0].skipped).toEqual({ nonfinite: 0, outsideSphere: 0, tooFar: 1, transparent: 0 });
    const y = new Float32Array(new Uint8Array(read(out, "train_y.dat")).buffer);
    expect(Array.from(y.subarray(6, 9)).map((v) => +v.toFixed(3))).toEqual([0.3, -0.2, 0.1]);
  }, TIMEOUT);

  const hasCc = spawnSync("cc", ["--version"], { stdio: "ignore" }).status === 0;
  it.runIf(hasCc)("matches the reference (bench/c/reference.c): the same rows, without that vertex's", async () => {
    const work = tmp("far-ref");
    const bin = join(work, "reference");
    const cc = spawnSync("cc", ["-Ofast", "-march=native", "-o", bin, fileURLToPath(new URL("../bench/c/reference.c", import.meta.url)), "-lm"], { encoding: "utf8" });
    expect(cc.status, cc.stderr).toBe(0);
    const input = join(work, "in");
    mkdirSync(input);
    // An unnormalized mesh far from the sphere, and a far vertex whose normal points inwards.
    writeFileSync(join(input, "far.ply"), ply("-15000 3 2 1 0 0 1 2 3"));
    const { generateIcosphere } = await import("../src/icosphere.js");
    const table = join(work, "ico.f32");
    writeFileSync(table, new Uint8Array(generateIcosphere(5).vertices.buffer));
    const refOut = join(work, "ref");
    mkdirSync(refOut);
    const ref = spawnSync(bin, ["--id", "0.5", table, refOut, join(input, "far.ply")], { encoding: "utf8" });
    expect(ref.status, ref.stderr).toBe(0);
    expect(ref.stderr).toMatch(/1 files, 2 rows/);
    const out = join(work, "headsnet");
    const r = await compile({ inputs: [input], out, build: "debug", icosphere: table, onNonfinite: "skip" });
    expect(r.summary!.rows).toBe(2);
    expect(read(out, "train_y.dat").equals(read(refOut, "train_y.dat"))).toBe(true);
    const index = (b: Buffer) => Array.from(new Float32Array(new Uint8Array(b).buffer)).filter((_, k) => k % 2 === 1);
    expect(index(read(out, "train_x.dat"))).toEqual(index(read(refOut, "train_x.dat")));
  }, TIMEOUT);
});

describe("errors, not stack traces; one exit code per kind of outcome", () => {
  let corpus: string;
  let dataset: string;
  beforeAll(async () => {
    corpus = tmp("cli-corpus");
    await synthCorpus({ out: corpus, count: 1, vertices: 800, seed: 3 });
    dataset = tmp("cli-data");
    await compile({ inputs: [corpus], out: dataset, build: "debug", overwrite: true });
  }, TIMEOUT);

  it("-o naming an existing file is a usage error in compile, synth and train", () => {
    const file = join(tmp("file"), "a-file");
    writeFileSync(file, "x");
    for (const args of [["compile", corpus, "-o", file], ["synth", "-o", file, "-n", "1", "--vertices", "100"], ["train", dataset, "-o", file, "--epochs", "1"]]) {
      const r = headsnet(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^headsnet: ${file} is a file, not a directory; -o names the directory`));
      expect(r.stderr).not.toMatch(STACK);
    }
  }, TIMEOUT);

  it("bad values are usage errors with one line each, and every command says so the same way", () => {
    const cases: [string[], RegExp][] = [
      [["synth", "--count", "-3", "-o", tmp("s")], /--count must be a whole number of heads, 1 or more, got -3/],
      [["synth", "--count", "abc", "-o", tmp("s")], /--count must be a whole number of heads/],
      [["synth", "--vertices", "10", "-o", tmp("s")], /--vertices must be an integer from 20 to/],
      [["compile", corpus, "-o", tmp("c"), "--icosphere", "99"], /--icosphere must be a level from 0 to 9/],
      [["compile", corpus, "-o", tmp("c"), "-j", "0"], /--workers must be an integer from 1 to 256, got 0/],
      [["compile", corpus, "-o", tmp("c"), "--worker", "2"], /Unknown argument: worker \(did you mean --workers\?\)/],
      [["compil", corpus], /unknown command compil: did you mean compile\?/],
      [["sample", tmp("m"), "-o", "s.ply", "--id", "1.5"], /--id must be a model id from 0 to 1, got 1\.5/],
      [["render", corpus, "-o", "x.png", "--size", "big"], /--size must be WIDTHxHEIGHT/],
    ];
    for (const [args, message] of cases) {
      const r = headsnet(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(message);
      expect(r.stderr).toMatch(new RegExp(`Run 'headsnet ${args[0] === "compil" ? "" : `${args[0]} `}--help' for usage\\.\\n$`));
      expect(r.stderr).not.toMatch(STACK);
    }
  }, TIMEOUT);

  it("a path that does not exist reads the same in every command, on stderr, exit 2", () => {
    const missing = join(tmp("gone"), "nothing-here");
    for (const args of [["compile", missing, "-o", tmp("o")], ["verify", missing], ["inspect", missing], ["render", missing, "-o", "x.png"], ["train", missing, "-o", tmp("t")], ["sample", missing, "-o", join(tmp("s"), "s.ply")]]) {
      const r = headsnet(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(new RegExp(`^headsnet: ${missing}: no such file or directory`));
      expect(r.stdout).toBe("");
    }
  }, TIMEOUT);

  it("every command takes --help, -q and --json; --json is one envelope", async () => {
    for (const command of ["compile", "verify", "inspect", "synth", "demo", "train", "sample", "export", "view", "render"]) {
      const help = await cli([command, "--help"]);
      expect(help.code, command).toBe(0);
      expect(help.out).toMatch(/--quiet/);
      expect(help.out).toMatch(/--json/);
      expect(help.out).toMatch(/-h, --help/);
    }
    const verified = JSON.parse((await cli(["verify", dataset, "--json"])).out);
    expect(verified.ok).toBe(true);
    const bad = await cli(["verify", tmp("empty"), "--json"]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).ok).toBe(false);
    const inspected = JSON.parse((await cli(["inspect", join(corpus, "head_00000.ply"), "--json", "-q"])).out);
    expect([inspected.ok, inspected.vertices]).toEqual([true, 800]);
    const synth = await cli(["synth", "-o", tmp("js"), "-n", "1", "--vertices", "100", "--json"]);
    expect(JSON.parse(synth.out)).toMatchObject({ ok: true, files: 1, vertices: 100 });
    const usage = await cli(["compile", corpus, "-o", tmp("ju"), "-j", "0", "--json"]);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.out)).toEqual({ ok: false, error: { code: "E_USAGE", message: "--workers must be an integer from 1 to 256, got 0" } });
    const quiet = await cli(["verify", dataset, "-q"]);
    expect([quiet.code, quiet.out]).toEqual([0, ""]);
    expect((await cli(["-v"])).out).toMatch(/^\d+\.\d+\.\d+\n$/);
    const helpOf = await cli(["help", "verify"]);
    expect(helpOf.out).toMatch(/^headsnet verify <dirs\.\.>/);
  }, TIMEOUT);

  it("compile --stdout refuses a terminal, and refuses -o beside it", async () => {
    const tty = await cli(["compile", corpus, "--stdout"], { stdoutIsTerminal: true });
    expect(tty.code).toBe(2);
    expect(tty.err).toMatch(/^headsnet: --stdout writes binary rows, and stdout is a terminal/);
    const both = await cli(["compile", corpus, "--stdout", "-o", tmp("both")], { stdoutIsTerminal: false });
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/^headsnet: --stdout writes the rows to stdout and -o DIR writes a dataset: pass one of them/);
  });

  it("numbers and counts are written one way", async () => {
    const r = await cli(["inspect", join(corpus, "head_00000.ply")]);
    expect(r.out).toMatch(/^.*: [\d,]+ bytes\n/);
    expect(r.out).toMatch(/  800 vertices; normals: yes/);
    const one = await cli(["compile", corpus, "-o", tmp("one")]);
    expect(one.out).toMatch(/^compiled 1 of 1 file: 800 rows in /);
    expect(one.out).toMatch(/, 1 worker\)\n/);
  }, TIMEOUT);

  it("a resumed run says so first", async () => {
    const big = tmp("resume-corpus");
    await synthCorpus({ out: big, count: 30, vertices: 3000, seed: 4 });
    const out = tmp("resume-out");
    const controller = new AbortController();
    const first = await compile({ inputs: [big], out, workers: 1, build: "debug", signal: controller.signal, onProgress: (p) => { if (p.filesDone === 3) controller.abort(); } });
    expect(first.error?.code).toBe("E_INTERRUPTED");
    const r = await cli(["compile", big, "-o", out, "-j", "1", "--resume"]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^headsnet: resuming the interrupted run: \d+ of 30 files \([\d,]+ rows\) already done\n/);
  }, TIMEOUT);
});

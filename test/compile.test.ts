// The compile pipeline: workers, ordering, ids, outputs, manifest, verify.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync, copyFileSync, truncateSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { compile, type CompileOptions } from "../src/compile/index.js";
import { verify } from "../src/verify.js";
import { synthCorpus } from "../src/synth.js";
import { Kernel } from "../src/kernel.js";
import { generateIcosphere } from "../src/icosphere.js";
import { modelId } from "../src/ids.js";
import type { Manifest } from "../src/dataset/format.js";

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `headsnet-${name}-`));
const read = (dir: string, name: string) => readFileSync(join(dir, name));
const manifestOf = (dir: string): Manifest => JSON.parse(read(dir, "manifest.json").toString());
/** Generous: real work runs here, and the machine may be busy. */
const TIMEOUT = 180_000;
vi.setConfig({ testTimeout: TIMEOUT, hookTimeout: TIMEOUT });

async function run(options: CompileOptions) {
  const result = await compile({ build: "debug", ...options });
  if (result.error) throw result.error;
  return result.summary!;
}

describe("compile", () => {
  let corpus: string;
  beforeAll(async () => {
    corpus = tmp("corpus");
    await synthCorpus({ out: join(corpus, "a"), count: 4, vertices: 2500, seed: 1 });
    await synthCorpus({ out: join(corpus, "b", "deeper"), count: 3, vertices: 1800, seed: 2 });
  });

  it("-j1 and -j2 write byte-identical outputs, and two runs are byte-identical", async () => {
    const one = tmp("j1"), two = tmp("j2"), again = tmp("j2b");
    const s1 = await run({ inputs: [corpus], out: one, workers: 1 });
    await run({ inputs: [corpus], out: two, workers: 2 });
    await run({ inputs: [corpus], out: again, workers: 2 });
    expect(s1.rows).toBe(4 * 2500 + 3 * 1800);
    for (const name of ["train_x.dat", "train_y.dat", "manifest.json"]) {
      expect(read(one, name).equals(read(two, name))).toBe(true);
      expect(read(two, name).equals(read(again, name))).toBe(true);
    }
    expect(read(one, "train_x.dat").length).toBe(s1.rows * 8);
    expect(read(one, "train_y.dat").length).toBe(s1.rows * 24);
  }, TIMEOUT);

  // Seven files through each worker's three kernel regions: the rows of each come from the
  // region where they were computed, never from one reused before its rows were written.
  it.each([1, 2])("rows come in sorted input order, each model's rows where the manifest says (-j%i)", async (workers) => {
    const out = tmp("order");
    await run({ inputs: [corpus], out, workers, seed: 5 });
    const m = manifestOf(out);
    const paths = m.models.map((model) => model.path);
    expect(paths).toEqual(["a/head_00000.ply", "a/head_00001.ply", "a/head_00002.ply", "a/head_00003.ply",
      "b/deeper/head_00000.ply", "b/deeper/head_00001.ply", "b/deeper/head_00002.ply"]);
    const x = new Float32Array(read(out, "train_x.dat").buffer.slice(0));
    const y = new Float32Array(read(out, "train_y.dat").buffer.slice(0));
    const kernel = new Kernel(generateIcosphere(5), { build: "debug" });
    for (const model of m.models) {
      expect(model.id).toBe(modelId(5, model.path));
      const alone = kernel.compileFile(join(corpus, model.path), model.id);
      expect(alone.rows).toBe(model.rows);
      expect(Buffer.from(x.buffer, model.firstRow * 8, model.rows * 8).equals(Buffer.from(alone.x.buffer))).toBe(true);
      expect(Buffer.from(y.buffer, model.firstRow * 24, model.rows * 24).equals(Buffer.from(alone.y.buffer))).toBe(true);
    }
  }, TIMEOUT);

  // A corpus larger than memory is read around the page cache (pageCache "auto" does so then;
  // "bypass" here): read-ahead reads the files with O_DIRECT and hands their bytes to the workers.
  // The outputs and a bad file's error are the same; the files stay out of the page cache, which
  // shows that no worker read them itself. fincore counts a file's pages in memory.
  it.each(["headsnet", "voxels"] as const)("files read around the page cache and handed to the workers give the same bytes and errors (%s)", async (target) => {
    const dir = tmp("page-cache");
    await synthCorpus({ out: dir, count: 6, vertices: 20_000, seed: 3 });
    // And one smaller than a worker's first read (64 KB): a worker reads at least that much.
    await synthCorpus({ out: join(dir, "small"), count: 1, vertices: 400, seed: 4 });
    const good = readFileSync(join(dir, "head_00000.ply"));
    writeFileSync(join(dir, "head_00002.ply"), good.subarray(0, Math.floor(good.length / 3))); // truncated in its vertices
    const plys = [...readdirSync(dir).filter((n) => n.endsWith(".ply")).map((n) => join(dir, n)), join(dir, "small", "head_00000.ply")];
    expect(statSync(plys[6]).size).toBeLessThan(65536);
    const dropAll = () => {
      spawnSync("sync");
      for (const p of plys) spawnSync("dd", [`if=${p}`, "iflag=nocache", "count=0", "status=none"]);
    };
    const residentShare = (p: string) => Number(spawnSync("fincore", ["--bytes", "--noheadings", "--output", "RES", p], { encoding: "utf8" }).stdout.trim()) / statSync(p).size;
    const compileWith = async (pageCache: "use" | "bypass") => {
      dropAll();
      for (const p of plys) expect(residentShare(p)).toBe(0);
      const out = tmp(`page-cache-${pageCache}`);
      const result = await compile({ build: "debug", inputs: [dir], out, workers: 2, target, pageCache, readAhead: 4 });
      return { out, result, resident: plys.map(residentShare) };
    };
    const use = await compileWith("use");
    const bypass = await compileWith("bypass");
    // Read through the page cache, every file is there afterwards; read around it, none is.
    for (const share of use.resident) expect(share).toBeGreaterThan(0.5);
    for (const share of bypass.resident) expect(share).toBe(0);
    for (const name of ["train_x.dat", "train_y.dat", "manifest.json"]) {
      expect(read(bypass.out, name).equals(read(use.out, name))).toBe(true);
    }
    expect(bypass.result.summary!.failed).toEqual(use.result.summary!.failed);
    expect(bypass.result.summary!.bytesRead).toBe(use.result.summary!.bytesRead);
    expect(use.result.summary!.failed.map((f) => f.path)).toEqual(["head_00002.ply"]);
    expect(use.result.summary!.failed[0].message).toContain("head_00002.ply");
  }, TIMEOUT);

  it("ids are a pure function of the seed and the path under the input: adding a file changes no other id", async () => {
    const small = tmp("ids");
    for (const f of ["head_00000.ply", "head_00002.ply"]) copyFileSync(join(corpus, "a", f), join(small, f));
    const before = tmp("ids-out1"), after = tmp("ids-out2");
    await run({ inputs: [small], out: before, seed: 9 });
    copyFileSync(join(corpus, "a", "head_00001.ply"), join(small, "head_00001.ply"));
    await run({ inputs: [small], out: after, seed: 9 });
    const idsBefore = Object.fromEntries(manifestOf(before).models.map((m) => [m.path, m.id]));
    const idsAfter = Object.fromEntries(manifestOf(after).models.map((m) => [m.path, m.id]));
    expect(Object.keys(idsAfter)).toHaveLength(3);
    for (const [path, id] of Object.entries(idsBefore)) expect(idsAfter[path]).toBe(id);
    const other = tmp("ids-out3");
    await run({ inputs: [small], out: other, seed: 10 });
    expect(manifestOf(other).models[0].id).not.toBe(idsAfter["head_00000.ply"]);
    for (const id of Object.values(idsAfter)) expect(id >= 0 && id <= 1 && Math.fround(id) === id).toBe(true);
  }, TIMEOUT);

  it("the manifest describes the run; verify accepts it and reports the ranges", async () => {
    const out = tmp("manifest");
    const s = await run({ inputs: [corpus], out, inputWidth: 5, projection: "ray" });
    const m = manifestOf(out);
    expect(m).toMatchObject({
      tool: "headsnet", complete: true, format: "dat", rows: s.rows,
      options: { projection: "ray", inputs: 5, seed: 0, icosphere: "level 5" },
      icosphere: { vertices: 10242 },
      columns: { x: ["model_id", "index_value", "ray_x", "ray_y", "ray_z"], y: ["x", "y", "z", "r", "g", "b"] },
      files: { x: { name: "train_x.dat", width: 5, bytes: s.rows * 20 }, y: { name: "train_y.dat", width: 6, bytes: s.rows * 24 } },
      failed: [],
    });
    expect(m.icosphere.sha256).toMatch(/^[0-9a-f]{64}$/);
    const report = await verify(out);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.rows).toBe(s.rows);
    expect(report.columns.x[1].max).toBeLessThan(1);
    expect(report.columns.y.every((c) => c.nan === 0 && c.inf === 0)).toBe(true);
  }, TIMEOUT);

  it("--format npy writes arrays whose header and data match the .dat run", async () => {
    const dat = tmp("dat"), npy = tmp("npy");
    const s = await run({ inputs: [join(corpus, "a")], out: dat });
    await run({ inputs: [join(corpus, "a")], out: npy, format: "npy" });
    for (const [name, width] of [["train_x", 2], ["train_y", 6]] as const) {
      const bytes = read(npy, `${name}.npy`);
      expect(bytes.subarray(0, 6).toString("latin1")).toBe("\x93NUMPY");
      const headerLength = bytes.readUInt16LE(8);
      const header = bytes.subarray(10, 10 + headerLength).toString("latin1");
      expect(header).toContain(`'descr': '<f4'`);
      expect(header).toContain(`'shape': (${s.rows}, ${width})`);
      expect((10 + headerLength) % 64).toBe(0);
      expect(bytes.subarray(10 + headerLength).equals(read(dat, `${name}.dat`))).toBe(true);
    }
    expect((await verify(npy)).ok).toBe(true);
  }, TIMEOUT);

  const hasNumpy = spawnSync("python3", ["-c", "import numpy"]).status === 0;
  it.runIf(hasNumpy)("numpy reads both formats: numpy.fromfile for .dat, numpy.load for .npy", async () => {
    const dat = tmp("np-dat"), npy = tmp("np-npy");
    const s = await run({ inputs: [join(corpus, "b")], out: dat });
    await run({ inputs: [join(corpus, "b")], out: npy, format: "npy" });
    const script = `
import numpy, json, sys
d, n = sys.argv[1], sys.argv[2]
x = numpy.fromfile(d + "/train_x.dat", dtype="<f4").reshape(-1, 2)
y = numpy.fromfile(d + "/train_y.dat", dtype="<f4").reshape(-1, 6)
lx, ly = numpy.load(n + "/train_x.npy"), numpy.load(n + "/train_y.npy")
print(json.dumps({"rows": int(x.shape[0]), "same": bool((x == lx).all() and (y == ly).all()), "shape": list(ly.shape), "finite": bool(numpy.isfinite(y).all())}))`;
    const result = spawnSync("python3", ["-c", script, dat, npy], { encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({ rows: s.rows, same: true, shape: [s.rows, 6], finite: true });
  }, TIMEOUT);

  it("a bad file fails alone: the others compile, the manifest records it, verify flags it", async () => {
    const dir = tmp("bad");
    copyFileSync(join(corpus, "a", "head_00000.ply"), join(dir, "good.ply"));
    writeFileSync(join(dir, "notes.ply"), "this is not a mesh\n");
    const bytes = read(join(corpus, "a"), "head_00001.ply");
    writeFileSync(join(dir, "short.ply"), bytes.subarray(0, 2000));
    const out = tmp("bad-out");
    const s = await run({ inputs: [dir], out });
    expect(s.compiled).toBe(1);
    expect(s.failed.map((f) => f.path).sort()).toEqual(["notes.ply", "short.ply"]);
    expect(s.failed.find((f) => f.path === "notes.ply")!.message).toMatch(/notes\.ply: not a PLY file/);
    expect(s.failed.find((f) => f.path === "short.ply")!.message).toMatch(/short\.ply: the file ends early \(byte \d+, vertex \d+\)/);
    expect(manifestOf(out).failed).toHaveLength(2);
    expect(s.rows).toBe(2500);
    const report = await verify(out);
    expect(report.ok).toBe(false);
    expect(report.problems.join("\n")).toMatch(/short\.ply failed to compile/);
  }, TIMEOUT);

  it("verify finds files that do not match their manifest", async () => {
    const out = tmp("tamper");
    await run({ inputs: [join(corpus, "a")], out });
    expect((await verify(out)).ok).toBe(true);
    truncateSync(join(out, "train_y.dat"), 1000);
    const report = await verify(out);
    expect(report.ok).toBe(false);
    expect(report.problems.join("\n")).toMatch(/train_y\.dat: has 1000 bytes, but the manifest's 10000 rows of 6 float32 need 240000/);
    const nan = tmp("nan");
    await run({ inputs: [join(corpus, "a")], out: nan });
    const y = read(nan, "train_y.dat");
    y.writeFloatLE(NaN, 24 * 7 + 4);
    writeFileSync(join(nan, "train_y.dat"), y);
    expect((await verify(nan)).problems.join("\n")).toMatch(/column y has 1 NaN/);
    const empty = tmp("empty");
    expect((await verify(empty)).problems[0]).toMatch(/no manifest\.json: not a finished headsnet dataset/);
  }, TIMEOUT);

  it("while a run is under way, a finished dataset in its directory stays as it was until the new one replaces it", async () => {
    const out = tmp("rerun");
    await run({ inputs: [join(corpus, "a")], out });
    const before = ["manifest.json", "train_x.dat", "train_y.dat"].map((n) => read(out, n));
    let during: { staged: boolean[]; unchanged: boolean; ok: boolean } | undefined;
    let checked: Promise<void> | undefined;
    await run({
      inputs: [join(corpus, "b")], out, workers: 1, overwrite: true,
      onProgress: () => {
        checked ??= verify(out).then((report) => {
          during = {
            staged: ["train_x.dat", "train_y.dat", "manifest.json"].map((n) => existsSync(join(out, ".headsnet-staging", n))),
            unchanged: ["manifest.json", "train_x.dat", "train_y.dat"].every((n, k) => read(out, n).equals(before[k])),
            ok: report.ok,
          };
        });
      },
    });
    await checked;
    expect(during).toEqual({ staged: [true, true, false], unchanged: true, ok: true });
    expect(readdirSync(out).sort()).toEqual(["manifest.json", "train_x.dat", "train_y.dat"]);
    expect(manifestOf(out).models.map((m) => m.path)).toEqual(["deeper/head_00000.ply", "deeper/head_00001.ply", "deeper/head_00002.ply"]);
    // A run refused before it starts leaves the earlier output as it was.
    mkdirSync(join(out, "empty"));
    const refused = await compile({ inputs: [join(out, "empty")], out, build: "debug" });
    expect(refused.error?.code).toBe("E_NO_INPUTS");
    expect((await verify(out)).ok).toBe(true);
  }, TIMEOUT);

  it("missing inputs and bad options are errors, not exceptions", async () => {
    expect((await compile({ inputs: ["/no/such/dir"], out: tmp("x") })).error?.message).toBe("/no/such/dir: no such file or directory (pass existing .ply files or directories)");
    expect((await compile({ inputs: [corpus], out: tmp("x"), workers: 0 })).error?.code).toBe("E_USAGE");
    const pageCache = (await compile({ inputs: [corpus], out: tmp("x"), pageCache: "never" as "use" })).error;
    expect(pageCache?.code).toBe("E_USAGE");
    expect(pageCache?.message).toContain("never");
    expect((await compile({ inputs: [corpus], out: tmp("x"), icosphere: "/no/table.f32" })).error?.code).toBe("E_ICOSPHERE");
  });
});

describe("ray projection", () => {
  it("traces every vertex inside the sphere to a point on it, within 1e-6", async () => {
    const kernel = new Kernel(generateIcosphere(5), { build: "debug" });
    const dir = tmp("ray");
    const { files } = await synthCorpus({ out: dir, count: 3, vertices: 4000, seed: 3 });
    let traced = 0;
    let worst = 0;
    for (const file of files) {
      const out = kernel.compileFile(file, 0, { inputs: 5, projection: "ray" });
      for (let r = 0; r < out.rows; r++) {
        const v = out.y.subarray(6 * r, 6 * r + 3);
        const n = [-out.x[5 * r + 2], -out.x[5 * r + 3], -out.x[5 * r + 4]];
        const p = kernel.trace(v, n, "ray");
        if (typeof p === "number") throw new Error(`status ${p}`);
        worst = Math.max(worst, Math.abs(Math.hypot(p[0], p[1], p[2]) - 1));
        // The hit lies on the ray: p - v is parallel to n and t >= 0.
        const t = (p[0] - v[0]) * n[0] + (p[1] - v[1]) * n[1] + (p[2] - v[2]) * n[2];
        expect(t).toBeGreaterThanOrEqual(-1e-6);
        expect(out.x[5 * r + 1]).toBe(Math.fround(Math.fround(3 * kernel.nearestBrute(p[0], p[1], p[2])) * Math.fround(1 / 30726)));
        traced++;
      }
    }
    expect(traced).toBe(12000);
    expect(worst).toBeLessThan(1e-6);
  }, TIMEOUT);

  it("in ray mode a vertex outside the sphere or without a normal is a clear error", () => {
    const kernel = new Kernel(generateIcosphere(2), { build: "debug" });
    expect(kernel.trace([1.5, 0, 0], [1, 0, 0], "ray")).not.toBeInstanceOf(Float32Array);
    expect(kernel.trace([0.5, 0, 0], [0, 0, 0], "ray")).not.toBeInstanceOf(Float32Array);
    const inside = kernel.trace([0.5, 0, 0], [0, 2, 0], "ray") as Float32Array;
    expect(Math.hypot(...inside)).toBeCloseTo(1, 6);
  });
});

// Every kind of bad input: a clear error naming the file, what was expected and where; the run
// goes on with the other files; the manifest lists the failure; --strict stops and leaves nothing.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile, type CompileOptions } from "../src/compile/index.js";
import { PACKAGE_ROOT } from "../src/package.js";
import { synthCorpus, synthHead } from "../src/synth.js";
import { writePly } from "../src/ply-write.js";
import type { Manifest } from "../src/dataset/format.js";

/** Generous: real work runs here, and the machine may be busy. */
const TIMEOUT = 180_000;
vi.setConfig({ testTimeout: TIMEOUT, hookTimeout: TIMEOUT });

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `headsnet-bad-${name}-`));
const GOOD_ROWS = 1200;

let good: Buffer;
beforeAll(async () => {
  const dir = tmp("good");
  const { files } = await synthCorpus({ out: dir, count: 1, vertices: GOOD_ROWS, seed: 3 });
  good = readFileSync(files[0]);
});

/** Compile a directory holding a good head and `name` with `bytes`; return the failure message. */
async function failureOf(name: string, bytes: Uint8Array | string, options: Partial<CompileOptions> = {}): Promise<{ message: string; manifest: Manifest; rows: number }> {
  const dir = tmp("in");
  writeFileSync(join(dir, "a_good.ply"), good);
  writeFileSync(join(dir, name), bytes);
  const out = tmp("out");
  const result = await compile({ inputs: [dir], out, build: "debug", workers: 1, cwd: dir, ...options });
  if (result.error) throw result.error;
  const manifest: Manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
  // The good file beside the bad one was compiled.
  expect(manifest.models.map((m) => m.path)).toEqual(["a_good.ply"]);
  expect(manifest.models[0].rows).toBe(GOOD_ROWS);
  expect(result.summary!.failed).toHaveLength(1);
  expect(manifest.failed[0].path).toBe(name);
  return { message: manifest.failed[0].message, manifest, rows: result.summary!.rows };
}

const header = (lines: string[]) => lines.join("\n") + "\n";
const ASCII_HEAD = ["ply", "format ascii 1.0", "element vertex 2", "property float x", "property float y", "property float z",
  "property float nx", "property float ny", "property float nz", "property uchar red", "property uchar green", "property uchar blue", "end_header"];

describe("bad input", () => {
  it("not a PLY", async () => {
    expect((await failureOf("b.ply", "OFF\n3 1 0\n")).message).toBe('b.ply: not a PLY file: expected "ply" on the first line, found "OFF"');
  });

  it("an empty file", async () => {
    expect((await failureOf("b.ply", "")).message).toBe('b.ply: the file is empty; expected a PLY file starting with "ply"');
  });

  it("an unknown format or version", async () => {
    expect((await failureOf("b.ply", header(["ply", "format binary_pdp_endian 1.0", "end_header"]))).message)
      .toMatch(/^b\.ply: bad PLY header \(line 2\): unknown format "format binary_pdp_endian 1\.0"; expected/);
    expect((await failureOf("b.ply", header(["ply", "format ascii 1.1", "end_header"]))).message).toBe("b.ply: bad PLY header (line 2): unsupported PLY version 1.1; expected 1.0");
  });

  it("a header that never ends, or is absurdly long", async () => {
    expect((await failureOf("b.ply", "ply\nformat ascii 1.0\nelement vertex 3\n")).message).toMatch(/^b\.ply: bad PLY header: no end_header line before the end of the file/);
    const long = Buffer.alloc(3 << 20, "comment padding\n");
    long.write("ply\nformat ascii 1.0\n");
    expect((await failureOf("b.ply", long)).message).toBe("b.ply: bad PLY header: no end_header line in the first 1048576 bytes");
  });

  it("missing x y z", async () => {
    expect((await failureOf("b.ply", header(["ply", "format ascii 1.0", "element vertex 1", "property float x", "property float y", "end_header", "1 2"]))).message)
      .toBe("b.ply: the vertex element has no z property; positions are required");
  });

  it("normals the file lacks, when told to use the file's, or faces it lacks, when told to compute them", async () => {
    const cloud = header(["ply", "format ascii 1.0", "element vertex 1", "property float x", "property float y", "property float z",
      "property uchar red", "property uchar green", "property uchar blue", "end_header", "0.1 0.2 0.3 1 2 3"]);
    expect((await failureOf("b.ply", cloud, { normals: "file" })).message).toBe("b.ply: `normals` file needs nx, ny, nz vertex properties, and the file has none");
    expect((await failureOf("b.ply", cloud, { normals: "compute" })).message).toBe("b.ply: `normals` compute needs a face element with a vertex_indices list, and the file has none");
  });

  it("no colours, unless --default-color", async () => {
    const bytes = header(["ply", "format ascii 1.0", "element vertex 1", "property float x", "property float y", "property float z",
      "property float nx", "property float ny", "property float nz", "end_header", "0.1 0.2 0.3 0 0 1"]);
    expect((await failureOf("b.ply", bytes)).message).toMatch(/^b\.ply: the vertex element has no red, green, blue colours; pass `defaultColor` R,G,B/);
    const dir = tmp("colour");
    writeFileSync(join(dir, "b.ply"), bytes);
    const out = tmp("colour-out");
    const ok = await compile({ inputs: [dir], out, build: "debug", defaultColor: [0.25, 0.5, 1] });
    expect(ok.summary!.failed).toEqual([]);
    const y = new Float32Array(new Uint8Array(readFileSync(join(out, "train_y.dat"))).buffer);
    expect(Array.from(y.subarray(3, 6))).toEqual([0.25, 0.5, 1]);
  });

  it("a body shorter than the header promises", async () => {
    const cut = good.subarray(0, good.indexOf("end_header") + 11 + 28 * 500 + 13);
    expect((await failureOf("b.ply", cut)).message).toMatch(/^b\.ply: the file ends early \(byte \d+, vertex 500\): the header promises 1200 vertices/);
    expect((await failureOf("b.ply", header(ASCII_HEAD) + "0.1 0.2 0.3 0 0 1 255 0 0\n0.1 0.2 0.3 0 0 1 255")).message)
      .toMatch(/^b\.ply: the file ends early \(line 15, byte \d+, vertex 1\): the header promises 2 vertices/);
  });

  it("a count far beyond the file's size: no giant allocation, no hang (the test's timeout would catch one)", async () => {
    const bytes = Buffer.from(good);
    const at = bytes.indexOf("element vertex 1200");
    const huge = Buffer.concat([bytes.subarray(0, at), Buffer.from("element vertex 2000000000"), bytes.subarray(at + "element vertex 1200".length)]);
    expect((await failureOf("b.ply", huge)).message)
      .toMatch(/^b\.ply: the file ends early \(byte \d+, vertex \d+\): the header promises 2000000000 vertices/);
    const ascii = header(ASCII_HEAD).replace("element vertex 2", "element vertex 2000000000") + "0.1 0.2 0.3 0 0 1 255 0 0\n";
    expect((await failureOf("b.ply", ascii)).message)
      .toBe("b.ply: the file ends early: the header promises 2000000000 vertices, which need at least 36000000000 bytes, but the body from byte 223 has 26");
  });

  it("a non-number in an ASCII body", async () => {
    const bytes = header(ASCII_HEAD) + "0.1 0.2 0.3 0 0 1 255 0 0\n0.1 zero 0.3 0 0 1 255 0 0\n";
    expect((await failureOf("b.ply", bytes)).message).toMatch(/^b\.ply: expected a number \(line 15, byte \d+, vertex 1\), found "zero"/);
  });

  it("face indices out of range", async () => {
    const mesh = synthHead({ vertices: 300, seed: 1 });
    mesh.faces[40] = 300;
    const n = 300;
    const bytes = writePly({
      format: "binary_little_endian",
      elements: [
        { name: "vertex", count: n, properties: ["x", "y", "z", "red", "green", "blue"].map((name, k) => ({ name, type: k < 3 ? "float" : "uchar", data: Float64Array.from({ length: n }, (_, i) => (k < 3 ? mesh.positions[3 * i + k] : 9)) })) },
        { name: "face", count: mesh.faces.length / 3, properties: [{ name: "vertex_indices", countType: "uchar", itemType: "int", data: Array.from({ length: mesh.faces.length / 3 }, (_, f) => mesh.faces.subarray(3 * f, 3 * f + 3)) }] },
      ],
    });
    expect((await failureOf("b.ply", bytes)).message).toMatch(/^b\.ply: face 13 refers to a vertex that does not exist \(byte \d+, vertex 13\)/);
  });

  it("non-finite values fail by default; --on-nonfinite skip counts them and keeps NaN out", async () => {
    const bytes = header(ASCII_HEAD) + "0.1 0.2 0.3 0 0 1 255 0 0\nnan 0.2 0.3 0 0 1 255 0 0\n";
    expect((await failureOf("b.ply", bytes)).message).toMatch(/^b\.ply: vertex 1 has a NaN or infinite position, normal or colour \(line 14, byte \d+, vertex 1\)/);
    const dir = tmp("nan");
    writeFileSync(join(dir, "b.ply"), bytes);
    writeFileSync(join(dir, "c.ply"), header(ASCII_HEAD) + "inf 0.2 0.3 0 0 1 255 0 0\n0.1 0.2 0.3 0 1e400 1 255 0 0\n");
    const out = tmp("nan-out");
    const result = await compile({ inputs: [dir], out, build: "debug", onNonfinite: "skip" });
    expect(result.summary!.failed).toEqual([]);
    expect(result.summary!.rows).toBe(1);
    expect(result.summary!.skipped).toEqual({ nonfinite: 3, outsideSphere: 0, tooFar: 0, transparent: 0 });
    const manifest: Manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.models.map((m) => [m.path, m.rows, m.vertices, m.skipped])).toEqual([
      ["b.ply", 1, 2, { nonfinite: 1, outsideSphere: 0, tooFar: 0, transparent: 0 }],
      ["c.ply", 0, 2, { nonfinite: 2, outsideSphere: 0, tooFar: 0, transparent: 0 }],
    ]);
    const y = new Float32Array(new Uint8Array(readFileSync(join(out, "train_y.dat"))).buffer);
    expect(y.every(Number.isFinite)).toBe(true);
  });

  it("in ray mode, vertices outside the unit sphere fail the file or are skipped and counted", async () => {
    const bytes = header(ASCII_HEAD) + "0.1 0.2 0.3 0 0 1 255 0 0\n1.5 0.2 0.3 1 0 0 255 0 0\n";
    expect((await failureOf("b.ply", bytes, { projection: "ray" })).message)
      .toMatch(/^b\.ply: vertex 1 lies outside the unit sphere \(line 14, byte \d+, vertex 1\); `projection` ray traces from inside it/);
    const dir = tmp("ray");
    writeFileSync(join(dir, "b.ply"), bytes);
    const result = await compile({ inputs: [dir], out: tmp("ray-out"), build: "debug", projection: "ray", onNonfinite: "skip" });
    expect(result.summary!.rows).toBe(1);
    expect(result.summary!.skipped).toEqual({ nonfinite: 0, outsideSphere: 1, tooFar: 0, transparent: 0 });
  });

  it("an unreadable file", async () => {
    const dir = tmp("gone");
    for (let i = 0; i < 8; i++) writeFileSync(join(dir, `h${i}.ply`), good);
    const out = tmp("gone-out");
    // The last file disappears after the run has listed it, before a worker opens it.
    const result = await compile({
      inputs: [dir], out, build: "debug", workers: 1, cwd: dir,
      onProgress: (p) => { if (p.filesDone === 1) rmSync(join(dir, "h7.ply")); },
    });
    expect(result.summary!.compiled).toBe(7);
    expect(result.summary!.failed[0].message).toMatch(/h7\.ply: cannot read the file: ENOENT/);
  });

  it("--strict stops at the first failure and leaves no output that looks complete", async () => {
    const dir = tmp("strict");
    writeFileSync(join(dir, "a_good.ply"), good);
    writeFileSync(join(dir, "b.ply"), "not a mesh");
    writeFileSync(join(dir, "c_good.ply"), good);
    const out = tmp("strict-out");
    const result = await compile({ inputs: [dir], out, build: "debug", strict: true, cwd: dir });
    expect(result.error?.message).toBe('b.ply: not a PLY file: expected "ply" on the first line, found "not a mesh" (`strict`: stopped; no output was written)');
    expect(readdirSync(out)).toEqual([]);
    expect(existsSync(join(out, "manifest.json"))).toBe(false);
  });

  it("a worker that crashes fails its file only: the pool goes on", async () => {
    const dir = tmp("crash");
    for (const name of ["a.ply", "b_crash.ply", "c.ply", "d.ply"]) writeFileSync(join(dir, name), good);
    // headsnet's own worker, except that its thread dies on one file.
    const workerFile = join(dir, "crashing-worker.cjs");
    writeFileSync(workerFile, `const real = require(${JSON.stringify(join(PACKAGE_ROOT, "dist", "src", "worker.bundle.cjs"))});
module.exports = (task) => { if (task.label.endsWith("b_crash.ply")) process.exit(70); return real.default(task); };`);
    const result = await compile({ inputs: [dir], out: tmp("crash-out"), build: "debug", workers: 2, cwd: dir, workerFile });
    expect(result.error).toBeUndefined();
    expect(result.summary!.compiled).toBe(3);
    expect(result.summary!.failed.map((f) => f.path)).toEqual(["b_crash.ply"]);
    expect(result.summary!.failed[0].message).toMatch(/^b_crash\.ply: the worker compiling this file failed: /);
  });
});

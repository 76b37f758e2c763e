// The inputs users have (issue #12 §4): point clouds (x y z only), 3D Gaussian splat files
// (what identity-field head models export) and meshes outside the unit sphere, through compile,
// inspect, render and view.

import { describe, it, expect, beforeAll, afterAll, beforeEach, vi } from "vitest";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { launchChromium, skipBrowserTests } from "./browser.js";
import { synthHead, meshToBlenderPly, type SynthMesh } from "../src/synth.js";
import { writePly, type PlyFormat } from "../src/ply-write.js";
import { Kernel } from "../src/kernel.js";
import { generateIcosphere } from "../src/icosphere.js";
import { compile } from "../src/compile/index.js";
import { inspect } from "../src/inspect.js";
import { render } from "../src/view/render.js";
import { startViewServer, type ViewServer } from "../src/view/server.js";
import { decodePng, countNonBackground, type RgbImage } from "../src/view/png.js";
import { BACKGROUND } from "../src/view/raster.js";
import { main } from "../src/cli.js";
import { setMessageStyle } from "../src/errors.js";
import type { Manifest } from "../src/dataset/format.js";

/** Generous: real work runs here, and the machine may be busy. */
const TIMEOUT = 180_000;
vi.setConfig({ testTimeout: TIMEOUT, hookTimeout: TIMEOUT });

const BIN = fileURLToPath(new URL("../bin/headsnet.js", import.meta.url));
const VERTICES = 4000;

/** Each splat's opacity, by vertex number modulo 5; the file holds their logits. */
const OPACITY = [0.05, 0.3, 0.5, 0.7, 0.95];
const logit = (p: number) => Math.log(p / (1 - p));
/** Splats below 0.4: vertex numbers 0 and 1 modulo 5. */
const transparentBelow04 = (n: number) => Array.from({ length: n }, (_, i) => i % 5 < 2).filter(Boolean).length;

/** The 3DGS DC constant as float32, and the colour of a DC term, written out here on purpose. */
const C0 = Math.fround(0.28209479);
const expectedColor = (dc: number) => Math.min(1, Math.max(0, Math.fround(0.5 + Math.fround(C0 * Math.fround(dc)))));

let root: string;
let mesh: SynthMesh;
const files = { mesh: "", cloud: "", splats: "", big: "" };

const tmp = (name: string) => mkdtempSync(join(root, `${name}-`));

/** The f_dc terms of splat i: special values on vertices 0 and 1 mod 7, else the head's colours. */
function dcOf(m: SynthMesh, i: number, k: number): number {
  if (i % 7 === 0) return [0, 10, -10][k];
  if (i % 7 === 1) return [1, -1, 0.3][k];
  return Math.fround((m.colors[4 * i + k] / 255 - 0.5) / C0);
}

/** A 3D Gaussian splat file in the 3DGS layout (62 float properties), from a synthesized head. */
function splatPly(m: SynthMesh, format: PlyFormat = "binary_little_endian", change?: (name: string, i: number, v: number) => number): Uint8Array {
  const n = m.positions.length / 3;
  const column = (name: string, value: (i: number) => number) =>
    ({ name, type: "float", data: Float32Array.from({ length: n }, (_, i) => (change ? change(name, i, value(i)) : value(i))) });
  return writePly({
    format,
    comments: ["3D Gaussian splats, synthesized for headsnet's tests"],
    elements: [{
      name: "vertex",
      count: n,
      properties: [
        ...["x", "y", "z"].map((name, k) => column(name, (i) => m.positions[3 * i + k])),
        ...["nx", "ny", "nz"].map((name) => column(name, () => 0)),
        ...[0, 1, 2].map((k) => column(`f_dc_${k}`, (i) => dcOf(m, i, k))),
        ...Array.from({ length: 45 }, (_, k) => column(`f_rest_${k}`, (i) => ((i + k) % 9) * 0.01 - 0.04)),
        column("opacity", (i) => logit(OPACITY[i % 5])),
        ...[0, 1, 2].map((k) => column(`scale_${k}`, () => -4.5 - 0.1 * k)),
        ...[0, 1, 2, 3].map((k) => column(`rot_${k}`, () => (k === 0 ? 1 : 0))),
      ],
    }],
  });
}

/** The head's positions only: a point cloud as a scan (or `headsnet sample`) gives it. */
function cloudPly(m: SynthMesh): Uint8Array {
  const n = m.positions.length / 3;
  return writePly({
    format: "binary_little_endian",
    elements: [{ name: "vertex", count: n, properties: ["x", "y", "z"].map((name, k) => ({ name, type: "float", data: Float32Array.from({ length: n }, (_, i) => m.positions[3 * i + k]) })) }],
  });
}

async function cli(...argv: string[]) {
  let out = "", err = "";
  const code = await main(argv, { out: (t) => { out += t; }, err: (t) => { err += t; } });
  return { code, out, err };
}

function png(file: string): RgbImage {
  return decodePng(readFileSync(file));
}

/** Pixels that are not the background. */
function mask(image: RgbImage): Uint8Array {
  const m = new Uint8Array(image.width * image.height);
  for (let p = 0; p < m.length; p++) {
    m[p] = image.data[p * 3] !== BACKGROUND[0] || image.data[p * 3 + 1] !== BACKGROUND[1] || image.data[p * 3 + 2] !== BACKGROUND[2] ? 1 : 0;
  }
  return m;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "headsnet-inputs-"));
  mesh = synthHead({ vertices: VERTICES, seed: 7 });
  const write = (name: string, bytes: Uint8Array) => {
    const path = join(root, name);
    writeFileSync(path, bytes);
    return path;
  };
  files.mesh = write("mesh.ply", meshToBlenderPly(mesh));
  files.cloud = write("cloud.ply", cloudPly(mesh));
  files.splats = write("splats.ply", splatPly(mesh));
  files.big = write("big.ply", meshToBlenderPly({ ...mesh, positions: mesh.positions.map((v) => v * 50) }));
}, TIMEOUT);

// The command line names options by their flags from the moment it starts; the API by their names.
beforeEach(() => setMessageStyle("api"));

describe("point clouds (x y z only)", () => {
  it("inspect reports a point cloud, not normals 'computed from the faces', and what compile does with it", async () => {
    const r = inspect(files.cloud);
    expect(r.error).toBeUndefined();
    expect(r.kind).toBe("point cloud");
    expect(r.compile).toMatchObject({ rows: VERTICES, normals: "none" });
    expect(r.notes).toEqual([expect.stringMatching(/^a point cloud \(no normals, no faces\): the legacy step keeps each point where it is/)]);
    expect(inspect(files.cloud, { projection: "ray" }).notes).toEqual([expect.stringMatching(/ray traces each point straight out from the centre/)]);
    // A mesh is not a point cloud.
    expect(inspect(files.mesh)).toMatchObject({ kind: "mesh", notes: [], warnings: [] });

    const text = await cli("inspect", files.cloud);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/4,000 vertices; normals: no; colours: no \(compile needs --default-color\)/);
    expect(text.out).not.toMatch(/computed from the faces/);
    expect(text.out).toMatch(/a point cloud \(no normals, no faces\): the legacy step keeps each point where it is, as the reference does with zero normals \(--projection ray traces/);
  }, TIMEOUT);

  it("render draws a point cloud as splats: the head, covering what its mesh covers, not a few pixels", async () => {
    const size = { width: 320, height: 240, view: "front" as const };
    const meshPng = join(root, "mesh.png"), cloudPng = join(root, "cloud.png"), whitePng = join(root, "cloud-white.png");
    expect((await render({ input: files.mesh, out: meshPng, ...size })).error).toBeUndefined();
    const r = await render({ input: files.cloud, out: cloudPng, ...size, defaultColor: [0.8, 0.6, 0.5] });
    expect(r.error).toBeUndefined();
    expect(r.summary!.panels).toEqual([{ label: files.cloud, points: VERTICES, faces: 0 }]);
    const a = mask(png(meshPng)), b = mask(png(cloudPng));
    let both = 0, either = 0, covered = 0, meshCovered = 0;
    for (let p = 0; p < a.length; p++) {
      both += a[p] & b[p];
      either += a[p] | b[p];
      covered += b[p];
      meshCovered += a[p];
    }
    expect(covered).toBeGreaterThan(0.15 * size.width * size.height);
    expect(covered).toBeGreaterThan(0.85 * meshCovered);
    // The same silhouette: the splats close the surface the mesh draws (but for gaps between the
    // synthetic neck's few rings of vertices).
    expect(both / either).toBeGreaterThan(0.8);
    // Drawn in the default colour (shaded by depth): red > green > blue, as 0.8, 0.6, 0.5.
    const image = png(cloudPng);
    const sum = [0, 0, 0];
    for (let p = 0; p < b.length; p++) if (b[p]) for (let c = 0; c < 3; c++) sum[c] += image.data[p * 3 + c];
    expect(sum[0]).toBeGreaterThan(sum[1]);
    expect(sum[1]).toBeGreaterThan(sum[2]);
    // Without a default colour the points are white: the file still shows.
    const white = await render({ input: files.cloud, out: whitePng, ...size });
    expect(white.error).toBeUndefined();
    expect(white.summary!.covered).toBe(r.summary!.covered);
  }, TIMEOUT);

  it("render and view take --default-color R,G,B as compile does", async () => {
    const out = join(root, "green.png");
    const ok = await cli("render", files.cloud, "-o", out, "--size", "160x120", "--default-color", "0.1,0.9,0.2");
    expect(ok.err).toBe("");
    expect(ok.code).toBe(0);
    const image = png(out), m = mask(image);
    const sum = [0, 0, 0];
    for (let p = 0; p < m.length; p++) if (m[p]) for (let c = 0; c < 3; c++) sum[c] += image.data[p * 3 + c];
    expect(sum[1]).toBeGreaterThan(3 * sum[0]);

    for (const command of ["render", "view"]) {
      const bad = await cli(command, files.cloud, ...(command === "render" ? ["-o", join(root, "bad.png")] : []), "--default-color", "0.8,0.6");
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/--default-color must be three numbers from 0 to 1, as R,G,B \(e\.g\. 0\.8,0\.6,0\.5\); got "0\.8,0\.6"/);
    }

    // headsnet view with --default-color: it starts, and the page's facts say the colour.
    const child = spawn(process.execPath, [BIN, "view", files.cloud, "--default-color", "0.1,0.9,0.2"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => { stdout += d; });
    child.stderr.on("data", (d) => { stderr += d; });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL: ${stdout} ${stderr}`)), 120_000);
      child.stdout.on("data", () => {
        const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(stdout);
        if (m) { clearTimeout(timer); resolve(m[0]); }
      });
      child.on("exit", () => reject(new Error(`view exited: ${stdout} ${stderr}`)));
    });
    const info = await (await fetch(url + "api/info")).json();
    child.kill("SIGINT");
    await new Promise((resolve) => child.on("exit", resolve));
    expect(info.facts).toMatchObject({ kind: "point cloud", normals: "none", hasColors: false, shownColor: [0.1, 0.9, 0.2], points: VERTICES });
  }, TIMEOUT);
});

describe("3D Gaussian splats", () => {
  let kernel: Kernel;
  beforeAll(() => {
    kernel = new Kernel(generateIcosphere(4), { build: "debug" });
  });

  it("compile takes colours from f_dc: clamp(0.5 + 0.28209479·f_dc, 0, 1), exactly, in float32", () => {
    const out = kernel.compileBytes(readFileSync(files.splats), "splats.ply", 0.5);
    expect(out.rows).toBe(VERTICES);
    expect(out.hasColors).toBe(true);
    expect(out.skipped).toEqual({ nonfinite: 0, outsideSphere: 0, tooFar: 0, transparent: 0 });
    // Vertex 0: f_dc 0, 10, -10; vertex 1: 1, -1, 0.3 (float32 arithmetic, worked out by hand).
    expect(Array.from(out.y.subarray(3, 6))).toEqual([0.5, 1, 0]);
    expect(Array.from(out.y.subarray(9, 12))).toEqual([0.7820947766304016, 0.2179052233695984, 0.5846284627914429]);
    for (let i = 0; i < VERTICES; i++) {
      for (let k = 0; k < 3; k++) {
        if (out.y[6 * i + 3 + k] !== expectedColor(dcOf(mesh, i, k))) throw new Error(`vertex ${i} channel ${k}: ${out.y[6 * i + 3 + k]}`);
        if (out.y[6 * i + k] !== mesh.positions[3 * i + k]) throw new Error(`vertex ${i} position ${k}`);
      }
    }
    // The same splats in ASCII and big-endian give the same rows.
    for (const format of ["ascii", "binary_big_endian"] as const) {
      const other = kernel.compileBytes(splatPly(mesh, format), `splats-${format}.ply`, 0.5);
      expect(Buffer.from(other.x.buffer).equals(Buffer.from(out.x.buffer))).toBe(true);
      expect(Buffer.from(other.y.buffer).equals(Buffer.from(out.y.buffer))).toBe(true);
    }
  }, TIMEOUT);

  it("a splat file with extra per-splat properties (190 in all) reads the same", () => {
    const n = VERTICES;
    const extra = Array.from({ length: 128 }, (_, k) => `f_feature_${k}`);
    const plain = kernel.compileBytes(readFileSync(files.splats), "splats.ply", 0.5);
    const bytes = splatPly(mesh);
    // The same file with 128 more float properties after the others.
    const body = Buffer.from(bytes).indexOf("end_header\n") + "end_header\n".length;
    const stride = 62 * 4;
    const records = new Uint8Array(n * (stride + 128 * 4));
    const view = new DataView(records.buffer);
    for (let i = 0; i < n; i++) {
      records.set(bytes.subarray(body + i * stride, body + (i + 1) * stride), i * (stride + 512));
      for (let k = 0; k < 128; k++) view.setFloat32(i * (stride + 512) + stride + 4 * k, k, true);
    }
    const head = Buffer.from(bytes.subarray(0, body)).toString("latin1")
      .replace("end_header\n", extra.map((name) => `property float ${name}\n`).join("") + "end_header\n");
    const wide = kernel.compileBytes(Buffer.concat([Buffer.from(head, "latin1"), records]), "wide.ply", 0.5);
    expect(Buffer.from(wide.y.buffer).equals(Buffer.from(plain.y.buffer))).toBe(true);
    expect(Buffer.from(wide.x.buffer).equals(Buffer.from(plain.x.buffer))).toBe(true);
  });

  it("their zero normals are no normals: legacy keeps each splat where it is, ray traces it out from the centre", () => {
    const splats = readFileSync(files.splats), cloud = readFileSync(files.cloud);
    for (const projection of ["legacy", "ray"] as const) {
      const a = kernel.compileBytes(splats, "splats.ply", 0.25, { projection });
      const b = kernel.compileBytes(cloud, "cloud.ply", 0.25, { projection, defaultColor: [1, 1, 1] });
      expect([a.normals, b.normals]).toEqual(["none", "none"]);
      expect(Buffer.from(a.x.buffer).equals(Buffer.from(b.x.buffer))).toBe(true);
    }
    const recip = Math.fround(1 / Math.fround(3 * kernel.icosphere.count));
    const ray = kernel.compileBytes(splats, "splats.ply", 0.25, { projection: "ray" });
    const legacy = kernel.compileBytes(splats, "splats.ply", 0.25);
    for (let i = 0; i < VERTICES; i += 97) {
      const v = Array.from(mesh.positions.subarray(3 * i, 3 * i + 3));
      expect(legacy.x[2 * i + 1]).toBe(Math.fround(Math.fround(3 * kernel.nearestBrute(v[0], v[1], v[2])) * recip));
      const r = Math.hypot(v[0], v[1], v[2]);
      const out = v.map((c) => Math.fround(c / r));
      expect(ray.x[2 * i + 1]).toBe(Math.fround(Math.fround(3 * kernel.nearestBrute(out[0], out[1], out[2])) * recip));
    }
    // Their normals are placeholders: asking for them is an error that says so.
    expect(() => kernel.compileBytes(splats, "splats.ply", 0.25, { normals: "file" })).toThrow(/^splats\.ply: holds 3D Gaussian splats, which are points: their nx, ny, nz are placeholders/);
  }, TIMEOUT);

  it("minOpacity leaves out the splats less opaque than it, counted per model as transparent; without it none are", async () => {
    const dir = tmp("corpus");
    writeFileSync(join(dir, "a-mesh.ply"), readFileSync(files.mesh));
    writeFileSync(join(dir, "b-splats.ply"), readFileSync(files.splats));
    const dropped = transparentBelow04(VERTICES);
    expect(dropped).toBe(1600);

    const out = tmp("opaque");
    const result = await compile({ inputs: [dir], out, workers: 1, build: "debug", minOpacity: 0.4 });
    expect(result.error).toBeUndefined();
    expect(result.summary!.skipped).toEqual({ nonfinite: 0, outsideSphere: 0, tooFar: 0, transparent: dropped });
    const manifest: Manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.options).toMatchObject({ minOpacity: 0.4 });
    const [meshModel, splatModel] = manifest.models;
    expect(meshModel.skipped).toBeUndefined();
    expect(splatModel).toMatchObject({ path: "b-splats.ply", vertices: VERTICES, rows: VERTICES - dropped, normals: "none" });
    expect(splatModel.skipped).toEqual({ nonfinite: 0, outsideSphere: 0, tooFar: 0, transparent: dropped });
    // The rows are the opaque splats', in file order.
    const y = new Float32Array(readFileSync(join(out, "train_y.dat")).buffer.slice(0)).subarray(splatModel.firstRow * 6);
    const kept = Array.from({ length: VERTICES }, (_, i) => i).filter((i) => OPACITY[i % 5] >= 0.4);
    expect(kept.length).toBe(splatModel.rows);
    kept.forEach((i, r) => {
      for (let k = 0; k < 3; k++) if (y[6 * r + k] !== mesh.positions[3 * i + k] || y[6 * r + 3 + k] !== expectedColor(dcOf(mesh, i, k))) throw new Error(`row ${r} (vertex ${i})`);
    });

    // Without minOpacity nothing is left out; with 0, nothing either.
    for (const minOpacity of [undefined, 0]) {
      const all = await compile({ inputs: [dir], out: tmp("all"), workers: 1, build: "debug", minOpacity });
      expect(all.summary!.rows).toBe(2 * VERTICES);
      expect(all.summary!.skipped.transparent).toBe(0);
    }
    expect((await compile({ inputs: [dir], out: tmp("bad"), minOpacity: 1.5 })).error?.message).toMatch(/`minOpacity` must be a number from 0 to 1, got 1\.5/);

    // The command line says how many it left out.
    const text = await cli("compile", dir, "-o", tmp("cli"), "-j", "1", "--min-opacity", "0.4");
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/compiled 2 of 2 files: 6,400 rows/);
    expect(text.out).toMatch(/left out 1,600 splats less opaque than --min-opacity \(counted per model in the manifest\)/);
    const bad = await cli("compile", dir, "-o", tmp("cli-bad"), "--min-opacity", "-1");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--min-opacity must be a number from 0 to 1, got -1/);
  }, TIMEOUT);

  it("--normalize fit scales the splats that are kept", () => {
    const out = kernel.compileBytes(readFileSync(files.splats), "splats.ply", 0.5, { minOpacity: 0.4, normalize: "fit" });
    expect(out.rows).toBe(VERTICES - 1600);
    const min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
    for (let r = 0; r < out.rows; r++) for (let c = 0; c < 3; c++) {
      min[c] = Math.min(min[c], out.y[6 * r + c]);
      max[c] = Math.max(max[c], out.y[6 * r + c]);
    }
    expect(Math.max(...[0, 1, 2].map((c) => (max[c] - min[c]) / 2))).toBeCloseTo(0.55, 5);
    // Still their own colours, in order.
    const kept = Array.from({ length: VERTICES }, (_, i) => i).filter((i) => OPACITY[i % 5] >= 0.4);
    kept.forEach((i, r) => {
      for (let k = 0; k < 3; k++) if (out.y[6 * r + 3 + k] !== expectedColor(dcOf(mesh, i, k))) throw new Error(`row ${r} (vertex ${i})`);
    });
  });

  it("an error after splats left out names the file's vertex and its byte", () => {
    // Vertex 12 (opacity 0.5, kept) has a NaN position; six splats before it are left out.
    const bytes = splatPly(mesh, "binary_little_endian", (name, i, v) => (name === "x" && i === 12 ? NaN : v));
    const body = Buffer.from(bytes).indexOf("end_header\n") + "end_header\n".length;
    const message = /^bad\.ply: vertex 12 has a NaN or infinite position, normal or colour \(byte (\d+), vertex 12\)/;
    for (const minOpacity of [undefined, 0.4]) {
      let error: Error | undefined;
      try {
        kernel.compileBytes(bytes, "bad.ply", 0.5, { minOpacity });
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).toMatch(message);
      expect(Number(message.exec(error!.message)![1])).toBe(body + 12 * 62 * 4);
    }
    const skipped = kernel.compileBytes(bytes, "bad.ply", 0.5, { minOpacity: 0.4, onInvalid: "skip" });
    expect(skipped.skipped).toEqual({ nonfinite: 1, outsideSphere: 0, tooFar: 0, transparent: 1600 });
    expect(skipped.rows).toBe(VERTICES - 1600 - 1);
  });

  it("inspect recognises the layout: splats, colour from f_dc, the opacity range, what minOpacity leaves out", async () => {
    const r = inspect(files.splats, { minOpacity: 0.4 });
    expect(r.error).toBeUndefined();
    expect(r.kind).toBe("gaussian splats");
    expect(r.splats).toMatchObject({ count: VERTICES, colors: "f_dc" });
    expect(r.splats!.opacity!.min).toBeCloseTo(0.05, 6);
    expect(r.splats!.opacity!.max).toBeCloseTo(0.95, 6);
    expect(r.compile).toMatchObject({ rows: VERTICES - 1600, normals: "none", skipped: { transparent: 1600 } });
    expect(r.notes[0]).toMatch(/^3D Gaussian splats: 4,000 splats, colour from f_dc \(0\.5 \+ 0\.28209479·f_dc, clamped to 0-1\), opacity 0\.05 to 0\.95; their nx, ny, nz are not used; `minOpacity` 0\.4 leaves out 1,600 of them$/);
    expect(r.notes[1]).toMatch(/^a point cloud/);

    const text = await cli("inspect", files.splats);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/\n  3D Gaussian splats: 4,000 splats, colour from f_dc .*, opacity 0\.05 to 0\.95; their nx, ny, nz are not used \(--min-opacity X leaves out splats less opaque than X\)\n/);
    expect(text.out).toMatch(/compile \(--projection legacy\): 4,000 rows/);
    const json = JSON.parse((await cli("inspect", files.splats, "--min-opacity", "0.6", "--json")).out);
    expect(json.compile.skipped.transparent).toBe(2400);
    const bad = await cli("inspect", files.splats, "--min-opacity", "2");
    expect(bad.code).toBe(2);
    expect(bad.err).toBe("headsnet: --min-opacity must be a number from 0 to 1, got 2\nRun 'headsnet inspect --help' for usage.\n");
  }, TIMEOUT);
});

describe("meshes outside the unit sphere", () => {
  it("a head 50 times too large compiles with one warning per file suggesting --normalize fit, and inspect says the same", async () => {
    const dir = tmp("big");
    writeFileSync(join(dir, "big.ply"), readFileSync(files.big));
    writeFileSync(join(dir, "small.ply"), readFileSync(files.mesh));
    const result = await compile({ inputs: [dir], out: tmp("big-out"), workers: 1, build: "debug" });
    expect(result.error).toBeUndefined();
    const warnings = result.summary!.warnings;
    expect(warnings).toEqual([{ path: "big.ply", message: expect.stringMatching(/^vertices lie outside the unit sphere \(the farthest at radius 3\d\.\d\d\), where tracing to the sphere means little; pass (`normalize`|--normalize) fit to scale each mesh into it$/) }]);

    const r = inspect(files.big);
    expect(r.error).toBeUndefined();
    expect(r.warnings).toEqual([warnings[0].message]);
    const text = await cli("inspect", files.big);
    expect(text.out).toMatch(/\n  warning: vertices lie outside the unit sphere \(the farthest at radius 3\d\.\d\d\), where tracing to the sphere means little; pass --normalize fit to scale each mesh into it\n/);
    // --normalize fit is what it says: no warning then.
    const fit = await compile({ inputs: [dir], out: tmp("fit-out"), workers: 1, build: "debug", normalize: "fit" });
    expect(fit.summary!.warnings).toEqual([]);
  }, TIMEOUT);
});

// The browser: see test/browser.ts (skipped, saying so, without one unless HEADSNET_REQUIRE_BROWSER=1).
describe.skipIf(skipBrowserTests("test/inputs.test.ts"))("view in Chromium: point clouds and splats", () => {
  let browser: Browser;
  const servers: ViewServer[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
  }, TIMEOUT);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await browser?.close();
  });

  it("draws a point cloud and 3D Gaussian splats as splats that cover the head, with their facts", async () => {
    for (const [input, options, points, facts] of [
      [files.cloud, {}, VERTICES, /PLY point cloud[\s\S]*none \(drawn as 1,1,1; compile needs --default-color\)/i],
      [files.splats, { minOpacity: 0.4 }, VERTICES - 1600, /3D Gaussian splats[\s\S]*from f_dc[\s\S]*0\.0500 to 0\.9500; 1,600 below --min-opacity left out/i],
    ] as const) {
      const server = await startViewServer({ input, ...options });
      servers.push(server);
      const page = await browser.newPage({ viewport: { width: 900, height: 560 } });
      const errors: string[] = [];
      page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(server.url);
      await page.waitForFunction(() => {
        const s = (window as unknown as { headsnetView?: { ready: boolean; error: string | null } }).headsnetView;
        return s && (s.ready || s.error);
      }, null, { timeout: 90_000, polling: 50 });
      const state = await page.evaluate(() => (window as unknown as { headsnetView: { error: string | null; panels: { points: number; triangles: number }[] } }).headsnetView);
      expect(state.error).toBeNull();
      expect(state.panels).toMatchObject([{ points, triangles: 0 }]);
      expect(await page.locator("#facts").innerText()).toMatch(facts);
      const image = decodePng(await page.locator("canvas#view").screenshot());
      expect(countNonBackground(image, BACKGROUND, 4)).toBeGreaterThan(0.1 * image.width * image.height);
      expect(errors).toEqual([]);
      await page.close();
    }
  }, TIMEOUT);
});

// `headsnet render`: PNG pictures of a PLY head, a compiled model's rows and a trained model's
// head, without a browser; and the PNG codec they go through.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { readFileSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { render } from "../src/view/render.js";
import { main } from "../src/cli.js";
import { encodePng, decodePng, countNonBackground, type RgbImage } from "../src/view/png.js";
import { BACKGROUND } from "../src/view/raster.js";
import { openDataset } from "../src/view/source.js";
import { makeFixtures, saveTinyModel, type ViewFixtures } from "./view-fixtures.js";

/** Generous: real work runs here, and the machine may be busy. */
const TIMEOUT = 180_000;
vi.setConfig({ testTimeout: TIMEOUT, hookTimeout: TIMEOUT });

let fx: ViewFixtures;
beforeAll(async () => {
  fx = await makeFixtures("render");
}, TIMEOUT);

function png(file: string): RgbImage {
  return decodePng(readFileSync(file));
}

function differingPixels(a: RgbImage, b: RgbImage): number {
  let n = 0;
  for (let p = 0; p < a.width * a.height; p++) {
    if (a.data[p * 3] !== b.data[p * 3] || a.data[p * 3 + 1] !== b.data[p * 3 + 1] || a.data[p * 3 + 2] !== b.data[p * 3 + 2]) n++;
  }
  return n;
}

async function cli(...argv: string[]) {
  let out = "", err = "";
  const code = await main(argv, { out: (t) => { out += t; }, err: (t) => { err += t; } });
  return { code, out, err };
}

describe("PNG codec", () => {
  it("decodes what it encodes, every filter exercised", () => {
    const width = 37, height = 23;
    const data = new Uint8Array(width * height * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919 + (i % 5) * 31 + Math.floor(i / 111) * 17) & 0xff;
    for (let i = 0; i < width * 3 * 4; i++) data[i] = 42; // flat rows, a gradient below
    for (let y = 10; y < 15; y++) for (let i = 0; i < width * 3; i++) data[y * width * 3 + i] = (i * 3 + y) & 0xff;
    const back = decodePng(encodePng({ width, height, data }));
    expect(back.width).toBe(width);
    expect(back.height).toBe(height);
    expect(Buffer.from(back.data).equals(Buffer.from(data))).toBe(true);
  });

  it("rejects a file that is not a PNG", () => {
    expect(() => decodePng(Buffer.from("GIF89a not a png"))).toThrow(/not a PNG/);
  });
});

describe("render", () => {
  it("writes a PNG of the requested size showing the PLY head, in each view", async () => {
    const images: RgbImage[] = [];
    for (const view of ["front", "side", "three-quarter"] as const) {
      const out = join(fx.root, `ply-${view}.png`);
      const r = await render({ input: fx.ply, out, width: 320, height: 240, view });
      expect(r.error).toBeUndefined();
      expect(r.summary).toMatchObject({ kind: "ply", width: 320, height: 240, view, panels: [{ points: fx.vertices, faces: 2 * (fx.vertices - 2) }] });
      const image = png(out);
      expect([image.width, image.height]).toEqual([320, 240]);
      const covered = countNonBackground(image, BACKGROUND);
      expect(covered).toBe(r.summary!.covered);
      // The head fills a good part of the frame, and the corners are background.
      expect(covered).toBeGreaterThan(0.15 * 320 * 240);
      expect(covered).toBeLessThan(0.8 * 320 * 240);
      expect(Array.from(image.data.subarray(0, 3))).toEqual([...BACKGROUND]);
      images.push(image);
    }
    expect(differingPixels(images[0], images[1])).toBeGreaterThan(5000);
    expect(differingPixels(images[0], images[2])).toBeGreaterThan(5000);
  });

  it("shows a compiled model's rows, by path or id, coloured by icosphere index on request", async () => {
    const m = fx.manifest.models[1];
    const rgb = join(fx.root, "data-rgb.png"), index = join(fx.root, "data-index.png");
    const a = await render({ input: fx.data, out: rgb, width: 300, height: 300, model: m.path });
    expect(a.summary?.panels).toEqual([{ label: `${m.path} (id ${m.id})`, points: m.rows, faces: 0 }]);
    const b = await render({ input: fx.data, out: index, width: 300, height: 300, model: String(m.id), color: "index" });
    expect(b.summary?.panels[0].points).toBe(m.rows);
    const A = png(rgb), B = png(index);
    expect(countNonBackground(A, BACKGROUND)).toBeGreaterThan(0.15 * 300 * 300);
    expect(countNonBackground(B, BACKGROUND)).toBeGreaterThan(0.15 * 300 * 300);
    expect(differingPixels(A, B)).toBeGreaterThan(0.1 * 300 * 300);
  });

  it("reads each model's rows from the files the manifest names", () => {
    const dataset = openDataset(fx.data);
    const k = dataset.select("head_00001");
    const m = fx.manifest.models[k];
    const cloud = dataset.read(k);
    const y = new Float32Array(readFileSync(join(fx.data, "train_y.dat")).buffer.slice(0));
    const x = new Float32Array(readFileSync(join(fx.data, "train_x.dat")).buffer.slice(0));
    for (const r of [0, 17, m.rows - 1]) {
      const row = m.firstRow + r;
      expect(Array.from(cloud.positions.subarray(r * 3, r * 3 + 3))).toEqual(Array.from(y.subarray(row * 6, row * 6 + 3)));
      expect(Array.from(cloud.colors.subarray(r * 3, r * 3 + 3))).toEqual(Array.from(y.subarray(row * 6 + 3, row * 6 + 6)));
      expect(cloud.index![r]).toBe(Math.round(x[row * 2 + 1] * fx.manifest.icosphere.vertices));
    }
    expect(() => dataset.select("nobody")).toThrow(/no model "nobody" in the manifest/);
    expect(() => dataset.select("0.123")).toThrow(/nearest id is/);
  });

  it("shows a trained model's head for an id beside the training head with the nearest id", async () => {
    const out = join(fx.root, "model.png");
    const id = fx.manifest.models[0].id + 0.001;
    const r = await render({ input: fx.model, out, width: 400, height: 200, id });
    expect(r.error).toBeUndefined();
    expect(r.summary?.panels).toEqual([
      // Generated on its icosphere (a generated level): the icosphere's triangles, drawn as a surface.
      { label: `generated, id ${id}`, points: fx.manifest.icosphere.vertices, faces: 2 * (fx.manifest.icosphere.vertices - 2) },
      { label: `training head ${fx.manifest.models[0].path} (id ${fx.manifest.models[0].id})`, points: fx.manifest.models[0].rows, faces: 0 },
    ]);
    const image = png(out);
    expect([image.width, image.height]).toEqual([400, 200]);
    // Both halves show something.
    const half = (x0: number) => {
      let n = 0;
      for (let y = 0; y < 200; y++) for (let x = x0; x < x0 + 200; x++) {
        const p = (y * 400 + x) * 3;
        if (image.data[p] !== BACKGROUND[0] || image.data[p + 1] !== BACKGROUND[1] || image.data[p + 2] !== BACKGROUND[2]) n++;
      }
      return n;
    };
    expect(half(0)).toBeGreaterThan(20);
    expect(half(200)).toBeGreaterThan(0.1 * 200 * 200);
  });

  it("finds the icosphere and the training data where headsnet train records them", async () => {
    const dir = join(fx.root, "trained");
    await saveTinyModel(dir);
    const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
    json.headsnet = { tool: "headsnet", inputs: 2, outputs: 6, icosphere: { vertices: 162, sha256: "", source: "level 2" } };
    writeFileSync(join(dir, "model.json"), JSON.stringify(json));
    const alone = await render({ input: dir, out: join(fx.root, "trained-alone.png"), width: 200, height: 200, id: 0.25 });
    expect(alone.summary?.panels).toEqual([{ label: "generated, id 0.25", points: 162, faces: 320 }]);
    writeFileSync(join(dir, "training.json"), JSON.stringify({ tool: "headsnet", data: { source: fx.data, xWidth: 2, rows: fx.manifest.rows } }));
    const both = await render({ input: dir, out: join(fx.root, "trained-both.png"), width: 200, height: 100, id: 0.25 });
    expect(both.summary?.panels.map((p) => p.points)).toEqual([162, fx.manifest.models[nearest(0.25)].rows]);
  });
});

function nearest(id: number): number {
  const ids = fx.manifest.models.map((m) => Math.abs(m.id - id));
  return ids.indexOf(Math.min(...ids));
}

describe("headsnet render (CLI)", () => {
  it("writes the PNG and says what it drew", async () => {
    const out = join(fx.root, "cli.png");
    const r = await cli("render", fx.ply, "-o", out, "--size", "200x150", "--view", "front");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^wrote ${out} \\(200x150, front, [\\d,]+ bytes\\)\\n  .*head_00000\\.ply: 6,000 points, 11,996 triangles\\n$`));
    const image = png(out);
    expect([image.width, image.height]).toEqual([200, 150]);
    expect(countNonBackground(image, BACKGROUND)).toBeGreaterThan(1000);
  });

  it("bad input gets a clear error naming the file", async () => {
    const notPly = join(fx.root, "notes.ply");
    writeFileSync(notPly, "hello\n");
    const out = join(fx.root, "never.png");
    const a = await cli("render", notPly, "-o", out);
    expect(a.code).toBe(1);
    expect(a.err).toBe(`headsnet: ${notPly}: not a PLY file: expected "ply" on the first line, found "hello"\n`);
    const b = await cli("render", join(fx.root, "missing"), "-o", out);
    expect(b.code).toBe(2);
    expect(b.err).toBe(`headsnet: ${join(fx.root, "missing")}: no such file or directory\nRun 'headsnet render --help' for usage.\n`);
    const c = await cli("render", fx.ply, "-o", out, "--size", "big");
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/--size must be WIDTHxHEIGHT/);
    const d = await cli("render", fx.data, "-o", out, "--model", "head_09999");
    expect(d.code).toBe(2);
    expect(d.err).toMatch(/no model "head_09999" in the manifest/);
    const e = await cli("render", fx.ply, "-o", out, "--view", "top");
    expect(e.code).toBe(2);
    const brokenModel = join(fx.root, "broken-model");
    mkdirSync(brokenModel, { recursive: true });
    writeFileSync(join(brokenModel, "model.json"), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ["weights.bin"], weights: [] }] }));
    const f = await cli("render", brokenModel, "-o", out);
    expect(f.code).toBe(1);
    expect(f.err).toBe(`headsnet: ${join(brokenModel, "weights.bin")}: missing: model.json lists this weight file\n`);
    expect(existsSync(out)).toBe(false);
  });
});

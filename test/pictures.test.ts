// FaceNet's input from real pictures (`compile --target voxels --images DIR`): PNG decoded exactly
// in every format (fixtures written by libpng, test/fixtures/pictures/make-pngs.c), JPEG within
// its loss (libjpeg, make-jpegs.c), the square crop and area average to grey, matching pictures to
// meshes, and the run: each mesh's train_x from its picture, a missing or bad picture failing
// only its mesh with an error that names it.

import { describe, it, expect, beforeAll, vi } from "vitest";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { decodePngRgba, encodePng } from "../src/view/png.js";
import { indexPictures, pictureCandidates, pictureFor, pictureToGray, readPicture } from "../src/pictures.js";
import { compile } from "../src/compile/index.js";
import { synthCorpus } from "../src/synth.js";
import { PACKAGE_ROOT } from "../src/package.js";
import type { Manifest } from "../src/dataset/format.js";

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const FIXTURES = join(PACKAGE_ROOT, "test", "fixtures", "pictures");
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `headsnet-pictures-${name}-`));

// The fixtures' formulas (make-pngs.c).
const W = 13, H = 7;
function sample(x: number, y: number, k: number, depth: number): number {
  if (depth === 16) return (x * 7919 + y * 104729 + k * 31337) & 0xffff;
  return (x * 7 + y * 13 + k * 29) & ((1 << depth) - 1);
}
const to8 = (v: number, depth: number) => (depth === 16 ? Math.round(v / 257) : depth === 8 ? v : Math.round((v * 255) / ((1 << depth) - 1)));

/** What pixel (x, y) of fixture type T, depth D (with or without tRNS) must decode to. */
function expectedRgba(type: number, depth: number, trns: boolean, x: number, y: number): number[] {
  const s = (k: number) => sample(x, y, k, depth);
  if (type === 3) {
    const i = s(0);
    return [(40 * i) & 0xff, (255 - 20 * i) & 0xff, (7 * i) & 0xff, trns && i < 3 ? [0, 50, 100][i] : 255];
  }
  if (type === 0) {
    const g = to8(s(0), depth);
    return [g, g, g, trns && s(0) === sample(1, 1, 0, depth) ? 0 : 255];
  }
  if (type === 4) {
    const g = to8(s(0), depth);
    return [g, g, g, to8(s(1), depth)];
  }
  const keyed = trns && [0, 1, 2].every((k) => s(k) === sample(1, 1, k, depth));
  return [to8(s(0), depth), to8(s(1), depth), to8(s(2), depth), type === 6 ? to8(s(3), depth) : keyed ? 0 : 255];
}

describe("PNG decoding", () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith(".png"));

  it("decodes every colour type, bit depth, palette, tRNS and Adam7 fixture exactly", () => {
    expect(files.length).toBe(33);
    for (const file of files) {
      const [, type, depth] = /^type(\d)-depth(\d+)/.exec(file)!.map(Number);
      const trns = file.includes("-trns");
      const image = decodePngRgba(readFileSync(join(FIXTURES, file)));
      expect([image.width, image.height], file).toEqual([W, H]);
      const want = new Uint8Array(W * H * 4);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) want.set(expectedRgba(type, depth, trns, x, y), (y * W + x) * 4);
      expect(Buffer.from(image.data).equals(Buffer.from(want)), file).toBe(true);
    }
  });

  it("an interlaced picture decodes to the same pixels as the plain one", () => {
    for (const file of files.filter((f) => f.includes("-adam7") && !f.includes("-trns"))) {
      const plain = decodePngRgba(readFileSync(join(FIXTURES, file.replace("-adam7", ""))));
      expect(Buffer.from(decodePngRgba(readFileSync(join(FIXTURES, file))).data).equals(Buffer.from(plain.data)), file).toBe(true);
    }
  });

  it("damaged, truncated and foreign files are refused with what is wrong and where", () => {
    const good = readFileSync(join(FIXTURES, "type2-depth8.png"));
    const dir = tmp("bad");
    const write = (name: string, bytes: Uint8Array) => {
      writeFileSync(join(dir, name), bytes);
      return join(dir, name);
    };
    const flipped = Buffer.from(good);
    flipped[good.indexOf("IDAT") + 6] ^= 0x55;
    expect(() => readPicture(write("flipped.png", flipped), "heads/a.ply")).toThrow(
      new RegExp(`flipped\\.png \\(the picture of heads/a\\.ply\\): the "IDAT" chunk is damaged \\(its CRC does not match\\) \\(byte ${good.indexOf("IDAT") - 4}\\)`));
    expect(() => readPicture(write("cut.png", good.subarray(0, good.length - 30)), "a.ply")).toThrow(/cut\.png \(the picture of a\.ply\): the file ends inside its "IDAT" chunk \(byte \d+\)/);
    expect(() => readPicture(write("noend.png", good.subarray(0, good.length - 12)), "a.ply")).toThrow(/noend\.png .*ends before its IEND chunk/);
    expect(() => readPicture(write("gif.png", Buffer.from("GIF89a....")), "a.ply")).toThrow(/gif\.png \(the picture of a\.ply\): neither a PNG nor a JPEG file \(unknown signature\) \(byte 0\)/);
    expect(() => readPicture(write("empty.jpg", new Uint8Array(0)), "a.ply")).toThrow(/empty\.jpg .*: the file is empty/);
    const jpg = readFileSync(join(FIXTURES, "rgb-baseline.jpg"));
    expect(() => readPicture(write("cut.jpg", jpg.subarray(0, 200)), "a.ply")).toThrow(/cut\.jpg \(the picture of a\.ply\): bad JPEG: /);
    expect(() => readPicture(join(dir, "absent.png"), "a.ply")).toThrow(/absent\.png: cannot read the file: ENOENT/);
    let code: string | undefined;
    try {
      readPicture(join(dir, "flipped.png"), "a.ply");
    } catch (e) {
      code = (e as { code: string }).code;
    }
    expect(code).toBe("E_PICTURE");
  });

  it("the encoder's pictures decode back", () => {
    const data = new Uint8Array(5 * 3 * 3).map((_, i) => (i * 37) & 0xff);
    const back = decodePngRgba(encodePng({ width: 5, height: 3, data }));
    for (let p = 0; p < 15; p++) expect(Array.from(back.data.subarray(p * 4, p * 4 + 4))).toEqual([...data.subarray(p * 3, p * 3 + 3), 255]);
  });
});

describe("JPEG decoding", () => {
  it("decodes baseline, progressive and greyscale JPEGs within their loss", () => {
    const worst = (file: string, want: (x: number, y: number) => number[]) => {
      const image = readPicture(join(FIXTURES, file), "m.ply");
      expect([image.width, image.height], file).toEqual([64, 48]);
      let worstError = 0;
      for (let y = 0; y < 48; y++) for (let x = 0; x < 64; x++) {
        const w = want(x, y);
        for (let k = 0; k < 3; k++) worstError = Math.max(worstError, Math.abs(image.data[(y * 64 + x) * 4 + k] - w[k]));
        expect(image.data[(y * 64 + x) * 4 + 3]).toBe(255);
      }
      return worstError;
    };
    const rgb = (x: number, y: number) => [4 * x, 5 * y, 40 + x + y];
    expect(worst("rgb-baseline.jpg", rgb)).toBeLessThanOrEqual(10);
    expect(worst("rgb-progressive.jpg", rgb)).toBeLessThanOrEqual(10);
    expect(worst("grey.jpg", (x, y) => [2 * x + 2 * y, 2 * x + 2 * y, 2 * x + 2 * y])).toBeLessThanOrEqual(4);
  });
});

describe("pictures to FaceNet's grey input", () => {
  const rgba = (width: number, height: number, pixel: (x: number, y: number) => number[]) => {
    const data = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 4);
    return { width, height, data };
  };

  it("averages whole blocks exactly, with the renderer's luma", () => {
    // 4x4 grey values 0..15 * 10 into 2x2: each output is its 2x2 block's mean.
    const image = rgba(4, 4, (x, y) => [(y * 4 + x) * 10, (y * 4 + x) * 10, (y * 4 + x) * 10, 255]);
    expect(Array.from(pictureToGray(image, 2))).toEqual([25, 45, 105, 125]);
    const coloured = rgba(1, 1, () => [200, 100, 50, 255]);
    expect(Array.from(pictureToGray(coloured, 1))).toEqual([Math.round(0.299 * 200 + 0.587 * 100 + 0.114 * 50)]);
  });

  it("weights pixels by the share of them an output pixel covers", () => {
    // 3 pixels across into 2: the middle one is split between both.
    const image = rgba(3, 3, (x) => [[0, 90, 180][x], [0, 90, 180][x], [0, 90, 180][x], 255]);
    // Output 0 covers [0, 1.5): (0 * 1 + 90 * 0.5) / 1.5 = 30; output 1: (90 * 0.5 + 180) / 1.5 = 150.
    expect(Array.from(pictureToGray(image, 2))).toEqual([30, 150, 30, 150]);
  });

  it("crops the centred square, composites transparency over the background, and can enlarge", () => {
    // 6x2: the square is columns 2-3, grey 100 and 200; the rest is 0.
    const wide = rgba(6, 2, (x) => (x === 2 ? [100, 100, 100, 255] : x === 3 ? [200, 200, 200, 255] : [0, 0, 0, 255]));
    expect(Array.from(pictureToGray(wide, 2))).toEqual([100, 200, 100, 200]);
    const clear = rgba(1, 1, () => [255, 255, 255, 0]);
    expect(Array.from(pictureToGray(clear, 1, 30))).toEqual([30]);
    const half = rgba(1, 1, () => [200, 200, 200, 127.5]);
    expect(pictureToGray(half, 1, 0)[0]).toBe(100);
    expect(Array.from(pictureToGray(rgba(1, 1, () => [70, 70, 70, 255]), 3))).toEqual(new Array(9).fill(70));
  });
});

describe("matching pictures to meshes", () => {
  it("the mesh's path stem first, then its bare stem anywhere; none or several is the mesh's error", () => {
    const dir = tmp("index");
    mkdirSync(join(dir, "a"));
    mkdirSync(join(dir, "b"));
    for (const f of ["a/head.png", "b/head.JPG", "solo.jpeg", "twice.png", "a/twice.jpg", "notes.txt"]) writeFileSync(join(dir, f), "");
    const index = indexPictures(dir);
    expect(index.count).toBe(5);
    expect(pictureCandidates(index, "a/head.ply")).toEqual([join(dir, "a/head.png")]);
    expect(pictureCandidates(index, "b/head.obj")).toEqual([join(dir, "b/head.JPG")]);
    expect(pictureCandidates(index, "c/head.ply")).toEqual([join(dir, "a/head.png"), join(dir, "b/head.JPG")]);
    expect(pictureCandidates(index, "deep/down/solo.ply")).toEqual([join(dir, "solo.jpeg")]);
    expect(pictureCandidates(index, "twice.ply")).toEqual([join(dir, "twice.png")]);
    expect(pictureFor(pictureCandidates(index, "solo.ply"), "heads/solo.ply", dir)).toBe(join(dir, "solo.jpeg"));
    expect(() => pictureFor(pictureCandidates(index, "c/head.ply"), "heads/c/head.ply", dir)).toThrow(
      `heads/c/head.ply: 2 pictures could be this mesh's: ${join(dir, "a/head.png")}, ${join(dir, "b/head.JPG")}; keep one, or mirror the meshes' folders in \`images\` so that paths decide`);
    expect(() => pictureFor(pictureCandidates(index, "gone.ply"), "heads/gone.ply", dir)).toThrow(
      `heads/gone.ply: no picture for this mesh in ${dir} (looked for gone.png, gone.jpg, gone.jpeg at the mesh's path under its input, then anywhere in the folder)`);
    expect(() => indexPictures(join(dir, "nothing"))).toThrow(/nothing: no such directory/);
    expect(() => indexPictures(join(dir, "solo.jpeg"))).toThrow(/is a file, not a directory/);
  });
});

describe("compile --target voxels --images", () => {
  let corpus: string, faces: string;
  beforeAll(async () => {
    corpus = tmp("corpus");
    await synthCorpus({ out: join(corpus, "set"), count: 4, vertices: 2000, seed: 5 });
    faces = tmp("faces");
    mkdirSync(join(faces, "set"));
    // head 0: a PNG at the mesh's path; head 1: a JPEG by bare name; head 2: a damaged PNG; head 3: none.
    const gradient = new Uint8Array(40 * 30 * 3).map((_, i) => (i * 7) & 0xff);
    writeFileSync(join(faces, "set", "head_00000.png"), encodePng({ width: 40, height: 30, data: gradient }));
    copyFileSync(join(FIXTURES, "rgb-progressive.jpg"), join(faces, "head_00001.jpg"));
    const broken = encodePng({ width: 4, height: 4, data: new Uint8Array(48) });
    writeFileSync(join(faces, "set", "head_00002.png"), broken.subarray(0, broken.length - 20));
  });

  it("takes each mesh's x from its picture, keeps the volumes, and fails only the meshes without a good picture", async () => {
    const out = tmp("out"), rendered = tmp("rendered");
    const r = await compile({ inputs: [corpus], out, target: "voxels", images: faces, build: "debug", workers: 2 });
    expect(r.error).toBeUndefined();
    const s = r.summary!;
    expect(s.compiled).toBe(2);
    const failed = Object.fromEntries(s.failed.map((f) => [f.path, f.message]));
    expect(Object.keys(failed).sort()).toEqual(["set/head_00002.ply", "set/head_00003.ply"]);
    expect(failed["set/head_00002.ply"]).toMatch(/head_00002\.png \(the picture of .*head_00002\.ply\): the file ends/);
    expect(failed["set/head_00003.ply"]).toMatch(/head_00003\.ply: no picture for this mesh in .* \(looked for head_00003\.png, head_00003\.jpg, head_00003\.jpeg/);

    const x = readFileSync(join(out, "train_x.dat"));
    expect(x.length).toBe(2 * 1024);
    const want0 = pictureToGray(readPicture(join(faces, "set", "head_00000.png"), "m"), 32);
    const want1 = pictureToGray(readPicture(join(faces, "head_00001.jpg"), "m"), 32);
    expect(x.subarray(0, 1024).equals(Buffer.from(want0))).toBe(true);
    expect(x.subarray(1024).equals(Buffer.from(want1))).toBe(true);

    // The volumes are the mesh's whatever gives x.
    const plain = await compile({ inputs: [join(corpus, "set", "head_00000.ply"), join(corpus, "set", "head_00001.ply")], out: rendered, target: "voxels", build: "debug" });
    expect(plain.error).toBeUndefined();
    expect(readFileSync(join(out, "train_y.dat")).equals(readFileSync(join(rendered, "train_y.dat")))).toBe(true);
    expect(readFileSync(join(rendered, "train_x.dat")).equals(x)).toBe(false);

    const manifest: Manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.options.images).toBe(faces);
    expect(JSON.stringify(manifest)).toContain("face picture (--images), centred square, 32x32 grayscale");
  });

  it("the command line refuses --images without --target voxels, and a missing folder, as usage errors", () => {
    const bin = join(PACKAGE_ROOT, "bin", "headsnet.js");
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, "compile", corpus, "-o", join(tmp("cli"), "o"), ...args], { encoding: "utf8" });
    const surface = run("--target", "surface", "--images", faces);
    expect(surface.status).toBe(2);
    expect(surface.stderr).toMatch(/--images gives FaceNet's input pictures: it needs --target voxels, got --target surface/);
    const missing = run("--target", "voxels", "--images", join(faces, "nowhere"));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/nowhere: no such directory/);
  });
});

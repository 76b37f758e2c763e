// Face pictures for `compile --target voxels --images DIR`: FaceNet's train_x from real pictures
// instead of the mesh's rendered front view. Pictures are matched to meshes by path stem, decoded
// (PNG: src/view/png.ts; JPEG: jpeg-js, pure JavaScript), cropped to their centred square and
// averaged down to size × size 8-bit grey, the same luma as the rendered view.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, extname, join, posix, relative, sep } from "node:path";
import jpeg from "jpeg-js";
import { decodePngRgba, PictureFormatError, MAX_PICTURE_PIXELS, type RgbaImage } from "./view/png.js";
import { errors } from "./errors.js";

/** Picture files `--images` reads, by extension (any case). */
export const PICTURE_EXTENSIONS: readonly string[] = [".png", ".jpg", ".jpeg"];

/** Where each picture under a folder is, by its path stem and by its bare stem. */
export interface PictureIndex {
  dir: string;
  /** "sub/name" (POSIX separators, no extension) -> files with that stem. */
  byPath: Map<string, string[]>;
  /** "name" -> files with that stem anywhere under dir. */
  byName: Map<string, string[]>;
  count: number;
}

/** Every picture under `dir` (recursively), indexed for pictureCandidates(). */
export function indexPictures(dir: string): PictureIndex {
  let stat;
  try {
    stat = statSync(dir);
  } catch {
    throw errors.notFound(dir, "directory");
  }
  if (!stat.isDirectory()) throw errors.notDirectory(dir, "--images takes a folder of pictures");
  const index: PictureIndex = { dir, byPath: new Map(), byName: new Map(), count: 0 };
  const add = (map: Map<string, string[]>, key: string, file: string) => {
    const list = map.get(key);
    if (list) list.push(file);
    else map.set(key, [file]);
  };
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const file = join(folder, entry.name);
      if (entry.isDirectory()) walk(file);
      else if ((entry.isFile() || entry.isSymbolicLink()) && PICTURE_EXTENSIONS.includes(extname(entry.name).toLowerCase())) {
        const stem = relative(dir, file).split(sep).join(posix.sep).slice(0, -extname(entry.name).length);
        add(index.byPath, stem, file);
        add(index.byName, posix.basename(stem), file);
        index.count++;
      }
    }
  };
  walk(dir);
  return index;
}

/**
 * The pictures that may belong to a mesh, given its path under its input ("sub/head.ply"): those
 * with the same path stem ("sub/head.png"), else those anywhere with the same bare stem. One is a
 * match; none or several are the mesh's error (pictureFor()).
 */
export function pictureCandidates(index: PictureIndex, meshKey: string): string[] {
  const key = meshKey.split(sep).join(posix.sep);
  const stem = key.slice(0, key.length - posix.extname(key).length);
  return index.byPath.get(stem) ?? index.byName.get(posix.basename(stem)) ?? [];
}

/** The one picture of a mesh, or an error naming the mesh and what was looked for. */
export function pictureFor(candidates: readonly string[], mesh: string, dir: string): string {
  if (candidates.length === 1) return candidates[0];
  if (!candidates.length) {
    const stem = basename(mesh, extname(mesh));
    throw errors.noPicture(mesh, dir, PICTURE_EXTENSIONS.map((e) => stem + e));
  }
  throw errors.ambiguousPicture(mesh, candidates);
}

/** Decode a PNG or JPEG file into 8-bit RGBA; errors name the file and, where known, the byte. */
export function readPicture(path: string, mesh: string): RgbaImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw errors.read(path, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
  try {
    if (bytes.length >= 8 && bytes[0] === 0x89 && bytes.toString("latin1", 1, 4) === "PNG") return decodePngRgba(bytes);
    if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
      const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PICTURE_PIXELS / 1e6, maxMemoryUsageInMB: 2048 });
      if (!image.width || !image.height) throw new PictureFormatError("the JPEG has no pixels");
      return { width: image.width, height: image.height, data: image.data };
    }
    throw new PictureFormatError(bytes.length ? "neither a PNG nor a JPEG file (unknown signature)" : "the file is empty", 0);
  } catch (e) {
    const what = e instanceof PictureFormatError ? e.message : `bad JPEG: ${String((e as Error)?.message ?? e)}`;
    throw errors.picture(path, mesh, what, e instanceof PictureFormatError ? e.offset : undefined);
  }
}

/**
 * A picture as FaceNet's input: its centred square, averaged down (or spread up) to size × size,
 * as 8-bit grey (0.299 R + 0.587 G + 0.114 B, rounded), transparent pixels over `background`.
 * Each output pixel is the area-weighted mean of the source pixels it covers.
 */
export function pictureToGray(image: RgbaImage, size: number, background = 0): Uint8Array {
  const side = Math.min(image.width, image.height);
  const left = (image.width - side) >> 1, top = (image.height - side) >> 1;
  // Grey per source pixel of the square, composited over the background.
  const grey = new Float64Array(side * side);
  const d = image.data;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const p = ((top + y) * image.width + left + x) * 4;
      const a = d[p + 3] / 255;
      grey[y * side + x] = a * (0.299 * d[p] + 0.587 * d[p + 1] + 0.114 * d[p + 2]) + (1 - a) * background;
    }
  }
  const { first, count, weight, span } = coverage(side, size);
  // Rows first (side × size), then columns (size × size).
  const rows = new Float64Array(side * size);
  for (let y = 0; y < side; y++) {
    for (let o = 0; o < size; o++) {
      let sum = 0;
      for (let k = 0; k < count[o]; k++) sum += weight[o * span + k] * grey[y * side + first[o] + k];
      rows[y * size + o] = sum;
    }
  }
  const out = new Uint8Array(size * size);
  for (let o = 0; o < size; o++) {
    for (let x = 0; x < size; x++) {
      let sum = 0;
      for (let k = 0; k < count[o]; k++) sum += weight[o * span + k] * rows[(first[o] + k) * size + x];
      out[o * size + x] = Math.min(255, Math.max(0, Math.round(sum)));
    }
  }
  return out;
}

/**
 * Per output pixel of `size`, the source pixels of `side` it covers (count[o] of them from first[o])
 * and their shares (weight[o * span + k], summing to 1).
 */
function coverage(side: number, size: number) {
  const scale = side / size;
  const span = Math.ceil(scale) + 1;
  const first = new Int32Array(size), count = new Int32Array(size), weight = new Float64Array(size * span);
  for (let o = 0; o < size; o++) {
    const from = o * scale, to = (o + 1) * scale;
    first[o] = Math.floor(from);
    for (let i = first[o]; i < Math.min(side, Math.ceil(to)); i++) {
      const w = Math.min(to, i + 1) - Math.max(from, i);
      weight[o * span + count[o]++] = w / scale;
    }
  }
  return { first, count, weight, span };
}

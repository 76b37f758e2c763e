// PNG encoding (8-bit RGB, what `headsnet render` writes) and decoding (every PNG: what render
// writes, Chromium's screenshots, and the face pictures of `compile --images`), with node:zlib.

import { deflateSync, inflateSync } from "node:zlib";

export interface RgbImage {
  width: number;
  height: number;
  /** 3 bytes per pixel, rows top to bottom. */
  data: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "latin1");
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Encode an RGB image; each row takes the filter with the smallest sum of absolute residuals. */
export function encodePng(image: RgbImage): Buffer {
  const { width, height, data } = image;
  if (data.length !== width * height * 3) throw new Error(`encodePng: expected ${width * height * 3} bytes, got ${data.length}`);
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  const candidate = new Uint8Array(stride);
  const best = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = data.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? data.subarray((y - 1) * stride, y * stride) : undefined;
    let bestFilter = 0, bestScore = Infinity;
    for (let filter = 0; filter < 5; filter++) {
      let score = 0;
      for (let i = 0; i < stride; i++) {
        const a = i >= 3 ? row[i - 3] : 0, b = up ? up[i] : 0, c = up && i >= 3 ? up[i - 3] : 0;
        const predicted = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : paeth(a, b, c);
        const r = (row[i] - predicted) & 0xff;
        candidate[i] = r;
        score += r < 128 ? r : 256 - r;
      }
      if (score < bestScore) {
        bestScore = score;
        bestFilter = filter;
        best.set(candidate);
      }
    }
    raw[y * (stride + 1)] = bestFilter;
    raw.set(best, y * (stride + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([SIGNATURE, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw, { level: 9 })), chunk("IEND", new Uint8Array(0))]);
}

/** A decoded picture: 4 bytes per pixel (R G B A), rows top to bottom. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** What is wrong with a picture's bytes, and where (a byte offset into the file, when known). */
export class PictureFormatError extends Error {
  constructor(message: string, readonly offset?: number) {
    super(message);
    this.name = "PictureFormatError";
  }
}

/** The most pixels a picture may have: a guard against a tiny file that inflates to gigabytes. */
export const MAX_PICTURE_PIXELS = 100_000_000;

/** Channels per colour type: grey, -, RGB, palette, grey + alpha, -, RGBA. */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const PNG_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
/** Adam7: per pass, the first column and row and the steps between them. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/**
 * Decode any PNG (every colour type and bit depth, palettes, tRNS transparency, Adam7
 * interlacing) into 8-bit RGBA; 16-bit samples are rounded to 8 bits. Chunks' CRCs are checked.
 */
export function decodePngRgba(bytes: Uint8Array): RgbaImage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(SIGNATURE)) throw new PictureFormatError("not a PNG file (bad signature)", 0);
  let at = 8;
  let width = 0, height = 0, depth = 0, colorType = -1, interlace = 0;
  let palette: Uint8Array | undefined, transparency: Uint8Array | undefined;
  const idat: Buffer[] = [];
  let ended = false;
  while (at + 8 <= buf.length) {
    const length = buf.readUInt32BE(at);
    const type = buf.toString("latin1", at + 4, at + 8);
    if (at + 12 + length > buf.length) throw new PictureFormatError(`the file ends inside its ${JSON.stringify(type)} chunk`, at);
    const data = buf.subarray(at + 8, at + 8 + length);
    if (crc32(buf.subarray(at + 4, at + 8 + length)) !== buf.readUInt32BE(at + 8 + length)) {
      throw new PictureFormatError(`the ${JSON.stringify(type)} chunk is damaged (its CRC does not match)`, at);
    }
    if (colorType < 0 && type !== "IHDR") throw new PictureFormatError(`expected the IHDR chunk first, found ${JSON.stringify(type)}`, at);
    if (type === "IHDR") {
      if (length < 13) throw new PictureFormatError("the IHDR chunk is too short", at);
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8];
      colorType = data[9];
      interlace = data[12];
      if (!PNG_DEPTHS[colorType]?.includes(depth)) throw new PictureFormatError(`colour type ${colorType} with bit depth ${depth} is not a valid PNG format`, at + 16);
      if (interlace > 1) throw new PictureFormatError(`unknown interlace method ${interlace}`, at + 20);
      if (width === 0 || height === 0) throw new PictureFormatError(`the picture is empty (${width} × ${height})`, at + 8);
      if (width * height > MAX_PICTURE_PIXELS) throw new PictureFormatError(`${width} × ${height} pixels is more than the ${MAX_PICTURE_PIXELS.toLocaleString("en-US")} a picture may have`, at + 8);
    } else if (type === "PLTE") palette = data;
    else if (type === "tRNS") transparency = data;
    else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") {
      ended = true;
      break;
    }
    at += 12 + length;
  }
  if (colorType < 0) throw new PictureFormatError("no IHDR chunk", 8);
  if (!idat.length) throw new PictureFormatError("no image data (IDAT chunk)", at);
  if (!ended) throw new PictureFormatError("the file ends before its IEND chunk (truncated?)", buf.length);
  if (colorType === 3 && !palette) throw new PictureFormatError("a palette picture without a PLTE chunk", at);
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (e) {
    throw new PictureFormatError(`the image data does not inflate: ${(e as Error).message}`);
  }
  const channels = PNG_CHANNELS[colorType];
  const bitsPerPixel = channels * depth;
  const filterStep = Math.max(1, bitsPerPixel >> 3); // bytes back to the same sample of the previous pixel
  const out = new Uint8Array(width * height * 4);
  const maxSample = (1 << Math.min(depth, 8)) - 1;
  // tRNS: grey or RGB samples that are transparent (compared at the file's bit depth).
  const key = transparency && (colorType === 0 || colorType === 2)
    ? Array.from({ length: colorType === 0 ? 1 : 3 }, (_, k) => (transparency![2 * k] << 8) | transparency![2 * k + 1])
    : undefined;
  let offset = 0;
  const passes = interlace ? ADAM7 : [[0, 0, 1, 1]];
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((width - x0) / dx), h = Math.ceil((height - y0) / dy);
    if (w <= 0 || h <= 0) continue;
    const stride = Math.ceil((w * bitsPerPixel) / 8);
    if (raw.length < offset + (stride + 1) * h) throw new PictureFormatError("the image data is shorter than the picture (truncated?)");
    let prev = new Uint8Array(stride), row = new Uint8Array(stride);
    // Sample s of the current row, at the file's depth; and a sample scaled to 8 bits.
    const sampleAt = (s: number): number => {
      if (depth === 8) return row[s];
      if (depth === 16) return (row[2 * s] << 8) | row[2 * s + 1];
      const bit = s * depth;
      return (row[bit >> 3] >> (8 - depth - (bit & 7))) & maxSample;
    };
    const to8 = (v: number) => (depth === 8 ? v : depth === 16 ? Math.round(v / 257) : Math.round((v * 255) / maxSample));
    for (let y = 0; y < h; y++) {
      const filter = raw[offset];
      if (filter > 4) throw new PictureFormatError(`unknown row filter ${filter}`);
      const src = raw.subarray(offset + 1, offset + 1 + stride);
      offset += stride + 1;
      for (let i = 0; i < stride; i++) {
        const a = i >= filterStep ? row[i - filterStep] : 0, b = prev[i], c = i >= filterStep ? prev[i - filterStep] : 0;
        const predicted = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : paeth(a, b, c);
        row[i] = (src[i] + predicted) & 0xff;
      }
      if (depth === 8 && !interlace && !key && (colorType === 2 || colorType === 6)) {
        // The common case (photographs), without the per-sample work below.
        const line = out.subarray(y * width * 4, (y + 1) * width * 4);
        if (colorType === 6) line.set(row);
        else for (let x = 0, p = 0; x < w; x++, p += 4) {
          line[p] = row[3 * x];
          line[p + 1] = row[3 * x + 1];
          line[p + 2] = row[3 * x + 2];
          line[p + 3] = 255;
        }
        [prev, row] = [row, prev];
        continue;
      }
      for (let x = 0; x < w; x++) {
        const p = ((y0 + y * dy) * width + x0 + x * dx) * 4;
        const s0 = x * channels;
        if (colorType === 3) {
          const index = sampleAt(s0);
          if (3 * index + 2 >= palette!.length) throw new PictureFormatError(`pixel (${x0 + x * dx}, ${y0 + y * dy}) uses palette entry ${index}, but the palette has ${palette!.length / 3}`);
          out[p] = palette![3 * index];
          out[p + 1] = palette![3 * index + 1];
          out[p + 2] = palette![3 * index + 2];
          out[p + 3] = transparency && index < transparency.length ? transparency[index] : 255;
        } else if (colorType === 0 || colorType === 4) {
          const g = sampleAt(s0);
          out[p] = out[p + 1] = out[p + 2] = to8(g);
          out[p + 3] = colorType === 4 ? to8(sampleAt(s0 + 1)) : key && g === key[0] ? 0 : 255;
        } else {
          const r = sampleAt(s0), g = sampleAt(s0 + 1), b = sampleAt(s0 + 2);
          out[p] = to8(r);
          out[p + 1] = to8(g);
          out[p + 2] = to8(b);
          out[p + 3] = colorType === 6 ? to8(sampleAt(s0 + 3)) : key && r === key[0] && g === key[1] && b === key[2] ? 0 : 255;
        }
      }
      [prev, row] = [row, prev];
    }
  }
  return { width, height, data: out };
}

/** Decode a PNG into RGB (alpha dropped): what render writes and what Chromium's screenshots are. */
export function decodePng(bytes: Uint8Array): RgbImage {
  let image: RgbaImage;
  try {
    image = decodePngRgba(bytes);
  } catch (e) {
    throw new Error(`decodePng: ${(e as Error).message}`);
  }
  const { width, height, data: rgba } = image;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    data[p * 3] = rgba[p * 4];
    data[p * 3 + 1] = rgba[p * 4 + 1];
    data[p * 3 + 2] = rgba[p * 4 + 2];
  }
  return { width, height, data };
}

/** Pixels that differ from `background` by more than `tolerance` in some channel. */
export function countNonBackground(image: RgbImage, background: readonly [number, number, number], tolerance = 8): number {
  let n = 0;
  for (let p = 0; p < image.width * image.height; p++) {
    const d = image.data;
    if (Math.abs(d[p * 3] - background[0]) > tolerance || Math.abs(d[p * 3 + 1] - background[1]) > tolerance || Math.abs(d[p * 3 + 2] - background[2]) > tolerance) n++;
  }
  return n;
}

// The README's pictures of the mesh targets, from a compiled dataset of each: a head's voxel
// volume as slices (with the front view that is its train_x), and a head's occupancy points
// coloured by label (inside orange, outside blue-grey), drawn by the viewer's renderer.
//
//   node dist/bench/target-pictures.js VOXELS_DIR OCCUPANCY_DIR -o docs/   [--model 0]
//
// Both directories are `headsnet compile --target voxels|occupancy` outputs (format dat).

import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { encodePng, type RgbImage } from "../src/view/png.js";
import { renderPanels } from "../src/view/raster.js";

interface Manifest {
  files: Record<string, { name: string; width: number; dataOffset: number }>;
  models: { path: string; firstRow: number; rows: number }[];
  options: { grid?: number };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;

/** One model's row(s) of a stream, as bytes. */
function rowsOf(dir: string, m: Manifest, key: string, model: number, bytesPerElement: number): Buffer {
  const f = m.files[key];
  const row = f.width * bytesPerElement;
  const all = readFileSync(join(dir, f.name));
  const mod = m.models[model];
  return all.subarray(f.dataOffset + mod.firstRow * row, f.dataOffset + (mod.firstRow + mod.rows) * row);
}

/**
 * The volume's slices along y (front to back), `count` of them evenly spaced, in a row, each
 * cell `scale` pixels, beside the front view; grey values as they are in the file.
 */
function voxelSlices(dir: string, model: number, count: number, scale: number): RgbImage {
  const m = manifestOf(dir);
  const grid = m.options.grid ?? 32;
  const volume = rowsOf(dir, m, "y", model, 1);
  const front = rowsOf(dir, m, "x", model, 1);
  const view = Math.round(Math.sqrt(front.length));
  const gap = 6, side = grid * scale;
  const width = (count + 1) * (side + gap) - gap, height = side;
  const data = new Uint8Array(width * height * 3).fill(0x18);
  const put = (x: number, y: number, g: number) => {
    const p = (y * width + x) * 3;
    data[p] = data[p + 1] = data[p + 2] = g;
  };
  // The front view (train_x), scaled to the slices' size; rows top to bottom.
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) put(x, y, front[Math.floor((y * view) / side) * view + Math.floor((x * view) / side)]);
  for (let s = 0; s < count; s++) {
    const j = Math.round(((s + 1) * (grid - 1)) / (count + 1)); // y index, front (−Y) to back
    const x0 = (s + 1) * (side + gap);
    for (let k = 0; k < grid; k++) {
      for (let i = 0; i < grid; i++) {
        const g = volume[k * grid * grid + j * grid + i];
        for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) put(x0 + i * scale + dx, (grid - 1 - k) * scale + dy, g); // z up
      }
    }
  }
  return { width, height, data };
}

/** A model's occupancy points, inside orange and outside blue-grey, from the front and the side. */
function occupancyPoints(dir: string, model: number, size: number): RgbImage {
  const m = manifestOf(dir);
  const bytes = rowsOf(dir, m, "points", model, 4);
  const rows = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const count = rows.length / 5;
  // The points behind the centre (y above it), seen from the front: a cross-section at the cut.
  const keep: number[] = [];
  let cy = 0;
  for (let i = 0; i < count; i++) cy += rows[i * 5 + 1] / count;
  for (let i = 0; i < count; i++) if (rows[i * 5 + 1] > cy) keep.push(i);
  const positions = new Float32Array(keep.length * 3), colors = new Float32Array(keep.length * 3);
  keep.forEach((i, k) => {
    positions.set(rows.subarray(i * 5, i * 5 + 3), k * 3);
    colors.set(rows[i * 5 + 3] > 0.5 ? [0.95, 0.55, 0.2] : [0.35, 0.45, 0.6], k * 3);
  });
  const cloud = { count: keep.length, positions, colors };
  return renderPanels([{ cloud }], { width: size, height: size, view: "front", supersample: 2 });
}

const [voxels, occupancy] = process.argv.slice(2).filter((a, i, all) => !a.startsWith("-") && !(all[i - 1] ?? "").startsWith("-"));
const out = arg("-o", "docs");
const model = Number(arg("--model", "0"));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "voxels.png"), encodePng(voxelSlices(voxels, model, 5, 4)));
writeFileSync(join(out, "occupancy.png"), encodePng(occupancyPoints(occupancy, model, 480)));
process.stdout.write(`wrote ${join(out, "voxels.png")} and ${join(out, "occupancy.png")}\n`);

// A small software renderer for `headsnet render`: orthographic views of point clouds (depth-shaded
// splats) and meshes (vertex colours, Lambert shading), z-buffered, 2x2 supersampled, side by side
// in panels. The viewer page uses the same views, colours and background.

import type { Cloud } from "./source.js";
import type { RgbImage } from "./png.js";

export type ViewName = "front" | "side" | "three-quarter";
export const VIEW_NAMES: readonly ViewName[] = ["front", "side", "three-quarter"];
export type ColorMode = "rgb" | "index";
export const COLOR_MODES: readonly ColorMode[] = ["rgb", "index"];

/** Background of every picture and of the viewer page (#181a1f). */
export const BACKGROUND: readonly [number, number, number] = [0x18, 0x1a, 0x1f];

/**
 * Where the camera sits, seen from the head's centre. Heads are in Blender's frame: Z up, the face
 * toward -Y, ears on ±X. The same vectors are in page/app.js.
 */
export const VIEW_DIRECTIONS: Record<ViewName, [number, number, number]> = {
  front: [0, -1, 0],
  side: [1, 0, 0],
  "three-quarter": normalize([0.7, -0.7, 0.3]),
};

function normalize(v: number[]): [number, number, number] {
  const n = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / n, v[1] / n, v[2] / n];
}

/**
 * A colour per icosphere vertex i: its direction q as a colour (0.5 + 0.5·q), so rows traced right
 * vary smoothly over the head, times a brightness that jumps from vertex to vertex, so each
 * vertex's cell of rows stands out. The page computes the same (page/app.js).
 */
export function indexColor(i: number, icosphere: Float32Array, out: Float32Array, at: number): void {
  const k = 0.6 + 0.4 * ((i * 0.6180339887498949) % 1);
  for (let c = 0; c < 3; c++) out[at + c] = (0.5 + 0.5 * icosphere[i * 3 + c]) * k;
}

/** The colours to draw a cloud with (index colours need the icosphere's vertices). */
export function cloudColors(cloud: Cloud, mode: ColorMode, icosphere?: Float32Array): Float32Array {
  if (mode === "rgb" || !cloud.index || !icosphere) return cloud.colors;
  const out = new Float32Array(cloud.count * 3);
  for (let i = 0; i < cloud.count; i++) indexColor(cloud.index[i], icosphere, out, i * 3);
  return out;
}

export interface Panel {
  cloud: Cloud;
  colors?: Float32Array;
  /** Draw faces as a surface when the cloud has them (default true). */
  surface?: boolean;
}

export interface RenderOptions {
  width: number;
  height: number;
  view: ViewName;
  /** Supersampling factor per axis (default 2). */
  supersample?: number;
  /** Background colour, 0-255 each (default BACKGROUND). */
  background?: readonly [number, number, number];
}

export interface Frame {
  right: number[];
  up: number[];
  forward: number[];
}

export function cameraFrame(view: ViewName): Frame {
  const d = VIEW_DIRECTIONS[view];
  const forward = [-d[0], -d[1], -d[2]];
  const worldUp = [0, 0, 1];
  const right = normalize(cross(forward, worldUp));
  const up = cross(right, forward);
  return { right, up, forward };
}

function cross(a: number[], b: number[]): number[] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function centre(positions: Float32Array): number[] {
  const min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < positions.length; i += 3) {
    for (let c = 0; c < 3; c++) {
      const v = positions[i + c];
      if (!Number.isFinite(v)) continue;
      if (v < min[c]) min[c] = v;
      if (v > max[c]) max[c] = v;
    }
  }
  return min.map((m, c) => (Number.isFinite(m) ? (m + max[c]) / 2 : 0));
}

function radius(positions: Float32Array, c: number[]): number {
  // The largest squared distance, then one square root (Math.hypot per point cost a tenth of a
  // head's front view).
  let r2 = 0;
  const cx = c[0], cy = c[1], cz = c[2];
  for (let i = 0; i < positions.length; i += 3) {
    const x = positions[i] - cx, y = positions[i + 1] - cy, z = positions[i + 2] - cz;
    const d2 = x * x + y * y + z * z;
    if (d2 > r2 && d2 < Infinity) r2 = d2;
  }
  return Math.sqrt(r2);
}

/** Render panels side by side, all at one scale, each centred on its own bounding box. */
export function renderPanels(panels: Panel[], options: RenderOptions): RgbImage {
  const ss = options.supersample ?? 2;
  const background = options.background ?? BACKGROUND;
  const W = options.width * ss, H = options.height * ss;
  const color = new Float32Array(W * H * 3);
  for (let p = 0; p < W * H; p++) {
    color[p * 3] = background[0] / 255;
    color[p * 3 + 1] = background[1] / 255;
    color[p * 3 + 2] = background[2] / 255;
  }
  const depth = new Float32Array(W * H).fill(Infinity);
  const frame = cameraFrame(options.view);
  const centres = panels.map((p) => centre(p.cloud.positions));
  const R = Math.max(1e-6, ...panels.map((p, k) => radius(p.cloud.positions, centres[k])));
  const panelWidth = W / Math.max(1, panels.length);
  panels.forEach((panel, k) => {
    const scale = (0.94 * Math.min(panelWidth, H)) / 2 / R;
    const target: Target = { color, depth, W, H, x0: Math.round(k * panelWidth), x1: Math.round((k + 1) * panelWidth) };
    const project = projector(frame, centres[k], scale, (target.x0 + target.x1) / 2, H / 2);
    const colors = panel.colors ?? panel.cloud.colors;
    if (panel.cloud.faces && panel.cloud.faces.length && panel.surface !== false) drawMesh(target, panel.cloud, colors, project, frame);
    else drawPoints(target, panel.cloud, colors, project, R, scale);
  });
  return downsample(color, W, H, ss);
}

interface Target {
  color: Float32Array;
  depth: Float32Array;
  W: number;
  H: number;
  x0: number;
  x1: number;
}

/** World point to [screen x, screen y, depth] (depth grows away from the camera). */
function projector(frame: Frame, c: number[], scale: number, cx: number, cy: number) {
  const { right, up, forward } = frame;
  return (positions: Float32Array, i: number, out: Float64Array, at: number): void => {
    const x = positions[i] - c[0], y = positions[i + 1] - c[1], z = positions[i + 2] - c[2];
    out[at] = cx + scale * (x * right[0] + y * right[1] + z * right[2]);
    out[at + 1] = cy - scale * (x * up[0] + y * up[1] + z * up[2]);
    out[at + 2] = x * forward[0] + y * forward[1] + z * forward[2];
  };
}

function drawPoints(t: Target, cloud: Cloud, colors: Float32Array, project: ReturnType<typeof projector>, R: number, scale: number): void {
  // A splat big enough that a surface sampled by `count` points reads as closed.
  const r = Math.max(1, R * scale * Math.sqrt(2 / Math.max(1, cloud.count)) * 1.3);
  const ri = Math.ceil(r);
  const s = new Float64Array(3);
  for (let i = 0; i < cloud.count; i++) {
    project(cloud.positions, i * 3, s, 0);
    if (!Number.isFinite(s[0]) || !Number.isFinite(s[1]) || !Number.isFinite(s[2])) continue;
    // Nearer is brighter: a depth cue for points without normals.
    const shade = 1 - 0.45 * Math.min(1, Math.max(0, (s[2] + R) / (2 * R)));
    const cr = clamp01(colors[i * 3]) * shade, cg = clamp01(colors[i * 3 + 1]) * shade, cb = clamp01(colors[i * 3 + 2]) * shade;
    const px = Math.round(s[0]), py = Math.round(s[1]);
    for (let dy = -ri; dy <= ri; dy++) {
      const y = py + dy;
      if (y < 0 || y >= t.H) continue;
      for (let dx = -ri; dx <= ri; dx++) {
        const x = px + dx;
        if (x < t.x0 || x >= t.x1 || dx * dx + dy * dy > r * r) continue;
        const p = y * t.W + x;
        if (s[2] >= t.depth[p]) continue;
        t.depth[p] = s[2];
        t.color[p * 3] = cr;
        t.color[p * 3 + 1] = cg;
        t.color[p * 3 + 2] = cb;
      }
    }
  }
}

/** Light from the camera, a little from above; both faces of a triangle are lit. */
export function meshLight(frame: Frame): number[] {
  return normalize([
    -frame.forward[0] + 0.35 * frame.up[0],
    -frame.forward[1] + 0.35 * frame.up[1],
    -frame.forward[2] + 0.35 * frame.up[2],
  ]);
}

function drawMesh(t: Target, cloud: Cloud, colors: Float32Array, project: ReturnType<typeof projector>, frame: Frame): void {
  const n = cloud.count, faces = cloud.faces!;
  const screen = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) project(cloud.positions, i * 3, screen, i * 3);
  // Smooth vertex normals from area-weighted face normals.
  const normals = new Float32Array(n * 3);
  const P = cloud.positions;
  // Scalars, not arrays: a head has ~190,000 faces, and an array per face was most of the time.
  for (let f = 0; f < faces.length; f += 3) {
    const a = faces[f] * 3, b = faces[f + 1] * 3, c = faces[f + 2] * 3;
    const e10 = P[b] - P[a], e11 = P[b + 1] - P[a + 1], e12 = P[b + 2] - P[a + 2];
    const e20 = P[c] - P[a], e21 = P[c + 1] - P[a + 1], e22 = P[c + 2] - P[a + 2];
    const fx = e11 * e22 - e12 * e21, fy = e12 * e20 - e10 * e22, fz = e10 * e21 - e11 * e20;
    normals[a] += fx; normals[a + 1] += fy; normals[a + 2] += fz;
    normals[b] += fx; normals[b + 1] += fy; normals[b + 2] += fz;
    normals[c] += fx; normals[c + 1] += fy; normals[c + 2] += fz;
  }
  const light = meshLight(frame);
  const shaded = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const nx = normals[i * 3], ny = normals[i * 3 + 1], nz = normals[i * 3 + 2];
    const len = Math.sqrt(nx * nx + ny * ny + nz * nz) || 1;
    const lambert = Math.abs((nx * light[0] + ny * light[1] + nz * light[2]) / len);
    const k = 0.3 + 0.7 * lambert;
    for (let c = 0; c < 3; c++) shaded[i * 3 + c] = clamp01(colors[i * 3 + c]) * k;
  }
  for (let f = 0; f < faces.length; f += 3) {
    const a = faces[f], b = faces[f + 1], c = faces[f + 2];
    const ax = screen[a * 3], ay = screen[a * 3 + 1], az = screen[a * 3 + 2];
    const bx = screen[b * 3], by = screen[b * 3 + 1], bz = screen[b * 3 + 2];
    const cx = screen[c * 3], cy = screen[c * 3 + 1], cz = screen[c * 3 + 2];
    const area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    if (!(Math.abs(area) > 1e-12)) continue;
    // The pixels whose centres (x + 0.5, y + 0.5) lie in the triangle's box: most of a head's
    // triangles are smaller than a pixel, and cover one or none.
    const minX = Math.max(t.x0, Math.ceil(Math.min(ax, bx, cx) - 0.5)), maxX = Math.min(t.x1 - 1, Math.floor(Math.max(ax, bx, cx) - 0.5));
    const minY = Math.max(0, Math.ceil(Math.min(ay, by, cy) - 0.5)), maxY = Math.min(t.H - 1, Math.floor(Math.max(ay, by, cy) - 0.5));
    for (let y = minY; y <= maxY; y++) {
      const py = y + 0.5;
      for (let x = minX; x <= maxX; x++) {
        const px = x + 0.5;
        const w0 = ((bx - px) * (cy - py) - (by - py) * (cx - px)) / area;
        const w1 = ((cx - px) * (ay - py) - (cy - py) * (ax - px)) / area;
        const w2 = 1 - w0 - w1;
        if (w0 < 0 || w1 < 0 || w2 < 0) continue;
        const z = w0 * az + w1 * bz + w2 * cz;
        const p = y * t.W + x;
        if (z >= t.depth[p]) continue;
        t.depth[p] = z;
        for (let k = 0; k < 3; k++) t.color[p * 3 + k] = w0 * shaded[a * 3 + k] + w1 * shaded[b * 3 + k] + w2 * shaded[c * 3 + k];
      }
    }
  }
}

function clamp01(v: number): number {
  return v > 1 ? 1 : v > 0 ? v : 0;
}

function downsample(color: Float32Array, W: number, H: number, ss: number): RgbImage {
  const width = W / ss, height = H / ss;
  const data = new Uint8Array(width * height * 3);
  const norm = 255 / (ss * ss);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < 3; k++) {
        let sum = 0;
        for (let j = 0; j < ss; j++) for (let i = 0; i < ss; i++) sum += color[((y * ss + j) * W + x * ss + i) * 3 + k];
        data[(y * width + x) * 3 + k] = Math.round(sum * norm);
      }
    }
  }
  return { width, height, data };
}

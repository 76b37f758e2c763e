// `headsnet render`: the viewer's pictures without a browser, as PNG files: a PLY head, a compiled
// model's rows, or a trained model's head beside the training head with the nearest id.

import { writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { HeadsnetError, errors, opt } from "../errors.js";
import { encodePng, countNonBackground } from "./png.js";
import { renderPanels, cloudColors, BACKGROUND, type ViewName, type ColorMode, type Panel } from "./raster.js";
import { openSource, nearestModel, sourceIcosphere, type OpenOptions, type Source, type Cloud } from "./source.js";
import { generateHead, loadLayersModel } from "./generate.js";

export interface RenderOptions extends OpenOptions {
  input: string;
  out: string;
  view?: ViewName;
  width?: number;
  height?: number;
  /** rgb: the points' own colours; index: a colour per icosphere vertex. */
  color?: ColorMode;
  /** Dataset input: the model to show (its path or id; default the first). */
  model?: string;
  /** Trained model input: the id to generate (default: the first training head's id, or 0.5). */
  id?: number;
}

export interface RenderSummary {
  file: string;
  kind: Source["kind"];
  width: number;
  height: number;
  bytes: number;
  view: ViewName;
  panels: { label: string; points: number; faces: number }[];
  /** Pixels that are not the background. */
  covered: number;
}

export const MAX_RENDER_SIDE = 8192;

/** "WxH" to numbers; a usage error for anything else. */
export function parseSize(text: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/i.exec(text.trim());
  const width = m ? Number(m[1]) : NaN, height = m ? Number(m[2]) : NaN;
  if (!m || width < 16 || height < 16 || width > MAX_RENDER_SIDE || height > MAX_RENDER_SIDE) {
    throw errors.usage(`${opt("size")} must be WIDTHxHEIGHT with each side from 16 to ${MAX_RENDER_SIDE} pixels, e.g. 800x600; got ${JSON.stringify(text)}`);
  }
  return { width, height };
}

/** What a source shows: one panel, or for a trained model the generated head and the nearest training head. */
export async function sourcePanels(source: Source, options: { color?: ColorMode; model?: string; id?: number }): Promise<{ label: string; cloud: Cloud }[]> {
  if (source.kind === "ply") return [{ label: source.path, cloud: source.cloud }];
  if (source.kind === "dataset") {
    const k = source.select(options.model);
    const m = source.models[k];
    return [{ label: `${m.path} (id ${m.id})`, cloud: source.read(k) }];
  }
  const model = await loadLayersModel(source);
  const id = options.id ?? (source.dataset ? source.dataset.models[0].id : 0.5);
  if (!(id >= 0 && id <= 1)) throw errors.usage(`${opt("id")} must be a model id from 0 to 1, got ${id}`);
  const panels = [{ label: `generated, id ${id}`, cloud: await generateHead(model, source, id) }];
  model.dispose();
  if (source.dataset) {
    const k = nearestModel(source.dataset.models, id);
    const m = source.dataset.models[k];
    panels.push({ label: `training head ${m.path} (id ${m.id})`, cloud: source.dataset.read(k) });
  }
  return panels;
}

export async function render(options: RenderOptions): Promise<{ error?: HeadsnetError; summary?: RenderSummary }> {
  try {
    const width = options.width ?? 800, height = options.height ?? 600;
    const view = options.view ?? "three-quarter";
    const source = openSource(options.input, options);
    const shown = await sourcePanels(source, options);
    const color = options.color ?? "rgb";
    const icosphere = color === "index" ? sourceIcosphere(source).vertices : undefined;
    const panels: Panel[] = shown.map((p) => ({
      cloud: p.cloud,
      colors: cloudColors(p.cloud, color, icosphere),
      // Index colours are per row: show rows as points, the way they were traced.
      surface: color === "rgb",
    }));
    const image = renderPanels(panels, { width, height, view });
    const png = encodePng(image);
    try {
      mkdirSync(dirname(options.out), { recursive: true });
      writeFileSync(options.out, png);
    } catch (e) {
      throw errors.output(options.out, (e as Error).message);
    }
    return {
      summary: {
        file: options.out,
        kind: source.kind,
        width,
        height,
        bytes: png.byteLength,
        view,
        panels: shown.map((p) => ({ label: p.label, points: p.cloud.count, faces: p.cloud.faces && color === "rgb" ? p.cloud.faces.length / 3 : 0 })),
        covered: countNonBackground(image, BACKGROUND),
      },
    };
  } catch (e) {
    if (e instanceof HeadsnetError) return { error: e };
    throw e;
  }
}

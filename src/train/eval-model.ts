// `headsnet eval MODEL --data DATASET`: a trained model's heads against the training heads they
// were generated for, beside the baselines (evaluate.ts), as numbers and as a picture: a PNG grid
// with one row per id shown, the training head on the left and the generated head on the right.

import { writeFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { tf, initBackend } from "./backend.js";
import { loadModel } from "./model.js";
import { openDataset } from "./data.js";
import { Encoder, describeEncoding } from "./encoding.js";
import { headGrid, generateHead, modelEncoding, type GeneratedHead } from "./heads.js";
import { readHeads, scoreHeads, scoreBaselines, spreadHeads, DEFAULT_EVAL_HEADS, type Quality, type BaselineQuality, type TrainingHead } from "./evaluate.js";
import { modelMetadata } from "../view/source.js";
import { recordedIcosphere } from "../icosphere.js";
import { renderPanels, type ViewName } from "../view/raster.js";
import { encodePng, type RgbImage } from "../view/png.js";
import { errors, captureErrors, opt } from "../errors.js";
import type { HeadsnetError } from "../errors.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface EvalModelOptions {
  model: string;
  /** The dataset to compare with (default: the one the model records). */
  data?: string | string[];
  /** Training heads evaluated (default: all, up to 32, spread over the ids). */
  heads?: number;
  /** Direction and fourier models: the icosphere level the heads are generated on (default 5). */
  level?: number;
  /** The dataset's or model's icosphere table, when its record does not find it. */
  icosphere?: number | string;
  /** Also score the baselines (default true). */
  baselines?: boolean;
  /** Write a PNG grid (training head | generated head, one row per id) here. */
  png?: string;
  /** Rows of the grid (default 4). */
  gridRows?: number;
  /** Pixels per panel side in the grid (default 320). */
  panelSize?: number;
  view?: ViewName;
}

export interface EvalModelSummary {
  model: string;
  data: string;
  encoding: string;
  /** Points per generated head, and the level of the icosphere they lie on (null: a table). */
  points: number;
  level: number | null;
  heads: number;
  quality: Quality;
  baselines: BaselineQuality | null;
  png: string | null;
  seconds: number;
}

export const EVAL_DEFAULTS = { gridRows: 4, panelSize: 320, view: "three-quarter" as ViewName };

/** The dataset a model records (model.json's headsnet block, training.json's data source), if still there. */
function recordedDataset(modelDir: string): string | undefined {
  try {
    return modelMetadata(modelDir, JSON.parse(readFileSync(join(modelDir, "model.json"), "utf8"))).dataset;
  } catch {
    return undefined;
  }
}

/** A grid of rows [training head | generated head], stacked top to bottom. */
export function headGridPng(rows: { training: TrainingHead; generated: GeneratedHead }[], size: number, view: ViewName): RgbImage {
  const images = rows.map(({ training, generated }) => renderPanels([
    { cloud: { count: training.points.length / 3, positions: training.points, colors: training.colors } },
    { cloud: { count: generated.points.length / 3, positions: generated.points, colors: generated.colors, faces: generated.faces } },
  ], { width: 2 * size, height: size, view }));
  const width = 2 * size, height = size * images.length;
  const data = new Uint8Array(width * height * 3);
  images.forEach((img, k) => data.set(img.data, k * width * size * 3));
  return { width, height, data };
}

export async function evaluateModel(o: EvalModelOptions): Promise<{ error?: HeadsnetError; summary?: EvalModelSummary }> {
  const r = await captureErrors(async () => {
    const started = performance.now();
    if (o.heads !== undefined && !(Number.isInteger(o.heads) && o.heads >= 1)) throw errors.usage(`${opt("heads")} must be an integer from 1 up, got ${o.heads}`);
    const gridRows = o.gridRows ?? EVAL_DEFAULTS.gridRows, size = o.panelSize ?? EVAL_DEFAULTS.panelSize;
    if (!(Number.isInteger(gridRows) && gridRows >= 1 && gridRows <= 64)) throw errors.usage(`${opt("gridRows")} must be an integer from 1 to 64, got ${gridRows}`);
    if (!(Number.isInteger(size) && size >= 16 && size <= 4096)) throw errors.usage(`${opt("panelSize")} must be an integer from 16 to 4096, got ${size}`);
    const dataPath = o.data ?? recordedDataset(o.model);
    if (dataPath === undefined) throw errors.usage(`${o.model} does not record a dataset that is still there: pass ${opt("data")} DIR, the dataset it was trained on`);
    const dataset = await openDataset(dataPath);
    await initBackend();
    const { model, meta, inputs, outputs } = await loadModel(o.model);
    try {
      const spec = modelEncoding({ inputs, encoding: meta.encoding, icosphere: meta.icosphere });
      const encoder = new Encoder(spec);
      if (inputs !== encoder.width) throw errors.model(o.model, `the network takes ${inputs} inputs; its encoding (${describeEncoding(spec)}) makes ${encoder.width}`);
      if (outputs !== 6) throw errors.model(o.model, `the network gives ${outputs} outputs; headsnet models give 6 (x y z r g b)`);
      const grid = headGrid(spec, { level: o.level, icosphere: o.icosphere, dir: o.model });
      const models = dataset.manifest.models.length;
      const which = spreadHeads(models, o.heads ?? Math.min(models, DEFAULT_EVAL_HEADS));
      const heads = readHeads(dataset, which);
      const generated: GeneratedHead[] = [];
      for (const h of heads) generated.push(await generateHead(tf, model, encoder, Math.fround(h.id), grid));
      const quality = scoreHeads(generated, heads);
      let baselines: BaselineQuality | null = null;
      if (o.baselines ?? true) {
        const icosphere = recordedIcosphere(dataset.manifest.icosphere!, { override: o.icosphere, dir: dataset.dir });
        baselines = scoreBaselines(heads, icosphere);
      }
      let png: string | null = null;
      if (o.png) {
        const rows = spreadHeads(heads.length, Math.min(gridRows, heads.length)).map((k) => ({ training: heads[k], generated: generated[k] }));
        const bytes = encodePng(headGridPng(rows, size, o.view ?? EVAL_DEFAULTS.view));
        try {
          await mkdir(dirname(o.png), { recursive: true });
          await writeFile(o.png, bytes);
        } catch (e) {
          throw errors.output(o.png, (e as Error).message);
        }
        png = o.png;
      }
      return {
        model: o.model, data: dataset.dir, encoding: describeEncoding(spec), points: grid.icosphere.count, level: grid.level ?? null,
        heads: heads.length, quality, baselines, png, seconds: (performance.now() - started) / 1000,
      } satisfies EvalModelSummary;
    } finally {
      model.dispose();
    }
  });
  return { error: r.error, summary: r.result };
}

// `headsnet export --format c-header`: the network as C arrays, as the reference exported it for
// its C predictor. Per dense layer, one array of units × (inputs + 1) floats: each unit's weights
// (one per input, in input order) followed by its bias.
//
// An index model's header is exactly the reference's: its inputs are [id, index value]. A direction
// or fourier model's header adds its encoding: the constants (training ids for the hat, the
// frequencies) and `static void PREFIX_encode(float id, float qx, float qy, float qz, float *in)`,
// which writes the network's PREFIX_INPUTS inputs for model id `id` at unit direction q, as
// encoding.ts computes them (in float, with sinf/cosf: equal to the trainer's inputs to float
// rounding). A C predictor calls it, then runs the layers as before.

import { writeFile, mkdir } from "node:fs/promises";
import { dirname, basename } from "node:path";
import { tf, initBackend } from "./backend.js";
import { loadModel } from "./model.js";
import { modelEncoding } from "./heads.js";
import { describeEncoding, frequencies, type EncodingSpec } from "./encoding.js";
import { errors, captureErrors, opt } from "../errors.js";
import type { HeadsnetError } from "../errors.js";
import { VERSION } from "../package.js";

export interface ExportOptions {
  model: string;
  format?: "c-header";
  /** Output file; without it the text is returned (the CLI prints it). */
  out?: string;
  /** Prefix of the C identifiers. */
  name?: string;
}

export interface ExportedLayer {
  inputs: number;
  units: number;
  activation: string;
  /** units × (inputs + 1): each unit's weights, then its bias. */
  values: Float32Array;
}

export interface ExportSummary {
  model: string;
  format: "c-header";
  out: string | null;
  layers: { inputs: number; units: number; activation: string }[];
  parameters: number;
  /** The model's encoding, as words. */
  encoding: string;
  text: string;
}

/** The dense layers of a model, each unit's weights followed by its bias. */
export function denseLayers(model: tf.LayersModel, where: string): ExportedLayer[] {
  const layers: ExportedLayer[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() === "InputLayer") continue;
    if (layer.getClassName() !== "Dense") throw errors.model(where, `layer ${layer.name} is a ${layer.getClassName()}; the C export covers Dense layers only`);
    const [kernel, bias] = layer.getWeights();
    const [inputs, units] = kernel.shape as [number, number];
    const k = kernel.dataSync() as Float32Array;
    const b = bias ? (bias.dataSync() as Float32Array) : new Float32Array(units);
    const values = new Float32Array(units * (inputs + 1));
    for (let u = 0; u < units; u++) {
      for (let i = 0; i < inputs; i++) values[u * (inputs + 1) + i] = k[i * units + u];
      values[u * (inputs + 1) + inputs] = b[u];
    }
    const config = layer.getConfig() as { activation?: string };
    layers.push({ inputs, units, activation: String(config.activation ?? "linear"), values });
  }
  return layers;
}

/** A float32 as C source that reads back as the same float32. */
export function cFloat(v: number): string {
  if (Number.isNaN(v)) return "NAN";
  if (!Number.isFinite(v)) return v > 0 ? "INFINITY" : "-INFINITY";
  // The shortest decimal that reads back as this float32's exact value.
  const s = String(Math.fround(v));
  return (/[.e]/.test(s) ? s : s + ".0") + "f";
}

/** The C text of a direction or fourier model's encoding: its constants and PREFIX_encode(). */
export function cEncoding(spec: EncodingSpec, name: string): string[] {
  const N = name.toUpperCase();
  const freqs = frequencies(spec);
  const hat = spec.id === "hat";
  const out = [
    `/* Input encoding: ${describeEncoding(spec)}. ${name}_encode(id, qx, qy, qz, in) writes the */`,
    `/* network's ${N}_INPUTS inputs for model id \`id\` at the unit direction q: the id part, then */`,
    `/* q, then for each frequency f (times pi): sin(f*pi*qx), cos(f*pi*qx), the same for y and z. */`,
    `#include <math.h>`,
    `#define ${N}_ENCODING "${spec.name}"`,
    `#define ${N}_ID_WIDTH ${hat ? spec.ids!.length : 1}`,
    `#define ${N}_FREQUENCIES ${freqs.length}`,
  ];
  if (hat) out.push(`/* hat: one weight per training head: 1 at its id, linear between neighbouring ids, clamped outside. */`, `static const float ${name}_ids[${spec.ids!.length}] = {${spec.ids!.map(cFloat).join(", ")}};`);
  if (freqs.length) out.push(`static const float ${name}_frequencies[${freqs.length}] = {${freqs.map(cFloat).join(", ")}};`);
  out.push(`static void ${name}_encode(float id, float qx, float qy, float qz, float *in) {`, `  int k = ${N}_ID_WIDTH;`);
  if (hat) {
    out.push(
      `  int h;`,
      `  for (h = 0; h < ${N}_ID_WIDTH; h++) in[h] = 0.0f;`,
      `  if (!(id > ${name}_ids[0])) in[0] = 1.0f;`,
      `  else if (!(id < ${name}_ids[${N}_ID_WIDTH - 1])) in[${N}_ID_WIDTH - 1] = 1.0f;`,
      `  else {`,
      `    float t;`,
      `    for (h = 0; ${name}_ids[h + 1] < id; h++) {}`,
      `    t = (id - ${name}_ids[h]) / (${name}_ids[h + 1] - ${name}_ids[h]);`,
      `    in[h] = 1.0f - t;`,
      `    in[h + 1] = t;`,
      `  }`,
    );
  } else out.push(`  in[0] = id;`);
  out.push(`  in[k] = qx; in[k + 1] = qy; in[k + 2] = qz;`, `  k += 3;`);
  if (freqs.length) {
    out.push(
      `  {`,
      `    int j;`,
      `    for (j = 0; j < ${N}_FREQUENCIES; j++) {`,
      `      float w = ${name}_frequencies[j] * 3.14159265358979323846f;`,
      `      in[k] = sinf(w * qx); in[k + 1] = cosf(w * qx);`,
      `      in[k + 2] = sinf(w * qy); in[k + 3] = cosf(w * qy);`,
      `      in[k + 4] = sinf(w * qz); in[k + 5] = cosf(w * qz);`,
      `      k += 6;`,
      `    }`,
      `  }`,
    );
  }
  out.push(`}`, ``);
  return out;
}

export function cHeader(layers: ExportedLayer[], name: string, source: string, encoding?: EncodingSpec): string {
  const guard = `${name.toUpperCase()}_H`;
  const out: string[] = [
    `/* Generated by headsnet ${VERSION} from ${source}. */`,
    `/* Dense layers; layer k holds units x (inputs + 1) floats: for each unit, its weights (one per */`,
    `/* input, in input order) followed by its bias. out[u] = act(sum_i w[u][i] * in[i] + b[u]). */`,
    `#ifndef ${guard}`,
    `#define ${guard}`,
    ``,
    `#define ${name.toUpperCase()}_INPUTS ${layers[0]?.inputs ?? 0}`,
    `#define ${name.toUpperCase()}_OUTPUTS ${layers[layers.length - 1]?.units ?? 0}`,
    `#define ${name.toUpperCase()}_LAYERS ${layers.length}`,
    ``,
    `static const int ${name}_layer_inputs[${layers.length}] = {${layers.map((l) => l.inputs).join(", ")}};`,
    `static const int ${name}_layer_units[${layers.length}] = {${layers.map((l) => l.units).join(", ")}};`,
    `/* activations: ${layers.map((l, k) => `layer ${k} ${l.activation}`).join(", ")} */`,
    ``,
    ...(encoding && encoding.name !== "index" ? cEncoding(encoding, name) : []),
  ];
  layers.forEach((l, k) => {
    out.push(`/* layer ${k}: ${l.inputs} inputs -> ${l.units} units, ${l.activation} */`);
    out.push(`static const float ${name}_layer${k}[${l.units * (l.inputs + 1)}] = {`);
    for (let u = 0; u < l.units; u++) {
      const row = Array.from(l.values.subarray(u * (l.inputs + 1), (u + 1) * (l.inputs + 1)), cFloat);
      out.push(`  ${row.join(", ")},`);
    }
    out.push(`};`, ``);
  });
  out.push(`#endif /* ${guard} */`, ``);
  return out.join("\n");
}

export async function exportModel(options: ExportOptions): Promise<{ error?: HeadsnetError; summary?: ExportSummary }> {
  const r = await captureErrors(async () => {
    const format = options.format ?? "c-header";
    if (format !== "c-header") throw errors.usage(`${opt("format")} must be c-header, got ${format}`);
    const name = options.name ?? "headsnet";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw errors.usage(`${opt("name")} must be a C identifier, got ${JSON.stringify(name)}`);
    await initBackend();
    const { model, meta, inputs } = await loadModel(options.model);
    try {
      const layers = denseLayers(model, options.model);
      const encoding = modelEncoding({ inputs, encoding: meta.encoding, icosphere: meta.icosphere });
      const text = cHeader(layers, name, basename(options.model), encoding);
      if (options.out) {
        try {
          await mkdir(dirname(options.out), { recursive: true });
          await writeFile(options.out, text);
        } catch (e) {
          throw errors.output(options.out, (e as Error).message);
        }
      }
      return {
        model: options.model, format, out: options.out ?? null,
        layers: layers.map(({ inputs, units, activation }) => ({ inputs, units, activation })),
        parameters: layers.reduce((s, l) => s + l.values.length, 0),
        encoding: describeEncoding(encoding),
        text,
      } satisfies ExportSummary;
    } finally {
      model.dispose();
    }
  });
  return { error: r.error, summary: r.result };
}

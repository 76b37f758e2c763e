// The network, its optimizers, and its files: model.json + weights.bin in the standard tfjs
// layers format (loadable by tf.loadLayersModel from any tfjs), written and read with headsnet's own
// file IO handlers (Node without tfjs-node has none), plus the optimizer state for --resume.

import { mkdir, readFile, rename, writeFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { tf } from "./backend.js";
import { SEED_INIT, mixSeed } from "./rng.js";
import { errors, opt } from "../errors.js";
import { VERSION } from "../package.js";
import { ADAM_KERNEL } from "./fast-kernels.js";
import type { EncodingSpec } from "./encoding.js";

export const MODEL_JSON = "model.json";
export const WEIGHTS_BIN = "weights.bin";
export const OPTIMIZER_JSON = "optimizer.json";
export const OPTIMIZER_BIN = "optimizer.bin";

import { OPTIMIZERS, ACTIVATIONS, type OptimizerName } from "./defaults.js";
export { OPTIMIZERS, ACTIVATIONS, type OptimizerName };

export interface NetworkSpec {
  /** Width of train_x: 2, or 5 with ray directions. */
  inputs: number;
  /** Hidden dense layers (the first takes the inputs). */
  layers: number;
  units: number;
  activation: string;
  /** Width of train_y. */
  outputs: number;
  seed: number;
}

/** The reference's network: `layers` × Dense(units, activation), then Dense(outputs) linear. */
export function buildNetwork(spec: NetworkSpec): tf.LayersModel {
  const model = tf.sequential({ name: "headsnet" });
  for (let i = 0; i <= spec.layers; i++) {
    const last = i === spec.layers;
    model.add(tf.layers.dense({
      name: last ? "output" : `dense_${i}`,
      units: last ? spec.outputs : spec.units,
      activation: (last ? "linear" : spec.activation) as "linear",
      inputShape: i === 0 ? [spec.inputs] : undefined,
      kernelInitializer: tf.initializers.glorotUniform({ seed: mixSeed(spec.seed, SEED_INIT, i) }),
      biasInitializer: "zeros",
    }));
  }
  return model;
}

// ---------------------------------------------------------------------------------------------
// Optimizers

/**
 * An optimizer with two moment slots per variable (m, v), made lazily; the slots stay fields named
 * m and v, which is where saveOptimizerState finds them.
 */
abstract class MomentOptimizer extends tf.Optimizer {
  protected readonly m: { originalName: string; variable: tf.Variable }[] = [];
  protected readonly v: { originalName: string; variable: tf.Variable }[] = [];

  /** Calls `update` for each variable that has a gradient, with its value and moment slots. */
  protected eachGradient(
    variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[],
    update: (value: tf.Variable, m: tf.Variable, v: tf.Variable, g: tf.Tensor) => void,
  ): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((g) => g.name) : Object.keys(variableGradients);
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name];
      this.m[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      this.v[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      const g = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
      if (g != null) update(value, this.m[i].variable, this.v[i].variable, g);
    });
  }

  override dispose(): void {
    tf.dispose([...this.m, ...this.v].map((s) => s.variable));
  }
}

/**
 * Nadam as Keras computes it (Adam with Nesterov momentum and the 0.96^(0.004 t) momentum
 * schedule); tfjs has none.
 */
export class NadamOptimizer extends MomentOptimizer {
  static className = "Nadam";
  /** Product of the momentum schedule so far (a float64 number: checkpointed with the state). */
  mSchedule = 1;

  constructor(public learningRate: number, readonly beta1 = 0.9, readonly beta2 = 0.999, readonly epsilon = 1e-7) {
    super();
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const t = this.iterations + 1;
    const muT = this.beta1 * (1 - 0.5 * Math.pow(0.96, 0.004 * t));
    const muT1 = this.beta1 * (1 - 0.5 * Math.pow(0.96, 0.004 * (t + 1)));
    const scheduleNew = this.mSchedule * muT;
    const scheduleNext = scheduleNew * muT1;
    const beta2Power = Math.pow(this.beta2, t);
    tf.tidy(() => {
      this.eachGradient(variableGradients, (value, mSlot, vSlot, g) => {
        const m = tf.add(tf.mul(mSlot, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(vSlot, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        mSlot.assign(m);
        vSlot.assign(v);
        const gHat = tf.div(g, 1 - scheduleNew);
        const mHat = tf.div(m, 1 - scheduleNext);
        const vHat = tf.div(v, 1 - beta2Power);
        const mBar = tf.add(tf.mul(gHat, 1 - muT), tf.mul(mHat, muT1));
        value.assign(tf.sub(value, tf.div(tf.mul(mBar, this.learningRate), tf.add(tf.sqrt(vHat), this.epsilon))));
      });
    });
    this.mSchedule = scheduleNew;
    this.incrementIterations();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/**
 * Adam, as tfjs computes it, with each variable's update done by one kernel (HeadsnetAdam in
 * fast-kernels.ts) rather than a dozen. The running beta powers are float64 numbers.
 */
export class FastAdamOptimizer extends MomentOptimizer {
  static className = "HeadsnetAdam";
  accBeta1: number;
  accBeta2: number;

  constructor(public learningRate: number, readonly beta1 = 0.9, readonly beta2 = 0.999, readonly epsilon = 1e-7) {
    super();
    this.accBeta1 = beta1;
    this.accBeta2 = beta2;
  }

  override getClassName(): string {
    return FastAdamOptimizer.className;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const attrs = {
      lr: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon,
      c1: 1 / (1 - this.accBeta1), c2: 1 / (1 - this.accBeta2),
    };
    tf.tidy(() => {
      this.eachGradient(variableGradients, (value, m, v, g) => {
        const [p2, m2, v2] = tf.engine().runKernel(ADAM_KERNEL, { param: value, m, v, g }, attrs) as tf.Tensor[];
        value.assign(p2);
        m.assign(m2);
        v.assign(v2);
      });
    });
    this.accBeta1 *= this.beta1;
    this.accBeta2 *= this.beta2;
    this.incrementIterations();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/**
 * The optimizer by name, with Keras's defaults for everything but the learning rate. `fast`
 * (with the fast kernels installed) picks FastAdamOptimizer for adam.
 */
export function makeOptimizer(name: OptimizerName, lr: number, fast = false): tf.Optimizer {
  switch (name) {
    case "adam": return fast ? new FastAdamOptimizer(lr, 0.9, 0.999, 1e-7) : tf.train.adam(lr, 0.9, 0.999, 1e-7);
    case "sgd": return tf.train.sgd(lr);
    case "momentum": return tf.train.momentum(lr, 0.9);
    case "nesterov": return tf.train.momentum(lr, 0.9, true);
    case "nadam": return new NadamOptimizer(lr);
    case "adagrad": return tf.train.adagrad(lr, 0.1);
    case "rmsprop": return tf.train.rmsprop(lr, 0.9, 0, 1e-7);
    case "adadelta": return tf.train.adadelta(lr, 0.95, 1e-7);
    case "adamax": return tf.train.adamax(lr, 0.9, 0.999, 1e-7);
  }
}

export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

// Optimizer state, for any optimizer: every tf.Variable it holds (directly, or in arrays of
// {variable}) by field path, plus its step counters. tfjs's own getWeights() covers only some
// optimizers and does not restore Adam's running beta powers bit for bit.
const STATE_NUMBERS = ["iterations_", "mSchedule", "accBeta1", "accBeta2"];

function stateVariables(optimizer: tf.Optimizer): Map<string, tf.Variable> {
  const found = new Map<string, tf.Variable>();
  for (const [key, value] of Object.entries(optimizer)) {
    if (value instanceof tf.Variable) found.set(key, value);
    else if (Array.isArray(value)) {
      value.forEach((item, i) => {
        if (item instanceof tf.Variable) found.set(`${key}[${i}]`, item);
        else if (item && item.variable instanceof tf.Variable) found.set(`${key}[${i}]`, item.variable);
      });
    }
  }
  return found;
}

/** Create the optimizer's lazily made state without moving the weights: one zero-gradient step. */
export function primeOptimizer(optimizer: tf.Optimizer, variables: tf.Variable[]): void {
  const saved = variables.map((v) => tf.clone(v));
  tf.tidy(() => optimizer.applyGradients(variables.map((v) => ({ name: v.name, tensor: tf.zerosLike(v) }))));
  variables.forEach((v, i) => v.assign(saved[i]));
  tf.dispose(saved);
}

export async function saveOptimizerState(optimizer: tf.Optimizer, dir: string): Promise<void> {
  const vars = [...stateVariables(optimizer)].map(([name, tensor]) => ({ name, tensor }));
  const { data, specs } = await tf.io.encodeWeights(vars);
  const numbers: Record<string, number> = {};
  const fields = optimizer as unknown as Record<string, unknown>;
  for (const key of STATE_NUMBERS) if (typeof fields[key] === "number") numbers[key] = fields[key] as number;
  await writeFile(join(dir, OPTIMIZER_BIN), new Uint8Array(data as ArrayBuffer));
  await writeFile(join(dir, OPTIMIZER_JSON), JSON.stringify({ className: optimizer.getClassName(), numbers, specs }) + "\n");
}

/** Restore a state saved by saveOptimizerState into a primed optimizer of the same kind. */
export async function loadOptimizerState(optimizer: tf.Optimizer, dir: string): Promise<void> {
  const jsonPath = join(dir, OPTIMIZER_JSON);
  let meta: { className: string; numbers: Record<string, number>; specs: tf.io.WeightsManifestEntry[] };
  let bin: Buffer;
  try {
    meta = JSON.parse(await readFile(jsonPath, "utf8"));
    bin = await readFile(join(dir, OPTIMIZER_BIN));
  } catch (e) {
    throw errors.model(jsonPath, `cannot read the optimizer state to resume from: ${(e as Error).message}`);
  }
  if (meta.className !== optimizer.getClassName()) {
    throw errors.model(jsonPath, `the checkpoint was trained with ${meta.className}, not ${optimizer.getClassName()}; resume with the same ${opt("optimizer")} (and ${opt("stockKernels")} if it was trained with them)`);
  }
  const tensors = tf.io.decodeWeights(new Uint8Array(bin).buffer as ArrayBuffer, meta.specs);
  const vars = stateVariables(optimizer);
  if (vars.size !== Object.keys(tensors).length) {
    tf.dispose(Object.values(tensors));
    throw errors.model(jsonPath, `the optimizer state has ${Object.keys(tensors).length} tensors; this network's optimizer has ${vars.size} (resume with the same ${opt("layers")} and ${opt("units")})`);
  }
  for (const [name, v] of vars) {
    const t = tensors[name];
    if (!t || !tf.util.arraysEqual(t.shape, v.shape)) {
      tf.dispose(Object.values(tensors));
      throw errors.model(jsonPath, `the optimizer state's ${name} does not fit this network (resume with the same ${opt("layers")} and ${opt("units")})`);
    }
    v.assign(t);
  }
  tf.dispose(Object.values(tensors));
  const fields = optimizer as unknown as Record<string, number>;
  for (const [key, value] of Object.entries(meta.numbers)) fields[key] = value;
}

// ---------------------------------------------------------------------------------------------
// Model files

export interface ModelMeta {
  tool: "headsnet";
  version: string;
  inputs: number;
  outputs: number;
  columns?: { x: string[]; y: string[] };
  icosphere?: { vertices: number; sha256: string; source: string };
  /** How rows become the network's inputs (encoding.ts); absent in models from before encodings: index. */
  encoding?: EncodingSpec;
  /** Epochs trained when this was written (checked against training.json on --resume). */
  checkpoint?: number;
  /** Steps of the next epoch trained too, for a checkpoint taken within an epoch. */
  checkpointStep?: number;
}

/** Write model.json and weights.bin (files are written beside, then renamed into place). */
export async function saveModel(model: tf.LayersModel, dir: string, meta: ModelMeta): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  const weights = tf.io.CompositeArrayBuffer.join(artifacts!.weightData!);
  const json = {
    format: "layers-model",
    generatedBy: `headsnet ${VERSION}`,
    convertedBy: null,
    modelTopology: artifacts!.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts!.weightSpecs }],
    headsnet: meta,
  };
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, WEIGHTS_BIN + ".partial"), new Uint8Array(weights));
    await writeFile(join(dir, MODEL_JSON + ".partial"), JSON.stringify(json) + "\n");
    await rename(join(dir, WEIGHTS_BIN + ".partial"), join(dir, WEIGHTS_BIN));
    await rename(join(dir, MODEL_JSON + ".partial"), join(dir, MODEL_JSON));
  } catch (e) {
    await rm(join(dir, WEIGHTS_BIN + ".partial"), { force: true });
    await rm(join(dir, MODEL_JSON + ".partial"), { force: true });
    throw errors.output(dir, (e as Error).message);
  }
}

export interface LoadedModel {
  model: tf.LayersModel;
  meta: Partial<ModelMeta>;
  inputs: number;
  outputs: number;
}

/** Read a model directory written by saveModel (or any tfjs layers model with one weights file group). */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const jsonPath = join(dir, MODEL_JSON);
  let text: string;
  try {
    text = await readFile(jsonPath, "utf8");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT"
      ? `no ${MODEL_JSON}: not a model directory (train one with 'headsnet train DATA -o ${dir}')`
      : (e as Error).message;
    throw errors.model(jsonPath, why);
  }
  let json: { modelTopology?: object; weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]; headsnet?: Partial<ModelMeta> };
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw errors.model(jsonPath, `not valid JSON: ${(e as Error).message}`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw errors.model(jsonPath, "not a tfjs layers model (no modelTopology or weightsManifest)");
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      try {
        buffers.push(await readFile(join(dir, p)));
      } catch (e) {
        throw errors.model(join(dir, p), `cannot read the weights named by ${MODEL_JSON}: ${(e as Error).message}`);
      }
    }
  }
  const weightData = Buffer.concat(buffers);
  const expected = specs.reduce((sum, s) => sum + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
  if (specs.some((s) => s.dtype !== "float32") || weightData.byteLength !== expected) {
    throw errors.model(join(dir, WEIGHTS_BIN), `holds ${weightData.byteLength} bytes; ${MODEL_JSON} describes ${expected} bytes of float32 weights`);
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology,
    weightSpecs: specs,
    weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
  };
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel({ load: async () => artifacts });
  } catch (e) {
    throw errors.model(jsonPath, `tfjs cannot load this model: ${(e as Error).message}`);
  }
  const inShape = model.inputs[0].shape;
  const outShape = model.outputs[0].shape;
  return { model, meta: json.headsnet ?? {}, inputs: inShape[inShape.length - 1] as number, outputs: outShape[outShape.length - 1] as number };
}

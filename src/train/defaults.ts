// What the train, sample and export commands need before any of them runs: defaults and
// choices. Kept apart from the trainer so that loading the CLI does not load TensorFlow.js.

import { availableParallelism } from "node:os";

export const OPTIMIZERS = ["adam", "sgd", "momentum", "nesterov", "nadam", "adagrad", "rmsprop", "adadelta", "adamax"] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export const ACTIVATIONS = ["selu", "relu", "elu", "tanh", "sigmoid", "linear", "softplus", "softsign", "relu6", "swish", "mish", "gelu", "hardSigmoid"] as const;

/** The reference trainer's settings. */
export const TRAIN_DEFAULTS = {
  layers: 4, units: 384, activation: "selu", optimizer: "adam" as OptimizerName, lr: 0.001, batch: 256, epochs: 3,
  seed: 0, shuffleBuffer: 1 << 20,
};

/**
 * What the direction and fourier encodings train with unless told (the reference's settings
 * otherwise): the schedule and peak rate that gave the best heads in bench:quality (README).
 */
export const ENCODED_DEFAULTS = { lrSchedule: "cosine" as const, lr: 0.003, warmup: 300 };

export function defaultThreads(): number {
  return Math.min(2, availableParallelism());
}

/** sample: index models' points (the reference's), the other models' mesh level, the seed and the ray cone. */
export const SAMPLE_DEFAULTS = { points: 200000, level: 6, seed: 0, cone: 30 };

/** Default seconds between checkpoints within an epoch (train --checkpoint-every). */
export const CHECKPOINT_SECONDS = 300;

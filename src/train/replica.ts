// One copy of the network and its optimizer, and the training step on it. Training on several
// threads runs one replica per thread: each computes the gradient of its share of the batch, the
// shares are averaged (weighted by rows: exactly the full batch's mean-loss gradient), and every
// replica applies the same averaged gradient with the same optimizer, so they stay identical.

import { tf, heapView } from "./backend.js";
import { buildNetwork, makeOptimizer, trainableVariables, primeOptimizer, loadModel, loadOptimizerState, type NetworkSpec, type OptimizerName } from "./model.js";

export interface ReplicaSetup {
  network: NetworkSpec;
  optimizer: OptimizerName;
  lr: number;
  /** Load the model and optimizer state of this checkpoint directory instead of a fresh network. */
  resumeFrom?: string;
  /** The fast kernels are installed (picks the fused Adam). */
  fast: boolean;
}

export class Replica {
  readonly variables: tf.Variable[];
  readonly sizes: number[];
  readonly total: number;

  private constructor(readonly model: tf.LayersModel, readonly optimizer: tf.Optimizer, readonly xWidth: number) {
    this.variables = trainableVariables(model);
    this.sizes = this.variables.map((v) => v.size);
    this.total = this.sizes.reduce((a, b) => a + b, 0);
  }

  static async create(setup: ReplicaSetup, loaded?: tf.LayersModel): Promise<Replica> {
    const model = loaded ?? (setup.resumeFrom ? (await loadModel(setup.resumeFrom)).model : buildNetwork(setup.network));
    const optimizer = makeOptimizer(setup.optimizer, setup.lr, setup.fast);
    const replica = new Replica(model, optimizer, setup.network.inputs);
    if (setup.resumeFrom) {
      primeOptimizer(optimizer, replica.variables);
      await loadOptimizerState(optimizer, setup.resumeFrom);
    }
    return replica;
  }

  private loss(xs: tf.Tensor, ys: tf.Tensor): tf.Scalar {
    return tf.mean(tf.squaredDifference(this.model.apply(xs, { training: true }) as tf.Tensor, ys)) as tf.Scalar;
  }

  /** The learning rate of the updates that follow (schedules change it step by step). */
  setLearningRate(lr: number): void {
    const o = this.optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
    if (o.learningRate === lr) return;
    // SGD and momentum keep the rate as a tensor, which setLearningRate remakes; the others read the field.
    if (typeof o.setLearningRate === "function") o.setLearningRate(lr);
    else o.learningRate = lr;
  }

  /** One optimizer step on these rows (single-thread training), at rate `lr` if given. Returns the batch's loss. */
  step(x: Float32Array, y: Float32Array, rows: number, lr?: number): number {
    if (lr !== undefined) this.setLearningRate(lr);
    const loss = tf.tidy(() => {
      const xs = tf.tensor2d(x, [rows, this.xWidth]);
      const ys = tf.tensor2d(y, [rows, 6]);
      return this.optimizer.minimize(() => this.loss(xs, ys), true, this.variables)!;
    });
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  }

  /**
   * The gradient of this share's part of the batch loss, `weight` × the mean loss of these rows
   * (weight = rows / batch rows), flattened in variable order into `into`; so the batch's gradient
   * is the plain sum of the shares'. Returns that part of the loss.
   */
  gradients(x: Float32Array, y: Float32Array, rows: number, weight: number, into: Float32Array): number {
    const out = tf.tidy(() => {
      const xs = tf.tensor2d(x, [rows, this.xWidth]);
      const ys = tf.tensor2d(y, [rows, 6]);
      const { value, grads } = tf.variableGrads(() => tf.mul(this.loss(xs, ys), weight) as tf.Scalar, this.variables);
      return [value, ...this.variables.map((v) => grads[v.name])];
    });
    let at = 0;
    for (let k = 1; k < out.length; k++) {
      // Straight from the backend's heap: no intermediate copy.
      into.set(heapView(out[k]), at);
      at += this.sizes[k - 1];
    }
    const loss = out[0].dataSync()[0];
    tf.dispose(out);
    return loss;
  }

  /**
   * Apply the sum of the shares' gradients (`shares`, flattened, summed in the order given) with
   * the optimizer. Every replica sums the same arrays in the same order, so all get the same bits.
   */
  applySum(shares: Float32Array[]): void {
    tf.tidy(() => {
      let at = 0;
      const named = this.variables.map((v, k) => {
        const parts = shares.map((s) => tf.tensor(s.subarray(at, at + this.sizes[k]), v.shape));
        at += this.sizes[k];
        return { name: v.name, tensor: parts.length === 1 ? parts[0] : tf.addN(parts) };
      });
      this.optimizer.applyGradients(named);
    });
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }
}

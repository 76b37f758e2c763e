// Data-parallel training over threads: this thread is replica 0, each worker thread one more.
// A step splits the batch into contiguous shares and computes every share's gradient at once, each
// weighted by its rows so that their sum is the full batch's mean-loss gradient. The gradients meet
// in shared memory (parallel-slots.ts), and every replica sums them and applies the sum itself, all
// at the same time, so no thread waits on another's copy or update.

import { Worker } from "node:worker_threads";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PACKAGE_ROOT } from "../package.js";
import { Replica, type ReplicaSetup } from "./replica.js";
import { sharedGradients, gradientSlots } from "./parallel-slots.js";

// Found from the package root, not from this module: the CLI's bundle holds this code elsewhere.
function workerFile(): URL {
  return pathToFileURL(join(PACKAGE_ROOT, "dist", "src", "train", "worker.js"));
}

interface Pending {
  resolve: (m: { loss: number }) => void;
  reject: (e: Error) => void;
}

class Peer {
  private pending: Pending[] = [];
  private failure: Error | undefined;
  readonly ready: Promise<void>;

  constructor(readonly worker: Worker) {
    let started: Pending | undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      started = { resolve: () => resolve(), reject };
    });
    worker.on("message", (m: { type: string; loss?: number; message?: string }) => {
      if (m.type === "ready") started?.resolve({ loss: 0 });
      else if (m.type === "grads") this.pending.shift()?.resolve({ loss: m.loss! });
      else if (m.type === "error") this.fail(new Error(`training thread: ${m.message}`), started);
    });
    worker.on("error", (e) => this.fail(e, started));
    worker.on("exit", (code) => { if (code !== 0) this.fail(new Error(`training thread exited with code ${code}`), started); });
  }

  private fail(e: Error, started?: Pending): void {
    this.failure ??= e;
    started?.reject(e);
    for (const p of this.pending.splice(0)) p.reject(e);
  }

  request(x: Float32Array, y: Float32Array, rows: number, weight: number, slot: number): Promise<{ loss: number }> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.worker.postMessage({ type: "step", x, y, rows, weight, slot }, [x.buffer as ArrayBuffer, y.buffer as ArrayBuffer]);
    });
  }
}

export class ParallelTrainer {
  private readonly slots: Float32Array[];
  private bank = 0;

  private constructor(readonly main: Replica, private readonly peers: Peer[], slots: Float32Array[]) {
    this.slots = slots;
  }

  static async create(main: Replica, setup: ReplicaSetup, threads: number): Promise<ParallelTrainer> {
    const shared = sharedGradients(threads, main.total);
    const peers: Peer[] = [];
    for (let i = 1; i < threads; i++) {
      peers.push(new Peer(new Worker(workerFile(), { workerData: { setup, shared } })));
    }
    const trainer = new ParallelTrainer(main, peers, gradientSlots(shared, main.total));
    try {
      await Promise.all(peers.map((p) => p.ready));
    } catch (e) {
      await trainer.close();
      throw e;
    }
    return trainer;
  }

  /** One step on `rows` rows, at rate `lr` if given; returns the batch's mean loss. */
  async step(x: Float32Array, y: Float32Array, rows: number, lr?: number): Promise<number> {
    const xw = this.main.xWidth;
    const threads = this.peers.length + 1;
    const per = Math.ceil(rows / threads);
    const base = this.bank * threads;
    this.bank ^= 1;
    const used: number[] = [base];
    const requests: Promise<{ loss: number }>[] = [];
    for (let k = 1; k < threads; k++) {
      const first = Math.min(rows, k * per), n = Math.min(per, rows - first);
      if (n === 0) continue;
      used.push(base + k);
      requests.push(this.peers[k - 1].request(x.slice(first * xw, (first + n) * xw), y.slice(first * 6, (first + n) * 6), n, n / rows, base + k));
    }
    const n0 = Math.min(per, rows);
    let loss = this.main.gradients(x.subarray(0, n0 * xw), y.subarray(0, n0 * 6), n0, n0 / rows, this.slots[base]);
    for (const r of await Promise.all(requests)) loss += r.loss;
    // Every replica applies the update, those that had no rows this step included.
    for (const p of this.peers) p.worker.postMessage({ type: "apply", slots: used, lr });
    if (lr !== undefined) this.main.setLearningRate(lr);
    const shares = used.map((s) => this.slots[s]);
    this.main.applySum(shares);
    return loss;
  }

  async close(): Promise<void> {
    await Promise.all(this.peers.map(async (p) => {
      p.worker.postMessage({ type: "close" });
      await p.worker.terminate();
    }));
  }
}

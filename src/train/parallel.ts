// Data-parallel training over threads: this thread is replica 0, each worker thread one more.
// A step splits the batch into contiguous shares, computes every share's gradient at once, averages
// them weighted by rows, and has every replica apply the average.

import { Worker } from "node:worker_threads";
import { Replica, type ReplicaSetup } from "./replica.js";

function workerFile(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts") ? new URL("../../dist/src/train/worker.js", here) : new URL("./worker.js", here);
}

interface Pending {
  resolve: (m: { grads: Float32Array; loss: number }) => void;
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
    worker.on("message", (m: { type: string; grads?: Float32Array; loss?: number; message?: string }) => {
      if (m.type === "ready") started?.resolve({ grads: new Float32Array(0), loss: 0 });
      else if (m.type === "grads") this.pending.shift()?.resolve({ grads: m.grads!, loss: m.loss! });
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

  request(x: Float32Array, y: Float32Array, rows: number): Promise<{ grads: Float32Array; loss: number }> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.worker.postMessage({ type: "step", x, y, rows }, [x.buffer as ArrayBuffer, y.buffer as ArrayBuffer]);
    });
  }
}

export class ParallelTrainer {
  private readonly grads: Float32Array;

  private constructor(readonly main: Replica, private readonly peers: Peer[]) {
    this.grads = new Float32Array(main.total);
  }

  static async create(main: Replica, setup: ReplicaSetup, threads: number): Promise<ParallelTrainer> {
    const peers: Peer[] = [];
    for (let i = 1; i < threads; i++) {
      peers.push(new Peer(new Worker(workerFile(), { workerData: setup })));
    }
    const trainer = new ParallelTrainer(main, peers);
    try {
      await Promise.all(peers.map((p) => p.ready));
    } catch (e) {
      await trainer.close();
      throw e;
    }
    return trainer;
  }

  /** One step on `rows` rows; returns the batch's mean loss. */
  async step(x: Float32Array, y: Float32Array, rows: number): Promise<number> {
    const xw = this.main.xWidth;
    const shares = this.peers.length + 1;
    const per = Math.ceil(rows / shares);
    const counts: number[] = [];
    const requests: Promise<{ grads: Float32Array; loss: number }>[] = [];
    for (let k = 1; k < shares; k++) {
      const first = Math.min(rows, k * per), n = Math.min(per, rows - first);
      counts.push(n);
      if (n > 0) requests.push(this.peers[k - 1].request(x.slice(first * xw, (first + n) * xw), y.slice(first * 6, (first + n) * 6), n));
      else requests.push(Promise.resolve({ grads: new Float32Array(0), loss: 0 }));
    }
    const n0 = Math.min(per, rows);
    const g = this.grads;
    let loss = this.main.gradients(x.subarray(0, n0 * xw), y.subarray(0, n0 * 6), n0, g) * n0;
    const replies = await Promise.all(requests);
    // g = Σ (rows of share k / rows) · g_k, folded into g in one pass per share.
    let first = true;
    replies.forEach((r, k) => {
      const n = counts[k];
      if (n === 0) return;
      loss += r.loss * n;
      const h = r.grads, wk = n / rows;
      if (first) {
        const w0 = n0 / rows;
        for (let i = 0; i < g.length; i++) g[i] = g[i] * w0 + h[i] * wk;
        first = false;
      } else {
        for (let i = 0; i < g.length; i++) g[i] += h[i] * wk;
      }
    });
    for (const p of this.peers) {
      const copy = g.slice();
      p.worker.postMessage({ type: "apply", grads: copy }, [copy.buffer]);
    }
    this.main.apply(g);
    return loss / rows;
  }

  async close(): Promise<void> {
    await Promise.all(this.peers.map(async (p) => {
      p.worker.postMessage({ type: "close" });
      await p.worker.terminate();
    }));
  }
}

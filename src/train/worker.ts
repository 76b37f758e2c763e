// A training thread: its own tfjs wasm backend and replica (replica.ts). Messages from the trainer:
//   {type: "step", x, y, rows}  -> {type: "grads", grads, loss}   (the gradient of these rows)
//   {type: "apply", grads}      -> (applies the averaged gradient; no reply)
//   {type: "close"}
// Messages are handled in order, so a step always sees the previous update.

import { parentPort, workerData } from "node:worker_threads";
import { initBackend } from "./backend.js";
import { Replica, type ReplicaSetup } from "./replica.js";

const port = parentPort!;
const setup = workerData as ReplicaSetup;

async function main(): Promise<void> {
  await initBackend({ fast: setup.fast });
  const replica = await Replica.create(setup);
  let grads = new Float32Array(replica.total);
  port.on("message", (m: { type: string; x?: Float32Array; y?: Float32Array; rows?: number; grads?: Float32Array }) => {
    try {
      if (m.type === "step") {
        if (grads.buffer.byteLength === 0) grads = new Float32Array(replica.total);
        const loss = replica.gradients(m.x!, m.y!, m.rows!, grads);
        port.postMessage({ type: "grads", grads, loss }, [grads.buffer]);
      } else if (m.type === "apply") {
        replica.apply(m.grads!);
      } else if (m.type === "close") {
        replica.dispose();
        port.close();
      }
    } catch (e) {
      port.postMessage({ type: "error", message: (e as Error).message });
    }
  });
  port.postMessage({ type: "ready" });
}

main().catch((e) => port.postMessage({ type: "error", message: (e as Error).message }));

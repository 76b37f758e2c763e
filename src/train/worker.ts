// A training thread: its own tfjs wasm backend and replica (replica.ts). Gradients travel through
// shared memory (see parallel.ts); messages carry only the rows and the signals:
//   {type: "step", x, y, rows, weight, slot} -> writes its gradient into that slot; {type: "grads", loss}
//   {type: "apply", slots, lr?}              -> applies the sum of those slots at rate lr (no reply)
//   {type: "close"}
// Messages are handled in order, so a step always sees the previous update.

import { parentPort, workerData } from "node:worker_threads";
import { initBackend } from "./backend.js";
import { Replica, type ReplicaSetup } from "./replica.js";
import { gradientSlots, type SharedGradients } from "./parallel-slots.js";

const port = parentPort!;
const { setup, shared } = workerData as { setup: ReplicaSetup; shared: SharedGradients };

type Message =
  | { type: "step"; x: Float32Array; y: Float32Array; rows: number; weight: number; slot: number }
  | { type: "apply"; slots: number[]; lr?: number }
  | { type: "close" };

async function main(): Promise<void> {
  await initBackend({ fast: setup.fast });
  const replica = await Replica.create(setup);
  const slots = gradientSlots(shared, replica.total);
  port.on("message", (m: Message) => {
    try {
      if (m.type === "step") {
        const loss = replica.gradients(m.x, m.y, m.rows, m.weight, slots[m.slot]);
        port.postMessage({ type: "grads", loss });
      } else if (m.type === "apply") {
        if (m.lr !== undefined) replica.setLearningRate(m.lr);
        replica.applySum(m.slots.map((k) => slots[k]));
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

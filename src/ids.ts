// Model ids: a pure function of the seed and the model's path relative to its input root, so
// adding a file never changes another's id and two runs agree byte for byte.

import { createHash } from "node:crypto";

/** A uniform 32-bit number times float32(1/4294967295), as the reference scales its random draw. */
export function modelId(seed: number, rel: string): number {
  const digest = createHash("sha256").update(`headsnet-model-id\0${seed}\0${rel}`).digest();
  const draw = digest.readUInt32LE(0);
  return Math.fround(Math.fround(draw) * Math.fround(1 / 4294967295));
}

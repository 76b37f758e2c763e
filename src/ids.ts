// Model ids. Two ways to give them, both distinct within a dataset as float32 values:
// - "hash" (the default): a pure function of the seed and the model's path, a uniform 32-bit
//   draw scaled as the reference scales its random draw, so adding a file never changes another
//   file's id and two runs agree byte for byte. Float32 ids collide (with 6,748 models about once
//   a corpus): among models that share an id, the first by path keeps it and the others draw
//   again with a counter in the hash, until every id is distinct.
// - "spread": evenly spaced in sorted order, (k + 0.5) / n, as far apart as n ids can be; adding
//   a file moves the others.

import { createHash } from "node:crypto";

export type IdMode = "hash" | "spread";
export const ID_MODES: IdMode[] = ["hash", "spread"];

/** A uniform 32-bit number times float32(1/4294967295), as the reference scales its random draw. */
export function modelId(seed: number, rel: string, draw = 0): number {
  const digest = createHash("sha256").update(`headsnet-model-id\0${seed}\0${rel}${draw ? `\0${draw}` : ""}`).digest();
  return Math.fround(Math.fround(digest.readUInt32LE(0)) * Math.fround(1 / 4294967295));
}

/** Ids for models named `rels` (in sorted order), distinct as float32. */
export function assignIds(rels: string[], seed: number, mode: IdMode = "hash"): number[] {
  if (mode === "spread") return rels.map((_, k) => Math.fround((k + 0.5) / rels.length));
  const ids = rels.map((rel) => modelId(seed, rel));
  const taken = new Map<number, number>(); // id -> the model holding it
  // The first by path keeps a shared id, so a colliding newcomer never moves an older model's id
  // unless it sorts before it.
  const order = rels.map((_, k) => k).sort((a, b) => (rels[a] < rels[b] ? -1 : rels[a] > rels[b] ? 1 : 0));
  for (const k of order) {
    for (let draw = 1; taken.has(ids[k]); draw++) ids[k] = modelId(seed, rels[k], draw);
    taken.set(ids[k], k);
  }
  return ids;
}

// Shards: one corpus compiled by many machines at once, each a well-behaved task for whatever
// runs it (a Kubernetes Indexed Job, a Slurm array, GNU parallel). Shard K of N takes the K-th
// of N contiguous runs of the sorted input list, balanced by bytes, and makes a complete dataset
// of them. Model ids are computed over the whole list (ids.ts), so they do not depend on the
// sharding, and `headsnet merge` (dataset/merge.ts) joins the shards into the dataset one run
// over all inputs would have made, byte for byte.

import { createHash } from "node:crypto";
import { usageError, opt } from "../errors.js";
import type { InputFile } from "../discover.js";

export interface ShardSpec {
  /** 1-based: shard `index` of `count`. */
  index: number;
  count: number;
}

/** What a shard's manifest records, so that merge can check that shards belong together. */
export interface ShardInfo extends ShardSpec {
  /** The shard's files: [firstFile, firstFile + files) of the sorted input list. */
  firstFile: number;
  files: number;
  totalFiles: number;
  /** A digest of the whole sorted input list (paths and sizes). */
  inputs: string;
}

export function checkShard(shard: ShardSpec): void {
  const { index, count } = shard;
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(index) || index < 1 || index > count) {
    throw usageError(`${opt("shard")} must be K/N with 1 ≤ K ≤ N, got ${index}/${count}`);
  }
}

/**
 * The files of shard K of N: file i goes to the shard in whose part of the total byte count its
 * middle byte lies, so shards are contiguous in sorted order and near-equal in bytes.
 */
export function shardRange(sizes: number[], shard: ShardSpec): [number, number] {
  const total = sizes.reduce((a, s) => a + Math.max(s, 0), 0);
  const shardOf = (before: number, size: number) =>
    total > 0 ? Math.min(shard.count - 1, Math.floor(((before + Math.max(size, 0) / 2) * shard.count) / total)) : 0;
  let first = sizes.length, end = sizes.length, before = 0;
  for (let i = 0; i < sizes.length; i++) {
    const k = shardOf(before, sizes[i]) + 1;
    if (k === shard.index && first === sizes.length) first = i;
    if (k > shard.index) {
      end = i;
      break;
    }
    before += Math.max(sizes[i], 0);
  }
  return [Math.min(first, end), end];
}

export function inputsDigest(files: InputFile[]): string {
  return createHash("sha256").update(JSON.stringify(files.map((f) => [f.rel, f.size]))).digest("hex");
}

/**
 * `--shard auto`: the index and count from the engine running this task.
 * - Kubernetes Indexed Job: JOB_COMPLETION_INDEX (0-based); the count is not in the
 *   environment: pass it, as `auto/N` or in HEADSNET_SHARDS.
 * - Slurm job array: SLURM_ARRAY_TASK_ID, less SLURM_ARRAY_TASK_MIN, and SLURM_ARRAY_TASK_COUNT.
 * (GNU parallel needs none of this: `seq 1 N | parallel headsnet compile … --shard {}/N`.)
 */
export function shardFromEnvironment(text: string, env: Record<string, string | undefined>): ShardSpec {
  const given = /^auto(?:\/(\d+))?$/.exec(text);
  if (!given) throw usageError(`${opt("shard")} must be K/N, auto or auto/N, got ${JSON.stringify(text)}`);
  const countOf = (s: string | undefined, where: string) => {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < 1) throw usageError(`${opt("shard")} auto: ${where} is ${JSON.stringify(s)}, not a shard count`);
    return n;
  };
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const id = Number(env.SLURM_ARRAY_TASK_ID), min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
    const count = given[1] ? countOf(given[1], "the count") : countOf(env.SLURM_ARRAY_TASK_COUNT, "SLURM_ARRAY_TASK_COUNT");
    return { index: id - min + 1, count };
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const count = given[1] ? countOf(given[1], "the count") : countOf(env.HEADSNET_SHARDS, "HEADSNET_SHARDS (Kubernetes does not say how many completions there are: pass --shard auto/N)");
    return { index: Number(env.JOB_COMPLETION_INDEX) + 1, count };
  }
  throw usageError(`${opt("shard")} auto: no shard index in the environment (JOB_COMPLETION_INDEX for a Kubernetes Indexed Job, SLURM_ARRAY_TASK_ID for a Slurm array); pass ${opt("shard")} K/N`);
}

export function parseShard(text: string, env: Record<string, string | undefined>): ShardSpec {
  const fixed = /^(\d+)\/(\d+)$/.exec(text);
  const shard = fixed ? { index: Number(fixed[1]), count: Number(fixed[2]) } : shardFromEnvironment(text, env);
  checkShard(shard);
  return shard;
}

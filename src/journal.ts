// Resumable state of a run in progress: what is safely on disk at the last checkpoint. A run
// killed at any moment (SIGKILL included) resumes from it with `compile --resume` and ends with
// output byte-identical to an uninterrupted run.

import { createHash } from "node:crypto";
import { open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { FailedEntry, ModelEntry } from "./output.js";

export const JOURNAL_NAME = ".headsnet-run.json";
const JOURNAL_VERSION = 1;

export interface Journal {
  version: number;
  /** What the run compiles and how: a resumed run must match it exactly. */
  key: string;
  /** Files (in input order) whose rows, or failure, are recorded. */
  filesDone: number;
  rows: number;
  xBytes: number;
  yBytes: number;
  models: ModelEntry[];
  failed: FailedEntry[];
}

/** A digest of everything the output depends on. */
export function runKey(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

export async function readJournal(dir: string): Promise<Journal | undefined> {
  try {
    const journal = JSON.parse(await readFile(join(dir, JOURNAL_NAME), "utf8")) as Journal;
    return journal.version === JOURNAL_VERSION ? journal : undefined;
  } catch {
    return undefined;
  }
}

/** Replace the journal atomically: a crash leaves the old one or the new one, never half. */
export async function writeJournal(dir: string, journal: Omit<Journal, "version">): Promise<void> {
  const temp = join(dir, JOURNAL_NAME + ".tmp");
  const handle = await open(temp, "w");
  try {
    await handle.writeFile(JSON.stringify({ version: JOURNAL_VERSION, ...journal }));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, join(dir, JOURNAL_NAME));
}

export async function removeJournal(dir: string): Promise<void> {
  await rm(join(dir, JOURNAL_NAME), { force: true });
  await rm(join(dir, JOURNAL_NAME + ".tmp"), { force: true });
}

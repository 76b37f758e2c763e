// Resumable state of a run in progress: what is safely on disk at the last checkpoint. A run
// killed at any moment (SIGKILL included) resumes from it with `compile --resume` and ends with
// output byte-identical to an uninterrupted run. It lives in the staging folder with the files
// it describes (dataset/writer.ts).

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { FailedEntry, ModelEntry } from "../dataset/format.js";
import { JOURNAL_FILE, stagingDir, writeDurably, type WrittenExtent } from "../dataset/writer.js";

const JOURNAL_VERSION = 2;

export interface Journal extends WrittenExtent {
  version: number;
  /** What the run compiles and how: a resumed run must match it exactly. */
  key: string;
  /** Files (in input order) whose rows, or failure, are recorded. */
  filesDone: number;
  models: ModelEntry[];
  failed: FailedEntry[];
  /** The dataset is complete in the staging folder and being moved into place (dataset/writer.ts publish). */
  publishing?: boolean;
}

/** A digest of everything the output depends on. */
export function runKey(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

export async function readJournal(dir: string): Promise<Journal | undefined> {
  try {
    const journal = JSON.parse(await readFile(join(stagingDir(dir), JOURNAL_FILE), "utf8")) as Journal;
    return journal.version === JOURNAL_VERSION ? journal : undefined;
  } catch {
    return undefined;
  }
}

/** Replace the journal atomically: a crash leaves the old one or the new one, never half. */
export async function writeJournal(dir: string, journal: Omit<Journal, "version">): Promise<void> {
  await writeDurably(join(stagingDir(dir), JOURNAL_FILE), JSON.stringify({ version: JOURNAL_VERSION, ...journal }));
}

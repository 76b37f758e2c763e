// One record per input file, from submission to its rows on disk: what the dispatcher, the
// in-order committer and the run loop each learn and hand on.

import type { ErrorJson } from "../errors.js";
import type { InputFile } from "../discover.js";
import type { RowsPlace } from "../dataset/writer.js";
import type { FileResult, FileStats, RowsMessage } from "./protocol.js";

/** How a file ended up. */
export type FileOutcome =
  | { kind: "compiled"; stats: FileStats; place: RowsPlace }
  | { kind: "failed"; error: ErrorJson }
  /** Its rows had a place in the output but could not be written: the run cannot go on. */
  | { kind: "unwritten"; error: ErrorJson }
  /** The run stopped before it was started. */
  | { kind: "skipped" };

export class FileRecord {
  result?: FileResult;
  /** Rows held in a worker's memory until written. */
  rows?: RowsMessage;
  place?: RowsPlace;
  readonly outcome: Promise<FileOutcome>;
  private resolve!: (o: FileOutcome) => void;
  private settled = false;

  constructor(readonly index: number, readonly input: InputFile, readonly id: number) {
    this.outcome = new Promise((r) => (this.resolve = r));
  }

  settle(outcome: FileOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(outcome);
  }
}

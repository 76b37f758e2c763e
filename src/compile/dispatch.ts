// Dispatch: files go to the pool in input order, a bounded number at a time. A second task per
// worker waits in the pool's queue (not in a worker, so a crash still takes one file), ready the
// moment its worker is free. A worker that dies fails only the file it was compiling.

import type { Piscina } from "piscina";
import { errors } from "../errors.js";
import type { FileRecord } from "./files.js";
import type { FileResult, FileTask } from "./protocol.js";

export class Dispatcher {
  private next: number;
  private inFlight = 0;
  /**
   * Settles once the last task submitted has been handed to the pool. Tasks go to the pool in file
   * order even when one waits for its bytes: a worker whose rows all wait to be written waits for
   * the main thread, which writes in file order, so an earlier file's task queued behind it would
   * never run (a 6,748-head run stopped there after 1,000 files).
   */
  private lastSubmitted: Promise<unknown> = Promise.resolve();
  private stopped = false;
  /** Every task submitted, settled or not (a run waits for them all before closing its files). */
  readonly running: Promise<unknown>[] = [];

  constructor(
    private readonly pool: Piscina,
    private readonly records: FileRecord[],
    first: number,
    private readonly limit: number,
    /** A file's task; a promise when it waits for something first (its bytes, read ahead). */
    private readonly taskOf: (record: FileRecord) => FileTask | Promise<FileTask>,
    private readonly onResult: (record: FileRecord) => void,
    private readonly onSubmit: (record: FileRecord) => void = () => {},
  ) {
    this.next = first;
  }

  /** Submit files until the limit of tasks in flight is reached. */
  fill(): void {
    while (this.inFlight < this.limit && this.next < this.records.length) {
      if (this.stopped) return this.skipRest();
      this.submit(this.records[this.next++]);
    }
  }

  /** Submit nothing more; the files not started end as skipped. */
  stop(): void {
    this.stopped = true;
    this.skipRest();
  }

  private skipRest(): void {
    for (; this.next < this.records.length; this.next++) this.records[this.next].settle({ kind: "skipped" });
  }

  private submit(record: FileRecord): void {
    this.inFlight++;
    this.onSubmit(record);
    const task = this.taskOf(record);
    // An object around the run, so that `submitted` settles when the task is handed over, not done.
    const submitted = Promise.all([task, this.lastSubmitted]).then(([t]) => ({ run: this.pool.run(t) as Promise<FileResult> }));
    this.lastSubmitted = submitted.catch(() => undefined);
    const run = submitted.then((s) => s.run);
    this.running.push(run.catch(() => undefined));
    run
      .catch((e: Error): FileResult => ({ ok: false, error: errors.worker(record.input.label, e.message).toJSON() }))
      .then((result) => {
        this.inFlight--;
        record.result = result;
        if (result.ok) record.rows = result.out;
        this.onResult(record);
        this.fill();
      });
  }
}

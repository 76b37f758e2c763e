// Commit in order: workers finish files in any order; this places each file's rows after the
// rows of every file before it, and writes them (positioned writes, on libuv's threads) straight
// from the worker's memory, then hands that memory back. A file is settled once its result is in
// and its rows, if any, are written. Rows waiting here are bounded by the workers' regions: a
// worker waits when this side holds the rows of all its regions.

import { errors } from "../errors.js";
import type { DatasetWriter } from "../dataset/writer.js";
import type { FileRecord } from "./files.js";
import { releaseRows } from "./protocol.js";

export class InOrderCommitter {
  private next: number;
  private placing = true;
  /** Writes under way (a run waits for them before closing its files). */
  readonly running: Promise<unknown>[] = [];

  constructor(private readonly writer: DatasetWriter, private readonly records: FileRecord[], first: number) {
    this.next = first;
  }

  /** A file's result has arrived: place and write whatever is now next in order. */
  arrived(record: FileRecord): void {
    if (record.result && !record.result.ok) record.settle({ kind: "failed", error: record.result.error });
    this.placeReady();
  }

  /** Place nothing more; rows not yet placed go back to their workers unwritten. */
  stop(): void {
    this.placing = false;
    for (const r of this.records) if (!r.place) this.drop(r);
  }

  private placeReady(): void {
    while (this.next < this.records.length && this.records[this.next].result) {
      const record = this.records[this.next++];
      const result = record.result!;
      if (!result.ok) continue;
      if (!this.placing) {
        this.drop(record);
        continue;
      }
      record.place = this.writer.claim(result.rows);
      this.write(record);
    }
  }

  private write(record: FileRecord): void {
    const m = record.rows!;
    const place = record.place!;
    const done = Promise.all(m.parts.map((part, k) => this.writer.write(k, new Uint8Array(part.memory, part.at, part.bytes), place.at[k])));
    this.running.push(done.catch(() => undefined));
    done.then(
      () => {
        const result = record.result!;
        if (result.ok) record.settle({ kind: "compiled", stats: result, place });
      },
      (e: Error) => record.settle({ kind: "unwritten", error: errors.rowsNotWritten(record.input.label, e.message).toJSON() }),
    ).finally(() => this.drop(record));
  }

  /**
   * Hand a file's rows back to its worker, and let go of them: the record (and its result, which
   * the run keeps to the end) then holds no row memory. A mesh target's rows are arrays of their
   * own, 3.6 MB a file for surface samples: kept, they grew a run by that much per file.
   */
  private drop(record: FileRecord): void {
    const m = record.rows;
    if (!m) return;
    record.rows = undefined;
    releaseRows(m);
    m.parts = [];
  }
}

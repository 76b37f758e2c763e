// Dispatch (src/compile/dispatch.ts): files go to the pool in input order, a bounded number at a
// time, even when a file's task waits for something first (its bytes, read ahead). A worker whose
// rows all wait to be written waits for the main thread, which writes in input order: an earlier
// file's task queued behind a later one would never run.

import { describe, it, expect, vi } from "vitest";
import type { Piscina } from "piscina";
import { Dispatcher } from "../src/compile/dispatch.js";
import { FileRecord } from "../src/compile/files.js";
import type { FileResult, FileTask } from "../src/compile/protocol.js";

const input = (i: number) => ({ path: `/c/h${i}.ply`, rel: `h${i}.ply`, label: `h${i}.ply`, size: 1, mtimeMs: 0 });
const taskFor = (r: FileRecord): FileTask => ({ path: r.input.path, label: r.input.label, key: r.input.rel, id: r.index, target: { kind: "mesh", target: "voxels", options: {} } });
const ok = (): FileResult => ({
  ok: true, rows: 1, vertices: 1, bytesRead: 1, normals: "file", warnings: [],
  skipped: { nonfinite: 0, outsideSphere: 0, tooFar: 0, transparent: 0 }, out: { region: 0, parts: [] },
});

describe("dispatch", () => {
  it("hands tasks to the pool in input order when their tasks are ready in another order, at most `limit` at once", async () => {
    const records = Array.from({ length: 9 }, (_, i) => new FileRecord(i, input(i), i));
    const order: number[] = [];
    let running = 0, most = 0;
    const pool = {
      run: (task: FileTask) => {
        order.push(task.id);
        most = Math.max(most, ++running);
        return new Promise<FileResult>((done) => setTimeout(() => { running--; done(ok()); }, 2));
      },
    } as unknown as Piscina;
    // Some tasks are ready at once; the others later, the earlier files the latest.
    const taskOf = (r: FileRecord) => r.index % 3 === 1
      ? taskFor(r)
      : new Promise<FileTask>((ready) => setTimeout(() => ready(taskFor(r)), 40 - 4 * r.index));
    const results: number[] = [];
    const d = new Dispatcher(pool, records, 0, 3, taskOf, (r) => results.push(r.index));
    d.fill();
    await vi.waitFor(() => expect(results.length).toBe(9));
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(most).toBeLessThanOrEqual(3);
  });

  it("a task the pool refuses fails its file alone", async () => {
    const records = Array.from({ length: 4 }, (_, i) => new FileRecord(i, input(i), i));
    const pool = {
      run: (task: FileTask) => (task.id === 1 ? Promise.reject(new Error("worker exited")) : Promise.resolve(ok())),
    } as unknown as Piscina;
    const seen = new Map<number, FileResult>();
    const d = new Dispatcher(pool, records, 0, 2, (r) => Promise.resolve(taskFor(r)), (r) => seen.set(r.index, r.result!));
    d.fill();
    await vi.waitFor(() => expect(seen.size).toBe(4));
    expect([0, 1, 2, 3].map((i) => seen.get(i)!.ok)).toEqual([true, false, true, true]);
  });
});

// Comparing large buffers: Buffer.equals, and on a difference the first byte that differs (a deep
// toEqual on a million-element array is slow and its diff unreadable).

import { expect } from "vitest";

export function bytesOf(a: ArrayBufferView | ArrayBuffer): Buffer {
  return a instanceof ArrayBuffer ? Buffer.from(a) : Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Undefined when the bytes are equal, else where they first differ. */
export function firstDifference(actual: ArrayBufferView | ArrayBuffer, expected: ArrayBufferView | ArrayBuffer): string | undefined {
  const a = bytesOf(actual), b = bytesOf(expected);
  if (a.equals(b)) return undefined;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  const lengths = a.length === b.length ? `${a.length} bytes` : `${a.length} bytes, expected ${b.length}`;
  if (i === n) return `${lengths}; equal up to the shorter one's end`;
  return `${lengths}; first difference at byte ${i}: 0x${a[i].toString(16).padStart(2, "0")}, expected 0x${b[i].toString(16).padStart(2, "0")}`;
}

/** Expects the same bytes; the failure names `what` and the first differing byte. */
export function expectSameBytes(actual: ArrayBufferView | ArrayBuffer, expected: ArrayBufferView | ArrayBuffer, what = "bytes"): void {
  const difference = firstDifference(actual, expected);
  expect(difference, `${what}: ${difference}`).toBeUndefined();
}

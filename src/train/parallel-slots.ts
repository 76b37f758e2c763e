// The shared memory that carries gradients between training threads: two banks (alternate steps)
// of one flat float32 slot per thread. A replica writes its share's gradient into its slot of the
// step's bank; every replica then sums all the step's slots itself. Alternating banks is what makes
// this safe without locks: a slot is rewritten two steps later, and a thread only starts that step
// after it has replied to the step in between, which it handles after the sum that read the slot.

export interface SharedGradients {
  buffer: SharedArrayBuffer;
  threads: number;
}

export function sharedGradients(threads: number, total: number): SharedGradients {
  return { buffer: new SharedArrayBuffer(2 * threads * total * 4), threads };
}

/** Slot views: slot (bank · threads + thread) holds that thread's gradient for steps of that parity. */
export function gradientSlots(shared: SharedGradients, total: number): Float32Array[] {
  return Array.from({ length: 2 * shared.threads }, (_, k) => new Float32Array(shared.buffer, k * total * 4, total));
}

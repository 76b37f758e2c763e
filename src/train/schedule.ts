// The learning rate at each step: `const` (the reference's) or `cosine`, after an optional linear
// warm-up. For step s (0-based) of a run of T steps, peak rate lr, warm-up W steps, floor m·lr:
//
//   s < W:     lr · (s + 1) / W
//   const:     lr
//   cosine:    lr · (m + (1 - m) · (1 + cos(π · p)) / 2),   p = min(1, (s - W) / (T - W))
//
// A pure function of the step, so a resumed run gets the rates an uninterrupted one would. T is
// the run's steps (--steps, else epochs × steps per epoch); a row stream's length is unknown until
// its first epoch ends, so until then the cosine holds its peak (p = 0) and follows the same curve
// from then on.

export const LR_SCHEDULES = ["const", "cosine"] as const;
export type LrScheduleName = (typeof LR_SCHEDULES)[number];

export interface LrSchedule {
  schedule: LrScheduleName;
  /** Peak rate. */
  lr: number;
  /** Linear warm-up steps (0: none). */
  warmup: number;
  /** cosine: the final rate, as a fraction of lr. */
  lrMin: number;
}

/** The rate of step `step` (0-based) of a run of `total` steps (undefined: not known yet). */
export function learningRate(s: LrSchedule, step: number, total: number | undefined): number {
  if (step < s.warmup) return (s.lr * (step + 1)) / s.warmup;
  if (s.schedule === "const" || total === undefined) return s.lr;
  const p = Math.min(1, Math.max(0, (step - s.warmup) / Math.max(1, total - s.warmup)));
  return s.lr * (s.lrMin + (1 - s.lrMin) * 0.5 * (1 + Math.cos(Math.PI * p)));
}

// Medians, spreads and the number formats the benchmark prints.

export interface Stat {
  n: number;
  median: number;
  min: number;
  max: number;
}

/** Median and min–max of a set of samples (the median of an even count is the mean of the middle two). */
export function summarize(samples: readonly number[]): Stat {
  if (samples.length === 0) return { n: 0, median: NaN, min: NaN, max: NaN };
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { n: s.length, median, min: s[0], max: s[s.length - 1] };
}

/** 12.3 M, 456 k, 789 — three significant figures with an SI suffix. */
export function si(value: number, unit = ""): string {
  if (!Number.isFinite(value)) return "n/a";
  const abs = Math.abs(value);
  const [div, suffix] = abs >= 1e9 ? [1e9, " G"] : abs >= 1e6 ? [1e6, " M"] : abs >= 1e3 ? [1e3, " k"] : [1, " "];
  return `${sig(value / div)}${suffix}${unit}`.trimEnd();
}

/** Three significant figures, no exponent. */
export function sig(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return "n/a";
  if (value === 0) return "0";
  const places = Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(value))));
  return value.toFixed(Math.min(places, 6));
}

/** Seconds as "850 ms", "3.21 s", "4 min 12 s", "4.5 h". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "n/a";
  if (seconds < 1) return `${sig(seconds * 1e3)} ms`;
  if (seconds < 120) return `${sig(seconds)} s`;
  if (seconds < 3 * 3600) return `${Math.floor(seconds / 60)} min ${String(Math.round(seconds % 60)).padStart(2, "0")} s`;
  return `${sig(seconds / 3600, 2)} h`;
}

/** "1.23 s (1.20–1.31)": median and spread of times. */
export function timeSpread(st: Stat): string {
  return `${duration(st.median)} (${sig(st.min)}–${sig(st.max)})`;
}

/** A ratio as "312×" or "0.82×". */
export function times(ratio: number): string {
  if (!Number.isFinite(ratio)) return "n/a";
  return `${ratio >= 100 ? Math.round(ratio) : sig(ratio, 2)}×`;
}

/** Bytes in MB (10^6 bytes, the unit of the memory target). */
export function mb(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes) ? "n/a" : `${Math.round(bytes / 1e6)} MB`;
}

// The loss and Chamfer curve of a training run, as a small SVG, from the evaluations `train
// --eval-every` records in MODEL_DIR/training.json (the mean training loss since the previous
// evaluation, and the generated heads' Chamfer-L1; both on log scales).
//
//   node dist/bench/curve.js MODEL_DIR -o docs/training-curve.svg [--title TEXT] [--floor 0.0071]
//   node dist/bench/curve.js bench/results/quality.json --config NAME -o FILE.svg   (a bench:quality run's)

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EvalRecord } from "../src/train/train.js";

function arg(name: string): string | undefined {
  const i = process.argv.findIndex((a) => a === `--${name}` || (name.length === 1 && a === `-${name}`));
  return i > 0 ? process.argv[i + 1] : undefined;
}

export function curveSvg(evaluations: EvalRecord[], options: { title?: string; floor?: number } = {}): string {
  const W = 560, H = 260, left = 52, right = 60, top = 26, bottom = 34;
  const pw = W - left - right, ph = H - top - bottom;
  const steps = Math.max(...evaluations.map((e) => e.step));
  const x = (s: number) => left + (s / steps) * pw;
  const scale = (values: number[]) => {
    const lo = Math.floor(Math.log10(Math.min(...values)) * 2) / 2, hi = Math.ceil(Math.log10(Math.max(...values)) * 2) / 2;
    return { lo, hi, y: (v: number) => top + ((hi - Math.log10(v)) / Math.max(1e-9, hi - lo)) * ph };
  };
  const losses = evaluations.filter((e) => Number.isFinite(e.loss) && e.loss > 0);
  const cham = scale([...evaluations.map((e) => e.chamferL1), ...(options.floor ? [options.floor] : [])]);
  const loss = scale(losses.map((e) => e.loss));
  const ticks = (s: { lo: number; hi: number }) => {
    const out: number[] = [];
    for (let p = Math.floor(s.lo); p <= Math.ceil(s.hi); p++) for (const m of [1, 2, 5]) {
      const v = m * 10 ** p;
      if (Math.log10(v) >= s.lo - 1e-9 && Math.log10(v) <= s.hi + 1e-9) out.push(v);
    }
    return out;
  };
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#181a1f"/>`,
    `<text x="${left}" y="15" fill="#c8ccd4">${options.title ?? "training loss and Chamfer-L1 of the generated heads"}</text>`,
  ];
  for (const v of ticks(cham)) {
    out.push(`<line x1="${left}" x2="${left + pw}" y1="${cham.y(v).toFixed(1)}" y2="${cham.y(v).toFixed(1)}" stroke="#2c3038"/>`,
      `<text x="${left - 5}" y="${(cham.y(v) + 4).toFixed(1)}" fill="#50a0e0" text-anchor="end">${v}</text>`);
  }
  for (const v of ticks(loss)) out.push(`<text x="${left + pw + 5}" y="${(loss.y(v) + 4).toFixed(1)}" fill="#e0a040">${v}</text>`);
  for (let k = 0; k <= 4; k++) {
    const s = Math.round((k * steps) / 4);
    out.push(`<text x="${x(s).toFixed(1)}" y="${H - bottom + 15}" fill="#8a8f98" text-anchor="middle">${s.toLocaleString("en-US")}</text>`);
  }
  out.push(`<text x="${left + pw / 2}" y="${H - 5}" fill="#8a8f98" text-anchor="middle">steps</text>`);
  if (options.floor) {
    out.push(`<line x1="${left}" x2="${left + pw}" y1="${cham.y(options.floor).toFixed(1)}" y2="${cham.y(options.floor).toFixed(1)}" stroke="#50a0e0" stroke-dasharray="4 3" opacity="0.6"/>`,
      `<text x="${left + 6}" y="${(cham.y(options.floor) - 4).toFixed(1)}" fill="#50a0e0" opacity="0.8">per-vertex floor ${options.floor}</text>`);
  }
  out.push(`<polyline points="${losses.map((e) => `${x(e.step).toFixed(1)},${loss.y(e.loss).toFixed(1)}`).join(" ")}" fill="none" stroke="#e0a040" stroke-width="1.5"/>`);
  out.push(`<polyline points="${evaluations.map((e) => `${x(e.step).toFixed(1)},${cham.y(e.chamferL1).toFixed(1)}`).join(" ")}" fill="none" stroke="#50a0e0" stroke-width="2"/>`);
  const last = evaluations[evaluations.length - 1];
  out.push(`<text x="${left + pw - 4}" y="${top + 12}" fill="#50a0e0" text-anchor="end">Chamfer-L1 (left) ${last.chamferL1.toFixed(4)}, ${last.matched}/${last.heads} ids matched</text>`,
    `<text x="${left + pw - 4}" y="${top + 26}" fill="#e0a040" text-anchor="end">training loss, MSE (right)</text>`);
  out.push("</svg>", "");
  return out.join("\n");
}

function main(): void {
  const dir = process.argv[2];
  const out = arg("o") ?? arg("out");
  if (!dir || !out) {
    process.stderr.write("usage: node dist/bench/curve.js MODEL_DIR|quality.json [--config NAME] -o FILE.svg [--title TEXT] [--floor CHAMFER]\n");
    process.exitCode = 2;
    return;
  }
  const config = arg("config");
  const evaluations: EvalRecord[] = dir.endsWith(".json")
    ? (JSON.parse(readFileSync(dir, "utf8")).results as { name: string; evaluations: EvalRecord[] }[]).find((r) => r.name === config)?.evaluations ?? []
    : JSON.parse(readFileSync(join(dir, "training.json"), "utf8")).evaluations ?? [];
  if (evaluations.length < 2) {
    process.stderr.write(`${dir}: training.json has ${evaluations.length} evaluations; train with --eval-every to record them\n`);
    process.exitCode = 1;
    return;
  }
  const floor = arg("floor");
  writeFileSync(out, curveSvg(evaluations, { title: arg("title"), floor: floor ? Number(floor) : undefined }));
}

main();
